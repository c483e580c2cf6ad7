//! `GET /workspace`: the workspace's profile and notification settings.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{begin, QueryError, Scope};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Workspace)]
pub struct WorkspaceView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub currency: String,
    pub is_active: bool,
    pub owner_id: Uuid,
    pub business_email: Option<String>,
    pub business_phone: Option<String>,
    /// `{reminder_offsets_minutes, follow_up_delay_minutes, daily_summary_hour,
    /// cancellation_window_hours, approval_required, slot_step_minutes,
    /// minimum_notice_minutes, booking_horizon_days}`
    #[schema(value_type = Object)]
    pub notifications: serde_json::Value,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    workspace_id: Uuid,
    slug: String,
    name: String,
    timezone: String,
    currency: String,
    is_active: bool,
    owner_id: Uuid,
    business_email: Option<String>,
    business_phone: Option<String>,
    settings: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    version: i64,
}

pub async fn get(pool: &PgPool, scope: &Scope) -> Result<Option<WorkspaceView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<Row> = sqlx::query_as(
        "select workspace_id, slug, name, timezone, currency, is_active, owner_id, business_email,
                business_phone, settings, created_at, version
         from rm_workspaces.workspaces where workspace_id = $1",
    )
    .bind(scope.workspace_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| WorkspaceView {
        id: r.workspace_id,
        slug: r.slug,
        name: r.name,
        timezone: r.timezone,
        currency: r.currency,
        is_active: r.is_active,
        owner_id: r.owner_id,
        business_email: r.business_email,
        business_phone: r.business_phone,
        notifications: r.settings.0,
        created_at: r.created_at,
        version: r.version,
    }))
}
