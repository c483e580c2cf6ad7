//! Crypto-shredding against the real database: personal fields are encrypted at append,
//! decrypted by every reader, and read as erased once the subject's key is destroyed.

mod support;

use event_store::{
    erase_subject, is_erased, AppendError, AuditFilter, EventStore, ExpectedVersion, FeedPosition,
    Metadata, NewEvent, StreamWrite, Upcasters,
};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::read_settled;
use uuid::Uuid;

const NAME: &str = "Mia Quinterra-Jones";
const EMAIL: &str = "mia.quinterra@example.com";

fn erased() -> Value {
    json!({"erased": true})
}

fn contact_created(contact: Uuid, ws: Uuid) -> NewEvent {
    NewEvent::new(
        "ContactCreated",
        1,
        json!({"contact_id": contact, "workspace_id": ws, "name": NAME, "email": EMAIL, "phone": null}),
    )
    .with_personal_fields(contact, ["name", "email", "phone"])
}

fn contact_write(contact: Uuid, expected: ExpectedVersion, events: Vec<NewEvent>) -> StreamWrite {
    StreamWrite::new("contact", format!("contact-{contact}"), expected, events)
}

async fn append_contact(store: &EventStore, ws: Uuid, contact: Uuid) -> NewEvent {
    let event = contact_created(contact, ws);
    store
        .append(
            ws,
            &Metadata::default(),
            &[contact_write(
                contact,
                ExpectedVersion::NoStream,
                vec![event.clone()],
            )],
        )
        .await
        .expect("append");
    event
}

