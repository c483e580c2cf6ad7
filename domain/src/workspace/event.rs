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
    /// The workspace's own delivery providers changed. Only their kinds and the from-address
    /// are recorded: keys and passwords live sealed in `workspace_integrations`, never here.
    IntegrationsChanged {
        workspace_id: Uuid,
        email: Option<EmailIntegration>,
        sms: Option<SmsIntegration>,
    },
    /// The owner dismissed an alert of the dashboard.
    AlertDismissed {
        workspace_id: Uuid,
        alert_id: Uuid,
    },
}

/// The non-secret part of a workspace's email provider settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailIntegration {
    /// `smtp`, `resend` or `sendgrid`.
    pub provider: String,
    pub fallback_provider: Option<String>,
    pub from_address: Email,
}

/// The non-secret part of a workspace's SMS provider settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsIntegration {
    /// `twilio`.
    pub provider: String,
    pub from_number: Phone,
}

event_type_list!(WorkspaceEvent: WorkspaceCreated, WorkspaceProfileChanged, WorkspaceSettingsChanged, WorkspaceActivated, IntegrationsChanged, AlertDismissed);

impl DomainEvent for WorkspaceEvent {
    event_type_names!(
        WorkspaceCreated,
        WorkspaceProfileChanged,
        WorkspaceSettingsChanged,
        WorkspaceActivated,
        IntegrationsChanged,
        AlertDismissed
    );
}
