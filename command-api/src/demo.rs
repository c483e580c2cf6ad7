//! The seed's demo business, "Urban Glow" (`/book/urbanglow`), created through the public
//! HTTP API of the running process, so the demo goes through exactly the validation, events
//! and notifications a real owner's setup does.
//!
//! Seeding is idempotent step by step, so a run that failed half-way (the process stopped,
//! a dependency went away) is completed by the next one instead of being taken for a
//! finished demo: each step first reads what exists (read models, caught up before the first
//! read and kept current with the position of every command since) and creates only what is
//! missing. A run over a complete demo appends no event. The owner's password is generated
//! on the first run and kept in the data folder, so later runs log in with it and print it
//! again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context};
use chrono::{Duration, Utc};
use rand::distributions::{Alphanumeric, DistString};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// The demo's public slug.
pub const SLUG: &str = "urbanglow";
/// The owner's login email.
pub const OWNER_EMAIL: &str = "maya@urbanglow.example";
/// Where the owner's password is kept, in the data folder.
pub const PASSWORD_FILE: &str = "demo-owner-password";

/// How long the first read waits for the read models to apply what is already committed.
const CATCH_UP_LIMIT: StdDuration = StdDuration::from_secs(60);

/// The owner's login, printed for the person running the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    /// Whether this run added anything (false: the demo was complete already).
    pub created: bool,
}

