//! `GET /dashboard/alerts`: the open alerts of a workspace.
//!
//! Two sources: stored alerts (`rm_alerts.alerts`: low stock, later failed notifications)
//! that are not resolved, and time-based alerts computed at query time with the caller's
//! `now` (a conversation unanswered for more than 24 hours, a form request pending for
//! more than 48 hours). A computed alert's id is derived from its subject (UUID v5), so it
//! is stable across queries and rebuilds and can be dismissed; dismissals live in
//! `rm_alerts.dismissals` and hide any alert by id.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::inbox::UNANSWERED;
use super::{begin, Page, PageRequest, QueryError, Scope};

/// How long a contact may wait for an answer before an alert.
pub const UNANSWERED_AFTER: Duration = Duration::hours(24);
/// How long a form request may stay pending before it is overdue.
pub const FORM_OVERDUE_AFTER: Duration = Duration::hours(48);

/// The namespace of computed alert ids.
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x6a1e_7c0e_5b9d_4b8e_9f3a_c2e4_a1d0_0001);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    /// `low_stock`, `unanswered_message`, `form_overdue` (and `notification_failed` later).
    pub kind: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub subject_id: Option<Uuid>,
}

/// The id of a computed alert about `subject` in the state that started at `since`.
pub fn computed_alert_id(kind: &str, subject: Uuid, since: DateTime<Utc>) -> Uuid {
    let name = format!("{kind}:{subject}:{}", since.timestamp_micros());
    Uuid::new_v5(&ALERT_NAMESPACE, name.as_bytes())
}

/// Open alerts, newest first (at most `limit`; the list is short, so there is no next page).
pub async fn open(
    pool: &PgPool,
    scope: &Scope,
    now: DateTime<Utc>,
    page: &PageRequest,
) -> Result<Page<AlertView>, QueryError> {
    let mut alerts = all_open(pool, scope, now).await?;
    alerts.truncate(usize::try_from(page.limit()).unwrap_or(usize::MAX));
    Ok(Page {
        items: alerts,
        next_cursor: None,
    })
}

/// Every open alert of the workspace, newest first.
pub async fn all_open(
    pool: &PgPool,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<AlertView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let mut alerts: Vec<AlertView> = sqlx::query_as(
        "select id, kind, severity, message, created_at, subject_id from rm_alerts.alerts
         where workspace_id = $1 and resolved_at is null",
    )
    .bind(scope.workspace_id)
    .fetch_all(&mut *tx)
    .await?;
    let waiting: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(&format!(
        "select id, unanswered_since from rm_inbox.conversations
         where workspace_id = $1 and {UNANSWERED} and unanswered_since <= $2"
    ))
    .bind(scope.workspace_id)
    .bind(now - UNANSWERED_AFTER)
    .fetch_all(&mut *tx)
    .await?;
    alerts.extend(waiting.into_iter().map(|(id, since)| AlertView {
        id: computed_alert_id("unanswered_message", id, since),
        kind: "unanswered_message".to_owned(),
        severity: "warning".to_owned(),
        message: "A message has been waiting for an answer for more than 24 hours".to_owned(),
        created_at: since + UNANSWERED_AFTER,
        subject_id: Some(id),
    }));
    let overdue: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select id, requested_at from rm_forms.requests
         where workspace_id = $1 and status = 'pending' and requested_at <= $2",
    )
    .bind(scope.workspace_id)
    .bind(now - FORM_OVERDUE_AFTER)
    .fetch_all(&mut *tx)
    .await?;
    alerts.extend(overdue.into_iter().map(|(id, since)| AlertView {
        id: computed_alert_id("form_overdue", id, since),
        kind: "form_overdue".to_owned(),
        severity: "info".to_owned(),
        message: "A form request has been pending for more than 48 hours".to_owned(),
        created_at: since + FORM_OVERDUE_AFTER,
        subject_id: Some(id),
    }));
    let ids: Vec<Uuid> = alerts.iter().map(|a| a.id).collect();
    let dismissed: Vec<Uuid> = sqlx::query_scalar(
        "select alert_id from rm_alerts.dismissals where workspace_id = $1 and alert_id = any($2)",
    )
    .bind(scope.workspace_id)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    alerts.retain(|a| !dismissed.contains(&a.id));
    alerts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(alerts)
}
