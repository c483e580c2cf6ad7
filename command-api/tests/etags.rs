//! `ETag` on the single-resource GETs whose commands take `If-Match`: the contact, the
//! workspace, a staff member's availability, a booking, a service, a staff member (and an
//! inventory item, in `inventory.rs`). Each is the version of the resource's own stream, as
//! the read model recorded it. A stale `If-Match` is a 412 that changes nothing; the current
//! one goes through.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, user_id_of, TestApp};

fn etag(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("etag")
        .unwrap_or_else(|| panic!("{} has no ETag", response.url()))
        .to_str()
        .unwrap()
        .to_string()
}

fn position(response: &reqwest::Response) -> String {
    response.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string()
}

/// A GET that waits for the read models to reach `after`.
async fn read(app: &TestApp, path: &str, token: &str, after: &str) -> reqwest::Response {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("x-careops-min-position", after)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response
}

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    if_match: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_contacts_etag_guards_its_update(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let created = app
        .post("/contacts", Some(token), &json!({"name": "Chloe Customer"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let after = position(&created);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/contacts/{id}");
    let first = etag(&read(&app, &path, token, &after).await);
    assert_eq!(first, "\"1\"");

    let updated = put(&app, &path, token, &first, json!({"name": "Chloe Changed"})).await;
    assert_eq!(updated.status(), StatusCode::OK);
    let after = position(&updated);
    let second = etag(&read(&app, &path, token, &after).await);
    assert_eq!(second, "\"2\"");

    let events = app.event_count().await;
    let stale = put(&app, &path, token, &first, json!({"name": "Lost Update"})).await;
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let shown: Value = read(&app, &path, token, &after).await.json().await.unwrap();
    assert_eq!(shown["name"], "Chloe Changed");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_workspaces_etag_guards_its_settings(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let start = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": owner.password}),
        )
        .await;
    let first = etag(&read(&app, "/workspace", token, &position(&start)).await);
    assert_eq!(first, "\"1\"", "created");

    let renamed = put(
        &app,
        "/workspace",
        token,
        &first,
        json!({"name": "Urban Glow Spa"}),
    )
    .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let second = etag(&read(&app, "/workspace", token, &position(&renamed)).await);
    assert_ne!(second, first);

    let events = app.event_count().await;
    let stale = put(
        &app,
        "/workspace",
        token,
        &first,
        json!({"name": "Lost Update"}),
    )
    .await;
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let current = put(
        &app,
        "/workspace",
        token,
        &second,
        json!({"name": "Urban Glow Salon"}),
    )
    .await;
    assert_eq!(current.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn availability_has_an_etag_and_a_stale_if_match_changes_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let path = format!("/staff/{}/availability", user_id_of(token));
    let onboarded = app.head_position().await;
    let none = read(&app, &path, token, &onboarded).await;
    assert_eq!(etag(&none), "\"0\"", "no hours set yet");

    let hours = |start: &str| json!({"weekly": [{"weekday": 1, "start": start, "end": "17:00"}]});
    let set = put(&app, &path, token, "\"0\"", hours("09:00")).await;
    assert_eq!(set.status(), StatusCode::OK);
    let set = position(&set);
    let v1 = etag(&read(&app, &path, token, &set).await);
    assert_eq!(v1, "\"1\"");

    let events = app.event_count().await;
    let stale = put(&app, &path, token, "\"0\"", hours("10:00")).await;
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let shown: Value = read(&app, &path, token, &set).await.json().await.unwrap();
    assert_eq!(shown["weekly"][0]["start"], "09:00");

    let malformed = put(&app, &path, token, "yesterday", hours("10:00")).await;
    assert_error(malformed, StatusCode::BAD_REQUEST, "invalid_if_match").await;

    let current = put(&app, &path, token, &v1, hours("10:00")).await;
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(
        etag(&read(&app, &path, token, &position(&current)).await),
        "\"2\""
    );
}

/// A command with `If-Match`.
async fn with_if_match(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    if_match: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_read_models_etags_of_a_booking_a_service_and_a_staff_member_guard_their_commands(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let owner_id = user_id_of(token);
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "06:00", "end": "22:00"}))
        .collect();
    let hours = put(
        &app,
        &format!("/staff/{owner_id}/availability"),
        token,
        "\"0\"",
        json!({"weekly": weekly}),
    )
    .await;
    assert_eq!(hours.status(), StatusCode::OK);
    let service = app
        .post(
            "/services",
            Some(token),
            &json!({"name": "Haircut", "duration_minutes": 45, "price_cents": 4000}),
        )
        .await;
    let service: Value = service.json().await.unwrap();
    let staff = app
        .post(
            "/staff",
            Some(token),
            &json!({"name": "Sam Staff", "email": "sam@example.com"}),
        )
        .await;
    let staff: Value = staff.json().await.unwrap();
    let at = |hour: u32| {
        (chrono::Utc::now() + chrono::Duration::days(3))
            .date_naive()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
            .and_utc()
    };
    let booking = app
        .post(
            "/bookings",
            Some(token),
            &json!({"service_id": service["id"], "staff_id": owner_id, "start": at(10),
                    "contact": {"name": "Chloe Customer"}}),
        )
        .await;
    assert_eq!(booking.status(), StatusCode::CREATED);
    let created = position(&booking);
    let booking: Value = booking.json().await.unwrap();

    let post = reqwest::Method::POST;
    let put_ = reqwest::Method::PUT;
    let cases = [
        (
            format!("/bookings/{}", booking["id"].as_str().unwrap()),
            post.clone(),
            format!("/bookings/{}/reschedule", booking["id"].as_str().unwrap()),
            json!({"start": at(12)}),
            json!({"start": at(14)}),
        ),
        (
            format!("/services/{}", service["id"].as_str().unwrap()),
            put_.clone(),
            format!("/services/{}", service["id"].as_str().unwrap()),
            json!({"name": "Long haircut", "duration_minutes": 60, "price_cents": 5000}),
            json!({"name": "Lost update", "duration_minutes": 30, "price_cents": 1000}),
        ),
        (
            format!("/staff/{}", staff["id"].as_str().unwrap()),
            put_.clone(),
            format!("/staff/{}/permissions", staff["id"].as_str().unwrap()),
            json!({"bookings": true}),
            json!({"inbox": true}),
        ),
    ];
    for (resource, method, command, change, lost) in cases {
        let first = etag(&read(&app, &resource, token, &created).await);
        assert_eq!(first, "\"1\"", "{resource}: its stream's first version");
        let changed = with_if_match(&app, method.clone(), &command, token, &first, change).await;
        assert_eq!(changed.status(), StatusCode::OK, "{command}");
        let after = position(&changed);
        let answered: Value = changed.json().await.unwrap();
        let shown = read(&app, &resource, token, &after).await;
        assert_eq!(etag(&shown), "\"2\"", "{resource}");
        assert_eq!(
            shown.json::<Value>().await.unwrap(),
            answered,
            "{resource}: the GET answers what the command did"
        );
        let events = app.event_count().await;
        let stale = with_if_match(&app, method, &command, token, &first, lost).await;
        assert_error(
            stale,
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
        )
        .await;
        assert_eq!(app.event_count().await, events, "{command}");
    }
}
