//! Feed checkpoints: where a reader of the ordered feed has got to.
//!
//! A reader saves its checkpoint in the same transaction as the work it did for the events
//! (projections), or after the work is acknowledged (the relay), so that it never loses an
//! event and never applies one twice.

use sqlx::{PgConnection, PgExecutor};

use crate::envelope::FeedPosition;

/// Loads a reader's checkpoint; [`FeedPosition::START`] when it has none yet.
pub async fn load<'e>(
    executor: impl PgExecutor<'e>,
    name: &str,
) -> Result<FeedPosition, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("select (tx::text)::bigint, position from feed_checkpoints where name = $1")
            .bind(name)
            .fetch_optional(executor)
            .await?;
    Ok(row
        .map(|(tx, position)| FeedPosition::new(tx, position))
        .unwrap_or(FeedPosition::START))
}

/// Saves a reader's checkpoint, typically inside the caller's transaction. A checkpoint
/// only moves forward: saving an older position leaves the newer one in place.
pub async fn save(
    conn: &mut PgConnection,
    name: &str,
    at: FeedPosition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into feed_checkpoints (name, tx, position, updated_at)
         values ($1, ($2::bigint)::text::xid8, $3, now())
         on conflict (name) do update
            set tx = excluded.tx, position = excluded.position, updated_at = now()
            where (feed_checkpoints.tx, feed_checkpoints.position) < (excluded.tx, excluded.position)",
    )
    .bind(name)
    .bind(at.tx)
    .bind(at.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a reader's checkpoint so that it starts again from the beginning.
pub async fn reset(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from feed_checkpoints where name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}
