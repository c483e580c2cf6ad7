//! The CareOps notifier, the "robot employee": confirmations, notices, reminders,
//! follow-ups, staff invitations, low-stock alerts, form links, inbox messages and the
//! owner's daily summary, by email and SMS.
//!
//! ```text
//!  JetStream CAREOPS_EVENTS ──(durable pull consumer, shared by replicas)──► consumer
//!        │ plan rows + record event id (one transaction), then ack
//!        ▼
//!  notifier.notifications (due_at, next_attempt_at, claim) ◄──(FOR UPDATE SKIP LOCKED)── dispatcher
//!        │ prepare from the event store → render → send (primary → fallback)
//!        ▼
//!  NotificationSent / ReminderSent / FollowUpSent / LowStockAlerted / DailySummarySent
//!  (or NotificationFailed → owner alert) + row closed, in one transaction
//! ```
//!
//! How it is built, and why:
//!
//! - **Consumer** ([`consumer`]): durable JetStream pull consumer; each event is handled in
//!   one PostgreSQL transaction that records its id in `notifier.processed_events` (JetStream's
//!   de-duplication window is finite) and plans its rows ([`plan`] has the table of reactions);
//!   the ack follows the commit. A failing event is redelivered with growing delays and after
//!   `dead_letter_after` deliveries set aside with an owner alert (`NotificationFailed`, kind
//!   `dead_letter`): the consumer never gets stuck.
//! - **Rows, not events, are the timers** ([`table`]): immediate notifications are due at the
//!   event's time; reminders at start − offset (workspace settings, default 24 h and 1 h; not
//!   planned when already past at booking time); the follow-up at end + delay after
//!   `BookingCompleted`; the daily summary at the next local hour in the workspace's zone.
//!   Rescheduling drops unsent reminders and plans new ones; cancelling drops the timers.
//!   Row ids are UUIDv5 of cause, kind, recipient role and channel ([`ids`]).
//! - **Dispatcher** ([`dispatch`]): claims due rows with `FOR UPDATE SKIP LOCKED` and a lease
//!   (a crashed replica's claims expire), re-checks each against the streams as they are now
//!   (cancelled, moved, erased, opted out, restocked → skipped), renders it ([`compose`]: one
//!   module of wording, text + HTML, times in the workspace's zone with the zone named, `.ics`
//!   for the customer's confirmation, reschedule and cancellation), sends it, and records the
//!   outcome as events with the row's status in one transaction. The `notification-<id>`
//!   stream (appended with `NoStream`) is the durable "sent once" guard across replicas and
//!   restarts. Failures retry with exponential backoff and jitter; the last one records
//!   `NotificationFailed`, which the alerts read model shows as a critical owner alert.
//! - **Providers** ([`providers`]): SMTP (lettre), Resend (with `Idempotency-Key` = the
//!   notification id), SendGrid, Twilio and the file transport (`<outbox>/<id>.eml` / `.txt`,
//!   the local default), behind one trait per channel. A workspace's own integrations win
//!   over the system default; email falls back from primary to secondary. At most one
//!   unrecorded non-idempotent delivery exists at a time, so a crash duplicates at most one
//!   SMTP/SendGrid/Twilio message and no Resend or file one.
//! - **Secrets**: an invited staff member's password, a form request's link token and a
//!   public booking's manage token are taken from their hand-over tables (sealed under
//!   `CAREOPS_SECRET_KEY`, read once) in the planning transaction and kept sealed in the rows
//!   that need them (AES-GCM, bound to each row id) until sent, then erased with the row's
//!   secret columns. Events carry ids, kinds and providers only: never an address or a body.
//! - **Links**: the customer's manage/cancel link is the public booking page with the booking
//!   id and, for a public booking's first messages (confirmation, reminders), its manage
//!   token: `<base>/book/<slug>?booking=<id>&token=<token>`. Messages planned later
//!   (reschedule notices and the reminders of a moved booking) and bookings made by staff
//!   link without a token. Form links are `<base>/forms/<token>`.
//! - **Replay**: a new durable consumer starts from the beginning of the stream; what would
//!   be stale is dropped when due (immediate messages more than `max_lateness` late,
//!   reminders after the start, summaries of past days), and notifications already recorded
//!   in the event store are never sent again.
//! - **Time** comes from an injectable [`clock::Clock`]; tests move a [`clock::ManualClock`].
//! - **Shutdown**: on `stop` the consumer stops between messages and the dispatcher claims
//!   nothing new, releases claimed rows it has not started and finishes the deliveries in
//!   progress, within `shutdown_timeout`; a delivery that hangs past it is abandoned (its
//!   claim expires and another replica or the next start sends it).
//! - **Probes** ([`health`]): `notifier run` can serve `/health` and `/ready` (PostgreSQL,
//!   NATS and the durable consumer) on `CAREOPS_HEALTH_PORT`.
//!
//! Entry points: [`run`] (the `notifier run` process and the all-in-one process), and
//! [`config::NotifierArgs`] to read the configuration from flags and the environment.

