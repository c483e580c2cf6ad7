//! What happened to a user.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::values::{Email, Permissions, PersonName};
use crate::{DomainEvent, Personal, PersonalData};

/// Events of the `user` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum UserEvent {
    OwnerRegistered {
        user_id: Uuid,
        workspace_id: Uuid,
        name: Personal<PersonName>,
        email: Personal<Email>,
    },
    StaffInvited {
        user_id: Uuid,
        workspace_id: Uuid,
        name: Personal<PersonName>,
        email: Personal<Email>,
        permissions: Permissions,
    },
    PermissionsChanged {
        user_id: Uuid,
        permissions: Permissions,
    },
    UserDeactivated {
        user_id: Uuid,
    },
}

event_type_list!(UserEvent: OwnerRegistered, StaffInvited, PermissionsChanged, UserDeactivated);

impl DomainEvent for UserEvent {
    event_type_names!(
        OwnerRegistered,
        StaffInvited,
        PermissionsChanged,
        UserDeactivated
    );

    fn personal_data(&self) -> Option<PersonalData> {
        match self {
            UserEvent::OwnerRegistered { user_id, .. }
            | UserEvent::StaffInvited { user_id, .. } => Some(PersonalData {
                subject: *user_id,
                fields: &["name", "email"],
            }),
            _ => None,
        }
    }
}
