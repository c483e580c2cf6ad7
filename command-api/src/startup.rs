//! Building and running the HTTP application: binds its port first, so tests can start it
//! on port 0 and learn the port.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use service_runtime::Connections;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::config::ServeConfig;
use crate::routes;

/// Shared state of the request handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: event_store::EventStore,
    pub nats: async_nats::Client,
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
        let state = AppState {
            store: event_store::EventStore::new(connections.pool),
            nats: connections.nats,
        };
        let address = format!("{}:{}", config.http_host, config.http_port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let router = routes::router(state.clone()).layer(TraceLayer::new_for_http());
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

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `stop` is cancelled, then finishes in-flight requests and stops the relay.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        let relay = self.config.relay.then(|| {
            tokio::spawn(event_store::relay::run(
                self.state.store.clone(),
                self.state.nats.clone(),
                self.config.relay_config(),
                stop.clone(),
            ))
        });
        let shutdown = stop.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .context("HTTP server failed")?;
        stop.cancel();
        if let Some(relay) = relay {
            relay.await.ok();
        }
        Ok(())
    }
}
