//! Appends: atomic across streams, optimistic concurrency with typed conflicts.

mod support;

use std::sync::Arc;

use event_store::{AppendError, EventStore, ExpectedVersion, Metadata};
use sqlx::PgPool;
use support::{event, write};
use uuid::Uuid;

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn fifty_concurrent_appends_at_the_same_version_let_exactly_one_through(pool: PgPool) {
    let store = EventStore::new(pool);
    let workspace = Uuid::now_v7();
    store
        .append(
            workspace,
            &Metadata::default(),
            &[write(
                "booking-1",
                ExpectedVersion::NoStream,
                vec![event(0)],
            )],
        )
        .await
        .unwrap();

    let store = Arc::new(store);
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let attempts = (0..50).map(|n| {
        let store = store.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            store
                .append(
                    workspace,
                    &Metadata::default(),
                    &[write(
                        "booking-1",
                        ExpectedVersion::Exact(1),
                        vec![event(n)],
                    )],
                )
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;

    let (ok, conflicts, other) =
        results
            .into_iter()
            .map(|r| r.unwrap())
            .fold((0, 0, 0), |(ok, c, o), r| match r {
                Ok(_) => (ok + 1, c, o),
                Err(AppendError::Conflict { .. }) => (ok, c + 1, o),
                Err(_) => (ok, c, o + 1),
            });
    assert_eq!((ok, conflicts, other), (1, 49, 0));
    assert_eq!(store.stream_version("booking-1").await.unwrap(), 2);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_multi_stream_append_with_one_clashing_stream_writes_nothing(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let meta = Metadata::default();
    store
        .append(
            ws,
            &meta,
            &[write("a", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();
    store
        .append(
            ws,
            &meta,
            &[write("b", ExpectedVersion::NoStream, vec![event(2)])],
        )
        .await
        .unwrap();

    let result = store
        .append(
            ws,
            &meta,
            &[
                write("a", ExpectedVersion::Exact(1), vec![event(3), event(4)]),
                write("c", ExpectedVersion::NoStream, vec![event(5)]),
                write("b", ExpectedVersion::NoStream, vec![event(6)]),
            ],
        )
        .await;

    match result {
        Err(AppendError::Conflict {
            stream_id,
            expected,
            actual,
        }) => {
            assert_eq!(stream_id, "b");
            assert_eq!(expected, ExpectedVersion::NoStream);
            assert_eq!(actual, Some(1));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.stream_version("a").await.unwrap(), 1);
    assert_eq!(store.stream_version("c").await.unwrap(), 0);
    let total: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(total, 2);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn expected_versions_behind_or_ahead_of_the_stream_are_conflicts(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let meta = Metadata::default();
    store
        .append(
            ws,
            &meta,
            &[write(
                "s",
                ExpectedVersion::NoStream,
                vec![event(1), event(2)],
            )],
        )
        .await
        .unwrap();

    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(3),
    ] {
        let result = store
            .append(ws, &meta, &[write("s", expected, vec![event(9)])])
            .await;
        assert!(
            matches!(
                result,
                Err(AppendError::Conflict {
                    actual: Some(2),
                    ..
                })
            ),
            "{expected:?}: {result:?}"
        );
    }
    let outcome = store
        .append(
            ws,
            &meta,
            &[write("s", ExpectedVersion::Exact(2), vec![event(3)])],
        )
        .await
        .unwrap();
    assert_eq!(outcome.stream_versions, vec![("s".to_string(), 3)]);
    let outcome = store
        .append(
            ws,
            &meta,
            &[write("s", ExpectedVersion::Any, vec![event(4)])],
        )
        .await
        .unwrap();
    assert_eq!(outcome.stream_versions, vec![("s".to_string(), 4)]);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_check_only_write_guards_a_stream_without_writing_to_it(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let meta = Metadata::default();
    store
        .append(
            ws,
            &meta,
            &[write("schedule", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();

    let stale = store
        .append(
            ws,
            &meta,
            &[
                write("schedule", ExpectedVersion::NoStream, vec![]),
                write("x", ExpectedVersion::NoStream, vec![event(2)]),
            ],
        )
        .await;
    assert!(matches!(stale, Err(AppendError::Conflict { .. })));
    let fresh = store
        .append(
            ws,
            &meta,
            &[
                write("schedule", ExpectedVersion::Exact(1), vec![]),
                write("x", ExpectedVersion::NoStream, vec![event(2)]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(fresh.stream_versions, vec![("x".to_string(), 1)]);
    assert_eq!(store.stream_version("schedule").await.unwrap(), 1);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn concurrent_appends_with_any_version_all_succeed(pool: PgPool) {
    let store = Arc::new(EventStore::new(pool));
    let ws = Uuid::now_v7();
    let tasks = (0..20).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append(
                    ws,
                    &Metadata::default(),
                    &[write("busy", ExpectedVersion::Any, vec![event(n)])],
                )
                .await
        })
    });
    for result in futures::future::join_all(tasks).await {
        result.unwrap().unwrap();
    }
    let versions: Vec<i64> =
        sqlx::query_scalar("select stream_version from events where stream_id = 'busy' order by 1")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn appending_a_stream_twice_in_one_request_or_nothing_is_refused(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let meta = Metadata::default();
    let twice = store
        .append(
            ws,
            &meta,
            &[
                write("s", ExpectedVersion::Any, vec![event(1)]),
                write("s", ExpectedVersion::Any, vec![event(2)]),
            ],
        )
        .await;
    assert!(matches!(twice, Err(AppendError::Invalid(_))));
    assert!(matches!(
        store.append(ws, &meta, &[]).await,
        Err(AppendError::Invalid(_))
    ));
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_events_table_refuses_update_delete_and_truncate(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    store
        .append(
            Uuid::now_v7(),
            &Metadata::default(),
            &[write("s", ExpectedVersion::NoStream, vec![event(1)])],
        )
        .await
        .unwrap();
    for statement in [
        "update events set data = '{}'::jsonb",
        "delete from events",
        "truncate events",
    ] {
        let error = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    let count: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn metadata_and_envelope_are_stored_with_every_event(pool: PgPool) {
    let store = EventStore::new(pool);
    let ws = Uuid::now_v7();
    let actor = Uuid::now_v7();
    let meta = Metadata {
        actor_id: Some(actor),
        actor_role: Some("owner".into()),
        correlation_id: Some("req-7".into()),
        causation_id: Some("cmd-1".into()),
        request_id: Some("req-7".into()),
    };
    let e = event(1);
    store
        .append(
            ws,
            &meta,
            &[write(
                "booking-9",
                ExpectedVersion::NoStream,
                vec![e.clone()],
            )],
        )
        .await
        .unwrap();
    let read = store.read_stream("booking-9", 0).await.unwrap();
    assert_eq!(read.len(), 1);
    let got = &read[0];
    assert_eq!(got.event_id, e.event_id);
    assert_eq!(got.event_id.get_version_num(), 7);
    assert_eq!(got.workspace_id, ws);
    assert_eq!(
        (
            got.stream_type.as_str(),
            got.stream_id.as_str(),
            got.stream_version
        ),
        ("booking", "booking-9", 1)
    );
    assert_eq!(
        (got.event_type.as_str(), got.schema_version),
        ("BookingCreated", 1)
    );
    assert_eq!(got.data, e.data);
    assert_eq!(got.metadata, meta);
    assert!(got.position > 0 && got.tx > 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_write_with_its_own_metadata_keeps_it_and_the_others_take_the_appends(pool: PgPool) {
    let store = EventStore::new(pool);
    let workspace = Uuid::now_v7();
    let shared = Metadata {
        actor_role: Some("system".into()),
        ..Metadata::default()
    };
    let own = Metadata {
        actor_role: Some("system".into()),
        correlation_id: Some("request-7".into()),
        causation_id: Some("cause-7".into()),
        ..Metadata::default()
    };
    store
        .append(
            workspace,
            &shared,
            &[
                write(
                    "with-own",
                    ExpectedVersion::NoStream,
                    vec![event(1), event(2)],
                )
                .with_metadata(own.clone()),
                write("with-shared", ExpectedVersion::NoStream, vec![event(3)]),
            ],
        )
        .await
        .unwrap();
    let streams = store
        .read_streams(&["with-own".to_string(), "with-shared".to_string()])
        .await
        .unwrap();
    let own_events = &streams["with-own"];
    assert_eq!(own_events.len(), 2);
    assert!(own_events.iter().all(|e| e.metadata == own));
    assert_eq!(streams["with-shared"][0].metadata, shared);
}
