//! Erasing a contact (`DELETE /contacts/{id}`): the personal data leaves every place it was
//! stored or projected (crypto-shredded in the log), anonymous totals stay, and the email is
//! free for a new contact.

mod support;

use chrono::{Duration, DurationRound, Utc};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use service_runtime::form_tokens::take_link_token;
use service_runtime::secrets::SecretBox;
use sqlx::PgPool;
use support::{assert_error, spawn, user_id_of, Owner, TestApp, TEST_SECRET_KEY};

const NAME: &str = "Zelda Quintavalle";
const SURNAME: &str = "Quintavalle";
const EMAIL: &str = "zelda.quintavalle@example.com";
const PHONE: &str = "+447700900456";
const NOTES: &str = "Prefers the Ostrogoth treatment";
const MESSAGE: &str = "Your Ostrogoth treatment is ready";
const ANSWER: &str = "Allergic to Vandalwort";

/// Every trace of the contact's personal data that must be gone after erasure.
const SECRETS: [&str; 6] = [SURNAME, EMAIL, PHONE, "Ostrogoth", "Vandalwort", "zelda"];

fn position(response: &Response) -> String {
    response.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string()
}

/// A GET answered once the read models show `position`.
async fn read(app: &TestApp, path: &str, token: &str, position: &str) -> Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .header("x-careops-min-position", position)
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn created(response: Response) -> Value {
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );
    response.json().await.unwrap()
}

/// The owner works every day 06:00–22:00 and offers one service; the workspace is active.
async fn salon(app: &TestApp) -> (Owner, String) {
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    app.open_every_day(token, &user_id_of(token)).await;
    let services = created(
        app.post(
            "/onboarding/services",
            Some(token),
            &json!({"services": [{"name": "Haircut", "duration_minutes": 30, "price_cents": 2000}]}),
        )
        .await,
    )
    .await;
    let service = services["services"][0]["id"].as_str().unwrap().to_string();
    let activated = app
        .post("/onboarding/activate", Some(token), &json!({}))
        .await;
    assert_eq!(activated.status(), StatusCode::OK);
    (owner, service)
}

fn start_at(days: i64) -> String {
    let day = (Utc::now() + Duration::days(days))
        .duration_trunc(Duration::days(1))
        .unwrap();
    (day + Duration::hours(10)).to_rfc3339()
}

/// How many rows of every read-model table (every `rm_*` schema) mention `needle`.
async fn read_model_mentions(app: &TestApp, needle: &str) -> Vec<(String, i64)> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema, table_name from information_schema.tables
         where table_schema like 'rm\\_%' and table_type = 'BASE TABLE'
         order by 1, 2",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "the read models exist: {tables:?}");
    let mut found = Vec::new();
    for (schema, table) in tables {
        let count: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {schema}.{table} t where lower(t::text) like '%' || lower($1) || '%'"
        ))
        .bind(needle)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if count > 0 {
            found.push((format!("{schema}.{table}"), count));
        }
    }
    found
}

