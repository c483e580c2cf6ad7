//! The notifier benchmark (issue 6, point 7; results in BENCHMARKS.md "Notifier").
//!
//! 1. **Throughput through the file transport.** Plans the notifications of `--bookings`
//!    confirmed bookings (each: the customer's email and SMS, the owner's and the staff
//!    member's "new booking" email) with the real planner, then starts the notifier
//!    (`notifier::run`) and times how long its dispatcher takes to claim, prepare (from the
//!    event store), render, write (`.eml` / `.txt`) and record every one of them.
//! 2. **The due query** (`notifier::table::CLAIM_SQL`, limit 100) against `--rows` scheduled
//!    rows spread over 60 days: once with nothing due, once with a random "now" inside the
//!    schedule (a backlog of due rows). Each claim runs in a transaction that is rolled back,
//!    so the table keeps its size. Latency in an HdrHistogram (µs).
//!
//! It drops and recreates its own database (`careops_notifier_bench`) on the server at
//! `DATABASE_URL`, uses a JetStream stream of its own (deleted afterwards) and an outbox under
//! the system's temporary folder (deleted afterwards).
//!
//! ```text
//! cargo bench -p notifier --bench notifier -- [--bookings 5000] [--rows 1000000] [--queries 2000]
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use domain::booking::BookingStatus;
use event_store::EventStore;
use hdrhistogram::Histogram;
use notifier::clock::SystemClock;
use notifier::plan::{Incoming, Planner};
use rand::Rng;
use service_runtime::secrets::SecretBox;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks the CareOps notifier")]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    #[arg(long, default_value = "careops_notifier_bench")]
    bench_db: String,
    /// Confirmed bookings whose notifications are sent (4 each).
    #[arg(long, default_value_t = 5000)]
    bookings: usize,
    /// Deliveries in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Scheduled rows for the due query.
    #[arg(long, default_value_t = 1_000_000)]
    rows: i64,
    /// Due queries timed per scenario.
    #[arg(long, default_value_t = 2000)]
    queries: usize,
    /// Accepted for `cargo bench` compatibility.
    #[arg(long, hide = true)]
    bench: bool,
}

async fn recreate(args: &Args) -> anyhow::Result<PgPool> {
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    let mut admin = PgConnection::connect_with(&server).await?;
    sqlx::query(&format!(
        "drop database if exists {} with (force)",
        args.bench_db
    ))
    .execute(&mut admin)
    .await?;
    sqlx::query(&format!("create database {}", args.bench_db))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(args.concurrency as u32 + 8)
        .connect_with(server.database(&args.bench_db).disable_statement_logging())
        .await?;
    event_store::MIGRATOR.run(&pool).await?;
    Ok(pool)
}

fn report(name: &str, h: &Histogram<u64>) {
    println!(
        "| {name} | {} | {} | {} | {} | {} |",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max()
    );
}

