//! `projections`: builds and serves the CareOps read models from the event feed.

use clap::{Parser, Subcommand};
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
