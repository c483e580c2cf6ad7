//! Ordered feed reads: the whole feed from the start, decoded into envelopes by
//! [`EventStore::read_feed`], once per batch size.

use std::time::{Duration, Instant};

use event_store::{EventStore, FeedPosition};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::report::{FeedRow, Report};
use crate::Args;

/// Events inserted per statement while filling.
const FILL_CHUNK: i64 = 100_000;

/// Fills the events table with booking-sized events (the same shape as the appends) until
/// it holds `wanted` events. Filled straight with SQL: this is setup, not measured.
pub async fn fill(pool: &PgPool, wanted: u64) -> anyhow::Result<()> {
    let have: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(pool)
        .await?;
    let mut missing = wanted as i64 - have;
    if missing <= 0 {
        return Ok(());
    }
    eprintln!("filling the feed with {missing} events…");
    let started = Instant::now();
    let workspace_id = Uuid::now_v7();
    let metadata = serde_json::to_value(crate::appends::metadata())?;
    while missing > 0 {
        let n = missing.min(FILL_CHUNK);
        sqlx::query(
            "insert into events (event_id, workspace_id, stream_type, stream_id, stream_version,
                                 event_type, schema_version, data, metadata)
             select gen_random_uuid(), $1, 'booking', 'booking-' || gen_random_uuid(), 1,
                    'BookingCreated', 1,
                    jsonb_build_object(
                        'booking_id', gen_random_uuid(), 'service_id', gen_random_uuid(),
                        'staff_id', gen_random_uuid(), 'contact_id', gen_random_uuid(),
                        'start', '2026-12-01T09:00:00Z', 'end', '2026-12-01T10:30:00Z',
                        'price_cents', 8500 + g % 100, 'currency', 'EUR',
                        'status', 'confirmed', 'source', 'public'),
                    $2
             from generate_series(1, $3) as g",
        )
        .bind(workspace_id)
        .bind(&metadata)
        .bind(n)
        .execute(pool)
        .await?;
        missing -= n;
    }
    sqlx::query("vacuum analyze events").execute(pool).await?;
    eprintln!("  filled in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

pub async fn run(args: &Args, bench_url: &str, report: &mut Report) -> anyhow::Result<()> {
    let pool = event_store::connect(bench_url, &event_store::ConnectOptions::default())?;
    let store = EventStore::new(pool.clone());
    let payload_bytes: f64 =
        sqlx::query_scalar("select avg(octet_length(data::text))::float8 from events")
            .fetch_one(&pool)
            .await?;
    for &batch in &args.feed_batch {
        let pass = read_all(&store, batch).await?;
        eprintln!(
            "  feed, batch {batch}: {} events in {:.2} s, {:.0} events/s",
            pass.events,
            pass.elapsed.as_secs_f64(),
            pass.per_second()
        );
        report.feed.push(FeedRow {
            label: format!("`read_feed`, batches of {batch}"),
            decoded: true,
            pass,
            payload_bytes,
        });
    }
    // For reference: the same statement with rows fetched but not decoded (only the
    // position read), i.e. what PostgreSQL and the wire cost without the envelope decoding.
    let batch = args.feed_batch.first().copied().unwrap_or(1000);
    let pass = fetch_raw(&pool, batch).await?;
    eprintln!(
        "  feed, batch {batch}, not decoded: {} events in {:.2} s, {:.0} events/s",
        pass.events,
        pass.elapsed.as_secs_f64(),
        pass.per_second()
    );
    report.feed.push(FeedRow {
        label: format!("same SQL, rows not decoded, batches of {batch}"),
        decoded: false,
        pass,
        payload_bytes,
    });
    pool.close().await;
    Ok(())
}

/// One full pass over the feed.
pub struct Pass {
    pub events: u64,
    pub elapsed: Duration,
    pub slowest: Duration,
    /// CPU time of this process (the client) during the pass.
    pub client_cpu: Duration,
}

impl Pass {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Reads the whole feed with `read_feed`: events, time, slowest batch.
async fn read_all(store: &EventStore, batch: i64) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let cpu = crate::process_cpu();
    let mut at = FeedPosition::START;
    let mut events = 0_u64;
    let mut slowest = Duration::ZERO;
    loop {
        let t = Instant::now();
        let read = store.read_feed(at, batch).await?;
        slowest = slowest.max(t.elapsed());
        let Some(last) = read.events.last() else {
            if read.pending {
                // An open transaction somewhere on the server holds the feed back (the
                // snapshot's xmin is server-wide); wait for it like a subscription would.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            break;
        };
        at = last.feed_position();
        events += read.events.len() as u64;
    }
    Ok(Pass {
        events,
        elapsed: started.elapsed(),
        slowest,
        client_cpu: crate::process_cpu() - cpu,
    })
}

/// `read_feed`'s statement, rows fetched but left undecoded.
const RAW_FEED_SQL: &str = "select position, (tx::text)::bigint as tx, event_id, workspace_id, \
     stream_type, stream_id, stream_version, event_type, schema_version, data, metadata, recorded_at, \
     tx < (select pg_snapshot_xmin(pg_current_snapshot())) as safe \
     from events where (tx, position) > (($1::bigint)::text::xid8, $2) \
     order by events.tx, events.position limit $3";

async fn fetch_raw(pool: &PgPool, batch: i64) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let cpu = crate::process_cpu();
    let (mut tx, mut position) = (0_i64, 0_i64);
    let mut events = 0_u64;
    let mut slowest = Duration::ZERO;
    loop {
        let t = Instant::now();
        let rows = sqlx::query(RAW_FEED_SQL)
            .bind(tx)
            .bind(position)
            .bind(batch)
            .fetch_all(pool)
            .await?;
        slowest = slowest.max(t.elapsed());
        let Some(last) = rows.last() else { break };
        tx = last.try_get(1)?;
        position = last.try_get(0)?;
        events += rows.len() as u64;
    }
    Ok(Pass {
        events,
        elapsed: started.elapsed(),
        slowest,
        client_cpu: crate::process_cpu() - cpu,
    })
}
