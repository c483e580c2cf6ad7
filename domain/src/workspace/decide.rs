//! Workspace decisions and evolution.

use super::*;
use crate::{ActivationRequirement, Conflict, DomainError, Entity};

/// Decide a workspace command.
pub fn decide(
    state: &State,
    command: &WorkspaceCommand,
) -> Result<Vec<WorkspaceEvent>, DomainError> {
    match (state, command) {
        (Some(_), WorkspaceCommand::Create(_)) => Err(DomainError::conflict(
            Conflict::AlreadyExists,
            "the workspace already exists",
        )),
        (None, WorkspaceCommand::Create(c)) => Ok(vec![WorkspaceEvent::WorkspaceCreated {
            workspace_id: c.workspace_id,
            name: c.name.clone(),
            slug: c.slug.clone(),
            timezone: c.timezone,
            currency: c.currency,
            owner_id: c.owner_id,
            settings: WorkspaceSettings::default(),
        }]),
        (None, _) => Err(DomainError::not_found(Entity::Workspace, "")),
        (Some(ws), WorkspaceCommand::UpdateProfile(c)) => {
            let unchanged = ws.name == c.name
                && ws.timezone == c.timezone
                && ws.business_email == c.business_email
                && ws.business_phone == c.business_phone;
            if unchanged {
                return Ok(vec![]);
            }
            Ok(vec![WorkspaceEvent::WorkspaceProfileChanged {
                workspace_id: ws.id,
                name: c.name.clone(),
                timezone: c.timezone,
                business_email: c.business_email.clone(),
                business_phone: c.business_phone.clone(),
            }])
        }
        (Some(ws), WorkspaceCommand::ChangeSettings(c)) => {
            c.settings.validate()?;
            if ws.settings == c.settings {
                return Ok(vec![]);
            }
            Ok(vec![WorkspaceEvent::WorkspaceSettingsChanged {
                workspace_id: ws.id,
                settings: c.settings.clone(),
            }])
        }
        (Some(ws), WorkspaceCommand::ChangeIntegrations(c)) => {
            Ok(vec![WorkspaceEvent::IntegrationsChanged {
                workspace_id: ws.id,
                email: c.email.clone(),
                sms: c.sms.clone(),
            }])
        }
        (Some(ws), WorkspaceCommand::DismissAlert(c)) => Ok(vec![WorkspaceEvent::AlertDismissed {
            workspace_id: ws.id,
            alert_id: c.alert_id,
        }]),
        (Some(ws), WorkspaceCommand::Activate(c)) => {
            if ws.is_active() {
                return Err(DomainError::transition("the workspace is already active"));
            }
            let mut missing = Vec::new();
            if !c.has_active_service {
                missing.push(ActivationRequirement::Service);
            }
            if !c.has_staff_with_availability {
                missing.push(ActivationRequirement::StaffWithAvailability);
            }
            if !missing.is_empty() {
                return Err(DomainError::ActivationIncomplete { missing });
            }
            Ok(vec![WorkspaceEvent::WorkspaceActivated {
                workspace_id: ws.id,
            }])
        }
    }
}

/// Apply a workspace event.
pub fn evolve(state: State, event: &WorkspaceEvent) -> State {
    match (state, event) {
        (
            _,
            WorkspaceEvent::WorkspaceCreated {
                workspace_id,
                name,
                slug,
                timezone,
                currency,
                owner_id,
                settings,
            },
        ) => Some(Workspace {
            id: *workspace_id,
            name: name.clone(),
            slug: slug.clone(),
            timezone: *timezone,
            currency: *currency,
            owner_id: *owner_id,
            business_email: None,
            business_phone: None,
            settings: settings.clone(),
            status: WorkspaceStatus::Inactive,
        }),
        (None, _) => None,
        (
            Some(ws),
            WorkspaceEvent::WorkspaceProfileChanged {
                name,
                timezone,
                business_email,
                business_phone,
                ..
            },
        ) => Some(Workspace {
            name: name.clone(),
            timezone: *timezone,
            business_email: business_email.clone(),
            business_phone: business_phone.clone(),
            ..ws
        }),
        (Some(ws), WorkspaceEvent::WorkspaceSettingsChanged { settings, .. }) => Some(Workspace {
            settings: settings.clone(),
            ..ws
        }),
        (
            Some(ws),
            WorkspaceEvent::IntegrationsChanged { .. } | WorkspaceEvent::AlertDismissed { .. },
        ) => Some(ws),
        (Some(ws), WorkspaceEvent::WorkspaceActivated { .. }) => Some(Workspace {
            status: WorkspaceStatus::Active,
            ..ws
        }),
    }
}
