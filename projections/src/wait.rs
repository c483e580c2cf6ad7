//! Read-your-writes: waiting until every projection has applied a position
//! (`X-CareOps-Min-Position`).
//!
//! Positions compare in feed order, `(tx, position)`. Every projection reads the whole
//! feed, so once all checkpoints are at or past the position, every read model reflects
//! that write. Short polling of the checkpoint table: one indexed read of nine rows.

use std::time::Duration;

use event_store::FeedPosition;
use sqlx::PgPool;

use crate::status::checkpoints;

/// True when every projection has applied `position`; false when `timeout` passed first.
pub async fn wait_for(
    pool: &PgPool,
    position: FeedPosition,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        let all = checkpoints(pool).await?;
        if all.iter().all(|at| *at >= position) {
            return Ok(true);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
