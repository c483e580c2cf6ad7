//! `Idempotency-Key` where the first response holds credentials (they are replayed, but
//! never stored in clear), and claims left behind by a request that never finished.

mod support;

use chrono::{Duration, DurationRound, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, user_id_of, TestApp};

async fn keyed(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("idempotency-key", key)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The stored record of `key`: (sealed, body bytes).
async fn stored(app: &TestApp, key: &str) -> (bool, Vec<u8>) {
    sqlx::query_as("select body_nonce is not null, body from idempotency_records where key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn token_responses_are_replayed_but_stored_only_sealed(pool: PgPool) {
    let app = spawn(pool).await;
    let onboarding = json!({"name": "Urban Glow", "timezone": "Europe/London",
        "owner": {"name": "Olivia Owner", "email": "owner@example.com", "password": "correct horse battery"}});
    let first = keyed(
        &app,
        "/onboarding/workspaces",
        None,
        "onboard-1",
        &onboarding,
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let first: Value = first.json().await.unwrap();
    // The response was lost; the retry gets the same workspace and tokens, not a 409.
    let again = keyed(
        &app,
        "/onboarding/workspaces",
        None,
        "onboard-1",
        &onboarding,
    )
    .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["cache-control"], "no-store");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let (sealed, body) = stored(&app, "onboard-1").await;
    assert!(sealed);
    for secret in ["access_token", "refresh_token"] {
        let token = first[secret].as_str().unwrap();
        assert!(!contains(&body, token), "{secret} stored in clear");
    }

    // A login: same.
    let credentials = json!({"email": "owner@example.com", "password": "correct horse battery"});
    let login = keyed(&app, "/auth/login", None, "login-1", &credentials).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    let replayed = keyed(&app, "/auth/login", None, "login-1", &credentials).await;
    assert_eq!(replayed.json::<Value>().await.unwrap(), login);
    let (sealed, body) = stored(&app, "login-1").await;
    assert!(sealed);
    assert!(!contains(&body, login["refresh_token"].as_str().unwrap()));
    // The fingerprint of the login body is keyed: not the plain SHA-256 of what was sent.
    let plain: i64 = sqlx::query_scalar(
        "select count(*) from idempotency_records
         where request_hash = sha256(convert_to('POST /api/v1/auth/login' || chr(10), 'UTF8') || $1)",
    )
    .bind(serde_json::to_vec(&credentials).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(plain, 0);

    // A refresh whose answer was lost: the retry gets the new pair instead of presenting a
    // spent token (which would revoke the whole login).
    let spend = json!({"refresh_token": login["refresh_token"]});
    let rotated = keyed(&app, "/auth/refresh", None, "refresh-1", &spend).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let retried = keyed(&app, "/auth/refresh", None, "refresh-1", &spend).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(retried.json::<Value>().await.unwrap(), rotated);
    assert!(stored(&app, "refresh-1").await.0);
    let next = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": rotated["refresh_token"]}),
        )
        .await;
    assert_eq!(next.status(), StatusCode::OK, "the login is intact");

    // Responses without credentials stay in clear (an erasure finds the ones showing a contact).
    let token = first["access_token"].as_str().unwrap();
    let contact = keyed(
        &app,
        "/contacts",
        Some(token),
        "contact-1",
        &json!({"name": "Chloe Customer"}),
    )
    .await;
    assert_eq!(contact.status(), StatusCode::CREATED);
    assert!(contact.headers().get("cache-control").is_none());
    let (sealed, body) = stored(&app, "contact-1").await;
    assert!(!sealed);
    assert!(contains(&body, "Chloe Customer"));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_public_bookings_manage_token_is_never_stored_in_clear(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let owner_id = user_id_of(&owner.access_token);
    app.open_every_day(&owner.access_token, &owner_id).await;
    let services: Value = app
        .post(
            "/onboarding/services",
            token,
            &json!({"services": [{"name": "Cut", "duration_minutes": 30, "price_cents": 3000}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let service = services["services"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.post("/onboarding/activate", token, &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let start = (Utc::now() + Duration::days(3))
        .duration_trunc(Duration::days(1))
        .unwrap()
        + Duration::hours(10);
    let booking = json!({"service_id": service, "start": start.to_rfc3339(),
        "contact": {"name": "Ida", "email": "ida@example.com"}});
    let path = format!("/public/{}/bookings", owner.slug);
    let first = keyed(&app, &path, None, "public-1", &booking).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = keyed(&app, &path, None, "public-1", &booking).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the same token back"
    );
    let (sealed, body) = stored(&app, "public-1").await;
    assert!(sealed);
    assert!(!contains(&body, first["manage_token"].as_str().unwrap()));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_claim_left_by_a_request_that_never_finished_expires(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let body = json!({"name": "Chloe Customer"});
    let first = keyed(&app, "/contacts", token, "crash-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    // As if the process had died before storing the response: the claim is still there.
    sqlx::query(
        "update idempotency_records set status = 0, body = ''::bytea, headers = '{}'::jsonb
         where key = 'crash-1'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let blocked = keyed(&app, "/contacts", token, "crash-1", &body).await;
    assert_error(blocked, StatusCode::CONFLICT, "idempotency_in_progress").await;

    // A minute later the claim is stale: another body with the key is still refused…
    sqlx::query(
        "update idempotency_records set created_at = now() - interval '61 seconds' where key = 'crash-1'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let other = keyed(
        &app,
        "/contacts",
        token,
        "crash-1",
        &json!({"name": "Someone Else"}),
    )
    .await;
    assert_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // …and the same request runs again, and is kept for later retries.
    let retried = keyed(&app, "/contacts", token, "crash-1", &body).await;
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert!(retried.headers().get("idempotent-replayed").is_none());
    let retried: Value = retried.json().await.unwrap();
    let replayed = keyed(&app, "/contacts", token, "crash-1", &body).await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(replayed.json::<Value>().await.unwrap(), retried);

    // A fresh claim (under a minute old) is not taken over.
    sqlx::query(
        "update idempotency_records set status = 0, created_at = now() - interval '30 seconds'
         where key = 'crash-1'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let young = keyed(&app, "/contacts", token, "crash-1", &body).await;
    assert_error(young, StatusCode::CONFLICT, "idempotency_in_progress").await;
}
