//! The ordered global feed: every committed event exactly once, never an uncommitted one.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use event_store::{
    EventStore, ExpectedVersion, FeedFilter, FeedPosition, Metadata, NewEvent, StreamWrite,
};
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use support::{event, write};
use tokio::sync::Mutex;
use uuid::Uuid;

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_feed_holds_back_events_behind_an_open_transaction(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let meta = Metadata::default();

    // An older transaction appends but has not committed yet…
    let mut slow = pool.begin().await.unwrap();
    store
        .append_in(
            &mut slow,
            ws,
            &meta,
            &[write("slow", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();
    // …while a younger one commits.
    store
        .append(
            ws,
            &meta,
            &[write("fast", ExpectedVersion::NoStream, vec![event(2)])],
        )
        .await
        .unwrap();

    let batch = store.read_feed(FeedPosition::START, 100).await.unwrap();
    assert!(
        batch.events.is_empty(),
        "nothing may be delivered past the open transaction"
    );
    assert!(batch.pending, "the committed event is announced as pending");

    slow.commit().await.unwrap();
    let batch = support::read_settled(&store, FeedPosition::START, 100).await;
    let streams: Vec<&str> = batch.events.iter().map(|e| e.stream_id.as_str()).collect();
    assert_eq!(
        streams,
        vec!["slow", "fast"],
        "feed order is commit-safe (tx, position) order"
    );
    assert!(!batch.pending);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_filtered_feed_read_returns_only_matching_events_and_holds_back_behind_an_open_one(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let meta = Metadata::default();
    let filter = FeedFilter {
        stream_types: vec!["booking".into()],
        event_types: vec!["ContactErased".into()],
    };
    let of = |stream_type: &str, id: &str, event_type: &str| {
        StreamWrite::new(
            stream_type,
            id,
            ExpectedVersion::Any,
            vec![NewEvent::new(event_type, 1, serde_json::json!({}))],
        )
    };
    for (stream_type, id, event_type) in [
        ("booking", "b1", "BookingCreated"),
        ("contact", "c1", "ContactCreated"),
        ("contact", "c1", "ContactErased"),
        ("inventory", "i1", "StockReceived"),
        ("booking", "b1", "BookingConfirmed"),
    ] {
        store
            .append(ws, &meta, &[of(stream_type, id, event_type)])
            .await
            .unwrap();
    }
    // Other tests' transactions on the server hold the feed back for a moment too.
    let settled = |after: FeedPosition, limit: i64| {
        let (store, filter) = (&store, &filter);
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let batch = store
                    .read_feed_matching(after, limit, filter)
                    .await
                    .unwrap();
                if !batch.pending || std::time::Instant::now() > deadline {
                    return batch;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let batch = settled(FeedPosition::START, 100).await;
    let read: Vec<&str> = batch.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        read,
        ["BookingCreated", "ContactErased", "BookingConfirmed"]
    );
    assert!(!batch.pending);
    // A limit cuts in feed order, and reading on from the last returned event continues.
    let first = settled(FeedPosition::START, 2).await;
    let rest = settled(first.events[1].feed_position(), 2).await;
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.events[0].event_type, "BookingConfirmed");

    // An open older transaction with a matching event holds back the younger ones…
    let after = batch.events[2].feed_position();
    let mut slow = pool.begin().await.unwrap();
    store
        .append_in(
            &mut slow,
            ws,
            &meta,
            &[of("booking", "b2", "BookingCreated")],
        )
        .await
        .unwrap();
    store
        .append(ws, &meta, &[of("booking", "b3", "BookingCreated")])
        .await
        .unwrap();
    let held = store.read_feed_matching(after, 100, &filter).await.unwrap();
    assert!(held.events.is_empty() && held.pending);
    slow.commit().await.unwrap();
    let after_commit = settled(after, 100).await;
    let streams: Vec<&str> = after_commit
        .events
        .iter()
        .map(|e| e.stream_id.as_str())
        .collect();
    assert_eq!(streams, ["b2", "b3"], "nothing skipped, commit-safe order");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_rolled_back_append_never_appears_in_the_feed(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    store
        .append_in(
            &mut tx,
            ws,
            &Metadata::default(),
            &[write("gone", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    store
        .append(
            ws,
            &Metadata::default(),
            &[write("kept", ExpectedVersion::NoStream, vec![event(2)])],
        )
        .await
        .unwrap();
    let batch = support::read_settled(&store, FeedPosition::START, 100).await;
    assert_eq!(
        batch
            .events
            .iter()
            .map(|e| e.stream_id.as_str())
            .collect::<Vec<_>>(),
        vec!["kept"]
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_subscription_in_another_process_is_woken_by_appends(pool: PgPool) {
    // Two store handles with their own pools behave like two processes.
    let writer = EventStore::new(pool.clone());
    let reader = EventStore::new(
        sqlx::postgres::PgPoolOptions::new()
            .connect_with(pool.connect_options().as_ref().clone())
            .await
            .unwrap(),
    );
    // Polling alone would take a minute: only the LISTEN/NOTIFY wake-up can make it in time.
    let mut subscription = reader
        .subscribe(FeedPosition::START, 100)
        .with_poll_interval(Duration::from_secs(60));
    let waiting = tokio::spawn(async move { subscription.next_batch().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    writer
        .append(
            Uuid::now_v7(),
            &Metadata::default(),
            &[write("s", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken")
        .unwrap()
        .unwrap();
    assert_eq!(batch.len(), 1);
}

/// 8 writers append 20,000 events in transactions with random pauses, some rolled back on
/// purpose, while three readers of one store tail the feed: two from the start with
/// different batch sizes, sharing the store's tail, and one that starts late and catches
/// up from behind it. Each gets every committed event once, in order.
#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn tailing_readers_see_every_committed_event_once_in_stream_order(pool: PgPool) {
    const WRITERS: u64 = 8;
    const EVENTS_PER_WRITER: usize = 2_500;
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let committed: Arc<Mutex<HashSet<Uuid>>> = Arc::default();
    let rolled_back: Arc<Mutex<HashSet<Uuid>>> = Arc::default();

    let writers_done = committed_count_signal();
    let readers: Vec<_> = [(500, 0), (37, 0), (1000, 1500)]
        .into_iter()
        .map(|(batch, delay_ms)| {
            tokio::spawn(tail_feed(
                store.clone(),
                batch,
                Duration::from_millis(delay_ms),
                writers_done.clone(),
            ))
        })
        .collect();

    let writers = (0..WRITERS).map(|w| {
        let store = store.clone();
        let pool = pool.clone();
        let committed = committed.clone();
        let rolled_back = rolled_back.clone();
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(w);
            let mut versions: HashMap<String, u64> = HashMap::new();
            let mut written = 0;
            while written < EVENTS_PER_WRITER {
                let stream = format!("s-{w}-{}", rng.gen_range(0..25));
                let expected = match versions.get(&stream) {
                    Some(&v) => ExpectedVersion::Exact(v),
                    None => ExpectedVersion::NoStream,
                };
                let count = rng.gen_range(1..=3usize).min(EVENTS_PER_WRITER - written);
                let events: Vec<_> = (0..count).map(|n| event(n as u64)).collect();
                let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
                let mut tx = pool.begin().await.unwrap();
                store
                    .append_in(
                        &mut tx,
                        ws,
                        &Metadata::default(),
                        &[write(&stream, expected, events)],
                    )
                    .await
                    .unwrap();
                if rng.gen_bool(0.3) {
                    tokio::time::sleep(Duration::from_micros(rng.gen_range(0..3_000))).await;
                }
                if rng.gen_bool(0.1) {
                    tx.rollback().await.unwrap();
                    rolled_back.lock().await.extend(ids);
                } else {
                    tx.commit().await.unwrap();
                    store.appended();
                    *versions.entry(stream).or_default() += count as u64;
                    committed.lock().await.extend(ids);
                    written += count;
                }
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }
    let committed_count = committed.lock().await.len();
    writers_done.store(committed_count, std::sync::atomic::Ordering::SeqCst);
    let committed = committed.lock().await;
    let rolled_back = rolled_back.lock().await;
    assert_eq!(committed.len(), WRITERS as usize * EVENTS_PER_WRITER);
    assert!(
        !rolled_back.is_empty(),
        "the test rolls some transactions back"
    );
    for reader in readers {
        let seen = reader.await.unwrap();
        let seen_ids: Vec<Uuid> = seen.iter().map(|e| e.event_id).collect();
        let unique: HashSet<Uuid> = seen_ids.iter().copied().collect();
        assert_eq!(unique.len(), seen_ids.len(), "no event delivered twice");
        assert_eq!(
            &unique, &*committed,
            "every committed event delivered, nothing else"
        );
        assert!(unique.is_disjoint(&rolled_back));
        let mut last_version: HashMap<&str, u64> = HashMap::new();
        for e in &seen {
            let last = last_version.entry(e.stream_id.as_str()).or_default();
            assert_eq!(
                e.stream_version,
                *last + 1,
                "stream {} out of order",
                e.stream_id
            );
            *last = e.stream_version;
        }
        assert!(
            seen.windows(2)
                .all(|w| w[0].feed_position() < w[1].feed_position()),
            "feed order"
        );
    }
}

/// Follows the feed from the start (after `delay`) until every committed event has arrived
/// (the writers say how many once done), then a little longer to catch any duplicate; other
/// tests' open transactions on the same server can hold the feed back for a while, so the
/// patience is generous.
async fn tail_feed(
    store: EventStore,
    batch_size: i64,
    delay: Duration,
    done: Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<event_store::RecordedEvent> {
    tokio::time::sleep(delay).await;
    let mut subscription = store
        .subscribe(FeedPosition::START, batch_size)
        .with_poll_interval(Duration::from_millis(50));
    let mut seen: Vec<event_store::RecordedEvent> = Vec::new();
    let mut idle_since_done = 0;
    loop {
        match tokio::time::timeout(Duration::from_millis(200), subscription.next_batch()).await {
            Ok(batch) => seen.extend(batch.unwrap()),
            Err(_) => {
                let expected = done.load(std::sync::atomic::Ordering::SeqCst);
                if expected > 0 {
                    idle_since_done += 1;
                    if (seen.len() >= expected && idle_since_done > 3) || idle_since_done > 300 {
                        return seen;
                    }
                }
            }
        }
    }
}

/// The number of committed events, published to the reader once the writers are done.
fn committed_count_signal() -> Arc<std::sync::atomic::AtomicUsize> {
    Arc::new(std::sync::atomic::AtomicUsize::new(0))
}
