//! Projection benchmarks (issue 5, point 6): rebuild throughput over generated events of
//! the real event mix, and live lag from append to read model at a steady command rate.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p projections`
//! (`CAREOPS_BENCH_EVENTS`, default 1,000,000; `CAREOPS_BENCH_RATE`, default 500/s).
//! Works in a scratch database that it creates and drops; `CAREOPS_BENCH_DB=name` keeps the
//! database and reuses its events on the next run.

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use event_store::{EventStore, FeedPosition};
use projections::rebuild::{ProgressMode, RebuildOptions};
use projections::{ProjectionName, RunConfig};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The same allocator as the services (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let events_wanted = env_usize("CAREOPS_BENCH_EVENTS", 1_000_000);
    let rate = env_usize("CAREOPS_BENCH_RATE", 500);
    // A scratch database, dropped at the end; `CAREOPS_BENCH_DB` names one to keep and reuse
    // (generating a million events takes minutes), filled only when it holds too few.
    let kept = std::env::var("CAREOPS_BENCH_DB").ok();
    let db = kept
        .clone()
        .unwrap_or_else(|| format!("careops_bench_projections_{}", std::process::id()));
    let mut admin = PgConnection::connect(&url).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&db)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        sqlx::query(&format!("create database {db}"))
            .execute(&mut admin)
            .await?;
    }
    let bench_url = match url.rfind('/') {
        Some(i) => format!("{}/{db}", &url[..i]),
        None => anyhow::bail!("DATABASE_URL has no database"),
    };
    let pool = PgPoolOptions::new()
        .max_connections(30)
        .connect(&bench_url)
        .await?;
    event_store::migrate(&pool).await?;
    let store = EventStore::new(pool.clone());

    // Generate and append (about 1.4 events per command) until there are `events_wanted`.
    let mut appended: usize = sqlx::query_scalar::<_, i64>("select count(*) from events")
        .fetch_one(&pool)
        .await?
        .try_into()?;
    if appended < events_wanted {
        let commands = support::random::commands(42, 50, events_wanted * 10 / 12);
        let started = Instant::now();
        for chunk in commands.chunks(50) {
            let mut by_ws: Vec<(uuid::Uuid, Vec<support::Ev>)> = Vec::new();
            for (ws, evs) in chunk {
                appended += evs.len();
                match by_ws.iter_mut().find(|(w, _)| w == ws) {
                    Some((_, all)) => all.extend(evs.iter().cloned()),
                    None => by_ws.push((*ws, evs.clone())),
                }
            }
            for (ws, evs) in by_ws {
                support::append(&store, ws, evs).await;
            }
            if appended >= events_wanted {
                break;
            }
        }
        println!(
            "appended {appended} events in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    sqlx::query("analyze").execute(&pool).await?;
    let mix: Vec<(String, i64)> =
        sqlx::query_as("select stream_type, count(*) from events group by 1 order by 2 desc")
            .fetch_all(&pool)
            .await?;
    println!(
        "{appended} events: {}",
        mix.iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The rebuild's own peak memory, not the generator's: reset the high-water mark.
    let _ = std::fs::write("/proc/self/clear_refs", "5");

    // Rebuild throughput.
    let options = RebuildOptions {
        fresh: true,
        batch_size: env_usize("CAREOPS_BENCH_BATCH", 5000) as i64,
        progress: ProgressMode::Quiet,
        parallel: true,
    };
    let started = Instant::now();
    // `CAREOPS_BENCH_PROJECTIONS=bookings,inbox` rebuilds only those (default: all).
    let names: Vec<ProjectionName> = match std::env::var("CAREOPS_BENCH_PROJECTIONS") {
        Ok(list) => list
            .split(',')
            .map(|n| {
                ProjectionName::parse(n.trim()).ok_or_else(|| anyhow::anyhow!("no projection {n}"))
            })
            .collect::<anyhow::Result<_>>()?,
        Err(_) => ProjectionName::ALL.to_vec(),
    };
    let reports = projections::rebuild(&store, &names, &options).await?;
    let total = started.elapsed().as_secs_f64();
    for r in &reports {
        println!(
            "rebuild {:<11} {:>9} events {:>6.1}s {:>9.0} events/s",
            r.name.as_str(),
            r.events,
            r.elapsed.as_secs_f64(),
            r.events as f64 / r.elapsed.as_secs_f64()
        );
    }
    println!(
        "rebuild all: {appended} events x {} projections in {total:.1}s = {:.0} feed events/s (each projection replays the whole feed); peak RSS {:.0} MiB",
        reports.len(),
        appended as f64 / total,
        peak_rss_mib()
    );

    // Live lag at a steady command rate (`CAREOPS_BENCH_RATE=0` skips it).
    if rate > 0 {
        live_lag(&store, &pool, rate).await?;
    }
    pool.close().await;
    if kept.is_none() {
        sqlx::query(&format!("drop database {db} with (force)"))
            .execute(&mut admin)
            .await?;
    }
    Ok(())
}

/// Appends `rate` commands a second for ten seconds while the projections run, and reports
/// how long each took to reach every read model.
async fn live_lag(store: &EventStore, pool: &sqlx::PgPool, rate: usize) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let config = RunConfig {
        poll_interval: Duration::from_millis(100),
        ..RunConfig::default()
    };
    let runner = tokio::spawn(projections::run(store.clone(), config, stop.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let live = support::random::commands(43, 50, rate * 10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(FeedPosition, Instant)>();
    let checker = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut lags = Vec::new();
            let mut waiting: VecDeque<(FeedPosition, Instant)> = VecDeque::new();
            let mut closed = false;
            loop {
                while let Ok(item) = rx.try_recv() {
                    waiting.push_back(item);
                }
                if rx.is_closed() && rx.is_empty() {
                    closed = true;
                }
                if let Ok(rows) = sqlx::query_as::<_, (i64, i64)>(
                    "select (tx::text)::bigint, position from feed_checkpoints where name like 'projection:%' and name not like '%:rebuild'",
                )
                .fetch_all(&pool)
                .await
                {
                    if let Some(min) = rows.iter().map(|(t, p)| FeedPosition::new(*t, *p)).min() {
                        while waiting.front().is_some_and(|(at, _)| *at <= min) {
                            if let Some((_, t0)) = waiting.pop_front() {
                                lags.push(t0.elapsed());
                            }
                        }
                    }
                }
                if closed && waiting.is_empty() {
                    return lags;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut next = Instant::now();
    for (ws, evs) in live {
        next += interval;
        let at = support::append(store, ws, evs).await;
        let _ = tx.send((at, Instant::now()));
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    drop(tx);
    let mut lags = checker.await?;
    stop.cancel();
    runner.await??;
    lags.sort();
    let pct = |p: f64| {
        lags.get(((lags.len() as f64 * p) as usize).min(lags.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "live lag at {rate} commands/s over {} commands: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        pct(1.0).as_secs_f64() * 1000.0
    );

    Ok(())
}
