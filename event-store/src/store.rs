//! The [`EventStore`] handle: appends and reads.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::append::{append_on, AppendOutcome, ExpectedVersion, StreamWrite};
use crate::envelope::{Metadata, RecordedEvent};
use crate::error::{AppendError, StoreError};
use crate::feed::{EventRow, DECISION_COLUMNS, EVENT_COLUMNS};
use crate::personal::KeyCommit;
use crate::tail::FeedTail;
use crate::upcast::Upcasters;
use crate::wakeup::Wakeup;

/// How often an append with only [`ExpectedVersion::Any`] streams is retried when a
/// concurrent writer takes the version it computed.
const ANY_VERSION_RETRIES: usize = 10;

/// A cheap, cloneable handle to the event store.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    upcasters: Arc<Upcasters>,
    wakeup: Wakeup,
    /// The recent feed, shared by this store's subscriptions (and its clones').
    tail: Arc<FeedTail>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("upcasters", &self.upcasters)
            .finish()
    }
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        Self::with_upcasters(pool, Upcasters::new())
    }

    pub fn with_upcasters(pool: PgPool, upcasters: Upcasters) -> Self {
        Self {
            wakeup: Wakeup::new(pool.clone()),
            pool,
            upcasters: Arc::new(upcasters),
            tail: Arc::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn upcasters(&self) -> &Upcasters {
        &self.upcasters
    }

    /// Appends events to one or more streams in one transaction: all or nothing.
    ///
    /// Fails with [`AppendError::Conflict`] when a stream is not at its expected version.
    /// Appends whose streams all expect [`ExpectedVersion::Any`] cannot conflict: they are
    /// retried when a concurrent writer takes their version.
    #[tracing::instrument(level = "debug", skip_all, fields(%workspace_id, streams = writes.len()))]
    pub async fn append(
        &self,
        workspace_id: Uuid,
        metadata: &Metadata,
        writes: &[StreamWrite],
    ) -> Result<AppendOutcome, AppendError> {
        let only_any = writes.iter().all(|w| w.expected == ExpectedVersion::Any);
        let mut attempt = 0;
        loop {
            let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
            let appended = append_on(
                &mut conn,
                workspace_id,
                metadata,
                writes,
                KeyCommit::Asynchronous,
            )
            .await;
            match appended {
                Err(AppendError::Conflict { .. }) if only_any && attempt < ANY_VERSION_RETRIES => {
                    attempt += 1;
                }
                Ok(outcome) => {
                    self.wakeup.appended();
                    return Ok(outcome);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Appends inside the caller's transaction, so that other writes (idempotency records,
    /// credentials) commit or roll back with the events. Call [`EventStore::appended`] after
    /// the commit to wake readers at once (they poll otherwise).
    pub async fn append_in(
        &self,
        tx: &mut PgConnection,
        workspace_id: Uuid,
        metadata: &Metadata,
        writes: &[StreamWrite],
    ) -> Result<AppendOutcome, AppendError> {
        append_on(tx, workspace_id, metadata, writes, KeyCommit::WithCaller).await
    }

    /// Wakes feed readers after a commit of [`EventStore::append_in`].
    pub fn appended(&self) {
        self.wakeup.appended();
    }

    pub(crate) fn wakeup(&self) -> &Wakeup {
        &self.wakeup
    }

    pub(crate) fn tail(&self) -> &FeedTail {
        &self.tail
    }

    /// Reads one stream forward from (excluding) `after_version`; 0 reads it all.
    #[tracing::instrument(level = "debug", skip_all, fields(stream_id))]
    pub async fn read_stream(
        &self,
        stream_id: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "select {EVENT_COLUMNS} from events
             where stream_id = $1 and stream_version > $2 order by stream_version"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_id)
            .bind(i64::try_from(after_version).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        self.decode_all(rows).await
    }

    /// Reads several whole streams in one round trip. Every requested stream is in the map,
    /// empty when it does not exist.
    #[tracing::instrument(level = "debug", skip_all, fields(streams = stream_ids.len()))]
    pub async fn read_streams(
        &self,
        stream_ids: &[String],
    ) -> Result<HashMap<String, Vec<RecordedEvent>>, StoreError> {
        self.read_streams_of(stream_ids, EVENT_COLUMNS).await
    }

    /// [`EventStore::read_streams`] for deciding a command: the events without their
    /// metadata (left empty), which folding an aggregate never looks at. A booking reads two
    /// dozen events before it decides; their metadata was a third of the bytes.
    #[tracing::instrument(level = "debug", skip_all, fields(streams = stream_ids.len()))]
    pub async fn load_streams(
        &self,
        stream_ids: &[String],
    ) -> Result<HashMap<String, Vec<RecordedEvent>>, StoreError> {
        self.read_streams_of(stream_ids, DECISION_COLUMNS).await
    }

    async fn read_streams_of(
        &self,
        stream_ids: &[String],
        columns: &str,
    ) -> Result<HashMap<String, Vec<RecordedEvent>>, StoreError> {
        // One index probe per stream, on purpose. With `stream_id = any($1)` the cached
        // generic plan cannot know how many streams are asked for and, once streams hold a few
        // events each, estimates thousands of rows: it then scans the table (a sequential or
        // parallel bitmap scan, milliseconds per call and most of a booking's database CPU
        // in the load benchmark). A lateral probe per requested stream keeps the plan an
        // index scan whatever the parameters. The array is read through a scalar subquery so
        // that PostgreSQL can keep one generic plan instead of planning each call anew with
        // the array's contents (as for the append statement, see `append.rs`).
        let sql = format!(
            "select {columns}
             from (select distinct unnest((select $1::text[])) as wanted) w
             cross join lateral (
                 select * from events where events.stream_id = w.wanted
                 order by events.stream_version) e
             order by e.stream_id, e.stream_version"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream_ids)
            .fetch_all(&self.pool)
            .await?;
        let mut streams: HashMap<String, Vec<RecordedEvent>> = stream_ids
            .iter()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for event in self.decode_all(rows).await? {
            streams
                .entry(event.stream_id.clone())
                .or_default()
                .push(event);
        }
        Ok(streams)
    }

    /// The current version of a stream (0 when it does not exist).
    pub async fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("select max(stream_version) from events where stream_id = $1")
                .bind(stream_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0) as u64)
    }

    /// Reads one event by id.
    pub async fn event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let sql = format!("select {EVENT_COLUMNS} from events where event_id = $1");
        let row: Option<EventRow> = sqlx::query_as(&sql)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(self.decode_all(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }
}

impl EventStore {
    /// The ids of a workspace's streams of one type (its services, its users), for
    /// decisions that span them.
    pub async fn stream_ids(
        &self,
        workspace_id: Uuid,
        stream_type: &str,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "select distinct stream_id from events where workspace_id = $1 and stream_type = $2 order by stream_id",
        )
        .bind(workspace_id)
        .bind(stream_type)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }
}
