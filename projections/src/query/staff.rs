//! `GET /staff`, `GET /staff/{id}`, `GET /staff/{id}/availability`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::schedule::{DayHours, WeeklyHours};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope, Viewer};

/// A staff member's permissions (`{bookings, inbox, contacts, inventory, forms}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PermissionsView {
    pub bookings: bool,
    pub inbox: bool,
    pub contacts: bool,
    pub inventory: bool,
    pub forms: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = StaffMember)]
pub struct StaffView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `owner` or `staff`.
    pub role: String,
    pub permissions: PermissionsView,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Uuid,
    name: Option<String>,
    email: Option<String>,
    role: String,
    permissions: Json<PermissionsView>,
    active: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<Row> for StaffView {
    fn from(r: Row) -> Self {
        StaffView {
            id: r.user_id,
            name: r.name,
            email: r.email,
            role: r.role,
            permissions: r.permissions.0,
            is_active: r.active,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffFilter {
    /// Deactivated staff too (honoured for owners only).
    pub include_inactive: bool,
    pub page: PageRequest,
}

const COLUMNS: &str = "user_id, name, email, role, permissions, active, created_at, version";

pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &StaffFilter,
) -> Result<Page<StaffView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from rm_staff.staff where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if !(filter.include_inactive && scope.viewer == Viewer::Owner) {
        q.push(" and active");
    }
    if let Some(c) = cursor {
        q.push(" and (created_at, user_id) > (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" order by created_at, user_id limit ")
        .push_bind(limit + 1);
    let mut tx = begin(pool, scope.workspace_id).await?;
    let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let rows = rows.into_iter().map(StaffView::from).collect();
    Ok(Page::from_rows(rows, limit, |s: &StaffView| {
        Cursor::new(s.created_at, s.id)
    }))
}

/// One staff member (deactivated ones included: their history stays).
pub async fn get(pool: &PgPool, scope: &Scope, id: Uuid) -> Result<Option<StaffView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_staff.staff where workspace_id = $1 and user_id = $2"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(StaffView::from))
}

/// Weekly hours: `{weekday: 1-7, start: "HH:MM", end: "HH:MM"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WeeklyView {
    pub weekday: u32,
    pub start: String,
    pub end: String,
}

/// A dated exception: `{date, closed: true}` or `{date, start, end}` (one per open range).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExceptionView {
    pub date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = StaffAvailability)]
pub struct AvailabilityView {
    pub staff_id: Uuid,
    pub weekly: Vec<WeeklyView>,
    pub exceptions: Vec<ExceptionView>,
    #[serde(skip)]
    pub version: i64,
}

/// A staff member's availability; `None` when the staff member is unknown. A known staff
/// member without a schedule has empty availability.
pub async fn availability(
    pool: &PgPool,
    scope: &Scope,
    staff_id: Uuid,
) -> Result<Option<AvailabilityView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let known: Option<Uuid> = sqlx::query_scalar(
        "select user_id from rm_staff.staff where workspace_id = $1 and user_id = $2",
    )
    .bind(scope.workspace_id)
    .bind(staff_id)
    .fetch_optional(&mut *tx)
    .await?;
    if known.is_none() {
        return Ok(None);
    }
    let weekly: Option<(Json<Vec<WeeklyHours>>, i64)> = sqlx::query_as(
        "select weekly, version from rm_staff.availability where workspace_id = $1 and staff_id = $2",
    )
    .bind(scope.workspace_id)
    .bind(staff_id)
    .fetch_optional(&mut *tx)
    .await?;
    let exceptions: Vec<(NaiveDate, Json<DayHours>)> = sqlx::query_as(
        "select date, hours from rm_staff.availability_exceptions
         where workspace_id = $1 and staff_id = $2 order by date",
    )
    .bind(scope.workspace_id)
    .bind(staff_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let (weekly, version) = weekly.map(|(w, v)| (w.0, v)).unwrap_or_default();
    Ok(Some(AvailabilityView {
        staff_id,
        weekly: weekly
            .iter()
            .map(|w| WeeklyView {
                weekday: w.weekday().number_from_monday(),
                start: w.hours().start().to_string(),
                end: w.hours().end().to_string(),
            })
            .collect(),
        exceptions: exceptions
            .into_iter()
            .flat_map(|(date, hours)| match hours.0 {
                DayHours::Closed => vec![ExceptionView {
                    date,
                    closed: Some(true),
                    start: None,
                    end: None,
                }],
                DayHours::Open(ranges) => ranges
                    .iter()
                    .map(|r| ExceptionView {
                        date,
                        closed: None,
                        start: Some(r.start().to_string()),
                        end: Some(r.end().to_string()),
                    })
                    .collect(),
            })
            .collect(),
        version,
    }))
}
