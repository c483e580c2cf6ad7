//! Recording outcomes: the notification's event (and the domain fact it settles, such as
//! `ReminderSent`), together with the row's new status, in one transaction.
//!
//! The `notification-<id>` stream is appended with `NoStream`, so if another replica already
//! recorded this notification (its lease ran out while this one was still sending) the
//! append conflicts and only the row is closed. A conflict on the booking or item stream (a
//! concurrent command) reloads it and decides again.

use chrono::{DateTime, Utc};
use domain::booking::{BookingAggregate, RecordFollowUpSent, RecordReminderSent};
use domain::inventory::{InventoryAggregate, RecordLowStockAlert};
use domain::notification::{
    NotificationAggregate, NotificationCommand, NotificationKind, RecordDailySummarySent,
    RecordFailed, RecordSent,
};
use domain::values::Minutes;
use domain::{Aggregate, DomainError, DomainEvent};
use event_store::{AppendError, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use sqlx::PgConnection;

use super::prepare::Fact;
use super::Dispatcher;
use crate::load::load;
use crate::metrics;
use crate::plan::summary;
use crate::table::{self, Row};

/// A delivery done, waiting to be recorded with the others of its round.
pub(super) struct Sent {
    pub row: Row,
    pub provider: &'static str,
    pub at: DateTime<Utc>,
}

/// How often a record is decided again after a conflict on a domain stream.
const RECORD_ATTEMPTS: usize = 5;

/// A recording that could not be completed (the row stays claimed; its lease expires and it
/// is tried again, where the notification stream prevents a second record).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("append: {0}")]
    Append(#[from] AppendError),
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error("domain: {0}")]
    Domain(#[from] DomainError),
}

fn new_events<E: DomainEvent>(events: &[E]) -> Vec<NewEvent> {
    events
        .iter()
        .map(|e| {
            let encoded = e.encode();
            NewEvent::new(encoded.event_type, encoded.schema_version, encoded.data)
        })
        .collect()
}

fn metadata(row: &Row) -> Metadata {
    Metadata {
        actor_role: Some("system".into()),
        causation_id: Some(row.cause_event_id.to_string()),
        correlation_id: row.correlation_id.clone(),
        ..Metadata::default()
    }
}

impl Dispatcher {
    /// Records a sent notification. `Ok(false)` when the claim was lost meanwhile.
    pub(super) async fn record_sent(
        &self,
        row: &Row,
        fact: Fact,
        provider: &'static str,
        at: DateTime<Utc>,
    ) -> Result<bool, RecordError> {
        let command: NotificationCommand = match fact {
            Fact::DailySummary { local_date } => RecordDailySummarySent {
                notification_id: row.id,
                workspace_id: row.workspace_id,
                local_date,
                channel: row.channel,
                provider: provider.to_string(),
                at,
            }
            .into(),
            _ => RecordSent {
                notification_id: row.id,
                workspace_id: row.workspace_id,
                kind: row.kind,
                channel: row.channel,
                recipient_role: row.role,
                recipient_id: row.recipient_id,
                subject_id: row.subject_id,
                provider: provider.to_string(),
                at,
            }
            .into(),
        };
        let events = NotificationAggregate::decide(&None, &command)?;
        let notification = StreamWrite::new(
            domain::notification::STREAM_TYPE,
            domain::notification::stream_id(row.id),
            ExpectedVersion::NoStream,
            new_events(&events),
        );
        for _ in 0..RECORD_ATTEMPTS {
            let mut writes = vec![notification.clone()];
            if let Some(write) = self.fact_write(fact, at).await? {
                writes.push(write);
            }
            let mut tx = self.pool.begin().await?;
            match self
                .store
                .append_in(&mut tx, row.workspace_id, &metadata(row), &writes)
                .await
            {
                Ok(_) => {}
                Err(AppendError::Conflict { stream_id, .. })
                    if stream_id == notification.stream_id =>
                {
                    tx.rollback().await?;
                    tracing::info!(notification_id = %row.id, "already recorded by another dispatcher");
                    let mut tx = self.pool.begin().await?;
                    let finished = table::finish(
                        &mut tx,
                        row,
                        "sent",
                        Some(provider),
                        None,
                        row.attempts + 1,
                        at,
                    )
                    .await?;
                    self.after_finish(&mut tx, row, at).await?;
                    tx.commit().await?;
                    return Ok(finished);
                }
                Err(AppendError::Conflict { .. }) => {
                    tx.rollback().await?;
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
            if !table::finish(
                &mut tx,
                row,
                "sent",
                Some(provider),
                None,
                row.attempts + 1,
                at,
            )
            .await?
            {
                tx.rollback().await?;
                tracing::warn!(notification_id = %row.id, "claim lost before recording; another dispatcher records it");
                return Ok(false);
            }
            self.after_finish(&mut tx, row, at).await?;
            tx.commit().await?;
            metrics::sent(row.kind, row.channel, provider);
            return Ok(true);
        }
        Err(AppendError::Invalid("kept conflicting with concurrent commands".into()).into())
    }

    /// Records many sent notifications without domain facts (idempotent deliveries of one
    /// round) in one transaction: one append per workspace and one update of the rows. Any
    /// conflict or lost claim falls back to recording them one by one.
    pub(super) async fn record_sent_many(&self, sent: Vec<Sent>) {
        for chunk in sent.chunks(200) {
            match self.try_record_many(chunk).await {
                Ok(true) => {
                    for s in chunk {
                        metrics::sent(s.row.kind, s.row.channel, s.provider);
                    }
                }
                Ok(false) | Err(_) => {
                    for s in chunk {
                        if let Err(error) =
                            self.record_sent(&s.row, Fact::None, s.provider, s.at).await
                        {
                            tracing::warn!(%error, notification_id = %s.row.id, "recording the outcome failed; the claim expires and it is tried again");
                        }
                    }
                }
            }
        }
    }

    async fn try_record_many(&self, chunk: &[Sent]) -> Result<bool, RecordError> {
        let mut by_workspace: std::collections::BTreeMap<uuid::Uuid, Vec<StreamWrite>> =
            std::collections::BTreeMap::new();
        for s in chunk {
            let events = NotificationAggregate::decide(
                &None,
                &RecordSent {
                    notification_id: s.row.id,
                    workspace_id: s.row.workspace_id,
                    kind: s.row.kind,
                    channel: s.row.channel,
                    recipient_role: s.row.role,
                    recipient_id: s.row.recipient_id,
                    subject_id: s.row.subject_id,
                    provider: s.provider.to_string(),
                    at: s.at,
                }
                .into(),
            )?;
            // One append per workspace; each event keeps its own cause and correlation.
            by_workspace.entry(s.row.workspace_id).or_default().push(
                StreamWrite::new(
                    domain::notification::STREAM_TYPE,
                    domain::notification::stream_id(s.row.id),
                    ExpectedVersion::NoStream,
                    new_events(&events),
                )
                .with_metadata(metadata(&s.row)),
            );
        }
        let mut tx = self.pool.begin().await?;
        let system = Metadata {
            actor_role: Some("system".into()),
            ..Metadata::default()
        };
        for (workspace_id, writes) in &by_workspace {
            if let Err(error) = self
                .store
                .append_in(&mut tx, *workspace_id, &system, writes)
                .await
            {
                tx.rollback().await?;
                return match error {
                    AppendError::Conflict { .. } => Ok(false),
                    other => Err(other.into()),
                };
            }
        }
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|s| s.row.id).collect();
        let tokens: Vec<uuid::Uuid> = chunk.iter().map(|s| s.row.claim_token).collect();
        let providers: Vec<&str> = chunk.iter().map(|s| s.provider).collect();
        let attempts: Vec<i32> = chunk
            .iter()
            .map(|s| i32::try_from(s.row.attempts + 1).unwrap_or(i32::MAX))
            .collect();
        let finished: Vec<DateTime<Utc>> = chunk.iter().map(|s| s.at).collect();
        let updated = sqlx::query(
            "update notifier.notifications n
             set status = 'sent', provider = t.provider, attempts = t.attempts,
                 finished_at = t.finished_at, claim_token = null, secret_nonce = null,
                 secret_sealed = null
             from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::timestamptz[])
                  as t(id, token, provider, attempts, finished_at)
             where n.id = t.id and n.claim_token = t.token and n.status = 'pending'",
        )
        .bind(&ids)
        .bind(&tokens)
        .bind(&providers)
        .bind(&attempts)
        .bind(&finished)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != chunk.len() as u64 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The domain fact's write, decided on the stream as it is now (`None` when there is
    /// nothing to record, e.g. the other channel already recorded the reminder).
    async fn fact_write(
        &self,
        fact: Fact,
        at: DateTime<Utc>,
    ) -> Result<Option<StreamWrite>, RecordError> {
        let (stream_type, stream_id, decided, version) = match fact {
            Fact::None | Fact::DailySummary { .. } => return Ok(None),
            Fact::Reminder {
                booking_id,
                offset_minutes,
            } => {
                let stream_id = domain::booking::stream_id(booking_id);
                let (state, version) = load::<BookingAggregate>(&self.store, &stream_id).await?;
                let decided = BookingAggregate::decide(
                    &state,
                    &RecordReminderSent {
                        offset_minutes: Minutes::new(offset_minutes),
                        at,
                    }
                    .into(),
                )
                .map(|e| new_events(&e));
                (domain::booking::STREAM_TYPE, stream_id, decided, version)
            }
            Fact::FollowUp { booking_id } => {
                let stream_id = domain::booking::stream_id(booking_id);
                let (state, version) = load::<BookingAggregate>(&self.store, &stream_id).await?;
                let decided = BookingAggregate::decide(&state, &RecordFollowUpSent { at }.into())
                    .map(|e| new_events(&e));
                (domain::booking::STREAM_TYPE, stream_id, decided, version)
            }
            Fact::LowStockAlert { item_id } => {
                let stream_id = domain::inventory::stream_id(item_id);
                let (state, version) = load::<InventoryAggregate>(&self.store, &stream_id).await?;
                let decided =
                    InventoryAggregate::decide(&state, &RecordLowStockAlert { at }.into())
                        .map(|e| new_events(&e));
                (domain::inventory::STREAM_TYPE, stream_id, decided, version)
            }
        };
        match decided {
            Ok(events) if !events.is_empty() => Ok(Some(StreamWrite::new(
                stream_type,
                stream_id,
                ExpectedVersion::Exact(version),
                events,
            ))),
            Ok(_) => Ok(None),
            // Already recorded (the other channel), or no longer applicable (the booking
            // changed status, the item was restocked meanwhile): the message went out all
            // the same and its own record says so.
            Err(error) => {
                tracing::debug!(%error, "domain fact not recorded");
                Ok(None)
            }
        }
    }

    /// Gives up on a notification: `NotificationFailed` (the owner's alert) and the row failed.
    pub(super) async fn record_failed(
        &self,
        row: &Row,
        reason: &str,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> Result<bool, RecordError> {
        let events = NotificationAggregate::decide(
            &None,
            &RecordFailed {
                notification_id: row.id,
                workspace_id: row.workspace_id,
                kind: row.kind,
                channel: Some(row.channel),
                subject_id: row.subject_id,
                reason: reason.to_string(),
                attempts,
                at,
            }
            .into(),
        )?;
        let write = StreamWrite::new(
            domain::notification::STREAM_TYPE,
            domain::notification::stream_id(row.id),
            ExpectedVersion::NoStream,
            new_events(&events),
        );
        let mut tx = self.pool.begin().await?;
        let recorded = match self
            .store
            .append_in(&mut tx, row.workspace_id, &metadata(row), &[write])
            .await
        {
            Ok(_) => true,
            Err(AppendError::Conflict { .. }) => {
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                false
            }
            Err(error) => return Err(error.into()),
        };
        let finished =
            table::finish(&mut tx, row, "failed", None, Some(reason), attempts, at).await?;
        if !finished {
            tx.rollback().await?;
            return Ok(false);
        }
        self.after_finish(&mut tx, row, at).await?;
        tx.commit().await?;
        if recorded {
            self.store.appended();
            metrics::failed(row.kind, row.channel);
            tracing::error!(notification_id = %row.id, kind = row.kind.as_str(), %reason, attempts, "notification failed; owner alerted");
        }
        Ok(finished)
    }

    /// Closes a row that is not wanted any more.
    pub(super) async fn record_skipped(
        &self,
        row: &Row,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RecordError> {
        let mut tx = self.pool.begin().await?;
        let finished = table::finish(
            &mut tx,
            row,
            "skipped",
            None,
            Some(reason),
            row.attempts,
            at,
        )
        .await?;
        if !finished {
            tx.rollback().await?;
            return Ok(false);
        }
        self.after_finish(&mut tx, row, at).await?;
        tx.commit().await?;
        tracing::debug!(notification_id = %row.id, kind = row.kind.as_str(), %reason, "notification skipped");
        Ok(true)
    }

    /// What follows a finished row in the same transaction: the next daily summary.
    async fn after_finish(
        &self,
        conn: &mut PgConnection,
        row: &Row,
        at: DateTime<Utc>,
    ) -> Result<(), RecordError> {
        if row.kind != NotificationKind::DailySummary {
            return Ok(());
        }
        let (state, _) = load::<domain::workspace::WorkspaceAggregate>(
            &self.store,
            &domain::workspace::stream_id(row.workspace_id),
        )
        .await?;
        let Some(ws) = state else {
            return Ok(());
        };
        let after = at.max(row.due_at);
        summary::schedule(
            conn,
            ws.id,
            ws.owner_id,
            ws.timezone.tz(),
            ws.settings.daily_summary_hour,
            after,
            row.cause_event_id,
        )
        .await?;
        Ok(())
    }
}
