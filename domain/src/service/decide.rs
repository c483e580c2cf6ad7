//! Service decisions and evolution.

use super::*;
use crate::values::Currency;
use crate::{Conflict, Entity, Rule};

fn check(definition: &ServiceDefinition, currency: Currency) -> Result<(), DomainError> {
    definition.validate()?;
    if definition.price.currency() != currency {
        return Err(DomainError::rule(
            Rule::CurrencyMismatch,
            format!(
                "prices are in {currency}, not {}",
                definition.price.currency()
            ),
        ));
    }
    Ok(())
}

/// Decide a service command.
pub fn decide(state: &State, command: &ServiceCommand) -> Result<Vec<ServiceEvent>, DomainError> {
    match (state, command) {
        (Some(_), ServiceCommand::Create(_)) => Err(DomainError::conflict(
            Conflict::AlreadyExists,
            "the service already exists",
        )),
        (None, ServiceCommand::Create(c)) => {
            check(&c.definition, c.workspace_currency)?;
            Ok(vec![ServiceEvent::ServiceCreated {
                service_id: c.service_id,
                workspace_id: c.workspace_id,
                definition: c.definition.clone(),
            }])
        }
        (None, _) => Err(DomainError::not_found(Entity::Service, "")),
        (Some(s), _) if s.archived => Err(DomainError::rule(
            Rule::ServiceArchived,
            "the service is archived",
        )),
        (Some(s), ServiceCommand::Update(c)) => {
            check(&c.definition, c.workspace_currency)?;
            if s.definition == c.definition {
                return Ok(vec![]);
            }
            Ok(vec![ServiceEvent::ServiceUpdated {
                service_id: s.id,
                definition: c.definition.clone(),
            }])
        }
        (Some(s), ServiceCommand::Archive(_)) => {
            Ok(vec![ServiceEvent::ServiceArchived { service_id: s.id }])
        }
    }
}

/// Apply a service event.
pub fn evolve(state: State, event: &ServiceEvent) -> State {
    match (state, event) {
        (
            _,
            ServiceEvent::ServiceCreated {
                service_id,
                workspace_id,
                definition,
            },
        ) => Some(Service {
            id: *service_id,
            workspace_id: *workspace_id,
            definition: definition.clone(),
            archived: false,
        }),
        (None, _) => None,
        (Some(s), ServiceEvent::ServiceUpdated { definition, .. }) => Some(Service {
            definition: definition.clone(),
            ..s
        }),
        (Some(s), ServiceEvent::ServiceArchived { .. }) => Some(Service {
            archived: true,
            ..s
        }),
    }
}
