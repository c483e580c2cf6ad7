//! Who is asking: the workspace, and whether the viewer is the owner or a staff member
//! (who sees only their slice).

use domain::values::Permissions;
use uuid::Uuid;

/// The caller of a query, from the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub workspace_id: Uuid,
    pub viewer: Viewer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Owner,
    Staff {
        user_id: Uuid,
        permissions: Permissions,
    },
}

impl Scope {
    pub fn owner(workspace_id: Uuid) -> Self {
        Scope {
            workspace_id,
            viewer: Viewer::Owner,
        }
    }

    pub fn staff(workspace_id: Uuid, user_id: Uuid, permissions: Permissions) -> Self {
        Scope {
            workspace_id,
            viewer: Viewer::Staff {
                user_id,
                permissions,
            },
        }
    }

    /// The staff member whose slice this is; `None` for the owner (who sees everything).
    pub fn staff_member(&self) -> Option<Uuid> {
        match self.viewer {
            Viewer::Owner => None,
            Viewer::Staff { user_id, .. } => Some(user_id),
        }
    }
}
