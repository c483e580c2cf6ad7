//! `GET /dashboard/stats`: computed at query time from the read models with the caller's
//! `now`, so time-based numbers ("today", "next 24 h", "last 30 days") need no timers and
//! are right at any instant. "Today" is the workspace's local day in its current zone
//! (PostgreSQL converts with the IANA rules, so DST days have 23 or 25 hours).
//!
//! Definitions: `upcoming_24h` pending/confirmed bookings starting in `[now, now+24h)`;
//! `unanswered_messages` open conversations whose last message is inbound;
//! `low_stock_items` items with `quantity <= threshold`; `pending_forms` requests not yet
//! submitted; `bookings_today` bookings not cancelled starting on the local day;
//! `revenue_today_cents` the price of today's completed bookings; `no_shows_30d` no-shows
//! that started in `[now-30d, now]`. Staff get their own slice: their bookings and the
//! conversations assigned to them or unassigned.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::inbox::UNANSWERED;
use super::{begin, QueryError, Scope};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema,
)]
pub struct DashboardStats {
    pub upcoming_24h: i64,
    pub unanswered_messages: i64,
    pub low_stock_items: i64,
    pub pending_forms: i64,
    pub bookings_today: i64,
    pub revenue_today_cents: i64,
    pub no_shows_30d: i64,
}

pub async fn stats(
    pool: &PgPool,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<DashboardStats, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let stats: DashboardStats = sqlx::query_as(&format!(
        "with ws as (
            select coalesce((select timezone from rm_workspaces.workspaces where workspace_id = $1), 'UTC') as tz
         ),
         b as (
            select * from rm_bookings.bookings
            where workspace_id = $1 and ($3::uuid is null or staff_id = $3)
         )
         select
            (select count(*) from b where status in ('pending', 'confirmed')
                and start_at >= $2 and start_at < $2 + interval '24 hours') as upcoming_24h,
            (select count(*) from rm_inbox.conversations where workspace_id = $1 and {UNANSWERED}
                and ($3::uuid is null or assignee is null or assignee = $3)) as unanswered_messages,
            (select count(*) from rm_inventory.items where workspace_id = $1
                and quantity <= threshold) as low_stock_items,
            (select count(*) from rm_forms.requests where workspace_id = $1
                and status = 'pending') as pending_forms,
            (select count(*) from b, ws where status <> 'cancelled'
                and (start_at at time zone ws.tz)::date = ($2 at time zone ws.tz)::date) as bookings_today,
            (select coalesce(sum(price_cents), 0)::bigint from b, ws where status = 'completed'
                and (start_at at time zone ws.tz)::date = ($2 at time zone ws.tz)::date) as revenue_today_cents,
            (select count(*) from b where status = 'no_show'
                and start_at >= $2 - interval '30 days' and start_at <= $2) as no_shows_30d"
    ))
    .bind(scope.workspace_id)
    .bind(now)
    .bind(scope.staff_member())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(stats)
}
