//! What happened to a service.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ServiceDefinition;
use crate::event::{event_type_list, event_type_names};
use crate::DomainEvent;

/// Events of the `service` stream. The definition's fields are flattened into the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum ServiceEvent {
    ServiceCreated {
        service_id: Uuid,
        workspace_id: Uuid,
        #[serde(flatten)]
        definition: ServiceDefinition,
    },
    ServiceUpdated {
        service_id: Uuid,
        #[serde(flatten)]
        definition: ServiceDefinition,
    },
    ServiceArchived {
        service_id: Uuid,
    },
}

event_type_list!(ServiceEvent: ServiceCreated, ServiceUpdated, ServiceArchived);

impl DomainEvent for ServiceEvent {
    event_type_names!(ServiceCreated, ServiceUpdated, ServiceArchived);
}
