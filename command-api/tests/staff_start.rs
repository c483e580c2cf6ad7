//! The seed's "Staff Start" flow, as far as the command side goes: the owner invites Sarah,
//! the generated password exists only in the sealed hand-over for the invitation email,
//! Sarah logs in with it, and her permissions bound what she may do.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::{json, Value};
use service_runtime::secrets::{take_invitation_password, SecretBox};
use sqlx::PgPool;
use support::{assert_error, spawn, TEST_SECRET_KEY};
use uuid::Uuid;

/// Every log line of this test binary, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || LogWriter(sink.clone()))
            .init();
        logs
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_invited_staff_member_logs_in_with_the_password_only_the_invitation_carries(
    pool: PgPool,
) {
    let logs = captured_logs();
    let app = spawn(pool.clone()).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;

    let invited = app
        .post(
            "/staff",
            Some(&owner.access_token),
            &json!({"name": "Sarah Stylist", "email": "sarah@example.com",
              "permissions": {"bookings": true, "inbox": true}}),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::CREATED);
    let invited_text = invited.text().await.unwrap();
    let staff: Value = serde_json::from_str(&invited_text).unwrap();
    assert_eq!(staff["role"], "staff");
    assert_eq!(
        staff["permissions"],
        json!({"bookings": true, "inbox": true, "contacts": false, "inventory": false, "forms": false})
    );
    let staff_id: Uuid = staff["id"].as_str().unwrap().parse().unwrap();

    // What the notifier does for the invitation email: take the sealed password, once.
    let secrets = SecretBox::from_base64(TEST_SECRET_KEY).unwrap();
    let password = take_invitation_password(&pool, &secrets, staff_id)
        .await
        .unwrap()
        .expect("the hand-over holds it");
    assert_eq!(password.len(), 20);
    assert_eq!(
        take_invitation_password(&pool, &secrets, staff_id)
            .await
            .unwrap(),
        None,
        "read once"
    );

    let login = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "sarah@example.com", "password": password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let login_text = login.text().await.unwrap();
    let login: Value = serde_json::from_str(&login_text).unwrap();
    assert_eq!(login["user"]["role"], "staff");
    let sarah = login["access_token"].as_str().unwrap().to_string();

    // Staff may not do the owner's work or use areas they were not given.
    assert_error(
        app.post(
            "/staff",
            Some(&sarah),
            &json!({"name": "X", "email": "x@example.com"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        app.post(
            "/inventory",
            Some(&sarah),
            &json!({"name": "Dye", "quantity": 1, "threshold": 0}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A permission granted applies at once, without logging in again.
    let granted = app
        .client
        .put(app.url(&format!("/staff/{staff_id}/permissions")))
        .bearer_auth(&owner.access_token)
        .json(&json!({"bookings": true, "inventory": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    assert_eq!(
        app.post(
            "/inventory",
            Some(&sarah),
            &json!({"name": "Dye", "quantity": 1, "threshold": 0})
        )
        .await
        .status(),
        StatusCode::CREATED
    );

    // The password is in no response, no event and no log line.
    let events: Vec<String> = sqlx::query_scalar("select data::text || metadata::text from events")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|row| !row.contains(&password)),
        "an event row holds the password"
    );
    assert!(!invited_text.contains(&password) && !login_text.contains(&password));
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(!logged.is_empty(), "logs were captured");
    assert!(!logged.contains(&password), "a log line holds the password");

    // Deactivation ends Sarah's sessions at once and keeps her history.
    let removed = app
        .client
        .delete(app.url(&format!("/staff/{staff_id}")))
        .bearer_auth(&owner.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_error(
        app.get("/auth/me", Some(&sarah)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let again = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "sarah@example.com", "password": password}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let fetched: Value = app
        .get_after(
            &format!("/staff/{staff_id}"),
            Some(&owner.access_token),
            &support::position(&removed),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["active"], false);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn inviting_a_taken_email_or_another_workspaces_staff_is_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let taken = app
        .post(
            "/staff",
            Some(&owner.access_token),
            &json!({"name": "Dup", "email": "other@example.com"}),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "email_taken").await;
    let staff: Value = app
        .post(
            "/staff",
            Some(&owner.access_token),
            &json!({"name": "Sam", "email": "sam@example.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = staff["id"].as_str().unwrap();
    let before = app.event_count().await;
    let foreign = app
        .client
        .delete(app.url(&format!("/staff/{id}")))
        .bearer_auth(&other.access_token)
        .send()
        .await
        .unwrap();
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
    let foreign = app
        .client
        .put(app.url(&format!("/staff/{id}/permissions")))
        .bearer_auth(&other.access_token)
        .json(&json!({"bookings": true}))
        .send()
        .await
        .unwrap();
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
    let unknown_permission = app
        .client
        .put(app.url(&format!("/staff/{id}/permissions")))
        .bearer_auth(&owner.access_token)
        .json(&json!({"payroll": true}))
        .send()
        .await
        .unwrap();
    assert_error(unknown_permission, StatusCode::BAD_REQUEST, "invalid_body").await;
    assert_eq!(app.event_count().await, before);
}
