//! Each read model after a scripted scenario holds exactly the expected rows and numbers.

mod support;

use chrono::{TimeZone, Utc};
use event_store::EventStore;
use projections::query::{self, PageRequest, Scope};
use sqlx::PgPool;
use support::events::*;
use support::{append, catch_up};
use uuid::Uuid;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

struct Salon {
    ws: Uuid,
    owner: Uuid,
    staff: Uuid,
    service: Uuid,
    item: Uuid,
    ada: Uuid,
    bob: Uuid,
}

/// A New York salon around the end of DST (2026-11-01, 02:00 EDT -> 01:00 EST).
async fn scenario(store: &EventStore, base: u128) -> Salon {
    let s = Salon {
        ws: Uuid::now_v7(),
        owner: Uuid::now_v7(),
        staff: Uuid::now_v7(),
        service: Uuid::now_v7(),
        item: Uuid::now_v7(),
        ada: Uuid::now_v7(),
        bob: Uuid::now_v7(),
    };
    let ws = s.ws;
    append(
        store,
        ws,
        vec![
            workspace_created(ws, s.owner, "glow", "America/New_York"),
            owner_registered(ws, s.owner, "Olivia Owner"),
            availability_set(ws, s.owner),
            staff_invited(ws, s.staff, "Sam Staff"),
            availability_set(ws, s.staff),
            exception_set(s.staff, "2026-11-05"),
            item_created(ws, s.item, "Shampoo", 3, 2),
            service_created(ws, s.service, "Cut", 4500, &[(s.item, 1)]),
            contact_created(
                ws,
                s.ada,
                "Ada Lovelace",
                Some("ada@example.org"),
                Some("+15551234567"),
            ),
            contact_created(ws, s.bob, "Bob Builder", Some("bob@example.org"), None),
            workspace_activated(ws),
            unknown(ws),
        ],
    )
    .await;
    let b = |n: u128| Uuid::from_u128(base + n);
    append(
        store,
        ws,
        vec![
            // 23:30 EDT on Oct 31 = 03:30Z Nov 1: local day Oct 31.
            booking_created(
                ws,
                b(1),
                s.service,
                s.owner,
                s.ada,
                utc(2026, 11, 1, 3, 30),
                1000,
                "confirmed",
                None,
            ),
            // 00:30 EDT on Nov 1 = 04:30Z Nov 1: local day Nov 1.
            booking_created(
                ws,
                b(2),
                s.service,
                s.staff,
                s.ada,
                utc(2026, 11, 1, 4, 30),
                2000,
                "confirmed",
                Some("allergic to nuts"),
            ),
            // 23:30 EST on Nov 1 (the DST change day) = 04:30Z Nov 2: local day Nov 1.
            booking_created(
                ws,
                b(3),
                s.service,
                s.owner,
                s.bob,
                utc(2026, 11, 2, 4, 30),
                4000,
                "pending",
                None,
            ),
            // 00:30 EST on Nov 2 = 05:30Z Nov 2: local day Nov 2.
            booking_created(
                ws,
                b(4),
                s.service,
                s.owner,
                s.bob,
                utc(2026, 11, 2, 5, 30),
                8000,
                "confirmed",
                None,
            ),
            // A no-show and a cancelled booking on Nov 1 local.
            booking_created(
                ws,
                b(5),
                s.service,
                s.staff,
                s.bob,
                utc(2026, 11, 1, 15, 0),
                16000,
                "confirmed",
                None,
            ),
            booking_created(
                ws,
                b(6),
                s.service,
                s.owner,
                s.bob,
                utc(2026, 11, 1, 16, 0),
                32000,
                "pending",
                None,
            ),
            stock_deducted(s.item, b(2), 1, 2),
            low_stock_crossed(s.item, 2, 2),
        ],
    )
    .await;
    append(store, ws, vec![booking_simple(b(2), "BookingCompleted")]).await;
    append(store, ws, vec![booking_simple(b(5), "BookingNoShow")]).await;
    append(store, ws, vec![booking_simple(b(6), "BookingCancelled")]).await;
    // Inbox: one conversation answered, one waiting since Oct 30, one assigned to the staff.
    let (c1, c2, c3) = (b(11), b(12), b(13));
    append(
        store,
        ws,
        vec![
            conversation_started(ws, c1, s.ada),
            message(
                c1,
                s.ada,
                true,
                "Hi, can I move my booking?",
                utc(2026, 10, 30, 12, 0),
            ),
            message(c1, s.ada, false, "Done!", utc(2026, 10, 30, 13, 0)),
            conversation_started(ws, c2, s.bob),
            message(
                c2,
                s.bob,
                true,
                "Do you sell gift cards?",
                utc(2026, 10, 30, 9, 0),
            ),
            conversation_started(ws, c3, s.ada),
            message(c3, s.ada, true, "Parking?", utc(2026, 11, 1, 14, 0)),
            conversation_assigned(c3, Some(s.owner)),
        ],
    )
    .await;
    // Forms: one pending, one submitted.
    let t = b(21);
    append(
        store,
        ws,
        vec![
            template_defined(ws, t),
            form_requested(ws, b(22), t, s.ada),
            form_requested(ws, b(23), t, s.bob),
        ],
    )
    .await;
    append(
        store,
        ws,
        vec![form_submitted(b(22), s.ada, utc(2026, 10, 31, 10, 0))],
    )
    .await;
    s
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_read_models_hold_exactly_what_the_scenario_did(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let s = scenario(&store, 0).await;
    catch_up(&store).await;
    let owner = Scope::owner(s.ws);
    // Noon on the DST change day, New York.
    let now = utc(2026, 11, 1, 17, 0);

    let stats = query::dashboard::stats(&pool, &owner, now).await.unwrap();
    assert_eq!(
        stats.bookings_today, 3,
        "b2, b3 (23:30 on the change day), b5; not b1 (Oct 31) nor the cancelled b6"
    );
    assert_eq!(stats.revenue_today_cents, 2000);
    assert_eq!(stats.no_shows_30d, 1);
    assert_eq!(
        stats.upcoming_24h, 2,
        "b3 and b4 start within 24 h and are open"
    );
    assert_eq!(stats.unanswered_messages, 2);
    assert_eq!(stats.low_stock_items, 1);
    assert_eq!(stats.pending_forms, 1);
    // The next local day counts b4 only.
    let next = query::dashboard::stats(&pool, &owner, utc(2026, 11, 2, 17, 0))
        .await
        .unwrap();
    assert_eq!(next.bookings_today, 1);

    // Bookings by local day and by staff.
    let filter = query::bookings::BookingFilter {
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        ..Default::default()
    };
    let day = query::bookings::list(&pool, &owner, &filter).await.unwrap();
    let ids: Vec<u128> = day.items.iter().map(|b| b.id.as_u128()).collect();
    assert_eq!(ids, vec![2, 5, 6, 3]);
    let staff_scope = Scope::staff(s.ws, s.staff, domain::values::Permissions::all());
    let mine = query::bookings::list(&pool, &staff_scope, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|b| b.id.as_u128())
            .collect::<Vec<_>>(),
        vec![2, 5]
    );
    assert!(
        query::bookings::get(&pool, &staff_scope, Uuid::from_u128(1))
            .await
            .unwrap()
            .is_none()
    );
    let b2 = query::bookings::get(&pool, &owner, Uuid::from_u128(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b2.status, "completed");
    assert_eq!(b2.notes.as_deref(), Some("allergic to nuts"));
    assert_eq!(b2.price_cents, 2000);
    assert_eq!(b2.currency, "EUR");
    let json = serde_json::to_value(&b2).unwrap();
    assert_eq!(json["start"], "2026-11-01T04:30:00Z");
    assert_eq!(json["end"], "2026-11-01T05:30:00Z");

    // Pagination with cursors.
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: Some(4),
        cursor: None,
    };
    loop {
        let got = query::bookings::list(
            &pool,
            &owner,
            &query::bookings::BookingFilter {
                page: page.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(got.items.iter().map(|b| b.id.as_u128()));
        match got.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![1, 2, 3, 4, 5, 6]
            .into_iter()
            .map(|n| [1u128, 2, 5, 6, 3, 4][n - 1])
            .collect::<Vec<_>>()
    );

    // Services, staff, availability, inventory.
    let services = query::services::list(&pool, &owner, &Default::default())
        .await
        .unwrap();
    assert_eq!(services.items.len(), 1);
    assert_eq!(services.items[0].inventory.len(), 1);
    let staff = query::staff::list(&pool, &owner, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        staff
            .items
            .iter()
            .map(|s| s.role.as_str())
            .collect::<Vec<_>>(),
        vec!["owner", "staff"]
    );
    let availability = query::staff::availability(&pool, &owner, s.staff)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&availability).unwrap(),
        serde_json::json!({
            "staff_id": s.staff,
            "weekly": [{"weekday": 1, "start": "09:00", "end": "17:00"}, {"weekday": 2, "start": "09:00", "end": "12:00"}],
            "exceptions": [{"date": "2026-11-05", "start": "10:00", "end": "14:00"}, {"date": "2026-12-24", "closed": true}]
        })
    );
    let items = query::inventory::low_stock(&pool, &owner, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(items.items.len(), 1);
    let item = serde_json::to_value(&items.items[0]).unwrap();
    assert_eq!(
        (
            item["quantity"].as_i64(),
            item["threshold"].as_i64(),
            item["low_stock"].as_bool()
        ),
        (Some(2), Some(2), Some(true))
    );

    // Contacts and search.
    let found = query::contacts::list(
        &pool,
        &owner,
        &query::contacts::ContactFilter {
            q: Some("LOVE".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![s.ada]
    );
    let by_phone = query::contacts::list(
        &pool,
        &owner,
        &query::contacts::ContactFilter {
            q: Some("555123".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_phone.items.len(), 1);
    let history = query::contacts::history(&pool, &owner, s.ada)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            history.bookings.len(),
            history.messages.len(),
            history.forms.len()
        ),
        (2, 3, 1)
    );

    // Inbox: staff see unassigned and their own; unanswered filter.
    let unanswered = query::inbox::list(
        &pool,
        &owner,
        &query::inbox::ConversationFilter {
            unanswered: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        unanswered
            .items
            .iter()
            .map(|c| c.id.as_u128())
            .collect::<Vec<_>>(),
        vec![12, 13]
    );
    let staff_inbox = query::inbox::list(&pool, &staff_scope, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        staff_inbox
            .items
            .iter()
            .map(|c| c.id.as_u128())
            .collect::<Vec<_>>(),
        vec![11, 12]
    );
    let messages =
        query::inbox::messages(&pool, &owner, Uuid::from_u128(11), &PageRequest::default())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        messages
            .items
            .iter()
            .map(|m| m.direction.as_str())
            .collect::<Vec<_>>(),
        vec!["inbound", "outbound"]
    );
    assert!(query::inbox::messages(
        &pool,
        &staff_scope,
        Uuid::from_u128(13),
        &PageRequest::default()
    )
    .await
    .unwrap()
    .is_none());

    // Forms.
    let pending = query::forms::list_submissions(
        &pool,
        &owner,
        &query::forms::SubmissionFilter {
            status: Some(query::forms::SubmissionStatus::Pending),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        pending
            .items
            .iter()
            .map(|r| r.id.as_u128())
            .collect::<Vec<_>>(),
        vec![23]
    );
    let submitted = query::forms::list_submissions(
        &pool,
        &owner,
        &query::forms::SubmissionFilter {
            status: Some(query::forms::SubmissionStatus::Submitted),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        submitted.items[0].answers,
        Some(serde_json::json!({"allergies": "none", "consent": true}))
    );

    // Alerts: low stock, c2 waiting since Oct 30 09:00 (> 24 h), form 23 pending < 48 h.
    let alerts = query::alerts::open(&pool, &owner, now, &PageRequest::default())
        .await
        .unwrap();
    let mut kinds: Vec<&str> = alerts.items.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["low_stock", "unanswered_message"]);
    let later = query::alerts::open(
        &pool,
        &owner,
        Utc::now() + chrono::Duration::days(3),
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        later.items.len(),
        4,
        "c3 unanswered and form 23 overdue too: {later:#?}"
    );

    // Workspace and public page.
    let workspace = query::workspace::get(&pool, &owner).await.unwrap().unwrap();
    assert!(workspace.is_active);
    assert_eq!(workspace.timezone, "America/New_York");
    let public = query::public::by_slug(&pool, "glow")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((public.services.len(), public.staff.len()), (1, 2));
    assert!(query::public::by_slug(&pool, "nope")
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn erasing_a_contact_removes_their_personal_data_everywhere(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let s = scenario(&store, 0).await;
    append(&store, s.ws, vec![contact_erased(s.ada)]).await;
    catch_up(&store).await;
    let owner = Scope::owner(s.ws);
    let ada = query::contacts::get(&pool, &owner, s.ada)
        .await
        .unwrap()
        .unwrap();
    assert!(ada.erased);
    assert_eq!((ada.name, ada.email, ada.phone), (None, None, None));
    let history = query::contacts::history(&pool, &owner, s.ada)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            history.bookings.len(),
            history.messages.len(),
            history.forms.len()
        ),
        (2, 3, 1),
        "anonymous totals stay"
    );
    assert!(history.bookings.iter().all(|b| b.notes.is_none()));
    assert!(history.messages.iter().all(|m| m.body.is_none()));
    assert!(history.forms.iter().all(|f| f.answers.is_none()));
    // Nothing of Ada's is left in any table, as text.
    let dump = support::dump(&pool).await;
    for (table, rows) in dump {
        for row in rows {
            for secret in [
                "Ada Lovelace",
                "ada@example.org",
                "+15551234567",
                "allergic",
                "move my booking",
                "Parking",
                "\"none\"",
            ] {
                assert!(!row.contains(secret), "{table} still holds {secret}: {row}");
            }
        }
    }
    // Bob's data is untouched.
    let bob = query::contacts::get(&pool, &owner, s.bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.name.as_deref(), Some("Bob Builder"));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_query_without_its_workspace_filter_sees_only_its_own_workspace(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let a = scenario(&store, 0).await;
    let b = scenario(&store, 1 << 64).await;
    catch_up(&store).await;
    for (schema, table) in [
        ("rm_bookings", "bookings"),
        ("rm_contacts", "contacts"),
        ("rm_inbox", "messages"),
        ("rm_workspaces", "workspaces"),
    ] {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("select set_config('careops.workspace_id', $1, true), set_config('role', 'careops_reader', true)")
            .bind(a.ws.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let seen: Vec<Uuid> = sqlx::query_scalar(&format!(
            "select distinct workspace_id from {schema}.{table}"
        ))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        assert_eq!(seen, vec![a.ws], "{schema}.{table}");
        // The reader cannot write.
        let write = sqlx::query(&format!("delete from {schema}.{table}"))
            .execute(&mut *tx)
            .await;
        assert!(
            write.is_err(),
            "{schema}.{table} accepted a write from the reader"
        );
        tx.rollback().await.unwrap();
    }
    // Without a workspace setting, the reader sees nothing at all.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local role careops_reader")
        .execute(&mut *tx)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from rm_bookings.bookings")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(count, 0);
    tx.rollback().await.unwrap();
    // And the connection itself (the projection writer) sees both.
    let all: i64 =
        sqlx::query_scalar("select count(distinct workspace_id) from rm_bookings.bookings")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(all, 2);
    // Another workspace's booking is not found through the query API either.
    assert!(
        query::bookings::get(&pool, &Scope::owner(b.ws), Uuid::from_u128(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        query::bookings::get(&pool, &Scope::owner(a.ws), Uuid::from_u128(1))
            .await
            .unwrap()
            .is_some()
    );
}
