//! The inbox, command side: conversations started and answered by staff, inbound email
//! and SMS through signed webhooks, and the public contact form.

mod support;

use command_api::routes::webhooks::signature::{generic_signature, twilio_signature};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    assert_error, spawn, spawn_with, user_id_of, Owner, TestApp, TEST_TWILIO_AUTH_TOKEN,
    TEST_WEBHOOK_SECRET,
};

/// Posts a `generic` webhook, signed with the test secret.
async fn generic(app: &TestApp, slug: &str, body: &Value) -> Response {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = generic_signature(TEST_WEBHOOK_SECRET.as_bytes(), &raw).unwrap();
    app.client
        .post(app.url(&format!("/webhooks/inbound/generic?workspace={slug}")))
        .header("content-type", "application/json")
        .header("x-careops-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap()
}

/// Posts a Twilio SMS webhook as Twilio would, signed with the test auth token.
async fn twilio(app: &TestApp, slug: &str, from: &str, body: &str) -> Response {
    let url = app.url(&format!("/webhooks/inbound/twilio?workspace={slug}"));
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", from),
        ("To", "+447700900999"),
        ("Body", body),
        ("NumMedia", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = twilio_signature(TEST_TWILIO_AUTH_TOKEN.as_bytes(), &url, &params).unwrap();
    app.client
        .post(url)
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap()
}

/// A GET that waits for the read models to show `position` (read-your-writes).
async fn read(app: &TestApp, path: &str, token: &str, position: &str) -> Value {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("x-careops-min-position", position)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn position(response: &Response) -> String {
    response.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string()
}

async fn count(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("select count(*) from events where event_type = $1")
        .bind(event_type)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn new_contact(app: &TestApp, token: &str, contact: Value) -> String {
    let created = app.post("/contacts", Some(token), &contact).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Gives the owner hours and a service, and activates the workspace.
async fn activate(app: &TestApp, owner: &Owner) {
    let token = owner.access_token.as_str();
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    let hours = app
        .client
        .put(app.url(&format!(
            "/staff/{}/availability",
            user_id_of(&owner.access_token)
        )))
        .bearer_auth(token)
        .json(&json!({"weekly": weekly}))
        .send()
        .await
        .unwrap();
    assert_eq!(hours.status(), StatusCode::OK);
    let services = app
        .post(
            "/onboarding/services",
            Some(token),
            &json!({"services": [{"name": "Haircut", "duration_minutes": 30, "price_cents": 2000}]}),
        )
        .await;
    assert_eq!(services.status(), StatusCode::CREATED);
    let activated = app
        .post("/onboarding/activate", Some(token), &json!({}))
        .await;
    assert_eq!(activated.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_inbound_email_opens_an_unanswered_conversation_that_a_reply_answers_and_closing_is_undone_by_the_next_email(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();

    let first = generic(
        &app,
        &owner.slug,
        &json!({"channel": "email", "from": "Pia@Example.com", "name": "Pia Public",
                "subject": "Moving my visit", "body": "Can we do Friday instead?"}),
    )
    .await;
    assert_eq!(first.status(), StatusCode::OK);
    let at = position(&first);
    let first: Value = first.json().await.unwrap();
    let conversation_id = first["conversation_id"].as_str().unwrap().to_string();
    let contact_id = first["contact_id"].as_str().unwrap().to_string();

    let contact = read(&app, &format!("/contacts/{contact_id}"), token, &at).await;
    assert_eq!(contact["name"], "Pia Public");
    assert_eq!(contact["email"], "pia@example.com");
    let unanswered = read(&app, "/conversations?unanswered=true", token, &at).await;
    assert_eq!(unanswered["items"].as_array().unwrap().len(), 1);
    assert_eq!(unanswered["items"][0]["id"], conversation_id.as_str());
    assert_eq!(unanswered["items"][0]["channel"], "email");

    // The same sender again: the same contact, the same conversation.
    let second: Value = generic(
        &app,
        &owner.slug,
        &json!({"channel": "email", "from": "pia@example.com", "body": "Or Saturday?"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second["conversation_id"], conversation_id.as_str());
    assert_eq!(second["contact_id"], contact_id.as_str());
    assert_eq!(count(&app, "ContactCreated").await, 1);
    assert_eq!(count(&app, "ConversationStarted").await, 1);

    let replied = app
        .post(
            &format!("/conversations/{conversation_id}/messages"),
            Some(token),
            &json!({"body": "  Friday at 10 works.  "}),
        )
        .await;
    assert_eq!(replied.status(), StatusCode::CREATED);
    let at = position(&replied);
    let message: Value = replied.json().await.unwrap();
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["channel"], "email");
    assert_eq!(message["body"], "Friday at 10 works.");
    assert_eq!(message["sent_by"], user_id_of(token).as_str());
    assert_eq!(count(&app, "MessageSent").await, 1);

    let single = app
        .get_after(
            &format!("/conversations/{conversation_id}"),
            Some(token),
            &at,
        )
        .await;
    assert_eq!(single.status(), StatusCode::OK);
    assert!(single.headers().contains_key("etag"));
    let unanswered = read(&app, "/conversations?unanswered=true", token, &at).await;
    assert!(unanswered["items"].as_array().unwrap().is_empty());

    let closed = app
        .post(
            &format!("/conversations/{conversation_id}/close"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(closed.json::<Value>().await.unwrap()["closed"], true);
    assert_error(
        app.post(
            &format!("/conversations/{conversation_id}/messages"),
            Some(token),
            &json!({"body": "anything else?"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "conversation_closed",
    )
    .await;

    let again = generic(
        &app,
        &owner.slug,
        &json!({"channel": "email", "from": "pia@example.com", "body": "One more thing"}),
    )
    .await;
    let at = position(&again);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["conversation_id"], conversation_id.as_str());
    assert_eq!(count(&app, "ConversationReopened").await, 1);
    let view = read(
        &app,
        &format!("/conversations/{conversation_id}"),
        token,
        &at,
    )
    .await;
    assert_eq!(view["closed"], false);
    assert_eq!(view["unanswered"], true);
    let messages = read(
        &app,
        &format!("/conversations/{conversation_id}/messages"),
        token,
        &at,
    )
    .await;
    let bodies: Vec<&str> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "Moving my visit\n\nCan we do Friday instead?",
            "Or Saturday?",
            "Friday at 10 works.",
            "One more thing"
        ]
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn staff_start_conversations_only_over_a_channel_the_contact_can_be_reached_on(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let (_, sam) = app
        .staff_member(
            &owner.access_token,
            "sam@example.com",
            json!({"inbox": true}),
        )
        .await;
    let email_only = new_contact(
        &app,
        &owner.access_token,
        json!({"name": "Ema", "email": "ema@example.com"}),
    )
    .await;
    let phone_only = new_contact(
        &app,
        &owner.access_token,
        json!({"name": "Pho", "phone": "+447700900123"}),
    )
    .await;
    let before = app.event_count().await;
    assert_error(
        app.post(
            "/conversations",
            Some(&sam),
            &json!({"contact_id": email_only, "channel": "sms", "body": "Hi"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_unreachable",
    )
    .await;
    assert_error(
        app.post(
            "/conversations",
            Some(&sam),
            &json!({"contact_id": phone_only, "channel": "email", "body": "Hi"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_unreachable",
    )
    .await;
    assert_eq!(app.event_count().await, before);

    let started = app
        .post(
            "/conversations",
            Some(&sam),
            &json!({"contact_id": email_only, "channel": "email", "body": "Your colour is in."}),
        )
        .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let started: Value = started.json().await.unwrap();
    assert_eq!(started["channel"], "email");
    assert_eq!(started["contact_id"], email_only.as_str());
    assert_eq!(started["unanswered"], false);
    assert_eq!(started["message"]["direction"], "outbound");
    assert_eq!(started["message"]["body"], "Your colour is in.");
    // Writing again continues the open conversation.
    let continued: Value = app
        .post(
            "/conversations",
            Some(&owner.access_token),
            &json!({"contact_id": email_only, "channel": "email", "body": "See you soon."}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(continued["id"], started["id"]);
    assert_eq!(continued["message_count"], 2);
    let sms = app
        .post(
            "/conversations",
            Some(&sam),
            &json!({"contact_id": phone_only, "channel": "sms", "body": "Running 5 min late"}),
        )
        .await;
    assert_eq!(sms.status(), StatusCode::CREATED);
    assert_ne!(sms.json::<Value>().await.unwrap()["id"], started["id"]);
    assert_eq!(count(&app, "ConversationStarted").await, 2);
    assert_eq!(count(&app, "MessageSent").await, 3);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn staff_need_the_inbox_permission_and_touch_only_conversations_assigned_to_them_or_nobody(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let (no_inbox_id, no_inbox) = app
        .staff_member(token, "nina@example.com", json!({"bookings": true}))
        .await;
    let (bea_id, bea) = app
        .staff_member(token, "bea@example.com", json!({"inbox": true}))
        .await;
    let (cal_id, cal) = app
        .staff_member(token, "cal@example.com", json!({"inbox": true}))
        .await;
    let contact = new_contact(
        &app,
        token,
        json!({"name": "Ema", "email": "ema@example.com"}),
    )
    .await;
    let received: Value = generic(
        &app,
        &owner.slug,
        &json!({"channel": "email", "from": "ema@example.com", "body": "Hello?"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(received["contact_id"], contact.as_str());
    let id = received["conversation_id"].as_str().unwrap().to_string();
    let before = app.event_count().await;

    let forbidden = [
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "email", "body": "Hi"}),
        ),
        (
            format!("/conversations/{id}/messages"),
            json!({"body": "Hi"}),
        ),
        (
            format!("/conversations/{id}/assign"),
            json!({"assignee_id": no_inbox_id}),
        ),
        (format!("/conversations/{id}/close"), json!({})),
    ];
    for (path, body) in &forbidden {
        assert_error(
            app.post(path, Some(&no_inbox), body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_error(
        app.get(&format!("/conversations/{id}"), Some(&no_inbox))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Only users who may use the inbox can be given a conversation.
    assert_error(
        app.post(
            &format!("/conversations/{id}/assign"),
            Some(token),
            &json!({"assignee_id": no_inbox_id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(app.event_count().await, before);

    let assigned = app
        .post(
            &format!("/conversations/{id}/assign"),
            Some(token),
            &json!({"assignee_id": bea_id}),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::OK);
    // Reads follow the read models: ask for the assignment to be applied first.
    let assigned_at = assigned.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        assigned.json::<Value>().await.unwrap()["assignee"],
        bea_id.as_str()
    );
    let before = app.event_count().await;
    // Cal does not see Bea's conversation: not found, for every command.
    let hidden = [
        (
            format!("/conversations/{id}/messages"),
            json!({"body": "Hi"}),
        ),
        (
            format!("/conversations/{id}/assign"),
            json!({"assignee_id": cal_id}),
        ),
        (format!("/conversations/{id}/close"), json!({})),
    ];
    for (path, body) in &hidden {
        assert_error(
            app.post(path, Some(&cal), body).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_error(
        app.client
            .get(app.url(&format!("/conversations/{id}")))
            .bearer_auth(&cal)
            .header("X-CareOps-Min-Position", &assigned_at)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Bea may not hand it to Cal: staff assign to themselves only.
    assert_error(
        app.post(
            &format!("/conversations/{id}/assign"),
            Some(&bea),
            &json!({"assignee_id": cal_id}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(app.event_count().await, before);

    let replied = app
        .post(
            &format!("/conversations/{id}/messages"),
            Some(&bea),
            &json!({"body": "Hi Ema, Bea here."}),
        )
        .await;
    assert_eq!(replied.status(), StatusCode::CREATED);
    assert_eq!(
        replied.json::<Value>().await.unwrap()["sent_by"],
        bea_id.as_str()
    );
    let released = app
        .post(
            &format!("/conversations/{id}/assign"),
            Some(&bea),
            &json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(released.status(), StatusCode::OK);
    assert!(released.json::<Value>().await.unwrap()["assignee"].is_null());
    let taken = app
        .post(
            &format!("/conversations/{id}/assign"),
            Some(&cal),
            &json!({"assignee_id": cal_id}),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(count(&app, "ConversationAssigned").await, 3);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn another_workspaces_conversations_and_contacts_are_not_found_and_nothing_changes(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let glow = app.onboard("Urban Glow", "owner@example.com").await;
    let other = app.onboard("Other Salon", "other@example.com").await;
    let contact = new_contact(
        &app,
        &glow.access_token,
        json!({"name": "Ema", "email": "ema@example.com", "phone": "+447700900123"}),
    )
    .await;
    let started: Value = app
        .post(
            "/conversations",
            Some(&glow.access_token),
            &json!({"contact_id": contact, "channel": "sms", "body": "Hi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let token = Some(other.access_token.as_str());
    let cases = [
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "sms", "body": "Hi"}),
        ),
        (
            format!("/conversations/{id}/messages"),
            json!({"body": "Hi"}),
        ),
        (
            format!("/conversations/{id}/assign"),
            json!({"assignee_id": null}),
        ),
        (format!("/conversations/{id}/close"), json!({})),
    ];
    for (path, body) in &cases {
        assert_error(
            app.post(path, token, body).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Once the read models hold the conversation, so that the 404 is the isolation's.
    let seen = app.head_position().await;
    assert_error(
        app.get_after(&format!("/conversations/{id}"), token, &seen)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Assigning to another workspace's user is "not found" too.
    assert_error(
        app.post(
            &format!("/conversations/{id}/assign"),
            Some(&glow.access_token),
            &json!({"assignee_id": user_id_of(&other.access_token)}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_inbox_inputs_get_the_right_4xx_and_append_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let contact = new_contact(
        &app,
        token,
        json!({"name": "Ema", "email": "ema@example.com"}),
    )
    .await;
    let started: Value = app
        .post(
            "/conversations",
            Some(token),
            &json!({"contact_id": contact, "channel": "email", "body": "Hi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap().to_string();
    let unknown = "0191d3a4-0000-7000-8000-000000000000";
    let before = app.event_count().await;
    let cases = [
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "email", "body": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "email", "body": "x".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "fax", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "email"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": "nope", "channel": "email", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": contact, "channel": "email", "body": "Hi", "cc": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "/conversations".to_string(),
            json!({"contact_id": unknown, "channel": "email", "body": "Hi"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("/conversations/{id}/messages"),
            json!({"body": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("/conversations/{id}/messages"),
            json!({"body": "x".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("/conversations/{id}/messages"),
            json!({"body": 5}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            format!("/conversations/{unknown}/messages"),
            json!({"body": "Hi"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/conversations/not-a-uuid/messages".to_string(),
            json!({"body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            format!("/conversations/{id}/assign"),
            json!({"assignee_id": unknown}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("/conversations/{id}/assign"),
            json!({"assignee": null}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (path, body, status, code) in cases {
        let response = app.post(&path, Some(token), &body).await;
        assert_eq!(response.status(), status, "{path} {body}");
        assert_error(response, status, code).await;
    }
    let malformed = app
        .client
        .post(app.url(&format!("/conversations/{id}/messages")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;
    let stale = app
        .client
        .post(app.url(&format!("/conversations/{id}/messages")))
        .bearer_auth(token)
        .header("if-match", "\"1\"")
        .json(&json!({"body": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_error(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_error(
        app.post("/conversations", None, &json!({})).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(app.event_count().await, before);
    // Exactly 5 000 characters is fine.
    let longest = app
        .post(
            &format!("/conversations/{id}/messages"),
            Some(token),
            &json!({"body": "x".repeat(5000)}),
        )
        .await;
    assert_eq!(longest.status(), StatusCode::CREATED);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn webhooks_without_a_valid_signature_are_refused_and_record_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let path = format!("/webhooks/inbound/generic?workspace={}", owner.slug);
    let body = json!({"channel": "email", "from": "pia@example.com", "body": "Hello"});
    let raw = serde_json::to_vec(&body).unwrap();
    let before = app.event_count().await;

    let unsigned = app.post(&path, None, &body).await;
    assert_error(unsigned, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let signatures = [
        generic_signature(b"someone else's secret", &raw).unwrap(),
        generic_signature(TEST_WEBHOOK_SECRET.as_bytes(), b"{}").unwrap(),
        generic_signature(TEST_WEBHOOK_SECRET.as_bytes(), &raw).unwrap()[7..].to_string(),
        "sha256=nothex".to_string(),
    ];
    for signature in signatures {
        let response = app
            .client
            .post(app.url(&path))
            .header("content-type", "application/json")
            .header("x-careops-signature", signature)
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    }
    // A Twilio request signed for another URL (another workspace) or with another token.
    let url = app.url(&format!(
        "/webhooks/inbound/twilio?workspace={}",
        owner.slug
    ));
    let params = vec![
        ("From".to_string(), "+447700900123".to_string()),
        ("Body".to_string(), "Hi".to_string()),
    ];
    let forged = [
        twilio_signature(
            TEST_TWILIO_AUTH_TOKEN.as_bytes(),
            &format!("{url}x"),
            &params,
        )
        .unwrap(),
        twilio_signature(b"another token", &url, &params).unwrap(),
    ];
    for signature in forged {
        let response = app
            .client
            .post(&url)
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    }
    let unsigned = app.client.post(&url).form(&params).send().await.unwrap();
    assert_error(unsigned, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(app.event_count().await, before);

    // Signed, but unknown provider, workspace or sender.
    assert_error(
        app.post(
            &format!("/webhooks/inbound/mailgun?workspace={}", owner.slug),
            None,
            &body,
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_provider",
    )
    .await;
    assert_error(
        generic(&app, "no-such-salon", &body).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let raw_missing_workspace = app
        .client
        .post(app.url("/webhooks/inbound/generic"))
        .header("content-type", "application/json")
        .header(
            "x-careops-signature",
            generic_signature(TEST_WEBHOOK_SECRET.as_bytes(), &raw).unwrap(),
        )
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_error(
        raw_missing_workspace,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    let bad_inputs = [
        (
            json!({"channel": "email", "from": "not-an-email", "body": "Hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"channel": "sms", "from": "07700 900123", "body": "Hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"channel": "email", "from": "pia@example.com", "body": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"channel": "pigeon", "from": "pia@example.com", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"channel": "email", "from": "pia@example.com", "body": "Hi", "to": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (input, status, code) in bad_inputs {
        assert_error(generic(&app, &owner.slug, &input).await, status, code).await;
    }
    assert_error(
        twilio(&app, &owner.slug, "not a number", "Hi").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_provider_without_a_configured_secret_answers_503_and_records_nothing(pool: PgPool) {
    let app = spawn_with(pool, |config| {
        config.webhooks.inbound_webhook_secret = None;
        config.webhooks.inbound_twilio_auth_token = Some(String::new());
    })
    .await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let before = app.event_count().await;
    assert_error(
        generic(
            &app,
            &owner.slug,
            &json!({"channel": "email", "from": "pia@example.com", "body": "Hello"}),
        )
        .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "webhook_not_configured",
    )
    .await;
    assert_error(
        twilio(&app, &owner.slug, "+447700900123", "Hello").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "webhook_not_configured",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_sms_by_twilio_lands_on_the_senders_conversation_and_stop_is_recorded(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let known = new_contact(
        &app,
        token,
        json!({"name": "Kim Known", "phone": "+44 7700 900123"}),
    )
    .await;

    let first = twilio(&app, &owner.slug, "+447700900123", "Running late, sorry").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    assert!(first.text().await.unwrap().contains("<Response/>"));
    let stop = twilio(&app, &owner.slug, "+447700900123", "  Stop ").await;
    assert_eq!(stop.status(), StatusCode::OK);
    let at = position(&stop);
    assert_eq!(count(&app, "ContactCreated").await, 1, "the known contact");
    assert_eq!(count(&app, "ConversationStarted").await, 1);
    assert_eq!(count(&app, "MessageReceived").await, 2);

    let conversations = read(
        &app,
        &format!("/conversations?contact_id={known}"),
        token,
        &at,
    )
    .await;
    let items = conversations["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["channel"], "sms");
    assert_eq!(items[0]["unanswered"], true);
    let id = items[0]["id"].as_str().unwrap();
    let messages = read(&app, &format!("/conversations/{id}/messages"), token, &at).await;
    let messages = messages["items"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["direction"], "inbound");
    assert_eq!(messages[1]["body"], "Stop");

    // A number nobody has: a new contact, named by the number.
    let stranger = twilio(&app, &owner.slug, "+15005550006", "UNSUBSCRIBE").await;
    assert_eq!(stranger.status(), StatusCode::OK);
    let at = position(&stranger);
    let contacts = read(&app, "/contacts?q=15005550006", token, &at).await;
    assert_eq!(contacts["items"][0]["phone"], "+15005550006");
    assert_eq!(contacts["items"][0]["name"], "+15005550006");
    assert_eq!(count(&app, "ConversationStarted").await, 2);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_contact_form_starts_an_unanswered_conversation_for_a_new_or_known_contact(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let path = format!("/public/{}/messages", owner.slug);
    let message =
        json!({"name": "Nia New", "email": "nia@example.com", "body": "Do you do balayage?"});
    // Not active yet: no public endpoints.
    assert_error(
        app.post(&path, None, &message).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    activate(&app, &owner).await;

    let sent = app.post(&path, None, &message).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let body: Value = sent.json().await.unwrap();
    let conversation_id = body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let again: Value = app
        .post(
            &path,
            None,
            &json!({"name": "Someone Else", "email": "NIA@example.com", "phone": "+447700900555", "body": "And highlights?"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["conversation_id"], conversation_id.as_str());
    assert_eq!(count(&app, "ContactCreated").await, 1);
    assert_eq!(
        count(&app, "ContactUpdated").await,
        0,
        "a stranger changes no contact"
    );

    let known = new_contact(
        &app,
        token,
        json!({"name": "Kay Known", "email": "kay@example.com"}),
    )
    .await;
    let sent = app
        .post(
            &path,
            None,
            &json!({"name": "K", "email": "kay@example.com", "body": "Hello!"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let at = position(&sent);
    let unanswered = read(&app, "/conversations?unanswered=true", token, &at).await;
    let items = unanswered["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .any(|c| c["contact_id"] == known.as_str() && c["channel"] == "email"));
    let kay = read(&app, &format!("/contacts/{known}"), token, &at).await;
    assert_eq!(kay["name"], "Kay Known");

    let before = app.event_count().await;
    let cases = [
        (
            json!({"name": "A", "email": "no-at-sign", "body": "Hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "email": "a@example.com", "body": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "email": "a@example.com", "body": "x".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "x".repeat(10_000), "email": "a@example.com", "body": "Hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "email": "a@example.com", "phone": "12", "body": "Hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"name": "A", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"name": "A", "email": "a@example.com", "body": "Hi", "subject": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (input, status, code) in cases {
        assert_error(app.post(&path, None, &input).await, status, code).await;
    }
    assert_error(
        app.post("/public/no-such-salon/messages", None, &message)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_contact_form_is_rate_limited_per_client_with_retry_after(pool: PgPool) {
    let app = spawn_with(pool, |config| {
        config.rate_limits.public_per_ip_per_minute = 2;
    })
    .await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let path = format!("/public/{}/messages", owner.slug);
    let message = json!({"name": "Nia", "email": "nia@example.com", "body": "Hi"});
    // The workspace is inactive: the first two are counted (404), the third is refused.
    for _ in 0..2 {
        assert_eq!(
            app.post(&path, None, &message).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let limited = app.post(&path, None, &message).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_erased_contacts_conversation_takes_no_reply_and_their_next_email_starts_afresh(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let email = json!({"channel": "email", "from": "gone@example.com", "body": "Please forget me"});
    let first: Value = generic(&app, &owner.slug, &email)
        .await
        .json()
        .await
        .unwrap();
    let contact = first["contact_id"].as_str().unwrap();
    let conversation = first["conversation_id"].as_str().unwrap();
    let erased = app
        .client
        .delete(app.url(&format!("/contacts/{contact}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    let before = app.event_count().await;
    assert_error(
        app.post(
            &format!("/conversations/{conversation}/messages"),
            Some(token),
            &json!({"body": "Done."}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_erased",
    )
    .await;
    assert_error(
        app.post(
            "/conversations",
            Some(token),
            &json!({"contact_id": contact, "channel": "email", "body": "Hello?"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_erased",
    )
    .await;
    assert_eq!(app.event_count().await, before);

    let again: Value = generic(&app, &owner.slug, &email)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again["contact_id"], first["contact_id"]);
    assert_ne!(again["conversation_id"], first["conversation_id"]);
}
