//! The health listener of `notifier run`: `/health` answers while the process lives,
//! `/ready` only when PostgreSQL, NATS and the shared durable consumer all answer, and
//! names what is missing otherwise. Real PostgreSQL and NATS.

mod support;

use std::sync::Arc;
use std::time::Duration;

use notifier::clock::SystemClock;
use reqwest::StatusCode;
use serde_json::Value;
use service_runtime::health::{HealthArgs, HealthListener};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use support::*;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

/// Starts a health listener on a free port with the notifier's checks; its base URL.
async fn listen(
    pool: PgPool,
    consumer: notifier::config::ConsumerConfig,
    stop: &CancellationToken,
) -> String {
    let listener = HealthListener::bind(&HealthArgs {
        health_port: Some(0),
        health_host: "127.0.0.1".into(),
    })
    .await
    .unwrap()
    .expect("a port was configured");
    let base = format!("http://{}", listener.local_addr());
    let nats = async_nats::connect(nats_url()).await.unwrap();
    let readiness = notifier::health::readiness(pool, nats, consumer);
    tokio::spawn(listener.serve(readiness, stop.clone()));
    base
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.expect("the listener answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn ready_once_the_shared_consumer_exists_and_alive_throughout(pool: PgPool) {
    let env = Env::start(pool).await;
    let config = env.config(Arc::new(SystemClock));
    let stop = CancellationToken::new();
    let base = listen(env.pool.clone(), config.consumer.clone(), &stop).await;

    // Before the notifier ran, its consumer does not exist: alive, not ready.
    let (status, body) = get(&format!("{base}/health")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "dependency_unavailable");
    assert_eq!(body["status_code"], 503);
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["nats"], "ok");
    assert_ne!(body["checks"]["consumer"], "ok", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("consumer"),
        "{body}"
    );

    let running = env.spawn(config).await;
    eventually("ready", WAIT, || async {
        get(&format!("{base}/ready")).await.0 == StatusCode::OK
    })
    .await;
    let (_, body) = get(&format!("{base}/ready")).await;
    assert_eq!(body["status"], "ready");
    for check in ["postgres", "nats", "consumer"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }
    running.shutdown().await;

    // The listener stops with the process.
    stop.cancel();
    eventually("the listener closed", WAIT, || async {
        reqwest::get(format!("{base}/health")).await.is_err()
    })
    .await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn not_ready_while_postgres_is_unreachable(pool: PgPool) {
    let env = Env::start(pool).await;
    let config = env.config(Arc::new(SystemClock));
    let running = env.spawn(config.clone()).await;
    // A pool whose server is gone (nothing listens on port 1).
    let gone = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/postgres")
        .unwrap();
    let stop = CancellationToken::new();
    let base = listen(gone, config.consumer.clone(), &stop).await;
    // The consumer exists once the running notifier created it; only PostgreSQL fails.
    eventually("only PostgreSQL failing", WAIT, || async {
        let (status, body) = get(&format!("{base}/ready")).await;
        status == StatusCode::SERVICE_UNAVAILABLE
            && body["checks"]["postgres"] == "unreachable"
            && body["checks"]["nats"] == "ok"
            && body["checks"]["consumer"] == "ok"
    })
    .await;
    let (_, body) = get(&format!("{base}/ready")).await;
    assert_eq!(body["detail"], "not ready: postgres: unreachable");
    assert_eq!(get(&format!("{base}/health")).await.0, StatusCode::OK);
    stop.cancel();
    running.shutdown().await;
}
