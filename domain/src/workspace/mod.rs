//! The workspace: the tenant root (a salon, spa or clinic) with its zone, currency and settings.
//!
//! Stream `workspace-<id>`. It decides activation: a workspace takes public bookings only once it
//! has a service and a staff member with availability.

mod command;
mod decide;
mod event;
mod settings;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::{EmailIntegration, SmsIntegration, WorkspaceEvent};
pub use settings::WorkspaceSettings;

use crate::values::{Currency, Email, Name, Phone, Slug, TimeZone};

/// Stream type of workspaces.
pub const STREAM_TYPE: &str = "workspace";

/// `workspace-<id>`.
pub fn stream_id(workspace_id: Uuid) -> String {
    format!("workspace-{workspace_id}")
}

/// Whether the workspace takes public bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    /// Being set up (onboarding).
    Inactive,
    /// Live: public booking page open.
    Active,
}

/// A created workspace (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: Uuid,
    pub name: Name,
    pub slug: Slug,
    pub timezone: TimeZone,
    pub currency: Currency,
    pub owner_id: Uuid,
    pub business_email: Option<Email>,
    pub business_phone: Option<Phone>,
    pub settings: WorkspaceSettings,
    pub status: WorkspaceStatus,
}

impl Workspace {
    /// Whether public bookings are open.
    pub fn is_active(&self) -> bool {
        self.status == WorkspaceStatus::Active
    }
}

/// The state of a workspace stream: `None` until created.
pub type State = Option<Workspace>;

/// The workspace aggregate.
pub struct WorkspaceAggregate;

impl crate::Aggregate for WorkspaceAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = WorkspaceCommand;
    type Event = WorkspaceEvent;

    fn decide(
        state: &State,
        command: &WorkspaceCommand,
    ) -> Result<Vec<WorkspaceEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &WorkspaceEvent) -> State {
        evolve(state, event)
    }
}
