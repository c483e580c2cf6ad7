//! What `GET /ready` of `notifier run` checks: PostgreSQL (the timers and the event store),
//! NATS, and the durable consumer the replicas share. The consumer is the notifier's own
//! dependency: a connected client whose consumer is gone (a stream deleted and not yet
//! recreated, a JetStream without quorum) receives nothing, and that must show as "not
//! ready" rather than as a healthy idle process.

use std::sync::Arc;

use async_nats::jetstream;
use service_runtime::health::{self, Check, Readiness, CHECK_TIMEOUT};
use sqlx::PgPool;

use crate::config::ConsumerConfig;

/// The notifier's readiness checks.
pub fn readiness(pool: PgPool, nats: async_nats::Client, consumer: ConsumerConfig) -> Readiness {
    Arc::new(move || {
        let (pool, nats, consumer) = (pool.clone(), nats.clone(), consumer.clone());
        Box::pin(async move {
            vec![
                health::postgres(&pool).await,
                health::nats(&nats),
                durable_consumer(&nats, &consumer).await,
            ]
        })
    })
}

/// The shared durable consumer exists on its stream and JetStream answers for it.
async fn durable_consumer(nats: &async_nats::Client, config: &ConsumerConfig) -> Check {
    let jetstream = jetstream::new(nats.clone());
    let lookup = async {
        let stream = jetstream
            .get_stream(&config.stream_name)
            .await
            .map_err(|e| format!("stream {}: {e}", config.stream_name))?;
        stream
            .consumer_info(&config.durable_name)
            .await
            .map_err(|e| format!("consumer {}: {e}", config.durable_name))?;
        Ok::<(), String>(())
    };
    match tokio::time::timeout(CHECK_TIMEOUT, lookup).await {
        Ok(Ok(())) => Check::ok("consumer"),
        Ok(Err(problem)) => Check::failed("consumer", problem),
        Err(_) => Check::failed("consumer", "JetStream did not answer in time"),
    }
}
