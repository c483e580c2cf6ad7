//! The cross-cutting conventions of CONTRACT.md that no single endpoint owns: unmatched
//! routes in the error format, and causation in event metadata.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, user_id_of};

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn unknown_paths_and_wrong_methods_answer_in_the_error_format(pool: PgPool) {
    let app = spawn(pool).await;
    let root = app.base.replace("/api/v1", "");
    for url in [
        app.url("/no-such-thing"),
        app.url("/bookings/not/a/route"),
        format!("{root}/nowhere"),
    ] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "route_not_found").await;
    }

    // A known path with a method it does not take: 405, and Allow lists what it takes.
    let cases = [
        (reqwest::Method::DELETE, app.url("/auth/login"), "POST"),
        (
            reqwest::Method::PATCH,
            app.url("/bookings"),
            "GET,HEAD,POST",
        ),
        (reqwest::Method::POST, format!("{root}/health"), "GET,HEAD"),
    ];
    for (method, url, allowed) in cases {
        let response = app.client.request(method, &url).send().await.unwrap();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mut methods: Vec<String> = v.split(',').map(|m| m.trim().to_string()).collect();
                methods.sort();
                methods.join(",")
            });
        assert_eq!(allow.as_deref(), Some(allowed), "{url}");
        assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_http_commands_events_name_its_request_as_correlation_and_causation(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let response = app
        .client
        .post(app.url("/contacts"))
        .bearer_auth(&owner.access_token)
        .header("x-request-id", "req-causes-1")
        .json(&json!({"name": "Chloe Customer", "email": "chloe@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let metadata: Vec<Value> = sqlx::query_scalar(
        "select metadata from events where metadata ->> 'request_id' = 'req-causes-1'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(metadata.len(), 2, "the contact and its email reservation");
    for m in &metadata {
        assert_eq!(m["causation_id"], "req-causes-1", "{m}");
        assert_eq!(m["correlation_id"], "req-causes-1", "{m}");
        assert_eq!(m["actor_id"], user_id_of(&owner.access_token).as_str());
    }

    // Every event of every command so far (the onboarding's included, with no token yet)
    // names its cause.
    let uncaused: i64 =
        sqlx::query_scalar("select count(*) from events where metadata ->> 'causation_id' is null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(uncaused, 0);

    // The audit trail shows it.
    let audit: Value = app
        .get(
            "/audit?event_type=ContactCreated",
            Some(&owner.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["causation_id"], "req-causes-1", "{audit}");
}
