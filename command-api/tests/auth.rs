//! Onboarding and authentication through HTTP.

mod support;

use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn};

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn onboarding_creates_an_inactive_workspace_and_its_owner_who_can_log_in(pool: PgPool) {
    let app = spawn(pool).await;
    let response = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Urban Glow", "timezone": "Europe/London",
                    "owner": {"name": "Olivia", "email": "Olivia@Example.com", "password": "s3cret-enough"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("x-careops-position").is_some());
    assert!(response.headers().get("x-request-id").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["workspace"]["slug"], "urban-glow");
    assert_eq!(body["workspace"]["is_active"], false);
    assert_eq!(body["workspace"]["timezone"], "Europe/London");

    let me = app.get("/auth/me", body["access_token"].as_str()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["role"], "owner");
    assert_eq!(me["email"], "olivia@example.com");
    assert_eq!(me["permissions"]["inventory"], true);

    let login = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "olivia@example.com", "password": "s3cret-enough"}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["token_type"], "bearer");
    assert_eq!(login["expires_in"], 1800);
    assert_eq!(login["user"]["workspace_id"], body["workspace"]["id"]);

    // A second workspace from the same name gets the next free address.
    let second = app.onboard("Urban Glow", "second@example.com").await;
    assert_eq!(second.slug, "urban-glow-2");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_taken_slug_or_owner_email_is_a_conflict_and_writes_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    app.onboard("Urban Glow", "owner@example.com").await;
    let before = app.event_count().await;
    let taken_slug = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Other", "slug": "urban-glow", "timezone": "UTC",
              "owner": {"name": "O", "email": "new@example.com", "password": "long enough"}}),
        )
        .await;
    assert_error(taken_slug, StatusCode::CONFLICT, "slug_taken").await;
    let taken_email = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Other", "timezone": "UTC",
              "owner": {"name": "O", "email": "OWNER@example.com", "password": "long enough"}}),
        )
        .await;
    assert_error(taken_email, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_onboarding_inputs_get_the_right_error_and_append_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = json!({"name": "O", "email": "o@example.com", "password": "long enough"});
    let long_name = "x".repeat(10_000);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"name": "A", "timezone": "UTC"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": "A", "timezone": "UTC", "owner": owner, "extra": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": 5, "timezone": "UTC", "owner": owner}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": "A", "timezone": "Mars/Olympus", "owner": owner}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "slug": "has spaces", "timezone": "UTC", "owner": owner}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": long_name, "timezone": "UTC", "owner": owner}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "timezone": "UTC", "currency": "EURO", "owner": owner}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "timezone": "UTC", "owner": {"name": "O", "email": "no-at-sign", "password": "long enough"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "timezone": "UTC", "owner": {"name": "O", "email": "o@example.com", "password": "short"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        ),
        (
            json!({"name": "A", "timezone": "UTC", "owner": {"name": "", "email": "o@example.com", "password": "long enough"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.post("/onboarding/workspaces", None, &body).await;
        assert_eq!(response.status(), status, "{body}");
        assert_error(response, status, code).await;
    }
    let malformed = app
        .client
        .post(app.url("/onboarding/workspaces"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;
    let oversize = app
        .client
        .post(app.url("/onboarding/workspaces"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_error(oversize, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    assert_eq!(app.event_count().await, 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn wrong_credentials_get_the_same_401_for_unknown_emails(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let wrong_password = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": "not it at all"}),
        )
        .await;
    let a = assert_error(
        wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "not it at all"}),
        )
        .await;
    let b = assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a, b);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn login_is_rate_limited_per_email_with_retry_after(pool: PgPool) {
    let app = spawn(pool).await;
    let mut limited = None;
    for _ in 0..15 {
        let response = app
            .post(
                "/auth/login",
                None,
                &json!({"email": "victim@example.com", "password": "guess guess"}),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("the 11th attempt within a minute is refused");
    assert!(response.headers().get("retry-after").is_some());
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn refresh_rotates_and_reusing_a_spent_token_revokes_the_whole_login(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let first = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": owner.refresh_token}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let new_refresh = first["refresh_token"].as_str().unwrap().to_string();
    let new_access = first["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, owner.refresh_token);
    assert_eq!(
        app.get("/auth/me", Some(&new_access)).await.status(),
        StatusCode::OK
    );

    // The spent token comes back (stolen): 401, and the whole login is revoked.
    let reuse = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": owner.refresh_token}),
        )
        .await;
    assert_error(reuse, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let after = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": new_refresh}),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/auth/me", Some(&new_access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/auth/me", Some(&owner.access_token))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Another login is unaffected.
    let login = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": owner.password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn logout_ends_the_login_and_a_password_change_ends_the_others(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let other: Value = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": owner.password}),
        )
        .await
        .json()
        .await
        .unwrap();
    let other_access = other["access_token"].as_str().unwrap();

    let changed = app
        .post(
            "/auth/password",
            Some(&owner.access_token),
            &json!({"current_password": owner.password, "new_password": "a brand new one"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/auth/me", Some(other_access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/auth/me", Some(&owner.access_token))
            .await
            .status(),
        StatusCode::OK
    );
    let old = app
        .post(
            "/auth/login",
            None,
            &json!({"email": owner.email, "password": owner.password}),
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    let logout = app
        .post(
            "/auth/logout",
            Some(&owner.access_token),
            &json!({"refresh_token": owner.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/auth/me", Some(&owner.access_token))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": owner.refresh_token}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn tampered_expired_and_wrong_algorithm_tokens_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let parts: Vec<&str> = owner.access_token.split('.').collect();
    let claims: Value = serde_json::from_slice(&base64_url_decode(parts[1])).unwrap();

    let mut forged_claims = claims.clone();
    forged_claims["role"] = json!("owner");
    forged_claims["workspace_id"] = json!(uuid::Uuid::now_v7());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64_url_encode(&serde_json::to_vec(&forged_claims).unwrap()),
        parts[2]
    );
    let none_alg = format!(
        "{}.{}.",
        base64_url_encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let rs_header = format!(
        "{}.{}.{}",
        base64_url_encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        parts[1],
        parts[2]
    );
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(chrono::Utc::now().timestamp() - 10);
    let expired = encode(
        &Header::default(),
        &expired_claims,
        &EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123"),
    )
    .unwrap();
    let other_secret = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret!"),
    )
    .unwrap();

    for token in [
        tampered,
        none_alg,
        rs_header,
        expired,
        other_secret,
        "garbage".to_string(),
    ] {
        let response = app.get("/auth/me", Some(&token)).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    assert_error(
        app.get("/auth/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

fn base64_url_decode(input: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(input)
        .unwrap()
}

fn base64_url_encode(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(input)
}
