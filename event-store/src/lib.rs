//! The CareOps event store, on PostgreSQL.
//!
//! Every change in CareOps is an event appended here; everything else (read models,
//! notifications, downstream subscribers) is derived from this log. The rules this crate
//! enforces are in DESIGN.md ("Event store"):
//!
//! - [`EventStore::append`] writes to several streams at once, all or nothing, each with an
//!   [`ExpectedVersion`]; a clash is a typed [`AppendError::Conflict`].
//! - [`EventStore::read_stream`] replays one stream; [`EventStore::audit`] lists a
//!   workspace's events newest first.
//! - [`EventStore::read_feed`] and [`Subscription`] follow the ordered global feed by
//!   `(tx, position)`, which never skips a committed event and never shows an uncommitted one.
//! - [`relay`] publishes the feed to NATS JetStream as CloudEvents.
//! - [`Upcasters`] bring old payload versions to the current shape on every read.

mod append;
mod audit;
pub mod checkpoint;
mod db;
mod envelope;
mod error;
mod feed;
pub mod relay;
mod store;
mod subscription;
mod upcast;
mod wakeup;

pub use append::{AppendOutcome, ExpectedVersion, StreamWrite};
pub use audit::{AuditFilter, AuditPage};
pub use db::{connect, migrate, ConnectOptions, MIGRATOR};
pub use envelope::{FeedPosition, Metadata, NewEvent, RecordedEvent};
pub use error::{AppendError, StoreError};
pub use feed::FeedBatch;
pub use store::EventStore;
pub use subscription::Subscription;
pub use upcast::Upcasters;
