//! Booking load: `POST /api/v1/bookings` from N concurrent clients against the whole stack
//! (HTTP, auth, load → decide → multi-stream append, the relay publishing to JetStream and
//! every projection applying), and, in the same run, the event store's own rate for an
//! equivalent multi-stream append (the same streams and events, without HTTP and domain).
//!
//! ```sh
//! cargo bench -p command-api --bench booking_load -- [--clients 32] [--seconds 20] [--markdown FILE]
//! ```
//!
//! It drops and recreates the database `careops_load_bench` on the server of `DATABASE_URL`,
//! uses its own JetStream stream (deleted at the end), and starts the API in this process on
//! a free port. Each client books its own staff member's consecutive free slots, each booking
//! for a new customer (so a contact and its email reservation are created too: the seed's
//! "Perfect Booking" minus stock). Clients and server share the machine's cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use command_api::http::rate_limit::RateLimitConfig;
use command_api::{Application, ServeConfig};
use event_store::{EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use service_runtime::secrets::SecretKeyArgs;
use service_runtime::{ConnectionArgs, Connections};
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Booking commands/s and latency against the whole CareOps stack")]
struct Args {
    /// Concurrent HTTP clients (and append writers in the reference run).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Unmeasured warm-up seconds before the HTTP phase.
    #[arg(long, default_value_t = 3)]
    warmup_seconds: u64,
    /// Database connections of the API (and of the reference appends).
    #[arg(long, default_value_t = 32)]
    db_connections: u32,
    /// Leave the read-model projections out of the API process (a diagnostic: what they cost).
    #[arg(long)]
    no_projections: bool,
    /// Leave the NATS relay out of the API process (a diagnostic).
    #[arg(long)]
    no_relay: bool,
    /// Also write the result table to this file.
    #[arg(long)]
    markdown: Option<std::path::PathBuf>,
}

const DB_NAME: &str = "careops_load_bench";
const SLOT_MINUTES: i64 = 30;
const DAY_START_HOUR: u32 = 6;
const SLOTS_PER_DAY: u32 = 32; // 06:00–22:00

struct Phase {
    name: &'static str,
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
    /// CPU seconds spent during the phase: (this process, PostgreSQL's processes).
    cpu: (f64, f64),
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
    /// CPU milliseconds per successful booking: (this process, PostgreSQL).
    fn cpu_ms_per_booking(&self) -> (f64, f64) {
        let n = self.ok.max(1) as f64;
        (1000.0 * self.cpu.0 / n, 1000.0 * self.cpu.1 / n)
    }
}

/// CPU used so far: by this process, and by the PostgreSQL processes that work for this
/// benchmark (its database's backends and the server's own background processes, such as
/// the WAL writer), read from `/proc`. What one booking costs in CPU is a steadier figure
/// than the rate on a shared 2-core machine: it does not depend on how much of the CPU
/// other work left to the benchmark.
#[derive(Debug, Clone, Default)]
struct CpuSample {
    own: u64,
    postgres: std::collections::HashMap<i32, u64>,
}

const TICKS_PER_SECOND: f64 = 100.0;

fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    // utime and stime are fields 14 and 15 of proc(5): 11 and 12 after the command name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

async fn cpu_sample(pool: &PgPool) -> CpuSample {
    let pids: Vec<i32> = sqlx::query_scalar(
        "select pid from pg_stat_activity
         where datname = current_database() or backend_type <> 'client backend'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    CpuSample {
        own: process_ticks("self").unwrap_or(0),
        postgres: pids
            .into_iter()
            .filter_map(|pid| process_ticks(&pid.to_string()).map(|t| (pid, t)))
            .collect(),
    }
}

impl CpuSample {
    /// CPU seconds from `before` to `self`: (this process, PostgreSQL). A backend that
    /// started in between counts whole; one that ended in between is lost (the pools keep
    /// theirs open for the whole run).
    fn since(&self, before: &CpuSample) -> (f64, f64) {
        let postgres: u64 = self
            .postgres
            .iter()
            .map(|(pid, t)| t - before.postgres.get(pid).copied().unwrap_or(0).min(*t))
            .sum();
        (
            self.own.saturating_sub(before.own) as f64 / TICKS_PER_SECOND,
            postgres as f64 / TICKS_PER_SECOND,
        )
    }
}

/// The same allocator as the services (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse_from(std::env::args().filter(|a| a != "--bench"));
    let base_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let nats_url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let pool = fresh_database(&base_url, args.db_connections).await?;
    let run = Uuid::now_v7().simple().to_string();
    let nats = async_nats::connect(&nats_url).await.context("NATS")?;
    let stream_name = format!("LOADBENCH_{run}");

    let config = ServeConfig {
        connections: ConnectionArgs {
            database_url: String::new(),
            nats_url: nats_url.clone(),
            db_max_connections: args.db_connections,
            data_dir: std::env::temp_dir(),
        },
        http_host: "127.0.0.1".into(),
        http_port: 0,
        max_body_bytes: 64 * 1024,
        jwt_secret: Some(format!("load-bench-secret-{run}")),
        secret_key: SecretKeyArgs {
            secret_key: Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into()),
        },
        rate_limits: RateLimitConfig {
            login_per_email_per_minute: 1000,
            login_per_ip_per_minute: 100_000,
            public_per_ip_per_minute: 1_000_000,
        },
        trusted_proxies: None,
        webhooks: command_api::routes::webhooks::WebhookConfig {
            inbound_webhook_secret: None,
            inbound_twilio_auth_token: None,
            public_api_url: None,
        },
        run_projections: !args.no_projections,
        relay: !args.no_relay,
        demo: false,
        run_notifier: false,
        notifier: default_notifier_args(),
        shutdown: service_runtime::shutdown::ShutdownArgs::default(),
        nats_stream: stream_name.clone(),
        nats_subject_prefix: format!("loadbench_{run}.events"),
    };
    let app = Application::build(
        config,
        Connections {
            pool: pool.clone(),
            nats: nats.clone(),
        },
    )
    .await?;
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(stop.clone()));

    let client = Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let setup = set_up_workspace(&client, &base, args.clients).await?;
    eprintln!(
        "load: workspace ready with {} staff; warming up {} s",
        args.clients, args.warmup_seconds
    );
    let first_day = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let cursors: Arc<Vec<AtomicU64>> =
        Arc::new((0..args.clients).map(|_| AtomicU64::new(0)).collect());
    let warm = http_phase(
        &pool,
        &client,
        &base,
        &setup,
        first_day,
        &cursors,
        Duration::from_secs(args.warmup_seconds),
    )
    .await;
    eprintln!(
        "load: warm-up booked {}; measuring {} s",
        warm.ok, args.seconds
    );
    settle(&pool).await;
    let http = http_phase(
        &pool,
        &client,
        &base,
        &setup,
        first_day,
        &cursors,
        Duration::from_secs(args.seconds),
    )
    .await;
    eprintln!(
        "load: HTTP {} bookings/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        http.rate() as u64,
        http.ms(0.5),
        http.ms(0.99),
        http.errors
    );

    let template = booking_template(&pool).await?;
    settle(&pool).await;
    let store = EventStore::new(pool.clone());
    let reference = append_phase(
        &store,
        &template,
        args.clients,
        Duration::from_secs(args.seconds),
    )
    .await;
    eprintln!(
        "load: equivalent append {} bookings/s, p50 {:.2} ms, p99 {:.2} ms",
        reference.rate() as u64,
        reference.ms(0.5),
        reference.ms(0.99)
    );

    stop.cancel();
    server.await.ok();
    let js = async_nats::jetstream::new(nats);
    js.delete_stream(&stream_name).await.ok();

    let table = report(&args, &template, &http, &reference);
    println!("{table}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &table)?;
    }
    Ok(())
}

