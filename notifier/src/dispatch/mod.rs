//! The dispatcher: claims due notifications, prepares, sends and records them.
//!
//! Every replica runs one. A round claims up to `batch_size` due rows (`FOR UPDATE SKIP
//! LOCKED`, leased until `now + lease`) and works on them `concurrency` at a time. A send is
//! recorded (event + row) in one transaction right after it succeeds; a failure is retried
//! with exponential backoff and jitter, and after `max_attempts` tries recorded as
//! `NotificationFailed`, which raises the owner's alert.
//!
//! Recording: a delivery through an idempotent route (file, Resend) that settles no domain
//! fact is recorded together with the others of its round, in one transaction (one commit
//! for many, which is what makes the file transport fast); every other one is recorded
//! right after its send.
//!
//! Crash safety: a message a provider took just before a crash, but not yet recorded, is
//! sent again when the lease ends. For idempotent routes (file, Resend) that is harmless;
//! for the others (SMTP, SendGrid, Twilio) the dispatcher keeps at most one such delivery
//! unrecorded at a time (a process-wide permit held from the send until the record
//! commits), so a crash duplicates at most one message.
//!
//! Shutdown: no new rows are claimed; rows already claimed but not started are released at
//! once for another replica; deliveries in progress finish and are recorded.

mod prepare;
mod record;

use std::sync::Arc;

use chrono::Duration;
use event_store::EventStore;
use futures::StreamExt;
use rand::Rng;
use service_runtime::secrets::SecretBox;
use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::DispatchConfig;
use crate::providers::routes::Routes;
use crate::table::{self, Row};
use prepare::{chrono_duration, PrepareError, Prepared};

/// Claims and delivers due notifications.
pub struct Dispatcher {
    pub(crate) pool: PgPool,
    pub(crate) store: EventStore,
    pub(crate) routes: Arc<Routes>,
    pub(crate) config: DispatchConfig,
    pub(crate) clock: SharedClock,
    pub(crate) secrets: SecretBox,
    pub(crate) public_base_url: String,
    /// Rung by the event consumer when it planned rows that may be due now.
    pub(crate) wake: Arc<Notify>,
    /// One unrecorded non-idempotent delivery at a time.
    pub(crate) serial: Arc<Semaphore>,
}

impl Dispatcher {
    /// Runs rounds until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut failures = 0u32;
        while !stop.is_cancelled() {
            let full = match self.round(&stop).await {
                Ok(claimed) => {
                    failures = 0;
                    claimed as i64 >= self.config.batch_size
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, "claiming due notifications failed");
                    false
                }
            };
            if full {
                continue;
            }
            let pause = if failures > 0 {
                self.config.poll_interval * failures.min(10)
            } else {
                self.config.poll_interval
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("dispatcher stopped");
    }

    /// One claim and its deliveries; returns how many rows were claimed.
    pub async fn round(&self, stop: &CancellationToken) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let rows = table::claim(
            &self.pool,
            now,
            now + chrono_duration(self.config.lease),
            self.config.batch_size,
        )
        .await?;
        let claimed = rows.len();
        if claimed == 0 {
            return Ok(0);
        }
        let preloaded = match self.preload(&rows).await {
            Ok(preloaded) => preloaded,
            Err(error) => {
                tracing::warn!(%error, "preloading a round failed; each row reads its own");
                prepare::Preloaded::default()
            }
        };
        let preloaded = &preloaded;
        let sent = std::sync::Mutex::new(Vec::new());
        futures::stream::iter(rows)
            .for_each_concurrent(self.config.concurrency.max(1), |row| {
                let sent = &sent;
                async move {
                    if stop.is_cancelled() {
                        self.release_now(&row).await;
                    } else if let Some(done) = self.process(row, preloaded).await {
                        sent.lock().unwrap_or_else(|e| e.into_inner()).push(done);
                    }
                }
            })
            .await;
        let sent = sent.into_inner().unwrap_or_else(|e| e.into_inner());
        if !sent.is_empty() {
            self.record_sent_many(sent).await;
        }
        Ok(claimed)
    }

    async fn release_now(&self, row: &Row) {
        let now = self.clock.now();
        if let Err(error) =
            table::release(&self.pool, row, now, row.due_at, row.attempts, None).await
        {
            tracing::warn!(%error, notification_id = %row.id, "releasing a claim failed; it expires with its lease");
        }
    }

    /// Handles one claimed row. An idempotent delivery without a domain fact is returned to be
    /// recorded with the rest of the round (one transaction for many); everything else is
    /// recorded here.
    #[tracing::instrument(skip_all, fields(notification_id = %row.id, kind = row.kind.as_str(), workspace_id = %row.workspace_id))]
    async fn process(&self, row: Row, preloaded: &prepare::Preloaded) -> Option<record::Sent> {
        let now = self.clock.now();
        if preloaded.recorded.contains(&row.id) {
            let closed = self.record_skipped(&row, "already recorded in the event store", now);
            if let Err(error) = closed.await {
                tracing::warn!(%error, "closing an already recorded notification failed");
            }
            return None;
        }
        let result = match self.prepare(&row, now, preloaded).await {
            Ok(Prepared::Skip(reason)) => self.record_skipped(&row, &reason, now).await.map(|_| ()),
            Ok(Prepared::Later(due)) => {
                table::release(&self.pool, &row, due, due, row.attempts, None)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
            Ok(Prepared::Send(delivery)) => {
                let idempotent = delivery.idempotent();
                let _permit = if idempotent {
                    None
                } else {
                    self.serial.clone().acquire_owned().await.ok()
                };
                // Sending on an expired lease could race another dispatcher: renew first
                // (always for non-idempotent routes, whose wait for the permit may be long).
                if !idempotent || row.claimed_at.elapsed() > self.config.lease / 2 {
                    let until = self.clock.now() + chrono_duration(self.config.lease);
                    match table::renew(&self.pool, &row, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::info!("claim lost before sending; another dispatcher has it");
                            return None;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "renewing the claim failed; it is tried again later");
                            return None;
                        }
                    }
                }
                match delivery.send().await {
                    Ok(provider) if idempotent && delivery.fact == prepare::Fact::None => {
                        return Some(record::Sent {
                            row,
                            provider,
                            at: self.clock.now(),
                        });
                    }
                    Ok(provider) => self
                        .record_sent(&row, delivery.fact, provider, self.clock.now())
                        .await
                        .map(|_| ()),
                    Err(error) => self.failed_attempt(&row, &error.to_string()).await,
                }
            }
            Err(PrepareError::Permanent(reason)) => self
                .record_failed(&row, &reason, row.attempts + 1, now)
                .await
                .map(|_| ()),
            Err(PrepareError::Transient(reason)) => self.failed_attempt(&row, &reason).await,
        };
        if let Err(error) = result {
            tracing::warn!(%error, "recording the outcome failed; the claim expires and it is tried again");
        }
        None
    }

    /// A try failed: retry later, or give up after the last one.
    async fn failed_attempt(&self, row: &Row, reason: &str) -> Result<(), record::RecordError> {
        let attempts = row.attempts + 1;
        let now = self.clock.now();
        if attempts >= self.config.max_attempts {
            self.record_failed(row, reason, attempts, now).await?;
            return Ok(());
        }
        let next = now + self.backoff(attempts);
        tracing::info!(%reason, attempts, %next, "delivery failed; will retry");
        table::release(&self.pool, row, next, row.due_at, attempts, Some(reason)).await?;
        Ok(())
    }

    /// The wait before the next try: see [`retry_delay`].
    fn backoff(&self, attempts: u32) -> Duration {
        retry_delay(&self.config, attempts, &mut rand::thread_rng())
    }
}

