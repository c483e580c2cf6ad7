//! Workspace settings, integrations (write-only secrets) and alert dismissal.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, TestApp};

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.put(app.url(path)).bearer_auth(token).json(body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    request.send().await.expect("request sent")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_owner_changes_the_profile_and_part_of_the_notification_settings(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "maya@urbanglow.example").await;
    let response = put(
        &app,
        "/workspace",
        &owner.access_token,
        &json!({"name": "Urban Glow Spa", "timezone": "America/New_York",
                "business_email": "hello@urbanglow.example",
                "notifications": {"reminder_offsets_minutes": [2880, 120], "daily_summary_hour": 7}}),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-careops-position"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "Urban Glow Spa");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(body["business_email"], "hello@urbanglow.example");
    assert_eq!(
        body["notifications"]["reminder_offsets_minutes"],
        json!([2880, 120])
    );
    assert_eq!(body["notifications"]["daily_summary_hour"], 7);
    // Untouched settings keep their values.
    assert_eq!(body["notifications"]["follow_up_delay_minutes"], 60);
    assert_eq!(body["notifications"]["cancellation_window_hours"], 24);

    // `null` clears a contact detail; absent fields stay.
    let body: Value = put(
        &app,
        "/workspace",
        &owner.access_token,
        &json!({"business_email": null}),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["business_email"], Value::Null);
    assert_eq!(body["name"], "Urban Glow Spa");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_workspace_settings_are_refused_and_change_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "maya@urbanglow.example").await;
    let cases = [
        (
            json!({"timezone": "Mars/Olympus"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "x".repeat(10_000)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"business_email": "no-at-sign"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"notifications": {"daily_summary_hour": 24}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"notifications": {"reminder_offsets_minutes": [-5]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"notifications": {"reminder_offsets_minutes": [60, 60]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"notifications": {"slot_step_minutes": 0}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"notifications": {"payroll": true}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"colour": "pink"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (json!({"name": 42}), StatusCode::BAD_REQUEST, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let before = app.event_count().await;
        let response = put(&app, "/workspace", &owner.access_token, &body, None).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["status_code"], status.as_u16(), "{body}: {error}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(error["code"], code, "{body}: {error}");
        }
        assert_eq!(app.event_count().await, before, "{body} appended");
    }
    // A stale If-Match is refused with 412.
    let response = put(
        &app,
        "/workspace",
        &owner.access_token,
        &json!({"name": "New"}),
        Some("\"999\""),
    )
    .await;
    assert_error(
        response,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn integration_secrets_are_write_only_and_never_enter_an_event(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "maya@urbanglow.example").await;
    let body = json!({
        "email": {
            "from_address": "hello@urbanglow.example", "from_name": "Urban Glow",
            "provider": {"kind": "resend", "api_key": "re_SECRET_resend_key"},
            "fallback": {"kind": "smtp", "smtp": {"host": "smtp.example", "port": 587,
                         "username": "glow", "password": "SECRET_smtp_password", "tls": "start_tls"}}
        },
        "sms": {"provider": "twilio", "account_sid": "AC123", "auth_token": "SECRET_twilio_token",
                "from_number": "+15550001111"}
    });
    let response = put(
        &app,
        "/workspace/integrations",
        &owner.access_token,
        &body,
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = response.text().await.unwrap();
    assert!(!answer.contains("SECRET"), "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["email"]["provider"]["kind"], "resend");
    assert_eq!(answer["email"]["provider"]["api_key"]["set"], true);
    assert_eq!(answer["email"]["fallback"]["smtp"]["password"]["set"], true);
    assert_eq!(answer["sms"]["auth_token"]["set"], true);

    // Leaving the keys out keeps them (write-only): change only the from-address.
    let body = json!({
        "email": {"from_address": "bookings@urbanglow.example",
                  "provider": {"kind": "resend"},
                  "fallback": {"kind": "smtp", "smtp": {"host": "smtp.example", "port": 587}}},
        "sms": {"provider": "twilio", "account_sid": "AC123", "from_number": "+15550001111"}
    });
    let response = put(
        &app,
        "/workspace/integrations",
        &owner.access_token,
        &body,
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let got: Value = app
        .client
        .get(app.url("/workspace/integrations"))
        .bearer_auth(&owner.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["email"]["from_address"], "bookings@urbanglow.example");
    assert_eq!(got["email"]["provider"]["api_key"]["set"], true);
    assert_eq!(got["email"]["fallback"]["smtp"]["password"]["set"], true);
    assert_eq!(got["sms"]["auth_token"]["set"], true);

    // The notifier opens them with the shared key.
    let secrets =
        service_runtime::secrets::SecretBox::from_base64(support::TEST_SECRET_KEY).unwrap();
    let stored = service_runtime::integrations::load(
        &app.pool,
        &secrets,
        owner.workspace_id.parse().unwrap(),
    )
    .await
    .unwrap()
    .expect("stored");
    let email = stored.email.expect("email settings");
    assert_eq!(
        email.primary.api_key.as_deref(),
        Some("re_SECRET_resend_key")
    );
    assert_eq!(
        email
            .fallback
            .and_then(|f| f.smtp)
            .and_then(|s| s.password)
            .as_deref(),
        Some("SECRET_smtp_password")
    );
    assert_eq!(stored.sms.expect("sms").auth_token, "SECRET_twilio_token");

    // No event, and no readable column, holds a secret.
    let leaks: i64 = sqlx::query_scalar("select count(*) from events where data::text like '%SECRET%' or metadata::text like '%SECRET%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(leaks, 0);
    let changed: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'IntegrationsChanged'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(changed, 2);
    let readable: String = sqlx::query_scalar("select settings::text from workspace_integrations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!readable.contains("SECRET"));
}

#[sqlx::test(migrations = "../migrations")]
async fn incomplete_integrations_are_refused_and_staff_may_not_touch_them(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "maya@urbanglow.example").await;
    let cases = [
        json!({"email": {"from_address": "hello@urbanglow.example", "provider": {"kind": "resend"}}}),
        json!({"email": {"from_address": "hello@urbanglow.example", "provider": {"kind": "smtp"}}}),
        json!({"email": {"from_address": "nope", "provider": {"kind": "sendgrid", "api_key": "k"}}}),
        json!({"sms": {"provider": "twilio", "account_sid": "AC1", "from_number": "+15550001111"}}),
        json!({"sms": {"provider": "carrier-pigeon", "account_sid": "AC1", "auth_token": "t", "from_number": "+15550001111"}}),
    ];
    for body in cases {
        let before = app.event_count().await;
        let response = put(
            &app,
            "/workspace/integrations",
            &owner.access_token,
            &body,
            None,
        )
        .await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
        assert_eq!(app.event_count().await, before, "{body}");
    }
    let response = put(
        &app,
        "/workspace/integrations",
        &owner.access_token,
        &json!({"email": {"from_address": "a@b.example", "provider": {"kind": "mailchimp"}}}),
        None,
    )
    .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_body").await;
    let response = app
        .client
        .get(app.url("/workspace/integrations"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_dismissed_alert_leaves_the_dashboard(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "maya@urbanglow.example").await;
    let response = app
        .post(
            "/onboarding/inventory",
            Some(&owner.access_token),
            &json!({"items": [{"name": "Red Dye", "quantity": 6, "threshold": 5}]}),
        )
        .await;
    let items: Value = response.json().await.unwrap();
    let item = items["items"][0]["id"].as_str().unwrap().to_string();
    let response = app
        .post(
            &format!("/inventory/{item}/adjust"),
            Some(&owner.access_token),
            &json!({"delta": -2, "reason": "spilt"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let position = response.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string();
    let alerts: Value = app
        .client
        .get(app.url("/dashboard/alerts"))
        .bearer_auth(&owner.access_token)
        .header("X-CareOps-Min-Position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alert = alerts["items"][0]["id"]
        .as_str()
        .expect("a low-stock alert")
        .to_string();
    assert_eq!(alerts["items"][0]["kind"], "low_stock");

    let response = app
        .post(
            &format!("/dashboard/alerts/{alert}/dismiss"),
            Some(&owner.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let position = response.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string();
    let alerts: Value = app
        .client
        .get(app.url("/dashboard/alerts"))
        .bearer_auth(&owner.access_token)
        .header("X-CareOps-Min-Position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["items"], json!([]));

    // Dismissing it again, or an id that is no alert, is a 404 that appends nothing.
    for id in [alert, uuid::Uuid::now_v7().to_string()] {
        let before = app.event_count().await;
        let response = app
            .post(
                &format!("/dashboard/alerts/{id}/dismiss"),
                Some(&owner.access_token),
                &json!({}),
            )
            .await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(app.event_count().await, before);
    }
}
