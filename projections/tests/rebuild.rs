//! Incrementally built read models equal a full rebuild, also after crashes of the runner,
//! an interrupted rebuild and the migration of a read model's table.

mod support;

use std::time::Duration;

use event_store::EventStore;
use projections::query::{self, Scope};
use projections::rebuild::{ProgressMode, RebuildOptions};
use projections::{ProjectionName, RunConfig};
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use support::{append, assert_same, catch_up, dump, Ev};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn quiet() -> RebuildOptions {
    RebuildOptions {
        fresh: true,
        batch_size: 5000,
        progress: ProgressMode::Quiet,
        parallel: true,
    }
}

/// Appends the commands, several per append (each stream at most once per append).
async fn append_grouped(store: &EventStore, commands: Vec<(Uuid, Vec<Ev>)>, group: usize) -> usize {
    let mut events = 0;
    let mut pending: Vec<(Uuid, Vec<Ev>)> = Vec::new();
    let flush = |pending: &mut Vec<(Uuid, Vec<Ev>)>| std::mem::take(pending);
    for command in commands {
        events += command.1.len();
        pending.push(command);
        if pending.len() >= group {
            for (ws, evs) in by_workspace(flush(&mut pending)) {
                append(store, ws, evs).await;
            }
        }
    }
    for (ws, evs) in by_workspace(flush(&mut pending)) {
        append(store, ws, evs).await;
    }
    events
}

