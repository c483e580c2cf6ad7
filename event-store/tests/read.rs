//! Reading streams, the audit trail, and upcasting on read.

mod support;

use chrono::{Duration, Utc};
use event_store::{
    AuditFilter, EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite, Upcasters,
};
use serde_json::json;
use sqlx::PgPool;
use support::{event, write};
use uuid::Uuid;

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_stream_reads_forward_from_a_version(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let events: Vec<NewEvent> = (0..5).map(event).collect();
    store
        .append(
            ws,
            &Metadata::default(),
            &[write("s", ExpectedVersion::NoStream, events.clone())],
        )
        .await
        .unwrap();

    let tail = store.read_stream("s", 2).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert_eq!(
        tail.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        events[2..].iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    assert!(store.read_stream("missing", 0).await.unwrap().is_empty());

    let many = store
        .read_streams(&["s".into(), "missing".into()])
        .await
        .unwrap();
    assert_eq!(many["s"].len(), 5);
    assert!(many["missing"].is_empty());
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_event_stored_with_an_old_schema_version_is_read_back_upcast(pool: PgPool) {
    let ws = Uuid::now_v7();
    // Written by an older release: version 1 had `price` in whole units and no currency.
    EventStore::new(pool.clone())
        .append(
            ws,
            &Metadata::default(),
            &[StreamWrite::new(
                "service",
                "service-1",
                ExpectedVersion::NoStream,
                vec![NewEvent::new(
                    "ServiceCreated",
                    1,
                    json!({"name": "Cut", "price": 45}),
                )],
            )],
        )
        .await
        .unwrap();

    let upcasters = Upcasters::new()
        .register("ServiceCreated", 1, |mut data| {
            let price = data["price"].as_i64().unwrap_or(0);
            data["price_cents"] = json!(price * 100);
            data.as_object_mut().map(|o| o.remove("price"));
            data
        })
        .register("ServiceCreated", 2, |mut data| {
            data["currency"] = json!("EUR");
            data
        });
    let store = EventStore::with_upcasters(pool, upcasters);

    let read = store.read_stream("service-1", 0).await.unwrap();
    assert_eq!(read[0].schema_version, 3);
    assert_eq!(
        read[0].data,
        json!({"name": "Cut", "price_cents": 4500, "currency": "EUR"})
    );
    // Every read path upcasts, and the stored row is unchanged.
    let feed = support::read_settled(&store, event_store::FeedPosition::START, 10).await;
    assert_eq!(feed.events[0].data, read[0].data);
    let stored: i32 = sqlx::query_scalar("select schema_version from events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_audit_trail_lists_one_workspace_newest_first_with_filters_and_cursor(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let other_ws = Uuid::now_v7();
    let owner = Uuid::now_v7();
    let staff = Uuid::now_v7();
    let as_owner = Metadata {
        actor_id: Some(owner),
        ..Default::default()
    };
    let as_staff = Metadata {
        actor_id: Some(staff),
        ..Default::default()
    };
    for n in 0..6 {
        let meta = if n % 2 == 0 { &as_owner } else { &as_staff };
        let stream = format!("booking-{}", n % 3);
        store
            .append(
                ws,
                meta,
                &[write(&stream, ExpectedVersion::Any, vec![event(n)])],
            )
            .await
            .unwrap();
    }
    store
        .append(
            ws,
            &as_owner,
            &[StreamWrite::new(
                "inventory",
                "inventory-1",
                ExpectedVersion::Any,
                vec![NewEvent::new("StockReceived", 1, json!({"quantity": 5}))],
            )],
        )
        .await
        .unwrap();
    store
        .append(
            other_ws,
            &as_owner,
            &[write("booking-x", ExpectedVersion::Any, vec![event(99)])],
        )
        .await
        .unwrap();

    let all = store
        .audit(
            ws,
            &AuditFilter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.events.len(), 7);
    assert!(
        all.events.windows(2).all(|w| w[0].position > w[1].position),
        "newest first"
    );
    assert!(
        all.events.iter().all(|e| e.workspace_id == ws),
        "only this workspace"
    );
    assert_eq!(all.next_cursor, None);

    let by_stream = store
        .audit(
            ws,
            &AuditFilter {
                stream_id: Some("booking-1".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_stream.events.len(), 2);
    let by_type = store
        .audit(
            ws,
            &AuditFilter {
                event_type: Some("StockReceived".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_type.events.len(), 1);
    let by_actor = store
        .audit(
            ws,
            &AuditFilter {
                actor_id: Some(staff),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_actor.events.len(), 3);
    let future = store
        .audit(
            ws,
            &AuditFilter {
                from: Some(Utc::now() + Duration::hours(1)),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(future.events.is_empty());
    let past = store
        .audit(
            ws,
            &AuditFilter {
                to: Some(Utc::now() + Duration::hours(1)),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(past.events.len(), 7);

    // Paging three at a time walks every event once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .audit(
                ws,
                &AuditFilter {
                    before_position: cursor,
                    limit: 3,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.events.iter().map(|e| e.position));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen,
        all.events.iter().map(|e| e.position).collect::<Vec<_>>()
    );
}
