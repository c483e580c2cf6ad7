//! The cross-cutting conventions of CONTRACT.md that no single endpoint owns: unmatched
//! routes in the error format.

mod support;

use reqwest::StatusCode;
use sqlx::PgPool;
use support::{assert_error, spawn};

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn unknown_paths_and_wrong_methods_answer_in_the_error_format(pool: PgPool) {
    let app = spawn(pool).await;
    let root = app.base.replace("/api/v1", "");
    for url in [
        app.url("/no-such-thing"),
        app.url("/bookings/not/a/route"),
        format!("{root}/nowhere"),
    ] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "route_not_found").await;
    }

    // A known path with a method it does not take: 405, and Allow lists what it takes.
    let cases = [
        (reqwest::Method::DELETE, app.url("/auth/login"), "POST"),
        (
            reqwest::Method::PATCH,
            app.url("/bookings"),
            "GET,HEAD,POST",
        ),
        (reqwest::Method::POST, format!("{root}/health"), "GET,HEAD"),
    ];
    for (method, url, allowed) in cases {
        let response = app.client.request(method, &url).send().await.unwrap();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mut methods: Vec<String> = v.split(',').map(|m| m.trim().to_string()).collect();
                methods.sort();
                methods.join(",")
            });
        assert_eq!(allow.as_deref(), Some(allowed), "{url}");
        assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
}
