//! Erasure and the NATS relay against the real JetStream server: published payloads are
//! decrypted, an erased subject's messages leave the stream, and a replay of the log shows
//! the subject as erased.

mod support;

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use event_store::relay::{self, RelayConfig};
use event_store::{erase_subject, EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{nats_url, unique_nats_names};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Every message body currently in the stream, from the start (a new subscriber's replay).
async fn replay(js: &jetstream::Context, stream: &str) -> Vec<Value> {
    let mut stream = js.get_stream(stream).await.expect("stream exists");
    let count = stream.info().await.unwrap().state.messages as usize;
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut bodies = Vec::new();
    while bodies.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("message in time")
            .unwrap()
            .unwrap();
        bodies.push(serde_json::from_slice(&message.payload).unwrap());
    }
    bodies
}

async fn message_count(js: &jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Waits until the stream holds exactly `count` messages.
async fn wait_for_exactly(js: &jetstream::Context, stream: &str, count: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let n = message_count(js, stream).await;
        if n == count || tokio::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start_relay(
    store: &EventStore,
    nats: async_nats::Client,
    stream_name: &str,
    prefix: &str,
    checkpoint: &str,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let config = RelayConfig {
        stream_name: stream_name.into(),
        subject_prefix: prefix.into(),
        checkpoint_name: checkpoint.into(),
        erasure_sweep: Duration::from_millis(100),
        ..Default::default()
    };
    let task = tokio::spawn(relay::run(store.clone(), nats, config, stop.clone()));
    (stop, task)
}

fn contact_event(contact: Uuid, event_type: &str, name: &str) -> NewEvent {
    NewEvent::new(
        event_type,
        1,
        json!({"contact_id": contact, "name": name, "email": format!("{}@example.com", name.to_lowercase())}),
    )
    .with_personal_fields(contact, ["name", "email"])
}

fn bodies_mentioning<'a>(bodies: &'a [Value], needle: &str) -> Vec<&'a Value> {
    bodies
        .iter()
        .filter(|b| b.to_string().contains(needle))
        .collect()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_erased_subjects_published_messages_leave_the_stream_and_a_replay_shows_it_erased(
    pool: PgPool,
) {
    let (stream_name, prefix) = unique_nats_names("erasure");
    let nats = async_nats::connect(nats_url())
        .await
        .expect("NATS is running");
    let js = jetstream::new(nats.clone());
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let (mia, ada) = (Uuid::now_v7(), Uuid::now_v7());
    let append = |writes: Vec<StreamWrite>| {
        let store = store.clone();
        async move {
            store
                .append(ws, &Metadata::default(), &writes)
                .await
                .unwrap()
        }
    };
    append(vec![
        StreamWrite::new(
            "contact",
            format!("contact-{mia}"),
            ExpectedVersion::NoStream,
            vec![
                contact_event(mia, "ContactCreated", "Miaquint"),
                contact_event(mia, "ContactUpdated", "Miaquintessa"),
            ],
        ),
        StreamWrite::new(
            "contact",
            format!("contact-{ada}"),
            ExpectedVersion::NoStream,
            vec![contact_event(ada, "ContactCreated", "Adabyron")],
        ),
    ])
    .await;
    append(vec![support::write(
        "booking-1",
        ExpectedVersion::NoStream,
        vec![support::event(1)],
    )])
    .await;

    let (stop, task) = start_relay(&store, nats.clone(), &stream_name, &prefix, "relay-a");
    assert_eq!(wait_for_exactly(&js, &stream_name, 4).await, 4);
    let published = replay(&js, &stream_name).await;
    assert_eq!(
        bodies_mentioning(&published, "Miaquint").len(),
        2,
        "payloads are published decrypted"
    );
    assert!(published.iter().all(|b| !b.to_string().contains("$enc")));

    // Erase Mia, recording it in the same transaction.
    let mut tx = pool.begin().await.unwrap();
    assert!(erase_subject(&mut tx, ws, mia).await.unwrap());
    store
        .append_in(
            &mut tx,
            ws,
            &Metadata::default(),
            &[StreamWrite::new(
                "contact",
                format!("contact-{mia}"),
                ExpectedVersion::Exact(2),
                vec![NewEvent::new(
                    "ContactErased",
                    1,
                    json!({"contact_id": mia}),
                )],
            )],
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.appended();

    // Mia's two messages are deleted; Ada's, the booking and ContactErased stay.
    assert_eq!(wait_for_exactly(&js, &stream_name, 3).await, 3);
    let replayed = replay(&js, &stream_name).await;
    assert!(bodies_mentioning(&replayed, "Miaquint").is_empty());
    assert_eq!(bodies_mentioning(&replayed, "Adabyron").len(), 1);
    assert_eq!(
        replayed
            .iter()
            .filter(|b| b["type"] == "com.careops.contact.ContactErased.v1")
            .count(),
        1
    );
    // The sweep forgets the messages right after deleting them from the stream: wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from relay_personal_messages where subject_id = $1",
        )
        .bind(mia)
        .fetch_one(&pool)
        .await
        .unwrap();
        if left == 0 || tokio::time::Instant::now() > deadline {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(left, 0, "the sweep is done with Mia");
    stop.cancel();
    task.await.unwrap();

    // A relay replaying the whole log into a fresh stream shows Mia's fields as erased.
    let (fresh_stream, fresh_prefix) = unique_nats_names("erasure_replay");
    let (stop, task) = start_relay(
        &store,
        nats.clone(),
        &fresh_stream,
        &fresh_prefix,
        "relay-b",
    );
    assert_eq!(wait_for_exactly(&js, &fresh_stream, 5).await, 5);
    let fresh = replay(&js, &fresh_stream).await;
    assert!(bodies_mentioning(&fresh, "Miaquint").is_empty());
    let mias: Vec<&Value> = fresh
        .iter()
        .filter(|b| b["data"]["contact_id"] == json!(mia) && b["data"].get("name").is_some())
        .collect();
    assert_eq!(mias.len(), 2);
    for body in mias {
        assert_eq!(body["data"]["name"], json!({"erased": true}));
        assert_eq!(body["data"]["email"], json!({"erased": true}));
    }
    // Nothing of Mia's was recorded for deletion: these messages carry no personal data.
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from relay_personal_messages where subject_id = $1")
            .bind(mia)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recorded, 0);
    stop.cancel();
    task.await.unwrap();

    js.delete_stream(&stream_name).await.ok();
    js.delete_stream(&fresh_stream).await.ok();
}
