//! `projections rebuild --parallel`: every projection rebuilt at once from one read of the
//! feed.
//!
//! Rebuilt one by one, a projection reads only its own events, but PostgreSQL still walks
//! the whole feed to find them; nine projections walking a million events each cost more
//! than their writes. Here one reader walks the feed once and hands each batch (shared, not
//! copied) to a worker per projection, on its own connection, which applies the events it
//! reads and saves its own rebuild checkpoint with every batch. The channels are short, so
//! the reader stays a few batches ahead of the slowest worker and memory stays flat.
//!
//! A resumed rebuild starts the reader at the earliest checkpoint; a worker that got
//! further skips what it has already applied.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use event_store::{EventStore, FeedPosition, RecordedEvent};
use sqlx::{Connection, PgConnection};
use tokio::sync::mpsc;

use super::{apply_replayed, claim, estimate_remaining, finish, prepare, Replay};
use super::{Progress, RebuildOptions, RebuildReport};
use crate::catalog::ProjectionName;

/// Batches read ahead of the slowest worker.
const READ_AHEAD: usize = 4;

type Batch = Arc<Vec<RecordedEvent>>;

pub(super) async fn rebuild_together(
    store: &EventStore,
    names: &[ProjectionName],
    options: &RebuildOptions,
) -> anyhow::Result<Vec<RebuildReport>> {
    let started = Instant::now();
    // Claim and prepare every projection first: a rebuild already running elsewhere stops
    // this one before anything is read.
    let mut claimed = Vec::with_capacity(names.len());
    for name in names {
        let mut conn = claim(store, *name).await?;
        prepare(&mut conn, *name, options.fresh).await?;
        let at = event_store::checkpoint::load(&mut conn, &name.rebuild_checkpoint()).await?;
        claimed.push((*name, conn, at));
    }
    let Some(from) = claimed.iter().map(|(_, _, at)| *at).min() else {
        return Ok(Vec::new());
    };
    let mut senders = Vec::with_capacity(claimed.len());
    let mut workers = tokio::task::JoinSet::new();
    for (name, conn, at) in claimed {
        let (send, receive) = mpsc::channel::<Batch>(READ_AHEAD);
        senders.push(send);
        let remaining = estimate_remaining(store, at).await?;
        let replay = Replay {
            start: at,
            at,
            passed: Some(0),
            progress: Progress::new(options.progress, name.as_str(), remaining),
            started,
        };
        let (store, batch_size) = (store.clone(), options.batch_size);
        workers.spawn(async move {
            let mut conn = conn;
            let result = work(&store, &mut conn, name, replay, receive, batch_size).await;
            let _ = conn.close().await;
            result.with_context(|| format!("rebuilding {name}"))
        });
    }
    let read = read_feed(store, from, options.batch_size, &senders).await;
    let reached_head = matches!(read, Ok(ReadEnd::Head));
    if !reached_head {
        // Stopped short of the head (a read failed, or a worker did): no other worker may
        // take the closed channel for the end and swap in. Their checkpoints stay where their
        // last batch left them, to resume from.
        workers.abort_all();
    }
    drop(senders);
    let mut reports = Vec::with_capacity(names.len());
    let mut failed = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(report)) => reports.push(report),
            Ok(Err(error)) => {
                // One failure stops the others (their rebuilds resume on the next run).
                workers.abort_all();
                failed.get_or_insert(error);
            }
            Err(cancelled) if cancelled.is_cancelled() => {}
            Err(panicked) => {
                workers.abort_all();
                failed.get_or_insert(panicked.into());
            }
        }
    }
    if let Some(error) = failed {
        return Err(error);
    }
    if read? == ReadEnd::WorkerGone {
        bail!("a projection stopped before the end of the feed");
    }
    reports.sort_by_key(|r| names.iter().position(|n| *n == r.name));
    Ok(reports)
}

/// How the shared read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadEnd {
    /// At the feed's head: every worker has had every event.
    Head,
    /// A worker went away (it failed; its error is what gets reported).
    WorkerGone,
}

/// Reads the whole feed after `from` to its head and hands every batch to every worker.
async fn read_feed(
    store: &EventStore,
    mut at: FeedPosition,
    batch_size: i64,
    workers: &[mpsc::Sender<Batch>],
) -> anyhow::Result<ReadEnd> {
    loop {
        let batch = store.read_feed(at, batch_size).await?;
        let full = batch.events.len() as i64 >= batch_size;
        if let Some(last) = batch.events.last() {
            at = last.feed_position();
            let shared = Arc::new(batch.events);
            for worker in workers {
                if worker.send(shared.clone()).await.is_err() {
                    return Ok(ReadEnd::WorkerGone);
                }
            }
        }
        if full {
            continue;
        }
        if batch.pending {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        return Ok(ReadEnd::Head);
    }
}

/// One projection's part: applies the batches it receives, then swaps its tables in.
async fn work(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    mut replay: Replay,
    mut batches: mpsc::Receiver<Batch>,
    batch_size: i64,
) -> anyhow::Result<RebuildReport> {
    while let Some(batch) = batches.recv().await {
        // Past what an interrupted run of this projection already applied.
        let fresh = batch.partition_point(|e| e.feed_position() <= replay.at);
        let events = &batch[fresh..];
        let Some(last) = events.last() else {
            continue;
        };
        apply_replayed(conn, name, events).await?;
        replay.progress.advance(events.len() as u64);
        replay.passed = replay.passed.map(|n| n + events.len() as u64);
        replay.at = last.feed_position();
    }
    finish(store, conn, name, replay, batch_size).await
}
