//! Helpers of the notifier's integration tests: a per-test database (sqlx::test), the real
//! relay publishing to a per-test JetStream stream, the notifier run in-process, fixtures
//! appended straight to the event store, and readers of what was delivered.
#![allow(dead_code)]

pub mod outbox;
pub mod smtp_sink;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::booking::{BookingEvent, BookingSource, BookingStatus};
use domain::contact::ContactEvent;
use domain::service::{ServiceDefinition, ServiceEvent};
use domain::user::UserEvent;
use domain::values::{Currency, Email, Minutes, Money, Name, PersonName, Phone, Slug, TimeZone};
use domain::workspace::{WorkspaceEvent, WorkspaceSettings};
use domain::{DomainEvent, Personal};
use event_store::relay::{self, RelayConfig};
use event_store::{EventStore, ExpectedVersion, Metadata, NewEvent, RecordedEvent, StreamWrite};
use notifier::clock::SharedClock;
use notifier::config::DispatchConfig;
use notifier::NotifierConfig;
use service_runtime::secrets::SecretBox;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// One test's world: database, relay to its own stream, outbox folder, secret key.
pub struct Env {
    pub pool: PgPool,
    pub store: EventStore,
    pub secrets: SecretBox,
    pub outbox: PathBuf,
    pub stream_name: String,
    pub prefix: String,
    relay_stop: CancellationToken,
    relay: Option<JoinHandle<()>>,
}

impl Env {
    pub async fn start(pool: PgPool) -> Env {
        let id = Uuid::now_v7().simple().to_string();
        let stream_name = format!("TEST_NOTIFIER_{id}");
        let prefix = format!("test_notifier_{id}.events");
        let store = EventStore::new(pool.clone());
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(relay::run(
            store.clone(),
            async_nats::connect(nats_url())
                .await
                .expect("NATS is running"),
            RelayConfig {
                stream_name: stream_name.clone(),
                subject_prefix: prefix.clone(),
                batch_size: 500,
                max_backoff: Duration::from_millis(500),
                ..Default::default()
            },
            relay_stop.clone(),
        ));
        let outbox = std::env::temp_dir().join(format!("careops-notifier-test-{id}"));
        Env {
            pool,
            store,
            secrets: SecretBox::generate(),
            outbox,
            stream_name,
            prefix,
            relay_stop,
            relay: Some(relay),
        }
    }

    /// A configuration for tests: file transport into this test's outbox, fast polling,
    /// short leases and retries.
    pub fn config(&self, clock: SharedClock) -> NotifierConfig {
        let mut config = NotifierConfig::new(self.secrets.clone(), &self.outbox);
        config.consumer.stream_name = self.stream_name.clone();
        config.consumer.subject_prefix = self.prefix.clone();
        config.consumer.ack_wait = Duration::from_secs(5);
        config.consumer.dead_letter_after = 3;
        config.dispatch = DispatchConfig {
            poll_interval: Duration::from_millis(50),
            batch_size: 100,
            concurrency: 16,
            lease: Duration::from_secs(3),
            max_attempts: 3,
            retry_base: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
            max_lateness: Duration::from_secs(3 * 24 * 3600),
        };
        config.public_base_url = "https://app.careops.test".into();
        config.clock = clock;
        config
    }

    /// Starts a notifier in this process.
    pub async fn spawn(&self, config: NotifierConfig) -> Running {
        let stop = CancellationToken::new();
        let nats = async_nats::connect(nats_url())
            .await
            .expect("NATS is running");
        let handle = tokio::spawn(notifier::run(config, self.pool.clone(), nats, stop.clone()));
        Running { stop, handle }
    }

    pub async fn stop_relay(&mut self) {
        self.relay_stop.cancel();
        if let Some(relay) = self.relay.take() {
            let _ = relay.await;
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.relay_stop.cancel();
        let _ = std::fs::remove_dir_all(&self.outbox);
    }
}

/// A running notifier.
pub struct Running {
    pub stop: CancellationToken,
    pub handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Graceful shutdown.
    pub async fn shutdown(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("the notifier stops in time")
            .expect("no panic")
            .expect("no error");
    }

