//! The projection runner: one task per projection, each following the ordered feed.
//!
//! A task first claims its projection (an advisory lock held by a dedicated connection,
//! see [`claim`]); a second runner started at the same time stays on standby and takes
//! over when the first one goes away. The claimed task reads the feed in batches and
//! applies each batch in one transaction with its checkpoint ([`batch`]). A failing event
//! stops the projection (nothing after it is applied, nothing is skipped): the error is
//! logged and recorded, the claim released, and the batch retried after a backoff.

mod batch;
pub(crate) mod batch_support {
    //! The batch helpers and the claim shared with the rebuild.
    pub(crate) use super::batch::{apply_events, ensure_checkpoint, lock_checkpoint};
    pub(crate) use super::claim::Claim;
}
mod claim;
mod report;

use std::time::Duration;

use event_store::{EventStore, FeedPosition};
use service_runtime::shutdown::{join_until, Deadline, NamedTask};
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::catalog::ProjectionName;
use batch::{apply_batch, Outcome};
pub(crate) use claim::Claim;
pub(crate) use report::report;

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The projections to run (all by default).
    pub projections: Vec<ProjectionName>,
    /// Events read and applied per transaction.
    pub batch_size: i64,
    /// Feed poll interval when no wake-up arrives.
    pub poll_interval: Duration,
    /// After a batch smaller than `batch_size`, how long to let more events gather before
    /// the next read. A transaction per projection per batch costs a handful of statements
    /// whatever its size: under load, waiting a few milliseconds turns many one-booking
    /// batches into a few larger ones (the lag grows by at most this much).
    pub linger: Duration,
    /// How often a standby runner tries to claim a projection.
    pub claim_interval: Duration,
    /// The first wait after a failure (doubles up to `max_backoff`).
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// How long [`run`] may take to stop after `stop` (a batch in hand commits with its
    /// checkpoint; one that hangs past this is abandoned and applied again after a restart).
    pub shutdown_timeout: Duration,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            projections: ProjectionName::ALL.to_vec(),
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
            linger: Duration::from_millis(10),
            claim_interval: Duration::from_secs(2),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            shutdown_timeout: service_runtime::shutdown::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// Runs every configured projection until `stop` is cancelled; a projection that fails
/// keeps retrying (it never skips an event), so this only returns on `stop` (or when a
/// runner panics, which stops the others). After `stop`, the runners get
/// `config.shutdown_timeout` to commit what they hold; a clean stop is `Ok`, and the error
/// otherwise names the projections abandoned (their checkpoints hold the last committed
/// batch, so nothing is lost).
pub async fn run(
    store: EventStore,
    config: RunConfig,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let deadline = Deadline::new(stop.clone(), config.shutdown_timeout);
    let runners = config
        .projections
        .iter()
        .map(|name| {
            let runner = run_one(store.clone(), *name, config.clone(), stop.clone());
            NamedTask::spawn(name.as_str(), runner)
        })
        .collect();
    join_until(&deadline, &stop, runners)
        .await
        .into_result(deadline.grace())
}

async fn run_one(
    store: EventStore,
    name: ProjectionName,
    config: RunConfig,
    stop: CancellationToken,
) {
    let mut backoff = config.min_backoff;
    let mut standby_reported = false;
    // A projection that failed stays reported as failing (with its error) through its
    // retries, until it applies a batch again: a retry's fresh claim is no recovery, and
    // `GET /admin/projections` must not show a stuck projection as running between tries.
    let mut failing = false;
    while !stop.is_cancelled() {
        let claim = match Claim::try_take(store.pool(), &name.checkpoint()).await {
            Ok(Some(claim)) => claim,
            Ok(None) => {
                if !standby_reported {
                    tracing::info!(projection = %name, "claimed by another runner; on standby");
                    standby_reported = true;
                }
                sleep_or_stop(config.claim_interval, &stop).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(projection = %name, %error, "cannot claim the projection");
                sleep_or_stop(backoff, &stop).await;
                backoff = (backoff * 2).min(config.max_backoff);
                continue;
            }
        };
        standby_reported = false;
        if !failing {
            report(store.pool(), name, "running", None).await;
        }
        let mut claim = claim;
        let followed = follow(
            &store,
            claim.conn(),
            name,
            &config,
            &stop,
            &mut backoff,
            &mut failing,
        )
        .await;
        match followed {
            Ok(()) => {
                claim.release().await;
                report(store.pool(), name, "stopped", None).await;
            }
            Err(error) => {
                let message = format!("{error:#}");
                tracing::error!(projection = %name, error = %message, "projection stopped on an error; retrying");
                claim.release().await;
                report(store.pool(), name, "failing", Some(&message)).await;
                failing = true;
                sleep_or_stop(backoff, &stop).await;
                backoff = (backoff * 2).min(config.max_backoff);
            }
        }
    }
}