/// Exponential backoff with jitter: the ceiling is `retry_base · 2^(attempts−1)`, capped at
/// `retry_max`, and the delay is drawn uniformly from the upper half of it. Doubling spaces
/// the tries of a provider that is down; the cap keeps the last ones within the hour of the
/// default settings; the jitter keeps the notifications of one outage (and the replicas)
/// from retrying in lockstep, and the upper half keeps the growth.
fn retry_delay(config: &DispatchConfig, attempts: u32, rng: &mut impl Rng) -> Duration {
    let base = config.retry_base.as_millis() as f64;
    let ceiling = (base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32))
        .min(config.retry_max.as_millis() as f64)
        .max(1.0);
    let millis = rng.gen_range(ceiling / 2.0..=ceiling);
    Duration::milliseconds(millis as i64)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn config(base_ms: u64, max_ms: u64) -> DispatchConfig {
        DispatchConfig {
            retry_base: std::time::Duration::from_millis(base_ms),
            retry_max: std::time::Duration::from_millis(max_ms),
            ..DispatchConfig::default()
        }
    }

    /// The smallest and largest of many delays for one attempt.
    fn range_of(config: &DispatchConfig, attempts: u32) -> (i64, i64) {
        let mut rng = StdRng::seed_from_u64(u64::from(attempts));
        let delays: Vec<i64> = (0..2000)
            .map(|_| retry_delay(config, attempts, &mut rng).num_milliseconds())
            .collect();
        (
            delays.iter().copied().min().unwrap_or_default(),
            delays.iter().copied().max().unwrap_or_default(),
        )
    }

    #[test]
    fn each_delay_lies_in_the_upper_half_of_its_ceiling() {
        let config = config(1000, 60_000);
        for (attempts, ceiling) in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (5, 16_000)] {
            let (low, high) = range_of(&config, attempts);
            assert!(
                low >= ceiling / 2,
                "attempt {attempts}: {low} < {}",
                ceiling / 2
            );
            assert!(high <= ceiling, "attempt {attempts}: {high} > {ceiling}");
        }
    }

    #[test]
    fn the_jitter_spreads_the_delays_over_the_range() {
        let (low, high) = range_of(&config(1000, 60_000), 3);
        // 2000 draws from 2000..=4000 ms come within 5 % of both ends.
        assert!(low < 2100 && high > 3900, "{low}..{high}");
    }

    #[test]
    fn the_delay_doubles_with_each_attempt() {
        let config = config(1000, 60_000);
        let mut rng = StdRng::seed_from_u64(7);
        let mean = |attempts: u32, rng: &mut StdRng| {
            (0..500)
                .map(|_| retry_delay(&config, attempts, rng).num_milliseconds())
                .sum::<i64>()
                / 500
        };
        let means: Vec<i64> = (1..=5).map(|a| mean(a, &mut rng)).collect();
        for pair in means.windows(2) {
            let ratio = pair[1] as f64 / pair[0] as f64;
            assert!((1.8..=2.2).contains(&ratio), "{means:?}");
        }
    }

    #[test]
    fn the_delay_is_capped_at_retry_max_however_many_attempts() {
        let config = config(1000, 10_000);
        for attempts in [5, 6, 10, 31, 1000, u32::MAX] {
            let (low, high) = range_of(&config, attempts);
            assert!(high <= 10_000, "attempt {attempts}: {high}");
            assert!(low >= 5000, "attempt {attempts}: {low}");
        }
    }

    #[test]
    fn attempt_zero_waits_like_the_first() {
        let config = config(1000, 60_000);
        let (low, high) = range_of(&config, 0);
        assert!(low >= 500 && high <= 1000, "{low}..{high}");
    }
}
