//! Bad input, endpoint by endpoint: malformed JSON, wrong types, unknown fields, zero and
//! negative durations, end before start, bad dates and time zones, oversize bodies, slugs
//! with spaces, emails without @, 10 kB names. Each gets the right 4xx in the error format,
//! and not one event is appended.

mod support;

use chrono::{Duration, DurationRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, spawn, user_id_of, TestApp};

/// What is sent as the body.
enum Body {
    Json(Value),
    /// Sent as `application/json` as it is (malformed JSON).
    Raw(&'static str),
    /// A syntactically valid JSON body over the 64 kB limit.
    Oversize,
    /// A JSON document sent as `text/plain`.
    PlainText,
}

struct Case {
    what: &'static str,
    body: Body,
    status: StatusCode,
    code: &'static str,
}

fn case(what: &'static str, body: Value, status: StatusCode, code: &'static str) -> Case {
    Case {
        what,
        body: Body::Json(body),
        status,
        code,
    }
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const RULE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The cases every JSON endpoint shares.
fn common() -> Vec<Case> {
    vec![
        Case {
            what: "malformed JSON",
            body: Body::Raw("{]"),
            status: BAD,
            code: "malformed_json",
        },
        Case {
            what: "not an object",
            body: Body::Raw("[1, 2, 3]"),
            status: BAD,
            code: "invalid_body",
        },
        Case {
            what: "oversize body",
            body: Body::Oversize,
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
        },
        Case {
            what: "JSON sent as text/plain",
            body: Body::PlainText,
            status: BAD,
            code: "unsupported_media_type",
        },
    ]
}

fn ten_kb() -> String {
    "x".repeat(10 * 1024)
}

/// 10:00 UTC `days` from today.
fn at(days: i64) -> String {
    ((Utc::now() + Duration::days(days))
        .duration_trunc(Duration::days(1))
        .unwrap()
        + Duration::hours(10))
    .to_rfc3339()
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Body,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::Json(value) => request.json(value),
        Body::Raw(text) => request
            .header("content-type", "application/json")
            .body(*text),
        Body::Oversize => request
            .header("content-type", "application/json")
            .body(format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024))),
        Body::PlainText => request
            .header("content-type", "text/plain")
            .body("{\"name\": \"Plain\"}"),
    };
    request.send().await.unwrap()
}

/// Sends every case to `method path` and checks its answer and that nothing was appended.
async fn check(app: &TestApp, method: Method, path: &str, token: Option<&str>, cases: Vec<Case>) {
    for case in cases {
        let before = app.event_count().await;
        let response = send(app, method.clone(), path, token, &case.body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(
            status, case.status,
            "{method} {path}, {}: {text}",
            case.what
        );
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}, {}: not JSON: {text}", case.what));
        assert_eq!(
            body["status_code"],
            case.status.as_u16(),
            "{method} {path}, {}: {body}",
            case.what
        );
        assert_eq!(
            body["code"], case.code,
            "{method} {path}, {}: {body}",
            case.what
        );
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
        assert_eq!(
            app.event_count().await,
            before,
            "{method} {path}, {}: an event was appended",
            case.what
        );
    }
}

/// An active workspace: the owner works 06:00–22:00 every day, "Dye" in stock, "Coloring"
/// (60 min) uses one, a contact and a booking of theirs.
struct Salon {
    token: String,
    slug: String,
    owner_id: String,
    service: String,
    item: String,
    contact: String,
    booking: String,
}

