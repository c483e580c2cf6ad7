//! Graceful shutdown: one token cancelled on SIGTERM or Ctrl-C, which every task watches,
//! and a deadline that bounds how long a process may take to stop once it was asked to.
//!
//! The deadline exists because "finish what you hold" can hang: a provider that never
//! answers, a database that went away mid-transaction. An orchestrator kills a process that
//! outstays its grace period anyway (SIGKILL), without telling anyone what was lost; a
//! process that stops itself at its own deadline logs what it abandoned first. Nothing
//! abandoned is lost: unacknowledged events are redelivered, claims expire, checkpoints
//! hold the last committed batch.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A token that is cancelled when the process receives SIGTERM or Ctrl-C.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing in-flight work");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// The default bound of a graceful shutdown: inside Kubernetes' and Compose's grace periods
/// (see deploy/), so a process stops itself, and says what it left, before it is killed.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a process may take to stop (flags or environment).
#[derive(Debug, Clone, clap::Args)]
pub struct ShutdownArgs {
    /// Seconds a graceful shutdown may take after SIGTERM/Ctrl-C; what is still running then
    /// is abandoned (logged, and picked up again by the next process) and the process exits.
    #[arg(long, env = "CAREOPS_SHUTDOWN_TIMEOUT_SECONDS", default_value_t = DEFAULT_SHUTDOWN_TIMEOUT.as_secs())]
    pub shutdown_timeout_seconds: u64,
}

impl Default for ShutdownArgs {
    fn default() -> Self {
        Self {
            shutdown_timeout_seconds: DEFAULT_SHUTDOWN_TIMEOUT.as_secs(),
        }
    }
}

impl ShutdownArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_seconds)
    }
}

/// A deadline that starts `grace` after `stop` is cancelled.
///
/// Every part of a process that waits for its tasks shares one deadline (clones share it),
/// so the whole shutdown is bounded, not each step of it. The instant is fixed by the first
/// waiter that sees the cancellation; waiters poll concurrently with the work they bound, so
/// that is within a scheduler tick of the signal.
#[derive(Debug, Clone)]
pub struct Deadline {
    stop: CancellationToken,
    grace: Duration,
    at: Arc<OnceLock<Instant>>,
}

impl Deadline {
    pub fn new(stop: CancellationToken, grace: Duration) -> Self {
        Self {
            stop,
            grace,
            at: Arc::default(),
        }
    }

    /// How long the shutdown may take.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Completes when the shutdown was requested and its grace has run out; never before
    /// `stop` is cancelled.
    pub async fn passed(&self) {
        self.stop.cancelled().await;
        let at = *self.at.get_or_init(|| Instant::now() + self.grace);
        tokio::time::sleep_until(at).await;
    }
}

/// A background task of a process, named for the log.
///
/// Dropped unfinished, it is aborted: whoever holds a process's tasks owns them, so dropping
/// the future that waits for them (a test simulating a crash) stops them too, instead of
/// leaving them running detached.
pub struct NamedTask {
    pub name: &'static str,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl NamedTask {
    /// Spawns a task that has no error to report.
    pub fn spawn<F>(name: &'static str, task: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self::spawn_fallible(name, async move {
            task.await;
            Ok(())
        })
    }

    /// Spawns a task whose error (an unclean stop of a part run in this process, say) makes
    /// the whole stop unclean.
    pub fn spawn_fallible<F>(name: &'static str, task: F) -> Self
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name,
            handle: tokio::spawn(task),
        }
    }
}

impl Drop for NamedTask {
    fn drop(&mut self) {
        // A no-op for a finished task.
        self.handle.abort();
    }
}

/// How a set of tasks ended: which ones failed or panicked, which ones were still running
/// at the deadline (and were aborted).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// `name: error` of each task that returned an error.
    pub failed: Vec<String>,
    pub panicked: Vec<&'static str>,
    pub abandoned: Vec<&'static str>,
}

impl Stopped {
    /// Whether every task finished on its own, in time, without an error.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.panicked.is_empty() && self.abandoned.is_empty()
    }

    /// `Ok` after a clean stop, else an error naming what went wrong (the process's exit
    /// status then says the stop was not clean).
    pub fn into_result(self, grace: Duration) -> anyhow::Result<()> {
        let mut problems = self.failed;
        if !self.panicked.is_empty() {
            problems.push(format!("panicked: {}", self.panicked.join(", ")));
        }
        if !self.abandoned.is_empty() {
            problems.push(format!(
                "still running after the {} s shutdown deadline, abandoned: {}",
                grace.as_secs(),
                self.abandoned.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "not a clean stop ({})",
                problems.join("; ")
            ))
        }
    }
}

/// How one task ended.
enum Ended {
    Done,
    Failed(anyhow::Error),
    Panicked,
}

