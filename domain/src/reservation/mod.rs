//! Uniqueness across streams: a reservation stream per unique value.
//!
//! Streams `reservation` type with ids `slug-<slug>`, `user-email-<email>` and
//! `contact-email-<workspace_id>-<email digest>`. The reserving command appends to it with
//! `NoStream` (or the loaded version after a release) in the same transaction as the owner's own
//! events, so two workspaces cannot take the same slug. The value appears only in the stream id,
//! never in payloads.
//!
//! A contact's email is personal data that must disappear from the log when the contact is erased,
//! and a stream id cannot be encrypted or changed. So a contact email's stream id holds a
//! name-based UUID (v5, SHA-1, namespace = the workspace id) of the normalised email instead of the
//! email: equal emails meet in one stream, and the email cannot be read back from the log. It is a
//! pseudonym, not a secret: someone who already knows an address can test whether it was used.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::ReservationEvent;

use crate::values::{Email, Slug};

/// Stream type of reservations.
pub const STREAM_TYPE: &str = "reservation";

/// What is being kept unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReservationKey {
    /// A workspace slug (global).
    Slug(Slug),
    /// A user's login email (global).
    UserEmail(Email),
    /// A contact's email within one workspace.
    ContactEmail { workspace_id: Uuid, email: Email },
}

impl ReservationKey {
    /// The reservation stream id.
    pub fn stream_id(&self) -> String {
        match self {
            ReservationKey::Slug(slug) => format!("slug-{slug}"),
            ReservationKey::UserEmail(email) => format!("user-email-{email}"),
            ReservationKey::ContactEmail {
                workspace_id,
                email,
            } => format!(
                "contact-email-{workspace_id}-{}",
                Uuid::new_v5(workspace_id, email.as_str().as_bytes())
            ),
        }
    }
}

/// `slug-<slug>`, `user-email-<email>` or `contact-email-<workspace_id>-<email digest>`.
pub fn stream_id(key: &ReservationKey) -> String {
    key.stream_id()
}

/// Who holds the value now (`None`: free, never taken or released).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reservation {
    pub holder: Option<Uuid>,
}

/// The state of a reservation stream.
pub type State = Reservation;

/// The reservation aggregate.
pub struct ReservationAggregate;

impl crate::Aggregate for ReservationAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = ReservationCommand;
    type Event = ReservationEvent;

    fn decide(
        state: &State,
        command: &ReservationCommand,
    ) -> Result<Vec<ReservationEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &ReservationEvent) -> State {
        evolve(state, event)
    }
}
