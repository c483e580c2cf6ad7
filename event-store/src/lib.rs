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
//! - Personal data is crypto-shredded. A [`NewEvent`] may declare the payload fields that
//!   hold a data subject's personal data ([`NewEvent::with_personal_fields`]); the append
//!   encrypts each with AES-256-GCM under the subject's key (table `personal_data_keys`,
//!   created on first use) and stores it as
//!   `{"$enc": "<base64(nonce || ciphertext)>", "subject": "<subject uuid>"}`, the
//!   ciphertext bound to its event id, subject and field name. The raw `events.data` never
//!   holds those fields in clear. Every read decrypts, with one key lookup per batch.
//!   [`erase_subject`] (in the caller's transaction, with the event recording the erasure)
//!   destroys the key: from then on every reader, the feed, the audit trail, the relay and a
//!   projection rebuild alike, shows those fields as `{"erased": true}`. The key row stays as
//!   a tombstone, and an append of personal data for an erased subject is refused with
//!   [`AppendError::Erased`] rather than creating a new key: nothing new is kept about
//!   someone erased. The relay also deletes from JetStream the messages that showed an
//!   erased subject's data.

mod append;
mod audit;
pub mod checkpoint;
mod db;
mod envelope;
mod error;
mod feed;
mod personal;
pub mod relay;
mod store;
mod subscription;
mod tail;
mod upcast;
mod wakeup;

pub use append::{AppendOutcome, ExpectedVersion, StreamWrite};
pub use audit::{AuditFilter, AuditPage};
pub use db::{connect, migrate, ConnectOptions, MIGRATOR};
pub use envelope::{FeedPosition, Metadata, NewEvent, RecordedEvent};
pub use error::{AppendError, StoreError};
pub use feed::{FeedBatch, FeedFilter};
pub use personal::{erase_subject, is_erased, PersonalFields};
pub use store::EventStore;
pub use subscription::Subscription;
pub use upcast::Upcasters;
