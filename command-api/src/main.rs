//! `command-api`: the CareOps HTTP API process (also runs a NATS relay candidate).

use clap::{Parser, Subcommand};
use command_api::{Application, ServeConfig};
use service_runtime::{shutdown, telemetry, ConnectionArgs};

#[derive(Parser)]
#[command(
    name = "command-api",
    version,
    about = "The CareOps HTTP API and NATS relay"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate(ConnectionArgs),
}

/// mimalloc: glibc's malloc took a fifth of the API's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Some(Command::Migrate(args)) => {
            args.open_database().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Serve(config)) => serve(*config).await,
        // No subcommand: serve, configured from the environment.
        None => match Cli::parse_from(["command-api", "serve"]).command {
            Some(Command::Serve(config)) => serve(*config).await,
            _ => unreachable!("`serve` parses as the serve command"),
        },
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let connections = config.connections.open().await?;
    let app = Application::build(config, connections).await?;
    tracing::info!(address = %app.local_addr(), "command-api listening");
    app.run_until_stopped(shutdown::on_signal()).await
}
