//! The `notifier.notifications` table: pending work derived from events, and its claims.
//!
//! Rows are planned by the event handler (inserted, moved, dropped in the transaction that
//! also records the event as processed) and claimed by dispatchers with
//! `FOR UPDATE SKIP LOCKED`. A claim moves `next_attempt_at` to the end of a lease and sets a
//! fresh `claim_token`; every later write of the claimant checks that token, so a replica
//! whose lease ran out (it stalled, another took over) cannot overwrite the other's outcome.

use chrono::{DateTime, NaiveDate, Utc};
use domain::notification::{Channel, NotificationKind, RecipientRole};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row as _};
use uuid::Uuid;

/// Non-personal parameters of a notification (the `details` column).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// Reminders: minutes before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_minutes: Option<u32>,
    /// Booking timers: the start they were planned for (a later reschedule makes them stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// Daily summary: the local date it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_date: Option<NaiveDate>,
    /// Inbox messages: the conversation holding the message (`subject_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Uuid>,
}

/// A notification to plan.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub role: RecipientRole,
    pub recipient_id: Option<Uuid>,
    pub subject_id: Uuid,
    pub cause_event_id: Uuid,
    /// The cause's correlation id (the originating request), for the recorded events.
    pub correlation_id: Option<String>,
    pub details: Details,
    /// (nonce, sealed) of a secret bound to the row id.
    pub secret: Option<(Vec<u8>, Vec<u8>)>,
    pub due_at: DateTime<Utc>,
}

/// A claimed notification.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub role: RecipientRole,
    pub recipient_id: Option<Uuid>,
    pub subject_id: Uuid,
    pub cause_event_id: Uuid,
    pub correlation_id: Option<String>,
    pub details: Details,
    pub secret: Option<(Vec<u8>, Vec<u8>)>,
    pub due_at: DateTime<Utc>,
    /// Tries before this one.
    pub attempts: u32,
    pub claim_token: Uuid,
    /// When this process claimed it (to renew a lease that is running out).
    pub claimed_at: std::time::Instant,
}

pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

fn parse_channel(name: &str) -> Option<Channel> {
    match name {
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => None,
    }
}

/// Inserts rows (one statement); ids already present (a redelivered event) are left alone.
/// Returns how many were new.
pub async fn insert(conn: &mut PgConnection, rows: &[NewRow]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut workspaces = Vec::with_capacity(rows.len());
    let mut kinds = Vec::with_capacity(rows.len());
    let mut channels = Vec::with_capacity(rows.len());
    let mut roles = Vec::with_capacity(rows.len());
    let mut recipients = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len());
    let mut causes = Vec::with_capacity(rows.len());
    let mut correlations = Vec::with_capacity(rows.len());
    let mut details = Vec::with_capacity(rows.len());
    let mut nonces = Vec::with_capacity(rows.len());
    let mut sealed = Vec::with_capacity(rows.len());
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        ids.push(row.id);
        workspaces.push(row.workspace_id);
        kinds.push(row.kind.as_str());
        channels.push(channel_name(row.channel));
        roles.push(row.role.as_str());
        recipients.push(row.recipient_id);
        subjects.push(row.subject_id);
        causes.push(row.cause_event_id);
        correlations.push(row.correlation_id.clone());
        details.push(serde_json::to_value(&row.details).unwrap_or_default());
        nonces.push(row.secret.as_ref().map(|(n, _)| n.clone()));
        sealed.push(row.secret.as_ref().map(|(_, s)| s.clone()));
        due.push(row.due_at);
    }
    let inserted = sqlx::query(
        "insert into notifier.notifications
            (id, workspace_id, kind, channel, recipient_role, recipient_id, subject_id,
             cause_event_id, details, secret_nonce, secret_sealed, due_at, next_attempt_at,
             correlation_id)
         select id, workspace_id, kind, channel, recipient_role, recipient_id, subject_id,
                cause_event_id, details, secret_nonce, secret_sealed, due_at, due_at,
                correlation_id
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                     $7::uuid[], $8::uuid[], $9::jsonb[], $10::bytea[], $11::bytea[],
                     $12::timestamptz[], $13::text[])
              as t(id, workspace_id, kind, channel, recipient_role, recipient_id, subject_id,
                   cause_event_id, details, secret_nonce, secret_sealed, due_at,
                   correlation_id)
         on conflict (id) do nothing",
    )
    .bind(&ids)
    .bind(&workspaces)
    .bind(&kinds)
    .bind(&channels)
    .bind(&roles)
    .bind(&recipients)
    .bind(&subjects)
    .bind(&causes)
    .bind(&details)
    .bind(&nonces)
    .bind(&sealed)
    .bind(&due)
    .bind(&correlations)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted)
}

/// Drops the pending (unclaimed or claimed, not yet finished) rows of some kinds about one
/// subject: a cancelled booking's timers, a rescheduled booking's old reminders.
pub async fn drop_pending(
    conn: &mut PgConnection,
    subject_id: Uuid,
    kinds: &[NotificationKind],
) -> Result<u64, sqlx::Error> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(sqlx::query(
        "delete from notifier.notifications
         where subject_id = $1 and kind = any($2) and status = 'pending'",
    )
    .bind(subject_id)
    .bind(&kinds)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Drops a workspace's pending rows of one kind (its daily summary, to plan it anew).
pub async fn drop_pending_of_workspace(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    kind: NotificationKind,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "delete from notifier.notifications
         where workspace_id = $1 and kind = $2 and status = 'pending'",
    )
    .bind(workspace_id)
    .bind(kind.as_str())
    .execute(conn)
    .await?
    .rows_affected())
}