/// Creates what is missing of the demo business through the API at `base` (e.g.
/// `http://127.0.0.1:8080`).
pub async fn ensure(base: &str, data_dir: &Path) -> anyhow::Result<DemoLogin> {
    let password_file = data_dir.join(PASSWORD_FILE);
    let password = owner_password(&password_file)?;
    let mut seeding = Seeding {
        api: Api {
            http: Client::new(),
            base: format!("{}/api/v1", base.trim_end_matches('/')),
            token: None,
            position: Mutex::new(None),
        },
        created: false,
    };
    seeding.run(&password, &password_file).await?;
    Ok(DemoLogin {
        email: OWNER_EMAIL.to_string(),
        password,
        created: seeding.created,
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
    /// The position of the last command, sent with every read (`X-CareOps-Min-Position`)
    /// so that each step sees what the previous ones did.
    position: Mutex<Option<String>>,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if method == Method::GET {
            if let Some(position) = self.last_position() {
                request = request.header("X-CareOps-Min-Position", position);
            }
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status();
        if let Some(position) = response
            .headers()
            .get("x-careops-position")
            .and_then(|v| v.to_str().ok())
        {
            *self.position.lock().unwrap_or_else(|e| e.into_inner()) = Some(position.to_string());
        }
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    fn last_position(&self) -> Option<String> {
        self.position
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A call that must succeed.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method, path, body).await?;
        if !status.is_success() {
            bail!("demo setup: {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.expect(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.expect(Method::POST, path, Some(body)).await
    }

    /// The `items` of a list answer.
    async fn items(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        Ok(self.get(path).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}

fn id_of(value: &Value) -> anyhow::Result<String> {
    value["id"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no id in {value}"))
}

/// The id of the list item whose `field` is `wanted`.
fn find_by(items: &[Value], field: &str, wanted: &str) -> Option<String> {
    items
        .iter()
        .find(|item| item[field].as_str() == Some(wanted))
        .and_then(|item| item["id"].as_str().map(str::to_string))
}

/// The stock items: (name, unit, quantity, threshold). Red Dye starts one above its
/// threshold, so the first Hair Coloring bookings raise the low-stock alert.
const ITEMS: [(&str, &str, i64, i64); 4] = [
    ("Red Dye", "tube", 6, 5),
    ("Shampoo", "bottle", 24, 6),
    ("Nail Polish", "bottle", 9, 4),
    ("Massage Oil", "bottle", 5, 3),
];
const STAFF: [(&str, &str); 2] = [
    ("Jordan Rivera", "jordan@urbanglow.example"),
    ("Priya Shah", "priya@urbanglow.example"),
];
const CONTACTS: [(&str, &str, &str); 3] = [
    ("Sarah Johnson", "sarah.johnson@example.com", "+12125550101"),
    ("Emily Davis", "emily.davis@example.com", "+12125550102"),
    ("Olivia Brown", "olivia.brown@example.com", "+12125550103"),
];
/// Bookings: (service index, contact index, days ahead), at the first free slot.
const BOOKINGS: [(usize, usize, i64); 4] = [(0, 0, 1), (1, 1, 1), (2, 2, 2), (0, 0, 3)];
const FORM_NAME: &str = "New client consultation";

struct Seeding {
    api: Api,
    /// Whether any step added something.
    created: bool,
}

impl Seeding {
    async fn run(&mut self, password: &str, password_file: &Path) -> anyhow::Result<()> {
        self.sign_in(password, password_file).await?;
        let owner_id = id_of(&self.api.get("/auth/me").await?)?;
        self.wait_for_read_models().await?;
        let items = self.inventory().await?;
        let services = self.services(&items).await?;
        let mut everyone = self.staff().await?;
        everyone.push(owner_id);
        self.availability(&everyone).await?;
        self.activate().await?;
        let contacts = self.contacts().await?;
        self.bookings(&services, &contacts).await?;
        self.inbox_message(&contacts[0]).await?;
        self.consultation_form(&contacts[0]).await?;
        Ok(())
    }

    /// Creates the workspace and its owner, or logs in as the owner of the existing one.
    async fn sign_in(&mut self, password: &str, password_file: &Path) -> anyhow::Result<()> {
        let (status, created) = self
            .api
            .call(
                Method::POST,
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
        let token = match status {
            StatusCode::CREATED => {
                self.created = true;
                created["access_token"].as_str().map(str::to_string)
            }
            StatusCode::CONFLICT => {
                let (status, login) = self
                    .api
                    .call(
                        Method::POST,
                        "/auth/login",
                        Some(json!({"email": OWNER_EMAIL, "password": password})),
                    )
                    .await?;
                if status != StatusCode::OK {
                    bail!(
                        "demo setup: the slug {SLUG:?} or {OWNER_EMAIL} is taken, and the password kept in {} does not log in ({status}): \
                         the workspace is not this data folder's demo",
                        password_file.display()
                    );
                }
                login["access_token"].as_str().map(str::to_string)
            }
            _ => bail!("demo setup: onboarding answered {status}: {created}"),
        };
        self.api.token = Some(token.context("no access token in the answer")?);
        Ok(())
    }

    /// Waits until every read model has applied what is committed, so that the reads of
    /// an existing demo see all of it (the projections may still be catching up after a
    /// restart of the process).
    async fn wait_for_read_models(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + CATCH_UP_LIMIT;
        loop {
            let projections = self.api.get("/admin/projections").await?;
            let lagging: Vec<&str> = projections
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter(|p| p["lag_events"].as_i64().unwrap_or(1) > 0)
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            if lagging.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "demo setup: the read models {} did not catch up within {} s",
                    lagging.join(", "),
                    CATCH_UP_LIMIT.as_secs()
                );
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    /// The stock items' ids, in [`ITEMS`] order.
    async fn inventory(&mut self) -> anyhow::Result<Vec<String>> {
        let existing = self.api.items("/inventory?limit=200").await?;
        let missing: Vec<Value> = ITEMS
            .iter()
            .filter(|(name, ..)| find_by(&existing, "name", name).is_none())
            .map(|(name, unit, quantity, threshold)| {
                json!({"name": name, "unit": unit, "quantity": quantity, "threshold": threshold})
            })
            .collect();
        let mut all = existing;
        if !missing.is_empty() {
            let created = self
                .api
                .post("/onboarding/inventory", json!({ "items": missing }))
                .await?;
            self.created = true;
            all.extend(created["items"].as_array().cloned().unwrap_or_default());
        }
        ITEMS
            .iter()
            .map(|(name, ..)| {
                find_by(&all, "name", name).with_context(|| format!("no stock item {name}"))
            })
            .collect()
    }

    /// The services' ids: Hair Coloring, Haircut & Style, Gel Manicure, Relaxing Massage.
    async fn services(&mut self, items: &[String]) -> anyhow::Result<Vec<String>> {
        let wanted = [
            json!({"name": "Hair Coloring", "duration_minutes": 120, "price_cents": 8500,
                   "buffer_after_minutes": 15,
                   "inventory": [{"item_id": items[0], "quantity": 1}, {"item_id": items[1], "quantity": 1}]}),
            json!({"name": "Haircut & Style", "duration_minutes": 45, "price_cents": 4500,
                   "inventory": [{"item_id": items[1], "quantity": 1}]}),
            json!({"name": "Gel Manicure", "duration_minutes": 60, "price_cents": 3800,
                   "inventory": [{"item_id": items[2], "quantity": 1}]}),
            json!({"name": "Relaxing Massage", "duration_minutes": 60, "price_cents": 9000,
                   "buffer_before_minutes": 10, "inventory": [{"item_id": items[3], "quantity": 1}]}),
        ];
        let name = |service: &Value| service["name"].as_str().unwrap_or_default().to_string();
        let existing = self.api.items("/services?limit=200").await?;
        let missing: Vec<Value> = wanted
            .iter()
            .filter(|s| find_by(&existing, "name", &name(s)).is_none())
            .cloned()
            .collect();
        let mut all = existing;
        if !missing.is_empty() {
            let created = self
                .api
                .post("/onboarding/services", json!({ "services": missing }))
                .await?;
            self.created = true;
            all.extend(created["services"].as_array().cloned().unwrap_or_default());
        }
        wanted
            .iter()
            .map(|s| {
                let name = name(s);
                find_by(&all, "name", &name).with_context(|| format!("no service {name}"))
            })
            .collect()
    }

    /// The two stylists' ids (invited when missing; each invitation emails a password).
    async fn staff(&mut self) -> anyhow::Result<Vec<String>> {
        let existing = self
            .api
            .items("/staff?include_inactive=true&limit=200")
            .await?;
        let mut ids = Vec::new();
        for (name, email) in STAFF {
            if let Some(id) = find_by(&existing, "email", email) {
                ids.push(id);
                continue;
            }
            let staff = self
                .api
                .post(
                    "/staff",
                    json!({"name": name, "email": email, "permissions":
                        {"bookings": true, "inbox": true, "contacts": true, "inventory": false, "forms": true}}),
                )
                .await?;
            self.created = true;
            ids.push(id_of(&staff)?);
        }
        Ok(ids)
    }

    /// Monday to Saturday, 09:00–18:00, for whoever has no weekly hours yet (hours someone
    /// set since are theirs).
    async fn availability(&mut self, people: &[String]) -> anyhow::Result<()> {
        let weekly: Vec<Value> = (1..=6)
            .map(|d| json!({"weekday": d, "start": "09:00", "end": "18:00"}))
            .collect();
        for id in people {
            let path = format!("/staff/{id}/availability");
            let current = self.api.get(&path).await?;
            if current["weekly"].as_array().is_some_and(|w| !w.is_empty()) {
                continue;
            }
            self.api
                .expect(
                    Method::PUT,
                    &path,
                    Some(json!({"weekly": weekly, "exceptions": []})),
                )
                .await?;
            self.created = true;
        }
        Ok(())
    }

    async fn activate(&mut self) -> anyhow::Result<()> {
        if self.api.get("/workspace").await?["is_active"] == Value::Bool(true) {
            return Ok(());
        }
        self.api.post("/onboarding/activate", json!({})).await?;
        self.created = true;
        Ok(())
    }

    /// The customers' ids, in [`CONTACTS`] order.
    async fn contacts(&mut self) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        for (name, email, phone) in CONTACTS {
            let found = self
                .api
                .items(&format!("/contacts?q={email}&limit=200"))
                .await?;
            if let Some(id) = find_by(&found, "email", email) {
                ids.push(id);
                continue;
            }
            let contact = self
                .api
                .post(
                    "/contacts",
                    json!({"name": name, "email": email, "phone": phone}),
                )
                .await?;
            self.created = true;
            ids.push(id_of(&contact)?);
        }
        Ok(ids)
    }

    /// The demo's bookings, at the first free slots the public page offers. A planned
    /// booking counts as there when its customer has a booking of its service (in any
    /// status: one cancelled since is not booked again).
    async fn bookings(&mut self, services: &[String], contacts: &[String]) -> anyhow::Result<()> {
        let mut taken = HashSet::new();
        for (service_index, contact_index, days_ahead) in BOOKINGS {
            let (service, contact) = (&services[service_index], &contacts[contact_index]);
            let history = self
                .api
                .get(&format!("/contacts/{contact}/history"))
                .await?;
            let existing = history["bookings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["service_id"].as_str() == Some(service))
                .filter_map(|b| b["id"].as_str().map(str::to_string))
                .find(|id| !taken.contains(id));
            if let Some(id) = existing {
                taken.insert(id);
                continue;
            }
            let date = (Utc::now() + Duration::days(days_ahead)).date_naive();
            let slots = self
                .api
                .get(&format!(
                    "/public/{SLUG}/availability?service_id={service}&date={date}&days=7"
                ))
                .await?;
            let Some(slot) = slots["slots"].as_array().and_then(|s| s.first()).cloned() else {
                tracing::warn!(%date, "demo: no free slot for a booking");
                continue;
            };
            let booked = self
                .api
                .post(
                    "/bookings",
                    json!({"service_id": service, "staff_id": slot["staff_id"],
                           "start": slot["start"], "contact_id": contact,
                           "notes": "Demo booking"}),
                )
                .await?;
            self.created = true;
            taken.insert(id_of(&booked)?);
        }
        Ok(())
    }

    /// A customer question waiting in the inbox (from the public contact form).
    async fn inbox_message(&mut self, contact: &str) -> anyhow::Result<()> {
        let history = self
            .api
            .get(&format!("/contacts/{contact}/history"))
            .await?;
        if history["messages"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
        {
            return Ok(());
        }
        let (name, email, _) = CONTACTS[0];
        self.api
            .post(
                &format!("/public/{SLUG}/messages"),
                json!({"name": name, "email": email,
                       "body": "Hi! Do you have any openings for balayage this Saturday?"}),
            )
            .await?;
        self.created = true;
        Ok(())
    }

    /// The consultation form template, and a pending request of it for the first customer.
    async fn consultation_form(&mut self, contact: &str) -> anyhow::Result<()> {
        let templates = self.api.items("/forms/templates?limit=200").await?;
        let template_id = match find_by(&templates, "name", FORM_NAME) {
            Some(id) => id,
            None => {
                let template = self
                    .api
                    .post(
                        "/forms/templates",
                        json!({"name": FORM_NAME, "fields": [
                            {"key": "allergies", "label": "Any allergies to hair dye?", "kind": "textarea", "required": true},
                            {"key": "patch_test", "label": "I had a patch test in the last 48 hours", "kind": "checkbox", "required": true},
                            {"key": "signature", "label": "Signature", "kind": "signature", "required": true}
                        ]}),
                    )
                    .await?;
                self.created = true;
                id_of(&template)?
            }
        };
        let history = self
            .api
            .get(&format!("/contacts/{contact}/history"))
            .await?;
        let requested = history["forms"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["template_id"].as_str() == Some(template_id.as_str()));
        if !requested {
            self.api
                .post(
                    "/forms/requests",
                    json!({"template_id": template_id, "contact_id": contact}),
                )
                .await?;
            self.created = true;
        }
        Ok(())
    }
}
