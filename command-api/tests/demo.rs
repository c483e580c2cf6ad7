//! The demo business (`serve --demo`, `deploy/run.sh --demo`): seeded through the API of a
//! running application, complete after one run, untouched by the next (not one event
//! appended), completed by the next run when the first one stopped half-way, and its
//! printed owner login works.

mod support;

use std::path::PathBuf;

use command_api::demo;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SERVICES: [&str; 4] = [
    "Gel Manicure",
    "Hair Coloring",
    "Haircut & Style",
    "Relaxing Massage",
];

/// A data folder of the test's own (the demo keeps the owner's password there).
fn data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("careops-demo-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The application's origin, which `demo::ensure` is given (`http://127.0.0.1:<port>`).
fn origin(app: &support::TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_string()
}

/// The names of the services the public booking page lists.
async fn public_services(app: &support::TestApp) -> Vec<String> {
    let response = app.get(&format!("/public/{}", demo::SLUG), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["timezone"], "America/New_York");
    let mut names: Vec<String> = page["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Logs in; the access token.
async fn login(app: &support::TestApp, email: &str, password: &str) -> String {
    let response = app
        .post(
            "/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "the printed login works");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "owner");
    body["access_token"].as_str().unwrap().to_string()
}

/// What an owner sees of a list (read after everything the demo did is projected).
async fn listed(app: &support::TestApp, token: &str, path: &str) -> Vec<Value> {
    let position: String = sqlx::query_scalar(
        "select (tx::text) || '-' || position from events order by events.tx desc, events.position desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("X-CareOps-Min-Position", position)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[sqlx::test(migrations = "../migrations")]
async fn seeding_twice_creates_the_demo_once_and_its_printed_login_works(pool: PgPool) {
    let app = support::spawn(pool).await;
    let dir = data_dir();

    let first = demo::ensure(&origin(&app), &dir)
        .await
        .expect("the demo seeds");
    assert!(first.created);
    assert_eq!(first.email, demo::OWNER_EMAIL);
    assert_eq!(public_services(&app).await, SERVICES);
    let after_first = app.event_count().await;

    let second = demo::ensure(&origin(&app), &dir)
        .await
        .expect("a second run succeeds");
    assert!(!second.created, "the second run finds everything there");
    assert_eq!(second.password, first.password, "the same login is printed");
    assert_eq!(
        app.event_count().await,
        after_first,
        "the second run appends no event"
    );
    assert_eq!(public_services(&app).await, SERVICES);

    let token = login(&app, &second.email, &second.password).await;
    assert_eq!(listed(&app, &token, "/bookings?limit=200").await.len(), 4);
    assert_eq!(listed(&app, &token, "/contacts?limit=200").await.len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_demo_left_half_built_is_completed_by_the_next_run(pool: PgPool) {
    let app = support::spawn(pool).await;
    let dir = data_dir();
    // As if the first run had stopped after the workspace and one stock item: the owner
    // exists with the password kept in the data folder, the rest does not.
    let password = "glow-interrupted-first-run";
    std::fs::write(dir.join(demo::PASSWORD_FILE), password).unwrap();
    let created = app
        .post(
            "/onboarding/workspaces",
            None,
            &json!({"name": "Urban Glow", "slug": demo::SLUG, "timezone": "America/New_York",
                    "currency": "USD",
                    "owner": {"name": "Maya Chen", "email": demo::OWNER_EMAIL, "password": password}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let owner: Value = created.json().await.unwrap();
    let owner = owner["access_token"].as_str().unwrap().to_string();
    let stocked = app
        .post(
            "/onboarding/inventory",
            Some(&owner),
            &json!({"items": [{"name": "Red Dye", "unit": "tube", "quantity": 6, "threshold": 5}]}),
        )
        .await;
    assert_eq!(stocked.status(), StatusCode::CREATED);
    let inactive = app.get(&format!("/public/{}", demo::SLUG), None).await;
    assert_eq!(inactive.status(), StatusCode::NOT_FOUND, "not open yet");

    let resumed = demo::ensure(&origin(&app), &dir)
        .await
        .expect("the next run completes the demo");
    assert!(resumed.created);
    assert_eq!(resumed.password, password);
    assert_eq!(public_services(&app).await, SERVICES);
    let token = login(&app, &resumed.email, &resumed.password).await;
    let mut items: Vec<String> = listed(&app, &token, "/inventory?limit=200")
        .await
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    items.sort();
    assert_eq!(
        items,
        ["Massage Oil", "Nail Polish", "Red Dye", "Shampoo"],
        "the item made before is reused, not made twice"
    );
    let staff = listed(&app, &token, "/staff?limit=200").await;
    assert_eq!(staff.len(), 3, "the owner and two stylists: {staff:?}");
    assert_eq!(listed(&app, &token, "/bookings?limit=200").await.len(), 4);
    assert_eq!(
        listed(&app, &token, "/conversations?limit=200").await.len(),
        1
    );
    assert_eq!(
        listed(&app, &token, "/forms/submissions?status=pending")
            .await
            .len(),
        1
    );

    let events = app.event_count().await;
    let again = demo::ensure(&origin(&app), &dir).await.unwrap();
    assert!(!again.created);
    assert_eq!(
        app.event_count().await,
        events,
        "complete now: nothing more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
