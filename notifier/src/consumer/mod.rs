//! The event consumer: a durable JetStream pull consumer shared by every notifier replica.
//!
//! JetStream hands each message to one replica. The handler records the event id in
//! `notifier.processed_events` in the same transaction as the rows the event plans, and acks
//! only after that commit: a crash before the ack means a redelivery, which finds the id and
//! plans nothing again. Events no reaction needs are acked without a write.
//!
//! Dead letters: an event whose handling keeps failing is retried with a growing delay
//! (`Nak` with delay); at its `dead_letter_after`-th delivery it is set aside in
//! `notifier.dead_letters`, a `NotificationFailed` (kind `dead_letter`) raises an owner alert,
//! and it is acked, so one bad event never blocks the others.

pub mod cloudevent;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use domain::notification::{NotificationAggregate, NotificationKind, RecordFailed};
use domain::{Aggregate, DomainEvent};
use event_store::{EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::ConsumerConfig;
use crate::ids::dead_letter_id;
use crate::plan::{Incoming, PlanError, Planner};
use crate::table;

/// Consumes events and plans notifications.
pub struct Consumer {
    pub(crate) pool: PgPool,
    pub(crate) store: EventStore,
    pub(crate) planner: Planner,
    pub(crate) config: ConsumerConfig,
    pub(crate) wake: Arc<Notify>,
    pub(crate) clock: SharedClock,
}

impl PlanError {
    /// A short explanation without personal data (for the owner's alert).
    pub fn reason(&self) -> String {
        match self {
            PlanError::Database(_) => "the database answered with an error".into(),
            PlanError::Load(_) => "a stream of the event store does not decode".into(),
            PlanError::Payload(_) => "the event's payload does not decode".into(),
            PlanError::Missing(what) => format!("missing: {what}"),
            PlanError::Secret(_) => "a hand-over secret cannot be opened with this key".into(),
        }
    }
}

impl Consumer {
    /// Consumes until `stop`, reconnecting with backoff when NATS or the stream is away.
    pub async fn run(self, nats: async_nats::Client, stop: CancellationToken) {
        let jetstream = jetstream::new(nats);
        let mut pause = Duration::from_millis(200);
        while !stop.is_cancelled() {
            match self.consume(&jetstream, &stop).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, ?pause, "event consumer interrupted; reconnecting");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
        }
        tracing::info!("event consumer stopped");
    }

    async fn consume(
        &self,
        jetstream: &jetstream::Context,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let subjects = format!("{}.>", self.config.subject_prefix);
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: self.config.stream_name.clone(),
                subjects: vec![subjects.clone()],
                duplicate_window: Duration::from_secs(120),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("stream {}: {e}", self.config.stream_name))?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                &self.config.durable_name,
                consumer::pull::Config {
                    durable_name: Some(self.config.durable_name.clone()),
                    description: Some("CareOps notifier (shared by its replicas)".into()),
                    deliver_policy: consumer::DeliverPolicy::All,
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    filter_subject: subjects,
                    max_ack_pending: 10_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("consumer {}: {e}", self.config.durable_name))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(200)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("pulling messages: {e}"))?;
        tracing::info!(stream = %self.config.stream_name, consumer = %self.config.durable_name, "consuming events");
        loop {
            let next = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                next = messages.next() => next,
            };
            let Some(message) = next else {
                anyhow::bail!("the message stream ended");
            };
            let message = message.map_err(|e| anyhow::anyhow!("receiving: {e}"))?;
            self.handle(message).await;
        }
    }

    /// Handles one message and acknowledges it (or asks for a later redelivery).
    async fn handle(&self, message: jetstream::Message) {
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        let incoming = match cloudevent::parse(&message.payload) {
            Ok(incoming) => incoming,
            Err(error) => {
                tracing::warn!(%error, subject = %message.subject, "not a CareOps event; skipped");
                ack(&message, AckKind::Ack).await;
                return;
            }
        };
        if !Planner::wants(&incoming.stream_type, &incoming.event_type) {
            ack(&message, AckKind::Ack).await;
            return;
        }
        match self.apply(&incoming).await {
            Ok(planned) => {
                ack(&message, AckKind::Ack).await;
                if planned > 0 {
                    self.wake.notify_waiters();
                    self.wake.notify_one();
                }
            }
            Err(error) if delivered >= self.config.dead_letter_after => {
                tracing::error!(%error, event_id = %incoming.event_id, delivered, "event keeps failing; setting it aside");
                match self
                    .dead_letter(&incoming, message.subject.as_str(), delivered, &error)
                    .await
                {
                    Ok(()) => ack(&message, AckKind::Ack).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "setting the event aside failed; redelivering");
                        ack(&message, AckKind::Nak(Some(Duration::from_secs(5)))).await;
                    }
                }
            }
            Err(error) => {
                let delay = Duration::from_millis(200 * 2u64.pow(delivered.clamp(1, 8) as u32 - 1));
                tracing::warn!(%error, event_id = %incoming.event_id, delivered, ?delay, "handling the event failed; redelivering later");
                ack(&message, AckKind::Nak(Some(delay))).await;
            }
        }
    }

    /// Plans the event's notifications and records it as processed, in one transaction.
    #[tracing::instrument(skip_all, fields(event_id = %incoming.event_id, event_type = %incoming.event_type, workspace_id = %incoming.workspace_id))]
    pub async fn apply(&self, incoming: &Incoming) -> Result<u64, PlanError> {
        let mut tx = self.pool.begin().await?;
        if !table::mark_processed(&mut tx, incoming.event_id).await? {
            tx.rollback().await?;
            tracing::debug!(event_id = %incoming.event_id, "already processed");
            return Ok(0);
        }
        let planned = self.planner.plan(&mut tx, incoming).await?;
        tx.commit().await?;
        Ok(planned)
    }

    async fn dead_letter(
        &self,
        incoming: &Incoming,
        subject: &str,
        delivered: i64,
        error: &PlanError,
    ) -> anyhow::Result<()> {
        let reason = format!(
            "a {} event could not be handled after {delivered} deliveries: {}",
            incoming.event_type,
            error.reason()
        );
        let id = dead_letter_id(incoming.event_id);
        let events = NotificationAggregate::decide(
            &None,
            &RecordFailed {
                notification_id: id,
                workspace_id: incoming.workspace_id,
                kind: NotificationKind::DeadLetter,
                channel: None,
                subject_id: incoming.event_id,
                reason: reason.clone(),
                attempts: u32::try_from(delivered).unwrap_or(u32::MAX),
                at: self.clock.now(),
            }
            .into(),
        )?;
        let write = StreamWrite::new(
            domain::notification::STREAM_TYPE,
            domain::notification::stream_id(id),
            ExpectedVersion::NoStream,
            events
                .iter()
                .map(|e| {
                    let encoded = e.encode();
                    NewEvent::new(encoded.event_type, encoded.schema_version, encoded.data)
                })
                .collect(),
        );
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into notifier.dead_letters (event_id, workspace_id, subject, deliveries, error)
             values ($1, $2, $3, $4, $5) on conflict (event_id) do nothing",
        )
        .bind(incoming.event_id)
        .bind(incoming.workspace_id)
        .bind(subject)
        .bind(delivered)
        .bind(&reason)
        .execute(&mut *tx)
        .await?;
        table::mark_processed(&mut tx, incoming.event_id).await?;
        let metadata = Metadata {
            actor_role: Some("system".into()),
            causation_id: Some(incoming.event_id.to_string()),
            correlation_id: incoming.correlation_id.clone(),
            ..Metadata::default()
        };
        // Set aside before (a crash between commit and ack): the alert exists already.
        let recorded = self.store.stream_version(&write.stream_id).await? > 0;
        if !recorded {
            self.store
                .append_in(&mut tx, incoming.workspace_id, &metadata, &[write])
                .await?;
        }
        tx.commit().await?;
        self.store.appended();
        Ok(())
    }
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        // The message comes back after `ack_wait`; the processed-events record makes the
        // redelivery a no-op.
        tracing::warn!(%error, "acknowledging a message failed");
    }
}
