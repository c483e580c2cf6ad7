//! Scale-out on one machine, with real processes: two `command-api` processes (each a relay
//! candidate, neither running projections or the notifier), a `projections run` process and
//! two `notifier run` processes, against one PostgreSQL database and one NATS server.
//!
//! Bookings go through both APIs; every read model answers for all of them; every
//! confirmation is recorded and delivered once; exactly one relay holds the lead, and when
//! its process is killed (SIGKILL: no goodbye) the other takes over within seconds and
//! publishes what was appended meanwhile.
//!
//! The sibling binaries (`projections`, `notifier`) are those `cargo test --workspace` builds
//! next to this package's `command-api`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
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
    let (port1, port2) = (free_port(), free_port());
    let mut api1 = cluster.start("api1", &api, &["serve"], &api_only(port1));
    let mut api2 = cluster.start("api2", &api, &["serve"], &api_only(port2));
    let mut projections = cluster.start("projections", &binary("projections"), &["run"], &[]);
    let mut notifier1 = cluster.start("notifier1", &binary("notifier"), &["run"], &[]);
    let mut notifier2 = cluster.start("notifier2", &binary("notifier"), &["run"], &[]);

    let client = Client::new();
    let base1 = format!("http://127.0.0.1:{port1}");
    let base2 = format!("http://127.0.0.1:{port2}");
    wait_ready(&client, &base1, &mut api1).await;
    wait_ready(&client, &base2, &mut api2).await;
    let (v1, v2) = (format!("{base1}/api/v1"), format!("{base2}/api/v1"));

    // Set up through both APIs: tokens of one are good at the other.
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
    let (services, _) = ok_json(
        client
            .post(format!("{v2}/onboarding/services"))
            .bearer_auth(&token)
            .json(&json!({"services": [{"name": "Cut", "duration_minutes": 30, "price_cents": 3000, "inventory": []}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let service = services["services"][0]["id"].as_str().unwrap().to_string();
    let owner_id = support::user_id_of(&token);
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "08:00", "end": "20:00"}))
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
            .post(format!("{v2}/onboarding/activate"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;

    let day = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let book = |n: usize| {
        let base = if n.is_multiple_of(2) {
            v1.clone()
        } else {
            v2.clone()
        };
        let start =
            day.and_hms_opt(8, 0, 0).unwrap().and_utc() + chrono::Duration::minutes(30 * n as i64);
        let client = client.clone();
        let service = service.clone();
        async move {
            client
                .post(format!("{base}/public/scale-salon/bookings"))
                .json(&json!({"service_id": service, "start": start,
                              "contact": {"name": format!("Guest {n}"), "email": format!("guest{n}@scale.example")}}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut last_position = None;
    for n in 0..12 {
        let (_, position) = ok_json(book(n).await).await;
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
    for n in 12..16 {
        let start =
            day.and_hms_opt(8, 0, 0).unwrap().and_utc() + chrono::Duration::minutes(30 * n as i64);
        ok_json(
            client
                .post(format!("{survivor}/public/scale-salon/bookings"))
                .json(&json!({"service_id": service, "start": start,
                              "contact": {"name": format!("Guest {n}"), "email": format!("guest{n}@scale.example")}}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
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

    // Every confirmation is recorded once and delivered once (16 customers, 16 owner
    // notices), shared by the two notifiers.
    until(
        "16 confirmations and 16 owner notices",
        Duration::from_secs(60),
        || async {
            let sent: Vec<(String, i64)> = sqlx::query_as(
                "select data->>'kind', count(*) from events where event_type = 'NotificationSent'
             group by 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let count = |kind: &str| {
                sent.iter()
                    .find(|(k, _)| k == kind)
                    .map(|(_, n)| *n)
                    .unwrap_or(0)
            };
            count("booking_confirmation") >= 16 && count("new_booking") >= 16
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
    let confirmations = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .map(|text| text.contains("Subject: Booking confirmed"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(confirmations, 16);
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
