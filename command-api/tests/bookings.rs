//! Bookings through HTTP: the seed's "Perfect Booking" and "Retention" flows, concurrency,
//! isolation and staff visibility.

mod support;

use chrono::{Duration, DurationRound, Utc};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn, user_id_of, Owner, TestApp};

/// A workspace open every day 06:00–22:00 (owner's hours), with "Red Dye" at `stock`
/// (threshold 2) and "Hair Coloring" (60 min + 15 min buffer after) consuming one.
struct Salon {
    owner: Owner,
    owner_id: String,
    dye: String,
    coloring: String,
}

async fn salon(app: &TestApp, stock: i64) -> Salon {
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let owner_id = user_id_of(&owner.access_token);
    app.open_every_day(&owner.access_token, &owner_id).await;
    let items: Value = app
        .post(
            "/onboarding/inventory",
            token,
            &json!({"items": [{"name": "Red Dye", "quantity": stock, "threshold": 2}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let dye = items["items"][0]["id"].as_str().unwrap().to_string();
    let services: Value = app.post("/onboarding/services", token, &json!({"services": [{"name": "Hair Coloring", "duration_minutes": 60,
        "price_cents": 8500, "buffer_after_minutes": 15, "inventory": [{"item_id": dye, "quantity": 1}]}]}))
        .await.json().await.unwrap();
    let coloring = services["services"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post("/onboarding/activate", token, &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    Salon {
        owner,
        owner_id,
        dye,
        coloring,
    }
}

/// 10:00 UTC (10:00 or 11:00 in London, inside opening hours) `days` from now, plus `slot` hours.
fn start_at(days: i64, slot: i64) -> String {
    let day = (Utc::now() + Duration::days(days))
        .duration_trunc(Duration::days(1))
        .unwrap();
    (day + Duration::hours(8 + slot)).to_rfc3339()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_perfect_booking_checks_and_deducts_stock_creates_the_contact_and_flags_low_stock(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let s = salon(&app, 3).await;
    let token = Some(s.owner.access_token.as_str());

    let response = app
        .post("/bookings", token, &json!({"service_id": s.coloring, "start": start_at(3, 2),
              "contact": {"name": "Chloe Customer", "email": "chloe@example.com", "phone": "+447700900123"}, "notes": "first visit"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booked = position(&response);
    let booking: Value = response.json().await.unwrap();
    assert_eq!(booking["status"], "confirmed");
    assert_eq!(booking["staff_id"], s.owner_id, "chosen automatically");
    assert_eq!(booking["price_cents"], 8500);
    assert_eq!(booking["currency"], "GBP");
    assert_eq!(booking["notes"], "first visit");

    let dye: Value = app
        .get_after(&format!("/inventory/{}", s.dye), token, &booked)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dye["quantity"], 2, "one tube deducted");
    assert_eq!(dye["low_stock"], true, "3 → 2 crosses the threshold");
    let appended: Vec<String> = sqlx::query_scalar(
        "select event_type from events where position > (select max(position) from events where event_type = 'WorkspaceActivated') order by position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for expected in [
        "BookingCreated",
        "SlotReserved",
        "StockDeducted",
        "LowStockCrossed",
        "ContactCreated",
        "EmailReserved",
    ] {
        assert!(
            appended.iter().any(|t| t == expected),
            "{expected} missing from {appended:?}"
        );
    }

    // The same customer again is matched by email: no second contact.
    let again: Value = app
        .post(
            "/bookings",
            token,
            &json!({"service_id": s.coloring, "start": start_at(4, 2),
              "contact": {"name": "Chloe C.", "email": "CHLOE@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["contact_id"], booking["contact_id"]);

    // Cancelling returns the stock and frees the slot.
    let cancelled = app
        .post(
            &format!("/bookings/{}/cancel", booking["id"].as_str().unwrap()),
            token,
            &json!({"reason": "ill"}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let after_cancel = position(&cancelled);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    let dye: Value = app
        .get_after(&format!("/inventory/{}", s.dye), token, &after_cancel)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dye["quantity"], 2, "3 - 2 bookings + 1 returned");
    let rebooked = app
        .post(
            "/bookings",
            token,
            &json!({"service_id": s.coloring, "start": start_at(3, 2),
        "contact": {"name": "Dora", "email": "dora@example.com"}}),
        )
        .await;
    assert_eq!(rebooked.status(), StatusCode::CREATED);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_taken_slot_outside_hours_and_short_stock_are_refused_and_change_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 1).await;
    let token = Some(s.owner.access_token.as_str());
    let first = app
        .post(
            "/bookings",
            token,
            &json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start_at(3, 2),
        "contact": {"name": "Ann", "email": "ann@example.com"}}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let before = app.event_count().await;

    // Overlapping the buffer after the first appointment (ends +60, buffer to +75).
    let overlapping = (chrono::DateTime::parse_from_rfc3339(&start_at(3, 2)).unwrap()
        + Duration::minutes(70))
    .to_rfc3339();
    let cases = [
        (
            json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": overlapping, "contact": {"name": "Bo"}}),
            StatusCode::CONFLICT,
            "slot_unavailable",
        ),
        (
            json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start_at(3, 16), "contact": {"name": "Bo"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_availability",
        ),
        (
            json!({"service_id": s.coloring, "start": start_at(5, 2), "contact": {"name": "Bo"}}),
            StatusCode::CONFLICT,
            "insufficient_stock",
        ),
        (
            json!({"service_id": s.coloring, "start": start_at(-2, 2), "contact": {"name": "Bo"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "in_the_past",
        ),
        (
            json!({"service_id": s.coloring, "start": "tomorrow at ten", "contact": {"name": "Bo"}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"service_id": s.coloring, "start": start_at(5, 2)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"service_id": s.coloring, "start": start_at(5, 2), "contact": {"name": "Bo", "email": "bo-at-example"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"service_id": uuid::Uuid::now_v7(), "start": start_at(5, 2), "contact": {"name": "Bo"}}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.post("/bookings", token, &body).await;
        assert_error(response, status, code).await;
    }
    assert_eq!(
        app.event_count().await,
        before,
        "nothing booked, nothing deducted"
    );
    let dye: Value = app
        .get_after(&format!("/inventory/{}", s.dye), token, &position(&first))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dye["quantity"], 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn fifty_concurrent_bookings_of_one_slot_let_exactly_one_through(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 100).await;
    let start = start_at(3, 2);
    let attempts = (0..50).map(|n| {
        let body = json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start,
                          "contact": {"name": format!("Guest {n}"), "email": format!("guest{n}@example.com")}});
        let request = app.client.post(app.url("/bookings")).bearer_auth(&s.owner.access_token).json(&body);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 49), "{statuses:?}");
    let reserved: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'SlotReserved'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reserved, 1);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn thirty_concurrent_bookings_against_ten_in_stock_book_exactly_ten(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 10).await;
    let attempts = (0..30).map(|n| {
        // Distinct slots: only the stock is contended.
        let body = json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start_at(2 + n / 5, (n % 5) * 2),
                          "contact": {"name": format!("Guest {n}")}});
        let request = app.client.post(app.url("/bookings")).bearer_auth(&s.owner.access_token).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body["code"].as_str().unwrap_or("").to_string())
        }
    });
    let results = join_all(attempts).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let short = results
        .iter()
        .filter(|(s, c)| *s == StatusCode::CONFLICT && c == "insufficient_stock")
        .count();
    assert_eq!((created, short), (10, 20), "{results:?}");
    let dye: Value = app
        .get_after(
            &format!("/inventory/{}", s.dye),
            Some(&s.owner.access_token),
            &app.head_position().await,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dye["quantity"], 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn retention_a_completed_visit_records_actual_usage_for_the_follow_up(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 5).await;
    let token = Some(s.owner.access_token.as_str());
    let booking: Value = app
        .post(
            "/bookings",
            token,
            &json!({"service_id": s.coloring, "start": start_at(1, 2),
        "contact": {"name": "Rita", "email": "rita@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = booking["id"].as_str().unwrap();
    let early = app
        .post(&format!("/bookings/{id}/complete"), token, &json!({}))
        .await;
    assert_error(
        early,
        StatusCode::UNPROCESSABLE_ENTITY,
        "booking_not_started",
    )
    .await;
    let no_show_early = app
        .post(&format!("/bookings/{id}/no-show"), token, &json!({}))
        .await;
    assert_error(
        no_show_early,
        StatusCode::UNPROCESSABLE_ENTITY,
        "booking_not_started",
    )
    .await;

    // Moved within the day; confirming a confirmed booking is refused.
    let moved = app
        .post(
            &format!("/bookings/{id}/reschedule"),
            token,
            &json!({"start": start_at(1, 5)}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let confirm = app
        .post(&format!("/bookings/{id}/confirm"), token, &json!({}))
        .await;
    assert_error(
        confirm,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_transition",
    )
    .await;

    // Two days later the visit has happened; it used two tubes, not one.
    app.clock.advance(Duration::days(2));
    let done = app
        .post(
            &format!("/bookings/{id}/complete"),
            token,
            &json!({"inventory_used": [{"item_id": s.dye, "quantity": 2}]}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let completed = position(&done);
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "completed");
    let dye: Value = app
        .get_after(&format!("/inventory/{}", s.dye), token, &completed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dye["quantity"], 3, "5 - 2 actually used");
    let history: Value = app
        .get(&format!("/bookings/{id}/history"), token)
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["BookingCreated", "BookingRescheduled", "BookingCompleted"]
    );
    let again = app
        .post(&format!("/bookings/{id}/cancel"), token, &json!({}))
        .await;
    assert_error(
        again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_transition",
    )
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn staff_see_and_touch_only_their_own_bookings_and_other_workspaces_get_404(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 50).await;
    let token = Some(s.owner.access_token.as_str());
    let staff: Value = app.post("/staff", token, &json!({"name": "Sarah", "email": "sarah@example.com", "permissions": {"bookings": true}}))
        .await.json().await.unwrap();
    let sarah_id = staff["id"].as_str().unwrap().to_string();
    let password = service_runtime::secrets::take_invitation_password(
        &app.pool,
        &service_runtime::secrets::SecretBox::from_base64(support::TEST_SECRET_KEY).unwrap(),
        sarah_id.parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let login: Value = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "sarah@example.com", "password": password}),
        )
        .await
        .json()
        .await
        .unwrap();
    let sarah = login["access_token"].as_str().unwrap().to_string();
    // Staff set their own hours.
    app.open_every_day(&sarah, &sarah_id).await;

    let owners: Value = app
        .post(
            "/bookings",
            token,
            &json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start_at(3, 2),
        "contact": {"name": "Ann"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let hers = app
        .post(
            "/bookings",
            Some(&sarah),
            &json!({"service_id": s.coloring, "start": start_at(3, 2), "contact": {"name": "Bea"}}),
        )
        .await;
    assert_eq!(hers.status(), StatusCode::CREATED);
    let hers: Value = hers.json().await.unwrap();
    assert_eq!(hers["staff_id"], sarah_id);
    let for_owner = app.post("/bookings", Some(&sarah), &json!({"service_id": s.coloring, "staff_id": s.owner_id, "start": start_at(4, 2), "contact": {"name": "Cy"}})).await;
    assert_error(for_owner, StatusCode::FORBIDDEN, "forbidden").await;

    let owners_id = owners["id"].as_str().unwrap();
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let before = app.event_count().await;
    // Read after everything so far: a 404 must come from the rules, not from a read model
    // that has not seen the booking yet.
    let seen = app.head_position().await;
    assert_error(
        app.get_after(&format!("/bookings/{owners_id}"), Some(&sarah), &seen)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.post(
            &format!("/bookings/{owners_id}/cancel"),
            Some(&sarah),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_after(
            &format!("/bookings/{}", hers["id"].as_str().unwrap()),
            Some(&sarah),
            &seen,
        )
        .await
        .status(),
        StatusCode::OK
    );

    // Another workspace's owner: every booking route answers 404 and nothing changes.
    let foreign = Some(other.access_token.as_str());
    assert_error(
        app.get_after(&format!("/bookings/{owners_id}"), foreign, &seen)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&format!("/bookings/{owners_id}/history"), foreign)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for action in ["confirm", "cancel", "complete", "no-show"] {
        assert_error(
            app.post(
                &format!("/bookings/{owners_id}/{action}"),
                foreign,
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_error(
        app.post(
            &format!("/bookings/{owners_id}/reschedule"),
            foreign,
            &json!({"start": start_at(5, 1)}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.event_count().await, before, "nothing changed");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn lists_read_your_writes_and_show_each_viewer_their_slice(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 20).await;
    let token = s.owner.access_token.as_str();
    let created = app
        .post(
            "/bookings",
            Some(token),
            &json!({"service_id": s.coloring, "start": start_at(3, 2),
        "contact": {"name": "Lia", "email": "lia@example.com"}}),
        )
        .await;
    let position = created.headers()["x-careops-position"]
        .to_str()
        .unwrap()
        .to_string();
    let booking: Value = created.json().await.unwrap();

    let list = app
        .client
        .get(app.url("/bookings"))
        .bearer_auth(token)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], booking["id"]);
    assert!(list["next_cursor"].is_null());

    let low: Value = app
        .client
        .get(app.url("/inventory"))
        .bearer_auth(token)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(low["items"][0]["quantity"], 19);
    let stats: Value = app
        .client
        .get(app.url("/dashboard/stats"))
        .bearer_auth(token)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["upcoming_24h"], 0);
    let contacts: Value = app
        .client
        .get(app.url("/contacts?q=lia"))
        .bearer_auth(token)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(contacts["items"].as_array().unwrap().len(), 1);

    // Another workspace sees none of it.
    let other = app.onboard("Elsewhere", "other@example.com").await;
    let theirs: Value = app
        .client
        .get(app.url("/bookings"))
        .bearer_auth(&other.access_token)
        .header("x-careops-min-position", &position)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());

    let bad = app
        .client
        .get(app.url("/bookings"))
        .bearer_auth(token)
        .header("x-careops-min-position", "nonsense")
        .send()
        .await
        .unwrap();
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_position").await;
    let far = app
        .client
        .get(app.url("/bookings"))
        .bearer_auth(token)
        .header("x-careops-min-position", "999999999-999999999")
        .send()
        .await
        .unwrap();
    assert_error(far, StatusCode::SERVICE_UNAVAILABLE, "projection_lagging").await;
    let bad_query = app
        .client
        .get(app.url("/bookings?status=maybe"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_error(bad_query, StatusCode::BAD_REQUEST, "invalid_query").await;

    let admin: Value = app
        .get("/admin/projections", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(admin.as_array().unwrap().len() >= 5, "{admin}");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_same_idempotency_key_twice_creates_one_booking(pool: PgPool) {
    let app = spawn(pool).await;
    let s = salon(&app, 20).await;
    let body = json!({"service_id": s.coloring, "start": start_at(3, 2), "contact": {"name": "Ida", "email": "ida@example.com"}});
    let send = |body: Value| {
        app.client
            .post(app.url("/bookings"))
            .bearer_auth(&s.owner.access_token)
            .header("idempotency-key", "booking-ida-1")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_position = first.headers()["x-careops-position"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the first answer, replayed"
    );
    assert_eq!(again.headers()["x-careops-position"], first_position);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let created: i64 =
        sqlx::query_scalar("select count(*) from events where event_type = 'BookingCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(created, 1);

    let mut other = body.clone();
    other["start"] = json!(start_at(4, 2));
    assert_error(
        send(other).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
}
