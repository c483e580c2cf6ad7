//! PostgreSQL and NATS, as every process opens them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

/// Connection settings common to every binary (flags or environment; a `.env` file is
/// read by the binaries before parsing).
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// PostgreSQL URL of the event store and read models.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// NATS server URL (JetStream enabled).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "CAREOPS_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// Folder for local state (generated secrets, the outbox of the file mail transport).
    #[arg(long, env = "CAREOPS_DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,
}

/// Open connections of a process.
#[derive(Clone, Debug)]
pub struct Connections {
    pub pool: PgPool,
    pub nats: async_nats::Client,
}

impl ConnectionArgs {
    /// Opens the PostgreSQL pool and applies pending migrations.
    pub async fn open_database(&self) -> anyhow::Result<PgPool> {
        let options = event_store::ConnectOptions {
            max_connections: self.db_max_connections,
            ..Default::default()
        };
        let pool = event_store::connect(&self.database_url, &options)
            .context("DATABASE_URL is not a valid PostgreSQL URL")?;
        // Wait for the database at start-up (it may still be starting), then migrate.
        let mut waited = Duration::ZERO;
        loop {
            match event_store::migrate(&pool).await {
                Ok(()) => return Ok(pool),
                Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::PoolTimedOut))
                | Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Io(_)))
                    if waited < Duration::from_secs(30) =>
                {
                    tracing::warn!("PostgreSQL is not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    waited += Duration::from_secs(1);
                }
                Err(error) => return Err(error).context("applying database migrations"),
            }
        }
    }

    /// Connects to NATS. The client keeps reconnecting in the background, so a process
    /// starts (and commands keep working) while NATS is down.
    pub async fn open_nats(&self) -> anyhow::Result<async_nats::Client> {
        async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .name("careops")
            .connect(self.nats_url.as_str())
            .await
            .with_context(|| format!("NATS_URL {} is not usable", self.nats_url))
    }

    pub async fn open(&self) -> anyhow::Result<Connections> {
        Ok(Connections {
            pool: self.open_database().await?,
            nats: self.open_nats().await?,
        })
    }
}
