//! `projections`: builds and serves the CareOps read models from the event feed.

use anyhow::bail;
use clap::{Parser, Subcommand};
use event_store::EventStore;
use projections::rebuild::{ProgressMode, RebuildOptions};
use projections::{ProjectionName, RunConfig};
use service_runtime::shutdown::{self, ShutdownArgs};
use service_runtime::{telemetry, ConnectionArgs};

#[derive(Parser)]
#[command(
    name = "projections",
    version,
    about = "CareOps read-model projections"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations and exit.
    Migrate(ConnectionArgs),
    /// Run every projection until SIGTERM/Ctrl-C (several runners may run: each projection
    /// is applied by one of them, the others stand by).
    Run {
        #[command(flatten)]
        connection: ConnectionArgs,
        /// Events applied per transaction.
        #[arg(long, env = "CAREOPS_PROJECTION_BATCH", default_value_t = 1000)]
        batch_size: i64,
        #[command(flatten)]
        shutdown: ShutdownArgs,
    },
    /// Replay the feed into fresh tables and swap them in (all projections, or NAME).
    Rebuild {
        #[command(flatten)]
        connection: ConnectionArgs,
        /// One of: workspaces, staff, services, bookings, contacts, inbox, inventory, forms, alerts.
        name: Option<String>,
        /// Start over instead of resuming an interrupted rebuild.
        #[arg(long)]
        fresh: bool,
        /// Events applied per transaction.
        #[arg(long, default_value_t = 5000)]
        batch_size: i64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    let cli = Cli::parse();
    telemetry::init();
    match cli.command {
        Command::Migrate(args) => {
            args.open_database().await?;
            tracing::info!("migrations applied");
        }
        Command::Run {
            connection,
            batch_size,
            shutdown: shutdown_args,
        } => {
            let pool = connection.open_database().await?;
            let stop = shutdown::on_signal();
            let config = RunConfig {
                batch_size,
                shutdown_timeout: shutdown_args.timeout(),
                ..RunConfig::default()
            };
            projections::run(EventStore::new(pool), config, stop).await?;
        }
        Command::Rebuild {
            connection,
            name,
            fresh,
            batch_size,
        } => {
            let names = match name.as_deref() {
                None => ProjectionName::ALL.to_vec(),
                Some(name) => match ProjectionName::parse(name) {
                    Some(projection) => vec![projection],
                    None => bail!("unknown projection {name:?}"),
                },
            };
            let pool = connection.open_database().await?;
            let options = RebuildOptions {
                fresh,
                batch_size,
                progress: ProgressMode::Auto,
                parallel: false,
            };
            projections::rebuild(&EventStore::new(pool), &names, &options).await?;
        }
    }
    Ok(())
}
