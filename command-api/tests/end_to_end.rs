//! The seed's three flows through HTTP against the all-in-one application (the API, the
//! relay, every projection and the notifier with the file transport in one process),
//! reading the emails it writes into its outbox folder, for a salon in America/New_York.
//!
//! - "Perfect Booking": a customer books on the public page; stock is checked and deducted,
//!   the contact is created, the booking confirmed; the customer's confirmation (times in
//!   the salon's zone, named; its `.ics`; its manage link), the owner's "new booking"
//!   notice and the low-stock alert ("Order Red Dye now!") arrive in the outbox.
//! - "Staff Start": the owner invites a stylist; the generated password exists only in the
//!   invitation email; the stylist logs in with it and sees only their own bookings.
//! - "Retention": the visit is completed; the follow-up, due the workspace's follow-up delay
//!   (set through `PUT /workspace`) after the visit's end, arrives in the outbox then.
//!
//! The flows run in-process, because the all-in-one application's clock (which its
//! notifier shares) is what lets the test reach the visit's start and the follow-up's due
//! time without waiting for them. The `command-api serve` binary itself, the same
//! application behind SIGTERM handling, is run by the last test: a public booking's
//! confirmation reaches its outbox, and it exits 0 within 30 s of SIGTERM.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const ZONE: Tz = chrono_tz::America::New_York;

/// `Monday 29 March 2027 at 10:00 EDT (America/New_York)`: how the emails show an instant.
fn shown(instant: DateTime<Utc>) -> String {
    let local = instant.with_timezone(&ZONE);
    format!(
        "{} at {} ({})",
        local.format("%A %-d %B %Y"),
        local.format("%H:%M %Z"),
        ZONE.name()
    )
}

/// The instant of `hour`:00 on a local date of the salon.
fn local(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    ZONE.from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
        .single()
        .expect("a plain local time")
        .with_timezone(&Utc)
}

/// A scratch folder for one test (logs, the outbox).
fn scratch(name: &str) -> (PathBuf, PathBuf) {
    let run = Uuid::now_v7().simple().to_string();
    let scratch = std::env::temp_dir().join(format!("careops-{name}-{run}"));
    let outbox = scratch.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    (scratch, outbox)
}