/// How many stored rows of the log and of the command side's tables mention `needle`.
async fn stored_mentions(app: &TestApp, needle: &str) -> Vec<(&'static str, i64)> {
    let mut found = Vec::new();
    for (what, sql) in [
        ("events.data", "select count(*) from events where lower(data::text) like '%' || lower($1) || '%'"),
        ("events.stream_id", "select count(*) from events where lower(stream_id) like '%' || lower($1) || '%'"),
        ("events.metadata", "select count(*) from events where lower(metadata::text) like '%' || lower($1) || '%'"),
        ("idempotency_records", "select count(*) from idempotency_records where lower(convert_from(body, 'UTF8')) like '%' || lower($1) || '%'"),
    ] {
        let count: i64 = sqlx::query_scalar(sql)
            .bind(needle)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if count > 0 {
            found.push((what, count));
        }
    }
    found
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn erasing_a_contact_removes_its_personal_data_everywhere_and_keeps_anonymous_totals(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let (owner, service) = salon(&app).await;
    let token = owner.access_token.as_str();

    // The contact, created with an Idempotency-Key (its first response is stored for replay).
    let contact = app
        .client
        .post(app.url("/contacts"))
        .bearer_auth(token)
        .header("idempotency-key", "create-zelda")
        .json(&json!({"name": NAME, "email": EMAIL, "phone": PHONE}))
        .send()
        .await
        .unwrap();
    let contact = created(contact).await;
    let contact_id = contact["id"].as_str().unwrap().to_string();

    // A booking with personal notes, a message to the contact, a submitted form.
    let booking = created(
        app.post(
            "/bookings",
            Some(token),
            &json!({"service_id": service, "start": start_at(3), "contact_id": contact_id, "notes": NOTES}),
        )
        .await,
    )
    .await;
    let booking_id = booking["id"].as_str().unwrap().to_string();
    let conversation = created(
        app.post(
            "/conversations",
            Some(token),
            &json!({"contact_id": contact_id, "channel": "email", "body": MESSAGE}),
        )
        .await,
    )
    .await;
    let template = created(
        app.post(
            "/forms/templates",
            Some(token),
            &json!({"name": "Intake", "fields": [
                {"key": "allergies", "label": "Allergies", "kind": "textarea", "required": true}]}),
        )
        .await,
    )
    .await;
    let request = created(
        app.post(
            "/forms/requests",
            Some(token),
            &json!({"template_id": template["id"], "contact_id": contact_id}),
        )
        .await,
    )
    .await;
    let link = take_link_token(
        &app.pool,
        &SecretBox::from_base64(TEST_SECRET_KEY).unwrap(),
        request["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap()
    .expect("a form link");
    let submitted = app
        .post(
            &format!("/public/forms/{link}"),
            None,
            &json!({"answers": {"allergies": ANSWER}}),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let before = position(&submitted);

    // Before erasure: shown in clear by the API, but never stored in clear in the log.
    let shown: Value = read(
        &app,
        &format!("/contacts/{contact_id}/history"),
        token,
        &before,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(shown["bookings"][0]["notes"], NOTES, "{shown}");
    assert_eq!(shown["messages"][0]["body"], MESSAGE, "{shown}");
    assert_eq!(shown["forms"][0]["answers"]["allergies"], ANSWER, "{shown}");
    for secret in SECRETS {
        let stored = stored_mentions(&app, secret).await;
        assert!(
            stored.is_empty() || stored == vec![("idempotency_records", 1)],
            "{secret} stored in clear: {stored:?}"
        );
    }
    assert!(!read_model_mentions(&app, SURNAME).await.is_empty());

    // Only the owner of this workspace may erase.
    let (_, staff) = app
        .staff_member(
            token,
            "sam@example.com",
            json!({"contacts": true, "bookings": true, "inbox": true, "forms": true}),
        )
        .await;
    assert_error(
        delete(&app, &format!("/contacts/{contact_id}"), &staff).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let stranger = app.onboard("Other Salon", "other@example.com").await;
    assert_error(
        delete(
            &app,
            &format!("/contacts/{contact_id}"),
            &stranger.access_token,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let events_before = app.event_count().await;

    let erased = delete(&app, &format!("/contacts/{contact_id}"), token).await;
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    let after = position(&erased);
    let appended: Vec<String> = sqlx::query_scalar(
        "select event_type from events order by position desc limit ($1::bigint - $2::bigint)",
    )
    .bind(app.event_count().await)
    .bind(events_before)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(appended.len(), 2, "{appended:?}");
    assert!(appended.contains(&"ContactErased".to_string()));
    assert!(appended.contains(&"EmailReleased".to_string()));

    // The API shows the contact as an anonymous, erased record.
    let contact: Value = read(&app, &format!("/contacts/{contact_id}"), token, &after)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        contact,
        json!({"id": contact_id, "name": null, "email": null, "phone": null, "erased": true,
               "created_at": contact["created_at"]})
    );
    let history: Value = read(
        &app,
        &format!("/contacts/{contact_id}/history"),
        token,
        &after,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        history["bookings"].as_array().unwrap().len(),
        1,
        "totals stay"
    );
    assert_eq!(history["bookings"][0]["id"], booking_id.as_str());
    assert!(history["bookings"][0]["notes"].is_null());
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    assert!(history["messages"][0]["body"].is_null());
    assert_eq!(history["forms"][0]["status"], "submitted");
    assert!(history["forms"][0]["answers"].is_null());
    let inbox: Value = read(
        &app,
        &format!("/conversations/{}", conversation["id"].as_str().unwrap()),
        token,
        &after,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(inbox["message_count"], 1, "{inbox}");

    // The audit trail shows the personal fields as erased.
    let audit: Value = app
        .get("/audit?limit=200", Some(token))
        .await
        .json()
        .await
        .unwrap();
    let items = audit["items"].as_array().unwrap();
    let created_entry = items
        .iter()
        .find(|i| i["event_type"] == "ContactCreated")
        .expect("ContactCreated in the audit trail");
    assert_eq!(created_entry["data"]["name"], json!({"erased": true}));
    assert_eq!(created_entry["data"]["email"], json!({"erased": true}));
    assert_eq!(created_entry["data"]["phone"], json!({"erased": true}));
    let booking_entry = items
        .iter()
        .find(|i| i["event_type"] == "BookingCreated")
        .unwrap();
    assert_eq!(booking_entry["data"]["notes"], json!({"erased": true}));
    assert_eq!(booking_entry["data"]["contact_id"], contact_id.as_str());

    // No trace anywhere: the log, stored responses, every read-model table, the audit trail.
    for secret in SECRETS {
        assert_eq!(stored_mentions(&app, secret).await, vec![], "{secret}");
        assert_eq!(read_model_mentions(&app, secret).await, vec![], "{secret}");
        assert!(
            !audit
                .to_string()
                .to_lowercase()
                .contains(&secret.to_lowercase()),
            "{secret} in the audit trail"
        );
    }
    let keys: Option<Vec<u8>> =
        sqlx::query_scalar("select key from personal_data_keys where subject_id = $1::uuid")
            .bind(&contact_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(keys, None, "the contact's key is destroyed");

    // Erasing again is a conflict; changing or messaging the erased contact is refused.
    let events_now = app.event_count().await;
    assert_error(
        delete(&app, &format!("/contacts/{contact_id}"), token).await,
        StatusCode::CONFLICT,
        "already_erased",
    )
    .await;
    let update = app
        .client
        .put(app.url(&format!("/contacts/{contact_id}")))
        .bearer_auth(token)
        .json(&json!({"name": NAME, "email": EMAIL}))
        .send()
        .await
        .unwrap();
    assert_error(update, StatusCode::UNPROCESSABLE_ENTITY, "contact_erased").await;
    assert_error(
        app.post(
            "/conversations",
            Some(token),
            &json!({"contact_id": contact_id, "channel": "email", "body": MESSAGE}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_erased",
    )
    .await;
    let rebook = app
        .post(
            "/bookings",
            Some(token),
            &json!({"service_id": service, "start": start_at(4), "contact_id": contact_id, "notes": NOTES}),
        )
        .await;
    assert_error(rebook, StatusCode::UNPROCESSABLE_ENTITY, "contact_erased").await;
    assert_eq!(app.event_count().await, events_now, "nothing appended");

    // The email is free again: a new contact may use it.
    let again = created(
        app.post(
            "/contacts",
            Some(token),
            &json!({"name": "Zelda Again", "email": EMAIL}),
        )
        .await,
    )
    .await;
    assert_ne!(again["id"], contact_id.as_str());
    assert_eq!(again["email"], EMAIL);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn erasing_an_unknown_contact_is_not_found_and_appends_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let events = app.event_count().await;
    assert_error(
        delete(
            &app,
            &format!("/contacts/{}", uuid::Uuid::now_v7()),
            &owner.access_token,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        delete(&app, "/contacts/not-a-uuid", &owner.access_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_path",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let keys: i64 = sqlx::query_scalar("select count(*) from personal_data_keys where key is null")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, 0, "no tombstone for a contact that does not exist");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_erasure_endpoint_is_in_the_openapi_document(pool: PgPool) {
    let app = spawn(pool).await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let delete = &doc["paths"]["/api/v1/contacts/{id}"]["delete"];
    for status in ["204", "403", "404", "409"] {
        assert!(
            delete["responses"][status].is_object(),
            "{status}: {delete}"
        );
    }
}
