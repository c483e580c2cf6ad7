//! Connecting to PostgreSQL and applying the schema.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Every migration of the project, embedded at build time; applied by every binary at
/// start and by their `migrate` subcommands.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Applies pending migrations. Safe to run from several processes at once (sqlx takes an
/// advisory lock around them).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// A transaction left idle blocks every feed reader (the feed waits for the oldest
    /// open transaction), so the server ends idle ones after this long.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(5),
            idle_in_transaction_timeout: Duration::from_secs(15),
        }
    }
}

/// Opens a pool to `database_url`. Connections are opened lazily, so a process can start
/// while PostgreSQL is still coming up; `/ready` reports it.
pub fn connect(database_url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
    let timeout_ms = options.idle_in_transaction_timeout.as_millis().to_string();
    let connect: PgConnectOptions = database_url
        .parse::<PgConnectOptions>()?
        .options([("idle_in_transaction_session_timeout", timeout_ms.as_str())])
        .application_name("careops");
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        // No ping before handing out a connection: it is a round trip per acquire, and a
        // booking acquires half a dozen times (a third of the API's database time in the
        // load benchmark). A connection that broke while idle fails its query instead, the
        // request answers 503 and the pool drops the connection; the next one is fresh.
        .test_before_acquire(false)
        .connect_lazy_with(connect))
}
