//! The event handlers of each projection: how one event changes that projection's tables.
//!
//! Handlers add the rows an event writes to a `plan::Plan`, which the runner then writes
//! set-based into the schema being applied (the live `rm_<name>` or a rebuild's
//! `rm_<name>__rebuild`). They only ever touch their own projection's tables, so a
//! projection can be rebuilt on its own. Exactly-once application is the runner's job
//! (checkpoint in the same transaction).

pub mod alerts;
pub mod bookings;
pub mod contacts;
pub mod forms;
pub mod inbox;
pub mod inventory;
pub(crate) mod plan;
pub mod services;
pub mod staff;
pub mod workspaces;

use event_store::RecordedEvent;

/// The stream version of an event, the read models' `version` (the ETag of a resource).
pub(crate) fn version(event: &RecordedEvent) -> i64 {
    i64::try_from(event.stream_version).unwrap_or(i64::MAX)
}

/// A known personal value, or `None` once erased.
pub(crate) fn personal<T, U>(value: &domain::Personal<T>, f: impl FnOnce(&T) -> U) -> Option<U> {
    value.known().map(f)
}
