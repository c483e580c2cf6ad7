//! Form request decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

/// Decide a form request command.
pub fn decide(
    state: &State,
    command: &FormRequestCommand,
) -> Result<Vec<FormRequestEvent>, DomainError> {
    match (state, command) {
        (Some(_), FormRequestCommand::Request(_)) => Err(DomainError::conflict(
            Conflict::AlreadyExists,
            "the form request already exists",
        )),
        (None, FormRequestCommand::Request(c)) => Ok(vec![FormRequestEvent::FormRequested {
            request_id: c.request_id,
            workspace_id: c.workspace_id,
            template_id: c.template_id,
            contact_id: c.contact_id,
            booking_id: c.booking_id,
        }]),
        (None, FormRequestCommand::Submit(_)) => {
            Err(DomainError::not_found(Entity::FormRequest, ""))
        }
        (Some(r), FormRequestCommand::Submit(c)) => {
            if matches!(r.status, FormRequestStatus::Submitted { .. }) {
                return Err(DomainError::conflict(
                    Conflict::AlreadySubmitted,
                    "the form was already submitted",
                ));
            }
            if c.template.id != r.template_id {
                return Err(DomainError::rule(
                    Rule::TemplateMismatch,
                    "the answers are for another form",
                ));
            }
            let answers = c.template.validate_answers(&c.answers)?;
            Ok(vec![FormRequestEvent::FormSubmitted {
                request_id: r.id,
                contact_id: r.contact_id,
                answers: answers.into(),
                at: c.at,
            }])
        }
    }
}

/// Apply a form request event.
pub fn evolve(state: State, event: &FormRequestEvent) -> State {
    match (state, event) {
        (
            _,
            FormRequestEvent::FormRequested {
                request_id,
                workspace_id,
                template_id,
                contact_id,
                booking_id,
            },
        ) => Some(FormRequest {
            id: *request_id,
            workspace_id: *workspace_id,
            template_id: *template_id,
            contact_id: *contact_id,
            booking_id: *booking_id,
            status: FormRequestStatus::Pending,
        }),
        (None, _) => None,
        (Some(r), FormRequestEvent::FormSubmitted { answers, .. }) => Some(FormRequest {
            status: FormRequestStatus::Submitted {
                answers: answers.clone(),
            },
            ..r
        }),
    }
}
