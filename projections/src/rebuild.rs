//! `projections rebuild [NAME]`: replay the whole feed into fresh tables and swap them in.
//!
//! The fresh tables live in `rm_<name>__rebuild` (made by the same SQL function as the live
//! ones) with their own checkpoint `projection:<name>:rebuild`, saved with every batch, so
//! an interrupted rebuild resumes where it stopped (`--fresh` starts over). The live
//! schema keeps serving meanwhile. The swap is one transaction: it locks the live
//! checkpoint row (a running projection locks that row first in each batch, so it waits
//! and holds no table lock), catches the new tables up to the live checkpoint, renames the
//! schemas, drops the old one and moves the live checkpoint to the rebuilt position. The
//! running projection then sees its checkpoint moved and continues from there.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use event_store::{EventStore, FeedPosition};
use sqlx::{Connection, PgConnection};

use crate::catalog::ProjectionName;
use crate::runner::batch_support::{apply_events, ensure_checkpoint, lock_checkpoint};

mod progress;

use progress::Progress;
pub use progress::ProgressMode;

/// How to rebuild.
#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Drop an unfinished rebuild and start from the beginning.
    pub fresh: bool,
    /// Events per transaction.
    pub batch_size: i64,
    pub progress: ProgressMode,
    /// Rebuild the projections concurrently (each on its own connection) rather than one
    /// after the other; best with quiet or line progress.
    pub parallel: bool,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            fresh: false,
            batch_size: 5000,
            progress: ProgressMode::Auto,
            parallel: false,
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy)]
pub struct RebuildReport {
    pub name: ProjectionName,
    /// Feed events this run went through (not counting those of an interrupted earlier
    /// run), whether or not the projection reads them.
    pub events: u64,
    pub elapsed: Duration,
    pub position: FeedPosition,
}

/// Rebuilds the given projections one after the other.
pub async fn rebuild(
    store: &EventStore,
    names: &[ProjectionName],
    options: &RebuildOptions,
) -> anyhow::Result<Vec<RebuildReport>> {
    let mut reports = Vec::with_capacity(names.len());
    if options.parallel {
        let mut tasks = tokio::task::JoinSet::new();
        for name in names {
            let (store, name, options) = (store.clone(), *name, options.clone());
            tasks.spawn(async move { rebuild_one(&store, name, &options).await });
        }
        while let Some(report) = tasks.join_next().await {
            reports.push(report??);
        }
        reports.sort_by_key(|r| names.iter().position(|n| *n == r.name));
    } else {
        for name in names {
            reports.push(rebuild_one(store, *name, options).await?);
        }
    }
    Ok(reports)
}

async fn rebuild_one(
    store: &EventStore,
    name: ProjectionName,
    options: &RebuildOptions,
) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let mut conn = store.pool().acquire().await?.detach();
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_lock(hashtext('careops:' || $1))")
            .bind(name.rebuild_checkpoint())
            .fetch_one(&mut conn)
            .await?;
    if !locked {
        bail!("a rebuild of {name} is already running");
    }
    let result = replay_and_swap(store, &mut conn, name, options, started).await;
    let _ = conn.close().await;
    result
}