#![forbid(unsafe_code)]

pub mod clock;
pub mod compose;
pub mod config;
pub mod consumer;
pub mod dispatch;
pub mod health;
pub mod ids;
pub mod load;
pub mod message;
pub mod metrics;
pub mod plan;
pub mod providers;
pub mod table;

use std::sync::Arc;
use std::time::Duration;

use event_store::EventStore;
use service_runtime::shutdown::{join_until, Deadline, NamedTask};
use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

pub use config::{NotifierArgs, NotifierConfig};
pub use ids::{daily_summary_id, notification_id};

/// Runs the notifier (consumer, dispatcher, housekeeping) until `stop` is cancelled and the
/// work in hand is finished, for at most `config.shutdown_timeout` after `stop`: what is
/// still running then is aborted and named in the log and in the returned error (a clean
/// stop is `Ok`). Dropping the returned future stops every task at once (as a crash would);
/// nothing is lost, claims expire and unacked events are redelivered.
pub async fn run(
    config: NotifierConfig,
    pool: PgPool,
    nats: async_nats::Client,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    metrics::describe();
    let store = EventStore::new(pool.clone());
    let routes = Arc::new(providers::routes::Routes::new(pool.clone(), &config)?);
    let wake = Arc::new(Notify::new());
    let dispatcher = Arc::new(dispatch::Dispatcher {
        pool: pool.clone(),
        store: store.clone(),
        routes,
        config: config.dispatch.clone(),
        clock: config.clock.clone(),
        secrets: config.secrets.clone(),
        public_base_url: config.public_base_url.trim_end_matches('/').to_string(),
        wake: wake.clone(),
        serial: Arc::new(Semaphore::new(1)),
    });
    let consumer = consumer::Consumer {
        pool: pool.clone(),
        store: store.clone(),
        planner: plan::Planner::new(store, config.secrets.clone(), config.clock.clone()),
        config: config.consumer.clone(),
        wake,
        clock: config.clock.clone(),
    };
    tracing::info!(
        email = ?config.email.primary,
        fallback = ?config.email.fallback,
        outbox = %config.outbox_dir.display(),
        "notifier starting"
    );
    let deadline = Deadline::new(stop.clone(), config.shutdown_timeout);
    let tasks = vec![
        NamedTask::spawn("event consumer", consumer.run(nats, stop.clone())),
        NamedTask::spawn("dispatcher", dispatcher.run(stop.clone())),
        NamedTask::spawn("housekeeping", housekeeping(pool, stop.clone())),
    ];
    let stopped = join_until(&deadline, &stop, tasks).await;
    if stopped.is_clean() {
        tracing::info!("notifier stopped");
    }
    stopped.into_result(deadline.grace())
}

/// Forgets processed event ids older than 30 days, once a day.
async fn housekeeping(pool: PgPool, stop: CancellationToken) {
    loop {
        match table::prune_processed(&pool, 30).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old processed event ids forgotten"),
            Err(error) => tracing::warn!(%error, "pruning processed event ids failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    }
}
