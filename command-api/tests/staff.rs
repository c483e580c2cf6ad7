//! Staff availability and activation.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn, user_id_of};

async fn put(app: &support::TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_owner_with_availability_and_a_service_can_open_the_booking_page(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let me = user_id_of(&owner.access_token);
    let token = owner.access_token.as_str();

    let hours = put(&app, &format!("/staff/{me}/availability"), token, &json!({
        "weekly": [{"weekday": 1, "start": "09:00", "end": "17:00"}, {"weekday": 2, "start": "09:00", "end": "12:00"},
                   {"weekday": 2, "start": "13:00", "end": "18:00"}],
        "exceptions": [{"date": "2026-12-24", "closed": true}, {"date": "2026-12-31", "start": "10:00", "end": "14:00"}]
    })).await;
    assert_eq!(hours.status(), StatusCode::OK);
    let set = position(&hours);
    let hours: Value = hours.json().await.unwrap();
    assert_eq!(hours["weekly"].as_array().unwrap().len(), 3);
    assert_eq!(
        hours["exceptions"][0],
        json!({"date": "2026-12-24", "closed": true})
    );

    let read = app
        .get_after(&format!("/staff/{me}/availability"), Some(token), &set)
        .await;
    assert_eq!(
        read.headers()["etag"],
        "\"1\"",
        "the schedule's first version"
    );
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, hours);

    let still_missing = app
        .post("/onboarding/activate", Some(token), &json!({}))
        .await;
    let body = assert_error(
        still_missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "activation_incomplete",
    )
    .await;
    assert_eq!(body["missing"], json!(["service"]));

    app.post(
        "/onboarding/services",
        Some(token),
        &json!({"services": [{"name": "Haircut", "duration_minutes": 45, "price_cents": 4000}]}),
    )
    .await;
    let activated = app
        .post("/onboarding/activate", Some(token), &json!({}))
        .await;
    assert_eq!(activated.status(), StatusCode::OK);
    let activated: Value = activated.json().await.unwrap();
    assert_eq!(activated["is_active"], true);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_availability_is_refused_and_changes_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let me = user_id_of(&owner.access_token);
    let path = format!("/staff/{me}/availability");
    let before = app.event_count().await;
    let cases = [
        (
            json!({"weekly": [{"weekday": 8, "start": "09:00", "end": "17:00"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"weekly": [{"weekday": 1, "start": "17:00", "end": "09:00"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"weekly": [{"weekday": 1, "start": "25:00", "end": "26:00"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"weekly": [{"weekday": 1, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"weekly": [], "exceptions": [{"date": "2026-02-30", "closed": true}]}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"weekly": [], "exceptions": [{"date": "2026-12-24", "closed": true, "start": "09:00", "end": "10:00"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"weekly": [], "hours": []}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(
            put(&app, &path, &owner.access_token, &body).await,
            status,
            code,
        )
        .await;
    }
    assert_error(
        put(
            &app,
            "/staff/not-a-uuid/availability",
            &owner.access_token,
            &json!({"weekly": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_path",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn another_workspaces_staff_is_not_found(pool: PgPool) {
    let app = spawn(pool).await;
    let first = app.onboard("First", "first@example.com").await;
    let second = app.onboard("Second", "second@example.com").await;
    let first_owner = user_id_of(&first.access_token);
    let path = format!("/staff/{first_owner}/availability");
    let before = app.event_count().await;
    let seen = app.head_position().await;
    assert_eq!(
        app.get_after(&path, Some(&first.access_token), &seen)
            .await
            .status(),
        StatusCode::OK
    );
    let body = json!({"weekly": [{"weekday": 1, "start": "09:00", "end": "17:00"}]});
    // The other owner may edit staff of their own workspace only; this one is not theirs.
    assert_error(
        put(&app, &path, &second.access_token, &body).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.get_after(&path, Some(&second.access_token), &seen)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}
