//! Intake forms: templates, requests whose link reaches the contact only by email, and the
//! public fetch and submit by token.

mod support;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use service_runtime::form_tokens::take_link_token;
use service_runtime::secrets::SecretBox;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use support::{assert_error, spawn, TestApp, TEST_SECRET_KEY};

fn intake() -> Value {
    json!({"name": "Intake", "fields": [
        {"key": "full_name", "label": "Full name", "kind": "text", "required": true},
        {"key": "allergies", "label": "Allergies", "kind": "textarea", "required": false},
        {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true},
        {"key": "skin", "label": "Skin type", "kind": "select", "required": true, "options": ["dry", "oily"]},
        {"key": "birthday", "label": "Birthday", "kind": "date", "required": false},
        {"key": "signature", "label": "Signature", "kind": "signature", "required": false}
    ]})
}

async fn created_id(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A workspace with the intake template and a contact: (owner token, template id, contact id).
async fn setup(app: &TestApp, name: &str, email: &str) -> (String, String, String) {
    let owner = app.onboard(name, email).await;
    let token = owner.access_token;
    let template = created_id(app.post("/forms/templates", Some(&token), &intake()).await).await;
    let contact = created_id(
        app.post(
            "/contacts",
            Some(&token),
            &json!({"name": "Cleo Client", "email": format!("cleo.{email}")}),
        )
        .await,
    )
    .await;
    (token, template, contact)
}

async fn link_token(app: &TestApp, request_id: &str) -> Option<String> {
    take_link_token(
        &app.pool,
        &SecretBox::from_base64(TEST_SECRET_KEY).unwrap(),
        request_id.parse().unwrap(),
    )
    .await
    .unwrap()
}

fn valid_answers() -> Value {
    json!({"full_name": "Cleo Client", "consent": true, "skin": "dry", "birthday": "1990-04-01"})
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_form_is_requested_its_link_is_only_handed_to_the_email_and_the_contact_submits_once(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let (owner, template, contact) = setup(&app, "Urban Glow", "owner@example.com").await;
    let (_, fiona) = app
        .staff_member(&owner, "fiona@example.com", json!({"forms": true}))
        .await;
    let mut api_bodies: Vec<String> = Vec::new();

    let requested = app
        .post(
            "/forms/requests",
            Some(&fiona),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::CREATED);
    let requested: Value = requested.json().await.unwrap();
    api_bodies.push(requested.to_string());
    assert_eq!(requested["status"], "pending");
    assert_eq!(requested["template_id"], template.as_str());
    assert_eq!(requested["contact_id"], contact.as_str());
    assert!(requested["booking_id"].is_null());
    let request_id = requested["id"].as_str().unwrap().to_string();

    // The notifier takes the token once; the table keeps only its hash afterwards.
    let token = link_token(&app, &request_id).await.expect("a sealed token");
    assert_eq!(token.len(), 43, "32 bytes, URL-safe base64 without padding");
    assert!(link_token(&app, &request_id).await.is_none(), "taken once");
    let (hash, sealed): (Vec<u8>, Option<Vec<u8>>) = sqlx::query_as(
        "select token_hash, sealed_token from form_request_tokens where request_id = $1::uuid",
    )
    .bind(&request_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
    assert!(sealed.is_none());

    let form = app.get(&format!("/public/forms/{token}"), None).await;
    assert_eq!(form.status(), StatusCode::OK);
    let form: Value = form.json().await.unwrap();
    assert_eq!(form["request_id"], request_id.as_str());
    assert_eq!(form["workspace"]["name"], "Urban Glow");
    assert_eq!(form["template"]["name"], "Intake");
    assert_eq!(
        form["template"]["fields"][3]["options"],
        json!(["dry", "oily"])
    );
    assert_eq!(form["status"], "pending");

    let submitted = app
        .post(
            &format!("/public/forms/{token}"),
            None,
            &json!({"answers": valid_answers()}),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let position = submitted.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string();
    let submitted: Value = submitted.json().await.unwrap();
    assert_eq!(submitted["status"], "submitted");
    assert_error(
        app.post(
            &format!("/public/forms/{token}"),
            None,
            &json!({"answers": valid_answers()}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_submitted",
    )
    .await;
    let form: Value = app
        .get(&format!("/public/forms/{token}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(form["status"], "submitted");

    let single = app
        .client
        .get(app.url(&format!("/forms/requests/{request_id}")))
        .bearer_auth(&fiona)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap();
    assert_eq!(single.status(), StatusCode::OK);
    assert!(single.headers().contains_key("etag"));
    let single: Value = single.json().await.unwrap();
    api_bodies.push(single.to_string());
    assert_eq!(single["status"], "submitted");
    assert_eq!(single["answers"]["skin"], "dry");
    assert_eq!(single["answers"]["consent"], true);
    let listed = app
        .client
        .get(app.url("/forms/submissions?status=submitted"))
        .bearer_auth(&owner)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    api_bodies.push(listed.clone());
    assert!(listed.contains(&request_id));
    let seen = app.head_position().await;
    for path in [
        format!("/contacts/{contact}/history"),
        format!("/audit?stream_id=form-request-{request_id}"),
    ] {
        let read = app.get_after(&path, Some(&owner), &seen).await;
        api_bodies.push(read.text().await.unwrap());
    }

    // The token is in no response of the authenticated API, no event, no stored response.
    for body in &api_bodies {
        assert!(!body.contains(&token), "{body}");
    }
    let in_events: i64 = sqlx::query_scalar(
        "select count(*) from events where data::text like '%' || $1 || '%' or metadata::text like '%' || $1 || '%'",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_events, 0);
    let replayable: i64 = sqlx::query_scalar(
        "select count(*) from idempotency_records where position($1::bytea in body) > 0",
    )
    .bind(token.as_bytes())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(replayable, 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn answers_are_validated_against_the_template_and_the_problem_names_its_field(pool: PgPool) {
    let app = spawn(pool).await;
    let (owner, template, contact) = setup(&app, "Urban Glow", "owner@example.com").await;
    let request_id = created_id(
        app.post(
            "/forms/requests",
            Some(&owner),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await,
    )
    .await;
    let token = link_token(&app, &request_id).await.unwrap();
    let path = format!("/public/forms/{token}");
    let before = app.event_count().await;
    let with = |change: Value| {
        let mut answers = valid_answers();
        for (k, v) in change.as_object().unwrap() {
            answers[k] = v.clone();
        }
        json!({"answers": answers})
    };
    let cases = [
        (
            json!({"answers": {"consent": true, "skin": "dry"}}),
            "full_name",
        ),
        (with(json!({"full_name": "   "})), "full_name"),
        (with(json!({"full_name": "x".repeat(501)})), "full_name"),
        (with(json!({"full_name": 42})), "full_name"),
        (with(json!({"consent": "yes"})), "consent"),
        (with(json!({"consent": false})), "consent"),
        (with(json!({"skin": "normal"})), "skin"),
        (with(json!({"birthday": "1990-13-01"})), "birthday"),
        (with(json!({"birthday": "01/04/1990"})), "birthday"),
        (with(json!({"shoe_size": "42"})), "shoe_size"),
    ];
    for (body, field) in cases {
        let refused = assert_error(
            app.post(&path, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        )
        .await;
        assert_eq!(refused["field"], field, "{body}");
    }
    for body in [
        json!({"answers": ["x"]}),
        json!({"answers": {}, "extra": 1}),
        json!({}),
    ] {
        assert_error(
            app.post(&path, None, &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
    }
    assert_eq!(app.event_count().await, before);
    // Optional fields may be left out or null; a long textarea is fine.
    let accepted = app
        .post(
            &path,
            None,
            &with(json!({"birthday": null, "allergies": "x".repeat(5000)})),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn unknown_and_expired_links_are_not_found(pool: PgPool) {
    let app = spawn(pool).await;
    let (owner, template, contact) = setup(&app, "Urban Glow", "owner@example.com").await;
    let request_id = created_id(
        app.post(
            "/forms/requests",
            Some(&owner),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await,
    )
    .await;
    let token = link_token(&app, &request_id).await.unwrap();
    let guess = "A".repeat(43);
    assert_error(
        app.get(&format!("/public/forms/{guess}"), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.post(
            &format!("/public/forms/{guess}"),
            None,
            &json!({"answers": valid_answers()}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get(&format!("/public/forms/{token}"), None)
            .await
            .status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::days(31));
    assert_error(
        app.get(&format!("/public/forms/{token}"), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let before = app.event_count().await;
    assert_error(
        app.post(
            &format!("/public/forms/{token}"),
            None,
            &json!({"answers": valid_answers()}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn templates_are_the_owners_edited_with_if_match_and_bad_ones_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let (owner, template, _) = setup(&app, "Urban Glow", "owner@example.com").await;
    let (_, fiona) = app
        .staff_member(&owner, "fiona@example.com", json!({"forms": true}))
        .await;
    let before = app.event_count().await;
    assert_error(
        app.post("/forms/templates", Some(&fiona), &intake()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let staff_put = app
        .client
        .put(app.url(&format!("/forms/templates/{template}")))
        .bearer_auth(&fiona)
        .json(&intake())
        .send()
        .await
        .unwrap();
    assert_error(staff_put, StatusCode::FORBIDDEN, "forbidden").await;

    let field = |f: Value| json!({"name": "T", "fields": [f]});
    let cases = [
        (
            json!({"name": " ", "fields": [{"key": "a", "label": "A", "kind": "text"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("name"),
        ),
        (
            json!({"name": "T", "fields": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("fields"),
        ),
        (
            field(json!({"key": "First Name", "label": "A", "kind": "text"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("fields[0].key"),
        ),
        (
            field(json!({"key": "a", "label": "", "kind": "text"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("fields[0].label"),
        ),
        (
            field(json!({"key": "a", "label": "A", "kind": "select"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("options"),
        ),
        (
            field(json!({"key": "a", "label": "A", "kind": "text", "options": ["x"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("options"),
        ),
        (
            json!({"name": "T", "fields": [{"key": "a", "label": "A", "kind": "text"}, {"key": "a", "label": "B", "kind": "date"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("fields"),
        ),
        (
            field(json!({"key": "a", "label": "A", "kind": "colour"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            None,
        ),
        (
            field(json!({"key": "a", "label": "A", "kind": "text", "placeholder": "x"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            None,
        ),
        (
            json!({"name": "T"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let refused = assert_error(
            app.post("/forms/templates", Some(&owner), &body).await,
            status,
            code,
        )
        .await;
        if let Some(field) = field {
            assert_eq!(refused["field"], field, "{body}");
        }
    }
    assert_eq!(app.event_count().await, before);

    let stale = app
        .client
        .put(app.url(&format!("/forms/templates/{template}")))
        .bearer_auth(&owner)
        .header("if-match", "\"7\"")
        .json(&intake())
        .send()
        .await
        .unwrap();
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(app.event_count().await, before);
    let fetched = app
        .client
        .get(app.url(&format!("/forms/templates/{template}")))
        .bearer_auth(&fiona)
        .header(
            "x-careops-min-position",
            // Any position the template's creation is at or before: the current head.
            current_position(&app).await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let etag = fetched.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, "\"1\"");
    let mut renamed = intake();
    renamed["name"] = json!("Intake v2");
    let updated = app
        .client
        .put(app.url(&format!("/forms/templates/{template}")))
        .bearer_auth(&owner)
        .header("if-match", etag)
        .json(&renamed)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["name"], "Intake v2");
    assert_eq!(updated["fields"][2]["kind"], "checkbox");
    assert_eq!(app.event_count().await, before + 1);
}

/// The newest event's position token.
async fn current_position(app: &TestApp) -> String {
    let (tx, position): (i64, i64) = sqlx::query_as(
        "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    event_store::FeedPosition::new(tx, position).token()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn requests_need_the_forms_permission_an_email_and_ids_of_the_callers_workspace(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let (owner, template, contact) = setup(&app, "Urban Glow", "owner@example.com").await;
    let (other, other_template, other_contact) =
        setup(&app, "Other Salon", "other@example.com").await;
    let (_, no_forms) = app
        .staff_member(&owner, "nina@example.com", json!({"inbox": true}))
        .await;
    let phone_only = created_id(
        app.post(
            "/contacts",
            Some(&owner),
            &json!({"name": "Pho", "phone": "+447700900123"}),
        )
        .await,
    )
    .await;
    let request_id = created_id(
        app.post(
            "/forms/requests",
            Some(&owner),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await,
    )
    .await;
    let unknown = "0191d3a4-0000-7000-8000-000000000000";
    let before = app.event_count().await;
    let tokens_before: i64 = sqlx::query_scalar("select count(*) from form_request_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    assert_error(
        app.post(
            "/forms/requests",
            Some(&no_forms),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        app.get(&format!("/forms/requests/{request_id}"), Some(&no_forms))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let cases = [
        (
            json!({"template_id": other_template, "contact_id": contact}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"template_id": template, "contact_id": other_contact}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"template_id": unknown, "contact_id": contact}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"template_id": template, "contact_id": contact, "booking_id": unknown}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"template_id": template, "contact_id": phone_only}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact_unreachable",
        ),
        (
            json!({"template_id": template}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"template_id": "x", "contact_id": contact}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"template_id": template, "contact_id": contact, "token": "mine"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(
            app.post("/forms/requests", Some(&owner), &body).await,
            status,
            code,
        )
        .await;
    }
    // The other workspace sees none of this workspace's forms (asked once the read models
    // hold them, so that the 404 is the isolation's).
    let seen = app.head_position().await;
    for path in [
        format!("/forms/templates/{template}"),
        format!("/forms/requests/{request_id}"),
    ] {
        assert_error(
            app.get_after(&path, Some(&other), &seen).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let put = app
        .client
        .put(app.url(&format!("/forms/templates/{template}")))
        .bearer_auth(&other)
        .json(&intake())
        .send()
        .await
        .unwrap();
    assert_error(put, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.event_count().await, before);
    let tokens_after: i64 = sqlx::query_scalar("select count(*) from form_request_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tokens_after, tokens_before, "no link without its request");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_openapi_document_lists_the_inbox_and_forms_routes_with_their_errors(pool: PgPool) {
    let app = spawn(pool).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let routes = [
        (
            "/api/v1/conversations",
            "post",
            &["201", "400", "401", "403", "404", "422"][..],
        ),
        (
            "/api/v1/conversations/{id}",
            "get",
            &["200", "403", "404"][..],
        ),
        (
            "/api/v1/conversations/{id}/messages",
            "post",
            &["201", "400", "403", "404", "412", "422"][..],
        ),
        (
            "/api/v1/conversations/{id}/assign",
            "post",
            &["200", "403", "404", "422"][..],
        ),
        (
            "/api/v1/conversations/{id}/close",
            "post",
            &["200", "404", "422"][..],
        ),
        (
            "/api/v1/webhooks/inbound/{provider}",
            "post",
            &["200", "400", "401", "404", "422", "503"][..],
        ),
        (
            "/api/v1/public/{slug}/messages",
            "post",
            &["202", "400", "404", "422", "429"][..],
        ),
        (
            "/api/v1/forms/templates",
            "post",
            &["201", "400", "403", "422"][..],
        ),
        (
            "/api/v1/forms/templates/{id}",
            "put",
            &["200", "403", "404", "412", "422"][..],
        ),
        ("/api/v1/forms/templates/{id}", "get", &["200", "404"][..]),
        (
            "/api/v1/forms/requests",
            "post",
            &["201", "400", "403", "404", "422"][..],
        ),
        (
            "/api/v1/forms/requests/{id}",
            "get",
            &["200", "403", "404"][..],
        ),
        (
            "/api/v1/public/forms/{token}",
            "get",
            &["200", "404", "429"][..],
        ),
        (
            "/api/v1/public/forms/{token}",
            "post",
            &["200", "404", "409", "422", "429"][..],
        ),
    ];
    for (path, method, statuses) in routes {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        for status in statuses {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path}: no {status}"
            );
        }
    }
    let webhook = doc["paths"]["/api/v1/webhooks/inbound/{provider}"]["post"].to_string();
    for documented in [
        "X-CareOps-Signature",
        "X-Twilio-Signature",
        "workspace",
        "application/x-www-form-urlencoded",
    ] {
        assert!(webhook.contains(documented), "{documented}");
    }
}
