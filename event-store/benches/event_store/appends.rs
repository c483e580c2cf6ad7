//! Appends of single-event commands to distinct new streams, per writer count.
//!
//! Systems, all on the same server, with pools of the same size:
//! - `careops append`: [`EventStore::append`] with [`ExpectedVersion::NoStream`];
//! - `careops append_in, no wake-up`: the same statement without the LISTEN/NOTIFY wake-up
//!   `append` sends after each commit (to tell the two costs apart);
//! - `careops read + append`: `read_stream` then the same append, the shape of cqrs-es'
//!   `execute` (load the aggregate, then commit) for a like-for-like peer comparison;
//! - `careops append, personal data`: the same append with one personal field (`notes`) of
//!   a new data subject each time, the worst case of crypto-shredding (a key created, then
//!   the field encrypted; two statements);
//! - `ceiling`: `BEGIN; INSERT …; COMMIT` of an equally sized row into the same events
//!   table, one prepared statement, no version logic;
//! - `postgres-es`: `CqrsFramework::execute` on a new aggregate id per command.
//!
//! Inputs (payloads, ids) are built before the clock starts; only the store call is timed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use event_store::{EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use hdrhistogram::Histogram;
use sqlx::PgPool;
use uuid::Uuid;

use crate::peer::{self, PeerCqrs};
use crate::report::{AppendRow, Report};
use crate::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    CareOps,
    CareOpsNoWakeup,
    CareOpsReadAppend,
    CareOpsPersonal,
    Ceiling,
    PostgresEs,
}

impl System {
    pub const ALL: [System; 6] = [
        System::CareOps,
        System::CareOpsNoWakeup,
        System::CareOpsReadAppend,
        System::CareOpsPersonal,
        System::Ceiling,
        System::PostgresEs,
    ];

    pub fn label(self) -> &'static str {
        match self {
            System::CareOps => "careops append (NoStream)",
            System::CareOpsNoWakeup => "careops append_in, no wake-up",
            System::CareOpsReadAppend => "careops read_stream + append",
            System::CareOpsPersonal => "careops append, personal data",
            System::Ceiling => "ceiling: BEGIN; INSERT; COMMIT",
            System::PostgresEs => "postgres-es 0.5 execute",
        }
    }
}

const CEILING_SQL: &str = "insert into events (event_id, workspace_id, stream_type, stream_id, \
     stream_version, event_type, schema_version, data, metadata) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Everything a writer needs, one set of pools per writer count.
struct Systems {
    store: EventStore,
    ceiling: PgPool,
    peer: PeerCqrs,
    workspace_id: Uuid,
    metadata: Metadata,
    metadata_json: serde_json::Value,
}

/// One command's input, built before timing.
struct Input {
    stream_id: String,
    event: NewEvent,
    peer: Option<peer::PeerInput>,
}

impl Systems {
    fn input(&self, system: System, n: u64) -> anyhow::Result<Input> {
        let id = Uuid::now_v7();
        let mut event = NewEvent::new("BookingCreated", 1, booking_payload(n));
        if system == System::CareOpsPersonal {
            let subject = Uuid::now_v7();
            event.data["contact_id"] = serde_json::json!(subject);
            event.data["notes"] = serde_json::json!("prefers the window seat");
            event = event.with_personal_fields(subject, ["notes"]);
        }
        Ok(match system {
            System::PostgresEs => Input {
                stream_id: id.to_string(),
                peer: Some(peer::input(event.data.clone(), &self.metadata)?),
                event,
            },
            _ => Input {
                stream_id: format!("booking-{id}"),
                event,
                peer: None,
            },
        })
    }

