//! The cross-cutting conventions of CONTRACT.md that no single endpoint owns: unmatched
//! routes in the error format, a position on every command response, causation in event
//! metadata, and the per-IP login limit behind trusted and untrusted proxies.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, spawn_with, user_id_of, TestApp};

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

/// The `X-CareOps-Position` of a response, which must be there.
fn position(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-careops-position")
        .unwrap_or_else(|| panic!("{} has no X-CareOps-Position", response.url()))
        .to_str()
        .unwrap()
        .to_string()
}

async fn head(app: &TestApp) -> String {
    let (tx, position): (i64, i64) = sqlx::query_as(
        "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    format!("{tx}-{position}")
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn commands_that_append_nothing_still_answer_a_position_a_query_can_wait_for(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let events = app.event_count().await;

    // A login appends no event.
    let login = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": owner.password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let after_login = position(&login);
    assert_eq!(after_login, head(&app).await, "the store's head");

    // Neither does a workspace update that changes nothing.
    let unchanged = app
        .client
        .put(app.url("/workspace"))
        .bearer_auth(&owner.access_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::OK);
    let token = position(&unchanged);
    assert_eq!(app.event_count().await, events, "nothing was appended");

    // The token is one a query accepts and is answered for (not 400, not 503).
    let read = app
        .client
        .get(app.url("/workspace"))
        .bearer_auth(&owner.access_token)
        .header("x-careops-min-position", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    // Commands that append keep naming their own last event.
    let created = app
        .post(
            "/contacts",
            Some(&owner.access_token),
            &json!({"name": "Chloe Customer"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(position(&created), head(&app).await);
    assert_ne!(position(&created), token);
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

async fn login_from(app: &TestApp, forwarded_for: Option<&str>, email: &str) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": "not the password"}));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_per_ip_login_limit_cannot_be_dodged_with_a_forged_forwarded_for(pool: PgPool) {
    // No trusted proxies (the default): the socket peer is the client.
    let app = spawn_with(pool, |c| {
        c.rate_limits.login_per_ip_per_minute = 3;
        c.rate_limits.login_per_email_per_minute = 100;
    })
    .await;
    for n in 0..3 {
        let forged = format!("198.51.100.{n}");
        let response = login_from(&app, Some(&forged), &format!("u{n}@example.com")).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let limited = login_from(&app, Some("198.51.100.99"), "u9@example.com").await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_limit(pool: PgPool) {
    let app = spawn_with(pool, |c| {
        c.rate_limits.login_per_ip_per_minute = 2;
        c.rate_limits.login_per_email_per_minute = 100;
        c.trusted_proxies = Some("127.0.0.1, 10.0.0.0/8".into());
    })
    .await;
    // Client A, through the proxy: two attempts, then 429.
    for _ in 0..2 {
        let response = login_from(&app, Some("203.0.113.7"), "a@example.com").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = login_from(&app, Some("203.0.113.7"), "a@example.com").await;
    assert!(limited.headers().get("retry-after").is_some());
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // A client that forges an entry left of its real address is still itself: the rightmost
    // untrusted hop (appended by the proxy) counts.
    let forged = login_from(&app, Some("198.51.100.1, 203.0.113.7"), "a@example.com").await;
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
    // Client B, through the same proxy (and an inner trusted hop), is not held back by A.
    let other = login_from(&app, Some("203.0.113.8, 10.1.2.3"), "b@example.com").await;
    assert_error(other, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
