//! Configuration of the API process, from flags or the environment.

use std::path::Path;

use anyhow::Context;
use service_runtime::secrets::SecretKeyArgs;
use service_runtime::shutdown::ShutdownArgs;
use service_runtime::ConnectionArgs;

use crate::http::rate_limit::RateLimitConfig;

#[derive(Clone, clap::Args)]
pub struct ServeConfig {
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Interface to listen on.
    #[arg(long, env = "CAREOPS_HTTP_HOST", default_value = "0.0.0.0")]
    pub http_host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "CAREOPS_HTTP_PORT", default_value_t = 8080)]
    pub http_port: u16,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "CAREOPS_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Secret that signs access tokens (at least 32 bytes). When unset, one is generated and
    /// kept in `$CAREOPS_DATA_DIR/jwt-secret` (local runs only: set it in production).
    #[arg(long, env = "CAREOPS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    #[command(flatten)]
    pub secret_key: SecretKeyArgs,
    #[command(flatten)]
    pub rate_limits: RateLimitConfig,
    /// Comma-separated addresses and CIDR networks of the reverse proxies (load balancer,
    /// ingress) whose `X-Forwarded-For` names the client; from anyone else the header is
    /// ignored and the socket peer is the client. Unset: trust nobody.
    #[arg(long, env = "CAREOPS_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Secrets of the inbound webhooks (`CAREOPS_WEBHOOK_SECRET`, `CAREOPS_TWILIO_AUTH_TOKEN`).
    #[command(flatten)]
    pub webhooks: crate::routes::webhooks::WebhookConfig,
    /// Run the read-model projections in this process (the all-in-one setup); production
    /// runs them apart with `projections run`.
    #[arg(long, env = "CAREOPS_RUN_PROJECTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_projections: bool,
    /// Run a NATS relay candidate in this process (one instance publishes at a time).
    #[arg(long, env = "CAREOPS_RELAY", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay: bool,
    /// Run the notifier in this process (the all-in-one setup); production runs it apart
    /// with `notifier run` (several replicas share its durable consumer).
    #[arg(long, env = "CAREOPS_RUN_NOTIFIER", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_notifier: bool,
    /// The notifier's providers and settings (used when `run_notifier` is on).
    #[command(flatten)]
    pub notifier: notifier::NotifierArgs,
    /// Create the seed's demo business ("Urban Glow", `/book/urbanglow`) once the API
    /// listens, unless it exists, and print the owner's login.
    #[arg(long, env = "CAREOPS_DEMO", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub demo: bool,
    /// How long the process may take to stop after SIGTERM/Ctrl-C: the HTTP drain and the
    /// relay, projections and notifier tasks share this one deadline.
    #[command(flatten)]
    pub shutdown: ShutdownArgs,
    /// JetStream stream the relay publishes to.
    #[arg(long, env = "CAREOPS_NATS_STREAM", default_value = "CAREOPS_EVENTS")]
    pub nats_stream: String,
    /// Subject prefix of published events.
    #[arg(
        long,
        env = "CAREOPS_NATS_SUBJECT_PREFIX",
        default_value = "careops.events"
    )]
    pub nats_subject_prefix: String,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("connections", &self.connections)
            .field("http_host", &self.http_host)
            .field("http_port", &self.http_port)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("webhooks", &self.webhooks)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("relay", &self.relay)
            .field("nats_stream", &self.nats_stream)
            .finish_non_exhaustive()
    }
}

/// The smallest accepted signing secret.
const MIN_SECRET_BYTES: usize = 32;

impl ServeConfig {
    /// The parsed `CAREOPS_TRUSTED_PROXIES`; a bad entry stops the start.
    pub fn trusted_proxies(&self) -> anyhow::Result<crate::http::client_ip::TrustedProxies> {
        crate::http::client_ip::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))
    }

    pub fn relay_config(&self) -> event_store::relay::RelayConfig {
        event_store::relay::RelayConfig {
            stream_name: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
            ..Default::default()
        }
    }

    /// The token-signing secret: configured, or generated once into the data folder.
    pub fn jwt_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "CAREOPS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            );
            return Ok(secret.as_bytes().to_vec());
        }
        let path = self.connections.data_dir.join("jwt-secret");
        read_or_create_secret(&path)
    }
}

fn read_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_string();
        if existing.len() >= MIN_SECRET_BYTES {
            return Ok(existing.into_bytes());
        }
    }
    use rand::distributions::{Alphanumeric, DistString};
    let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).ok();
    }
    tracing::info!(path = %path.display(), "generated a token-signing secret for this local run");
    Ok(secret.into_bytes())
}
