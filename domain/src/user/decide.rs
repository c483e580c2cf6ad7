//! User decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

/// Decide a user command.
pub fn decide(state: &State, command: &UserCommand) -> Result<Vec<UserEvent>, DomainError> {
    let user = match (state, command) {
        (Some(_), UserCommand::RegisterOwner(_) | UserCommand::InviteStaff(_)) => {
            return Err(DomainError::conflict(
                Conflict::AlreadyExists,
                "the user already exists",
            ))
        }
        (None, UserCommand::RegisterOwner(c)) => {
            return Ok(vec![UserEvent::OwnerRegistered {
                user_id: c.user_id,
                workspace_id: c.workspace_id,
                name: c.name.clone().into(),
                email: c.email.clone().into(),
            }])
        }
        (None, UserCommand::InviteStaff(c)) => {
            return Ok(vec![UserEvent::StaffInvited {
                user_id: c.user_id,
                workspace_id: c.workspace_id,
                name: c.name.clone().into(),
                email: c.email.clone().into(),
                permissions: c.permissions,
            }])
        }
        (None, _) => return Err(DomainError::not_found(Entity::User, "")),
        (Some(user), _) => user,
    };
    if !user.active {
        return Err(DomainError::rule(
            Rule::UserDeactivated,
            "the user is deactivated",
        ));
    }
    match command {
        UserCommand::RegisterOwner(_) | UserCommand::InviteStaff(_) => Ok(vec![]),
        UserCommand::ChangePermissions(c) => {
            if user.role == Role::Owner {
                return Err(DomainError::rule(
                    Rule::OwnerIsFixed,
                    "the owner always has every permission",
                ));
            }
            if user.permissions == c.permissions {
                return Ok(vec![]);
            }
            Ok(vec![UserEvent::PermissionsChanged {
                user_id: user.id,
                permissions: c.permissions,
            }])
        }
        UserCommand::Deactivate(_) => {
            if user.role == Role::Owner {
                return Err(DomainError::rule(
                    Rule::OwnerIsFixed,
                    "the owner cannot be deactivated",
                ));
            }
            Ok(vec![UserEvent::UserDeactivated { user_id: user.id }])
        }
    }
}

/// Apply a user event.
pub fn evolve(state: State, event: &UserEvent) -> State {
    match (state, event) {
        (
            _,
            UserEvent::OwnerRegistered {
                user_id,
                workspace_id,
                name,
                email,
            },
        ) => Some(User {
            id: *user_id,
            workspace_id: *workspace_id,
            role: Role::Owner,
            name: name.clone(),
            email: email.clone(),
            permissions: Permissions::all(),
            active: true,
        }),
        (
            _,
            UserEvent::StaffInvited {
                user_id,
                workspace_id,
                name,
                email,
                permissions,
            },
        ) => Some(User {
            id: *user_id,
            workspace_id: *workspace_id,
            role: Role::Staff,
            name: name.clone(),
            email: email.clone(),
            permissions: *permissions,
            active: true,
        }),
        (None, _) => None,
        (Some(user), UserEvent::PermissionsChanged { permissions, .. }) => Some(User {
            permissions: *permissions,
            ..user
        }),
        (Some(user), UserEvent::UserDeactivated { .. }) => Some(User {
            active: false,
            ..user
        }),
    }
}
