//! `GET /public/{slug}` and `GET /public/{slug}/availability`: what the public booking page
//! shows, and what its free slots are computed from. Only active workspaces are found; an
//! inactive or unknown slug is `None` (404).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use domain::schedule::{AvailabilityException, DayHours, Schedule, WeeklyHours};
use domain::values::{Minutes, TimeRange, TimeZone};
use domain::workspace::WorkspaceSettings;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{begin, QueryError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = PublicPageService)]
pub struct PublicService {
    pub id: Uuid,
    pub name: String,
    pub duration_minutes: i32,
    pub price_cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = PublicPageStaff)]
pub struct PublicStaff {
    pub id: Uuid,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicWorkspace {
    /// The workspace id (for the lead's availability and booking handlers).
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub currency: String,
    /// Bookable services (not archived).
    pub services: Vec<PublicService>,
    /// Staff who take bookings: active, with weekly hours.
    pub staff: Vec<PublicStaff>,
}

/// The public data of the active workspace with this slug.
pub async fn by_slug(pool: &PgPool, slug: &str) -> Result<Option<PublicWorkspace>, QueryError> {
    // Resolving the slug is the one read not confined to a workspace (there is none yet).
    let found: Option<(Uuid, String, String, String, String)> = sqlx::query_as(
        "select workspace_id, name, slug, timezone, currency from rm_workspaces.workspaces
         where slug = $1 and is_active",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await?;
    let Some((id, name, slug, timezone, currency)) = found else {
        return Ok(None);
    };
    let mut tx = begin(pool, id).await?;
    let services: Vec<PublicService> = sqlx::query_as(
        "select id, name, duration_minutes, price_cents, currency from rm_services.services
         where workspace_id = $1 and not archived order by created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let staff: Vec<PublicStaff> = sqlx::query_as(
        "select s.user_id as id, s.name from rm_staff.staff s
         join rm_staff.availability a on a.staff_id = s.user_id
         where s.workspace_id = $1 and s.active and jsonb_array_length(a.weekly) > 0
         order by s.created_at, s.user_id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(PublicWorkspace {
        id,
        name,
        slug,
        timezone,
        currency,
        services,
        staff,
    }))
}

/// The active workspace behind a slug, as the public availability and booking flow read it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingPage {
    pub workspace_id: Uuid,
    pub timezone: TimeZone,
    /// Slot step, minimum notice and booking horizon among them.
    pub settings: WorkspaceSettings,
}

/// The booking settings of the active workspace with this slug (`None`: unknown or inactive).
pub async fn booking_page(pool: &PgPool, slug: &str) -> Result<Option<BookingPage>, QueryError> {
    // Like `by_slug`, the one read not confined to a workspace (there is none yet).
    let found: Option<(Uuid, String, Json<WorkspaceSettings>)> = sqlx::query_as(
        "select workspace_id, timezone, settings from rm_workspaces.workspaces
         where slug = $1 and is_active",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await?;
    let Some((workspace_id, timezone, settings)) = found else {
        return Ok(None);
    };
    Ok(Some(BookingPage {
        workspace_id,
        timezone: TimeZone::parse(&timezone).map_err(corrupt)?,
        settings: settings.0,
    }))
}

/// What the free slots of one service on some local dates are computed from: the domain's
/// slot maths (`domain::slots::free_slots`) is fed these, so the answer is the one the
/// command side's streams would give.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotInputs {
    pub duration: Minutes,
    pub buffer_before: Minutes,
    pub buffer_after: Minutes,
    /// The staff who take bookings (active, with weekly hours), in id order.
    pub staff: Vec<BookableStaff>,
}

/// One staff member's hours and what their calendar holds around the asked dates.
#[derive(Debug, Clone, PartialEq)]
pub struct BookableStaff {
    pub staff_id: Uuid,
    /// Weekly hours, and the exceptions on the dates of the calendar days read.
    pub schedule: Schedule,
    /// Reserved ranges (appointments plus the buffers booked with them).
    pub reservations: Vec<TimeRange>,
}

/// The inputs of free slots of `service_id` from local date `from` to `to` (inclusive), for
/// every bookable staff member or only `staff_id`. `None` when the service is unknown,
/// archived or of another workspace.
///
/// The reservations are those the staff member's calendar streams of the days from the one
/// before `from` to the one after `to` hold (buffers can cross midnight): the bookings that
/// are not cancelled and were recorded under one of those dates.
pub async fn slot_inputs(
    pool: &PgPool,
    page: &BookingPage,
    service_id: Uuid,
    staff_id: Option<Uuid>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<SlotInputs>, QueryError> {
    let ws = page.workspace_id;
    let first = from.pred_opt().unwrap_or(from);
    let last = to.succ_opt().unwrap_or(to);
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let mut tx = begin(pool, ws).await?;
    let service: Option<(i32, i32, i32)> = sqlx::query_as(
        "select duration_minutes, buffer_before_minutes, buffer_after_minutes
         from rm_services.services where workspace_id = $1 and id = $2 and not archived",
    )
    .bind(ws)
    .bind(service_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((duration, buffer_before, buffer_after)) = service else {
        return Ok(None);
    };
    let staff: Vec<(Uuid, Json<Vec<WeeklyHours>>)> = sqlx::query_as(
        "select s.user_id, a.weekly from rm_staff.staff s
         join rm_staff.availability a on a.staff_id = s.user_id
         where s.workspace_id = $1 and s.active and jsonb_array_length(a.weekly) > 0
           and ($2::uuid is null or s.user_id = $2)
         order by s.user_id",
    )
    .bind(ws)
    .bind(staff_id)
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = staff.iter().map(|(id, _)| *id).collect();
    let exceptions: Vec<(Uuid, NaiveDate, Json<DayHours>)> = sqlx::query_as(
        "select staff_id, date, hours from rm_staff.availability_exceptions
         where workspace_id = $1 and staff_id = any($2) and date between $3 and $4",
    )
    .bind(ws)
    .bind(&ids)
    .bind(first)
    .bind(last)
    .fetch_all(&mut *tx)
    .await?;
    // The dates decide; the bound on the start only lets the index narrow the scan. It is
    // loose enough for any booking holding one of the dates: a reservation spans at most
    // 20 h (12 h appointment, two 4 h buffers) and a local date lies within 14 h of the UTC
    // one, so such a booking starts less than two days from the dates.
    let margin = Days::new(3);
    let lower = first.checked_sub_days(margin).unwrap_or(NaiveDate::MIN);
    let upper = last.checked_add_days(margin).unwrap_or(NaiveDate::MAX);
    let held: Vec<Held> = sqlx::query_as(
        "select staff_id, start_at, end_at, buffer_before_minutes, buffer_after_minutes
         from rm_bookings.bookings
         where workspace_id = $1 and staff_id = any($2) and status <> 'cancelled'
           and calendar_dates && $3
           and start_at >= $4 and start_at < $5",
    )
    .bind(ws)
    .bind(&ids)
    .bind(&days)
    .bind(lower.and_time(NaiveTime::MIN).and_utc())
    .bind(upper.and_time(NaiveTime::MIN).and_utc())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut out = Vec::with_capacity(staff.len());
    for (id, weekly) in staff {
        let exceptions = exceptions
            .iter()
            .filter(|(staff, _, _)| *staff == id)
            .map(|(_, date, hours)| AvailabilityException {
                date: *date,
                hours: hours.0.clone(),
            })
            .collect();
        let reservations = held
            .iter()
            .filter(|h| h.staff_id == id)
            .map(Held::reserved)
            .collect::<Result<Vec<_>, QueryError>>()?;
        out.push(BookableStaff {
            staff_id: id,
            schedule: Schedule::new(weekly.0, exceptions),
            reservations,
        });
    }
    Ok(Some(SlotInputs {
        duration: minutes(duration)?,
        buffer_before: minutes(buffer_before)?,
        buffer_after: minutes(buffer_after)?,
        staff: out,
    }))
}

/// A booking's hold on its staff member's calendar.
#[derive(sqlx::FromRow)]
struct Held {
    staff_id: Uuid,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    buffer_before_minutes: i32,
    buffer_after_minutes: i32,
}

impl Held {
    /// The reserved range: the appointment widened by the buffers booked with it, as the
    /// calendar stream's `SlotReserved` recorded it.
    fn reserved(&self) -> Result<TimeRange, QueryError> {
        Ok(TimeRange::new(self.start_at, self.end_at)
            .map_err(corrupt)?
            .widened(
                minutes(self.buffer_before_minutes)?.duration(),
                minutes(self.buffer_after_minutes)?.duration(),
            ))
    }
}

fn minutes(value: i32) -> Result<Minutes, QueryError> {
    u32::try_from(value).map(Minutes::new).map_err(corrupt)
}

/// A stored value the domain refuses: the read model is wrong, not the caller.
fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> QueryError {
    QueryError::Database(sqlx::Error::Decode(Box::new(error)))
}
