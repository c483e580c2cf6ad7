//! The peer: `postgres-es` 0.5, the PostgreSQL store of `cqrs-es`, as a Rust user would set
//! it up: a minimal aggregate with one event, the framework's `execute` per command, and the
//! tables of its `db/init.sql` (renamed, since CareOps owns `events`).

use std::collections::HashMap;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent};
use event_store::Metadata;
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

pub type PeerCqrs = (PostgresCqrs<Booking>, PgPool);

const EVENTS_TABLE: &str = "pges_events";
const SNAPSHOTS_TABLE: &str = "pges_snapshots";

/// postgres-es' `db/init.sql`, with the table names it is configured with below.
pub async fn create_tables(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE pges_events
         (
             aggregate_type text                         NOT NULL,
             aggregate_id   text                         NOT NULL,
             sequence       bigint CHECK (sequence >= 0) NOT NULL,
             event_type     text                         NOT NULL,
             event_version  text                         NOT NULL,
             payload        json                         NOT NULL,
             metadata       json                         NOT NULL,
             PRIMARY KEY (aggregate_type, aggregate_id, sequence)
         );
         CREATE TABLE pges_snapshots
         (
             aggregate_type   text                                 NOT NULL,
             aggregate_id     text                                 NOT NULL,
             last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
             current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
             payload          json                                 NOT NULL,
             PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
         );",
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub fn cqrs(pool: PgPool) -> PeerCqrs {
    let repo =
        PostgresEventRepository::new(pool.clone()).with_tables(EVENTS_TABLE, SNAPSHOTS_TABLE);
    let store = PersistedEventStore::new_event_store(repo);
    (CqrsFramework::new(store, vec![], ()), pool)
}

pub async fn close(peer: &PeerCqrs) {
    peer.1.close().await;
}

/// The command's input in postgres-es' terms, built before the clock starts.
pub struct PeerInput {
    command: CreateBooking,
    metadata: HashMap<String, String>,
}

pub fn input(data: serde_json::Value, metadata: &Metadata) -> anyhow::Result<PeerInput> {
    let mut meta = HashMap::new();
    if let Some(actor) = metadata.actor_id {
        meta.insert("actor_id".to_string(), actor.to_string());
    }
    for (key, value) in [
        ("actor_role", &metadata.actor_role),
        ("correlation_id", &metadata.correlation_id),
        ("request_id", &metadata.request_id),
    ] {
        if let Some(value) = value {
            meta.insert(key.to_string(), value.clone());
        }
    }
    Ok(PeerInput {
        command: CreateBooking(serde_json::from_value(data)?),
        metadata: meta,
    })
}

/// Creates one booking: loads the (new) aggregate, decides, commits its one event.
pub async fn execute(peer: &PeerCqrs, aggregate_id: &str, input: PeerInput) -> anyhow::Result<()> {
    peer.0
        .execute_with_metadata(aggregate_id, input.command, input.metadata)
        .await
        .map_err(|e| anyhow::anyhow!("postgres-es: {e}"))
}

/// The same fields as the CareOps booking payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingDetails {
    booking_id: uuid::Uuid,
    service_id: uuid::Uuid,
    staff_id: uuid::Uuid,
    contact_id: uuid::Uuid,
    start: String,
    end: String,
    price_cents: u64,
    currency: String,
    status: String,
    source: String,
}

pub struct CreateBooking(BookingDetails);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BookingEvent {
    BookingCreated(BookingDetails),
}

impl DomainEvent for BookingEvent {
    fn event_type(&self) -> String {
        "BookingCreated".into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the booking already exists")]
pub struct AlreadyCreated;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Booking {
    created: bool,
}

impl Aggregate for Booking {
    const TYPE: &'static str = "booking";
    type Command = CreateBooking;
    type Event = BookingEvent;
    type Error = AlreadyCreated;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if self.created {
            return Err(AlreadyCreated);
        }
        sink.write(BookingEvent::BookingCreated(command.0), self)
            .await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            BookingEvent::BookingCreated(_) => self.created = true,
        }
    }
}
