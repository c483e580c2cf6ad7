//! Helpers shared by the event store's integration tests.
#![allow(dead_code)]

use event_store::{ExpectedVersion, NewEvent, StreamWrite};
use serde_json::json;
use uuid::Uuid;

pub mod nats_proxy;

/// A booking-sized payload (~350 bytes), as the real event mix carries.
pub fn booking_payload(n: u64) -> serde_json::Value {
    json!({
        "booking_id": Uuid::now_v7(),
        "service_id": Uuid::now_v7(),
        "staff_id": Uuid::now_v7(),
        "contact_id": Uuid::now_v7(),
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T10:30:00Z",
        "price_cents": 8500 + n % 100,
        "currency": "EUR",
        "status": "confirmed",
        "source": "public",
    })
}

pub fn event(n: u64) -> NewEvent {
    NewEvent::new("BookingCreated", 1, booking_payload(n))
}

pub fn write(stream_id: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> StreamWrite {
    StreamWrite::new("booking", stream_id, expected, events)
}

/// The NATS server the tests talk to.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Stream and subject names no other test (or a running instance) uses.
pub fn unique_nats_names(tag: &str) -> (String, String) {
    let id = Uuid::now_v7().simple().to_string();
    (
        format!("TEST_{}_{}", tag.to_uppercase(), id),
        format!("test_{tag}_{id}.events"),
    )
}

/// Reads the feed until no committed event is held back by an open transaction. The safe
/// horizon is server-wide (transaction ids are), so other tests' open transactions, in
/// other databases, can hold a read back for a moment.
pub async fn read_settled(
    store: &event_store::EventStore,
    after: event_store::FeedPosition,
    limit: i64,
) -> event_store::FeedBatch {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let batch = store.read_feed(after, limit).await.expect("feed read");
        if !batch.pending || std::time::Instant::now() > deadline {
            return batch;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
