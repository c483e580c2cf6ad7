//! Intake form templates: the fields a business asks its customers to fill in.
//!
//! Stream `form-template-<id>` (stream type `form_template`). A template also validates
//! submitted answers (`FormTemplate::validate_answers`), which `crate::form_request` uses.

mod answers;
mod command;
mod decide;
mod event;
mod field;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use answers::{Answer, Answers};
pub use command::*;
pub use decide::{decide, evolve};
pub use event::FormTemplateEvent;
pub use field::{FieldKey, FieldKind, FormField};

use crate::values::Name;

/// Stream type of form templates.
pub const STREAM_TYPE: &str = "form_template";

/// `form-template-<id>`.
pub fn stream_id(template_id: Uuid) -> String {
    format!("form-template-{template_id}")
}

/// A form template (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct FormTemplate {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Name,
    pub fields: Vec<FormField>,
}

/// The state of a template stream: `None` until defined.
pub type State = Option<FormTemplate>;

/// The form template aggregate.
pub struct FormTemplateAggregate;

impl crate::Aggregate for FormTemplateAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = FormTemplateCommand;
    type Event = FormTemplateEvent;

    fn decide(
        state: &State,
        command: &FormTemplateCommand,
    ) -> Result<Vec<FormTemplateEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &FormTemplateEvent) -> State {
        evolve(state, event)
    }
}
