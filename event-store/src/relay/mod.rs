//! The NATS relay: publishes every committed event, in feed order, to JetStream.
//!
//! Exactly one relay publishes at a time: each candidate tries a PostgreSQL advisory lock
//! on a connection of its own and stands by while another holds it. The leader reads the
//! ordered feed from its checkpoint, publishes a batch with `Nats-Msg-Id` = event id
//! (pipelined: all sent, then every PubAck awaited in order), and only then advances its
//! checkpoint, on the lock's connection so that a relay that lost its lock cannot move it.
//! When NATS is down it backs off and retries from the checkpoint; JetStream drops the
//! duplicates of a retried batch by message id, and consumers de-duplicate beyond the window.
//!
//! Payloads are published decrypted: a subject's personal data in clear while its key
//! exists, `{"erased": true}` after. Messages that showed a subject's data are deleted from
//! the stream once it is erased (see `erasure`), so a later replay does not find it.

pub mod cloudevent;
mod erasure;

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use rand::Rng;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::checkpoint;
use crate::envelope::FeedPosition;
use crate::store::EventStore;

/// Where and how the relay publishes.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// JetStream stream, created when absent.
    pub stream_name: String,
    /// Subjects are `<prefix>.<workspace_id>.<stream_type>.<event_type>`.
    pub subject_prefix: String,
    /// The relay's feed checkpoint name (and its leadership lock).
    pub checkpoint_name: String,
    /// Events per batch (pipelined publishes before the acks are awaited).
    pub batch_size: i64,
    /// JetStream's de-duplication window for `Nats-Msg-Id`.
    pub duplicate_window: Duration,
    /// How often a standby relay tries to take over.
    pub standby_retry: Duration,
    /// Longest pause between retries while NATS or PostgreSQL is down.
    pub max_backoff: Duration,
    /// How often the leader deletes erased subjects' published messages from the stream.
    pub erasure_sweep: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            stream_name: "CAREOPS_EVENTS".into(),
            subject_prefix: "careops.events".into(),
            checkpoint_name: "nats-relay".into(),
            batch_size: 1000,
            duplicate_window: Duration::from_secs(120),
            standby_retry: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            erasure_sweep: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event store: {0}")]
    Store(#[from] crate::error::StoreError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// Runs a relay candidate until `stop` is cancelled: stands by, takes over when no other
/// relay holds the lock, and publishes while it does.
pub async fn run(
    store: EventStore,
    nats: async_nats::Client,
    config: RelayConfig,
    stop: CancellationToken,
) {
    let jetstream = jetstream::new(nats);
    let mut backoff = Backoff::new(config.max_backoff);
    while !stop.is_cancelled() {
        match try_lead(&store, &jetstream, &config, &stop, &mut backoff).await {
            Ok(Leadership::NotLeader) => {
                tracing::trace!("another relay is publishing; standing by");
                sleep_or_stop(config.standby_retry, &stop).await;
            }
            Ok(Leadership::Stopped) => break,
            Err(error) => {
                let pause = backoff.next();
                tracing::warn!(%error, ?pause, "relay interrupted; retrying");
                sleep_or_stop(pause, &stop).await;
            }
        }
    }
    tracing::info!("relay stopped");
}

enum Leadership {
    NotLeader,
    Stopped,
}

async fn try_lead(
    store: &EventStore,
    jetstream: &jetstream::Context,
    config: &RelayConfig,
    stop: &CancellationToken,
    backoff: &mut Backoff,
) -> Result<Leadership, RelayError> {
    // The lock lives as long as this connection: if the process dies or the connection
    // drops, PostgreSQL releases it and a standby takes over.
    let mut lock_conn = PgConnection::connect_with(&store.pool().connect_options()).await?;
    let leader: bool =
        sqlx::query_scalar("select pg_try_advisory_lock(hashtext('careops.relay'), hashtext($1))")
            .bind(&config.checkpoint_name)
            .fetch_one(&mut lock_conn)
            .await?;
    if !leader {
        lock_conn.close().await.ok();
        return Ok(Leadership::NotLeader);
    }
    tracing::info!(stream = %config.stream_name, "relay took the lead");
    // The relay's bookkeeping (the checkpoint, the erasure index) commits asynchronously:
    // what a crash loses of it is a batch published again, which JetStream and every
    // consumer de-duplicate by event id, and which is then recorded again. A WAL flush wait
    // per batch would slow the relay and take disk time from the commands' durable commits.
    sqlx::query("set synchronous_commit = off")
        .execute(&mut lock_conn)
        .await?;

    let result = lead(store, jetstream, config, stop, backoff, &mut lock_conn).await;
    // Unlock explicitly on a clean stop; on errors, closing the connection releases it.
    if matches!(result, Ok(Leadership::Stopped)) {
        let _ = sqlx::query("select pg_advisory_unlock_all()")
            .execute(&mut lock_conn)
            .await;
    }
    lock_conn.close().await.ok();
    result
}

async fn lead(
    store: &EventStore,
    jetstream: &jetstream::Context,
    config: &RelayConfig,
    stop: &CancellationToken,
    backoff: &mut Backoff,
    lock_conn: &mut PgConnection,
) -> Result<Leadership, RelayError> {
    let mut stream_ready = false;
    let mut saved: FeedPosition =
        checkpoint::load(&mut *lock_conn, &config.checkpoint_name).await?;
    let mut subscription = store.subscribe(saved, config.batch_size);
    let mut sweep = tokio::time::interval(config.erasure_sweep);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if !stream_ready {
            ensure_stream(jetstream, config).await?;
            stream_ready = true;
        }
        let batch = tokio::select! {
            _ = stop.cancelled() => return Ok(Leadership::Stopped),
            _ = sweep.tick() => {
                match erasure::sweep(lock_conn, jetstream, &config.stream_name).await {
                    Ok(_) => {}
                    Err(error @ RelayError::Database(_)) => return Err(error),
                    // NATS trouble: the next sweep tries again.
                    Err(error) => tracing::warn!(%error, "deleting erased subjects' messages failed"),
                }
                continue;
            }
            batch = subscription.next_batch() => batch?,
        };
        let Some(last) = batch.last().map(|e| e.feed_position()) else {
            continue;
        };
        match publish_batch(jetstream, config, &batch).await {
            Ok(sequences) => {
                // Before the checkpoint moves: a crash in between republishes the batch
                // (same sequences, de-duplicated) and records it again.
                erasure::record(lock_conn, &config.stream_name, &batch, &sequences).await?;
                checkpoint::save(lock_conn, &config.checkpoint_name, last).await?;
                saved = last;
                backoff.reset();
                tracing::debug!(events = batch.len(), position = %last, "relayed");
            }
            Err(error) => {
                // Publish again from the last acknowledged batch; JetStream drops the
                // duplicates by message id.
                subscription.seek(saved);
                stream_ready = false;
                let pause = backoff.next();
                tracing::warn!(%error, ?pause, "publishing to NATS failed; will retry");
                // Keep proving leadership while waiting, so a dead lock connection is noticed.
                sqlx::query("select 1").execute(&mut *lock_conn).await?;
                sleep_or_stop(pause, stop).await;
                if stop.is_cancelled() {
                    return Ok(Leadership::Stopped);
                }
            }
        }
    }
}

