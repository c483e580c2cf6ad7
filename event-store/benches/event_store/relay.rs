//! The relay into JetStream: `event_store::relay::run` publishes the newest
//! `--relay-events` events of the feed to a stream of its own; timed from its start until
//! its checkpoint reaches the last event. The stream is deleted afterwards.

use std::time::{Duration, Instant};

use anyhow::Context;
use event_store::relay::{self, RelayConfig};
use event_store::{checkpoint, EventStore, FeedPosition};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::report::{RelayRow, Report};
use crate::Args;

pub async fn run(args: &Args, bench_url: &str, report: &mut Report) -> anyhow::Result<()> {
    let pool = event_store::connect(bench_url, &event_store::ConnectOptions::default())?;
    let store = EventStore::new(pool.clone());
    let nats = async_nats::connect(&args.nats_url)
        .await
        .context("connecting to NATS")?;
    let jetstream = async_nats::jetstream::new(nats.clone());

    let tag = Uuid::now_v7().simple().to_string();
    let config = RelayConfig {
        stream_name: format!("BENCH_EVENTS_{tag}"),
        subject_prefix: format!("bench_{tag}.events"),
        checkpoint_name: format!("bench-relay-{tag}"),
        ..RelayConfig::default()
    };

    // Start the relay just before the newest `relay_events` events.
    let total: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await?;
    let events = (args.relay_events as i64).min(total);
    let skip = total - events;
    let last: (i64, i64) = sqlx::query_as(
        "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&pool)
    .await?;
    let last = FeedPosition::new(last.0, last.1);
    if skip > 0 {
        let start: (i64, i64) = sqlx::query_as(
            "select (tx::text)::bigint, position from events
             order by tx, position offset $1 - 1 limit 1",
        )
        .bind(skip)
        .fetch_one(&pool)
        .await?;
        let mut conn = pool.acquire().await?;
        checkpoint::save(
            &mut conn,
            &config.checkpoint_name,
            FeedPosition::new(start.0, start.1),
        )
        .await?;
    }

    let stop = CancellationToken::new();
    let started = Instant::now();
    let relay = tokio::spawn(relay::run(
        store.clone(),
        nats.clone(),
        config.clone(),
        stop.clone(),
    ));
    let deadline = started + Duration::from_secs(args.relay_max_seconds);
    let mut reached = checkpoint::load(&pool, &config.checkpoint_name).await?;
    while reached < last && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        reached = checkpoint::load(&pool, &config.checkpoint_name).await?;
    }
    let elapsed = started.elapsed();
    stop.cancel();
    relay.await?;

    let published = match jetstream.get_stream(&config.stream_name).await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    };
    let relayed: i64 = sqlx::query_scalar(
        "select count(*) from events where (tx, position) <= (($1::bigint)::text::xid8, $2)",
    )
    .bind(reached.tx)
    .bind(reached.position)
    .fetch_one(&pool)
    .await?;
    let relayed = (relayed - skip).max(0) as u64;

    jetstream
        .delete_stream(&config.stream_name)
        .await
        .map_err(|e| anyhow::anyhow!("deleting stream {}: {e}", config.stream_name))?;
    let mut conn = pool.acquire().await?;
    checkpoint::reset(&mut conn, &config.checkpoint_name).await?;
    drop(conn);
    pool.close().await;

    eprintln!(
        "  relay: {relayed} of {events} events in {:.2} s ({published} in JetStream), {:.0} events/s",
        elapsed.as_secs_f64(),
        relayed as f64 / elapsed.as_secs_f64()
    );
    if reached < last {
        eprintln!("  relay: time box reached before the last event; the figure is partial");
    }
    report.relay = Some(RelayRow {
        events: relayed,
        published,
        elapsed,
        batch_size: config.batch_size,
        complete: reached >= last,
    });
    Ok(())
}
