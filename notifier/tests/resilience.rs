//! Crashes and replicas: the notifier aborted at random points 20 times while 2,000 bookings
//! arrive delivers every notification, duplicating at most one SMTP message per abort and no
//! Resend message (its Idempotency-Key is the notification id); two replicas at once send
//! each notification once.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::booking::BookingStatus;
use notifier::clock::SystemClock;
use notifier::config::{SystemEmailProvider, SystemSms};
use rand::Rng;
use service_runtime::integrations::{
    EmailProvider, EmailProviderKind, EmailSettings, Integrations,
};
use sqlx::PgPool;
use support::outbox::parse_mail;
use support::smtp_sink::SmtpSink;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Notification ids per delivery at the SMTP sink.
fn smtp_ids(sink: &SmtpSink) -> Vec<String> {
    sink.received()
        .iter()
        .map(|raw| parse_mail(raw).notification_id)
        .collect()
}

fn duplicates(ids: &[String]) -> usize {
    ids.len() - ids.iter().collect::<HashSet<_>>().len()
}

async fn sent_ids(env: &Env, provider: &str) -> HashSet<String> {
    events_of_type(&env.store, "NotificationSent")
        .await
        .iter()
        .filter(|e| e.data["provider"] == provider)
        .map(|e| e.data["notification_id"].as_str().unwrap().to_string())
        .collect()
}

async fn sent_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from events where event_type = 'NotificationSent'")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn use_resend(env: &Env, s: &Salon) {
    let integrations = Integrations {
        email: Some(EmailSettings {
            from_address: "hello@second.test".into(),
            from_name: None,
            primary: EmailProvider {
                kind: EmailProviderKind::Resend,
                api_key: Some("re_second".into()),
                smtp: None,
            },
            fallback: None,
        }),
        sms: None,
    };
    let sealed =
        service_runtime::integrations::seal(&env.secrets, s.workspace_id, &integrations).unwrap();
    let mut conn = env.pool.acquire().await.unwrap();
    service_runtime::integrations::store(&mut conn, &sealed)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn aborted_twenty_times_during_2000_bookings_it_still_delivers_everything_once(pool: PgPool) {
    let env = Env::start(pool).await;
    let sink = SmtpSink::start().await;
    let resend = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "r"})))
        .mount(&resend)
        .await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Smtp { url: sink.url() };
    config.sms = SystemSms::Disabled;
    config.api_urls.resend = resend.uri();
    config.consumer.ack_wait = Duration::from_secs(2);
    config.dispatch.lease = Duration::from_secs(2);
    config.dispatch.max_attempts = 50;

    let by_smtp = salon_named(
        &env.store,
        "First Salon",
        "Europe/London",
        settings(&[]),
        false,
    )
    .await;
    let by_resend = salon_named(
        &env.store,
        "Second Salon",
        "Europe/Berlin",
        settings(&[]),
        false,
    )
    .await;
    use_resend(&env, &by_resend).await;

    let began = std::time::Instant::now();
    let mut running = env.spawn(config.clone()).await;
    let store = env.store.clone();
    let producer = tokio::spawn(async move {
        let base = Utc::now() + chrono::Duration::days(30);
        for n in 0..1000i64 {
            let start = base + chrono::Duration::minutes(n * 90);
            book(&store, &by_smtp, start, BookingStatus::Confirmed).await;
            book(&store, &by_resend, start, BookingStatus::Confirmed).await;
            if n % 50 == 49 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    for _ in 0..20 {
        let pause = rand::thread_rng().gen_range(100..700);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        running.abort().await;
        running = env.spawn(config.clone()).await;
    }
    let aborted = began.elapsed();
    producer.await.unwrap();
    let produced = began.elapsed();
    // 2,000 bookings × (customer, owner, staff).
    eventually(
        "every notification recorded",
        Duration::from_secs(150),
        || async { sent_count(&env.pool).await >= 6000 },
    )
    .await;
    let delivered = began.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.shutdown().await;
    assert_eq!(
        sent_count(&env.pool).await,
        6000,
        "each notification recorded once"
    );
    println!("aborts done after {aborted:?}, bookings after {produced:?}, all delivered after {delivered:?}");

    let smtp = smtp_ids(&sink);
    let smtp_expected = sent_ids(&env, "smtp").await;
    assert_eq!(smtp_expected.len(), 3000);
    assert_eq!(smtp.iter().cloned().collect::<HashSet<_>>(), smtp_expected);
    let smtp_duplicates = duplicates(&smtp);
    assert!(
        smtp_duplicates <= 20,
        "{smtp_duplicates} SMTP duplicates for 20 aborts"
    );

    let requests = resend.received_requests().await.unwrap();
    let mut by_key: HashMap<String, HashSet<String>> = HashMap::new();
    for request in &requests {
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body: serde_json::Value = request.body_json().unwrap();
        let id = body["headers"]["X-CareOps-Notification-Id"]
            .as_str()
            .unwrap()
            .to_string();
        by_key.entry(key).or_default().insert(id);
    }
    // Every repeat carried the same key, so Resend delivered each notification once.
    assert!(by_key
        .iter()
        .all(|(key, ids)| ids.len() == 1 && ids.contains(key)));
    assert_eq!(
        by_key.keys().cloned().collect::<HashSet<_>>(),
        sent_ids(&env, "resend").await
    );
    assert_eq!(by_key.len(), 3000);
    println!(
        "aborts: 20; SMTP deliveries {} for 3000 (duplicates {smtp_duplicates}); Resend requests {} for 3000",
        smtp.len(),
        requests.len()
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn two_replicas_at_once_send_each_notification_once(pool: PgPool) {
    let env = Env::start(pool).await;
    let sink = SmtpSink::start().await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Smtp { url: sink.url() };
    config.sms = SystemSms::Disabled;
    let first = env.spawn(config.clone()).await;
    let second = env.spawn(config).await;
    let s = salon_named(
        &env.store,
        "Urban Glow",
        "Europe/London",
        settings(&[]),
        false,
    )
    .await;
    let base = Utc::now() + chrono::Duration::days(10);
    for n in 0..300i64 {
        book(
            &env.store,
            &s,
            base + chrono::Duration::minutes(n * 90),
            BookingStatus::Confirmed,
        )
        .await;
    }
    eventually("900 notifications", Duration::from_secs(60), || async {
        sent_count(&env.pool).await >= 900
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.shutdown().await;
    second.shutdown().await;
    let ids = smtp_ids(&sink);
    assert_eq!(ids.len(), 900);
    assert_eq!(duplicates(&ids), 0);
    assert_eq!(sent_count(&env.pool).await, 900);
}
