//! Building and running the HTTP application: binds its port first, so tests can start it
//! on port 0 and learn the port.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::Router;
use service_runtime::secrets::SecretBox;
use service_runtime::shutdown::{join_until, Deadline, NamedTask};
use service_runtime::Connections;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::http::rate_limit::RateLimits;
use crate::http::request_id::REQUEST_ID_HEADER;
use crate::routes;

/// Shared state of the request handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: event_store::EventStore,
    pub nats: async_nats::Client,
    pub jwt: JwtKeys,
    pub limits: RateLimits,
    /// Seals hand-over secrets (invited staff passwords).
    pub secrets: SecretBox,
    pub clock: Clock,
    /// The largest accepted request body.
    pub max_body_bytes: usize,
    /// Secrets of the inbound webhooks.
    pub webhooks: crate::routes::webhooks::WebhookConfig,
    /// Whose `X-Forwarded-For` names the client (see [`crate::http::client_ip`]).
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    config: ServeConfig,
}

impl Application {
    /// Binds the listener and assembles the routes; nothing runs until
    /// [`Application::run_until_stopped`].
    pub async fn build(config: ServeConfig, connections: Connections) -> anyhow::Result<Self> {
        crate::http::metrics::recorder();
        let state = AppState {
            store: event_store::EventStore::new(connections.pool),
            nats: connections.nats,
            jwt: JwtKeys::from_secret(&config.jwt_secret()?),
            limits: RateLimits::new(&config.rate_limits),
            secrets: config.secret_key.secret_box(&config.connections.data_dir)?,
            clock: Clock::default(),
            max_body_bytes: config.max_body_bytes,
            webhooks: config.webhooks.clone(),
            trusted_proxies: config.trusted_proxies()?,
        };
        let address = format!("{}:{}", config.http_host, config.http_port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
        let router = routes::router(state.clone())
            .layer(DefaultBodyLimit::max(config.max_body_bytes))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
        Ok(Self {
            listener,
            router,
            state,
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The clock commands decide with (tests move it forward).
    pub fn clock(&self) -> Clock {
        self.state.clock.clone()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `stop` is cancelled, then finishes in-flight requests and stops the
    /// relay, the projections and the notifier, all within one deadline
    /// (`CAREOPS_SHUTDOWN_TIMEOUT_SECONDS` from `stop`). What is still running then is
    /// aborted and named in the log and in the returned error, as is a part that stopped
    /// with an error; a clean stop is `Ok`.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        let deadline = Deadline::new(stop.clone(), self.config.shutdown.timeout());
        let mut tasks = Vec::new();
        if self.config.relay {
            tasks.push(NamedTask::spawn(
                "relay",
                event_store::relay::run(
                    self.state.store.clone(),
                    self.state.nats.clone(),
                    self.config.relay_config(),
                    stop.clone(),
                ),
            ));
        }
        if self.config.run_projections {
            let config = projections::RunConfig {
                shutdown_timeout: deadline.grace(),
                ..projections::RunConfig::default()
            };
            tasks.push(NamedTask::spawn_fallible(
                "projections",
                projections::run(self.state.store.clone(), config, stop.clone()),
            ));
        }
        if self.config.run_notifier {
            let mut config = self.config.notifier.config(
                &self.config.connections.data_dir,
                self.state.secrets.clone(),
                &self.config.nats_stream,
                &self.config.nats_subject_prefix,
            )?;
            // One time for commands and timers (tests move it).
            config.clock = Arc::new(self.state.clock.clone());
            config.shutdown_timeout = deadline.grace();
            tracing::info!(outbox = %config.outbox_dir.display(), "running the notifier in this process");
            tasks.push(NamedTask::spawn_fallible(
                "notifier",
                notifier::run(
                    config,
                    self.state.store.pool().clone(),
                    self.state.nats.clone(),
                    stop.clone(),
                ),
            ));
        }
        let demo = self.config.demo.then(|| {
            let base = format!("http://127.0.0.1:{}", self.port());
            let data_dir = self.config.connections.data_dir.clone();
            tokio::spawn(async move {
                match crate::demo::ensure(&base, &data_dir).await {
                    Ok(login) => {
                        let what = if login.created { "created" } else { "already there" };
                        tracing::info!(slug = crate::demo::SLUG, "demo business {what}");
                        println!(
                            "careops: demo \"Urban Glow\" {what}: public page data {base}/api/v1/public/{}\n\
                             careops:   owner login  email {}  password {}",
                            crate::demo::SLUG, login.email, login.password
                        );
                    }
                    Err(error) => tracing::error!(%error, "the demo business could not be created"),
                }
            })
        });
        let shutdown = stop.clone();
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await });
        let mut server = std::pin::pin!(server.into_future());
        let served = tokio::select! {
            result = &mut server => Some(result),
            _ = deadline.passed() => {
                tracing::warn!(
                    grace_seconds = deadline.grace().as_secs(),
                    "shutdown deadline passed; abandoning the in-flight HTTP requests"
                );
                None
            }
        };
        // A failed server, too, stops the rest (and is reported once they stopped).
        stop.cancel();
        if let Some(demo) = demo {
            demo.abort();
        }
        let mut stopped = join_until(&deadline, &stop, tasks).await;
        match served {
            Some(result) => result.context("HTTP server failed")?,
            None => stopped.abandoned.insert(0, "in-flight HTTP requests"),
        }
        stopped.into_result(deadline.grace())
    }
}
