//! Form template decisions and evolution.

use super::field::validate_fields;
use super::*;
use crate::{Conflict, DomainError, Entity};

/// Decide a form template command.
pub fn decide(
    state: &State,
    command: &FormTemplateCommand,
) -> Result<Vec<FormTemplateEvent>, DomainError> {
    match (state, command) {
        (Some(_), FormTemplateCommand::Define(_)) => Err(DomainError::conflict(
            Conflict::AlreadyExists,
            "the form template already exists",
        )),
        (None, FormTemplateCommand::Define(c)) => {
            validate_fields(&c.fields)?;
            Ok(vec![FormTemplateEvent::FormTemplateDefined {
                template_id: c.template_id,
                workspace_id: c.workspace_id,
                name: c.name.clone(),
                fields: c.fields.clone(),
            }])
        }
        (None, FormTemplateCommand::Update(_)) => {
            Err(DomainError::not_found(Entity::FormTemplate, ""))
        }
        (Some(t), FormTemplateCommand::Update(c)) => {
            validate_fields(&c.fields)?;
            if t.name == c.name && t.fields == c.fields {
                return Ok(vec![]);
            }
            Ok(vec![FormTemplateEvent::FormTemplateUpdated {
                template_id: t.id,
                name: c.name.clone(),
                fields: c.fields.clone(),
            }])
        }
    }
}

/// Apply a form template event.
pub fn evolve(state: State, event: &FormTemplateEvent) -> State {
    match (state, event) {
        (
            _,
            FormTemplateEvent::FormTemplateDefined {
                template_id,
                workspace_id,
                name,
                fields,
            },
        ) => Some(FormTemplate {
            id: *template_id,
            workspace_id: *workspace_id,
            name: name.clone(),
            fields: fields.clone(),
        }),
        (None, _) => None,
        (Some(t), FormTemplateEvent::FormTemplateUpdated { name, fields, .. }) => {
            Some(FormTemplate {
                name: name.clone(),
                fields: fields.clone(),
                ..t
            })
        }
    }
}
