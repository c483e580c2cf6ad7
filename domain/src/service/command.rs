//! What one may ask of a service.

use uuid::Uuid;

use super::ServiceDefinition;
use crate::aggregate::commands;
use crate::values::Currency;

/// Create a service priced in the workspace's currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateService {
    pub service_id: Uuid,
    pub workspace_id: Uuid,
    pub workspace_currency: Currency,
    pub definition: ServiceDefinition,
}

/// Replace the service's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateService {
    pub workspace_currency: Currency,
    pub definition: ServiceDefinition,
}

/// Archive the service: no new bookings, history stays.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveService;

commands!(
    /// Every service intent.
    ServiceCommand {
        Create(CreateService),
        Update(UpdateService),
        Archive(ArchiveService),
    }
);