fn by_workspace(commands: Vec<(Uuid, Vec<Ev>)>) -> Vec<(Uuid, Vec<Ev>)> {
    let mut out: Vec<(Uuid, Vec<Ev>)> = Vec::new();
    for (ws, evs) in commands {
        match out.iter_mut().find(|(w, _)| *w == ws) {
            Some((_, all)) => all.extend(evs),
            None => out.push((ws, evs)),
        }
    }
    out
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn after_ten_thousand_random_commands_the_incremental_read_models_equal_a_rebuild_in_any_batch_size(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let commands = support::random::commands(7, 4, 10_000);
    // Incrementally: catch up after every 1,000 commands, each command its own append.
    for chunk in commands.chunks(1000) {
        for (ws, events) in chunk {
            append(&store, *ws, events.clone()).await;
        }
        catch_up(&store).await;
    }
    let incremental = dump(&pool).await;
    assert!(incremental
        .iter()
        .any(|(t, rows)| t == "rm_bookings.bookings" && rows.len() > 1000));
    let reports = projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    assert_eq!(reports.len(), ProjectionName::ALL.len());
    let rebuilt = dump(&pool).await;
    assert_same(&incremental, &rebuilt);
    // Batches are written set-based (a plan of waves); one event per batch is the plain
    // event-by-event order, and must give the same tables.
    let one_by_one = RebuildOptions {
        batch_size: 1,
        ..quiet()
    };
    projections::rebuild(&store, &ProjectionName::ALL, &one_by_one)
        .await
        .unwrap();
    assert_same(&rebuilt, &dump(&pool).await);
    // A rebuild builds the query indexes at the end: the swapped-in tables have them all.
    for name in ProjectionName::ALL {
        assert_eq!(
            indexes(&pool, &name.schema()).await,
            indexes_of_fresh_tables(&pool, name).await,
            "{name}"
        );
    }
    // The rebuild left no schema or checkpoint behind, and the live checkpoints moved on.
    let leftovers: i64 =
        sqlx::query_scalar("select count(*) from pg_namespace where nspname like 'rm\\_%\\_\\_%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(leftovers, 0);
    let status = projections::status(&pool).await.unwrap();
    assert!(status.iter().all(|s| s.lag_events == 0), "{status:?}");
}

/// The indexes of a schema, with the schema's name left out.
async fn indexes(pool: &PgPool, schema: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select replace(indexdef, schemaname || '.', '') from pg_indexes
          where schemaname = $1 order by indexname",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The indexes the read model's SQL function creates today.
async fn indexes_of_fresh_tables(pool: &PgPool, name: ProjectionName) -> Vec<String> {
    let scratch = format!("check_{name}");
    sqlx::query(&format!("select rm_create_{name}($1)"))
        .bind(&scratch)
        .execute(pool)
        .await
        .unwrap();
    let found = indexes(pool, &scratch).await;
    sqlx::query(&format!("drop schema {scratch} cascade"))
        .execute(pool)
        .await
        .unwrap();
    assert!(!found.is_empty());
    found
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_runner_aborted_twenty_times_during_fifty_thousand_events_ends_equal_to_a_rebuild(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let commands = support::random::commands(11, 6, 37_000);
    let appender = {
        let store = store.clone();
        tokio::spawn(async move { append_grouped(&store, commands, 40).await })
    };
    let config = RunConfig {
        claim_interval: Duration::from_millis(20),
        poll_interval: Duration::from_millis(50),
        ..RunConfig::default()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..20 {
        let runner = tokio::spawn(projections::run(
            store.clone(),
            config.clone(),
            CancellationToken::new(),
        ));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..400))).await;
        runner.abort();
        let _ = runner.await;
    }
    let events = appender.await.unwrap();
    assert!(events >= 50_000, "only {events} events");
    // A last runner, stopped gracefully once it has caught up.
    let stop = CancellationToken::new();
    let runner = tokio::spawn(projections::run(
        store.clone(),
        config.clone(),
        stop.clone(),
    ));
    let head = sqlx::query_as::<_, (i64, i64)>(
        "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let head = event_store::FeedPosition::new(head.0, head.1);
    assert!(projections::wait_for(&pool, head, Duration::from_secs(120))
        .await
        .unwrap());
    stop.cancel();
    runner.await.unwrap().unwrap();
    let incremental = dump(&pool).await;
    projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    assert_same(&incremental, &dump(&pool).await);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_rebuild_swaps_in_while_a_runner_keeps_applying_new_events(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let commands = support::random::commands(5, 3, 3000);
    let (first, second) = commands.split_at(1500);
    for (ws, events) in first {
        append(&store, *ws, events.clone()).await;
    }
    let stop = CancellationToken::new();
    let config = RunConfig {
        poll_interval: Duration::from_millis(20),
        ..RunConfig::default()
    };
    let runner = tokio::spawn(projections::run(store.clone(), config, stop.clone()));
    let writer = {
        let store = store.clone();
        let second = second.to_vec();
        tokio::spawn(async move {
            for (ws, events) in second {
                append(&store, ws, events).await;
            }
        })
    };
    projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    writer.await.unwrap();
    let head = sqlx::query_as::<_, (i64, i64)>(
        "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(projections::wait_for(
        &pool,
        event_store::FeedPosition::new(head.0, head.1),
        Duration::from_secs(60)
    )
    .await
    .unwrap());
    stop.cancel();
    runner.await.unwrap().unwrap();
    let live = dump(&pool).await;
    projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    assert_same(&live, &dump(&pool).await);
}

/// What the live read models answer each workspace's owner: the first page of bookings,
/// services, staff, contacts and conversations (five projections), as JSON.
async fn answers(pool: &PgPool, workspaces: &[Uuid]) -> Result<Vec<serde_json::Value>, String> {
    let mut out = Vec::new();
    for ws in workspaces {
        let owner = Scope::owner(*ws);
        let page = |limit| projections::query::PageRequest {
            limit: Some(limit),
            cursor: None,
        };
        let bookings = query::bookings::BookingFilter {
            page: page(200),
            ..Default::default()
        };
        let json = |v: serde_json::Result<serde_json::Value>| v.map_err(|e| e.to_string());
        let e = |e: query::QueryError| e.to_string();
        out.push(json(serde_json::to_value(
            query::bookings::list(pool, &owner, &bookings)
                .await
                .map_err(e)?,
        ))?);
        let services = query::services::ServiceFilter {
            include_archived: true,
            page: page(200),
        };
        out.push(json(serde_json::to_value(
            query::services::list(pool, &owner, &services)
                .await
                .map_err(e)?,
        ))?);
        let staff = query::staff::StaffFilter {
            include_inactive: true,
            page: page(200),
        };
        out.push(json(serde_json::to_value(
            query::staff::list(pool, &owner, &staff).await.map_err(e)?,
        ))?);
        let contacts = query::contacts::ContactFilter {
            page: page(200),
            ..Default::default()
        };
        out.push(json(serde_json::to_value(
            query::contacts::list(pool, &owner, &contacts)
                .await
                .map_err(e)?,
        ))?);
        let inbox = query::inbox::ConversationFilter {
            page: page(200),
            ..Default::default()
        };
        out.push(json(serde_json::to_value(
            query::inbox::list(pool, &owner, &inbox).await.map_err(e)?,
        ))?);
    }
    Ok(out)
}

/// Returns once the bookings projection's rebuild checkpoint has reached `position`.
async fn bookings_rebuilt_up_to(pool: &PgPool, position: i64) {
    loop {
        let at: Option<i64> = sqlx::query_scalar(
            "select position from feed_checkpoints where name = 'projection:bookings:rebuild'",
        )
        .fetch_optional(pool)
        .await
        .unwrap();
        if at.is_some_and(|at| at >= position) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until a dropped rebuild's connections are gone (with them, its locks).
async fn locks_released(pool: &PgPool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while advisory_locks(pool).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the interrupted rebuild holds its lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Advisory locks held in this database (a rebuild holds one per projection it rebuilds).
async fn advisory_locks(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_locks
         where locktype = 'advisory' and granted
           and database = (select oid from pg_database where datname = current_database())",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_interrupted_rebuild_resumes_where_it_stopped_while_the_live_tables_keep_serving(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let events = append_grouped(&store, support::random::commands(13, 3, 6000), 20).await;
    catch_up(&store).await;
    let live = dump(&pool).await;
    let workspaces: Vec<Uuid> =
        sqlx::query_scalar("select workspace_id from rm_workspaces.workspaces order by 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    let expected = answers(&pool, &workspaces).await.unwrap();
    assert!(expected
        .iter()
        .any(|a| a["items"].as_array().is_some_and(|items| items.len() > 50)));

    // Readers query the live tables all along: every answer must be the one before.
    let stop = CancellationToken::new();
    let reader = {
        let (pool, stop, workspaces, expected) = (
            pool.clone(),
            stop.clone(),
            workspaces.clone(),
            expected.clone(),
        );
        tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.is_cancelled() {
                let got = answers(&pool, &workspaces).await;
                assert_eq!(
                    got.as_ref(),
                    Ok(&expected),
                    "a live answer changed or failed"
                );
                reads += 1;
            }
            reads
        })
    };

    // Small batches, one projection after the other; stopped (its future dropped, as when
    // the process dies) halfway through the bookings projection's replay.
    let options = RebuildOptions {
        fresh: false,
        batch_size: 100,
        progress: ProgressMode::Quiet,
        parallel: false,
    };
    let halfway = {
        let head: i64 = sqlx::query_scalar("select max(position) from events")
            .fetch_one(&pool)
            .await
            .unwrap();
        head / 2
    };
    tokio::select! {
        done = projections::rebuild(&store, &ProjectionName::ALL, &options) => {
            panic!("the rebuild finished before it was interrupted: {done:?}")
        }
        () = bookings_rebuilt_up_to(&pool, halfway) => {}
    }
    locks_released(&pool).await;
    assert_same(&live, &dump(&pool).await);
    let unfinished: Vec<String> = sqlx::query_scalar(
        "select nspname::text from pg_namespace where nspname like 'rm\\_%\\_\\_rebuild' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(unfinished, vec!["rm_bookings__rebuild"]);

    // Run again, not fresh: the bookings projection resumes from its saved checkpoint.
    let reports = projections::rebuild(&store, &ProjectionName::ALL, &options)
        .await
        .unwrap();
    let replayed = |name| {
        reports
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.events)
            .unwrap()
    };
    let total = events as u64;
    assert!(
        replayed(ProjectionName::Bookings) < total * 2 / 3,
        "resumed, not started over: {} of {total}",
        replayed(ProjectionName::Bookings)
    );
    assert_eq!(
        replayed(ProjectionName::Contacts),
        total,
        "rebuilt from the start"
    );
    let resumed = dump(&pool).await;
    assert_same(&live, &resumed);

    // All at once from one shared read of the feed, interrupted as well: every projection
    // stops wherever its last batch left its checkpoint. Resumed, the read starts at the
    // earliest of them and each projection skips what it had applied.
    let together = RebuildOptions {
        fresh: true,
        parallel: true,
        ..options.clone()
    };
    tokio::select! {
        done = projections::rebuild(&store, &ProjectionName::ALL, &together) => {
            panic!("the rebuild finished before it was interrupted: {done:?}")
        }
        () = bookings_rebuilt_up_to(&pool, halfway) => {}
    }
    locks_released(&pool).await;
    let unfinished: i64 = sqlx::query_scalar(
        "select count(*) from feed_checkpoints where name like 'projection:%:rebuild'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unfinished, ProjectionName::ALL.len() as i64);
    let resume = RebuildOptions {
        fresh: false,
        ..together
    };
    let reports = projections::rebuild(&store, &ProjectionName::ALL, &resume)
        .await
        .unwrap();
    assert!(reports.iter().all(|r| r.events < total), "{reports:?}");
    assert_same(&live, &dump(&pool).await);

    // And the same as a rebuild from scratch.
    projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    assert_same(&resumed, &dump(&pool).await);
    stop.cancel();
    let reads = reader.await.unwrap();
    assert!(
        reads > 3,
        "the live tables were read {reads} times meanwhile"
    );
    let leftovers: i64 =
        sqlx::query_scalar("select count(*) from pg_namespace where nspname like 'rm\\_%\\_\\_%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(leftovers, 0);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_projection_failing_in_a_parallel_rebuild_stops_them_all_before_any_swap(pool: PgPool) {
    use event_store::{ExpectedVersion, Metadata, NewEvent, StreamWrite};
    let store = EventStore::new(pool.clone());
    let commands = support::random::commands(19, 2, 3000);
    let (before, after) = commands.split_at(300);
    append_grouped(&store, before.to_vec(), 20).await;
    catch_up(&store).await;
    // A booking payload that does not decode: the bookings projection stops on it, with
    // many batches of the feed still to come.
    store
        .append(
            Uuid::now_v7(),
            &Metadata::default(),
            &[StreamWrite::new(
                "booking",
                "booking-broken",
                ExpectedVersion::Any,
                vec![NewEvent::new(
                    "BookingCreated",
                    1,
                    serde_json::json!({"booking_id": "not a uuid"}),
                )],
            )],
        )
        .await
        .unwrap();
    append_grouped(&store, after.to_vec(), 20).await;
    let live = dump(&pool).await;
    let options = RebuildOptions {
        batch_size: 50,
        ..quiet()
    };
    let error = projections::rebuild(&store, &ProjectionName::ALL, &options)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("BookingCreated"), "{error:#}");
    // No projection took the end of the read for the end of the feed: none swapped in, every
    // one can resume, and the live tables are as they were.
    let unfinished: i64 = sqlx::query_scalar(
        "select count(*) from pg_namespace where nspname like 'rm\\_%\\_\\_rebuild'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unfinished, ProjectionName::ALL.len() as i64);
    assert_same(&live, &dump(&pool).await);
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_migration_adding_calendar_holds_backfills_the_live_bookings_as_a_rebuild_would(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let commands = support::random::commands(17, 2, 3000);
    let (applied, pending) = commands.split_at(2000);
    append_grouped(&store, applied.to_vec(), 20).await;
    catch_up(&store).await;
    // Events past the projection's checkpoint when the migration runs.
    append_grouped(&store, pending.to_vec(), 20).await;
    // The live bookings as the release before it left them.
    for sql in [
        "alter table rm_bookings.bookings drop column buffer_before_minutes,
            drop column buffer_after_minutes, drop column calendar_dates",
        "delete from _sqlx_migrations where version = 20261201300000",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    event_store::MIGRATOR.run(&pool).await.unwrap();
    let held: i64 = sqlx::query_scalar(
        "select count(*) from rm_bookings.bookings where cardinality(calendar_dates) > 0
            and buffer_after_minutes > 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(held > 100, "backfilled: {held}");
    catch_up(&store).await;
    let live = dump(&pool).await;
    projections::rebuild(&store, &ProjectionName::ALL, &quiet())
        .await
        .unwrap();
    assert_same(&live, &dump(&pool).await);
}
