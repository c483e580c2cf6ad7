//! What one may ask of a workspace.

use uuid::Uuid;

use super::WorkspaceSettings;
use crate::aggregate::commands;
use crate::values::{Currency, Email, Name, Phone, Slug, TimeZone};

/// Create the workspace during onboarding (the slug is reserved separately, see `reservation`).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateWorkspace {
    pub workspace_id: Uuid,
    pub name: Name,
    pub slug: Slug,
    pub timezone: TimeZone,
    pub currency: Currency,
    pub owner_id: Uuid,
}

/// Change the name, zone and business contact details.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateWorkspaceProfile {
    pub name: Name,
    pub timezone: TimeZone,
    pub business_email: Option<Email>,
    pub business_phone: Option<Phone>,
}

/// Replace the settings (validated).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSettings {
    pub settings: WorkspaceSettings,
}

/// Open the public booking page. The caller gathers the facts from the other streams.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivateWorkspace {
    /// At least one active (not archived) service exists.
    pub has_active_service: bool,
    /// At least one active staff member (the owner counts) has weekly availability.
    pub has_staff_with_availability: bool,
}

/// Record the workspace's new delivery providers (their secrets are stored apart).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeIntegrations {
    pub email: Option<super::EmailIntegration>,
    pub sms: Option<super::SmsIntegration>,
}

/// Hide an alert from the dashboard. The caller checked that the alert is the workspace's.
#[derive(Debug, Clone, PartialEq)]
pub struct DismissAlert {
    pub alert_id: Uuid,
}

commands!(
    /// Every workspace intent.
    WorkspaceCommand {
        Create(CreateWorkspace),
        UpdateProfile(UpdateWorkspaceProfile),
        ChangeSettings(ChangeSettings),
        Activate(ActivateWorkspace),
        ChangeIntegrations(ChangeIntegrations),
        DismissAlert(DismissAlert),
    }
);
