//! The feed's recent tail, shared by every subscription of one process.
//!
//! In the all-in-one process (and in `projections run`) nine projections and the relay
//! follow the feed at nearly the same position. Each reading it on its own meant ten reads,
//! ten decodings and ten key look-ups per batch for the same events: under load, more
//! database work than the commands that wrote them. Subscriptions read through the tail
//! instead. The first one to reach its end reads the next batch from PostgreSQL (the others
//! wait for that read rather than issue their own), and every subscription at a position
//! the tail holds takes its events from memory.
//!
//! Serving from the tail gives exactly what a read at that position would give: a feed read
//! only returns events that no later commit can precede (see [`EventStore::read_feed`]), so
//! consecutive reads concatenate into the feed itself. A subscription far behind the tail
//! (catching up after a restart) reads PostgreSQL directly and leaves the tail alone.
//!
//! The tail holds events decrypted. Before it serves an event showing someone's personal
//! data, it checks that the subject was not erased since (one primary-key probe per batch,
//! where a read would have looked up the keys anyway); if one was, the tail is dropped and
//! the reader reads PostgreSQL, which shows the subject erased. So a reader gets from the
//! tail exactly what a read of its own would give it, erasures included.

use std::collections::VecDeque;

use tokio::sync::Mutex;

use crate::envelope::{FeedPosition, RecordedEvent};
use crate::error::StoreError;
use crate::feed::FeedBatch;
use crate::store::EventStore;

/// The most events the tail keeps; older ones are dropped first.
const CAPACITY: usize = 8192;

#[derive(Debug, Default)]
pub(crate) struct FeedTail {
    inner: Mutex<Window>,
}

/// A contiguous stretch of the feed: the events right after `base`, in feed order.
#[derive(Debug, Default)]
struct Window {
    base: FeedPosition,
    events: VecDeque<RecordedEvent>,
}

impl Window {
    /// The position after the last event held.
    fn end(&self) -> FeedPosition {
        self.events
            .back()
            .map(RecordedEvent::feed_position)
            .unwrap_or(self.base)
    }

    /// The index of the first event after `after`, when `after` is a boundary this window
    /// holds (its base, or one of its events).
    fn index_after(&self, after: FeedPosition) -> Option<usize> {
        if after == self.base {
            return Some(0);
        }
        self.events
            .binary_search_by(|e| e.feed_position().cmp(&after))
            .ok()
            .map(|i| i + 1)
    }

    fn take(&self, from: usize, limit: usize) -> Vec<RecordedEvent> {
        self.events.range(from..).take(limit).cloned().collect()
    }

    /// Appends the events of a read that started at [`Window::end`].
    fn extend(&mut self, events: &[RecordedEvent]) {
        self.events.extend(events.iter().cloned());
        while self.events.len() > CAPACITY {
            if let Some(dropped) = self.events.pop_front() {
                self.base = dropped.feed_position();
            }
        }
    }

    /// Starts over at `base` with the events of a read from there.
    fn reset(&mut self, base: FeedPosition, events: &[RecordedEvent]) {
        self.base = base;
        self.events.clear();
        self.extend(events);
    }
}

impl EventStore {
    /// [`EventStore::read_feed`] through the shared tail: the same answer, read from
    /// PostgreSQL only by the first subscription to get there.
    pub(crate) async fn read_feed_shared(
        &self,
        after: FeedPosition,
        limit: i64,
    ) -> Result<FeedBatch, StoreError> {
        let limit = limit.max(1);
        let mut window = self.tail().inner.lock().await;
        match window.index_after(after) {
            Some(i) if i < window.events.len() => {
                let events = window.take(i, limit as usize);
                if self.any_erased(&events).await? {
                    let end = window.end();
                    window.reset(end, &[]);
                    drop(window);
                    return self.read_feed(after, limit).await;
                }
                Ok(FeedBatch {
                    events,
                    pending: false,
                })
            }
            Some(_) => {
                // At the end of the tail: read on, for everyone (holding the lock, so the
                // others at this point wait for this read instead of repeating it).
                let batch = self.read_feed(after, limit).await?;
                window.extend(&batch.events);
                Ok(batch)
            }
            None if after > window.end() => {
                // Ahead of the tail (it is stale, or new): the tail starts over here.
                let batch = self.read_feed(after, limit).await?;
                window.reset(after, &batch.events);
                Ok(batch)
            }
            None => {
                // Behind the tail: catching up alone, without holding the others back.
                drop(window);
                self.read_feed(after, limit).await
            }
        }
    }
}

impl EventStore {
    /// Whether a subject whose personal data `events` show in clear has been erased since
    /// they were read.
    async fn any_erased(&self, events: &[RecordedEvent]) -> Result<bool, StoreError> {
        let mut subjects: Vec<uuid::Uuid> = events
            .iter()
            .flat_map(|e| e.personal_subjects.iter().copied())
            .collect();
        if subjects.is_empty() {
            return Ok(false);
        }
        subjects.sort_unstable();
        subjects.dedup();
        let erased: bool = sqlx::query_scalar(
            "select exists (select 1 from personal_data_keys
                            where subject_id = any((select $1::uuid[])::uuid[]) and key is null)",
        )
        .bind(&subjects)
        .fetch_one(self.pool())
        .await?;
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn event(tx: i64, position: i64) -> RecordedEvent {
        RecordedEvent {
            position,
            tx,
            event_id: Uuid::now_v7(),
            workspace_id: Uuid::nil(),
            stream_type: "test".into(),
            stream_id: format!("test-{position}"),
            stream_version: 1,
            event_type: "Tested".into(),
            schema_version: 1,
            data: serde_json::json!({}),
            metadata: Default::default(),
            recorded_at: Utc::now(),
            personal_subjects: Vec::new(),
        }
    }

    #[test]
    fn a_window_serves_only_from_the_boundaries_it_holds() {
        let mut window = Window::default();
        // Feed order is (tx, position): position 5 of tx 10 comes before position 3 of tx 11.
        window.reset(FeedPosition::new(9, 2), &[event(10, 5), event(11, 3)]);
        assert_eq!(window.index_after(FeedPosition::new(9, 2)), Some(0));
        assert_eq!(window.index_after(FeedPosition::new(10, 5)), Some(1));
        assert_eq!(window.index_after(FeedPosition::new(11, 3)), Some(2));
        assert_eq!(window.index_after(FeedPosition::new(10, 4)), None);
        assert_eq!(window.end(), FeedPosition::new(11, 3));
        assert_eq!(
            window
                .take(1, 10)
                .iter()
                .map(|e| e.position)
                .collect::<Vec<_>>(),
            vec![3]
        );
    }

    #[test]
    fn a_full_window_drops_its_oldest_events_and_moves_its_base() {
        let mut window = Window::default();
        let events: Vec<RecordedEvent> = (1..=CAPACITY as i64 + 2).map(|p| event(p, p)).collect();
        window.reset(FeedPosition::START, &events);
        assert_eq!(window.events.len(), CAPACITY);
        assert_eq!(window.base, FeedPosition::new(2, 2));
        assert_eq!(window.index_after(FeedPosition::START), None);
        assert_eq!(window.index_after(FeedPosition::new(2, 2)), Some(0));
    }
}
