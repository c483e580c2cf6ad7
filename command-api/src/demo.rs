//! The seed's demo business, "Urban Glow" (`/book/urbanglow`), created through the public
//! HTTP API of the running process, so the demo goes through exactly the validation, events
//! and notifications a real owner's setup does.
//!
//! Running it again is harmless: a taken slug means the demo exists, and the owner's
//! password (generated on the first run) is kept in the data folder so it can be printed
//! again.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{Duration, Utc};
use rand::distributions::{Alphanumeric, DistString};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// The demo's public slug.
pub const SLUG: &str = "urbanglow";
/// The owner's login email.
pub const OWNER_EMAIL: &str = "maya@urbanglow.example";

/// The owner's login, printed for the person running the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    /// Whether this run created the demo (false: it existed).
    pub created: bool,
}

/// Creates the demo business through the API at `base` (e.g. `http://127.0.0.1:8080`)
/// unless it exists.
pub async fn ensure(base: &str, data_dir: &Path) -> anyhow::Result<DemoLogin> {
    let password = owner_password(&data_dir.join("demo-owner-password"))?;
    let api = Api {
        http: Client::new(),
        base: format!("{}/api/v1", base.trim_end_matches('/')),
        token: None,
    };
    let created = seed(api, &password).await?;
    Ok(DemoLogin {
        email: OWNER_EMAIL.to_string(),
        password,
        created,
    })
}

fn owner_password(path: &PathBuf) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        if !existing.trim().is_empty() {
            return Ok(existing.trim().to_string());
        }
    }
    let password = format!(
        "glow-{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 16)
    );
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, &password).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).ok();
    }
    Ok(password)
}

struct Api {
    http: Client,
    base: String,
    token: Option<String>,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// A call that must succeed.
    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method, path, Some(body)).await?;
        if !status.is_success() {
            bail!("demo setup: {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.expect(reqwest::Method::POST, path, body).await
    }
}

