//! The ordered global feed: every committed event, each exactly once, in `(tx, position)`
//! order.
//!
//! Identity values are taken at insert time but become visible at commit time, so position
//! 41 can appear after position 42 has been read. Ordering by the writing transaction's id
//! first and reading only transactions older than every transaction still running
//! (`tx < pg_snapshot_xmin(pg_current_snapshot())`) gives a prefix of the log that can no
//! longer change: a checkpoint `(tx, position)` taken from it never skips an event.

use sqlx::types::Json;
use sqlx::FromRow;

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

/// The columns of an event row, as every read selects them.
pub(crate) const EVENT_COLUMNS: &str = "position, (tx::text)::bigint as tx, event_id, workspace_id, \
     stream_type, stream_id, stream_version, event_type, schema_version, data, metadata, recorded_at";

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

impl EventStore {
    pub(crate) fn decode(&self, row: EventRow) -> RecordedEvent {
        let (data, schema_version) =
            self.upcasters()
                .upcast(&row.event_type, row.schema_version, row.data.0);
        RecordedEvent {
            position: row.position,
            tx: row.tx,
            event_id: row.event_id,
            workspace_id: row.workspace_id,
            stream_type: row.stream_type,
            stream_id: row.stream_id,
            stream_version: row.stream_version as u64,
            event_type: row.event_type,
            schema_version,
            data,
            metadata: row.metadata.0,
            recorded_at: row.recorded_at,
        }
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
        #[derive(FromRow)]
        struct FeedRow {
            #[sqlx(flatten)]
            event: EventRow,
            safe: bool,
        }
        let sql = format!(
            "select {EVENT_COLUMNS}, tx < pg_snapshot_xmin(pg_current_snapshot()) as safe
             from events
             where (tx, position) > (($1::bigint)::text::xid8, $2)
             order by tx, position
             limit $3"
        );
        let rows: Vec<FeedRow> = sqlx::query_as(&sql)
            .bind(after.tx)
            .bind(after.position)
            .bind(limit.max(1))
            .fetch_all(self.pool())
            .await?;
        let mut batch = FeedBatch {
            events: Vec::with_capacity(rows.len()),
            pending: false,
        };
        for row in rows {
            // Rows are in tx order, so every safe row comes before the first unsafe one.
            if !row.safe {
                batch.pending = true;
                break;
            }
            batch.events.push(self.decode(row.event));
        }
        Ok(batch)
    }

    /// How far a reader at `after` is behind: the newest event's position and the number
    /// of events after `after`.
    pub async fn feed_lag(&self, after: FeedPosition) -> Result<(FeedPosition, i64), StoreError> {
        let head: Option<(i64, i64)> = sqlx::query_as(
            "select (tx::text)::bigint, position from events order by tx desc, position desc limit 1",
        )
        .fetch_optional(self.pool())
        .await?;
        let behind: i64 = sqlx::query_scalar(
            "select count(*) from events where (tx, position) > (($1::bigint)::text::xid8, $2)",
        )
        .bind(after.tx)
        .bind(after.position)
        .fetch_one(self.pool())
        .await?;
        let head = head
            .map(|(tx, position)| FeedPosition::new(tx, position))
            .unwrap_or(after);
        Ok((head.max(after), behind))
    }
}
