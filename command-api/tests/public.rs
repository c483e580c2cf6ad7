//! The public booking page API.

mod support;

use chrono::{Duration, DurationRound, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{assert_error, position, spawn, user_id_of};

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
