//! Configuration of the API process, from flags or the environment.

use service_runtime::ConnectionArgs;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Interface to listen on.
    #[arg(long, env = "CAREOPS_HTTP_HOST", default_value = "0.0.0.0")]
    pub http_host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "CAREOPS_HTTP_PORT", default_value_t = 8080)]
    pub http_port: u16,
    /// Run a NATS relay candidate in this process (one instance publishes at a time).
    #[arg(long, env = "CAREOPS_RELAY", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay: bool,
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

impl ServeConfig {
    pub fn relay_config(&self) -> event_store::relay::RelayConfig {
        event_store::relay::RelayConfig {
            stream_name: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
            ..Default::default()
        }
    }
}
