//! What happened to a workspace.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::WorkspaceSettings;
use crate::event::{event_type_list, event_type_names};
use crate::values::{Currency, Email, Name, Phone, Slug, TimeZone};
use crate::DomainEvent;

/// Events of the `workspace` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum WorkspaceEvent {
    WorkspaceCreated {
        workspace_id: Uuid,
        name: Name,
        slug: Slug,
        timezone: TimeZone,
        currency: Currency,
        owner_id: Uuid,
        settings: WorkspaceSettings,
    },
    WorkspaceProfileChanged {
        workspace_id: Uuid,
        name: Name,
        timezone: TimeZone,
        business_email: Option<Email>,
        business_phone: Option<Phone>,
    },
    WorkspaceSettingsChanged {
        workspace_id: Uuid,
        settings: WorkspaceSettings,
    },
    WorkspaceActivated {
        workspace_id: Uuid,
    },
}

event_type_list!(WorkspaceEvent: WorkspaceCreated, WorkspaceProfileChanged, WorkspaceSettingsChanged, WorkspaceActivated);

impl DomainEvent for WorkspaceEvent {
    event_type_names!(
        WorkspaceCreated,
        WorkspaceProfileChanged,
        WorkspaceSettingsChanged,
        WorkspaceActivated
    );
}
