//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/health", get(api_health))
        .route("/ready", get(ready))
        .route("/api/v1/ready", get(api_ready))
}

/// Liveness: the process answers. No dependency is checked, so a database outage does not
/// get every replica restarted.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "the process is alive")))]
pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Readiness: PostgreSQL and NATS both answer.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "PostgreSQL and NATS answer"), (status = 503, body = crate::openapi::ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let postgres = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query("select 1").execute(state.store.pool()),
    )
    .await;
    let postgres_ok = matches!(postgres, Ok(Ok(_)));
    let nats_ok = state.nats.connection_state() == async_nats::connection::State::Connected;
    let checks = json!({
        "postgres": if postgres_ok { "ok" } else { "unreachable" },
        "nats": if nats_ok { "ok" } else { "unreachable" },
    });
    if postgres_ok && nats_ok {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "checks": checks})),
        )
    } else {
        let failed: Vec<&str> = [("PostgreSQL", postgres_ok), ("NATS", nats_ok)]
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name)
            .collect();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "detail": format!("{} unreachable", failed.join(" and ")),
                "status_code": 503,
                "code": "dependency_unavailable",
                "checks": checks,
            })),
        )
    }
}

/// `GET /api/v1/health`: [`health`], under the API's base path for clients that only know it.
#[utoipa::path(get, path = "/api/v1/health", tag = "operations", responses((status = 200, description = "the process is alive")))]
pub async fn api_health() -> impl IntoResponse {
    health().await
}

/// `GET /api/v1/ready`: [`ready`], under the API's base path.
#[utoipa::path(get, path = "/api/v1/ready", tag = "operations",
    responses((status = 200, description = "PostgreSQL and NATS answer"), (status = 503, body = crate::openapi::ErrorBody)))]
pub async fn api_ready(state: State<AppState>) -> impl IntoResponse {
    ready(state).await
}
