//! Tenant isolation and permissions, table-driven over every route that takes an id.
//!
//! The table is checked against the OpenAPI document, so a new route with an id cannot be
//! added without a row here. Another workspace's owner gets 404 (never 403: other tenants'
//! ids must not be revealed) and nothing is appended; a staff member of the same workspace
//! without any permission gets 403 on every route that needs a permission or the owner.

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, TestApp};

/// The ids of one fully set-up workspace.
struct Ids {
    owner: String,
    staff_token: String,
    staff_id: String,
    service: String,
    item: String,
    contact: String,
    booking: String,
    booking_start: String,
    conversation: String,
    template: String,
    request: String,
    alert: String,
}

/// Sends a request; a GET only once the read models have applied `after` (so that a 404
/// comes from the isolation rules, not from a read model that has not seen the resource).
async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: &str,
    body: &Value,
    after: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(token);
    if *method != Method::GET && *method != Method::DELETE {
        request = request.json(body);
    }
    if let (&Method::GET, Some(position)) = (method, after) {
        request = request.header("x-careops-min-position", position);
    }
    request.send().await.expect("request sent")
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn set_up(app: &TestApp, name: &str, email: &str) -> Ids {
    let owner = app.onboard(name, email).await;
    let token = owner.access_token.clone();
    let items = created(
        app.post(
            "/onboarding/inventory",
            Some(&token),
            &json!({"items": [{"name": "Red Dye", "quantity": 2, "threshold": 1}]}),
        )
        .await,
    )
    .await;
    let item = items["items"][0]["id"].as_str().unwrap().to_string();
    let services = created(
        app.post(
            "/onboarding/services",
            Some(&token),
            &json!({"services": [{"name": "Hair Coloring", "duration_minutes": 60, "price_cents": 8500,
                                  "inventory": [{"item_id": item, "quantity": 1}]}]}),
        )
        .await,
    )
    .await;
    let service = services["services"][0]["id"].as_str().unwrap().to_string();
    let owner_id = support::user_id_of(&token);
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "08:00", "end": "20:00"}))
        .collect();
    created(
        send(
            app,
            &Method::PUT,
            &format!("/staff/{owner_id}/availability"),
            &token,
            &json!({"weekly": weekly, "exceptions": []}),
            None,
        )
        .await,
    )
    .await;
    let staff_email = format!("staff.{email}");
    let staff = created(
        app.post(
            "/staff",
            Some(&token),
            &json!({"name": "Nora Noperm", "email": staff_email,
                    "permissions": {"bookings": false, "inbox": false, "contacts": false, "inventory": false, "forms": false}}),
        )
        .await,
    )
    .await;
    let staff_id = staff["id"].as_str().unwrap().to_string();
    let password: String = {
        let secrets =
            service_runtime::secrets::SecretBox::from_base64(support::TEST_SECRET_KEY).unwrap();
        service_runtime::secrets::take_invitation_password(
            &app.pool,
            &secrets,
            staff_id.parse().unwrap(),
        )
        .await
        .unwrap()
        .expect("the invitation password is handed over")
    };
    let login = created(
        app.post(
            "/auth/login",
            None,
            &json!({"email": staff_email, "password": password}),
        )
        .await,
    )
    .await;
    let staff_token = login["access_token"].as_str().unwrap().to_string();
    let contact = created(
        app.post(
            "/contacts",
            Some(&token),
            &json!({"name": "Sarah Customer", "email": format!("sarah.{email}"), "phone": "+447700900123"}),
        )
        .await,
    )
    .await;
    let contact = contact["id"].as_str().unwrap().to_string();
    let start = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    let booking = created(
        app.post(
            "/bookings",
            Some(&token),
            &json!({"service_id": service, "staff_id": owner_id, "start": start, "contact_id": contact}),
        )
        .await,
    )
    .await;
    let booking = booking["id"].as_str().unwrap().to_string();
    let conversation = created(
        app.post(
            "/conversations",
            Some(&token),
            &json!({"contact_id": contact, "channel": "email", "body": "Hello from the salon"}),
        )
        .await,
    )
    .await;
    let conversation = conversation["id"].as_str().unwrap().to_string();
    let template = created(
        app.post(
            "/forms/templates",
            Some(&token),
            &json!({"name": "Consultation", "fields": [{"key": "allergies", "label": "Allergies", "kind": "text", "required": true}]}),
        )
        .await,
    )
    .await;
    let template = template["id"].as_str().unwrap().to_string();
    let request = created(
        app.post(
            "/forms/requests",
            Some(&token),
            &json!({"template_id": template, "contact_id": contact}),
        )
        .await,
    )
    .await;
    let request = request["id"].as_str().unwrap().to_string();
    // The alerts read model follows the commands: wait for the low-stock alert.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let alert = loop {
        let alerts = created(app.get("/dashboard/alerts", Some(&token)).await).await;
        let found = alerts["items"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["kind"] == "low_stock"))
            .and_then(|a| a["id"].as_str())
            .map(str::to_string);
        match found {
            Some(alert) => break alert,
            None if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            None => panic!("the booking took the dye to its threshold: a low-stock alert is open"),
        }
    };
    Ids {
        owner: token,
        staff_token,
        staff_id,
        service,
        item,
        contact,
        booking,
        booking_start: start.format("%Y-%m-%dT%H:%M").to_string(),
        conversation,
        template,
        request,
        alert,
    }
}