async fn throughput(args: &Args, pool: &PgPool) -> anyhow::Result<()> {
    let store = EventStore::new(pool.clone());
    let secrets = SecretBox::generate();
    let salon = support::salon(&store, "Europe/London", support::settings(&[])).await;
    let base = Utc::now() + chrono::Duration::days(30);
    for n in 0..args.bookings as i64 {
        support::book(
            &store,
            &salon,
            base + chrono::Duration::minutes(n * 90),
            BookingStatus::Confirmed,
        )
        .await;
    }
    let planner = Planner::new(store.clone(), secrets.clone(), Arc::new(SystemClock));
    for event in support::events_of_type(&store, "BookingCreated").await {
        let mut tx = pool.begin().await?;
        planner.plan(&mut tx, &Incoming::from(&event)).await?;
        tx.commit().await?;
    }
    let expected: i64 = sqlx::query_scalar(
        "select count(*) from notifier.notifications where status = 'pending' and due_at <= now()",
    )
    .fetch_one(pool)
    .await?;
    let outbox = std::env::temp_dir().join(format!("careops-notifier-bench-{}", Uuid::now_v7()));
    let mut config = notifier::NotifierConfig::new(secrets, &outbox);
    let id = Uuid::now_v7().simple().to_string();
    config.consumer.stream_name = format!("BENCH_NOTIFIER_{id}");
    config.consumer.subject_prefix = format!("bench_notifier_{id}.events");
    config.dispatch.concurrency = args.concurrency;
    config.dispatch.poll_interval = Duration::from_millis(20);
    let nats = async_nats::connect(&args.nats_url).await?;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(notifier::run(
        config.clone(),
        pool.clone(),
        nats.clone(),
        stop.clone(),
    ));
    loop {
        let done: i64 = sqlx::query_scalar(
            "select count(*) from notifier.notifications where status in ('sent', 'skipped', 'failed')",
        )
        .fetch_one(pool)
        .await?;
        if done >= expected {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "too slow: {done}/{expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    task.await??;
    let sent: i64 =
        sqlx::query_scalar("select count(*) from notifier.notifications where status = 'sent'")
            .fetch_one(pool)
            .await?;
    let files = std::fs::read_dir(&outbox)?.count();
    println!("\n### Throughput through the file transport\n");
    println!("| bookings | notifications sent | files written | seconds | notifications/s |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {sent} | {files} | {:.2} | {:.0} |",
        args.bookings,
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&outbox);
    let js = async_nats::jetstream::new(nats);
    let _ = js.delete_stream(&config.consumer.stream_name).await;
    Ok(())
}

async fn due_query(args: &Args, pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("truncate notifier.notifications")
        .execute(pool)
        .await?;
    let t0 = Utc::now() + chrono::Duration::hours(1);
    let span = chrono::Duration::days(60);
    sqlx::query(
        "insert into notifier.notifications
            (id, workspace_id, kind, channel, recipient_role, recipient_id, subject_id,
             cause_event_id, due_at, next_attempt_at, details)
         select gen_random_uuid(), gen_random_uuid(), 'reminder', 'email', 'customer',
                gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
                $1 + ($2 * (i::float8 / $3)), $1 + ($2 * (i::float8 / $3)),
                '{\"offset_minutes\": 60}'
         from generate_series(1, $3) i",
    )
    .bind(t0)
    .bind(span)
    .bind(args.rows)
    .execute(pool)
    .await?;
    sqlx::query("analyze notifier.notifications")
        .execute(pool)
        .await?;
    let plan: Vec<String> = sqlx::query_scalar(&format!("explain {}", notifier::table::CLAIM_SQL))
        .bind(t0 + chrono::Duration::days(30))
        .bind(100i64)
        .bind(t0)
        .bind(Uuid::now_v7())
        .fetch_all(pool)
        .await?;
    println!("\n### Due query with {} scheduled rows\n", args.rows);
    println!("```text\n{}\n```\n", plan.join("\n"));
    println!("| scenario | queries | p50 µs | p90 µs | p99 µs | max µs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, backlog) in [("nothing due", false), ("backlog due, claim 100", true)] {
        let mut h = Histogram::<u64>::new(3)?;
        let mut conn = pool.acquire().await?;
        for i in 0..(args.queries + 50) {
            let now = if backlog {
                t0 + chrono::Duration::seconds(rand::thread_rng().gen_range(60..span.num_seconds()))
            } else {
                t0 - chrono::Duration::minutes(1)
            };
            let mut tx = conn.begin().await?;
            let started = Instant::now();
            let claimed = sqlx::query(notifier::table::CLAIM_SQL)
                .bind(now)
                .bind(100i64)
                .bind(now + chrono::Duration::seconds(60))
                .bind(Uuid::now_v7())
                .fetch_all(&mut *tx)
                .await?;
            let micros = started.elapsed().as_micros() as u64;
            tx.rollback().await?;
            anyhow::ensure!(backlog || claimed.is_empty());
            if i >= 50 {
                h.record(micros)?;
            }
        }
        report(name, &h);
    }
    Ok(())
}

/// The same allocator as the services (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = recreate(&args).await?;
    println!(
        "notifier benchmark: {} bookings, concurrency {}, {} scheduled rows, {} queries",
        args.bookings, args.concurrency, args.rows, args.queries
    );
    throughput(&args, &pool).await?;
    due_query(&args, &pool).await?;
    Ok(())
}
