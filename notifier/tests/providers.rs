//! Providers: fallback from the primary to the secondary, retries then `NotificationFailed`
//! and an owner alert, Twilio, SMTP, and a workspace's own settings over the system default.
//! HTTP providers are a local fake server (wiremock); SMTP is a local sink.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use domain::booking::BookingStatus;
use notifier::clock::SystemClock;
use notifier::config::{ApiUrls, SystemEmailProvider, SystemSms, TwilioAccount};
use service_runtime::integrations::{
    EmailProvider, EmailProviderKind, EmailSettings, Integrations,
};
use sqlx::PgPool;
use support::outbox::{mails, parse_mail, vevent};
use support::smtp_sink::SmtpSink;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(20);

fn urls(server: &MockServer) -> ApiUrls {
    ApiUrls {
        resend: server.uri(),
        sendgrid: server.uri(),
        twilio: server.uri(),
    }
}

async fn answer(server: &MockServer, route: &str, status: u16) {
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(serde_json::json!({"id": "x"})))
        .mount(server)
        .await;
}

async fn requests_to(server: &MockServer, route: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == route)
        .collect()
}

fn header(request: &wiremock::Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn when_the_primary_provider_is_down_the_secondary_sends(pool: PgPool) {
    let env = Env::start(pool).await;
    let server = MockServer::start().await;
    answer(&server, "/emails", 503).await;
    answer(&server, "/v3/mail/send", 202).await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Resend {
        api_key: "re_system".into(),
    };
    config.email.fallback = Some(SystemEmailProvider::Sendgrid {
        api_key: "SG.system".into(),
    });
    config.sms = SystemSms::Disabled;
    config.api_urls = urls(&server);
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;

    eventually("three emails through SendGrid", WAIT, || async {
        events_of_type(&env.store, "NotificationSent").await.len() == 3
    })
    .await;
    for event in events_of_type(&env.store, "NotificationSent").await {
        assert_eq!(event.data["provider"], "sendgrid");
    }
    let tried = requests_to(&server, "/emails").await;
    assert_eq!(tried.len(), 3);
    for request in &tried {
        assert_eq!(header(request, "authorization"), "Bearer re_system");
        assert!(!header(request, "idempotency-key").is_empty());
    }
    let sent = requests_to(&server, "/v3/mail/send").await;
    assert_eq!(sent.len(), 3);
    let bodies: Vec<serde_json::Value> = sent.iter().map(|r| r.body_json().unwrap()).collect();
    let customer = bodies
        .iter()
        .find(|b| b["personalizations"][0]["to"][0]["email"] == CUSTOMER_EMAIL)
        .expect("the customer's email");
    assert_eq!(header(&sent[0], "authorization"), "Bearer SG.system");
    assert_eq!(customer["from"]["name"], "Urban Glow");
    assert!(customer["content"][0]["value"]
        .as_str()
        .unwrap()
        .contains("Monday 29 March 2027 at 10:00 BST (Europe/London)"));
    let attachment = &customer["attachments"][0];
    assert_eq!(attachment["filename"], "booking.ics");
    let ics = base64::engine::general_purpose::STANDARD
        .decode(attachment["content"].as_str().unwrap())
        .unwrap();
    let event = vevent(std::str::from_utf8(&ics).unwrap());
    assert_eq!(event["UID"], format!("{booking_id}@careops"));
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn when_every_provider_is_down_it_retries_then_records_the_failure_and_alerts_the_owner(
    pool: PgPool,
) {
    let env = Env::start(pool).await;
    let server = MockServer::start().await;
    answer(&server, "/emails", 503).await;
    answer(&server, "/v3/mail/send", 500).await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Resend {
        api_key: "re_system".into(),
    };
    config.email.fallback = Some(SystemEmailProvider::Sendgrid {
        api_key: "SG.system".into(),
    });
    config.sms = SystemSms::Disabled;
    config.api_urls = urls(&server);
    let attempts = config.dispatch.max_attempts as usize;
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;

    eventually("three failures recorded", WAIT, || async {
        events_of_type(&env.store, "NotificationFailed").await.len() == 3
    })
    .await;
    // Every try went to both providers, with the same idempotency key each time.
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for request in requests_to(&server, "/emails").await {
        *per_key
            .entry(header(&request, "idempotency-key"))
            .or_default() += 1;
    }
    assert_eq!(per_key.len(), 3);
    assert!(per_key.values().all(|n| *n == attempts), "{per_key:?}");
    assert_eq!(
        requests_to(&server, "/v3/mail/send").await.len(),
        3 * attempts
    );
    for failed in events_of_type(&env.store, "NotificationFailed").await {
        assert_eq!(failed.data["attempts"], attempts);
        let reason = failed.data["reason"].as_str().unwrap();
        assert!(
            reason.contains("resend: answered 503") && reason.contains("sendgrid: answered 500"),
            "{reason}"
        );
        assert!(!reason.contains('@'));
    }
    assert_eq!(count_rows(&env.pool, "failed").await, 3);

    // The alerts read model shows them to the owner.
    projections::catch_up(&env.store, &[projections::ProjectionName::Alerts], 100)
        .await
        .unwrap();
    let alerts: Vec<(String, String, String)> = sqlx::query_as(
        "select kind, severity, message from rm_alerts.alerts where workspace_id = $1",
    )
    .bind(s.workspace_id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(alerts.len(), 3);
    for (kind, severity, message) in alerts {
        assert_eq!(
            (kind.as_str(), severity.as_str()),
            ("notification_failed", "critical")
        );
        assert!(
            message.contains("could not be sent after 3 attempt(s)"),
            "{message}"
        );
    }
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn sms_go_through_twilio(pool: PgPool) {
    let env = Env::start(pool).await;
    let server = MockServer::start().await;
    answer(&server, "/2010-04-01/Accounts/AC123/Messages.json", 201).await;
    let mut config = env.config(Arc::new(SystemClock));
    config.sms = SystemSms::Twilio(TwilioAccount {
        account_sid: "AC123".into(),
        auth_token: "tw-token".into(),
        from_number: "+15005550006".into(),
    });
    config.api_urls = urls(&server);
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;
    let route = "/2010-04-01/Accounts/AC123/Messages.json";
    eventually("one SMS", WAIT, || async {
        requests_to(&server, route).await.len() == 1
    })
    .await;
    let request = &requests_to(&server, route).await[0];
    let basic = base64::engine::general_purpose::STANDARD.encode("AC123:tw-token");
    assert_eq!(header(request, "authorization"), format!("Basic {basic}"));
    let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    assert_eq!(form["To"], CUSTOMER_PHONE);
    assert_eq!(form["From"], "+15005550006");
    assert!(
        form["Body"].contains("Mon 29 Mar 10:00 BST"),
        "{}",
        form["Body"]
    );
    eventually("recorded as sent by twilio", WAIT, || async {
        events_of_type(&env.store, "NotificationSent")
            .await
            .iter()
            .any(|e| e.data["provider"] == "twilio" && e.data["channel"] == "sms")
    })
    .await;
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_workspace_own_provider_wins_over_the_system_default(pool: PgPool) {
    let env = Env::start(pool).await;
    let server = MockServer::start().await;
    answer(&server, "/emails", 200).await;
    let mut config = env.config(Arc::new(SystemClock));
    config.api_urls = urls(&server);
    config.sms = SystemSms::Disabled;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let integrations = Integrations {
        email: Some(EmailSettings {
            from_address: "hello@urbanglow.test".into(),
            from_name: Some("Urban Glow Studio".into()),
            primary: EmailProvider {
                kind: EmailProviderKind::Resend,
                api_key: Some("re_workspace".into()),
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
    drop(conn);
    let running = env.spawn(config).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually(
        "three emails through the workspace's Resend",
        WAIT,
        || async { requests_to(&server, "/emails").await.len() == 3 },
    )
    .await;
    for request in requests_to(&server, "/emails").await {
        assert_eq!(header(&request, "authorization"), "Bearer re_workspace");
        let body: serde_json::Value = request.body_json().unwrap();
        assert_eq!(body["from"], "Urban Glow Studio <hello@urbanglow.test>");
    }
    assert!(
        mails(&env.outbox).is_empty(),
        "nothing went to the system default"
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn smtp_delivers_the_whole_mime_message(pool: PgPool) {
    let env = Env::start(pool).await;
    let sink = SmtpSink::start().await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Smtp { url: sink.url() };
    config.sms = SystemSms::Disabled;
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually("three messages at the SMTP server", WAIT, || async {
        sink.received().len() == 3
    })
    .await;
    let received: Vec<_> = sink.received().iter().map(|m| parse_mail(m)).collect();
    let customer = received.iter().find(|m| m.to == CUSTOMER_EMAIL).unwrap();
    assert_eq!(customer.kind, "booking_confirmation");
    let event = vevent(std::str::from_utf8(&customer.attachments[0].2).unwrap());
    assert_eq!(event["UID"], format!("{booking_id}@careops"));
    eventually("recorded as sent by smtp", WAIT, || async {
        let sent = events_of_type(&env.store, "NotificationSent").await;
        sent.len() == 3 && sent.iter().all(|e| e.data["provider"] == "smtp")
    })
    .await;
    running.shutdown().await;
}
