//! Applying one batch of feed events and the checkpoint in one transaction.
//!
//! The transaction first locks the checkpoint row and compares it with the position the
//! runner believes it is at. Only a rebuild swap moves a checkpoint under a running
//! projection (it locks the same row first), so a mismatch means "the tables were swapped,
//! continue from the new checkpoint" and nothing is written.

use anyhow::Context;
use event_store::{FeedPosition, RecordedEvent};
use sqlx::{Connection, PgConnection};

use crate::catalog::ProjectionName;
use crate::projection::plan::Plan;

pub(crate) enum Outcome {
    Applied(FeedPosition),
    Moved(FeedPosition),
}

/// Makes sure the checkpoint row exists, so that it can be locked.
pub(crate) async fn ensure_checkpoint(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query("insert into feed_checkpoints (name) values ($1) on conflict (name) do nothing")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the checkpoint row for the rest of the transaction and returns it.
pub(crate) async fn lock_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> sqlx::Result<FeedPosition> {
    let (tx, position): (i64, i64) = sqlx::query_as(
        "select (tx::text)::bigint, position from feed_checkpoints where name = $1 for update",
    )
    .bind(name)
    .fetch_one(conn)
    .await?;
    Ok(FeedPosition::new(tx, position))
}

/// Applies `events` to `schema` within an open transaction: all their changes are planned
/// first and then written set-based (see [`Plan`]). A payload that does not decode is
/// reported with its event; a statement PostgreSQL refuses, with the batch's range.
pub(crate) async fn apply_events(
    conn: &mut PgConnection,
    name: ProjectionName,
    schema: &str,
    events: &[RecordedEvent],
) -> anyhow::Result<()> {
    let mut plan = Plan::default();
    for event in events {
        name.plan(&mut plan, event).with_context(|| {
            format!(
                "projection {name}: event {} ({}, stream {} v{}) at {}",
                event.event_id,
                event.event_type,
                event.stream_id,
                event.stream_version,
                event.feed_position()
            )
        })?;
    }
    if plan.rows() == 0 {
        return Ok(());
    }
    plan.execute(conn, schema).await.with_context(|| {
        let range = events.first().zip(events.last());
        let (first, last) = range.map_or_else(Default::default, |(f, l)| {
            (f.feed_position(), l.feed_position())
        });
        format!("projection {name}: applying the events from {first} to {last}")
    })?;
    Ok(())
}

pub(crate) async fn apply_batch(
    conn: &mut PgConnection,
    name: ProjectionName,
    schema: &str,
    checkpoint: &str,
    expected: FeedPosition,
    events: &[RecordedEvent],
) -> anyhow::Result<Outcome> {
    let Some(last) = events.last() else {
        return Ok(Outcome::Applied(expected));
    };
    if !events.iter().any(|e| name.reads(e)) {
        return pass_over(conn, checkpoint, expected, last.feed_position()).await;
    }
    let mut tx = Connection::begin(&mut *conn).await?;
    let current = lock_checkpoint(&mut tx, checkpoint).await?;
    if current != expected {
        tx.rollback().await?;
        return Ok(Outcome::Moved(current));
    }
    apply_events(&mut tx, name, schema, events).await?;
    event_store::checkpoint::save(&mut tx, checkpoint, last.feed_position()).await?;
    tx.commit().await?;
    Ok(Outcome::Applied(last.feed_position()))
}

/// Moves the checkpoint over a batch with nothing for this projection, in one statement
/// instead of a transaction of four: most projections read few stream types, and under load
/// most batches hold only other projections' events (a booking touches none of the
/// services, staff, inventory, workspaces or alerts tables). Like [`apply_batch`], it only
/// moves a checkpoint that is still where this runner left it; the statement takes the
/// row's lock, so it waits for a rebuild swap and then sees the moved checkpoint.
async fn pass_over(
    conn: &mut PgConnection,
    checkpoint: &str,
    expected: FeedPosition,
    to: FeedPosition,
) -> anyhow::Result<Outcome> {
    let moved = sqlx::query(
        "update feed_checkpoints
            set tx = ($2::bigint)::text::xid8, position = $3, updated_at = now()
          where name = $1 and tx = ($4::bigint)::text::xid8 and position = $5",
    )
    .bind(checkpoint)
    .bind(to.tx)
    .bind(to.position)
    .bind(expected.tx)
    .bind(expected.position)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if moved == 1 {
        Ok(Outcome::Applied(to))
    } else {
        let current = event_store::checkpoint::load(&mut *conn, checkpoint).await?;
        Ok(Outcome::Moved(current))
    }
}