async fn ensure_stream(
    jetstream: &jetstream::Context,
    config: &RelayConfig,
) -> Result<(), RelayError> {
    jetstream
        .get_or_create_stream(stream::Config {
            name: config.stream_name.clone(),
            subjects: vec![format!("{}.>", config.subject_prefix)],
            duplicate_window: config.duplicate_window,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| RelayError::Nats(e.to_string()))?;
    Ok(())
}

/// Sends every event of the batch, then waits for each acknowledgement in order; returns
/// the stream sequence of each event's message.
async fn publish_batch(
    jetstream: &jetstream::Context,
    config: &RelayConfig,
    batch: &[crate::RecordedEvent],
) -> Result<Vec<u64>, RelayError> {
    let mut acks = Vec::with_capacity(batch.len());
    for event in batch {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
        let body = cloudevent::body(event)?;
        let ack = jetstream
            .publish_with_headers(
                cloudevent::subject(&config.subject_prefix, event),
                headers,
                body.into(),
            )
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        acks.push(ack);
    }
    let mut sequences = Vec::with_capacity(acks.len());
    for ack in acks {
        sequences.push(
            ack.await
                .map_err(|e| RelayError::Nats(e.to_string()))?
                .sequence,
        );
    }
    Ok(sequences)
}

async fn sleep_or_stop(pause: Duration, stop: &CancellationToken) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(pause) => {}
    }
}

/// Exponential backoff with full jitter, from 100 ms up to a ceiling.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const START: Duration = Duration::from_millis(100);

    fn new(max: Duration) -> Self {
        Self {
            next: Self::START,
            max,
        }
    }

    fn next(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(self.max);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }

    fn reset(&mut self) {
        self.next = Self::START;
    }
}
