//! What one may ask of a user.

use uuid::Uuid;

use crate::aggregate::commands;
use crate::values::{Email, Permissions, PersonName};

/// Register the owner while creating a workspace (the email is reserved separately).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterOwner {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub name: PersonName,
    pub email: Email,
}

/// Invite a staff member. The generated password never enters the domain.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteStaff {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub name: PersonName,
    pub email: Email,
    pub permissions: Permissions,
}

/// Replace a staff member's permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePermissions {
    pub permissions: Permissions,
}

/// Deactivate a staff member (history stays).
#[derive(Debug, Clone, PartialEq)]
pub struct DeactivateUser;

commands!(
    /// Every user intent.
    UserCommand {
        RegisterOwner(RegisterOwner),
        InviteStaff(InviteStaff),
        ChangePermissions(ChangePermissions),
        Deactivate(DeactivateUser),
    }
);
