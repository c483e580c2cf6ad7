//! `GET /bookings`, `GET /bookings/{id}`: the bookings calendar, by staff and by local day.

use chrono::{DateTime, NaiveDate, Utc};
use domain::booking::BookingStatus;
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

/// A booking as the API shows it. `start`/`end` exclude buffers.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Booking)]
pub struct BookingView {
    pub id: Uuid,
    /// `pending`, `confirmed`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub contact_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub price_cents: i64,
    pub currency: String,
    /// Null when absent or erased.
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The booking stream's version (the `ETag`).
    #[serde(skip)]
    pub version: i64,
}

/// `GET /bookings` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BookingFilter {
    /// Bookings starting at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Bookings starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Bookings starting on this local day in the workspace's zone.
    pub date: Option<NaiveDate>,
    pub staff_id: Option<Uuid>,
    pub status: Option<BookingStatus>,
    pub contact_id: Option<Uuid>,
    pub page: PageRequest,
}

pub(crate) const COLUMNS: &str = "b.id, b.status, b.service_id, b.staff_id, b.contact_id, \
    b.start_at as \"start\", b.end_at as \"end\", b.price_cents, b.currency, b.notes, \
    b.created_at, b.version";

/// Bookings in start order (staff: only their own).
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &BookingFilter,
) -> Result<Page<BookingView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q =
        QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from rm_bookings.bookings b"));
    if filter.date.is_some() {
        q.push(" join rm_workspaces.workspaces w on w.workspace_id = b.workspace_id");
    }
    q.push(" where b.workspace_id = ")
        .push_bind(scope.workspace_id);
    if let Some(staff) = scope.staff_member() {
        q.push(" and b.staff_id = ").push_bind(staff);
    }
    if let Some(from) = filter.from {
        q.push(" and b.start_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(" and b.start_at < ").push_bind(to);
    }
    if let Some(date) = filter.date {
        q.push(" and (b.start_at at time zone w.timezone)::date = ")
            .push_bind(date);
    }
    if let Some(staff_id) = filter.staff_id {
        q.push(" and b.staff_id = ").push_bind(staff_id);
    }
    if let Some(status) = filter.status {
        q.push(" and b.status = ").push_bind(status.as_str());
    }
    if let Some(contact_id) = filter.contact_id {
        q.push(" and b.contact_id = ").push_bind(contact_id);
    }
    if let Some(c) = cursor {
        q.push(" and (b.start_at, b.id) > (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" order by b.start_at, b.id limit ")
        .push_bind(limit + 1);
    let mut tx = begin(pool, scope.workspace_id).await?;
    let rows: Vec<BookingView> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Page::from_rows(rows, limit, |b| Cursor::new(b.start, b.id)))
}

/// One booking; `None` when unknown, of another workspace, or outside a staff member's slice.
pub async fn get(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<BookingView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<BookingView> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_bookings.bookings b
         where b.workspace_id = $1 and b.id = $2 and ($3::uuid is null or b.staff_id = $3)"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .bind(scope.staff_member())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}
