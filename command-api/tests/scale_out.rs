//! Scale-out on one machine, with real processes: two `command-api` processes (each a relay
//! candidate, neither running projections or the notifier), a `projections run` process and
//! two `notifier run` processes, against one PostgreSQL database and one NATS server.
//!
//! Bookings go through both APIs; the read models (bookings, dashboard stats, contacts,
//! inventory levels, alerts) answer what the commands did; every notification is recorded
//! once and delivered once, counted at a local SMTP sink (the notifiers' email provider:
//! unlike files named by notification id, a second delivery there is a second message);
//! exactly one relay holds the lead, and when its process is killed (SIGKILL: no goodbye)
//! the other takes over within seconds and publishes what was appended meanwhile. The
//! projections and notifier processes serve their health listeners, which the test waits on.
//!
//! The sibling binaries (`projections`, `notifier`) are those `cargo test --workspace` builds
//! next to this package's `command-api`.

#[path = "../../notifier/tests/support/smtp_sink.rs"]
mod smtp_sink;
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Europe::London;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use smtp_sink::SmtpSink;
use sqlx::PgPool;
use uuid::Uuid;

/// A child process killed when the test ends, however it ends.
struct Process {
    name: &'static str,
    child: Child,
}

impl Process {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn binary(name: &str) -> PathBuf {
    let api = PathBuf::from(env!("CARGO_BIN_EXE_command-api"));
    let path = api.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run the suite with `cargo test --workspace` (deploy/test.sh), which builds it",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The URL of the test's own database, named for `pg_stat_activity`.
fn database_url(pool: &PgPool, application: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let database = pool
        .connect_options()
        .get_database()
        .expect("a database name")
        .to_string();
    let server = base
        .rsplit_once('/')
        .map(|(s, _)| s)
        .unwrap_or(&base)
        .to_string();
    format!("{server}/{database}?application_name={application}")
}

struct Cluster {
    pool: PgPool,
    env: Vec<(String, String)>,
    logs: PathBuf,
}

impl Cluster {
    fn start(
        &self,
        name: &'static str,
        program: &Path,
        args: &[&str],
        extra: &[(&str, String)],
    ) -> Process {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log"))).expect("log file");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,sqlx=warn")
            .env("CAREOPS_LOG_FORMAT", "json")
            // Five processes and the rest of the suite share one server's connections.
            .env("CAREOPS_DB_MAX_CONNECTIONS", "4")
            .env("DATABASE_URL", database_url(&self.pool, name))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for (key, value) in extra {
            command.env(key, value);
        }
        Process {
            name,
            child: command
                .spawn()
                .unwrap_or_else(|e| panic!("starting {name}: {e}")),
        }
    }

