//! Waking feed readers when events are appended.
//!
//! Readers poll the feed, but idle polling is slow or wasteful, so appends wake them:
//! in-process readers directly, other processes through PostgreSQL LISTEN/NOTIFY.
//! NOTIFY is never issued inside the appending transaction: PostgreSQL serialises the
//! commits of notifying transactions, which would be a global lock on the write path.
//! Instead a background task sends one `pg_notify` after appends, coalescing bursts.
//! Notifications are only hints; readers fall back to polling when one is lost.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The LISTEN/NOTIFY channel announcing appended events.
pub const CHANNEL: &str = "careops_events";

#[derive(Clone)]
pub(crate) struct Wakeup {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// Bumped on every wake-up; readers wait on a receiver.
    generation: watch::Sender<u64>,
    /// Appends ask the notify task for one `pg_notify`; a full channel means one is already due.
    notify_requests: OnceLock<mpsc::Sender<()>>,
    listener_started: OnceLock<()>,
    /// Stops the background tasks when the last handle goes away.
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Wakeup {
    pub(crate) fn new(pool: PgPool) -> Self {
        let (generation, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                pool,
                generation,
                notify_requests: OnceLock::new(),
                listener_started: OnceLock::new(),
                stop: CancellationToken::new(),
            }),
        }
    }

    /// Called after a committed append.
    pub(crate) fn appended(&self) {
        self.wake_local();
        let sender = self.inner.notify_requests.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(1);
            tokio::spawn(notify_task(
                self.inner.pool.clone(),
                receiver,
                self.inner.stop.clone(),
            ));
            sender
        });
        // Full: a notification is already on its way and will cover this append too.
        let _ = sender.try_send(());
    }

    fn wake_local(&self) {
        self.inner
            .generation
            .send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A receiver that changes whenever events may have been appended, in this process or
    /// another.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.listener_started.get_or_init(|| {
            tokio::spawn(listen_task(
                self.inner.pool.clone(),
                Arc::downgrade(&self.inner),
                self.inner.stop.clone(),
            ));
        });
        self.inner.generation.subscribe()
    }
}

async fn notify_task(pool: PgPool, mut requests: mpsc::Receiver<()>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            request = requests.recv() => if request.is_none() { return },
        }
        // A notification is a hint, so its transaction need not wait for a durable commit
        // (NOTIFY takes a transaction id, and a synchronous commit would add an fsync per
        // wake-up to the write path's WAL traffic). `set_config(.., true)` applies to this
        // statement's own transaction only.
        if let Err(error) =
            sqlx::query("select set_config('synchronous_commit', 'off', true), pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&pool)
                .await
        {
            tracing::debug!(%error, "could not send the append notification; readers will poll");
        }
    }
}

async fn listen_task(pool: PgPool, inner: Weak<Inner>, stop: CancellationToken) {
    loop {
        let listened = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            // Anything appended while we were not listening: wake readers once.
            wake(&inner);
            loop {
                listener.recv().await?;
                wake(&inner);
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            result = listened => if let Err(error) = result {
                tracing::debug!(%error, "append listener lost its connection; retrying");
            },
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {},
        }
    }
}

fn wake(inner: &Weak<Inner>) {
    if let Some(inner) = inner.upgrade() {
        inner.generation.send_modify(|g| *g = g.wrapping_add(1));
    }
}
