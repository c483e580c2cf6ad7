//! `notifier`: sends the emails and SMS that events and timers call for.

use clap::{Parser, Subcommand};
use notifier::NotifierArgs;
use service_runtime::health::{HealthArgs, HealthListener};
use service_runtime::secrets::SecretKeyArgs;
use service_runtime::shutdown::{self, join_until, Deadline, NamedTask, ShutdownArgs};
use service_runtime::{telemetry, ConnectionArgs};

#[derive(Parser)]
#[command(
    name = "notifier",
    version,
    about = "CareOps notifications (email and SMS)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    connections: ConnectionArgs,
    #[command(flatten)]
    secret_key: SecretKeyArgs,
    #[command(flatten)]
    notifier: NotifierArgs,
    #[command(flatten)]
    shutdown: ShutdownArgs,
    #[command(flatten)]
    health: HealthArgs,
    /// JetStream stream the relay publishes to.
    #[arg(long, env = "CAREOPS_NATS_STREAM", default_value = "CAREOPS_EVENTS")]
    nats_stream: String,
    /// Subject prefix of published events.
    #[arg(
        long,
        env = "CAREOPS_NATS_SUBJECT_PREFIX",
        default_value = "careops.events"
    )]
    nats_subject_prefix: String,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations and exit.
    Migrate(ConnectionArgs),
    /// Consume events and send notifications until SIGTERM / Ctrl-C.
    Run(Box<RunArgs>),
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
        Command::Run(args) => {
            let secrets = args.secret_key.secret_box(&args.connections.data_dir)?;
            let mut config = args.notifier.config(
                &args.connections.data_dir,
                secrets,
                &args.nats_stream,
                &args.nats_subject_prefix,
            )?;
            config.shutdown_timeout = args.shutdown.timeout();
            let listener = HealthListener::bind(&args.health).await?;
            let connections = args.connections.open().await?;
            let stop = shutdown::on_signal();
            let health_task = listener.map(|listener| {
                let readiness = notifier::health::readiness(
                    connections.pool.clone(),
                    connections.nats.clone(),
                    config.consumer.clone(),
                );
                NamedTask::spawn("health listener", listener.serve(readiness, stop.clone()))
            });
            let deadline = Deadline::new(stop.clone(), config.shutdown_timeout);
            let outcome =
                notifier::run(config, connections.pool, connections.nats, stop.clone()).await;
            // The notifier stops on `stop` only (or on a panic, which cancels it).
            stop.cancel();
            let health_stopped =
                join_until(&deadline, &stop, health_task.into_iter().collect()).await;
            outcome?;
            health_stopped.into_result(deadline.grace())?;
        }
    }
    Ok(())
}
