//! The runner: claims, standby and takeover, unknown events, failing events.

mod support;

use std::time::Duration;

use event_store::{EventStore, ExpectedVersion, FeedPosition, Metadata, NewEvent, StreamWrite};
use projections::RunConfig;
use sqlx::PgPool;
use support::append;
use support::events::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn config() -> RunConfig {
    RunConfig {
        poll_interval: Duration::from_millis(20),
        claim_interval: Duration::from_millis(20),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..RunConfig::default()
    }
}

async fn some_events(store: &EventStore) -> FeedPosition {
    let ws = Uuid::now_v7();
    let owner = Uuid::now_v7();
    let contact = Uuid::now_v7();
    append(
        store,
        ws,
        vec![
            workspace_created(ws, owner, &format!("s-{}", ws.simple()), "Europe/Berlin"),
            owner_registered(ws, owner, "Olivia Owner"),
            contact_created(ws, contact, "Ada", None, None),
            unknown(ws),
        ],
    )
    .await
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_second_runner_stands_by_and_takes_over_when_the_first_stops(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let first_stop = CancellationToken::new();
    let first = tokio::spawn(projections::run(
        store.clone(),
        config(),
        first_stop.clone(),
    ));
    let at = some_events(&store).await;
    assert!(projections::wait_for(&pool, at, Duration::from_secs(10))
        .await
        .unwrap());
    let second_stop = CancellationToken::new();
    let second = tokio::spawn(projections::run(
        store.clone(),
        config(),
        second_stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held: i64 = sqlx::query_scalar("select count(*) from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())")
        .fetch_one(&pool).await.unwrap();
    assert_eq!(held, 9, "one claim per projection, whoever holds it");
    first_stop.cancel();
    first.await.unwrap().unwrap();
    let at = some_events(&store).await;
    assert!(
        projections::wait_for(&pool, at, Duration::from_secs(10))
            .await
            .unwrap(),
        "the standby took over"
    );
    second_stop.cancel();
    second.await.unwrap().unwrap();
    let status = projections::status(&pool).await.unwrap();
    assert!(
        status
            .iter()
            .all(|s| s.lag_events == 0 && s.status == "stopped"),
        "{status:?}"
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_failing_event_stops_its_projection_without_skipping_it(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    some_events(&store).await;
    let broken = store
        .append(
            Uuid::now_v7(),
            &Metadata::default(),
            &[StreamWrite::new(
                "booking",
                "booking-broken",
                ExpectedVersion::Any,
                vec![NewEvent::new(
                    "BookingCreated",
                    1,
                    serde_json::json!({"booking_id": "not a uuid"}),
                )],
            )],
        )
        .await
        .unwrap()
        .last_position;
    let after = some_events(&store).await;
    let stop = CancellationToken::new();
    let runner = tokio::spawn(projections::run(store.clone(), config(), stop.clone()));
    assert!(
        !projections::wait_for(&pool, after, Duration::from_millis(500))
            .await
            .unwrap()
    );
    let status = projections::status(&pool).await.unwrap();
    let bookings = status.iter().find(|s| s.name == "bookings").unwrap();
    assert_eq!(bookings.status, "failing");
    assert!(
        bookings
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("BookingCreated"),
        "{bookings:?}"
    );
    assert!(bookings.lag_events >= 1);
    // It stays reported as failing through its retries (each of which claims it afresh).
    for _ in 0..20 {
        let status = projections::status(&pool).await.unwrap();
        let bookings = status.iter().find(|s| s.name == "bookings").unwrap();
        assert_eq!(bookings.status, "failing", "{bookings:?}");
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let checkpoint = FeedPosition::parse_token(&bookings.position).unwrap();
    assert!(checkpoint < broken, "the broken event was not skipped");
    // Every other projection went on.
    assert!(
        status
            .iter()
            .filter(|s| s.name != "bookings")
            .all(|s| s.lag_events == 0),
        "{status:?}"
    );
    stop.cancel();
    runner.await.unwrap().unwrap();
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn waiting_for_a_position_no_runner_applies_times_out(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let at = some_events(&store).await;
    assert!(
        !projections::wait_for(&pool, at, Duration::from_millis(100))
            .await
            .unwrap()
    );
    support::catch_up(&store).await;
    assert!(projections::wait_for(&pool, at, Duration::from_millis(100))
        .await
        .unwrap());
}