/// Before a phase: the planner's statistics, and a checkpoint so that the server writes out
/// what earlier work left dirty (best effort, it needs a superuser); otherwise a phase pays
/// for the flush of the one before it, and back-to-back runs measure each other.
async fn settle(pool: &PgPool) {
    // Statistics as autovacuum keeps them in a database that has been running a while (a
    // new one has none, and plans by guesswork).
    if let Err(error) = sqlx::query("analyze").execute(pool).await {
        eprintln!("load: no analyze before the phase ({error})");
    }
    if let Err(error) = sqlx::query("checkpoint").execute(pool).await {
        eprintln!("load: no checkpoint before the phase ({error})");
    }
}

async fn fresh_database(base_url: &str, connections: u32) -> anyhow::Result<PgPool> {
    let mut admin = PgConnection::connect(base_url).await?;
    sqlx::query(&format!("drop database if exists {DB_NAME} with (force)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("create database {DB_NAME}"))
        .execute(&mut admin)
        .await?;
    if std::env::var_os("CAREOPS_BENCH_LOG_STATEMENTS").is_some() {
        // A diagnostic: every statement of the benchmark's database with its duration, in
        // the server's log.
        sqlx::query(&format!(
            "alter database {DB_NAME} set log_min_duration_statement = 0"
        ))
        .execute(&mut admin)
        .await?;
    }
    let url = match base_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{DB_NAME}"),
        None => bail!("DATABASE_URL has no database part"),
    };
    // The pool as the services open it (`event_store::connect`).
    let pool = event_store::connect(
        &url,
        &event_store::ConnectOptions {
            max_connections: connections + 8,
            ..Default::default()
        },
    )?;
    event_store::MIGRATOR.run(&pool).await?;
    Ok(pool)
}

struct Setup {
    token: String,
    service_id: String,
    staff: Vec<String>,
}

async fn call(
    client: &Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {body}");
    }
    Ok(body)
}

