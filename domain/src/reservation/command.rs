//! What one may ask of a reservation.

use uuid::Uuid;

use super::ReservationKey;
use crate::aggregate::commands;

/// Take the value for `owner_id` (a workspace, user or contact id).
#[derive(Debug, Clone, PartialEq)]
pub struct Reserve {
    pub key: ReservationKey,
    pub owner_id: Uuid,
}

/// Give the value back (the owner changed or erased it).
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub key: ReservationKey,
    pub owner_id: Uuid,
}

commands!(
    /// Every reservation intent.
    ReservationCommand {
        Reserve(Reserve),
        Release(Release),
    }
);