async fn raw_data(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select data::text from events order by position")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn erase(pool: &PgPool, ws: Uuid, subject: Uuid) -> bool {
    let mut tx = pool.begin().await.unwrap();
    let erased = erase_subject(&mut tx, ws, subject).await.unwrap();
    tx.commit().await.unwrap();
    erased
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn personal_fields_are_stored_encrypted_and_read_back_in_clear(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let event = append_contact(&store, ws, contact).await;

    let raw = raw_data(&pool).await;
    assert_eq!(raw.len(), 1);
    assert!(
        !raw[0].contains("Mia") && !raw[0].contains("example.com"),
        "{}",
        raw[0]
    );
    let stored: Value = serde_json::from_str(&raw[0]).unwrap();
    for field in ["name", "email", "phone"] {
        assert!(
            stored[field]["$enc"].is_string(),
            "{field} sealed: {stored}"
        );
        assert_eq!(stored[field]["subject"], json!(contact.to_string()));
    }
    assert_eq!(
        stored["contact_id"],
        json!(contact),
        "other fields stay in clear"
    );

    let stream = store
        .read_stream(&format!("contact-{contact}"), 0)
        .await
        .unwrap();
    assert_eq!(stream[0].data, event.data);
    assert_eq!(stream[0].personal_subjects, vec![contact]);
    let streams = store
        .read_streams(&[format!("contact-{contact}")])
        .await
        .unwrap();
    assert_eq!(streams[&format!("contact-{contact}")][0].data, event.data);
    let one = store.event(event.event_id).await.unwrap().unwrap();
    assert_eq!(one.data, event.data);
    let audit = store
        .audit(
            ws,
            &AuditFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.events[0].data, event.data);
    let feed = read_settled(&store, FeedPosition::START, 10).await;
    assert_eq!(feed.events[0].data, event.data);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn after_erasure_every_reader_shows_the_personal_fields_as_erased(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let event = append_contact(&store, ws, contact).await;
    assert!(!is_erased(&pool, contact).await.unwrap());

    assert!(erase(&pool, ws, contact).await);
    assert!(is_erased(&pool, contact).await.unwrap());

    let expected = json!({"contact_id": contact, "workspace_id": ws,
                          "name": erased(), "email": erased(), "phone": erased()});
    let stream = store
        .read_stream(&format!("contact-{contact}"), 0)
        .await
        .unwrap();
    assert_eq!(stream[0].data, expected);
    assert!(stream[0].personal_subjects.is_empty());
    let streams = store
        .read_streams(&[format!("contact-{contact}")])
        .await
        .unwrap();
    assert_eq!(streams[&format!("contact-{contact}")][0].data, expected);
    assert_eq!(
        store.event(event.event_id).await.unwrap().unwrap().data,
        expected
    );
    let audit = store
        .audit(
            ws,
            &AuditFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.events[0].data, expected);
    let feed = read_settled(&store, FeedPosition::START, 10).await;
    assert_eq!(feed.events[0].data, expected);

    // The log itself is untouched (append-only): the same sealed row as before.
    let raw = raw_data(&pool).await;
    assert_eq!(raw.len(), 1);
    assert!(raw[0].contains("$enc"));
    let key: Option<Vec<u8>> =
        sqlx::query_scalar("select key from personal_data_keys where subject_id = $1")
            .bind(contact)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(key, None, "the key is destroyed");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn each_subject_has_its_own_key_and_erasing_one_leaves_the_others_readable(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let ws = Uuid::now_v7();
    let (mia, ada) = (Uuid::now_v7(), Uuid::now_v7());
    // One append, two subjects, several events each, and a booking whose notes are Mia's.
    let booking = NewEvent::new(
        "BookingCreated",
        1,
        json!({"booking_id": Uuid::now_v7(), "contact_id": mia, "notes": "allergic to latex"}),
    )
    .with_personal_fields(mia, ["notes"]);
    let ada_created = NewEvent::new(
        "ContactCreated",
        1,
        json!({"contact_id": ada, "name": "Ada Byron", "email": null}),
    )
    .with_personal_fields(ada, ["name", "email"]);
    let ada_updated = NewEvent::new(
        "ContactUpdated",
        1,
        json!({"contact_id": ada, "name": "Ada Lovelace", "email": "ada@example.org"}),
    )
    .with_personal_fields(ada, ["name", "email"]);
    store
        .append(
            ws,
            &Metadata::default(),
            &[
                contact_write(
                    mia,
                    ExpectedVersion::NoStream,
                    vec![contact_created(mia, ws)],
                ),
                contact_write(
                    ada,
                    ExpectedVersion::NoStream,
                    vec![ada_created.clone(), ada_updated.clone()],
                ),
                StreamWrite::new(
                    "booking",
                    "booking-1",
                    ExpectedVersion::NoStream,
                    vec![booking],
                ),
            ],
        )
        .await
        .unwrap();
    let keys: i64 = sqlx::query_scalar("select count(*) from personal_data_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 2, "one key per subject");
    for raw in raw_data(&pool).await {
        for secret in ["Mia", "Ada", "latex", "example"] {
            assert!(!raw.contains(secret), "{secret} in {raw}");
        }
    }

    assert!(erase(&pool, ws, mia).await);
    let feed = read_settled(&store, FeedPosition::START, 10).await;
    let data: Vec<&Value> = feed.events.iter().map(|e| &e.data).collect();
    assert_eq!(data[0]["name"], erased());
    assert_eq!(data[1], &ada_created.data);
    assert_eq!(data[2], &ada_updated.data);
    assert_eq!(data[3]["notes"], erased());
    assert_eq!(data[3]["contact_id"], json!(mia));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_erased_subject_gets_no_new_key_and_its_personal_data_is_refused(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    append_contact(&store, ws, contact).await;
    assert!(erase(&pool, ws, contact).await);

    let update = NewEvent::new(
        "ContactUpdated",
        1,
        json!({"contact_id": contact, "name": NAME}),
    )
    .with_personal_fields(contact, ["name"]);
    let refused = store
        .append(
            ws,
            &Metadata::default(),
            &[contact_write(
                contact,
                ExpectedVersion::Exact(1),
                vec![update],
            )],
        )
        .await;
    assert!(
        matches!(refused, Err(AppendError::Erased { subject_id }) if subject_id == contact),
        "{refused:?}"
    );
    assert_eq!(
        store
            .stream_version(&format!("contact-{contact}"))
            .await
            .unwrap(),
        1,
        "nothing written"
    );
    assert!(is_erased(&pool, contact).await.unwrap(), "no key recreated");

    // Events without personal data still append to the erased contact's stream.
    let erased_event = NewEvent::new("ContactErased", 1, json!({"contact_id": contact}));
    store
        .append(
            ws,
            &Metadata::default(),
            &[contact_write(
                contact,
                ExpectedVersion::Exact(1),
                vec![erased_event],
            )],
        )
        .await
        .unwrap();

    // A subject erased before it ever had personal data is refused as well.
    let never = Uuid::now_v7();
    assert!(erase(&pool, ws, never).await);
    let refused = store
        .append(
            ws,
            &Metadata::default(),
            &[contact_write(
                never,
                ExpectedVersion::NoStream,
                vec![contact_created(never, ws)],
            )],
        )
        .await;
    assert!(matches!(refused, Err(AppendError::Erased { .. })));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn erasure_commits_or_rolls_back_with_the_callers_transaction(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let event = append_contact(&store, ws, contact).await;

    let mut tx = pool.begin().await.unwrap();
    assert!(erase_subject(&mut tx, ws, contact).await.unwrap());
    tx.rollback().await.unwrap();
    assert_eq!(
        store.event(event.event_id).await.unwrap().unwrap().data,
        event.data
    );

    // Erasure and the event recording it, in one transaction.
    let mut tx = pool.begin().await.unwrap();
    assert!(erase_subject(&mut tx, ws, contact).await.unwrap());
    store
        .append_in(
            &mut tx,
            ws,
            &Metadata::default(),
            &[contact_write(
                contact,
                ExpectedVersion::Exact(1),
                vec![NewEvent::new(
                    "ContactErased",
                    1,
                    json!({"contact_id": contact}),
                )],
            )],
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.event(event.event_id).await.unwrap().unwrap().data["name"],
        erased()
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn erasing_twice_or_another_workspaces_subject_changes_nothing(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, other_ws, contact) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let event = append_contact(&store, ws, contact).await;

    assert!(
        !erase(&pool, other_ws, contact).await,
        "not that workspace's"
    );
    assert_eq!(
        store.event(event.event_id).await.unwrap().unwrap().data,
        event.data
    );
    assert!(erase(&pool, ws, contact).await);
    assert!(!erase(&pool, ws, contact).await, "already erased");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn concurrent_first_appends_for_one_subject_share_one_key(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let event = NewEvent::new(
                "MessageReceived",
                1,
                json!({"contact_id": contact, "body": format!("message {n}")}),
            )
            .with_personal_fields(contact, ["body"]);
            store
                .append(
                    ws,
                    &Metadata::default(),
                    &[StreamWrite::new(
                        "conversation",
                        format!("conversation-{n}"),
                        ExpectedVersion::NoStream,
                        vec![event],
                    )],
                )
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every append succeeds");
    }
    let feed = read_settled(&store, FeedPosition::START, 100).await;
    let mut bodies: Vec<String> = feed
        .events
        .iter()
        .map(|e| e.data["body"].as_str().unwrap().to_string())
        .collect();
    bodies.sort();
    assert_eq!(bodies.len(), 16);
    assert!(bodies.iter().all(|b| b.starts_with("message ")));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn events_without_personal_data_are_stored_exactly_as_given(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let event = support::event(1);
    store
        .append(
            Uuid::now_v7(),
            &Metadata::default(),
            &[support::write(
                "booking-1",
                ExpectedVersion::NoStream,
                vec![event.clone()],
            )],
        )
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(&raw_data(&pool).await[0]).unwrap();
    assert_eq!(stored, event.data);
    let keys: i64 = sqlx::query_scalar("select count(*) from personal_data_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn personal_fields_are_decrypted_before_old_payloads_are_upcast(pool: PgPool) {
    let (ws, contact) = (Uuid::now_v7(), Uuid::now_v7());
    // Version 1 called the field `full_name`; version 2 renames it to `name`.
    let old = NewEvent::new(
        "ContactCreated",
        1,
        json!({"contact_id": contact, "full_name": NAME}),
    )
    .with_personal_fields(contact, ["full_name"]);
    EventStore::new(pool.clone())
        .append(
            ws,
            &Metadata::default(),
            &[contact_write(contact, ExpectedVersion::NoStream, vec![old])],
        )
        .await
        .unwrap();
    let store = EventStore::with_upcasters(
        pool.clone(),
        Upcasters::new().register("ContactCreated", 1, |mut v| {
            if let Some(map) = v.as_object_mut() {
                let name = map.remove("full_name").unwrap_or(Value::Null);
                map.insert("name".into(), name);
            }
            v
        }),
    );
    let read = store
        .read_stream(&format!("contact-{contact}"), 0)
        .await
        .unwrap();
    assert_eq!(read[0].schema_version, 2);
    assert_eq!(read[0].data, json!({"contact_id": contact, "name": NAME}));
    assert!(erase(&pool, ws, contact).await);
    let read = store
        .read_stream(&format!("contact-{contact}"), 0)
        .await
        .unwrap();
    assert_eq!(
        read[0].data,
        json!({"contact_id": contact, "name": erased()})
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_read_model_role_cannot_read_the_keys(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    append_contact(&store, Uuid::now_v7(), Uuid::now_v7()).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local role careops_reader")
        .execute(&mut *tx)
        .await
        .unwrap();
    let denied = sqlx::query("select key from personal_data_keys")
        .fetch_all(&mut *tx)
        .await;
    let code = match denied {
        Err(sqlx::Error::Database(db)) => db.code().map(|c| c.to_string()),
        other => panic!("the reader read the keys: {other:?}"),
    };
    assert_eq!(code.as_deref(), Some("42501"), "insufficient privilege");
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_key_statement_does_not_leave_its_connection_committing_asynchronously(pool: PgPool) {
    // One connection, so the check runs on the connection that appended.
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let store = EventStore::new(single.clone());
    append_contact(&store, Uuid::now_v7(), Uuid::now_v7()).await;
    let setting: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(&single)
        .await
        .unwrap();
    assert_eq!(setting, "on");
}
