//! The ordered global feed: every committed event, each exactly once, in `(tx, position)`
//! order.
//!
//! Identity values are taken at insert time but become visible at commit time, so position
//! 41 can appear after position 42 has been read. Ordering by the writing transaction's id
//! first and reading only transactions older than every transaction still running
//! (`tx < pg_snapshot_xmin(pg_current_snapshot())`) gives a prefix of the log that can no
//! longer change: a checkpoint `(tx, position)` taken from it never skips an event.

use futures::TryStreamExt;
use sqlx::types::Json;
use sqlx::{FromRow, Row};

use crate::envelope::{FeedPosition, Metadata, RecordedEvent};
use crate::error::StoreError;
use crate::store::EventStore;

/// One read of the feed.
#[derive(Debug, Clone, Default)]
pub struct FeedBatch {
    /// Events after the requested position, in feed order.
    pub events: Vec<RecordedEvent>,
    /// Committed events exist beyond `events` that cannot be delivered yet because an older
    /// transaction is still open; read again shortly.
    pub pending: bool,
}

/// Which events [`EventStore::read_feed_matching`] returns: those of any of the stream types,
/// and those of any of the event types (whatever their stream).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    pub stream_types: Vec<String>,
    pub event_types: Vec<String>,
}

/// The feed read after `($1, $2)`, at most `$3` events, narrowed by `condition` (SQL that
/// starts with `and`, or nothing).
///
/// `order by` names the table's columns: a bare `tx` would be the output column
/// `(tx::text)::bigint as tx`, which sorts the same but cannot use the `(tx, position)`
/// index, so every batch became a scan and sort of the whole table. The snapshot's xmin is
/// taken once per statement (an init plan), not once per row.
fn feed_sql(condition: &str) -> String {
    format!(
        "select {EVENT_COLUMNS}, tx < (select pg_snapshot_xmin(pg_current_snapshot())) as safe
         from events
         where (tx, position) > (($1::bigint)::text::xid8, $2) {condition}
         order by events.tx, events.position
         limit $3"
    )
}

/// The index of the feed's `safe` column, right after [`EVENT_COLUMNS`].
const SAFE_COLUMN: usize = 12;

/// The most events a feed read allocates room for up front.
const FEED_PREALLOCATE: i64 = 10_000;

/// The columns of an event row, as every read selects them.
pub(crate) const EVENT_COLUMNS: &str = "position, (tx::text)::bigint as tx, event_id, workspace_id, \
     stream_type, stream_id, stream_version, event_type, schema_version, data, metadata, recorded_at";

/// [`EVENT_COLUMNS`] without the metadata (read as empty): what deciding a command needs.
pub(crate) const DECISION_COLUMNS: &str =
    "position, (tx::text)::bigint as tx, event_id, workspace_id, \
     stream_type, stream_id, stream_version, event_type, schema_version, data, \
     '{}'::jsonb as metadata, recorded_at";

#[derive(FromRow)]
pub(crate) struct EventRow {
    position: i64,
    tx: i64,
    event_id: uuid::Uuid,
    workspace_id: uuid::Uuid,
    stream_type: String,
    stream_id: String,
    stream_version: i64,
    event_type: String,
    schema_version: i32,
    data: Json<serde_json::Value>,
    metadata: Json<Metadata>,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

impl EventRow {
    /// Reads a row of `select {EVENT_COLUMNS}, …` by column index: the feed reads many rows
    /// and a lookup of every column by name costs more than the rest of the row handling.
    fn from_row_by_index(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: row.try_get(0)?,
            tx: row.try_get(1)?,
            event_id: row.try_get(2)?,
            workspace_id: row.try_get(3)?,
            stream_type: row.try_get(4)?,
            stream_id: row.try_get(5)?,
            stream_version: row.try_get(6)?,
            event_type: row.try_get(7)?,
            schema_version: row.try_get(8)?,
            data: row.try_get(9)?,
            metadata: row.try_get(10)?,
            recorded_at: row.try_get(11)?,
        })
    }
}

impl EventStore {
    /// The event as stored: personal fields still sealed, payload at its stored version.
    /// [`EventStore::finish`] makes a batch of them readable.
    pub(crate) fn decode(&self, row: EventRow) -> RecordedEvent {
        RecordedEvent {
            position: row.position,
            tx: row.tx,
            event_id: row.event_id,
            workspace_id: row.workspace_id,
            stream_type: row.stream_type,
            stream_id: row.stream_id,
            stream_version: row.stream_version as u64,
            event_type: row.event_type,
            schema_version: row.schema_version,
            data: row.data.0,
            metadata: row.metadata.0,
            recorded_at: row.recorded_at,
            personal_subjects: Vec::new(),
        }
    }

