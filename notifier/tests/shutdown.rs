//! The notifier's graceful shutdown is bounded: a delivery that never ends (an SMTP server
//! that takes the connection and never answers) cannot hold the process past its
//! `shutdown_timeout`. What was abandoned is named in the error (the process's exit status
//! says the stop was not clean), and the abandoned delivery is left to its claim's expiry,
//! so another replica or the next start sends it. Real PostgreSQL and NATS.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::booking::BookingStatus;
use notifier::clock::SystemClock;
use notifier::config::SystemEmailProvider;
use sqlx::PgPool;
use support::*;
use tokio::net::{TcpListener, TcpStream};

/// Accepts connections and never says a word; keeps them open.
async fn silent_smtp_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            held.lock().unwrap().push(socket);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, accepted)
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_delivery_that_hangs_is_abandoned_at_the_shutdown_deadline(pool: PgPool) {
    let env = Env::start(pool).await;
    let (port, accepted) = silent_smtp_server().await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Smtp {
        url: format!("smtp://127.0.0.1:{port}"),
    };
    config.dispatch.lease = Duration::from_secs(60);
    config.shutdown_timeout = Duration::from_secs(1);
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    book(
        &env.store,
        &s,
        "2027-03-29T09:00:00Z".parse().unwrap(),
        BookingStatus::Confirmed,
    )
    .await;
    eventually(
        "a delivery stuck at the silent server",
        Duration::from_secs(20),
        || async { accepted.load(Ordering::SeqCst) > 0 },
    )
    .await;

    let asked = Instant::now();
    running.stop.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(10), running.handle)
        .await
        .expect("the shutdown is bounded")
        .expect("no panic");
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "stopped after {took:?}, the deadline is 1 s"
    );
    let error = outcome.expect_err("not a clean stop").to_string();
    assert!(error.contains("abandoned: dispatcher"), "{error}");
    // No email of the booking was recorded as sent (SMTP took none): they are left to their
    // claims' expiry.
    let booking_emails = |status: &'static str| {
        let pool = env.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from notifier.notifications
                 where channel = 'email' and kind in ('booking_confirmation', 'new_booking')
                   and status = $1",
            )
            .bind(status)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(booking_emails("sent").await, 0);
    assert_eq!(
        booking_emails("pending").await,
        3,
        "the customer's, owner's and staff's emails wait for another try"
    );
}
