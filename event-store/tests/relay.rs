//! The NATS relay against the real JetStream server.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use event_store::relay::{self, RelayConfig};
use event_store::{EventStore, ExpectedVersion, Metadata};
use futures::StreamExt;
use sqlx::PgPool;
use support::nats_proxy::NatsProxy;
use support::{event, nats_url, unique_nats_names, write};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

struct Received {
    msg_id: String,
    subject: String,
    body: serde_json::Value,
}

/// Reads every message of the stream from the start.
async fn read_all(js: &jetstream::Context, stream: &str, expected: usize) -> Vec<Received> {
    let stream = js.get_stream(stream).await.expect("stream exists");
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut received = Vec::new();
    while received.len() < expected {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("message in time")
            .unwrap()
            .unwrap();
        let headers = message.headers.clone().unwrap_or_default();
        received.push(Received {
            msg_id: headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default(),
            subject: message.subject.to_string(),
            body: serde_json::from_slice(&message.payload).unwrap(),
        });
    }
    received
}

async fn stream_message_count(js: &jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

async fn wait_for_count(
    js: &jetstream::Context,
    stream: &str,
    count: u64,
    within: Duration,
) -> u64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let n = stream_message_count(js, stream).await;
        if n >= count || tokio::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn events_appended_while_nats_is_down_are_all_published_once_it_is_back(pool: PgPool) {
    let (stream_name, prefix) = unique_nats_names("relay");
    let direct = async_nats::connect(nats_url())
        .await
        .expect("NATS is running");
    let js = jetstream::new(direct);

    // The relay reaches NATS only through a proxy that starts down.
    let proxy = NatsProxy::start(&nats_url(), false).await;
    let relay_client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(proxy.url.as_str())
        .await
        .unwrap();
    let store = EventStore::new(pool);
    let stop = CancellationToken::new();
    let config = RelayConfig {
        stream_name: stream_name.clone(),
        subject_prefix: prefix.clone(),
        batch_size: 50,
        max_backoff: Duration::from_millis(500),
        ..Default::default()
    };
    let relay_task = tokio::spawn(relay::run(
        store.clone(),
        relay_client,
        config,
        stop.clone(),
    ));

    // Commands keep working while NATS is unreachable.
    let ws = Uuid::now_v7();
    let mut appended = Vec::new();
    for n in 0..300u64 {
        let stream = format!("booking-{}", n % 10);
        let e = event(n);
        appended.push((e.event_id, stream.clone()));
        store
            .append(
                ws,
                &Metadata::default(),
                &[write(&stream, ExpectedVersion::Any, vec![e])],
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        stream_message_count(&js, &stream_name).await,
        0,
        "nothing can be published yet"
    );

    proxy.come_up();
    assert_eq!(
        wait_for_count(&js, &stream_name, 300, Duration::from_secs(30)).await,
        300
    );

    // A second outage in the middle of more appends: the retried batch is not duplicated.
    for n in 300..400u64 {
        if n == 350 {
            proxy.go_down();
        }
        let stream = format!("booking-{}", n % 10);
        let e = event(n);
        appended.push((e.event_id, stream.clone()));
        store
            .append(
                ws,
                &Metadata::default(),
                &[write(&stream, ExpectedVersion::Any, vec![e])],
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.come_up();
    assert_eq!(
        wait_for_count(&js, &stream_name, 400, Duration::from_secs(30)).await,
        400
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stream_message_count(&js, &stream_name).await,
        400,
        "no duplicates"
    );

    let received = read_all(&js, &stream_name, 400).await;
    let ids: HashSet<String> = received.iter().map(|m| m.msg_id.clone()).collect();
    assert_eq!(ids.len(), 400, "each event once by Nats-Msg-Id");
    let expected_ids: HashSet<String> = appended.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(ids, expected_ids);

    let mut last_version: HashMap<String, u64> = HashMap::new();
    for m in &received {
        assert_eq!(m.body["id"].as_str(), Some(m.msg_id.as_str()));
        assert_eq!(m.body["specversion"], "1.0");
        assert_eq!(m.body["source"], format!("/workspaces/{ws}"));
        assert_eq!(m.body["type"], "com.careops.booking.BookingCreated.v1");
        assert_eq!(m.subject, format!("{prefix}.{ws}.booking.BookingCreated"));
        let stream = m.body["subject"].as_str().unwrap().to_string();
        let version = m.body["careopsstreamversion"].as_u64().unwrap();
        let last = last_version.entry(stream.clone()).or_default();
        assert_eq!(version, *last + 1, "stream {stream} out of version order");
        *last = version;
    }

    stop.cancel();
    relay_task.await.unwrap();
    js.delete_stream(&stream_name).await.ok();
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn only_one_relay_publishes_and_a_standby_takes_over_when_it_stops(pool: PgPool) {
    let (stream_name, prefix) = unique_nats_names("takeover");
    let js = jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let store = EventStore::new(pool);
    let config = RelayConfig {
        stream_name: stream_name.clone(),
        subject_prefix: prefix,
        standby_retry: Duration::from_millis(200),
        ..Default::default()
    };
    let first_stop = CancellationToken::new();
    let second_stop = CancellationToken::new();
    let first = tokio::spawn(relay::run(
        store.clone(),
        async_nats::connect(nats_url()).await.unwrap(),
        config.clone(),
        first_stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = tokio::spawn(relay::run(
        store.clone(),
        async_nats::connect(nats_url()).await.unwrap(),
        config.clone(),
        second_stop.clone(),
    ));

    let ws = Uuid::now_v7();
    for n in 0..100u64 {
        store
            .append(
                ws,
                &Metadata::default(),
                &[write(
                    &format!("s-{}", n % 5),
                    ExpectedVersion::Any,
                    vec![event(n)],
                )],
            )
            .await
            .unwrap();
    }
    assert_eq!(
        wait_for_count(&js, &stream_name, 100, Duration::from_secs(10)).await,
        100
    );
    let leader_checkpoint = event_store::checkpoint::load(store.pool(), "nats-relay")
        .await
        .unwrap();
    assert!(leader_checkpoint.position > 0);

    // The leader stops; the standby picks up from the checkpoint.
    first_stop.cancel();
    first.await.unwrap();
    for n in 100..200u64 {
        store
            .append(
                ws,
                &Metadata::default(),
                &[write(
                    &format!("s-{}", n % 5),
                    ExpectedVersion::Any,
                    vec![event(n)],
                )],
            )
            .await
            .unwrap();
    }
    assert_eq!(
        wait_for_count(&js, &stream_name, 200, Duration::from_secs(10)).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stream_message_count(&js, &stream_name).await, 200);

    second_stop.cancel();
    second.await.unwrap();
    js.delete_stream(&stream_name).await.ok();
}
