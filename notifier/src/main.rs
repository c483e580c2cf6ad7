//! `notifier`: sends the emails and SMS that events and timers call for.

use clap::{Parser, Subcommand};
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

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations and exit.
    Migrate(ConnectionArgs),
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
    }
    Ok(())
}