async fn set_up_workspace(
    client: &Client,
    base: &str,
    staff_count: usize,
) -> anyhow::Result<Setup> {
    let created = call(
        client,
        format!("{base}/onboarding/workspaces"),
        None,
        json!({"name": "Load Salon", "timezone": "UTC", "currency": "EUR",
               "owner": {"name": "Lena Load", "email": "owner@load.example", "password": "load bench password"}}),
    )
    .await?;
    let token = created["access_token"]
        .as_str()
        .context("token")?
        .to_string();
    let services = call(
        client,
        format!("{base}/onboarding/services"),
        Some(&token),
        json!({"services": [{"name": "Cut", "duration_minutes": SLOT_MINUTES, "price_cents": 3000, "inventory": []}]}),
    )
    .await?;
    let service_id = services["services"][0]["id"]
        .as_str()
        .context("service")?
        .to_string();
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "06:00", "end": "22:00"}))
        .collect();
    let mut staff = Vec::new();
    for i in 0..staff_count {
        let member = call(
            client,
            format!("{base}/staff"),
            Some(&token),
            json!({"name": format!("Stylist {i}"), "email": format!("stylist{i}@load.example")}),
        )
        .await?;
        let id = member["id"].as_str().context("staff id")?.to_string();
        let response = client
            .put(format!("{base}/staff/{id}/availability"))
            .bearer_auth(&token)
            .json(&json!({"weekly": weekly, "exceptions": []}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("availability: {}", response.status());
        }
        staff.push(id);
    }
    call(
        client,
        format!("{base}/onboarding/activate"),
        Some(&token),
        json!({}),
    )
    .await?;
    Ok(Setup {
        token,
        service_id,
        staff,
    })
}

/// The start of a client's `n`-th slot.
fn slot_start(first_day: NaiveDate, n: u64) -> DateTime<Utc> {
    let day = n / u64::from(SLOTS_PER_DAY);
    let slot = n % u64::from(SLOTS_PER_DAY);
    let date = first_day + chrono::Days::new(day);
    let start = date
        .and_hms_opt(DAY_START_HOUR, 0, 0)
        .unwrap_or_default()
        .and_utc();
    start + chrono::Duration::minutes(SLOT_MINUTES * slot as i64)
}

async fn http_phase(
    pool: &PgPool,
    client: &Client,
    base: &str,
    setup: &Setup,
    first_day: NaiveDate,
    cursors: &Arc<Vec<AtomicU64>>,
    length: Duration,
) -> Phase {
    let cpu_before = cpu_sample(pool).await;
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::new();
    for (i, staff_id) in setup.staff.iter().enumerate() {
        let client = client.clone();
        let url = format!("{base}/bookings");
        let token = setup.token.clone();
        let service_id = setup.service_id.clone();
        let staff_id = staff_id.clone();
        let cursors = cursors.clone();
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let (mut ok, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                let n = cursors[i].fetch_add(1, Ordering::Relaxed);
                let start = slot_start(first_day, n);
                let body = json!({"service_id": service_id, "staff_id": staff_id,
                    "start": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "contact": {"name": format!("Guest {i}-{n}"), "email": format!("guest{i}.{n}@load.example")}});
                let sent = Instant::now();
                let result = client.post(&url).bearer_auth(&token).json(&body).send().await;
                let micros = sent.elapsed().as_micros() as u64;
                match result {
                    Ok(response) if response.status() == StatusCode::CREATED => {
                        response.bytes().await.ok();
                        latency.record(micros.max(1)).ok();
                        ok += 1;
                    }
                    Ok(response) => {
                        errors += 1;
                        if errors <= 3 {
                            let status = response.status();
                            let text = response.text().await.unwrap_or_default();
                            eprintln!("load: client {i}: {status} {text}");
                        }
                    }
                    Err(error) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("load: client {i}: {error}");
                        }
                    }
                }
            }
            (ok, errors, latency)
        }));
    }
    collect(
        "POST /bookings over HTTP (whole stack)",
        started,
        pool,
        cpu_before,
        tasks,
    )
    .await
}

async fn collect(
    name: &'static str,
    started: Instant,
    pool: &PgPool,
    cpu_before: CpuSample,
    tasks: Vec<tokio::task::JoinHandle<(u64, u64, Histogram<u64>)>>,
) -> Phase {
    let mut phase = Phase {
        name,
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::new(3).expect("histogram"),
        cpu: (0.0, 0.0),
    };
    for task in tasks {
        if let Ok((ok, errors, latency)) = task.await {
            phase.ok += ok;
            phase.errors += errors;
            phase.latency.add(&latency).ok();
        }
    }
    phase.elapsed = started.elapsed();
    phase.cpu = cpu_sample(pool).await.since(&cpu_before);
    phase
}

