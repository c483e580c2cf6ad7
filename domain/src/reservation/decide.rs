//! Reservation decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Rule};

/// Decide a reservation command.
pub fn decide(
    state: &State,
    command: &ReservationCommand,
) -> Result<Vec<ReservationEvent>, DomainError> {
    match command {
        ReservationCommand::Reserve(c) => {
            if state.holder.is_some() {
                let what = match c.key {
                    ReservationKey::Slug(_) => "this slug is taken",
                    _ => "this email is already in use",
                };
                return Err(DomainError::conflict(Conflict::AlreadyExists, what));
            }
            Ok(vec![match c.key {
                ReservationKey::Slug(_) => ReservationEvent::SlugReserved {
                    workspace_id: c.owner_id,
                },
                _ => ReservationEvent::EmailReserved {
                    owner_id: c.owner_id,
                },
            }])
        }
        ReservationCommand::Release(c) => {
            if state.holder != Some(c.owner_id) {
                return Err(DomainError::rule(
                    Rule::NotReserved,
                    "this value is not held by that owner",
                ));
            }
            Ok(vec![match c.key {
                ReservationKey::Slug(_) => ReservationEvent::SlugReleased {
                    workspace_id: c.owner_id,
                },
                _ => ReservationEvent::EmailReleased {
                    owner_id: c.owner_id,
                },
            }])
        }
    }
}

/// Apply a reservation event.
pub fn evolve(_state: State, event: &ReservationEvent) -> State {
    match event {
        ReservationEvent::SlugReserved {
            workspace_id: owner,
        }
        | ReservationEvent::EmailReserved { owner_id: owner } => Reservation {
            holder: Some(*owner),
        },
        ReservationEvent::SlugReleased { .. } | ReservationEvent::EmailReleased { .. } => {
            Reservation { holder: None }
        }
    }
}