/// The outbox's emails, as text.
fn emails(outbox: &Path) -> Vec<String> {
    std::fs::read_dir(outbox)
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for an email whose text contains every needle; returns it.
async fn email_with(outbox: &Path, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = emails(outbox)
            .into_iter()
            .map(|text| plain(&text))
            .find(|text| needles.iter().all(|n| text.contains(n)))
        {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no email with {needles:?} in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded text of a MIME email (quoted-printable soft breaks undone).
fn plain(email: &str) -> String {
    email
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

async fn call(request: reqwest::RequestBuilder) -> Value {
    call_at(request).await.0
}

/// [`call`], with the command's `X-CareOps-Position`: what a later query sends as
/// `X-CareOps-Min-Position` to see the command's effects in the read models.
async fn call_at(request: reqwest::RequestBuilder) -> (Value, String) {
    let response = request.send().await.expect("sent");
    let status = response.status();
    let position = response
        .headers()
        .get("x-careops-position")
        .and_then(|p| p.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    (body, position)
}

/// Urban Glow, open every day around the clock (local), with Red Dye one tube above its
/// threshold and Hair Coloring using it.
struct Salon {
    owner: String,
    owner_id: String,
    coloring: String,
    dye: String,
}

async fn open_salon(c: &Client, api: &str) -> Salon {
    let created = call(c.post(format!("{api}/onboarding/workspaces")).json(&json!({
        "name": "Urban Glow", "slug": "urbanglow", "timezone": ZONE.name(), "currency": "USD",
        "owner": {"name": "Maya Chen", "email": "maya@urbanglow.example", "password": "correct horse battery"}}))).await;
    let owner = created["access_token"].as_str().unwrap().to_string();
    let owner_id = support::user_id_of(&owner);
    let items = call(c.post(format!("{api}/onboarding/inventory")).bearer_auth(&owner)
        .json(&json!({"items": [{"name": "Red Dye", "unit": "tube", "quantity": 3, "threshold": 2}]}))).await;
    let dye = items["items"][0]["id"].as_str().unwrap().to_string();
    let services = call(
        c.post(format!("{api}/onboarding/services"))
            .bearer_auth(&owner)
            .json(&json!({
        "services": [{"name": "Hair Coloring", "duration_minutes": 60, "price_cents": 8500,
                      "inventory": [{"item_id": dye, "quantity": 1}]}]})),
    )
    .await;
    let coloring = services["services"][0]["id"].as_str().unwrap().to_string();
    call(
        c.put(format!("{api}/staff/{owner_id}/availability"))
            .bearer_auth(&owner)
            .json(&json!({"weekly": all_day(), "exceptions": []})),
    )
    .await;
    call(
        c.put(format!("{api}/workspace"))
            .bearer_auth(&owner)
            .json(&json!({"notifications": {"minimum_notice_minutes": 0}})),
    )
    .await;
    call(
        c.post(format!("{api}/onboarding/activate"))
            .bearer_auth(&owner),
    )
    .await;
    Salon {
        owner,
        owner_id,
        coloring,
        dye,
    }
}

fn all_day() -> Vec<Value> {
    (1..=7)
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "23:59"}))
        .collect()
}

/// Three days ahead, at 14:00 UTC (09:00 or 10:00 in New York): outside the default 24 h
/// cancellation window whatever the time of day.
fn visit_day() -> NaiveDate {
    (Utc::now() + chrono::Duration::days(3)).date_naive()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_three_seed_flows_run_through_the_all_in_one_application(pool: PgPool) {
    let (scratch, outbox) = scratch("e2e");
    let run = Uuid::now_v7().simple().to_string();
    let app = support::spawn_with(pool.clone(), |config| {
        config.relay = true;
        config.run_projections = true;
        config.run_notifier = true;
        config.connections.data_dir = scratch.clone();
        config.nats_stream = format!("E2E_{run}");
        config.nats_subject_prefix = format!("e2e_{run}.events");
        config.notifier.notifier_consumer = format!("e2e_{run}");
        config.notifier.outbox_dir = Some(outbox.clone());
        config.notifier.public_base_url = "https://urbanglow.test".into();
    })
    .await;
    let c = Client::new();
    let api = app.base.clone();
    let Salon {
        owner,
        owner_id,
        coloring,
        dye,
    } = open_salon(&c, &api).await;

    // --- Perfect Booking ---
    let start = visit_day().and_hms_opt(14, 0, 0).unwrap().and_utc();
    let (booked, booked_at) = call_at(c.post(format!("{api}/public/urbanglow/bookings")).json(
        &json!({
        "service_id": coloring, "start": start,
        "contact": {"name": "Sarah Johnson", "email": "sarah@example.com"}}),
    ))
    .await;
    assert_eq!(booked["status"], "confirmed");
    let booking_id = booked["booking_id"].as_str().unwrap().to_string();
    let manage_token = booked["manage_token"].as_str().unwrap().to_string();
    let confirmation = email_with(&outbox, &["<sarah@example.com>", "Booking confirmed"]).await;
    assert!(confirmation.contains("Hair Coloring"));
    assert!(
        confirmation.contains(&shown(start)),
        "the time in the salon's zone, named ({}): {confirmation}",
        shown(start)
    );
    assert!(
        confirmation.contains("BEGIN:VCALENDAR") || confirmation.contains("text/calendar"),
        "an .ics is attached"
    );
    assert!(
        confirmation.contains(&format!("booking={booking_id}&token={manage_token}")),
        "the manage link names the booking and carries its token"
    );
    let owner_notice = email_with(&outbox, &["<maya@urbanglow.example>", "New booking"]).await;
    assert!(owner_notice.contains("Sarah Johnson"));
    assert!(owner_notice.contains(&shown(start)));
    let contacts = call(
        c.get(format!("{api}/contacts?q=sarah"))
            .bearer_auth(&owner)
            .header("x-careops-min-position", &booked_at),
    )
    .await;
    assert_eq!(
        contacts["items"][0]["email"], "sarah@example.com",
        "the contact was created"
    );
    let item = call(
        c.get(format!("{api}/inventory/{dye}"))
            .bearer_auth(&owner)
            .header("x-careops-min-position", &booked_at),
    )
    .await;
    assert_eq!(item["quantity"], 2, "one tube deducted");
    assert_eq!(item["low_stock"], true, "the crossing is recorded");
    let alert = email_with(&outbox, &["Order Red Dye now!"]).await;
    assert!(alert.contains("<maya@urbanglow.example>"));

    // --- Staff Start ---
    let staff = call(c.post(format!("{api}/staff")).bearer_auth(&owner).json(&json!({
        "name": "Jordan Rivera", "email": "jordan@urbanglow.example",
        "permissions": {"bookings": true, "inbox": true, "contacts": false, "inventory": false, "forms": false}}))).await;
    let staff_id = staff["id"].as_str().unwrap().to_string();
    assert!(!staff.to_string().contains("password"));
    let invitation = email_with(&outbox, &["<jordan@urbanglow.example>"]).await;
    let password = invitation
        .lines()
        .find_map(|line| line.strip_prefix("Password"))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .expect("the invitation carries the password");
    let events: i64 =
        sqlx::query_scalar("select count(*) from events where data::text like '%' || $1 || '%'")
            .bind(&password)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(events, 0, "the password is in no event");
    let login = call(
        c.post(format!("{api}/auth/login"))
            .json(&json!({"email": "jordan@urbanglow.example", "password": password})),
    )
    .await;
    let stylist = login["access_token"].as_str().unwrap().to_string();
    call(
        c.put(format!("{api}/staff/{staff_id}/availability"))
            .bearer_auth(&owner)
            .json(&json!({"weekly": all_day(), "exceptions": []})),
    )
    .await;
    let own_start = visit_day().and_hms_opt(16, 0, 0).unwrap().and_utc();
    let own = call(
        c.post(format!("{api}/bookings"))
            .bearer_auth(&stylist)
            .json(&json!({
        "service_id": coloring, "start": own_start,
        "contact": {"name": "Emily Davis", "email": "emily@example.com"}})),
    )
    .await;
    let own_id = own["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let ids: Vec<String> = loop {
        let listed = call(c.get(format!("{api}/bookings")).bearer_auth(&stylist)).await;
        let ids: Vec<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["id"].as_str().map(str::to_string))
            .collect();
        if ids.contains(&own_id) || Instant::now() > deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(ids.contains(&own_id), "the stylist sees their booking");
    assert!(
        !ids.contains(&booking_id),
        "staff see only their own bookings"
    );

    // The customer can cancel the first booking with the token from the booking page
    // (before the clock moves towards it).
    let cancelled = c
        .post(format!("{api}/public/bookings/{booking_id}/cancel"))
        .json(&json!({"manage_token": manage_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    email_with(&outbox, &["<sarah@example.com>", "Booking cancelled"]).await;

    // --- Retention ---
    call(
        c.put(format!("{api}/workspace"))
            .bearer_auth(&owner)
            .json(&json!({"notifications": {"follow_up_delay_minutes": 30}})),
    )
    .await;
    let tomorrow = (app.clock.now().with_timezone(&ZONE) + chrono::Duration::days(1)).date_naive();
    let visit_start = local(tomorrow, 11);
    let visit = call(
        c.post(format!("{api}/bookings"))
            .bearer_auth(&owner)
            .json(&json!({
        "service_id": coloring, "staff_id": owner_id, "start": visit_start,
        "contact": {"name": "Olivia Brown", "email": "olivia@example.com"}})),
    )
    .await;
    let visit_id = visit["id"].as_str().unwrap().to_string();
    // The visit starts, and is over: the owner completes it.
    app.clock
        .advance(visit_start + chrono::Duration::minutes(5) - app.clock.now());
    call(
        c.post(format!("{api}/bookings/{visit_id}/complete"))
            .bearer_auth(&owner)
            .json(&json!({})),
    )
    .await;
    let follow_up_due = visit_start + chrono::Duration::minutes(60 + 30);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let due: Option<DateTime<Utc>> = sqlx::query_scalar(
            "select due_at from notifier.notifications where subject_id = $1::uuid and kind = 'follow_up'",
        )
        .bind(&visit_id)
        .fetch_optional(&pool)
        .await
        .unwrap();
        if let Some(due) = due {
            assert_eq!(
                due, follow_up_due,
                "the follow-up is due the configured 30 minutes after the visit ends"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the follow-up was never planned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let thanks = ["<olivia@example.com>", "Thank you for visiting Urban Glow"];
    // Not before it is due (the dispatcher polls every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !emails(&outbox)
            .iter()
            .map(|e| plain(e))
            .any(|e| thanks.iter().all(|n| e.contains(n))),
        "the follow-up went out before it was due"
    );
    app.clock
        .advance(follow_up_due + chrono::Duration::seconds(1) - app.clock.now());
    let follow_up = email_with(&outbox, &thanks).await;
    assert!(follow_up.contains("Hair Coloring"), "{follow_up}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let history = call(
            c.get(format!("{api}/bookings/{visit_id}/history"))
                .bearer_auth(&owner),
        )
        .await;
        if history.to_string().contains("FollowUpSent") {
            break;
        }
        assert!(Instant::now() < deadline, "FollowUpSent was never recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// `command-api serve` with every part in it, as `deploy/run.sh` starts it.
struct AllInOne {
    child: Child,
    api: String,
    outbox: PathBuf,
    scratch: PathBuf,
}

impl Drop for AllInOne {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_binary(pool: &PgPool) -> AllInOne {
    let run = Uuid::now_v7().simple().to_string();
    let (scratch, outbox) = scratch("all-in-one");
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let server = base
        .rsplit_once('/')
        .map(|(s, _)| s.to_string())
        .unwrap_or(base);
    let database = pool.connect_options().get_database().unwrap().to_string();
    let port = free_port();
    let log = std::fs::File::create(scratch.join("all-in-one.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_command-api"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,sqlx=warn")
        .env("DATABASE_URL", format!("{server}/{database}"))
        .env("NATS_URL", support::nats_url())
        .env("CAREOPS_DB_MAX_CONNECTIONS", "8")
        .env("CAREOPS_HTTP_HOST", "127.0.0.1")
        .env("CAREOPS_HTTP_PORT", port.to_string())
        .env("CAREOPS_DATA_DIR", scratch.display().to_string())
        .env("CAREOPS_NATS_STREAM", format!("E2E_{run}"))
        .env("CAREOPS_NATS_SUBJECT_PREFIX", format!("e2e_{run}.events"))
        .env("CAREOPS_NOTIFIER_CONSUMER", format!("e2e_{run}"))
        .env(
            "CAREOPS_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("command-api starts");
    let mut app = AllInOne {
        child,
        api: format!("http://127.0.0.1:{port}/api/v1"),
        outbox,
        scratch,
    };
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
        {
            if r.status() == StatusCode::OK {
                break;
            }
        }
        if let Ok(Some(status)) = app.child.try_wait() {
            panic!("command-api exited: {status}");
        }
        assert!(Instant::now() < deadline, "command-api never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app
}

#[sqlx::test(migrations = "../migrations")]
async fn the_all_in_one_process_confirms_a_public_booking_and_exits_0_on_sigterm(pool: PgPool) {
    let app = start_binary(&pool).await;
    let c = Client::new();
    let salon = open_salon(&c, &app.api).await;
    let start = visit_day().and_hms_opt(14, 0, 0).unwrap().and_utc();
    let booked = call(
        c.post(format!("{}/public/urbanglow/bookings", app.api))
            .json(&json!({
        "service_id": salon.coloring, "start": start,
        "contact": {"name": "Sarah Johnson", "email": "sarah@example.com"}})),
    )
    .await;
    let confirmation = email_with(&app.outbox, &["<sarah@example.com>", "Booking confirmed"]).await;
    assert!(confirmation.contains(&shown(start)), "{confirmation}");
    assert!(confirmation.contains(booked["booking_id"].as_str().unwrap()));

    // SIGTERM: the process stops taking work, finishes, commits its checkpoints, exits 0.
    let mut app = app;
    let status = terminate(&mut app.child, Duration::from_secs(30));
    assert!(
        status.success(),
        "command-api exited with {status} on SIGTERM"
    );
    let _ = std::fs::remove_dir_all(&app.scratch);
}

/// Sends SIGTERM and waits (at most `limit`) for the exit status.
fn terminate(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "no exit within {limit:?} of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
