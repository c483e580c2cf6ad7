//! What happened to a reservation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::DomainEvent;

/// Events of the `reservation` stream (the value itself is in the stream id only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum ReservationEvent {
    SlugReserved { workspace_id: Uuid },
    SlugReleased { workspace_id: Uuid },
    EmailReserved { owner_id: Uuid },
    EmailReleased { owner_id: Uuid },
}

event_type_list!(ReservationEvent: SlugReserved, SlugReleased, EmailReserved, EmailReleased);

impl DomainEvent for ReservationEvent {
    event_type_names!(SlugReserved, SlugReleased, EmailReserved, EmailReleased);
}