async fn replay_and_swap(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    options: &RebuildOptions,
    started: Instant,
) -> anyhow::Result<RebuildReport> {
    prepare(conn, name, options.fresh).await?;
    let checkpoint = name.rebuild_checkpoint();
    let schema = name.rebuild_schema();
    let mut at = event_store::checkpoint::load(&mut *conn, &checkpoint).await?;
    let (_, remaining) = store.feed_lag(at).await?;
    let mut progress = Progress::new(options.progress, name.as_str(), remaining.max(0) as u64);
    let start = at;
    // First only the events this projection reads (most of the feed is other projections'
    // events), then the whole feed from the last of them to the head, so that the
    // checkpoint ends where the feed does and the swap has little left to catch up.
    let filter = name.feed_filter();
    let mut filtered = true;
    loop {
        let batch = if filtered {
            store
                .read_feed_matching(at, options.batch_size, &filter)
                .await?
        } else {
            store.read_feed(at, options.batch_size).await?
        };
        let full = batch.events.len() as i64 >= options.batch_size;
        if let Some(last) = batch.events.last() {
            let last = last.feed_position();
            let mut tx = Connection::begin(&mut *conn).await?;
            apply_events(&mut tx, name, &schema, &batch.events).await?;
            event_store::checkpoint::save(&mut tx, &checkpoint, last).await?;
            tx.commit().await?;
            // Progress in feed events passed: exact on the whole feed, estimated from the
            // positions skipped on the filtered one (identities, nearly gapless).
            let passed = if filtered {
                u64::try_from(last.position - at.position).unwrap_or(0)
            } else {
                batch.events.len() as u64
            };
            progress.advance(passed);
            at = last;
        }
        if full {
            continue;
        }
        if batch.pending {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        if filtered {
            filtered = false;
            continue;
        }
        break;
    }
    let (position, caught_up) = swap(store, conn, name, at, options.batch_size).await?;
    progress.advance(caught_up);
    let events = feed_events_between(conn, start, position).await?;
    progress.finish();
    tracing::info!(projection = %name, events, position = %position, "rebuilt and swapped in");
    Ok(RebuildReport {
        name,
        events,
        elapsed: started.elapsed(),
        position,
    })
}

/// How many feed events lie after `from` up to and including `to`: what a rebuild covered.
async fn feed_events_between(
    conn: &mut PgConnection,
    from: FeedPosition,
    to: FeedPosition,
) -> sqlx::Result<u64> {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from events
          where (tx, position) > (($1::bigint)::text::xid8, $2)
            and (tx, position) <= (($3::bigint)::text::xid8, $4)",
    )
    .bind(from.tx)
    .bind(from.position)
    .bind(to.tx)
    .bind(to.position)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Creates the rebuild schema unless an unfinished rebuild can be resumed.
async fn prepare(conn: &mut PgConnection, name: ProjectionName, fresh: bool) -> anyhow::Result<()> {
    let schema = name.rebuild_schema();
    let checkpoint = name.rebuild_checkpoint();
    let resumable: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_namespace where nspname = $1)
            and exists (select 1 from feed_checkpoints where name = $2)",
    )
    .bind(&schema)
    .bind(&checkpoint)
    .fetch_one(&mut *conn)
    .await?;
    if resumable && !fresh {
        tracing::info!(projection = %name, "resuming an unfinished rebuild");
        return Ok(());
    }
    let mut tx = Connection::begin(&mut *conn).await?;
    sqlx::query(&format!("drop schema if exists {schema} cascade"))
        .execute(&mut *tx)
        .await?;
    event_store::checkpoint::reset(&mut tx, &checkpoint).await?;
    sqlx::query(&format!("select rm_create_{}($1)", name.as_str()))
        .bind(&schema)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("creating the tables of {name} in {schema}"))?;
    ensure_checkpoint(&mut tx, &checkpoint).await?;
    tx.commit().await?;
    Ok(())
}

/// Catches the rebuilt tables up with the live checkpoint and swaps them in, atomically.
/// Returns the new live position and the number of events applied during the swap.
async fn swap(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    mut at: FeedPosition,
    batch_size: i64,
) -> anyhow::Result<(FeedPosition, u64)> {
    let live = name.schema();
    let fresh = name.rebuild_schema();
    let old = format!("{live}__old");
    ensure_checkpoint(conn, &name.checkpoint()).await?;
    let mut tx = Connection::begin(&mut *conn).await?;
    let target = lock_checkpoint(&mut tx, &name.checkpoint()).await?;
    let mut applied = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while at < target {
        let batch = store.read_feed(at, batch_size).await?;
        match batch.events.last() {
            Some(last) => {
                let last = last.feed_position();
                apply_events(&mut tx, name, &fresh, &batch.events).await?;
                applied += batch.events.len() as u64;
                at = last;
            }
            None if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            None => bail!("the feed did not reach {target} while swapping {name}"),
        }
    }
    event_store::checkpoint::save(&mut tx, &name.checkpoint(), at).await?;
    event_store::checkpoint::reset(&mut tx, &name.rebuild_checkpoint()).await?;
    for sql in [
        format!("drop schema if exists {old} cascade"),
        format!("alter schema {live} rename to {old}"),
        format!("alter schema {fresh} rename to {live}"),
        format!("drop schema {old} cascade"),
    ] {
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((at, applied))
}
