//! The public booking page API.

mod support;

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use command_api::command::fold;
use domain::calendar::{self, CalendarAggregate};
use domain::schedule::{self, ScheduleAggregate};
use domain::service::{self, ServiceAggregate};
use domain::slots::{free_slots, local_start, SlotRequest};
use domain::user::{self, UserAggregate};
use domain::values::{LocalTime, TimeZone};
use domain::workspace::{self, WorkspaceAggregate};
use event_store::EventStore;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn, user_id_of, TestApp};
use uuid::Uuid;

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_customer_sees_the_page_picks_a_free_slot_books_and_cancels_with_the_link(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let owner_id = user_id_of(&owner.access_token);

    // Not active yet: the page does not exist for the public (read once the read models
    // know the workspace, so that the 404 is the rule's).
    let onboarded = app.head_position().await;
    assert_error(
        app.get_after(&format!("/public/{}", owner.slug), None, &onboarded)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    app.client
        .put(app.url(&format!("/staff/{owner_id}/availability")))
        .bearer_auth(&owner.access_token)
        .json(&json!({"weekly": weekly}))
        .send()
        .await
        .unwrap();
    let services: Value = app.post("/onboarding/services", token, &json!({"services": [
        {"name": "Haircut", "duration_minutes": 60, "price_cents": 4000, "buffer_after_minutes": 30}]})).await.json().await.unwrap();
    let haircut = services["services"][0]["id"].as_str().unwrap().to_string();
    let activated = app.post("/onboarding/activate", token, &json!({})).await;
    assert_eq!(activated.status(), StatusCode::OK);
    let activated = position(&activated);

    let page: Value = app
        .get_after(&format!("/public/{}", owner.slug), None, &activated)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["name"], "Urban Glow");
    assert_eq!(page["timezone"], "Europe/London");
    assert_eq!(page["services"][0]["price_cents"], 4000);
    assert_eq!(page["staff"][0]["id"], owner_id);

    let date = (Utc::now() + Duration::days(5)).date_naive();
    let path = format!(
        "/public/{}/availability?service_id={haircut}&date={date}",
        owner.slug
    );
    let slots: Value = app
        .get_after(&path, None, &activated)
        .await
        .json()
        .await
        .unwrap();
    let slots = slots["slots"].as_array().unwrap().clone();
    // 09:00–17:00 with 60 min + 30 min buffer on a 15-minute step: starts 09:00 … 16:00.
    assert_eq!(slots.len(), 29, "{slots:?}");
    let first = slots[0]["start"].as_str().unwrap().to_string();

    let booked = app
        .post(
            &format!("/public/{}/bookings", owner.slug),
            None,
            &json!({"service_id": haircut, "start": first,
        "contact": {"name": "Pia Public", "email": "pia@example.com"}}),
        )
        .await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let after_booking = position(&booked);
    let booked: Value = booked.json().await.unwrap();
    assert_eq!(booked["status"], "confirmed");
    let manage_token = booked["manage_token"].as_str().unwrap().to_string();
    let booking_id = booked["booking_id"].as_str().unwrap().to_string();

    // The slot and its buffer are gone: 09:00 up to 10:15 no longer start.
    let after: Value = app
        .get_after(&path, None, &after_booking)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["slots"][0]["start"].as_str().unwrap()[11..16],
        *"10:30"
    );
    let taken = app
        .post(
            &format!("/public/{}/bookings", owner.slug),
            None,
            &json!({"service_id": haircut, "start": first,
        "contact": {"name": "Quinn", "email": "quinn@example.com"}}),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "slot_unavailable").await;

    let wrong = app
        .post(
            &format!("/public/bookings/{booking_id}/cancel"),
            None,
            &json!({"manage_token": "guess"}),
        )
        .await;
    assert_error(wrong, StatusCode::NOT_FOUND, "not_found").await;
    let cancelled = app
        .post(
            &format!("/public/bookings/{booking_id}/cancel"),
            None,
            &json!({"manage_token": manage_token}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let after_cancelling = position(&cancelled);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    // The slot is free again.
    let freed: Value = app
        .get_after(&path, None, &after_cancelling)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(freed["slots"][0]["start"], first.as_str());
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_customer_cannot_cancel_inside_the_window_nor_book_too_soon(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let owner_id = user_id_of(&owner.access_token);
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "23:45"}))
        .collect();
    app.client
        .put(app.url(&format!("/staff/{owner_id}/availability")))
        .bearer_auth(&owner.access_token)
        .json(&json!({"weekly": weekly}))
        .send()
        .await
        .unwrap();
    let services: Value = app
        .post(
            "/onboarding/services",
            token,
            &json!({"services": [
        {"name": "Haircut", "duration_minutes": 30, "price_cents": 4000}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let haircut = services["services"][0]["id"].as_str().unwrap().to_string();
    app.post("/onboarding/activate", token, &json!({})).await;

    // Minimum notice (60 min by default).
    let soon = (Utc::now() + Duration::minutes(20))
        .duration_trunc(Duration::minutes(15))
        .unwrap()
        + Duration::minutes(15);
    let too_soon = app
        .post(
            &format!("/public/{}/bookings", owner.slug),
            None,
            &json!({"service_id": haircut, "start": soon.to_rfc3339(),
        "contact": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await;
    assert_error(
        too_soon,
        StatusCode::UNPROCESSABLE_ENTITY,
        "notice_too_short",
    )
    .await;
    let no_email = app
        .post(
            &format!("/public/{}/bookings", owner.slug),
            None,
            &json!({"service_id": haircut, "start": soon.to_rfc3339(),
        "contact": {"name": "Sam"}}),
        )
        .await;
    assert_error(no_email, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;

    let start = (Utc::now() + Duration::days(3))
        .duration_trunc(Duration::hours(1))
        .unwrap()
        + Duration::hours(1);
    let booked: Value = app
        .post(
            &format!("/public/{}/bookings", owner.slug),
            None,
            &json!({"service_id": haircut, "start": start.to_rfc3339(),
        "contact": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = booked["booking_id"].as_str().unwrap();
    // Two and a half days later, the visit is inside the 24-hour window.
    app.clock.advance(Duration::hours(60));
    let late = app
        .post(
            &format!("/public/bookings/{id}/cancel"),
            None,
            &json!({"manage_token": booked["manage_token"]}),
        )
        .await;
    assert_error(
        late,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancellation_window_passed",
    )
    .await;
    // Staff still can.
    let by_owner = app
        .post(&format!("/bookings/{id}/cancel"), token, &json!({}))
        .await;
    assert_eq!(by_owner.status(), StatusCode::OK);

    let seen = position(&by_owner);
    assert_error(
        app.get_after("/public/no-such-salon", None, &seen).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/public/Not A Slug", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// Sends a command and asserts it succeeded; its body and position.
async fn command(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &Value,
) -> (Value, String) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(token);
    if !body.is_null() {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let at = response
        .headers()
        .get("x-careops-position")
        .map(|p| p.to_str().unwrap().to_string());
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    (body, at.expect("a position"))
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_page_lists_only_unarchived_services_and_active_staff_with_hours(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let owner_id = user_id_of(token);
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    let weekly: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    let hours = json!({"weekly": weekly});
    command(
        &app,
        put.clone(),
        &format!("/staff/{owner_id}/availability"),
        token,
        &hours,
    )
    .await;
    let (services, _) = command(
        &app,
        post.clone(),
        "/onboarding/services",
        token,
        &json!({"services": [
        {"name": "Haircut", "duration_minutes": 60, "price_cents": 4000},
        {"name": "Perm", "duration_minutes": 90, "price_cents": 9000}]}),
    )
    .await;
    let haircut = services["services"][0]["id"].as_str().unwrap().to_string();
    let perm = services["services"][1]["id"].as_str().unwrap().to_string();
    let invite = |name: &str, email: &str| json!({"name": name, "email": email, "permissions": {"bookings": true}});
    let (sam, _) = command(
        &app,
        post.clone(),
        "/staff",
        token,
        &invite("Sam Stylist", "sam@example.com"),
    )
    .await;
    let (dee, _) = command(
        &app,
        post.clone(),
        "/staff",
        token,
        &invite("Dee Departed", "dee@example.com"),
    )
    .await;
    let (nia, _) = command(
        &app,
        post.clone(),
        "/staff",
        token,
        &invite("Nia Nohours", "nia@example.com"),
    )
    .await;
    let (sam, dee, nia) = (
        sam["id"].as_str().unwrap(),
        dee["id"].as_str().unwrap(),
        nia["id"].as_str().unwrap(),
    );
    command(
        &app,
        put.clone(),
        &format!("/staff/{sam}/availability"),
        token,
        &hours,
    )
    .await;
    command(
        &app,
        put.clone(),
        &format!("/staff/{dee}/availability"),
        token,
        &hours,
    )
    .await;
    // An exception alone is no weekly hours: Nia takes no bookings.
    let date = (Utc::now() + Duration::days(5)).date_naive();
    command(
        &app,
        put.clone(),
        &format!("/staff/{nia}/availability"),
        token,
        &json!({"weekly": [], "exceptions": [{"date": date, "start": "10:00", "end": "12:00"}]}),
    )
    .await;
    command(
        &app,
        reqwest::Method::DELETE,
        &format!("/staff/{dee}"),
        token,
        &json!(null),
    )
    .await;
    command(
        &app,
        reqwest::Method::DELETE,
        &format!("/services/{perm}"),
        token,
        &json!(null),
    )
    .await;
    let (_, activated) = command(
        &app,
        post.clone(),
        "/onboarding/activate",
        token,
        &json!({}),
    )
    .await;

    let page: Value = app
        .get_after(&format!("/public/{}", owner.slug), None, &activated)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["services"],
        json!([{"id": haircut, "name": "Haircut", "duration_minutes": 60, "price_cents": 4000, "currency": "GBP"}])
    );
    let mut staff: Vec<&str> = page["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    staff.sort();
    let mut expected = vec![owner_id.as_str(), sam];
    expected.sort();
    assert_eq!(staff, expected, "{page}");
    assert!(page["staff"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "Sam Stylist"));

    let availability = |query: String| {
        let slug = owner.slug.clone();
        let activated = activated.clone();
        let app = &app;
        async move {
            app.get_after(
                &format!("/public/{slug}/availability?{query}"),
                None,
                &activated,
            )
            .await
        }
    };
    let slots: Value = availability(format!("service_id={haircut}&date={date}"))
        .await
        .json()
        .await
        .unwrap();
    let mut by: Vec<&str> = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["staff_id"].as_str().unwrap())
        .collect();
    by.sort();
    by.dedup();
    assert_eq!(by, expected, "only bookable staff offer slots");
    for gone in [dee, nia] {
        let slots: Value =
            availability(format!("service_id={haircut}&date={date}&staff_id={gone}"))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(slots["slots"], json!([]), "{gone}");
    }
    assert_error(
        availability(format!("service_id={perm}&date={date}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    for (query, status, code) in [
        (
            format!("service_id={haircut}&date={date}&days=0"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("service_id={haircut}&date={date}&days=15"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("service_id={haircut}&date=2026-02-30"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            format!("date={date}"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        assert_error(availability(query).await, status, code).await;
    }

    // A workspace that is not active has neither a page nor slots.
    let other = app.onboard("Not Yet", "notyet@example.com").await;
    let seen = app.head_position().await;
    for path in [
        format!("/public/{}", other.slug),
        format!(
            "/public/{}/availability?service_id={haircut}&date={date}",
            other.slug
        ),
    ] {
        assert_error(
            app.get_after(&path, None, &seen).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

/// The free slots as the command side computes them from the event store's streams (the
/// workspace, the service, every user, their schedules and calendar days), which is how the
/// public availability was answered before it read the read models: the reference the read
/// models must match.
async fn slots_from_the_streams(
    app: &TestApp,
    workspace_id: Uuid,
    service_id: Uuid,
    from: NaiveDate,
    days: u32,
    staff_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, Uuid)> {
    let store = EventStore::new(app.pool.clone());
    let ws = fold::<WorkspaceAggregate>(stream(&store, &workspace::stream_id(workspace_id)).await)
        .unwrap()
        .unwrap();
    let service = fold::<ServiceAggregate>(stream(&store, &service::stream_id(service_id)).await)
        .unwrap()
        .unwrap();
    let to = from + Duration::days(i64::from(days) - 1);
    let mut slots = Vec::new();
    for user_stream in store.stream_ids(ws.id, user::STREAM_TYPE).await.unwrap() {
        let user = fold::<UserAggregate>(stream(&store, &user_stream).await)
            .unwrap()
            .unwrap();
        if !user.active || staff_id.is_some_and(|id| id != user.id) {
            continue;
        }
        let schedule =
            fold::<ScheduleAggregate>(stream(&store, &schedule::stream_id(user.id)).await).unwrap();
        if !schedule.has_weekly_availability() {
            continue;
        }
        let mut reservations = Vec::new();
        for d in -1..=i64::from(days) {
            let day = stream(
                &store,
                &calendar::stream_id(user.id, from + Duration::days(d)),
            )
            .await;
            reservations.extend(
                fold::<CalendarAggregate>(day)
                    .unwrap()
                    .reservations
                    .into_values(),
            );
        }
        let d = &service.definition;
        let found = free_slots(&SlotRequest {
            schedule: &schedule,
            reservations: &reservations,
            duration: d.duration_minutes,
            buffer_before: d.buffer_before_minutes,
            buffer_after: d.buffer_after_minutes,
            slot_step: ws.settings.slot_step_minutes,
            minimum_notice: ws.settings.minimum_notice_minutes,
            horizon_days: ws.settings.booking_horizon_days,
            timezone: ws.timezone,
            from,
            to,
            now,
        });
        slots.extend(found.into_iter().map(|s| (s.start, s.end, user.id)));
    }
    slots.sort_by_key(|(start, _, staff)| (*start, *staff));
    slots
}

async fn stream(store: &EventStore, id: &str) -> Vec<event_store::RecordedEvent> {
    store.read_stream(id, 0).await.unwrap()
}

/// The first local date from `after` on whose noon is not 24 h after the day before's.
fn next_dst_change(tz: TimeZone, after: NaiveDate) -> NaiveDate {
    let noon = |d: NaiveDate| local_start(tz, d, LocalTime::parse("12:00").unwrap()).unwrap();
    after
        .iter_days()
        .find(|d| noon(*d) - noon(d.pred_opt().unwrap()) != Duration::hours(24))
        .expect("London changes its clocks twice a year")
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn public_slots_from_the_read_models_equal_those_the_streams_give(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = owner.access_token.as_str();
    let workspace_id: Uuid = owner.workspace_id.parse().unwrap();
    let owner_id: Uuid = user_id_of(token).parse().unwrap();
    let (put, post) = (reqwest::Method::PUT, reqwest::Method::POST);
    let london = TimeZone::parse("Europe/London").unwrap();
    let local = |date: NaiveDate, hm: &str| {
        local_start(london, date, LocalTime::parse(hm).unwrap()).unwrap()
    };

    // Nine days before London's next change of clocks.
    let today = app.clock.now().date_naive();
    let change = next_dst_change(london, today + Duration::days(10));
    app.clock
        .advance(Duration::days((change - today).num_days() - 9));
    let today = app.clock.now().date_naive();
    let x = change - Duration::days(4);

    command(
        &app,
        put.clone(),
        "/workspace",
        token,
        &json!({"notifications":
        {"minimum_notice_minutes": 90, "booking_horizon_days": 12, "slot_step_minutes": 20}}),
    )
    .await;
    let days9to5: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    command(
        &app,
        put.clone(),
        &format!("/staff/{owner_id}/availability"),
        token,
        &json!({
        "weekly": days9to5,
        "exceptions": [{"date": change + Duration::days(1), "closed": true},
                       {"date": change - Duration::days(2), "start": "12:00", "end": "14:00"}]}),
    )
    .await;
    let (services, _) = command(&app, post.clone(), "/onboarding/services", token, &json!({"services": [
        {"name": "Colour", "duration_minutes": 60, "price_cents": 5000, "buffer_before_minutes": 10, "buffer_after_minutes": 30},
        {"name": "Trim", "duration_minutes": 45, "price_cents": 2000, "buffer_after_minutes": 15},
        {"name": "Late treatment", "duration_minutes": 60, "price_cents": 7000, "buffer_after_minutes": 120}]})).await;
    let service = |n: usize| -> Uuid {
        services["services"][n]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (colour, trim, late) = (service(0), service(1), service(2));
    let invite = |name: &str, email: &str| json!({"name": name, "email": email});
    let (night, _) = command(
        &app,
        post.clone(),
        "/staff",
        token,
        &invite("Nico Night", "nico@example.com"),
    )
    .await;
    let (gone, _) = command(
        &app,
        post.clone(),
        "/staff",
        token,
        &invite("Dee Departed", "dee@example.com"),
    )
    .await;
    let night: Uuid = night["id"].as_str().unwrap().parse().unwrap();
    let gone: Uuid = gone["id"].as_str().unwrap().parse().unwrap();
    // Nico works around midnight, so buffers and the change of clocks cross the date line.
    let nights: Vec<Value> = (1..=7)
        .flat_map(|d| {
            [
                json!({"weekday": d, "start": "00:00", "end": "01:30"}),
                json!({"weekday": d, "start": "21:00", "end": "23:59"}),
            ]
        })
        .collect();
    command(
        &app,
        put.clone(),
        &format!("/staff/{night}/availability"),
        token,
        &json!({"weekly": nights}),
    )
    .await;
    command(
        &app,
        put.clone(),
        &format!("/staff/{gone}/availability"),
        token,
        &json!({"weekly": days9to5}),
    )
    .await;
    command(
        &app,
        reqwest::Method::DELETE,
        &format!("/staff/{gone}"),
        token,
        &json!(null),
    )
    .await;
    command(
        &app,
        post.clone(),
        "/onboarding/activate",
        token,
        &json!({}),
    )
    .await;

    let book = |service: Uuid, staff: Uuid, start: DateTime<Utc>| json!({"service_id": service, "staff_id": staff, "start": start, "contact": {"name": "Cleo Client"}});
    // Booked with 10 + 30 min buffers, which it keeps when the service's change.
    command(
        &app,
        post.clone(),
        "/bookings",
        token,
        &book(colour, owner_id, local(change, "09:00")),
    )
    .await;
    command(&app, put.clone(), &format!("/services/{colour}"), token, &json!({"name": "Colour",
        "duration_minutes": 60, "price_cents": 5000, "buffer_before_minutes": 0, "buffer_after_minutes": 60})).await;
    // Cancelled: frees its slot again.
    let (cancelled, _) = command(
        &app,
        post.clone(),
        "/bookings",
        token,
        &book(trim, owner_id, local(change + Duration::days(2), "10:00")),
    )
    .await;
    command(
        &app,
        post.clone(),
        &format!("/bookings/{}/cancel", cancelled["id"].as_str().unwrap()),
        token,
        &json!({}),
    )
    .await;
    // Rescheduled: holds its new day only.
    let (moved, _) = command(
        &app,
        post.clone(),
        "/bookings",
        token,
        &book(colour, owner_id, local(change - Duration::days(1), "11:00")),
    )
    .await;
    command(
        &app,
        post.clone(),
        &format!("/bookings/{}/reschedule", moved["id"].as_str().unwrap()),
        token,
        &json!({"start": local(change + Duration::days(2), "14:00")}),
    )
    .await;
    // Its buffer runs past midnight into the next day's early hours.
    command(
        &app,
        post.clone(),
        "/bookings",
        token,
        &book(late, night, local(x, "22:30")),
    )
    .await;
    let (_, last) = command(
        &app,
        post.clone(),
        "/bookings",
        token,
        &book(trim, night, local(change, "21:30")),
    )
    .await;

    let compare = |last: String| {
        let app = &app;
        let slug = owner.slug.clone();
        async move {
            let mut offered = 0;
            for service in [colour, trim, late] {
                for (from, days) in [(today, 14u32), (change - Duration::days(1), 3), (x, 2)] {
                    for staff in [None, Some(owner_id), Some(night), Some(gone)] {
                        let mut path = format!(
                            "/public/{slug}/availability?service_id={service}&date={from}&days={days}"
                        );
                        if let Some(staff) = staff {
                            path.push_str(&format!("&staff_id={staff}"));
                        }
                        let before = app.clock.now();
                        let answer: Value = app
                            .get_after(&path, None, &last)
                            .await
                            .json()
                            .await
                            .unwrap();
                        let after = app.clock.now();
                        let answer: Vec<(DateTime<Utc>, DateTime<Utc>, Uuid)> = answer["slots"]
                            .as_array()
                            .unwrap_or_else(|| panic!("{path}: {answer}"))
                            .iter()
                            .map(|s| {
                                (
                                    s["start"].as_str().unwrap().parse().unwrap(),
                                    s["end"].as_str().unwrap().parse().unwrap(),
                                    s["staff_id"].as_str().unwrap().parse().unwrap(),
                                )
                            })
                            .collect();
                        // The answer depends on the time (notice, horizon): either instant.
                        let early = slots_from_the_streams(
                            app,
                            workspace_id,
                            service,
                            from,
                            days,
                            staff,
                            before,
                        )
                        .await;
                        if answer != early {
                            let late = slots_from_the_streams(
                                app,
                                workspace_id,
                                service,
                                from,
                                days,
                                staff,
                                after,
                            )
                            .await;
                            let extra: Vec<_> =
                                answer.iter().filter(|s| !late.contains(s)).collect();
                            let missing: Vec<_> =
                                late.iter().filter(|s| !answer.contains(s)).collect();
                            assert!(
                                answer == late,
                                "{path}: offered but not free {extra:?}, free but not offered {missing:?}"
                            );
                        }
                        assert!(answer.iter().all(|(_, _, s)| *s != gone), "{path}");
                        offered += answer.len();
                    }
                }
            }
            offered
        }
    };
    assert!(
        compare(last).await > 100,
        "the comparison is not of empty lists"
    );

    // A change of zone keeps the calendar days the bookings were recorded under.
    let (_, moved_zone) = command(
        &app,
        put,
        "/workspace",
        token,
        &json!({"timezone": "Europe/Paris"}),
    )
    .await;
    assert!(compare(moved_zone).await > 100);
}