fn id_of(value: &Value) -> anyhow::Result<String> {
    value["id"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no id in {value}"))
}

async fn seed(mut api: Api, password: &str) -> anyhow::Result<bool> {
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/onboarding/workspaces",
            Some(json!({
                "name": "Urban Glow",
                "slug": SLUG,
                "timezone": "America/New_York",
                "currency": "USD",
                "owner": {"name": "Maya Chen", "email": OWNER_EMAIL, "password": password}
            })),
        )
        .await?;
    if status == StatusCode::CONFLICT {
        return Ok(false);
    }
    if status != StatusCode::CREATED {
        bail!("demo setup: onboarding answered {status}: {created}");
    }
    api.token = created["access_token"].as_str().map(str::to_string);
    let owner_id = api
        .expect(reqwest::Method::GET, "/auth/me", Value::Null)
        .await
        .ok()
        .and_then(|me| me["id"].as_str().map(str::to_string));

    let items = api
        .post(
            "/onboarding/inventory",
            json!({"items": [
                {"name": "Red Dye", "unit": "tube", "quantity": 6, "threshold": 5},
                {"name": "Shampoo", "unit": "bottle", "quantity": 24, "threshold": 6},
                {"name": "Nail Polish", "unit": "bottle", "quantity": 9, "threshold": 4},
                {"name": "Massage Oil", "unit": "bottle", "quantity": 5, "threshold": 3}
            ]}),
        )
        .await?;
    let item = |i: usize| {
        items["items"][i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let services = api
        .post(
            "/onboarding/services",
            json!({"services": [
                {"name": "Hair Coloring", "duration_minutes": 120, "price_cents": 8500,
                 "buffer_after_minutes": 15, "inventory": [{"item_id": item(0), "quantity": 1}, {"item_id": item(1), "quantity": 1}]},
                {"name": "Haircut & Style", "duration_minutes": 45, "price_cents": 4500,
                 "inventory": [{"item_id": item(1), "quantity": 1}]},
                {"name": "Gel Manicure", "duration_minutes": 60, "price_cents": 3800,
                 "inventory": [{"item_id": item(2), "quantity": 1}]},
                {"name": "Relaxing Massage", "duration_minutes": 60, "price_cents": 9000,
                 "buffer_before_minutes": 10, "inventory": [{"item_id": item(3), "quantity": 1}]}
            ]}),
        )
        .await?;
    let service = |i: usize| {
        services["services"][i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    let weekly = json!([1, 2, 3, 4, 5, 6]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "18:00"}))
        .collect::<Vec<_>>());
    let mut staff_ids = Vec::new();
    for (name, email) in [
        ("Jordan Rivera", "jordan@urbanglow.example"),
        ("Priya Shah", "priya@urbanglow.example"),
    ] {
        let staff = api
            .post(
                "/staff",
                json!({"name": name, "email": email, "permissions":
                    {"bookings": true, "inbox": true, "contacts": true, "inventory": false, "forms": true}}),
            )
            .await?;
        staff_ids.push(id_of(&staff)?);
    }
    let mut everyone = staff_ids.clone();
    everyone.extend(owner_id);
    for id in &everyone {
        api.expect(
            reqwest::Method::PUT,
            &format!("/staff/{id}/availability"),
            json!({"weekly": weekly, "exceptions": []}),
        )
        .await?;
    }
    api.post("/onboarding/activate", json!({})).await?;

    let mut contact_ids = Vec::new();
    for (name, email, phone) in [
        ("Sarah Johnson", "sarah.johnson@example.com", "+12125550101"),
        ("Emily Davis", "emily.davis@example.com", "+12125550102"),
        ("Olivia Brown", "olivia.brown@example.com", "+12125550103"),
    ] {
        let contact = api
            .post(
                "/contacts",
                json!({"name": name, "email": email, "phone": phone}),
            )
            .await?;
        contact_ids.push(id_of(&contact)?);
    }

    // A few bookings over the next days, at the first free slots the public page offers.
    let plan = [(0usize, 0usize, 1i64), (1, 1, 1), (2, 2, 2), (0, 0, 3)];
    for (service_index, contact_index, days_ahead) in plan {
        let date = (Utc::now() + Duration::days(days_ahead)).date_naive();
        let (_, slots) = api
            .call(
                reqwest::Method::GET,
                &format!(
                    "/public/{SLUG}/availability?service_id={}&date={date}&days=7",
                    service(service_index)
                ),
                None,
            )
            .await?;
        let Some(slot) = slots["slots"].as_array().and_then(|s| s.first()).cloned() else {
            continue;
        };
        api.post(
            "/bookings",
            json!({"service_id": service(service_index), "staff_id": slot["staff_id"],
                   "start": slot["start"], "contact_id": contact_ids[contact_index],
                   "notes": "Demo booking"}),
        )
        .await?;
    }

    // A customer question waiting in the inbox, and a consultation form.
    let (status, answer) = api
        .call(
            reqwest::Method::POST,
            &format!("/public/{SLUG}/messages"),
            Some(
                json!({"name": "Sarah Johnson", "email": "sarah.johnson@example.com",
                        "body": "Hi! Do you have any openings for balayage this Saturday?"}),
            ),
        )
        .await?;
    if !status.is_success() {
        tracing::warn!(%status, %answer, "demo: the contact form message was not accepted");
    }
    let (status, template) = api
        .call(
            reqwest::Method::POST,
            "/forms/templates",
            Some(json!({"name": "New client consultation", "fields": [
                {"key": "allergies", "label": "Any allergies to hair dye?", "kind": "textarea", "required": true},
                {"key": "patch_test", "label": "I had a patch test in the last 48 hours", "kind": "checkbox", "required": true},
                {"key": "signature", "label": "Signature", "kind": "signature", "required": true}
            ]})),
        )
        .await?;
    if status.is_success() {
        if let Ok(template_id) = id_of(&template) {
            let (status, answer) = api
                .call(
                    reqwest::Method::POST,
                    "/forms/requests",
                    Some(json!({"template_id": template_id, "contact_id": contact_ids[0]})),
                )
                .await?;
            if !status.is_success() {
                tracing::warn!(%status, %answer, "demo: the form request was not accepted");
            }
        }
    } else {
        tracing::warn!(%status, %template, "demo: the form template was not accepted");
    }
    Ok(true)
}
