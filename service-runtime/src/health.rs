//! The operations listener of the processes that serve no API (`notifier run`, `projections
//! run`): `GET /health` (liveness) and `GET /ready` (readiness), in the same shape as
//! command-api's, so Kubernetes probes and Compose health checks treat every process alike.
//!
//! It is optional (`CAREOPS_HEALTH_PORT` unset: no listener), because a laptop run or the
//! all-in-one process has nothing to probe it, and it binds before the process starts
//! working, so a port already taken fails the start instead of leaving an unprobed process.
//!
//! - `/health` checks no dependency: a database outage must not get every replica
//!   restarted, only kept out of rotation.
//! - `/ready` runs the process's checks (PostgreSQL, NATS, the durable consumer, …), each
//!   bounded by [`CHECK_TIMEOUT`], and answers 503 naming the failed ones.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The longest a single readiness check may take before it counts as failed (a probe has
/// its own timeout, and a hanging dependency must answer "not ready", not hang the probe).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the listener runs (flags or environment).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HealthArgs {
    /// Port of the health listener (`/health`, `/ready`); unset, the process opens none.
    #[arg(long, env = "CAREOPS_HEALTH_PORT")]
    pub health_port: Option<u16>,
    /// Interface of the health listener.
    #[arg(long, env = "CAREOPS_HEALTH_HOST", default_value = "0.0.0.0")]
    pub health_host: String,
}

/// The outcome of one readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`postgres`, `nats`, `consumer`), the key in the answer's `checks`.
    pub name: &'static str,
    /// Why it is not ready; `None` when it is.
    pub problem: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str) -> Self {
        Self {
            name,
            problem: None,
        }
    }

    pub fn failed(name: &'static str, problem: impl Into<String>) -> Self {
        Self {
            name,
            problem: Some(problem.into()),
        }
    }
}

/// A process's readiness checks, run on every `GET /ready`.
pub type Readiness =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Check>> + Send>> + Send + Sync>;

/// PostgreSQL answers a query within [`CHECK_TIMEOUT`].
pub async fn postgres(pool: &PgPool) -> Check {
    match tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("select 1").execute(pool)).await {
        Ok(Ok(_)) => Check::ok("postgres"),
        Ok(Err(_)) | Err(_) => Check::failed("postgres", "unreachable"),
    }
}

/// The NATS client is connected (it reconnects by itself in the background).
pub fn nats(client: &async_nats::Client) -> Check {
    if client.connection_state() == async_nats::connection::State::Connected {
        Check::ok("nats")
    } else {
        Check::failed("nats", "unreachable")
    }
}

/// A bound, not yet serving, health listener.
pub struct HealthListener {
    listener: TcpListener,
}

impl HealthListener {
    /// Binds the configured port, or returns `None` when no port is configured.
    pub async fn bind(args: &HealthArgs) -> anyhow::Result<Option<Self>> {
        let Some(port) = args.health_port else {
            return Ok(None);
        };
        let address = format!("{}:{port}", args.health_host);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address} (CAREOPS_HEALTH_PORT)"))?;
        Ok(Some(Self { listener }))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves `/health` and `/ready` until `stop` is cancelled. Probes in flight then are
    /// answered; the listener takes part in no drain beyond that.
    pub async fn serve(self, readiness: Readiness, stop: CancellationToken) {
        let address = self.local_addr();
        tracing::info!(%address, "health listener (/health, /ready)");
        let router = Router::new()
            .route("/health", get(health))
            .route("/ready", get(ready))
            .with_state(readiness);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "the health listener failed");
        }
    }
}

async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
    let checks = readiness().await;
    let answers: Map<String, Value> = checks
        .iter()
        .map(|c| {
            let answer = c.problem.clone().unwrap_or_else(|| "ok".to_string());
            (c.name.to_string(), Value::String(answer))
        })
        .collect();
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|c| c.problem.as_ref().map(|p| format!("{}: {p}", c.name)))
        .collect();
    if failed.is_empty() {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "checks": answers})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "detail": format!("not ready: {}", failed.join("; ")),
                "status_code": 503,
                "code": "dependency_unavailable",
                "checks": answers,
            })),
        )
    }
}