/// Waits for `tasks` to finish until `deadline` passes, then aborts the rest (logged as a
/// warning each). A task that panics cancels `stop`, so the others stop too instead of
/// running on without it; a task that returns an error is logged and reported.
pub async fn join_until(
    deadline: &Deadline,
    stop: &CancellationToken,
    tasks: Vec<NamedTask>,
) -> Stopped {
    let mut pending = tasks;
    let mut stopped = Stopped::default();
    while !pending.is_empty() {
        let finished = tokio::select! {
            finished = first_finished(&mut pending) => Some(finished),
            _ = deadline.passed() => None,
        };
        match finished {
            Some((index, ended)) => {
                let task = pending.swap_remove(index);
                match ended {
                    Ended::Done => {}
                    Ended::Failed(error) => {
                        tracing::error!(task = task.name, error = %format!("{error:#}"), "a task stopped with an error");
                        stopped.failed.push(format!("{}: {error:#}", task.name));
                    }
                    Ended::Panicked => {
                        tracing::error!(task = task.name, "a task panicked; stopping the others");
                        stopped.panicked.push(task.name);
                        stop.cancel();
                    }
                }
            }
            None => {
                for task in pending.drain(..) {
                    tracing::warn!(
                        task = task.name,
                        grace_seconds = deadline.grace().as_secs(),
                        "shutdown deadline passed; abandoning the task (its unfinished work is picked up again after a restart)"
                    );
                    stopped.abandoned.push(task.name);
                    // Dropping it aborts it.
                }
            }
        }
    }
    stopped
}

/// The index of a finished task and how it ended (its handle is spent).
async fn first_finished(tasks: &mut [NamedTask]) -> (usize, Ended) {
    std::future::poll_fn(|cx| {
        for (index, task) in tasks.iter_mut().enumerate() {
            if let Poll::Ready(result) = Pin::new(&mut task.handle).poll(cx) {
                let ended = match result {
                    Ok(Ok(())) => Ended::Done,
                    Ok(Err(error)) => Ended::Failed(error),
                    Err(error) if error.is_panic() => Ended::Panicked,
                    // Cancelled: only this module aborts its tasks, and not while waiting.
                    Err(_) => Ended::Done,
                };
                return Poll::Ready((index, ended));
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time, short graces: tokio's paused clock needs its `test-util` feature, which
    // would rebuild tokio and everything above it for the whole workspace.
    const GRACE: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn the_deadline_counts_from_the_stop_request_not_from_its_creation() {
        let stop = CancellationToken::new();
        let deadline = Deadline::new(stop.clone(), GRACE);
        tokio::time::sleep(GRACE * 2).await;
        let requested = Instant::now();
        stop.cancel();
        deadline.passed().await;
        let waited = requested.elapsed();
        assert!(waited >= GRACE && waited < GRACE * 2, "{waited:?}");
    }

    #[tokio::test]
    async fn tasks_that_finish_in_time_make_a_clean_stop() {
        let stop = CancellationToken::new();
        let deadline = Deadline::new(stop.clone(), GRACE);
        let quick = {
            let stop = stop.clone();
            NamedTask::spawn("quick", async move {
                stop.cancelled().await;
                tokio::time::sleep(GRACE / 10).await;
            })
        };
        stop.cancel();
        let stopped = join_until(&deadline, &stop, vec![quick]).await;
        assert!(stopped.is_clean(), "{stopped:?}");
        assert!(stopped.into_result(deadline.grace()).is_ok());
    }

    #[tokio::test]
    async fn a_task_still_running_at_the_deadline_is_aborted_and_named() {
        let stop = CancellationToken::new();
        let deadline = Deadline::new(stop.clone(), GRACE);
        let stuck = NamedTask::spawn("stuck", std::future::pending::<()>());
        let stuck_abort = stuck.handle.abort_handle();
        let quick = NamedTask::spawn("quick", async {});
        let requested = Instant::now();
        stop.cancel();
        let stopped = join_until(&deadline, &stop, vec![stuck, quick]).await;
        assert!(requested.elapsed() >= GRACE);
        assert_eq!(stopped.abandoned, ["stuck"]);
        assert!(stopped.panicked.is_empty());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(stuck_abort.is_finished(), "the stuck task was aborted");
        let error = stopped.into_result(GRACE).unwrap_err().to_string();
        assert!(error.contains("abandoned: stuck"), "{error}");
    }

    #[tokio::test]
    async fn a_task_dropped_unfinished_is_aborted() {
        let stuck = NamedTask::spawn("stuck", std::future::pending::<()>());
        let stuck_abort = stuck.handle.abort_handle();
        drop(stuck);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(stuck_abort.is_finished());
    }

    #[tokio::test]
    async fn a_panicking_task_stops_the_others_and_is_reported() {
        let stop = CancellationToken::new();
        let deadline = Deadline::new(stop.clone(), GRACE);
        let follower = {
            let stop = stop.clone();
            NamedTask::spawn("follower", async move { stop.cancelled().await })
        };
        let broken = NamedTask::spawn("broken", async { panic!("broken on purpose") });
        let stopped = join_until(&deadline, &stop, vec![follower, broken]).await;
        assert!(stop.is_cancelled());
        assert_eq!(stopped.panicked, ["broken"]);
        assert!(stopped.abandoned.is_empty());
    }

    #[tokio::test]
    async fn a_task_that_fails_makes_the_stop_unclean_with_its_error() {
        let stop = CancellationToken::new();
        let deadline = Deadline::new(stop.clone(), GRACE);
        let part = NamedTask::spawn_fallible("notifier", async {
            Err(anyhow::anyhow!("abandoned: dispatcher"))
        });
        stop.cancel();
        let stopped = join_until(&deadline, &stop, vec![part]).await;
        assert!(!stopped.is_clean());
        let error = stopped.into_result(GRACE).unwrap_err().to_string();
        assert!(error.contains("notifier: abandoned: dispatcher"), "{error}");
    }
}
