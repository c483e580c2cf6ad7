//! Following the ordered feed: a reader that waits for new events.

use std::time::Duration;

use tokio::sync::watch;

use crate::envelope::{FeedPosition, RecordedEvent};
use crate::error::StoreError;
use crate::store::EventStore;

/// Delivers the feed in batches from a starting position, waiting when it is caught up.
///
/// The subscription only remembers where it is in memory: the caller stores the position
/// of each batch it has handled (with [`crate::checkpoint::save`], inside its own
/// transaction) and starts the next subscription from there.
pub struct Subscription {
    store: EventStore,
    position: FeedPosition,
    batch_size: i64,
    poll_interval: Duration,
    wake: watch::Receiver<u64>,
}

/// The first wait when events are committed but held back by an older open transaction.
const PENDING_BACKOFF_START: Duration = Duration::from_millis(1);
const PENDING_BACKOFF_MAX: Duration = Duration::from_millis(50);

impl EventStore {
    /// Follows the feed after `from`, `batch_size` events at most per batch.
    pub fn subscribe(&self, from: FeedPosition, batch_size: i64) -> Subscription {
        Subscription {
            store: self.clone(),
            position: from,
            batch_size: batch_size.max(1),
            poll_interval: Duration::from_millis(500),
            wake: self.wakeup().subscribe(),
        }
    }
}

impl Subscription {
    /// How long to wait between reads when no wake-up arrives (a lost notification, or an
    /// append by an old process that does not notify).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The position after the last delivered event.
    pub fn position(&self) -> FeedPosition {
        self.position
    }

    /// Goes back (or forward) to `position`, e.g. to the last saved checkpoint after the
    /// caller failed to handle a batch.
    pub fn seek(&mut self, position: FeedPosition) {
        self.position = position;
    }

    /// Waits for and returns the next non-empty batch, and moves past it.
    ///
    /// Cancel-safe: if the future is dropped, the position is unchanged.
    pub async fn next_batch(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut backoff = PENDING_BACKOFF_START;
        loop {
            // Mark wake-ups seen before reading: one arriving during the read triggers
            // another read instead of being lost.
            self.wake.borrow_and_update();
            let batch = self
                .store
                .read_feed_shared(self.position, self.batch_size)
                .await?;
            if let Some(last) = batch.events.last() {
                self.position = last.feed_position();
                return Ok(batch.events);
            }
            let wait = if batch.pending {
                let wait = backoff;
                backoff = (backoff * 2).min(PENDING_BACKOFF_MAX);
                wait
            } else {
                backoff = PENDING_BACKOFF_START;
                self.poll_interval
            };
            tokio::select! {
                changed = self.wake.changed() => {
                    if changed.is_err() {
                        // The store is gone; keep polling on the interval.
                        tokio::time::sleep(wait).await;
                    }
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