/// One stream of the template: type, id, and its events (type, schema version, payload).
type TemplateStream = (String, String, Vec<(String, i32, Value)>);

/// The streams and events one real booking appended (read back from the store).
struct Template {
    streams: Vec<TemplateStream>,
    events: usize,
    bytes: usize,
}

async fn booking_template(pool: &PgPool) -> anyhow::Result<Template> {
    let rows: Vec<(String, String, String, i32, Value)> = sqlx::query_as(
        "select stream_type, stream_id, event_type, schema_version, data from events
         where tx = (select tx from events where event_type = 'BookingCreated'
                     order by position desc limit 1)
         order by position",
    )
    .fetch_all(pool)
    .await?;
    let mut streams: Vec<TemplateStream> = Vec::new();
    let mut bytes = 0;
    for (stream_type, stream_id, event_type, version, data) in rows.iter().cloned() {
        bytes += data.to_string().len();
        match streams.iter_mut().find(|(_, id, _)| *id == stream_id) {
            Some((_, _, events)) => events.push((event_type, version, data)),
            None => streams.push((stream_type, stream_id, vec![(event_type, version, data)])),
        }
    }
    if streams.is_empty() {
        bail!("no booking was recorded");
    }
    Ok(Template {
        events: rows.len(),
        bytes,
        streams,
    })
}

/// Appends the template's streams per "booking": new ids for every stream except the
/// calendar, which (as in the HTTP run) takes one writer's whole day of slots with
/// `Exact(version)` checks.
async fn append_phase(
    store: &EventStore,
    template: &Template,
    writers: usize,
    length: Duration,
) -> Phase {
    let cpu_before = cpu_sample(store.pool()).await;
    let started = Instant::now();
    let deadline = started + length;
    let workspace_id = Uuid::now_v7();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let store = store.clone();
        let streams = template.streams.clone();
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut n: u64 = 0;
            let metadata = Metadata {
                actor_id: Some(Uuid::now_v7()),
                actor_role: Some("owner".into()),
                correlation_id: Some(Uuid::now_v7().to_string()),
                causation_id: None,
                request_id: None,
            };
            while Instant::now() < deadline {
                let slot = n % u64::from(SLOTS_PER_DAY);
                let day = n / u64::from(SLOTS_PER_DAY);
                let writes: Vec<StreamWrite> = streams
                    .iter()
                    .map(|(stream_type, _, events)| {
                        let events: Vec<NewEvent> = events
                            .iter()
                            .map(|(t, v, d)| NewEvent::new(t.clone(), *v, d.clone()))
                            .collect();
                        if stream_type == "calendar" {
                            StreamWrite::new(
                                stream_type.clone(),
                                format!("calendar-bench-{writer}-{day}"),
                                ExpectedVersion::Exact(slot),
                                events,
                            )
                        } else {
                            StreamWrite::new(
                                stream_type.clone(),
                                format!("{stream_type}-{}", Uuid::now_v7()),
                                ExpectedVersion::NoStream,
                                events,
                            )
                        }
                    })
                    .collect();
                let sent = Instant::now();
                match store.append(workspace_id, &metadata, &writes).await {
                    Ok(_) => {
                        latency
                            .record((sent.elapsed().as_micros() as u64).max(1))
                            .ok();
                        ok += 1;
                        n += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            (ok, errors, latency)
        }));
    }
    collect(
        "event store: equivalent multi-stream append",
        started,
        store.pool(),
        cpu_before,
        tasks,
    )
    .await
}

fn report(args: &Args, template: &Template, http: &Phase, reference: &Phase) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} clients, {} s measured per phase; one booking = {} streams, {} events, {} payload bytes\n\n",
        args.clients,
        args.seconds,
        template.streams.len(),
        template.events,
        template.bytes
    ));
    out.push_str("| phase | bookings | bookings/s | p50 ms | p99 ms | max ms | errors | CPU ms/booking: bench process | PostgreSQL |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for phase in [http, reference] {
        let (own, postgres) = phase.cpu_ms_per_booking();
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.2} | {:.2} |\n",
            phase.name,
            phase.ok,
            phase.rate(),
            phase.ms(0.5),
            phase.ms(0.99),
            phase.latency.max() as f64 / 1000.0,
            phase.errors,
            own,
            postgres
        ));
    }
    out.push_str(&format!(
        "\nHTTP rate / equivalent append rate: {:.0} %\n",
        100.0 * http.rate() / reference.rate().max(1.0)
    ));
    out
}

/// The notifier's settings as flags and environment give them (it is not run here).
fn default_notifier_args() -> notifier::NotifierArgs {
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        args: notifier::NotifierArgs,
    }
    <Flags as clap::Parser>::parse_from(["careops"]).args
}
