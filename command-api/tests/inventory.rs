//! Inventory through HTTP: receive, adjust, never below zero, low-stock crossings recorded.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn};

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn stock_is_received_adjusted_and_never_goes_below_zero(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let created = app
        .post(
            "/inventory",
            token,
            &json!({"name": "Red Dye", "unit": "tube", "quantity": 5, "threshold": 2}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let item: Value = created.json().await.unwrap();
    let id = item["id"].as_str().unwrap();

    let received: Value = app
        .post(
            &format!("/inventory/{id}/receive"),
            token,
            &json!({"quantity": 3}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(received["quantity"], 8);

    let before = app.event_count().await;
    let too_much = app
        .post(
            &format!("/inventory/{id}/adjust"),
            token,
            &json!({"delta": -9, "reason": "breakage"}),
        )
        .await;
    assert_error(too_much, StatusCode::CONFLICT, "insufficient_stock").await;
    assert_eq!(
        app.event_count().await,
        before,
        "a refused adjustment appends nothing"
    );

    let adjusted = app
        .post(
            &format!("/inventory/{id}/adjust"),
            token,
            &json!({"delta": -7, "reason": "spilled"}),
        )
        .await;
    assert_eq!(adjusted.status(), StatusCode::OK);
    let after_adjusting = position(&adjusted);
    let adjusted: Value = adjusted.json().await.unwrap();
    assert_eq!(adjusted["quantity"], 1);
    assert_eq!(adjusted["low_stock"], true);
    let crossings: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'LowStockCrossed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(crossings, 1);

    let read = app
        .get_after(&format!("/inventory/{id}"), token, &after_adjusting)
        .await;
    assert_eq!(
        read.headers()["etag"],
        "\"4\"",
        "created, received, adjusted, crossed"
    );
    let read: Value = read.json().await.unwrap();
    assert_eq!(
        read, adjusted,
        "the read model answers what the command did"
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn inventory_of_another_workspace_is_not_found_and_untouched(pool: PgPool) {
    let app = spawn(pool).await;
    let first = app.onboard("First", "first@example.com").await;
    let second = app.onboard("Second", "second@example.com").await;
    let created = app
        .post(
            "/inventory",
            Some(&first.access_token),
            &json!({"name": "Dye", "quantity": 5, "threshold": 1}),
        )
        .await;
    let seen = position(&created);
    let item: Value = created.json().await.unwrap();
    let id = item["id"].as_str().unwrap();
    let before = app.event_count().await;
    assert_eq!(
        app.get_after(
            &format!("/inventory/{id}"),
            Some(&first.access_token),
            &seen
        )
        .await
        .status(),
        StatusCode::OK
    );
    let token = Some(second.access_token.as_str());
    assert_error(
        app.get_after(&format!("/inventory/{id}"), token, &seen)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.post(
            &format!("/inventory/{id}/receive"),
            token,
            &json!({"quantity": 1}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.post(
            &format!("/inventory/{id}/adjust"),
            token,
            &json!({"delta": -1, "reason": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let put = app
        .client
        .put(app.url(&format!("/inventory/{id}")))
        .bearer_auth(&second.access_token)
        .json(&json!({"name": "Mine", "threshold": 1}))
        .send()
        .await
        .unwrap();
    assert_error(put, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_inventory_inputs_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let item: Value = app
        .post(
            "/inventory",
            token,
            &json!({"name": "Dye", "quantity": 5, "threshold": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = item["id"].as_str().unwrap();
    let before = app.event_count().await;
    let cases = [
        (
            "/inventory".to_string(),
            json!({"name": "", "quantity": 1, "threshold": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/inventory".to_string(),
            json!({"name": "A", "quantity": 1.5, "threshold": 0}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            format!("/inventory/{id}/receive"),
            json!({"quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("/inventory/{id}/receive"),
            json!({"quantity": -4}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("/inventory/{id}/adjust"),
            json!({"delta": 0, "reason": "none"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("/inventory/{id}/adjust"),
            json!({"delta": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (path, body, status, code) in cases {
        assert_error(app.post(&path, token, &body).await, status, code).await;
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_stale_if_match_is_refused_with_412_and_changes_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let created = app
        .post(
            "/inventory",
            token,
            &json!({"name": "Dye", "quantity": 5, "threshold": 1}),
        )
        .await;
    let seen = position(&created);
    let item: Value = created.json().await.unwrap();
    let id = item["id"].as_str().unwrap();
    let read = app
        .get_after(&format!("/inventory/{id}"), token, &seen)
        .await;
    let etag = read.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, "\"1\"");
    let receive = |etag: String| {
        app.client
            .post(app.url(&format!("/inventory/{id}/receive")))
            .bearer_auth(&owner.access_token)
            .header("if-match", etag)
            .json(&json!({"quantity": 2}))
            .send()
    };
    assert_eq!(
        receive(etag.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let before = app.event_count().await;
    assert_error(
        receive(etag).await.unwrap(),
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_error(
        receive("soon".into()).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_if_match",
    )
    .await;
    assert_eq!(app.event_count().await, before);
    assert_eq!(
        receive("\"2\"".into()).await.unwrap().status(),
        StatusCode::OK
    );
}
