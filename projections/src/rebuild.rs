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
use crate::runner::batch_support::{apply_events, ensure_checkpoint, lock_checkpoint, Claim};

mod progress;
mod together;

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

/// Rebuilds the given projections: one after the other, each reading only the events it
/// needs, or (`parallel`) all at once from one shared read of the feed.
pub async fn rebuild(
    store: &EventStore,
    names: &[ProjectionName],
    options: &RebuildOptions,
) -> anyhow::Result<Vec<RebuildReport>> {
    if options.parallel {
        return together::rebuild_together(store, names, options).await;
    }
    let mut reports = Vec::with_capacity(names.len());
    for name in names {
        reports.push(rebuild_one(store, *name, options).await?);
    }
    Ok(reports)
}

async fn rebuild_one(
    store: &EventStore,
    name: ProjectionName,
    options: &RebuildOptions,
) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let mut conn = claim(store, name).await?;
    let result = replay_and_swap(store, &mut conn, name, options, started).await;
    let _ = conn.close().await;
    result
}

/// A connection of its own holding the rebuild's claim (released when it closes), so that
/// two rebuilds of one projection never run at once.
async fn claim(store: &EventStore, name: ProjectionName) -> anyhow::Result<PgConnection> {
    match Claim::try_take(store.pool(), &name.rebuild_checkpoint()).await? {
        Some(claim) => Ok(claim.into_connection()),
        None => bail!("a rebuild of {name} is already running"),
    }
}

/// How many feed events lie after `at`, from the positions (identities, nearly gapless):
/// enough for a progress bar, without counting a million rows.
async fn estimate_remaining(store: &EventStore, at: FeedPosition) -> anyhow::Result<u64> {
    let head = store.feed_head().await?.unwrap_or(at);
    Ok(u64::try_from(head.position - at.position).unwrap_or(0))
}

/// Applies one batch of replayed events and moves the rebuild's checkpoint past it.
async fn apply_replayed(
    conn: &mut PgConnection,
    name: ProjectionName,
    events: &[event_store::RecordedEvent],
) -> anyhow::Result<()> {
    let Some(last) = events.last() else {
        return Ok(());
    };
    let mut tx = Connection::begin(&mut *conn).await?;
    apply_events(&mut tx, name, &name.rebuild_schema(), events).await?;
    event_store::checkpoint::save(&mut tx, &name.rebuild_checkpoint(), last.feed_position())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// After the replay: builds the deferred indexes, swaps the tables in and reports.
async fn finish(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    replay: Replay,
    batch_size: i64,
) -> anyhow::Result<RebuildReport> {
    let Replay {
        start,
        at,
        passed,
        mut progress,
        started,
    } = replay;
    create_deferred_indexes(conn, name).await?;
    let (position, caught_up) = swap(store, conn, name, at, batch_size).await?;
    progress.advance(caught_up);
    let events = match passed {
        Some(passed) => passed + caught_up,
        None => feed_events_between(conn, start, position).await?,
    };
    progress.finish();
    tracing::info!(projection = %name, events, position = %position, "rebuilt and swapped in");
    Ok(RebuildReport {
        name,
        events,
        elapsed: started.elapsed(),
        position,
    })
}

/// Where one projection's replay stands.
struct Replay {
    /// The rebuild checkpoint this run started from.
    start: FeedPosition,
    /// The last event applied.
    at: FeedPosition,
    /// The feed events gone through since `start`, when the replay saw them all (a filtered
    /// read does not: they are counted at the end).
    passed: Option<u64>,
    progress: Progress,
    started: Instant,
}

async fn replay_and_swap(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    options: &RebuildOptions,
    started: Instant,
) -> anyhow::Result<RebuildReport> {
    prepare(conn, name, options.fresh).await?;
    let mut at = event_store::checkpoint::load(&mut *conn, &name.rebuild_checkpoint()).await?;
    let remaining = estimate_remaining(store, at).await?;
    let progress = Progress::new(options.progress, name.as_str(), remaining);
    let mut replay = Replay {
        start: at,
        at,
        passed: None,
        progress,
        started,
    };
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
            apply_replayed(conn, name, &batch.events).await?;
            // Progress in feed events passed: exact on the whole feed, estimated from the
            // positions skipped on the filtered one (identities, nearly gapless).
            let passed = if filtered {
                u64::try_from(last.position - at.position).unwrap_or(0)
            } else {
                batch.events.len() as u64
            };
            replay.progress.advance(passed);
            at = last;
            replay.at = last;
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
    finish(store, conn, name, replay, options.batch_size).await
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
    drop_deferred_indexes(&mut tx, &schema).await?;
    ensure_checkpoint(&mut tx, &checkpoint).await?;
    tx.commit().await?;
    Ok(())
}

/// The indexes a rebuild builds at the end instead of keeping them up to date row by row:
/// those that only serve queries. Not unique ones (constraints and `on conflict` need them),
/// nor those leading with a column that writes look rows up by ([`WRITE_LOOKUPS`]).
/// Building an index over the finished table is several times cheaper than maintaining it
/// through every insert and update of the replay.
const DEFERRED_INDEXES: &str = "
    select i.relname::text as name, pg_get_indexdef(i.oid) as definition
    from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_namespace n on n.oid = i.relnamespace
        join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
    where n.nspname = $1 and not x.indisunique and a.attname <> all($2)
    order by i.relname";

/// The columns, besides primary keys, by which a projection's writes find rows: an
/// erasure updates a contact's rows, a restock resolves an item's alerts. A write that
/// finds rows by another column would still be right, but would scan its table during a
/// rebuild until the index is built: add the column here.
const WRITE_LOOKUPS: &[&str] = &["contact_id", "subject_id"];

async fn drop_deferred_indexes(conn: &mut PgConnection, schema: &str) -> sqlx::Result<()> {
    let indexes: Vec<(String, String)> = sqlx::query_as(DEFERRED_INDEXES)
        .bind(schema)
        .bind(WRITE_LOOKUPS)
        .fetch_all(&mut *conn)
        .await?;
    for (index, _) in indexes {
        sqlx::query(&format!("drop index {schema}.{index}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Builds the indexes [`drop_deferred_indexes`] left out, as the read model's SQL function
/// defines them today: it creates a scratch copy of the empty schema, takes its index
/// definitions and builds each on the rebuilt tables (unless a resumed rebuild already did).
async fn create_deferred_indexes(
    conn: &mut PgConnection,
    name: ProjectionName,
) -> anyhow::Result<()> {
    let schema = name.rebuild_schema();
    let scratch = format!("rm_{}__indexes", name.as_str());
    let mut tx = Connection::begin(&mut *conn).await?;
    sqlx::query(&format!("drop schema if exists {scratch} cascade"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("select rm_create_{}($1)", name.as_str()))
        .bind(&scratch)
        .execute(&mut *tx)
        .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(DEFERRED_INDEXES)
        .bind(&scratch)
        .bind(WRITE_LOOKUPS)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query(&format!("drop schema {scratch} cascade"))
        .execute(&mut *tx)
        .await?;
    for (index, definition) in indexes {
        let on_scratch = format!(" ON {scratch}.");
        let definition = definition
            .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
            .replacen(&on_scratch, &format!(" ON {schema}."), 1);
        if !definition.contains(&format!(" ON {schema}.")) {
            bail!("unexpected definition of index {index} of {name}: {definition}");
        }
        sqlx::query(&definition).execute(&mut *tx).await?;
    }
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
