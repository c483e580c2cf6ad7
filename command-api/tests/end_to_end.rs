//! The seed's three flows through HTTP against the all-in-one process (`command-api serve`
//! running the API, the relay, every projection and the notifier with the file transport),
//! reading the emails it writes into its outbox folder.
//!
//! - "Perfect Booking": a customer books on the public page; stock is checked and deducted,
//!   the contact is created, the booking confirmed; the customer's confirmation (with its
//!   `.ics` and manage link), the owner's "new booking" notice and the low-stock alert
//!   ("Order Red Dye now!") arrive in the outbox.
//! - "Staff Start": the owner invites a stylist; the generated password exists only in the
//!   invitation email; the stylist logs in with it and sees only their own bookings.
//! - "Retention": the visit is completed; the follow-up is planned for one hour after the
//!   visit's end (its sending at that instant is tested in the notifier's suite with a
//!   manual clock: a real process cannot skip an hour).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

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

async fn start(pool: &PgPool) -> AllInOne {
    let run = Uuid::now_v7().simple().to_string();
    let scratch = std::env::temp_dir().join(format!("careops-e2e-{run}"));
    let outbox = scratch.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
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

/// The decoded text part of a MIME email (quoted-printable soft breaks undone).
fn plain(email: &str) -> String {
    email
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

async fn call(client: &Client, request: reqwest::RequestBuilder) -> Value {
    call_at(client, request).await.0
}

/// [`call`], with the command's `X-CareOps-Position`: what a later query sends as
/// `X-CareOps-Min-Position` to see the command's effects in the read models.
async fn call_at(client: &Client, request: reqwest::RequestBuilder) -> (Value, String) {
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
    let _ = client;
    (body, position)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_three_seed_flows_run_through_the_all_in_one_process(pool: PgPool) {
    let app = start(&pool).await;
    let c = Client::new();
    let api = app.api.clone();

    // Onboarding: Urban Glow with Red Dye near its threshold and Hair Coloring using it.
    let created = call(&c, c.post(format!("{api}/onboarding/workspaces")).json(&json!({
        "name": "Urban Glow", "slug": "urbanglow", "timezone": "UTC", "currency": "USD",
        "owner": {"name": "Maya Chen", "email": "maya@urbanglow.example", "password": "correct horse battery"}}))).await;
    let owner = created["access_token"].as_str().unwrap().to_string();
    let owner_id = support::user_id_of(&owner);
    let items = call(&c, c.post(format!("{api}/onboarding/inventory")).bearer_auth(&owner)
        .json(&json!({"items": [{"name": "Red Dye", "unit": "tube", "quantity": 3, "threshold": 2}]}))).await;
    let dye = items["items"][0]["id"].as_str().unwrap().to_string();
    let services = call(
        &c,
        c.post(format!("{api}/onboarding/services"))
            .bearer_auth(&owner)
            .json(&json!({
        "services": [{"name": "Hair Coloring", "duration_minutes": 60, "price_cents": 8500,
                      "inventory": [{"item_id": dye, "quantity": 1}]}]})),
    )
    .await;
    let coloring = services["services"][0]["id"].as_str().unwrap().to_string();
    let all_day: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "23:59"}))
        .collect();
    call(
        &c,
        c.put(format!("{api}/staff/{owner_id}/availability"))
            .bearer_auth(&owner)
            .json(&json!({"weekly": all_day, "exceptions": []})),
    )
    .await;
    call(
        &c,
        c.put(format!("{api}/workspace"))
            .bearer_auth(&owner)
            .json(&json!({"notifications": {"minimum_notice_minutes": 0}})),
    )
    .await;
    call(
        &c,
        c.post(format!("{api}/onboarding/activate"))
            .bearer_auth(&owner),
    )
    .await;

    // --- Perfect Booking ---
    // Three days ahead: outside the default 24 h cancellation window whatever the time of day.
    let visit_day = (Utc::now() + chrono::Duration::days(3)).date_naive();
    let start: DateTime<Utc> = visit_day.and_hms_opt(14, 0, 0).unwrap().and_utc();
    let (booked, booked_at) = call_at(
        &c,
        c.post(format!("{api}/public/urbanglow/bookings"))
            .json(&json!({
        "service_id": coloring, "start": start,
        "contact": {"name": "Sarah Johnson", "email": "sarah@example.com"}})),
    )
    .await;
    assert_eq!(booked["status"], "confirmed");
    let booking_id = booked["booking_id"].as_str().unwrap().to_string();
    let manage_token = booked["manage_token"].as_str().unwrap().to_string();
    let confirmation =
        plain(&email_with(&app.outbox, &["<sarah@example.com>", "Booking confirmed"]).await);
    assert!(confirmation.contains("Hair Coloring"));
    assert!(
        confirmation.contains("14:00") && confirmation.contains("UTC"),
        "times in the workspace's zone, named"
    );
    assert!(
        confirmation.contains("BEGIN:VCALENDAR") || confirmation.contains("text/calendar"),
        "an .ics is attached"
    );
    assert!(
        confirmation.contains(&booking_id),
        "a manage link names the booking"
    );
    let owner_notice =
        plain(&email_with(&app.outbox, &["<maya@urbanglow.example>", "New booking"]).await);
    assert!(owner_notice.contains("Sarah Johnson"));
    let contacts = call(
        &c,
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
        &c,
        c.get(format!("{api}/inventory/{dye}"))
            .bearer_auth(&owner)
            .header("x-careops-min-position", &booked_at),
    )
    .await;
    assert_eq!(item["quantity"], 2, "one tube deducted");
    assert_eq!(item["low_stock"], true, "the crossing is recorded");
    let alert = email_with(&app.outbox, &["Order Red Dye now!"]).await;
    assert!(alert.contains("<maya@urbanglow.example>"));

    // --- Staff Start ---
    let staff = call(&c, c.post(format!("{api}/staff")).bearer_auth(&owner).json(&json!({
        "name": "Jordan Rivera", "email": "jordan@urbanglow.example",
        "permissions": {"bookings": true, "inbox": true, "contacts": false, "inventory": false, "forms": false}}))).await;
    let staff_id = staff["id"].as_str().unwrap().to_string();
    assert!(!staff.to_string().contains("password"));
    let invitation = plain(&email_with(&app.outbox, &["<jordan@urbanglow.example>"]).await);
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
        &c,
        c.post(format!("{api}/auth/login"))
            .json(&json!({"email": "jordan@urbanglow.example", "password": password})),
    )
    .await;
    let stylist = login["access_token"].as_str().unwrap().to_string();
    call(
        &c,
        c.put(format!("{api}/staff/{staff_id}/availability"))
            .bearer_auth(&owner)
            .json(&json!({"weekly": all_day, "exceptions": []})),
    )
    .await;
    let own_start = visit_day.and_hms_opt(16, 0, 0).unwrap().and_utc();
    let (own, own_at) = call_at(
        &c,
        c.post(format!("{api}/bookings"))
            .bearer_auth(&stylist)
            .json(&json!({
        "service_id": coloring, "start": own_start,
        "contact": {"name": "Emily Davis", "email": "emily@example.com"}})),
    )
    .await;
    let own_id = own["id"].as_str().unwrap().to_string();
    let listed = call(
        &c,
        c.get(format!("{api}/bookings"))
            .bearer_auth(&stylist)
            .header("x-careops-min-position", &own_at),
    )
    .await;
    let ids: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["id"].as_str().map(str::to_string))
        .collect();
    assert!(ids.contains(&own_id), "the stylist sees their booking");
    assert!(
        !ids.contains(&booking_id),
        "staff see only their own bookings"
    );

    // --- Retention ---
    let soon = Utc::now() + chrono::Duration::seconds(3);
    let soon = soon - chrono::Duration::nanoseconds(i64::from(soon.timestamp_subsec_nanos()));
    let visit = call(
        &c,
        c.post(format!("{api}/bookings"))
            .bearer_auth(&owner)
            .json(&json!({
        "service_id": coloring, "staff_id": owner_id, "start": soon,
        "contact": {"name": "Olivia Brown", "email": "olivia@example.com"}})),
    )
    .await;
    let visit_id = visit["id"].as_str().unwrap().to_string();
    tokio::time::sleep(
        (soon - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300),
    )
    .await;
    call(
        &c,
        c.post(format!("{api}/bookings/{visit_id}/complete"))
            .bearer_auth(&owner)
            .json(&json!({})),
    )
    .await;
    let end = soon + chrono::Duration::minutes(60);
    let deadline = Instant::now() + Duration::from_secs(30);
    let due: DateTime<Utc> = loop {
        let due: Option<DateTime<Utc>> = sqlx::query_scalar(
            "select due_at from notifier.notifications where subject_id = $1::uuid and kind = 'follow_up'",
        )
        .bind(&visit_id)
        .fetch_optional(&pool)
        .await
        .unwrap();
        if let Some(due) = due {
            break due;
        }
        assert!(Instant::now() < deadline, "the follow-up was never planned");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        due,
        end + chrono::Duration::minutes(60),
        "the follow-up is due an hour after the visit ends"
    );

    // The customer can still cancel the first booking with the token from the booking page.
    let cancelled = c
        .post(format!("{api}/public/bookings/{booking_id}/cancel"))
        .json(&json!({"manage_token": manage_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    email_with(&app.outbox, &["<sarah@example.com>", "cancel"]).await;

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
