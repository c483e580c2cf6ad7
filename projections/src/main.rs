//! `projections`: builds and serves the CareOps read models from the event feed.

use anyhow::bail;
use clap::{Parser, Subcommand};
use event_store::EventStore;
use projections::rebuild::{ProgressMode, RebuildOptions};
use projections::{ProjectionName, RunConfig};
use service_runtime::health::{self, HealthArgs, HealthListener};
use service_runtime::shutdown::{self, join_until, Deadline, NamedTask, ShutdownArgs};
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
        #[command(flatten)]
        health: HealthArgs,
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
        /// Rebuild the projections all at once, each on its own connection, instead of one
        /// after the other (progress as plain lines). The whole takes about as long as the
        /// slowest one, where one after the other takes their sum.
        #[arg(long)]
        parallel: bool,
    },
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
        Command::Migrate(args) => {
            args.open_database().await?;
            tracing::info!("migrations applied");
        }
        Command::Run {
            connection,
            batch_size,
            shutdown: shutdown_args,
            health: health_args,
        } => {
            let listener = HealthListener::bind(&health_args).await?;
            let pool = connection.open_database().await?;
            let stop = shutdown::on_signal();
            // Ready when PostgreSQL answers: the feed, the read models and the claims all
            // live there (projections use no NATS).
            let health_task = listener.map(|listener| {
                let pool = pool.clone();
                let readiness: health::Readiness = std::sync::Arc::new(move || {
                    let pool = pool.clone();
                    Box::pin(async move { vec![health::postgres(&pool).await] })
                });
                NamedTask::spawn("health listener", listener.serve(readiness, stop.clone()))
            });
            let config = RunConfig {
                batch_size,
                shutdown_timeout: shutdown_args.timeout(),
                ..RunConfig::default()
            };
            let deadline = Deadline::new(stop.clone(), config.shutdown_timeout);
            let outcome = projections::run(EventStore::new(pool), config, stop.clone()).await;
            stop.cancel();
            let health_stopped =
                join_until(&deadline, &stop, health_task.into_iter().collect()).await;
            outcome?;
            health_stopped.into_result(deadline.grace())?;
        }
        Command::Rebuild {
            connection,
            name,
            fresh,
            batch_size,
            parallel,
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
                // Several bars redrawn at once would garble each other on a terminal.
                progress: if parallel {
                    ProgressMode::Lines
                } else {
                    ProgressMode::Auto
                },
                parallel,
            };
            projections::rebuild(&EventStore::new(pool), &names, &options).await?;
        }
    }
    Ok(())
}