async fn salon(app: &TestApp) -> Salon {
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.clone();
    let owner_id = user_id_of(&token);
    app.open_every_day(&token, &owner_id).await;
    let items: Value = app
        .post(
            "/onboarding/inventory",
            Some(&token),
            &json!({"items": [{"name": "Dye", "quantity": 50, "threshold": 2}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let item = items["items"][0]["id"].as_str().unwrap().to_string();
    let services: Value = app
        .post(
            "/onboarding/services",
            Some(&token),
            &json!({"services": [{"name": "Coloring", "duration_minutes": 60,
            "price_cents": 8500, "inventory": [{"item_id": item, "quantity": 1}]}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let service = services["services"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post("/onboarding/activate", Some(&token), &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let contact: Value = app
        .post(
            "/contacts",
            Some(&token),
            &json!({"name": "Chloe Customer", "email": "chloe@example.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let contact = contact["id"].as_str().unwrap().to_string();
    let booking = app
        .post(
            "/bookings",
            Some(&token),
            &json!({"service_id": service, "start": at(3), "contact_id": contact}),
        )
        .await;
    assert_eq!(booking.status(), StatusCode::CREATED);
    let booking = booking.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Salon {
        token,
        slug: owner.slug,
        owner_id,
        service,
        item,
        contact,
        booking,
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_bookings_staff_or_public_are_refused_and_book_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app).await;
    let customer = json!({"name": "Ida", "email": "ida@example.com"});
    let with = |changes: Value| {
        let mut body = json!({"service_id": s.service, "start": at(4), "contact": customer});
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let shared = || {
        let mut cases = common();
        cases.extend([
            case("service_id of the wrong type", with(json!({"service_id": 42})), BAD, "invalid_body"),
            case("service_id not a UUID", with(json!({"service_id": "cut"})), BAD, "invalid_body"),
            case("start as a number", with(json!({"start": 1_700_000_000})), BAD, "invalid_body"),
            case("an impossible date", with(json!({"start": "2026-13-45T10:00:00Z"})), BAD, "invalid_body"),
            case("a date without a time", with(json!({"start": "2026-12-01"})), BAD, "invalid_body"),
            case("a local time without its zone", with(json!({"start": "2026-12-01T10:00:00"})), BAD, "invalid_body"),
            case("an offset out of range", with(json!({"start": "2026-12-01T10:00:00+25:00"})), BAD, "invalid_body"),
            case("a zone name instead of an offset", with(json!({"start": "2026-12-01T10:00:00 Europe/London"})), BAD, "invalid_body"),
            case("an unknown field", with(json!({"colour": "red"})), BAD, "invalid_body"),
            case("an unknown contact field", with(json!({"contact": {"name": "Ida", "email": "ida@example.com", "mail": "x"}})), BAD, "invalid_body"),
            case("contact name of the wrong type", with(json!({"contact": {"name": 7, "email": "ida@example.com"}})), BAD, "invalid_body"),
            case("an email without @", with(json!({"contact": {"name": "Ida", "email": "ida.example.com"}})), RULE, "invalid_value"),
            case("a 10 kB name", with(json!({"contact": {"name": ten_kb(), "email": "ida@example.com"}})), RULE, "invalid_value"),
            case("an empty name", with(json!({"contact": {"name": "  ", "email": "ida@example.com"}})), RULE, "invalid_value"),
            case("a phone that is no number", with(json!({"contact": {"name": "Ida", "email": "ida@example.com", "phone": "call me"}})), RULE, "invalid_value"),
            case("10 kB of notes", with(json!({"notes": ten_kb()})), RULE, "invalid_value"),
            case("a start in the past", with(json!({"start": at(-2)})), RULE, "in_the_past"),
            case("an unknown service", with(json!({"service_id": "0191a9c6-0000-7000-8000-000000000000"})), StatusCode::NOT_FOUND, "not_found"),
        ]);
        cases
    };

    let mut staff = shared();
    staff.extend([
        case(
            "neither contact nor contact_id",
            json!({"service_id": s.service, "start": at(4)}),
            RULE,
            "invalid_value",
        ),
        case(
            "both contact and contact_id",
            with(json!({"contact_id": s.contact})),
            RULE,
            "invalid_value",
        ),
        case(
            "contact_id not a UUID",
            json!({"service_id": s.service, "start": at(4), "contact_id": "chloe"}),
            BAD,
            "invalid_body",
        ),
    ]);
    check(&app, Method::POST, "/bookings", Some(&s.token), staff).await;

    let mut public = shared();
    public.extend([
        case(
            "no email to confirm to",
            with(json!({"contact": {"name": "Ida"}})),
            RULE,
            "invalid_value",
        ),
        case(
            "a contact_id (not public)",
            with(json!({"contact_id": s.contact})),
            BAD,
            "invalid_body",
        ),
    ]);
    let path = format!("/public/{}/bookings", s.slug);
    check(&app, Method::POST, &path, None, public).await;
    let with_spaces = vec![case(
        "a slug with spaces",
        with(json!({})),
        StatusCode::NOT_FOUND,
        "not_found",
    )];
    check(
        &app,
        Method::POST,
        "/public/urban%20glow/bookings",
        None,
        with_spaces,
    )
    .await;

    let booked: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'BookingCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(booked, 1, "only the salon's own booking");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_reschedules_and_completions_are_refused_and_change_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app).await;
    let mut reschedule = common();
    reschedule.extend([
        case(
            "start of the wrong type",
            json!({"start": true}),
            BAD,
            "invalid_body",
        ),
        case(
            "an impossible date",
            json!({"start": "2026-02-30T10:00:00Z"}),
            BAD,
            "invalid_body",
        ),
        case(
            "a local time without its zone",
            json!({"start": "2026-12-01T10:00:00"}),
            BAD,
            "invalid_body",
        ),
        case("no start", json!({}), BAD, "invalid_body"),
        case(
            "an unknown field",
            json!({"start": at(5), "reason": "moved"}),
            BAD,
            "invalid_body",
        ),
        case(
            "staff_id not a UUID",
            json!({"start": at(5), "staff_id": "sam"}),
            BAD,
            "invalid_body",
        ),
        case(
            "a start in the past",
            json!({"start": at(-1)}),
            RULE,
            "in_the_past",
        ),
        case(
            "outside the opening hours",
            json!({"start": at(5).replace("T10:00:00", "T23:30:00")}),
            RULE,
            "outside_availability",
        ),
    ]);
    check(
        &app,
        Method::POST,
        &format!("/bookings/{}/reschedule", s.booking),
        Some(&s.token),
        reschedule,
    )
    .await;

    let mut complete = common();
    complete.extend([
        case(
            "inventory_used not a list",
            json!({"inventory_used": {"item_id": s.item}}),
            BAD,
            "invalid_body",
        ),
        case(
            "an item id that is no UUID",
            json!({"inventory_used": [{"item_id": "dye", "quantity": 1}]}),
            BAD,
            "invalid_body",
        ),
        case(
            "a quantity of the wrong type",
            json!({"inventory_used": [{"item_id": s.item, "quantity": "one"}]}),
            BAD,
            "invalid_body",
        ),
        case(
            "a negative quantity",
            json!({"inventory_used": [{"item_id": s.item, "quantity": -1}]}),
            RULE,
            "invalid_value",
        ),
        case(
            "an absurd quantity",
            json!({"inventory_used": [{"item_id": s.item, "quantity": 10_001}]}),
            RULE,
            "invalid_value",
        ),
        case(
            "an unknown field",
            json!({"inventory_used": [], "rating": 5}),
            BAD,
            "invalid_body",
        ),
        case(
            "an unknown usage field",
            json!({"inventory_used": [{"item_id": s.item, "quantity": 1, "unit": "ml"}]}),
            BAD,
            "invalid_body",
        ),
    ]);
    check(
        &app,
        Method::POST,
        &format!("/bookings/{}/complete", s.booking),
        Some(&s.token),
        complete,
    )
    .await;
    let not_an_id = vec![case(
        "a booking id that is no UUID",
        json!({"start": at(5)}),
        BAD,
        "invalid_path",
    )];
    check(
        &app,
        Method::POST,
        "/bookings/yesterday/reschedule",
        Some(&s.token),
        not_an_id,
    )
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_contacts_are_refused_on_create_and_update(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app).await;
    let contact_cases = || {
        let mut cases = common();
        cases.extend([
            case(
                "no name",
                json!({"email": "zoe@example.com"}),
                BAD,
                "invalid_body",
            ),
            case(
                "name of the wrong type",
                json!({"name": ["Zoe"]}),
                BAD,
                "invalid_body",
            ),
            case(
                "email of the wrong type",
                json!({"name": "Zoe", "email": 42}),
                BAD,
                "invalid_body",
            ),
            case(
                "an unknown field",
                json!({"name": "Zoe", "birthday": "1990-01-01"}),
                BAD,
                "invalid_body",
            ),
            case(
                "an email without @",
                json!({"name": "Zoe", "email": "zoe.example.com"}),
                RULE,
                "invalid_value",
            ),
            case(
                "an email with two @",
                json!({"name": "Zoe", "email": "zoe@@example.com"}),
                RULE,
                "invalid_value",
            ),
            case(
                "a 10 kB name",
                json!({"name": ten_kb()}),
                RULE,
                "invalid_value",
            ),
            case("an empty name", json!({"name": ""}), RULE, "invalid_value"),
            case(
                "a phone that is no number",
                json!({"name": "Zoe", "phone": "ring ring"}),
                RULE,
                "invalid_value",
            ),
        ]);
        cases
    };
    check(
        &app,
        Method::POST,
        "/contacts",
        Some(&s.token),
        contact_cases(),
    )
    .await;
    let mut update = contact_cases();
    update.push(case(
        "another contact's email",
        json!({"name": "Chloe", "email": "taken@example.com"}),
        StatusCode::CONFLICT,
        "duplicate_contact",
    ));
    let taken = app
        .post(
            "/contacts",
            Some(&s.token),
            &json!({"name": "Tara", "email": "taken@example.com"}),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CREATED);
    check(
        &app,
        Method::PUT,
        &format!("/contacts/{}", s.contact),
        Some(&s.token),
        update,
    )
    .await;
    let not_an_id = vec![case(
        "a contact id that is no UUID",
        json!({"name": "Zoe"}),
        BAD,
        "invalid_path",
    )];
    check(
        &app,
        Method::PUT,
        "/contacts/chloe",
        Some(&s.token),
        not_an_id,
    )
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_services_inventory_and_onboarding_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app).await;
    let service = |changes: Value| {
        let mut body = json!({"name": "Coloring", "duration_minutes": 60, "price_cents": 8500});
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let service_cases = || {
        let mut cases = common();
        cases.extend([
            case("a zero duration", service(json!({"duration_minutes": 0})), RULE, "invalid_value"),
            case("a negative duration", service(json!({"duration_minutes": -30})), RULE, "invalid_value"),
            case("a fractional duration", service(json!({"duration_minutes": 7.5})), BAD, "invalid_body"),
            case("a duration as text", service(json!({"duration_minutes": "an hour"})), BAD, "invalid_body"),
            case("a day-long duration", service(json!({"duration_minutes": 100_000})), RULE, "invalid_value"),
            case("a negative buffer", service(json!({"buffer_before_minutes": -5})), RULE, "invalid_value"),
            case("a negative price", service(json!({"price_cents": -1})), RULE, "invalid_value"),
            case("an unknown currency", service(json!({"currency": "EURO"})), RULE, "invalid_value"),
            case("a 10 kB name", service(json!({"name": ten_kb()})), RULE, "invalid_value"),
            case("an unknown field", service(json!({"colour": "red"})), BAD, "invalid_body"),
            case("a zero quantity of stock", service(json!({"inventory": [{"item_id": s.item, "quantity": 0}]})), RULE, "invalid_value"),
            case("an item id that is no UUID", service(json!({"inventory": [{"item_id": "dye", "quantity": 1}]})), BAD, "invalid_body"),
            case("an unknown item", service(json!({"inventory": [{"item_id": "0191a9c6-0000-7000-8000-000000000000", "quantity": 1}]})), RULE, "unknown_inventory_item"),
        ]);
        cases
    };
    check(
        &app,
        Method::PUT,
        &format!("/services/{}", s.service),
        Some(&s.token),
        service_cases(),
    )
    .await;
    let onboarding_services: Vec<Case> = service_cases()
        .into_iter()
        .map(|c| match c.body {
            Body::Json(body) => Case {
                body: Body::Json(json!({"services": [body]})),
                ..c
            },
            _ => c,
        })
        .chain([case(
            "no services",
            json!({"services": []}),
            RULE,
            "invalid_value",
        )])
        .collect();
    check(
        &app,
        Method::POST,
        "/onboarding/services",
        Some(&s.token),
        onboarding_services,
    )
    .await;

    let item = |changes: Value| {
        let mut body = json!({"name": "Foils", "quantity": 10, "threshold": 2});
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let item_cases = || {
        let mut cases = common();
        cases.extend([
            case(
                "a negative quantity",
                item(json!({"quantity": -1})),
                RULE,
                "invalid_value",
            ),
            case(
                "a negative threshold",
                item(json!({"threshold": -3})),
                RULE,
                "invalid_value",
            ),
            case(
                "an absurd quantity",
                item(json!({"quantity": 2_000_000})),
                RULE,
                "invalid_value",
            ),
            case(
                "a quantity as text",
                item(json!({"quantity": "ten"})),
                BAD,
                "invalid_body",
            ),
            case(
                "a fractional quantity",
                item(json!({"quantity": 1.5})),
                BAD,
                "invalid_body",
            ),
            case(
                "no threshold",
                json!({"name": "Foils", "quantity": 10}),
                BAD,
                "invalid_body",
            ),
            case(
                "a 10 kB name",
                item(json!({"name": ten_kb()})),
                RULE,
                "invalid_value",
            ),
            case(
                "a 10 kB unit",
                item(json!({"unit": ten_kb()})),
                RULE,
                "invalid_value",
            ),
            case(
                "an empty name",
                item(json!({"name": ""})),
                RULE,
                "invalid_value",
            ),
            case(
                "an unknown field",
                item(json!({"sku": "F-1"})),
                BAD,
                "invalid_body",
            ),
        ]);
        cases
    };
    check(
        &app,
        Method::POST,
        "/inventory",
        Some(&s.token),
        item_cases(),
    )
    .await;
    let onboarding_items: Vec<Case> = item_cases()
        .into_iter()
        .map(|c| match c.body {
            Body::Json(body) => Case {
                body: Body::Json(json!({"items": [body]})),
                ..c
            },
            _ => c,
        })
        .chain([case(
            "no items",
            json!({"items": []}),
            RULE,
            "invalid_value",
        )])
        .collect();
    check(
        &app,
        Method::POST,
        "/onboarding/inventory",
        Some(&s.token),
        onboarding_items,
    )
    .await;

    // A new workspace: the bad zones, slugs, emails and names of onboarding.
    let owner = json!({"name": "Nora Owner", "email": "nora@example.com", "password": "correct horse battery"});
    let workspace = |changes: Value| {
        let mut body = json!({"name": "Nora's Nails", "timezone": "Europe/Paris", "owner": owner});
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let mut onboarding = common();
    onboarding.extend([
        case("an unknown time zone", workspace(json!({"timezone": "Europe/Atlantis"})), RULE, "invalid_value"),
        case("an offset instead of a zone", workspace(json!({"timezone": "+02:00"})), RULE, "invalid_value"),
        case("a time zone of the wrong type", workspace(json!({"timezone": 2})), BAD, "invalid_body"),
        case("a slug with spaces", workspace(json!({"slug": "noras nails"})), RULE, "invalid_value"),
        case("a slug of capitals and symbols", workspace(json!({"slug": "Nora$!"})), RULE, "invalid_value"),
        case("a 10 kB name", workspace(json!({"name": ten_kb()})), RULE, "invalid_value"),
        case("an owner email without @", workspace(json!({"owner": {"name": "Nora", "email": "nora.example.com", "password": "correct horse battery"}})), RULE, "invalid_value"),
        case("a 10 kB owner name", workspace(json!({"owner": {"name": ten_kb(), "email": "nora@example.com", "password": "correct horse battery"}})), RULE, "invalid_value"),
        case("an unknown owner field", workspace(json!({"owner": {"name": "Nora", "email": "nora@example.com", "password": "correct horse battery", "role": "admin"}})), BAD, "invalid_body"),
        case("an unknown field", workspace(json!({"plan": "gold"})), BAD, "invalid_body"),
        case("a taken slug", workspace(json!({"slug": s.slug})), StatusCode::CONFLICT, "slug_taken"),
    ]);
    check(
        &app,
        Method::POST,
        "/onboarding/workspaces",
        None,
        onboarding,
    )
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn bad_availability_is_refused_and_keeps_the_hours(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app).await;
    let week = |entry: Value| json!({"weekly": [entry]});
    let day = |start: &str, end: &str| week(json!({"weekday": 1, "start": start, "end": end}));
    let mut cases = common();
    cases.extend([
        case("weekday 0", week(json!({"weekday": 0, "start": "09:00", "end": "17:00"})), RULE, "invalid_value"),
        case("weekday 8", week(json!({"weekday": 8, "start": "09:00", "end": "17:00"})), RULE, "invalid_value"),
        case("a negative weekday", week(json!({"weekday": -1, "start": "09:00", "end": "17:00"})), BAD, "invalid_body"),
        case("a weekday by name", week(json!({"weekday": "monday", "start": "09:00", "end": "17:00"})), BAD, "invalid_body"),
        case("end before start", day("17:00", "09:00"), RULE, "invalid_value"),
        case("a zero-length day", day("09:00", "09:00"), RULE, "invalid_value"),
        case("hour 25", day("09:00", "25:00"), RULE, "invalid_value"),
        case("minute 60", day("09:60", "17:00"), RULE, "invalid_value"),
        case("a time with its zone", day("09:00+01:00", "17:00"), RULE, "invalid_value"),
        case("am/pm", day("9am", "5pm"), RULE, "invalid_value"),
        case("a time as a number", week(json!({"weekday": 1, "start": 900, "end": "17:00"})), BAD, "invalid_body"),
        case("weekly not a list", json!({"weekly": {"weekday": 1}}), BAD, "invalid_body"),
        case("no weekly hours", json!({"exceptions": []}), BAD, "invalid_body"),
        case("an unknown field", json!({"weekly": [], "holidays": []}), BAD, "invalid_body"),
        case("an unknown hours field", week(json!({"weekday": 1, "start": "09:00", "end": "17:00", "room": 2})), BAD, "invalid_body"),
        case("an impossible exception date", json!({"weekly": [], "exceptions": [{"date": "2026-02-30", "closed": true}]}), BAD, "invalid_body"),
        case("an exception date with a time", json!({"weekly": [], "exceptions": [{"date": "2026-12-24T00:00:00Z", "closed": true}]}), BAD, "invalid_body"),
        case("an exception both closed and open", json!({"weekly": [], "exceptions": [{"date": "2026-12-24", "closed": true, "start": "09:00", "end": "12:00"}]}), RULE, "invalid_value"),
        case("an exception ending before it starts", json!({"weekly": [], "exceptions": [{"date": "2026-12-24", "start": "12:00", "end": "09:00"}]}), RULE, "invalid_value"),
    ]);
    let path = format!("/staff/{}/availability", s.owner_id);
    check(&app, Method::PUT, &path, Some(&s.token), cases).await;
    let hours: Value = app
        .get_after(&path, Some(&s.token), &app.head_position().await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        hours["weekly"].as_array().unwrap().len(),
        7,
        "unchanged: {hours}"
    );
    assert_error(
        send(
            &app,
            Method::PUT,
            "/staff/owner/availability",
            Some(&s.token),
            &Body::Json(day("09:00", "17:00")),
        )
        .await,
        BAD,
        "invalid_path",
    )
    .await;
}