async fn sleep_or_stop(wait: Duration, stop: &CancellationToken) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(wait) => {}
    }
}

/// Follows the feed from the saved checkpoint until `stop`, applying batches. `failing`
/// says the last try failed: the first batch applied reports the projection running again.
async fn follow(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    config: &RunConfig,
    stop: &CancellationToken,
    backoff: &mut Duration,
    failing: &mut bool,
) -> anyhow::Result<()> {
    let checkpoint = name.checkpoint();
    let schema = name.schema();
    batch::ensure_checkpoint(conn, &checkpoint).await?;
    let mut applied: FeedPosition = event_store::checkpoint::load(&mut *conn, &checkpoint).await?;
    let mut feed = store
        .subscribe(applied, config.batch_size)
        .with_poll_interval(config.poll_interval);
    loop {
        let events = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            batch = feed.next_batch() => batch?,
        };
        let full = events.len() as i64 >= config.batch_size;
        match apply_batch(conn, name, &schema, &checkpoint, applied, &events).await? {
            Outcome::Applied(at) => {
                applied = at;
                *backoff = config.min_backoff;
                if *failing {
                    tracing::info!(projection = %name, "projection recovered");
                    report(store.pool(), name, "running", None).await;
                    *failing = false;
                }
                if !full && !config.linger.is_zero() {
                    sleep_or_stop(config.linger, stop).await;
                }
            }
            Outcome::Moved(at) => {
                // A rebuild swapped in new tables and moved the checkpoint.
                tracing::info!(projection = %name, position = %at, "checkpoint moved by a rebuild; following from there");
                applied = at;
                feed.seek(at);
            }
        }
    }
}

/// Applies every event committed so far to the given projections and returns (tests,
/// benchmarks, and tools that need the read models current before they start). Each
/// projection is claimed like in [`run`], waiting for a running runner to let go.
pub async fn catch_up(
    store: &EventStore,
    names: &[ProjectionName],
    batch_size: i64,
) -> anyhow::Result<()> {
    for name in names {
        let mut claim = loop {
            if let Some(claim) = Claim::try_take(store.pool(), &name.checkpoint()).await? {
                break claim;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let result = catch_up_one(store, claim.conn(), *name, batch_size).await;
        claim.release().await;
        result?;
    }
    Ok(())
}

async fn catch_up_one(
    store: &EventStore,
    conn: &mut PgConnection,
    name: ProjectionName,
    batch_size: i64,
) -> anyhow::Result<()> {
    let checkpoint = name.checkpoint();
    let schema = name.schema();
    batch::ensure_checkpoint(conn, &checkpoint).await?;
    let mut applied = event_store::checkpoint::load(&mut *conn, &checkpoint).await?;
    loop {
        let batch = store.read_feed(applied, batch_size).await?;
        if batch.events.is_empty() {
            if batch.pending {
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue;
            }
            return Ok(());
        }
        match apply_batch(conn, name, &schema, &checkpoint, applied, &batch.events).await? {
            Outcome::Applied(at) | Outcome::Moved(at) => applied = at,
        }
    }
}
