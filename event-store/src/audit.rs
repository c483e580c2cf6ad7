//! The audit trail: a workspace's events, newest first, filtered and paged.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::envelope::RecordedEvent;
use crate::error::StoreError;
use crate::feed::{EventRow, EVENT_COLUMNS};
use crate::store::EventStore;

/// Which events of a workspace to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub stream_id: Option<String>,
    pub event_type: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    /// The cursor: only events with a smaller position (the `next_cursor` of the previous page).
    pub before_position: Option<i64>,
    /// Page size, 1 to 1000.
    pub limit: i64,
}

/// One page of the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub events: Vec<RecordedEvent>,
    /// Pass as `before_position` for the next page; `None` on the last page.
    pub next_cursor: Option<i64>,
}

impl EventStore {
    /// Lists a workspace's events newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(%workspace_id))]
    pub async fn audit(
        &self,
        workspace_id: Uuid,
        filter: &AuditFilter,
    ) -> Result<AuditPage, StoreError> {
        let limit = filter.limit.clamp(1, 1000);
        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "select {EVENT_COLUMNS} from events where workspace_id = "
        ));
        query.push_bind(workspace_id);
        if let Some(stream_id) = &filter.stream_id {
            query.push(" and stream_id = ").push_bind(stream_id);
        }
        if let Some(event_type) = &filter.event_type {
            query.push(" and event_type = ").push_bind(event_type);
        }
        if let Some(actor_id) = filter.actor_id {
            query
                .push(" and metadata ->> 'actor_id' = ")
                .push_bind(actor_id.to_string());
        }
        if let Some(from) = filter.from {
            query.push(" and recorded_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            query.push(" and recorded_at < ").push_bind(to);
        }
        if let Some(before) = filter.before_position {
            query.push(" and position < ").push_bind(before);
        }
        // One more than the page, to know whether another page follows.
        query
            .push(" order by position desc limit ")
            .push_bind(limit + 1);
        let mut rows: Vec<EventRow> = query.build_query_as().fetch_all(self.pool()).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let events: Vec<RecordedEvent> = self.decode_all(rows).await?;
        let next_cursor = if more {
            events.last().map(|e| e.position)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}