    /// As a crash: every task dropped wherever it is.
    pub async fn abort(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

/// An event ready to append, with its personal fields declared.
pub fn new_event<E: DomainEvent>(event: &E) -> NewEvent {
    let encoded = event.encode();
    let new = NewEvent::new(encoded.event_type, encoded.schema_version, encoded.data);
    match encoded.personal_data {
        Some(p) => new.with_personal_fields(p.subject, p.fields.iter().copied()),
        None => new,
    }
}

/// The correlation id of every event the tests append (as if one request made them all).
pub const REQUEST_ID: &str = "test-request-0001";

/// Appends events to one stream; returns their ids.
pub async fn append<E: DomainEvent>(
    store: &EventStore,
    workspace_id: Uuid,
    stream_type: &str,
    stream_id: &str,
    events: &[E],
) -> Vec<Uuid> {
    let new: Vec<NewEvent> = events.iter().map(new_event).collect();
    let ids = new.iter().map(|e| e.event_id).collect();
    let metadata = Metadata {
        correlation_id: Some(REQUEST_ID.into()),
        ..Metadata::default()
    };
    store
        .append(
            workspace_id,
            &metadata,
            &[StreamWrite::new(
                stream_type,
                stream_id,
                ExpectedVersion::Any,
                new,
            )],
        )
        .await
        .expect("append");
    ids
}

/// A workspace with an owner, a staff member, a service and a customer.
#[derive(Debug, Clone, Copy)]
pub struct Salon {
    pub workspace_id: Uuid,
    pub owner_id: Uuid,
    pub staff_id: Uuid,
    pub service_id: Uuid,
    pub contact_id: Uuid,
}

pub const OWNER_EMAIL: &str = "olivia@urbanglow.test";
pub const STAFF_EMAIL: &str = "sarah@urbanglow.test";
pub const CUSTOMER_EMAIL: &str = "ada@example.test";
pub const CUSTOMER_PHONE: &str = "+447700900123";

pub async fn salon(store: &EventStore, zone: &str, settings: WorkspaceSettings) -> Salon {
    salon_named(store, "Urban Glow", zone, settings, true).await
}

pub async fn salon_named(
    store: &EventStore,
    name: &str,
    zone: &str,
    settings: WorkspaceSettings,
    customer_phone: bool,
) -> Salon {
    let s = Salon {
        workspace_id: Uuid::now_v7(),
        owner_id: Uuid::now_v7(),
        staff_id: Uuid::now_v7(),
        service_id: Uuid::now_v7(),
        contact_id: Uuid::now_v7(),
    };
    let ws = s.workspace_id;
    let slug = format!("salon-{}", &ws.simple().to_string()[20..]);
    append(
        store,
        ws,
        "workspace",
        &domain::workspace::stream_id(ws),
        &[
            WorkspaceEvent::WorkspaceCreated {
                workspace_id: ws,
                name: Name::parse(name).unwrap(),
                slug: Slug::parse(&slug).unwrap(),
                timezone: TimeZone::parse(zone).unwrap(),
                currency: Currency::parse("GBP").unwrap(),
                owner_id: s.owner_id,
                settings,
            },
            WorkspaceEvent::WorkspaceActivated { workspace_id: ws },
        ],
    )
    .await;
    append(
        store,
        ws,
        "user",
        &domain::user::stream_id(s.owner_id),
        &[UserEvent::OwnerRegistered {
            user_id: s.owner_id,
            workspace_id: ws,
            name: Personal::Known(PersonName::parse("Olivia Owner").unwrap()),
            email: Personal::Known(Email::parse(OWNER_EMAIL).unwrap()),
        }],
    )
    .await;
    // A second user for the staff member; the notifier needs only a name and an address
    // (invitations are tested on their own).
    append(
        store,
        ws,
        "user",
        &domain::user::stream_id(s.staff_id),
        &[UserEvent::OwnerRegistered {
            user_id: s.staff_id,
            workspace_id: ws,
            name: Personal::Known(PersonName::parse("Sarah Stylist").unwrap()),
            email: Personal::Known(Email::parse(STAFF_EMAIL).unwrap()),
        }],
    )
    .await;
    append(
        store,
        ws,
        "service",
        &domain::service::stream_id(s.service_id),
        &[ServiceEvent::ServiceCreated {
            service_id: s.service_id,
            workspace_id: ws,
            definition: ServiceDefinition {
                name: Name::parse("Hair Colouring").unwrap(),
                duration_minutes: Minutes::new(60),
                price: Money::parse(4500, "GBP").unwrap(),
                buffer_before_minutes: Minutes::new(0),
                buffer_after_minutes: Minutes::new(0),
                inventory: vec![],
            },
        }],
    )
    .await;
    append(
        store,
        ws,
        "contact",
        &domain::contact::stream_id(s.contact_id),
        &[ContactEvent::ContactCreated {
            contact_id: s.contact_id,
            workspace_id: ws,
            name: Personal::Known(PersonName::parse("Ada Lovelace").unwrap()),
            email: Personal::Known(Some(Email::parse(CUSTOMER_EMAIL).unwrap())),
            phone: Personal::Known(customer_phone.then(|| Phone::parse(CUSTOMER_PHONE).unwrap())),
        }],
    )
    .await;
    s
}

/// Books the salon's service; returns the booking id and the event id.
pub async fn book(
    store: &EventStore,
    s: &Salon,
    start: DateTime<Utc>,
    status: BookingStatus,
) -> (Uuid, Uuid) {
    let booking_id = Uuid::now_v7();
    let ids = append(
        store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(booking_id),
        &[booking_created(s, booking_id, start, status)],
    )
    .await;
    (booking_id, ids[0])
}

pub fn booking_created(
    s: &Salon,
    booking_id: Uuid,
    start: DateTime<Utc>,
    status: BookingStatus,
) -> BookingEvent {
    BookingEvent::BookingCreated {
        booking_id,
        workspace_id: s.workspace_id,
        service_id: s.service_id,
        staff_id: s.staff_id,
        contact_id: s.contact_id,
        start,
        end: start + chrono::Duration::minutes(60),
        buffer_before_minutes: Minutes::new(0),
        buffer_after_minutes: Minutes::new(0),
        price: Money::parse(4500, "GBP").unwrap(),
        status,
        source: BookingSource::Public,
        notes: Personal::Known(None),
        calendar_dates: vec![start.date_naive()],
        inventory: vec![],
    }
}

/// Settings with the given reminder offsets (minutes).
pub fn settings(offsets: &[u32]) -> WorkspaceSettings {
    WorkspaceSettings {
        reminder_offsets_minutes: offsets.iter().map(|m| Minutes::new(*m)).collect(),
        ..WorkspaceSettings::default()
    }
}

/// Every event of a type in the store.
pub async fn events_of_type(store: &EventStore, event_type: &str) -> Vec<RecordedEvent> {
    let ids: Vec<String> =
        sqlx::query_scalar("select distinct stream_id from events where event_type = $1")
            .bind(event_type)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let streams = store.read_streams(&ids).await.unwrap();
    let mut events: Vec<RecordedEvent> = streams
        .into_values()
        .flatten()
        .filter(|e| e.event_type == event_type)
        .collect();
    events.sort_by_key(|e| e.position);
    events
}

/// Waits until `check` holds (polling), or fails the test.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rows of the notifications table by status.
pub async fn count_rows(pool: &PgPool, status: &str) -> i64 {
    sqlx::query_scalar("select count(*) from notifier.notifications where status = $1")
        .bind(status)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Rows not finished yet.
pub async fn pending_rows(pool: &PgPool) -> i64 {
    count_rows(pool, "pending").await
}

/// How many events the notifier has processed.
pub async fn processed(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from notifier.processed_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

pub fn arc_clock(clock: &notifier::clock::ManualClock) -> SharedClock {
    Arc::new(clock.clone())
}
