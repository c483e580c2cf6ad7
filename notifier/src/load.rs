//! Loading aggregates from the event store for a message's content and for the decisions
//! the dispatcher records (`ReminderSent`, `LowStockAlerted`, …).
//!
//! Content is built from the streams themselves (folded with the domain's `evolve`), not
//! from read models, which may lag behind the event that asked for the message. Erased
//! personal data comes back as `Personal::Erased` and is never sent.

use std::collections::HashMap;

use domain::{Aggregate, DomainEvent};
use event_store::{EventStore, RecordedEvent, StoreError};

/// A stored event that does not decode as its aggregate's event.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {event_type} at {position} of {stream_id} does not decode: {source}")]
    Decode {
        stream_id: String,
        position: i64,
        event_type: String,
        source: serde_json::Error,
    },
}

/// Several streams read in one round trip.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    streams: HashMap<String, Vec<RecordedEvent>>,
}

impl Loaded {
    /// Reads the streams (absent ones are empty).
    pub async fn read(store: &EventStore, stream_ids: &[String]) -> Result<Self, LoadError> {
        let mut ids: Vec<String> = stream_ids.to_vec();
        ids.sort();
        ids.dedup();
        Ok(Self {
            streams: store.read_streams(&ids).await?,
        })
    }

    /// Whether every one of these streams was read (absent streams count: they were asked).
    pub fn covers(&self, stream_ids: &[String]) -> bool {
        stream_ids.iter().all(|id| self.streams.contains_key(id))
    }

    /// Adds another read's streams.
    pub fn extend(&mut self, other: Loaded) {
        self.streams.extend(other.streams);
    }

    /// Reads `stream_ids`, or borrows them from `preloaded` when it has them all.
    pub async fn read_or_borrow<'a>(
        store: &EventStore,
        preloaded: &'a Loaded,
        stream_ids: &[String],
    ) -> Result<std::borrow::Cow<'a, Loaded>, LoadError> {
        if preloaded.covers(stream_ids) {
            Ok(std::borrow::Cow::Borrowed(preloaded))
        } else {
            Ok(std::borrow::Cow::Owned(
                Self::read(store, stream_ids).await?,
            ))
        }
    }

    /// The events of one stream (empty when absent or not read).
    pub fn events(&self, stream_id: &str) -> &[RecordedEvent] {
        self.streams
            .get(stream_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The stream's version (0 when it does not exist).
    pub fn version(&self, stream_id: &str) -> u64 {
        self.events(stream_id)
            .last()
            .map(|e| e.stream_version)
            .unwrap_or(0)
    }

    /// The aggregate's state folded from the stream.
    pub fn state<A: Aggregate>(&self, stream_id: &str) -> Result<A::State, LoadError> {
        fold::<A>(self.events(stream_id))
    }
}

/// Decodes one stored event as `A`'s event.
pub fn decode<A: Aggregate>(event: &RecordedEvent) -> Result<A::Event, LoadError> {
    <A::Event as DomainEvent>::from_payload(&event.event_type, event.data.clone()).map_err(
        |source| LoadError::Decode {
            stream_id: event.stream_id.clone(),
            position: event.position,
            event_type: event.event_type.clone(),
            source,
        },
    )
}

/// Folds stored events into `A`'s state.
pub fn fold<A: Aggregate>(events: &[RecordedEvent]) -> Result<A::State, LoadError> {
    let mut state = A::State::default();
    for event in events {
        state = A::evolve(state, &decode::<A>(event)?);
    }
    Ok(state)
}

/// Reads and folds one stream, with its version.
pub async fn load<A: Aggregate>(
    store: &EventStore,
    stream_id: &str,
) -> Result<(A::State, u64), LoadError> {
    let events = store.read_stream(stream_id, 0).await?;
    let version = events.last().map(|e| e.stream_version).unwrap_or(0);
    Ok((fold::<A>(&events)?, version))
}