    /// Decodes rows and makes them readable (decrypted, upcast).
    pub(crate) async fn decode_all(
        &self,
        rows: Vec<EventRow>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events: Vec<RecordedEvent> = rows.into_iter().map(|row| self.decode(row)).collect();
        self.finish(&mut events).await?;
        Ok(events)
    }

    /// Reads up to `limit` events after `after` in feed order. Never returns an event of a
    /// transaction that is not yet committed, and never one that a later read could place
    /// before the returned ones.
    #[tracing::instrument(level = "trace", skip_all, fields(after = %after, limit))]
    pub async fn read_feed(
        &self,
        after: FeedPosition,
        limit: i64,
    ) -> Result<FeedBatch, StoreError> {
        let sql = feed_sql("");
        let limit = limit.max(1);
        let rows = sqlx::query(&sql)
            .bind(after.tx)
            .bind(after.position)
            .bind(limit)
            .fetch(self.pool());
        self.collect_feed(rows, limit).await
    }

    /// Like [`EventStore::read_feed`], but only the events of `filter`: what a rebuild of one
    /// read model needs, without fetching and decoding the rest of the feed. PostgreSQL
    /// still walks the feed in order; the events it skips leave no trace, so the position
    /// to go on from is the last returned event's, and a reader that must end at the feed's
    /// head finishes with [`EventStore::read_feed`].
    ///
    /// It is as safe as the full read: it returns only events of transactions older than
    /// every running one, and stops (with `pending`) at the first matching event that is
    /// not, so nothing that matches can later appear before what was returned.
    #[tracing::instrument(level = "trace", skip_all, fields(after = %after, limit))]
    pub async fn read_feed_matching(
        &self,
        after: FeedPosition,
        limit: i64,
        filter: &FeedFilter,
    ) -> Result<FeedBatch, StoreError> {
        let sql = feed_sql("and (stream_type = any($4::text[]) or event_type = any($5::text[]))");
        let limit = limit.max(1);
        let rows = sqlx::query(&sql)
            .bind(after.tx)
            .bind(after.position)
            .bind(limit)
            .bind(&filter.stream_types)
            .bind(&filter.event_types)
            .fetch(self.pool());
        self.collect_feed(rows, limit).await
    }

    /// Decodes feed rows as they arrive, straight into the batch (no intermediate vector of
    /// raw rows to grow and copy), up to the first row that is not safe yet.
    async fn collect_feed(
        &self,
        mut rows: futures::stream::BoxStream<'_, Result<sqlx::postgres::PgRow, sqlx::Error>>,
        limit: i64,
    ) -> Result<FeedBatch, StoreError> {
        let mut batch = FeedBatch {
            events: Vec::with_capacity(limit.min(FEED_PREALLOCATE) as usize),
            pending: false,
        };
        while let Some(row) = rows.try_next().await? {
            // Rows are in tx order, so every safe row comes before the first unsafe one.
            if batch.pending || !row.try_get::<bool, _>(SAFE_COLUMN)? {
                // Read the rest (without decoding) so the connection goes back clean.
                batch.pending = true;
                continue;
            }
            batch
                .events
                .push(self.decode(EventRow::from_row_by_index(&row)?));
        }
        drop(rows);
        self.finish(&mut batch.events).await?;
        Ok(batch)
    }

    /// The newest event's position (`None` while the store is empty). The order names the
    /// table's columns so that it is a step back along the feed index, not a sort.
    pub async fn feed_head(&self) -> Result<Option<FeedPosition>, StoreError> {
        let head: Option<(i64, i64)> = sqlx::query_as(
            "select (tx::text)::bigint, position from events
              order by events.tx desc, events.position desc limit 1",
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(head.map(|(tx, position)| FeedPosition::new(tx, position)))
    }

    /// How far a reader at `after` is behind: the newest event's position and the number
    /// of events after `after` (counted: a scan of them).
    pub async fn feed_lag(&self, after: FeedPosition) -> Result<(FeedPosition, i64), StoreError> {
        let head = self.feed_head().await?;
        let behind: i64 = sqlx::query_scalar(
            "select count(*) from events where (tx, position) > (($1::bigint)::text::xid8, $2)",
        )
        .bind(after.tx)
        .bind(after.position)
        .fetch_one(self.pool())
        .await?;
        Ok((head.unwrap_or(after).max(after), behind))
    }
}
