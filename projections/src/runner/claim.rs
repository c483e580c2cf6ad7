//! Claiming a projection so that only one runner applies it.
//!
//! A session advisory lock held on a dedicated connection (outside the pool, so it can
//! never be returned to the pool still holding the lock). The same connection carries
//! the projection's write transactions: if it breaks, the writes fail and the lock goes
//! with it, so a runner never writes without holding its claim.
//!
//! Those transactions commit asynchronously (`synchronous_commit = off`): a read model is
//! derived data, and its checkpoint commits with it, so a crash can only lose the last few
//! hundred milliseconds of applied batches, which are then applied again from the feed.
//! Not waiting for a WAL flush per batch keeps the projections' commits off the disk's
//! critical path, which the commands' own (durable) commits need.
//!
//! Their statements are planned afresh on every execution (`plan_cache_mode =
//! force_custom_plan`). A set-based write joins a batch's rows with a table that grows from
//! empty (a new workspace database, a rebuild's fresh tables); a cached generic plan made
//! while the table was small (a scan of it) would stay in use on the connection long after
//! an index lookup had become thousands of times cheaper. Planning costs a fraction of a
//! millisecond per statement, and a batch runs a few dozen. A random page is costed as
//! nearly sequential (`random_page_cost = 1.1`, the usual setting for data in memory or on
//! SSD): with the default 4 (spinning disks), the planner joined a batch of a few hundred
//! rows by hashing the whole table rather than looking each row up by its key.

use sqlx::{Connection, PgConnection, PgPool};

pub(crate) struct Claim {
    conn: PgConnection,
}

/// The advisory lock key of a claim name.
const LOCK_SQL: &str = "select pg_try_advisory_lock(hashtext('careops:' || $1))";

impl Claim {
    /// Takes the claim `name` if nobody holds it.
    pub(crate) async fn try_take(pool: &PgPool, name: &str) -> Result<Option<Claim>, sqlx::Error> {
        let mut conn = pool.acquire().await?.detach();
        let taken: bool = sqlx::query_scalar(LOCK_SQL)
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        if taken {
            sqlx::query(
                "select set_config('synchronous_commit', 'off', false),
                        set_config('plan_cache_mode', 'force_custom_plan', false),
                        set_config('random_page_cost', '1.1', false)",
            )
            .execute(&mut conn)
            .await?;
            Ok(Some(Claim { conn }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// The connection, to hold the claim for as long as it stays open.
    pub(crate) fn into_connection(self) -> PgConnection {
        self.conn
    }

    /// Gives the claim up (closing the connection releases the lock).
    pub(crate) async fn release(self) {
        let _ = self.conn.close().await;
    }
}
