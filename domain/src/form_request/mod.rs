//! Form requests: a template sent to a contact (optionally for a booking), then submitted.
//!
//! Stream `form-request-<id>` (stream type `form_request`). Answers are validated against the
//! template and are personal data of the contact. The link token is not an event field: it is
//! a capability the API stores hashed, like other secrets.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::FormRequestEvent;

use crate::form_template::Answers;
use crate::Personal;

/// Stream type of form requests.
pub const STREAM_TYPE: &str = "form_request";

/// `form-request-<id>`.
pub fn stream_id(request_id: Uuid) -> String {
    format!("form-request-{request_id}")
}

/// Whether the form came back.
#[derive(Debug, Clone, PartialEq)]
pub enum FormRequestStatus {
    Pending,
    Submitted { answers: Personal<Answers> },
}

/// A form request (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct FormRequest {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub template_id: Uuid,
    pub contact_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub status: FormRequestStatus,
}

/// The state of a form request stream: `None` until requested.
pub type State = Option<FormRequest>;

/// The form request aggregate.
pub struct FormRequestAggregate;

impl crate::Aggregate for FormRequestAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = FormRequestCommand;
    type Event = FormRequestEvent;

    fn decide(
        state: &State,
        command: &FormRequestCommand,
    ) -> Result<Vec<FormRequestEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &FormRequestEvent) -> State {
        evolve(state, event)
    }
}
