//! `GET /public/{slug}`: what the public booking page shows. Only active workspaces are
//! found; an inactive or unknown slug is `None` (404).

use serde::Serialize;
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
    /// Active staff members with availability.
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
         where s.workspace_id = $1 and s.active order by s.created_at, s.user_id",
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
