//! Contact decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

/// Decide a contact command.
pub fn decide(state: &State, command: &ContactCommand) -> Result<Vec<ContactEvent>, DomainError> {
    let contact = match (state, command) {
        (Some(_), ContactCommand::Create(_)) => {
            return Err(DomainError::conflict(
                Conflict::AlreadyExists,
                "the contact already exists",
            ))
        }
        (None, ContactCommand::Create(c)) => {
            return Ok(vec![ContactEvent::ContactCreated {
                contact_id: c.contact_id,
                workspace_id: c.workspace_id,
                name: c.name.clone().into(),
                email: c.email.clone().into(),
                phone: c.phone.clone().into(),
            }])
        }
        (None, _) => return Err(DomainError::not_found(Entity::Contact, "")),
        (Some(contact), _) => contact,
    };
    if contact.erased {
        if let ContactCommand::Erase(_) = command {
            // The contact still exists (anonymised, for totals): erasing again is a conflict
            // with its state, not a missing contact.
            return Err(DomainError::conflict(
                Conflict::AlreadyErased,
                "the contact was already erased",
            ));
        }
        return Err(DomainError::rule(
            Rule::ContactErased,
            "the contact was erased",
        ));
    }
    match command {
        ContactCommand::Create(_) => Ok(vec![]),
        ContactCommand::Update(c) => {
            let same = contact.name.known() == Some(&c.name)
                && contact.email() == c.email.as_ref()
                && contact.phone() == c.phone.as_ref();
            if same {
                return Ok(vec![]);
            }
            Ok(vec![ContactEvent::ContactUpdated {
                contact_id: contact.id,
                name: c.name.clone().into(),
                email: c.email.clone().into(),
                phone: c.phone.clone().into(),
            }])
        }
        ContactCommand::Erase(_) => Ok(vec![ContactEvent::ContactErased {
            contact_id: contact.id,
        }]),
    }
}

/// Apply a contact event.
pub fn evolve(state: State, event: &ContactEvent) -> State {
    match (state, event) {
        (
            _,
            ContactEvent::ContactCreated {
                contact_id,
                workspace_id,
                name,
                email,
                phone,
            },
        ) => Some(Contact {
            id: *contact_id,
            workspace_id: *workspace_id,
            name: name.clone(),
            email: email.clone(),
            phone: phone.clone(),
            erased: false,
        }),
        (None, _) => None,
        (
            Some(contact),
            ContactEvent::ContactUpdated {
                name, email, phone, ..
            },
        ) => Some(Contact {
            name: name.clone(),
            email: email.clone(),
            phone: phone.clone(),
            ..contact
        }),
        (Some(contact), ContactEvent::ContactErased { .. }) => Some(Contact {
            name: Personal::Erased,
            email: Personal::Erased,
            phone: Personal::Erased,
            erased: true,
            ..contact
        }),
    }
}
