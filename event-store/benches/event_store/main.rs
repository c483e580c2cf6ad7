//! The event store benchmark (issue 2, point 8; results in BENCHMARKS.md).
//!
//! One run measures, side by side so that the ratios hold on a noisy machine:
//! appends of single-event commands to new streams (CareOps, the raw-INSERT ceiling and the
//! `postgres-es` peer, interleaved round by round), ordered feed reads decoded into
//! envelopes, and the NATS relay into JetStream.
//!
//! It drops and recreates its own database (`careops_bench` by default) on the server at
//! `DATABASE_URL`, uses a JetStream stream of its own that it deletes afterwards, and talks
//! to loopback services only.
//!
//! ```text
//! cargo bench -p event-store --bench event_store -- [--events 20000] [--writers 1,16] [--only appends]
//! ```

mod appends;
mod feed;
mod peer;
mod relay;
mod report;

use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection, PgConnection, PgPool};

use report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    /// Appends: CareOps, the raw-INSERT ceiling and postgres-es, per writer count.
    Appends,
    /// Ordered feed reads decoded into envelopes.
    Feed,
    /// The NATS relay into JetStream.
    Relay,
}

#[derive(Debug, Parser)]
#[command(about = "Benchmarks the CareOps event store against its ceiling and postgres-es")]
struct Args {
    /// The PostgreSQL server (the benchmark database is created next to this one).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// The NATS server with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The database the benchmark drops, recreates and leaves behind.
    #[arg(long, default_value = "careops_bench")]
    bench_db: String,
    /// Appends per system and writer count (split over the rounds).
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Concurrent writers, one configuration each.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    writers: Vec<usize>,
    /// Interleaved rounds per configuration: each system runs once per round, in a rotating
    /// order, so drift on a shared machine hits every system alike.
    #[arg(long, default_value_t = 4)]
    rounds: u64,
    /// Time box per system and configuration, in seconds (all rounds together).
    #[arg(long, default_value_t = 60)]
    max_seconds: u64,
    /// Events in the feed read (the table is filled up to this many).
    #[arg(long, default_value_t = 1_000_000)]
    feed_events: u64,
    /// Batch sizes of the feed reads, one full pass each.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    feed_batch: Vec<i64>,
    /// Events the relay publishes (the newest ones of the feed).
    #[arg(long, default_value_t = 200_000)]
    relay_events: u64,
    /// Time box of the relay run, in seconds.
    #[arg(long, default_value_t = 120)]
    relay_max_seconds: u64,
    /// Run only these sections (repeatable); all by default.
    #[arg(long, value_enum)]
    only: Vec<Section>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    markdown: Option<std::path::PathBuf>,
    /// Server settings for the benchmark database (`name=value`, repeatable), e.g. to try
    /// `plan_cache_mode=force_generic_plan`; applied to every system alike.
    #[arg(long = "pg-setting")]
    pg_settings: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn runs(&self, section: Section) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.rounds == 0 || args.events < args.rounds || args.writers.contains(&0) {
        bail!("--rounds, --events and --writers must be positive, with --events >= --rounds");
    }
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    let bench_url = recreate_database(&server, &args.bench_db, &args.pg_settings).await?;
    let admin = event_store::connect(&bench_url, &event_store::ConnectOptions::default())?;
    event_store::migrate(&admin).await.context("migrations")?;
    peer::create_tables(&admin).await?;

    let mut report = Report::new(machine_line(&admin).await);
    if args.runs(Section::Appends) {
        appends::run(&args, &bench_url, &mut report).await?;
    }
    if args.runs(Section::Feed) || args.runs(Section::Relay) {
        let wanted = if args.runs(Section::Feed) {
            args.feed_events
        } else {
            args.relay_events
        };
        feed::fill(&admin, wanted).await?;
    }
    if args.runs(Section::Feed) {
        feed::run(&args, &bench_url, &mut report).await?;
    }
    if args.runs(Section::Relay) {
        relay::run(&args, &bench_url, &mut report).await?;
    }
    admin.close().await;

    let markdown = report.markdown();
    println!("\n{markdown}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}

/// Drops and recreates the benchmark database; returns its URL.
async fn recreate_database(
    server: &PgConnectOptions,
    name: &str,
    settings: &[String],
) -> anyhow::Result<String> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("--bench-db must be a plain lower-case identifier");
    }
    let mut conn = PgConnection::connect_with(server)
        .await
        .context("connecting to DATABASE_URL")?;
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await?;
    for setting in settings {
        let Some((key, value)) = setting.split_once('=') else {
            bail!("--pg-setting takes name=value");
        };
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            bail!("--pg-setting: unusable setting name {key}");
        }
        sqlx::query(&format!(
            "alter database {name} set {key} = '{}'",
            value.replace('\'', "''")
        ))
        .execute(&mut conn)
        .await?;
    }
    conn.close().await?;
    Ok(server.clone().database(name).to_url_lossy().to_string())
}

/// The PostgreSQL version, for the report header.
async fn machine_line(pool: &PgPool) -> String {
    let pg: String = sqlx::query_scalar("show server_version")
        .fetch_one(pool)
        .await
        .unwrap_or_else(|_| "?".into());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpus} CPUs visible, PostgreSQL {pg}")
}

/// Formats a duration as milliseconds with two decimals.
fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// CPU time this process has used so far (user + system, from /proc; 10 ms resolution),
/// to tell the client's share of a read from the server's on a shared machine.
fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