/// Whether a row with this id exists (in any status).
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from notifier.notifications where id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The due query: claims up to `limit` pending rows due at `now`, oldest first, skipping
/// rows another dispatcher is claiming, and leases them until `now + lease`.
pub const CLAIM_SQL: &str = "
with due as (
    select id from notifier.notifications
    where status = 'pending' and next_attempt_at <= $1
    order by next_attempt_at
    limit $2
    for update skip locked
)
update notifier.notifications n
set next_attempt_at = $3, claim_token = $4
from due
where n.id = due.id
returning n.id, n.workspace_id, n.kind, n.channel, n.recipient_role, n.recipient_id,
          n.subject_id, n.cause_event_id, n.correlation_id, n.details, n.secret_nonce,
          n.secret_sealed, n.due_at, n.attempts";

/// Claims due rows (see [`CLAIM_SQL`]). Rows whose kind, channel or role this version does
/// not know are skipped, never claimed forever.
pub async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    let token = Uuid::now_v7();
    let rows = sqlx::query(CLAIM_SQL)
        .bind(now)
        .bind(limit)
        .bind(lease_until)
        .bind(token)
        .fetch_all(pool)
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let channel: String = r.try_get("channel")?;
        let role: String = r.try_get("recipient_role")?;
        let id: Uuid = r.try_get("id")?;
        let (Some(kind), Some(channel), Some(role)) = (
            NotificationKind::parse(&kind),
            parse_channel(&channel),
            RecipientRole::parse(&role),
        ) else {
            tracing::warn!(%id, kind, "notification of an unknown kind skipped");
            continue;
        };
        let details: sqlx::types::Json<Details> = r.try_get("details")?;
        let nonce: Option<Vec<u8>> = r.try_get("secret_nonce")?;
        let sealed: Option<Vec<u8>> = r.try_get("secret_sealed")?;
        let attempts: i32 = r.try_get("attempts")?;
        claimed.push(Row {
            id,
            workspace_id: r.try_get("workspace_id")?,
            kind,
            channel,
            role,
            recipient_id: r.try_get("recipient_id")?,
            subject_id: r.try_get("subject_id")?,
            cause_event_id: r.try_get("cause_event_id")?,
            correlation_id: r.try_get("correlation_id")?,
            details: details.0,
            secret: nonce.zip(sealed),
            due_at: r.try_get("due_at")?,
            attempts: u32::try_from(attempts).unwrap_or(0),
            claim_token: token,
            claimed_at: std::time::Instant::now(),
        });
    }
    Ok(claimed)
}

/// Finishes a claimed row (`sent`, `failed` or `skipped`); `false` when the claim was lost.
pub async fn finish(
    conn: &mut PgConnection,
    row: &Row,
    status: &str,
    provider: Option<&str>,
    error: Option<&str>,
    attempts: u32,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update notifier.notifications
         set status = $3, provider = $4, last_error = $5, attempts = $6, finished_at = $7,
             claim_token = null, secret_nonce = null, secret_sealed = null
         where id = $1 and claim_token = $2 and status = 'pending'",
    )
    .bind(row.id)
    .bind(row.claim_token)
    .bind(status)
    .bind(provider)
    .bind(error)
    .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Extends a claim's lease right before sending; `false` when the claim was lost (the
/// lease ran out and another dispatcher took the row), in which case nothing is sent.
pub async fn renew(pool: &PgPool, row: &Row, until: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update notifier.notifications set next_attempt_at = $3
         where id = $1 and claim_token = $2 and status = 'pending'",
    )
    .bind(row.id)
    .bind(row.claim_token)
    .bind(until)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Releases a claimed row to be tried again at `next` (after a failure, or when its due time
/// moved).
pub async fn release(
    pool: &PgPool,
    row: &Row,
    next: DateTime<Utc>,
    due_at: DateTime<Utc>,
    attempts: u32,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update notifier.notifications
         set next_attempt_at = $3, due_at = $4, attempts = $5, last_error = coalesce($6, last_error),
             claim_token = null
         where id = $1 and claim_token = $2 and status = 'pending'",
    )
    .bind(row.id)
    .bind(row.claim_token)
    .bind(next)
    .bind(due_at)
    .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
    .bind(error)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Records an event id as handled; `false` when it already was (a redelivery).
pub async fn mark_processed(conn: &mut PgConnection, event_id: Uuid) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into notifier.processed_events (event_id) values ($1) on conflict do nothing",
    )
    .bind(event_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Forgets handled event ids older than `days` (the notification streams still refuse a
/// second send of anything older).
pub async fn prune_processed(pool: &PgPool, days: i32) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "delete from notifier.processed_events where processed_at < now() - make_interval(days => $1)",
    )
    .bind(days)
    .execute(pool)
    .await?
    .rows_affected())
}
