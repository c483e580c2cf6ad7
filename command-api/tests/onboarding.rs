//! Onboarding: stock, services, activation; request ids and metadata; the OpenAPI document.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn};

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_owner_sets_up_stock_and_services_but_cannot_activate_without_availability(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());

    let items = app
        .post(
            "/onboarding/inventory",
            token,
            &json!({"items": [
            {"name": "Red Dye", "unit": "tube", "quantity": 5, "threshold": 2},
            {"name": "Shampoo", "quantity": 40, "threshold": 5}]}),
        )
        .await;
    assert_eq!(items.status(), StatusCode::CREATED);
    let items: Value = items.json().await.unwrap();
    assert_eq!(items["items"][0]["name"], "Red Dye");
    assert_eq!(items["items"][0]["low_stock"], false);
    assert_eq!(items["items"][1]["unit"], "unit");
    let dye = items["items"][0]["id"].as_str().unwrap();

    let services = app
        .post("/onboarding/services", token, &json!({"services": [
            {"name": "Hair Coloring", "duration_minutes": 90, "price_cents": 8500, "buffer_after_minutes": 15,
             "inventory": [{"item_id": dye, "quantity": 1}]},
            {"name": "Haircut", "duration_minutes": 45, "price_cents": 4000}]}))
        .await;
    assert_eq!(services.status(), StatusCode::CREATED);
    let services: Value = services.json().await.unwrap();
    assert_eq!(
        services["services"][0]["currency"], "GBP",
        "the workspace's currency"
    );
    assert_eq!(services["services"][0]["inventory"][0]["item_id"], dye);

    let activate = app.post("/onboarding/activate", token, &json!({})).await;
    let body = assert_error(
        activate,
        StatusCode::UNPROCESSABLE_ENTITY,
        "activation_incomplete",
    )
    .await;
    assert_eq!(body["missing"], json!(["staff_with_availability"]));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn onboarding_is_all_or_nothing_and_checks_what_services_consume(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let before = app.event_count().await;

    let cases = [
        (
            "/onboarding/inventory",
            json!({"items": [{"name": "Ok", "quantity": 1, "threshold": 0}, {"name": "Bad", "quantity": -1, "threshold": 0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/onboarding/inventory",
            json!({"items": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/onboarding/services",
            json!({"services": [{"name": "Zero", "duration_minutes": 0, "price_cents": 100}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/onboarding/services",
            json!({"services": [{"name": "Neg", "duration_minutes": -30, "price_cents": 100}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/onboarding/services",
            json!({"services": [{"name": "Free", "duration_minutes": 30, "price_cents": -1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/onboarding/services",
            json!({"services": [{"name": "Ghost", "duration_minutes": 30, "price_cents": 1,
            "inventory": [{"item_id": uuid::Uuid::now_v7(), "quantity": 1}]}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_inventory_item",
        ),
        (
            "/onboarding/services",
            json!({"services": [{"name": "X", "duration_minutes": "long", "price_cents": 1}]}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (path, body, status, code) in cases {
        let response = app.post(path, token, &body).await;
        assert_error(response, status, code).await;
    }
    assert_eq!(app.event_count().await, before, "nothing appended");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn onboarding_steps_need_the_owner_of_a_workspace(pool: PgPool) {
    let app = spawn(pool).await;
    for path in [
        "/onboarding/inventory",
        "/onboarding/services",
        "/onboarding/activate",
    ] {
        assert_error(
            app.post(path, None, &json!({})).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn another_workspaces_inventory_cannot_be_used_by_a_service(pool: PgPool) {
    let app = spawn(pool).await;
    let first = app.onboard("First", "first@example.com").await;
    let second = app.onboard("Second", "second@example.com").await;
    let items: Value = app
        .post(
            "/onboarding/inventory",
            Some(&first.access_token),
            &json!({"items": [{"name": "Dye", "quantity": 5, "threshold": 1}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let foreign = items["items"][0]["id"].as_str().unwrap();
    let response = app
        .post(
            "/onboarding/services",
            Some(&second.access_token),
            &json!({"services": [{"name": "Steal", "duration_minutes": 30,
            "price_cents": 100, "inventory": [{"item_id": foreign, "quantity": 1}]}]}),
        )
        .await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_inventory_item",
    )
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_request_id_is_returned_and_stored_as_the_correlation_id(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let response = app
        .client
        .post(app.url("/onboarding/inventory"))
        .bearer_auth(&owner.access_token)
        .header("x-request-id", "req-abc-123")
        .json(&json!({"items": [{"name": "Dye", "quantity": 5, "threshold": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-abc-123");
    let metadata: Value =
        sqlx::query_scalar("select metadata from events where event_type = 'InventoryItemCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(metadata["correlation_id"], "req-abc-123");
    assert_eq!(metadata["actor_role"], "owner");
    assert!(metadata["actor_id"].is_string());
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_openapi_document_describes_the_routes(pool: PgPool) {
    let app = spawn(pool).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/onboarding/workspaces",
        "/api/v1/onboarding/activate",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let health = app
        .client
        .get(app.base.replace("/api/v1", "/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app
        .client
        .get(app.base.replace("/api/v1", "/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let docs = app
        .client
        .get(app.base.replace("/api/v1", "/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn services_are_created_updated_and_archived_by_the_owner_only_in_their_workspace(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let token = Some(owner.access_token.as_str());
    let created = app
        .post(
            "/services",
            token,
            &json!({"name": "Haircut", "duration_minutes": 45, "price_cents": 4000}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let service: Value = created.json().await.unwrap();
    let id = service["id"].as_str().unwrap();

    let updated = app.client.put(app.url(&format!("/services/{id}"))).bearer_auth(&owner.access_token)
        .json(&json!({"name": "Long haircut", "duration_minutes": 60, "price_cents": 5000, "buffer_before_minutes": 5}))
        .send().await.unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let after_update = position(&updated);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["duration_minutes"], 60);
    assert_eq!(updated["buffer_before_minutes"], 5);

    let before = app.event_count().await;
    let foreign = app
        .client
        .delete(app.url(&format!("/services/{id}")))
        .bearer_auth(&other.access_token)
        .send()
        .await
        .unwrap();
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(
        app.get_after(
            &format!("/services/{id}"),
            Some(&other.access_token),
            &after_update,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before);

    let archived = app
        .client
        .delete(app.url(&format!("/services/{id}")))
        .bearer_auth(&owner.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status(), StatusCode::OK);
    let after_archiving = position(&archived);
    let archived: Value = archived.json().await.unwrap();
    let fetched = app
        .get_after(&format!("/services/{id}"), token, &after_archiving)
        .await;
    assert_eq!(fetched.headers()["etag"], "\"3\"");
    let fetched: Value = fetched.json().await.unwrap();
    assert_eq!(fetched["archived"], true);
    assert_eq!(
        fetched, archived,
        "the read model answers what the command did"
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_audit_trail_names_who_did_what_newest_first_for_the_owner_only(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let token = Some(owner.access_token.as_str());
    app.post(
        "/onboarding/inventory",
        token,
        &json!({"items": [{"name": "Dye", "quantity": 5, "threshold": 1}]}),
    )
    .await;
    let page: Value = app.get("/audit?limit=2", token).await.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["event_type"], "InventoryItemCreated");
    assert_eq!(items[0]["actor"]["name"], "Olivia Owner");
    assert_eq!(items[0]["actor"]["role"], "owner");
    assert!(items[0]["position"].as_i64() > items[1]["position"].as_i64());
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/audit?cursor={cursor}"), token)
        .await
        .json()
        .await
        .unwrap();
    let all: Vec<&str> = items
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert!(all.contains(&"WorkspaceCreated") && all.contains(&"OwnerRegistered"));
    assert!(
        rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["data"].to_string().find("Elsewhere").is_none()),
        "only this workspace"
    );
    let filtered: Value = app
        .get("/audit?event_type=OwnerRegistered", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_error(
        app.get("/audit?cursor=abc", token).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    assert_error(
        app.get("/audit?color=red", token).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    let theirs: Value = app
        .get("/audit", Some(&other.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event_type"] != "InventoryItemCreated"));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn metrics_count_requests_by_route_events_appended_and_projection_lag(pool: PgPool) {
    let app = spawn(pool).await;
    app.onboard("Urban Glow", "owner@example.com").await;
    let text = app
        .client
        .get(app.base.replace("/api/v1", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("careops_http_requests_total{"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/onboarding/workspaces\""),
        "{text}"
    );
    assert!(
        text.contains("careops_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("careops_events_appended_total"), "{text}");
    assert!(
        text.contains("careops_projection_lag_events{projection="),
        "{text}"
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn contacts_are_unique_by_email_in_a_workspace_and_can_change_it(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let token = Some(owner.access_token.as_str());
    let ann = app
        .post(
            "/contacts",
            token,
            &json!({"name": "Ann", "email": "ann@example.com", "phone": "+447700900001"}),
        )
        .await;
    assert_eq!(ann.status(), StatusCode::CREATED);
    let ann: Value = ann.json().await.unwrap();
    let id = ann["id"].as_str().unwrap();
    assert_error(
        app.post(
            "/contacts",
            token,
            &json!({"name": "Ann 2", "email": "ANN@example.com"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate_contact",
    )
    .await;
    // Another workspace may have its own Ann.
    assert_eq!(
        app.post(
            "/contacts",
            Some(&other.access_token),
            &json!({"name": "Ann", "email": "ann@example.com"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_error(
        app.post(
            "/contacts",
            token,
            &json!({"name": "Bad", "phone": "12345"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;

    let moved = app
        .client
        .put(app.url(&format!("/contacts/{id}")))
        .bearer_auth(&owner.access_token)
        .json(&json!({"name": "Ann B", "email": "ann.b@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    // The old email is free again, the new one taken.
    assert_eq!(
        app.post(
            "/contacts",
            token,
            &json!({"name": "New Ann", "email": "ann@example.com"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_error(
        app.post(
            "/contacts",
            token,
            &json!({"name": "X", "email": "ann.b@example.com"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate_contact",
    )
    .await;
    let foreign = app
        .client
        .put(app.url(&format!("/contacts/{id}")))
        .bearer_auth(&other.access_token)
        .json(&json!({"name": "Stolen"}))
        .send()
        .await
        .unwrap();
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_public_apis_own_path_words_are_never_a_workspaces_slug(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = json!({"name": "Fiona Forms", "email": "fiona@forms.example", "password": "correct horse battery"});
    let response = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Forms", "slug": "forms", "timezone": "Europe/London", "owner": owner}),
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "slug_taken").await;
    let response = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Forms", "timezone": "Europe/London", "owner": owner}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["workspace"]["slug"], "forms-2");
}
