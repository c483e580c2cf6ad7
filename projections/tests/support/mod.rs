//! Test support: appending events as the domain would, waiting for the read models, and
//! dumping read-model tables for comparisons.
#![allow(dead_code)]

pub mod events;
pub mod random;

use event_store::{EventStore, ExpectedVersion, FeedPosition, Metadata, NewEvent, StreamWrite};
use projections::ProjectionName;
use sqlx::PgPool;
use uuid::Uuid;

pub use events::Ev;

/// Appends events (each to its own stream, in order) in one transaction.
pub async fn append(store: &EventStore, workspace_id: Uuid, events: Vec<Ev>) -> FeedPosition {
    let writes: Vec<StreamWrite> = events
        .into_iter()
        .map(|e| {
            StreamWrite::new(
                e.stream_type,
                e.stream_id,
                ExpectedVersion::Any,
                vec![NewEvent::new(e.event_type, 1, e.data)],
            )
        })
        .collect();
    let merged = merge(writes);
    store
        .append(workspace_id, &Metadata::default(), &merged)
        .await
        .expect("append")
        .last_position
}

/// One write per stream (the store wants each stream once per append).
fn merge(writes: Vec<StreamWrite>) -> Vec<StreamWrite> {
    let mut out: Vec<StreamWrite> = Vec::new();
    for w in writes {
        match out.iter_mut().find(|o| o.stream_id == w.stream_id) {
            Some(o) => o.events.extend(w.events),
            None => out.push(w),
        }
    }
    out
}

/// Brings every read model up to date.
pub async fn catch_up(store: &EventStore) {
    projections::catch_up(store, &ProjectionName::ALL, 1000)
        .await
        .expect("catch up");
}

/// Every row of every live read-model table, as sorted JSON text per table.
pub async fn dump(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables
         where table_schema like 'rm\\_%' and table_schema not like '%\\_\\_%'
         order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for (schema, table) in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "select to_jsonb(t)::text from {schema}.{table} t order by 1"
        ))
        .fetch_all(pool)
        .await
        .expect("dump");
        out.push((format!("{schema}.{table}"), rows));
    }
    out
}

/// Asserts two dumps are equal, naming the first differing table.
pub fn assert_same(left: &[(String, Vec<String>)], right: &[(String, Vec<String>)]) {
    assert_eq!(
        left.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        right.iter().map(|(t, _)| t).collect::<Vec<_>>()
    );
    for ((table, a), (_, b)) in left.iter().zip(right) {
        assert_eq!(a.len(), b.len(), "{table}: row counts differ");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x, y, "{table}: rows differ");
        }
    }
}