    async fn run_one(&self, system: System, input: Input) -> anyhow::Result<()> {
        match system {
            System::CareOps | System::CareOpsPersonal => {
                self.store
                    .append(
                        self.workspace_id,
                        &self.metadata,
                        &[StreamWrite::new(
                            "booking",
                            input.stream_id,
                            ExpectedVersion::NoStream,
                            vec![input.event],
                        )],
                    )
                    .await?;
            }
            System::CareOpsNoWakeup => {
                // The same statement on a pooled connection in autocommit, without the
                // wake-up that `append` sends after committing.
                let mut conn = self.store.pool().acquire().await?;
                self.store
                    .append_in(
                        &mut conn,
                        self.workspace_id,
                        &self.metadata,
                        &[StreamWrite::new(
                            "booking",
                            input.stream_id,
                            ExpectedVersion::NoStream,
                            vec![input.event],
                        )],
                    )
                    .await?;
            }
            System::CareOpsReadAppend => {
                let existing = self.store.read_stream(&input.stream_id, 0).await?;
                anyhow::ensure!(existing.is_empty(), "a new stream has events");
                self.store
                    .append(
                        self.workspace_id,
                        &self.metadata,
                        &[StreamWrite::new(
                            "booking",
                            input.stream_id,
                            ExpectedVersion::NoStream,
                            vec![input.event],
                        )],
                    )
                    .await?;
            }
            System::Ceiling => {
                let mut tx = self.ceiling.begin().await?;
                sqlx::query(CEILING_SQL)
                    .bind(input.event.event_id)
                    .bind(self.workspace_id)
                    .bind("booking")
                    .bind(&input.stream_id)
                    .bind(1_i64)
                    .bind(&input.event.event_type)
                    .bind(input.event.schema_version)
                    .bind(&input.event.data)
                    .bind(&self.metadata_json)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            System::PostgresEs => {
                let command = input.peer.context("no peer input")?;
                peer::execute(&self.peer, &input.stream_id, command).await?;
            }
        }
        Ok(())
    }
}

/// A booking-sized payload (~350 bytes), the same as the tests' `booking_payload`.
pub fn booking_payload(n: u64) -> serde_json::Value {
    serde_json::json!({
        "booking_id": Uuid::now_v7(),
        "service_id": Uuid::now_v7(),
        "staff_id": Uuid::now_v7(),
        "contact_id": Uuid::now_v7(),
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T10:30:00Z",
        "price_cents": 8500 + n % 100,
        "currency": "EUR",
        "status": "confirmed",
        "source": "public",
    })
}

/// The metadata every benchmark command carries.
pub fn metadata() -> Metadata {
    Metadata {
        actor_id: Some(Uuid::now_v7()),
        actor_role: Some("owner".into()),
        correlation_id: Some(Uuid::now_v7().to_string()),
        causation_id: None,
        request_id: Some(Uuid::now_v7().to_string()),
    }
}

/// The result of one system at one writer count, summed over its rounds.
pub struct Measured {
    pub events: u64,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
    pub errors: u64,
}

impl Measured {
    fn new() -> Self {
        Self {
            events: 0,
            elapsed: Duration::ZERO,
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
            errors: 0,
        }
    }

    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.latency_us.value_at_quantile(q))
    }
}

pub async fn run(args: &Args, bench_url: &str, report: &mut Report) -> anyhow::Result<()> {
    let per_round = args.events / args.rounds;
    let round_box = Duration::from_secs(args.max_seconds) / args.rounds as u32;
    for &writers in &args.writers {
        let options = event_store::ConnectOptions {
            // One connection per writer, plus one for the store's wake-up notifications.
            max_connections: writers as u32 + 1,
            ..Default::default()
        };
        let ceiling = event_store::connect(bench_url, &options)?;
        let systems = Arc::new(Systems {
            store: EventStore::new(event_store::connect(bench_url, &options)?),
            peer: peer::cqrs(event_store::connect(bench_url, &options)?),
            ceiling,
            workspace_id: Uuid::now_v7(),
            metadata: metadata(),
            metadata_json: serde_json::to_value(metadata())?,
        });
        // Warm up: open the connections, prepare the statements, fill the caches.
        for system in System::ALL {
            let warm = (writers as u64 * 50).min(per_round);
            burst(&systems, system, writers, warm, Duration::from_secs(20))
                .await
                .with_context(|| format!("warming up {}", system.label()))?;
        }
        let mut results: Vec<(System, Measured)> =
            System::ALL.iter().map(|s| (*s, Measured::new())).collect();
        for round in 0..args.rounds as usize {
            for k in 0..System::ALL.len() {
                let (system, total) = &mut results[(round + k) % System::ALL.len()];
                let m = burst(&systems, *system, writers, per_round, round_box)
                    .await
                    .with_context(|| format!("measuring {}", system.label()))?;
                eprintln!(
                    "  appends, {writers:>2} writers, round {}: {:<32} {:>8.0} events/s",
                    round + 1,
                    system.label(),
                    m.per_second()
                );
                total.events += m.events;
                total.elapsed += m.elapsed;
                total.errors += m.errors;
                total.latency_us.add(&m.latency_us)?;
            }
        }
        for (system, m) in results {
            report.appends.push(AppendRow {
                system,
                writers,
                measured: m,
            });
        }
        systems.store.pool().close().await;
        systems.ceiling.close().await;
        peer::close(&systems.peer).await;
    }
    Ok(())
}

/// `events` commands of one system by `writers` concurrent writers, stopping early at the
/// time box.
async fn burst(
    systems: &Arc<Systems>,
    system: System,
    writers: usize,
    events: u64,
    time_box: Duration,
) -> anyhow::Result<Measured> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + time_box;
    let mut tasks = Vec::with_capacity(writers);
    for _ in 0..writers {
        let systems = systems.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut m = Measured::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events || Instant::now() >= deadline {
                    return Ok::<_, anyhow::Error>(m);
                }
                let input = systems.input(system, n)?;
                let t = Instant::now();
                let result = systems.run_one(system, input).await;
                let took = t.elapsed();
                match result {
                    Ok(()) => {
                        m.events += 1;
                        m.latency_us
                            .saturating_record(took.as_micros().max(1) as u64);
                    }
                    Err(error) => {
                        m.errors += 1;
                        if m.errors > 10 {
                            return Err(error);
                        }
                    }
                }
            }
        }));
    }
    let mut total = Measured::new();
    for task in tasks {
        let m = task.await??;
        total.events += m.events;
        total.errors += m.errors;
        total.latency_us.add(&m.latency_us)?;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