/// Every route with an id: method, path (with the victim's ids), a valid body, and who may
/// use it (`None`: any member; `Some("owner")`, the permission needed, `"self"` for the staff
/// member named by the path, `"assigned"` for the owner and the booking's staff member).
fn routes(v: &Ids) -> Vec<(Method, String, Value, Option<&'static str>)> {
    let start = (chrono::Utc::now() + chrono::Duration::days(3))
        .date_naive()
        .and_hms_opt(11, 0, 0)
        .unwrap()
        .and_utc();
    let fields =
        json!([{"key": "allergies", "label": "Any allergies?", "kind": "text", "required": true}]);
    vec![
        (
            Method::GET,
            format!("/bookings/{}", v.booking),
            json!(null),
            Some("bookings"),
        ),
        (
            Method::GET,
            format!("/bookings/{}/history", v.booking),
            json!(null),
            Some("assigned"),
        ),
        (
            Method::POST,
            format!("/bookings/{}/confirm", v.booking),
            json!({}),
            Some("bookings"),
        ),
        (
            Method::POST,
            format!("/bookings/{}/reschedule", v.booking),
            json!({"start": start}),
            Some("bookings"),
        ),
        (
            Method::POST,
            format!("/bookings/{}/complete", v.booking),
            json!({}),
            Some("bookings"),
        ),
        (
            Method::POST,
            format!("/bookings/{}/no-show", v.booking),
            json!({}),
            Some("bookings"),
        ),
        (
            Method::POST,
            format!("/bookings/{}/cancel", v.booking),
            json!({"reason": "x"}),
            Some("bookings"),
        ),
        (
            Method::GET,
            format!("/contacts/{}", v.contact),
            json!(null),
            Some("contacts"),
        ),
        (
            Method::PUT,
            format!("/contacts/{}", v.contact),
            json!({"name": "Mallory"}),
            Some("contacts"),
        ),
        (
            Method::GET,
            format!("/contacts/{}/history", v.contact),
            json!(null),
            Some("contacts"),
        ),
        (
            Method::DELETE,
            format!("/contacts/{}", v.contact),
            json!(null),
            Some("owner"),
        ),
        (
            Method::GET,
            format!("/conversations/{}", v.conversation),
            json!(null),
            Some("inbox"),
        ),
        (
            Method::GET,
            format!("/conversations/{}/messages", v.conversation),
            json!(null),
            Some("inbox"),
        ),
        (
            Method::POST,
            format!("/conversations/{}/messages", v.conversation),
            json!({"body": "hi"}),
            Some("inbox"),
        ),
        (
            Method::POST,
            format!("/conversations/{}/assign", v.conversation),
            json!({"assignee_id": null}),
            Some("inbox"),
        ),
        (
            Method::POST,
            format!("/conversations/{}/close", v.conversation),
            json!({}),
            Some("inbox"),
        ),
        (
            Method::POST,
            format!("/dashboard/alerts/{}/dismiss", v.alert),
            json!({}),
            Some("owner"),
        ),
        (
            Method::GET,
            format!("/forms/templates/{}", v.template),
            json!(null),
            Some("forms"),
        ),
        (
            Method::PUT,
            format!("/forms/templates/{}", v.template),
            json!({"name": "Stolen", "fields": fields}),
            Some("owner"),
        ),
        (
            Method::GET,
            format!("/forms/requests/{}", v.request),
            json!(null),
            Some("forms"),
        ),
        (
            Method::GET,
            format!("/inventory/{}", v.item),
            json!(null),
            Some("inventory"),
        ),
        (
            Method::PUT,
            format!("/inventory/{}", v.item),
            json!({"name": "Blue Dye", "unit": "tube", "threshold": 1}),
            Some("inventory"),
        ),
        (
            Method::POST,
            format!("/inventory/{}/receive", v.item),
            json!({"quantity": 5}),
            Some("inventory"),
        ),
        (
            Method::POST,
            format!("/inventory/{}/adjust", v.item),
            json!({"delta": -1, "reason": "spilt"}),
            Some("inventory"),
        ),
        (
            Method::GET,
            format!("/services/{}", v.service),
            json!(null),
            None,
        ),
        (
            Method::PUT,
            format!("/services/{}", v.service),
            json!({"name": "Cut", "duration_minutes": 30, "price_cents": 100, "inventory": []}),
            Some("owner"),
        ),
        (
            Method::DELETE,
            format!("/services/{}", v.service),
            json!(null),
            Some("owner"),
        ),
        (
            Method::GET,
            format!("/staff/{}", v.staff_id),
            json!(null),
            None,
        ),
        (
            Method::PUT,
            format!("/staff/{}/permissions", v.staff_id),
            json!({"bookings": true}),
            Some("owner"),
        ),
        (
            Method::GET,
            format!("/staff/{}/availability", v.staff_id),
            json!(null),
            None,
        ),
        (
            Method::PUT,
            format!("/staff/{}/availability", v.staff_id),
            json!({"weekly": [], "exceptions": []}),
            Some("self"),
        ),
        (
            Method::DELETE,
            format!("/staff/{}", v.staff_id),
            json!(null),
            Some("owner"),
        ),
    ]
}