    /// The connections (by `application_name`) holding the relay's leadership lock in this
    /// database.
    async fn relay_leaders(&self) -> Vec<String> {
        sqlx::query_scalar(
            "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
             where l.locktype = 'advisory' and l.granted
               and l.classid = hashtext('careops.relay')::oid
               and l.database = (select oid from pg_database where datname = current_database())",
        )
        .fetch_all(&self.pool)
        .await
        .expect("pg_locks")
    }
}

/// Waits until `base/ready` answers 200 (an API, or a health listener).
async fn wait_ready(client: &Client, base: &str, process: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/ready")).send().await {
            if response.status() == StatusCode::OK {
                return;
            }
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!("{} exited early: {status}", process.name);
        }
        assert!(
            Instant::now() < deadline,
            "{} never became ready",
            process.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ok_json(response: reqwest::Response) -> (Value, Option<String>) {
    let status = response.status();
    let position = response
        .headers()
        .get("x-careops-position")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    (body, position)
}

async fn until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A header of a raw message (`X-CareOps-Kind: booking_confirmation`).
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .take_while(|line| !line.is_empty() && *line != "\r")
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
}

/// What the SMTP sink received: (kind, recipient) → notification ids, one per message.
fn received(sink: &SmtpSink) -> HashMap<(String, String), Vec<String>> {
    let mut by_kind = HashMap::<(String, String), Vec<String>>::new();
    for raw in sink.received() {
        let raw = String::from_utf8_lossy(&raw).to_string();
        let field = |name| header(&raw, name).unwrap_or_default().to_string();
        let to = field("To");
        let to = to
            .rsplit_once('<')
            .map(|(_, a)| a.trim_end_matches('>').to_string())
            .unwrap_or(to);
        by_kind
            .entry((field("X-CareOps-Kind"), to))
            .or_default()
            .push(field("X-CareOps-Notification-Id"));
    }
    by_kind
}

/// A start within the next 24 hours, at least two hours ahead, at a London time the
/// salon's all-day hours allow for two visits in a row (not across local midnight).
fn soon() -> DateTime<Utc> {
    let in_two_hours = (Utc::now() + chrono::Duration::hours(2)).timestamp();
    let candidate = DateTime::from_timestamp(in_two_hours - in_two_hours % 60, 0).unwrap();
    let hour = candidate.with_timezone(&London).hour();
    if (1..22).contains(&hour) {
        return candidate;
    }
    // Late in the evening or at night: the next 09:00 local, still within 24 hours.
    let mut date = candidate.with_timezone(&London).date_naive();
    if hour >= 22 {
        date = date.succ_opt().unwrap();
    }
    date.and_hms_opt(9, 0, 0)
        .unwrap()
        .and_local_timezone(London)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

async fn published(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn two_apis_two_notifiers_and_a_projections_process_share_one_system(pool: PgPool) {
    let run = Uuid::now_v7().simple().to_string();
    let scratch = std::env::temp_dir().join(format!("careops-scale-{run}"));
    let outbox = scratch.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let stream = format!("SCALE_{run}");
    let sink = SmtpSink::start().await;
    let cluster = Cluster {
        pool: pool.clone(),
        env: vec![
            ("NATS_URL".into(), support::nats_url()),
            ("CAREOPS_DATA_DIR".into(), scratch.display().to_string()),
            ("CAREOPS_OUTBOX_DIR".into(), outbox.display().to_string()),
            ("CAREOPS_NATS_STREAM".into(), stream.clone()),
            (
                "CAREOPS_NATS_SUBJECT_PREFIX".into(),
                format!("scale_{run}.events"),
            ),
            ("CAREOPS_NOTIFIER_CONSUMER".into(), format!("scale_{run}")),
            (
                "CAREOPS_JWT_SECRET".into(),
                format!("scale-out-test-secret-{run}"),
            ),
            ("CAREOPS_SECRET_KEY".into(), support::TEST_SECRET_KEY.into()),
        ],
        logs: scratch.clone(),
    };
    let api = binary("command-api");
    let api_only = |port: u16| {
        vec![
            ("CAREOPS_HTTP_HOST", "127.0.0.1".to_string()),
            ("CAREOPS_HTTP_PORT", port.to_string()),
            ("CAREOPS_RUN_PROJECTIONS", "false".to_string()),
            ("CAREOPS_RUN_NOTIFIER", "false".to_string()),
            ("CAREOPS_RELAY", "true".to_string()),
        ]
    };
    let with_health = |port: u16| {
        vec![
            ("CAREOPS_HEALTH_HOST", "127.0.0.1".to_string()),
            ("CAREOPS_HEALTH_PORT", port.to_string()),
        ]
    };
    let notifier_env = |port: u16| {
        let mut env = with_health(port);
        env.extend([
            ("CAREOPS_EMAIL_PROVIDER", "smtp".to_string()),
            ("CAREOPS_SMTP_URL", sink.url()),
        ]);
        env
    };
    let (port1, port2) = (free_port(), free_port());
    let (projections_port, notifier1_port, notifier2_port) =
        (free_port(), free_port(), free_port());
    let mut api1 = cluster.start("api1", &api, &["serve"], &api_only(port1));
    let mut api2 = cluster.start("api2", &api, &["serve"], &api_only(port2));
    let mut projections = cluster.start(
        "projections",
        &binary("projections"),
        &["run"],
        &with_health(projections_port),
    );
    let mut notifier1 = cluster.start(
        "notifier1",
        &binary("notifier"),
        &["run"],
        &notifier_env(notifier1_port),
    );
    let mut notifier2 = cluster.start(
        "notifier2",
        &binary("notifier"),
        &["run"],
        &notifier_env(notifier2_port),
    );

    let client = Client::new();
    let base1 = format!("http://127.0.0.1:{port1}");
    let base2 = format!("http://127.0.0.1:{port2}");
    wait_ready(&client, &base1, &mut api1).await;
    wait_ready(&client, &base2, &mut api2).await;
    // The processes without an API answer their probes too: the notifiers once their shared
    // consumer exists.
    for (port, process) in [
        (projections_port, &mut projections),
        (notifier1_port, &mut notifier1),
        (notifier2_port, &mut notifier2),
    ] {
        wait_ready(&client, &format!("http://127.0.0.1:{port}"), process).await;
        let health = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK, "{}", process.name);
    }
    let (v1, v2) = (format!("{base1}/api/v1"), format!("{base2}/api/v1"));

    // Set up through both APIs: tokens of one are good at the other. Open around the clock,
    // no minimum notice and no reminders (so that the visits of the next hours send exactly
    // their confirmations and notices while the test runs).
    let (created, _) = ok_json(
        client
            .post(format!("{v1}/onboarding/workspaces"))
            .json(&json!({"name": "Scale Salon", "slug": "scale-salon", "timezone": "Europe/London",
                          "owner": {"name": "Sam Scale", "email": "sam@scale.example", "password": "correct horse battery"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = created["access_token"].as_str().unwrap().to_string();
    let stock = 20;
    let (items, _) = ok_json(
        client
            .post(format!("{v1}/onboarding/inventory"))
            .bearer_auth(&token)
            .json(&json!({"items": [{"name": "Styling Wax", "unit": "tin", "quantity": stock, "threshold": 5}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let wax = items["items"][0]["id"].as_str().unwrap().to_string();
    let (services, _) = ok_json(
        client
            .post(format!("{v2}/onboarding/services"))
            .bearer_auth(&token)
            .json(
                &json!({"services": [{"name": "Cut", "duration_minutes": 30, "price_cents": 3000,
                                        "inventory": [{"item_id": wax, "quantity": 1}]}]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let service = services["services"][0]["id"].as_str().unwrap().to_string();
    let owner_id = support::user_id_of(&token);
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "23:59"}))
        .collect();
    ok_json(
        client
            .put(format!("{v1}/staff/{owner_id}/availability"))
            .bearer_auth(&token)
            .json(&json!({"weekly": weekly, "exceptions": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ok_json(
        client
            .put(format!("{v2}/workspace"))
            .bearer_auth(&token)
            .json(&json!({"notifications": {"minimum_notice_minutes": 0, "reminder_offsets_minutes": []}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ok_json(
        client
            .post(format!("{v2}/onboarding/activate"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Visits 0 and 1 within the next 24 hours, the others three days ahead.
    let soon = soon();
    let day = (Utc::now() + chrono::Duration::days(3)).date_naive();
    let start_of = |n: usize| match n {
        0 | 1 => soon + chrono::Duration::minutes(30 * n as i64),
        n => day.and_hms_opt(8, 0, 0).unwrap().and_utc() + chrono::Duration::minutes(30 * n as i64),
    };
    let book = |base: String, n: usize| {
        let client = client.clone();
        let service = service.clone();
        async move {
            client
                .post(format!("{base}/public/scale-salon/bookings"))
                .json(&json!({"service_id": service, "start": start_of(n),
                              "contact": {"name": format!("Guest {n}"), "email": format!("guest{n}@scale.example")}}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut last_position = None;
    for n in 0..12 {
        let base = if n % 2 == 0 { v1.clone() } else { v2.clone() };
        let (_, position) = ok_json(book(base, n).await).await;
        last_position = position;
    }

    // Exactly one relay leads.
    until("one relay leader", Duration::from_secs(10), || async {
        cluster.relay_leaders().await.len() == 1
    })
    .await;
    // Which process leads: the relay's lock connection names itself `careops`, so ask the
    // processes' logs.
    let leading = |name: &str| {
        std::fs::read_to_string(cluster.logs.join(format!("{name}.log")))
            .map(|log| log.contains("relay took the lead"))
            .unwrap_or(false)
    };
    let leaders: Vec<&str> = ["api1", "api2"]
        .into_iter()
        .filter(|n| leading(n))
        .collect();
    assert_eq!(leaders.len(), 1, "exactly one relay leads: {leaders:?}");

    // The projections process serves both APIs' reads.
    for base in [&v1, &v2] {
        let (list, _) = ok_json(
            client
                .get(format!("{base}/bookings?limit=200"))
                .bearer_auth(&token)
                .header("X-CareOps-Min-Position", last_position.clone().unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(12));
    }

    // Kill the leading API process outright; the other takes over and publishes the rest.
    let nats = async_nats::connect(support::nats_url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let (killed, survivor) = if leaders[0] == "api1" {
        (&mut api1, v2.clone())
    } else {
        (&mut api2, v1.clone())
    };
    let survivor_name = if leaders[0] == "api1" { "api2" } else { "api1" };
    killed.kill();
    let killed_at = Instant::now();
    let bookings = 18;
    for n in 12..bookings {
        ok_json(book(survivor.clone(), n).await).await;
    }
    // A question from someone new, waiting in the inbox.
    let (_, position) = ok_json(
        client
            .post(format!("{survivor}/public/scale-salon/messages"))
            .json(&json!({"name": "Walk In", "email": "walk.in@scale.example",
                          "body": "Do you take walk-ins on Saturdays?"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let last_position = position.expect("a command's position");
    until(
        "the surviving relay to lead",
        Duration::from_secs(15),
        || async { leading(survivor_name) && cluster.relay_leaders().await.len() == 1 },
    )
    .await;
    let takeover = killed_at.elapsed();
    eprintln!(
        "scale-out: {survivor_name} took the relay's lead {takeover:?} after its peer was killed"
    );
    assert!(
        takeover < Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .unwrap();
    until(
        "every event published to JetStream",
        Duration::from_secs(20),
        || async { published(&js, &stream).await >= events as u64 },
    )
    .await;

    // Every read model answers what the commands did.
    let read = |path: &str| {
        let request = client
            .get(format!("{survivor}{path}"))
            .bearer_auth(&token)
            .header("X-CareOps-Min-Position", last_position.clone());
        async move { ok_json(request.send().await.unwrap()).await.0 }
    };
    let starts: Vec<DateTime<Utc>> = (0..bookings).map(start_of).collect();
    let listed = read("/bookings?limit=200").await;
    let mut listed_starts: Vec<DateTime<Utc>> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap().parse().unwrap())
        .collect();
    listed_starts.sort();
    assert_eq!(listed_starts, starts, "every booking, at its time");
    let today = Utc::now().with_timezone(&London).date_naive();
    let stats = read("/dashboard/stats").await;
    let expected_stats = json!({
        "upcoming_24h": 2,
        "unanswered_messages": 1,
        "low_stock_items": 1,
        "pending_forms": 0,
        "bookings_today": starts.iter().filter(|s| s.with_timezone(&London).date_naive() == today).count(),
        "revenue_today_cents": 0,
        "no_shows_30d": 0,
    });
    assert_eq!(stats, expected_stats);
    let contacts = read("/contacts?limit=200").await;
    let mut emails: Vec<String> = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    let mut expected_emails: Vec<String> = (0..bookings)
        .map(|n| format!("guest{n}@scale.example"))
        .chain(["walk.in@scale.example".to_string()])
        .collect();
    expected_emails.sort();
    assert_eq!(emails, expected_emails, "one contact per customer");
    let item = read(&format!("/inventory/{wax}")).await;
    assert_eq!(
        item["quantity"],
        stock - bookings as i64,
        "one tin per visit"
    );
    assert_eq!(item["low_stock"], true);
    let low = read("/inventory/low-stock").await;
    assert_eq!(low["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(low["items"][0]["id"], wax.as_str());
    let alerts = read("/dashboard/alerts").await;
    let low_stock_alerts: Vec<&Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "low_stock")
        .collect();
    assert_eq!(low_stock_alerts.len(), 1, "{alerts}");
    assert_eq!(low_stock_alerts[0]["subject_id"], wax.as_str());

    // Every notification arrives once at the SMTP sink, shared by the two notifiers: each
    // customer's confirmation, the owner's notice of each booking, one low-stock alert.
    let mut expected: HashMap<(String, String), usize> = (0..bookings)
        .map(|n| {
            (
                (
                    "booking_confirmation".to_string(),
                    format!("guest{n}@scale.example"),
                ),
                1,
            )
        })
        .collect();
    expected.insert(("new_booking".into(), "sam@scale.example".into()), bookings);
    expected.insert(("low_stock".into(), "sam@scale.example".into()), 1);
    // What else the sink may see: the owner's daily summary, should the test run over
    // 08:00 in London.
    let tally = |received: &HashMap<(String, String), Vec<String>>| {
        received
            .iter()
            .filter(|((kind, _), _)| kind != "daily_summary")
            .map(|(key, ids)| (key.clone(), ids.len()))
            .collect::<HashMap<_, _>>()
    };
    until(
        "every expected message at the SMTP sink",
        Duration::from_secs(60),
        || async { tally(&received(&sink)) == expected },
    )
    .await;
    // Nothing arrives twice afterwards either.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let arrived = received(&sink);
    assert_eq!(tally(&arrived), expected);
    let ids: Vec<&String> = arrived.values().flatten().collect();
    let distinct: std::collections::HashSet<&&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a notification id arrived twice");
    until(
        "every delivery recorded",
        Duration::from_secs(30),
        || async {
            let sent: i64 = sqlx::query_scalar(
                "select count(*) from events where event_type in ('NotificationSent', 'LowStockAlerted')",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            sent >= ids.len() as i64
        },
    )
    .await;
    let per_notification: Vec<i64> = sqlx::query_scalar(
        "select count(*) from events where event_type = 'NotificationSent' group by stream_id having count(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        per_notification.is_empty(),
        "a notification was recorded twice"
    );

    // SIGTERM stops every remaining process gracefully (exit 0) within a bounded time.
    let mut survivor_process = if survivor_name == "api1" { api1 } else { api2 };
    for process in [
        &mut survivor_process,
        &mut projections,
        &mut notifier1,
        &mut notifier2,
    ] {
        let sent = Command::new("kill")
            .args(["-TERM", &process.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }
    for process in [
        &mut survivor_process,
        &mut projections,
        &mut notifier1,
        &mut notifier2,
    ] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = process.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop on SIGTERM",
                process.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            status.success(),
            "{} exited with {status} on SIGTERM",
            process.name
        );
    }
    let _ = js.delete_stream(&stream).await;
    let _ = js
        .delete_consumer_from_stream(format!("scale_{run}"), &stream)
        .await;
    let _ = std::fs::remove_dir_all(&scratch);
}
