//! Starts the real application on port 0 against a per-test database and the real NATS.
#![allow(dead_code)]

use command_api::http::rate_limit::RateLimitConfig;
use command_api::{Application, ServeConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use service_runtime::secrets::SecretKeyArgs;
use service_runtime::{ConnectionArgs, Connections};

/// The hand-over key of test apps (32 zero-ish bytes, base64).
pub const TEST_SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub pool: PgPool,
    pub clock: command_api::clock::Clock,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Keys of the test apps' inbound webhooks.
pub const TEST_WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const TEST_TWILIO_AUTH_TOKEN: &str = "test-twilio-auth-token";

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, |_| {}).await
}

/// [`spawn`], with the test configuration changed by `configure` first.
pub async fn spawn_with(pool: PgPool, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let mut config = ServeConfig {
        connections: ConnectionArgs {
            database_url: String::new(),
            nats_url: nats_url(),
            db_max_connections: 10,
            data_dir: std::env::temp_dir(),
        },
        http_host: "127.0.0.1".into(),
        http_port: 0,
        max_body_bytes: 64 * 1024,
        jwt_secret: Some("test-secret-test-secret-test-secret-0123".into()),
        secret_key: SecretKeyArgs {
            secret_key: Some(TEST_SECRET_KEY.into()),
        },
        rate_limits: RateLimitConfig {
            login_per_email_per_minute: 10,
            login_per_ip_per_minute: 1000,
            public_per_ip_per_minute: 1000,
        },
        trusted_proxies: None,
        webhooks: command_api::routes::webhooks::WebhookConfig {
            inbound_webhook_secret: Some(TEST_WEBHOOK_SECRET.into()),
            inbound_twilio_auth_token: Some(TEST_TWILIO_AUTH_TOKEN.into()),
            public_api_url: None,
        },
        relay: false,
        run_projections: true,
        demo: false,
        run_notifier: false,
        notifier: default_notifier_args(),
        shutdown: service_runtime::shutdown::ShutdownArgs::default(),
        nats_stream: "UNUSED".into(),
        nats_subject_prefix: "unused".into(),
    };
    configure(&mut config);
    let nats = async_nats::connect(nats_url())
        .await
        .expect("NATS is running");
    let app = Application::build(
        config,
        Connections {
            pool: pool.clone(),
            nats,
        },
    )
    .await
    .expect("the app builds");
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let clock = app.clock();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    TestApp {
        base,
        client: Client::new(),
        pool,
        clock,
        stop,
    }
}

/// A created workspace and its owner's tokens.
pub struct Owner {
    pub workspace_id: String,
    pub slug: String,
    pub access_token: String,
    pub refresh_token: String,
    pub email: String,
    pub password: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// A GET answered only once the read models have applied `position` (a command's
    /// `X-CareOps-Position`): how a client reads its own writes, since queries are served
    /// from the read models, which follow the event store asynchronously.
    pub async fn get_after(&self, path: &str, token: Option<&str>, position: &str) -> Response {
        let mut request = self
            .client
            .get(self.url(path))
            .header("x-careops-min-position", position);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// The position of the last event appended: for reading after setup steps whose
    /// responses are not at hand (nothing else appends in these tests meanwhile).
    pub async fn head_position(&self) -> String {
        let (tx, position): (i64, i64) = sqlx::query_as(
            "select (tx::text)::bigint, position from events order by events.tx desc, events.position desc limit 1",
        )
        .fetch_one(&self.pool)
        .await
        .expect("an event was appended");
        format!("{tx}-{position}")
    }

    pub async fn onboard(&self, name: &str, email: &str) -> Owner {
        let password = "correct horse battery".to_string();
        let response = self
            .post(
                "/onboarding/workspaces",
                None,
                &json!({"name": name, "timezone": "Europe/London", "currency": "GBP",
                        "owner": {"name": "Olivia Owner", "email": email, "password": password}}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
        let body: Value = response.json().await.unwrap();
        Owner {
            workspace_id: body["workspace"]["id"].as_str().unwrap().to_string(),
            slug: body["workspace"]["slug"].as_str().unwrap().to_string(),
            access_token: body["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
            email: email.to_string(),
            password,
        }
    }

    /// Opens `user_id`'s calendar 06:00–22:00 every day of the week (`token` may set it: the
    /// owner's, or the user's own).
    pub async fn open_every_day(&self, token: &str, user_id: &str) {
        let weekly: Vec<Value> = (1..=7)
            .map(|d| json!({"weekday": d, "start": "06:00", "end": "22:00"}))
            .collect();
        let hours = self
            .client
            .put(self.url(&format!("/staff/{user_id}/availability")))
            .bearer_auth(token)
            .json(&json!({"weekly": weekly}))
            .send()
            .await
            .unwrap();
        assert_eq!(hours.status(), StatusCode::OK);
    }

    /// Invites a staff member with `permissions` and logs them in (the password taken from
    /// the invitation hand-over): their user id and access token.
    pub async fn staff_member(
        &self,
        owner_token: &str,
        email: &str,
        permissions: Value,
    ) -> (String, String) {
        let invited = self
            .post(
                "/staff",
                Some(owner_token),
                &json!({"name": "Sam Staff", "email": email, "permissions": permissions}),
            )
            .await;
        assert_eq!(invited.status(), StatusCode::CREATED);
        let id = invited.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let password = service_runtime::secrets::take_invitation_password(
            &self.pool,
            &service_runtime::secrets::SecretBox::from_base64(TEST_SECRET_KEY).unwrap(),
            id.parse().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        let login: Value = self
            .post(
                "/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await
            .json()
            .await
            .unwrap();
        (id, login["access_token"].as_str().unwrap().to_string())
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The `X-CareOps-Position` of a command's response, for [`TestApp::get_after`].
pub fn position(response: &Response) -> String {
    response
        .headers()
        .get("x-careops-position")
        .unwrap_or_else(|| panic!("{} answered no X-CareOps-Position", response.url()))
        .to_str()
        .expect("an ASCII position")
        .to_string()
}

/// Asserts the contract's error format and returns the body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["status_code"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// The user id (`sub`) inside an access token.
pub fn user_id_of(token: &str) -> String {
    use base64::Engine;
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("base64url"),
    )
    .expect("JSON claims");
    claims["sub"].as_str().expect("sub").to_string()
}

/// The notifier's settings as flags and environment give them (it is not run here).
fn default_notifier_args() -> notifier::NotifierArgs {
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        args: notifier::NotifierArgs,
    }
    <Flags as clap::Parser>::parse_from(["careops"]).args
}
