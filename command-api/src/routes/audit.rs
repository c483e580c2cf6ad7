//! `GET /audit` (owner): the workspace's events, newest first — who did what, when, and as
//! part of which request. Secrets never enter events, so none can appear here.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::user::{self, UserAggregate};
use event_store::AuditFilter;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::command::fold;
use crate::http::{ApiError, ApiQuery, ApiResult};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub stream_id: Option<String>,
    pub event_type: Option<String>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditActor {
    pub id: Uuid,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    pub actor: Option<AuditActor>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// `GET /audit`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    actor.require_owner()?;
    let before_position =
        match q.cursor.as_deref() {
            None => None,
            Some(cursor) => Some(cursor.parse::<i64>().ok().filter(|p| *p > 0).ok_or_else(
                || ApiError::bad_request("invalid_cursor", "the cursor is not valid"),
            )?),
        };
    let filter = AuditFilter {
        stream_id: q.stream_id,
        event_type: q.event_type,
        actor_id: q.actor_id,
        from: q.from,
        to: q.to,
        before_position,
        limit: i64::from(q.limit.unwrap_or(50).clamp(1, 200)),
    };
    let page = state.store.audit(actor.workspace_id, &filter).await?;

    // Name the actors of this page (each user's stream, once).
    let mut actor_ids: Vec<Uuid> = page
        .events
        .iter()
        .filter_map(|e| e.metadata.actor_id)
        .collect();
    actor_ids.sort();
    actor_ids.dedup();
    let streams = state
        .store
        .read_streams(
            &actor_ids
                .iter()
                .map(|id| user::stream_id(*id))
                .collect::<Vec<_>>(),
        )
        .await?;
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for (_, events) in streams {
        if let Some(user) = fold::<UserAggregate>(events)? {
            let name = user
                .name
                .known()
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|| "erased".into());
            names.insert(user.id, name);
        }
    }
    let items = page
        .events
        .into_iter()
        .map(|e| AuditEntry {
            position: e.position,
            event_id: e.event_id,
            stream_id: e.stream_id,
            stream_version: e.stream_version,
            event_type: e.event_type,
            schema_version: e.schema_version,
            recorded_at: e.recorded_at,
            actor: e.metadata.actor_id.map(|id| AuditActor {
                id,
                name: names.get(&id).cloned().unwrap_or_default(),
                role: e.metadata.actor_role.clone().unwrap_or_default(),
            }),
            correlation_id: e.metadata.correlation_id,
            causation_id: e.metadata.causation_id,
            data: e.data,
        })
        .collect();
    Ok(Json(AuditPage {
        items,
        next_cursor: page.next_cursor.map(|p| p.to_string()),
    }))
}