/// Routes with an id that are not tenant-scoped by a token: the public ones (a slug or a
/// secret token names the resource) and provider webhooks (signature-checked).
const PUBLIC_ID_ROUTES: &[&str] = &[
    "/api/v1/public/{slug}",
    "/api/v1/public/{slug}/availability",
    "/api/v1/public/{slug}/bookings",
    "/api/v1/public/{slug}/messages",
    "/api/v1/public/bookings/{id}/cancel",
    "/api/v1/public/forms/{token}",
    "/api/v1/webhooks/inbound/{provider}",
];

/// `/bookings/{uuid}/cancel` → `/api/v1/bookings/{id}/cancel`.
fn template_of(path: &str) -> String {
    let parts: Vec<String> = path
        .split('/')
        .map(|part| {
            if uuid::Uuid::parse_str(part).is_ok() {
                "{id}".to_string()
            } else {
                part.to_string()
            }
        })
        .collect();
    format!("/api/v1{}", parts.join("/"))
}

#[sqlx::test(migrations = "../migrations")]
async fn every_route_with_an_id_hides_other_workspaces_and_checks_permissions(pool: PgPool) {
    let app = spawn(pool).await;
    let victim = set_up(&app, "Victim Salon", "owner@victim.example").await;
    let intruder = app
        .onboard("Intruder Salon", "owner@intruder.example")
        .await;
    let table = routes(&victim);
    let seen = app.head_position().await;

    // The table covers every route with an id in the OpenAPI document.
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        if !path.contains('{') || PUBLIC_ID_ROUTES.contains(&path.as_str()) {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let tested: BTreeSet<String> = table
        .iter()
        .map(|(method, path, _, _)| format!("{method} {}", template_of(path)))
        .collect();
    let missing: Vec<_> = documented.difference(&tested).collect();
    assert!(
        missing.is_empty(),
        "routes with an id missing from the table: {missing:?}"
    );

    // Another workspace's owner: 404 in the contract's format, nothing appended.
    for (method, path, body, _) in &table {
        let before = app.event_count().await;
        let response = send(
            &app,
            method,
            path,
            &intruder.access_token,
            body,
            Some(&seen),
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(app.event_count().await, before, "{method} {path} appended");
    }

    // A staff member of the same workspace without any permission: 403 where a permission
    // or the owner is needed (their own availability is theirs to set), nothing appended.
    for (method, path, body, needs) in &table {
        let Some(needs) = needs else { continue };
        if *needs == "self" {
            continue;
        }
        if *needs == "assigned" {
            // Owner or the assigned staff member only: anyone else does not see it at all.
            let response = send(&app, method, path, &victim.staff_token, body, Some(&seen)).await;
            assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
            continue;
        }
        let before = app.event_count().await;
        let response = send(&app, method, path, &victim.staff_token, body, Some(&seen)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.event_count().await, before, "{method} {path} appended");
    }

    // The victim's owner still sees everything as it was.
    let booking = created(
        app.get_after(
            &format!("/bookings/{}", victim.booking),
            Some(&victim.owner),
            &seen,
        )
        .await,
    )
    .await;
    assert_eq!(
        booking["start"]
            .as_str()
            .map(|s| s.starts_with(&victim.booking_start)),
        Some(true)
    );
    assert!(
        booking["status"] == "pending" || booking["status"] == "confirmed",
        "{booking}"
    );
    let item = created(
        app.get_after(
            &format!("/inventory/{}", victim.item),
            Some(&victim.owner),
            &seen,
        )
        .await,
    )
    .await;
    assert_eq!(item["quantity"], 1);
}
