//! The OpenAPI document lists every route of the real router, each with the error
//! responses it can give.
//!
//! The routes are read from the code that builds the router (every `.route(path, method(handler))`
//! under `src/`, prefixed `/api/v1` for the modules `routes::router` nests there), so a new
//! route cannot be forgotten by forgetting a list; each is then sent to the running app to
//! prove the router really has it. What a route can answer is derived from its handler:
//! a token (`Actor`) → 401, a body → 400 and 413, `If-Match` → 412, a rate limit → 429,
//! a path parameter → 404, and what every API route shares (400, 503; for POST the
//! idempotency answers 409, 413, 422). A 401 or 403 seen when probing must be documented too.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::spawn;

/// One `.route(...)` method of the code.
#[derive(Debug, Clone)]
struct Route {
    method: String,
    path: String,
    /// Served by the router `routes::router` nests under `/api/v1`, through its layers.
    nested: bool,
    handler: String,
    /// The handler's parameter list and body.
    signature: String,
    body: String,
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The index of the `)` closing the `(` at `open`, skipping string literals.
fn closing(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i, mut in_string) = (0usize, open, false);
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1,
            (true, b'"') => in_string = false,
            (false, b'"') => in_string = true,
            (false, b'(') => depth += 1,
            (false, b')') => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses")
}

/// `(method, handler)` pairs of a method-router expression such as
/// `put(set_availability).get(get_availability)` or `axum::routing::get(crate::x::render)`.
fn methods(expr: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for method in ["get", "post", "put", "delete", "patch"] {
        let needle = format!("{method}(");
        let mut from = 0;
        while let Some(at) = expr[from..].find(&needle) {
            let start = from + at;
            from = start + needle.len();
            let before = expr[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let open = start + method.len();
            let inner = expr[open + 1..closing(expr, open)].trim();
            let handler = inner.rsplit("::").next().unwrap().trim().to_string();
            found.push((method.to_string(), handler));
        }
    }
    found
}

/// The modules whose routes `routes::router` nests under `/api/v1`.
fn nested_modules(src: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(src.join("routes/mod.rs")).unwrap();
    let start = text
        .find("let api = Router::new()")
        .expect("the api router");
    let chain = &text[start..start + text[start..].find(';').unwrap()];
    chain
        .split(".merge(")
        .skip(1)
        .map(|m| m.split("::routes()").next().unwrap().trim().to_string())
        .collect()
}

/// The parameters and body of `fn name` in `text`.
fn function(text: &str, name: &str) -> Option<(String, String)> {
    let at = [format!("async fn {name}("), format!(" fn {name}(")]
        .iter()
        .find_map(|needle| text.find(needle.as_str()).map(|at| at + needle.len() - 1))?;
    let close = closing(text, at);
    let end = text[close..]
        .find("\n}\n")
        .map(|e| close + e)
        .unwrap_or(text.len());
    Some((text[at..=close].to_string(), text[close..end].to_string()))
}

/// A handler's parameters and body, looked up in its own file first. The body includes
/// the bodies of the functions of its file that it calls (two levels deep), where shared
/// checks such as `change_booking`'s permission check live.
fn handler_text(files: &[(PathBuf, String)], own: &Path, name: &str) -> (String, String) {
    let ordered = files
        .iter()
        .filter(|(p, _)| p == own)
        .chain(files.iter().filter(|(p, _)| p != own));
    for (_, text) in ordered {
        if let Some((signature, mut body)) = function(text, name) {
            let mut seen = vec![name.to_string()];
            for _ in 0..2 {
                let mut more = String::new();
                let words: Vec<&str> = body
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '('))
                    .filter_map(|w| w.strip_suffix('('))
                    .collect();
                for callee in words {
                    if !seen.iter().any(|s| s == callee) {
                        seen.push(callee.to_string());
                        if let Some((_, callee_body)) = function(text, callee) {
                            more.push_str(&callee_body);
                        }
                    }
                }
                body.push_str(&more);
            }
            return (signature, body);
        }
    }
    panic!("no handler {name}")
}

fn routes_in_code() -> Vec<Route> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    source_files(&src, &mut paths);
    let files: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    let nested = nested_modules(&src);
    let mut routes = Vec::new();
    for (file, text) in &files {
        let relative = file.strip_prefix(src.join("routes")).ok();
        let module = relative
            .and_then(|r| r.iter().next())
            .map(|m| m.to_string_lossy().trim_end_matches(".rs").to_string());
        let prefix = if module.is_some_and(|m| nested.contains(&m)) {
            "/api/v1"
        } else {
            ""
        };
        let mut from = 0;
        while let Some(at) = text[from..].find(".route(") {
            let open = from + at + ".route".len();
            from = open;
            let close = closing(text, open);
            let args = &text[open + 1..close];
            let quote = args.find('"').expect("a path literal");
            let end = quote + 1 + args[quote + 1..].find('"').unwrap();
            let path = format!("{prefix}{}", &args[quote + 1..end]);
            for (method, handler) in methods(&args[end + 1..]) {
                let (signature, body) = handler_text(&files, file, &handler);
                routes.push(Route {
                    method,
                    path: path.clone(),
                    nested: !prefix.is_empty(),
                    handler,
                    signature,
                    body,
                });
            }
        }
    }
    routes
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "0191a9c6-0000-7000-8000-000000000000")
        .replace("{slug}", "no-such-slug")
        .replace("{provider}", "generic")
        .replace("{token}", "no-such-token")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                found.insert((method.clone(), path.clone()));
            }
        }
    }
    found
}

fn has_header_param(op: &Value, name: &str) -> bool {
    op["parameters"].as_array().is_some_and(|params| {
        params.iter().any(|p| {
            p["in"] == "header"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    })
}

/// Sends `route` to the app, as `token` (or anonymously) with an empty JSON object body.
async fn probe(app: &support::TestApp, route: &Route, token: Option<&str>) -> (StatusCode, Value) {
    let root = app.base.trim_end_matches("/api/v1");
    let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
    let mut request = app
        .client
        .request(method.clone(), format!("{root}{}", concrete(&route.path)));
    if method != Method::GET {
        request = request.json(&json!({}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn every_route_of_the_router_is_documented_with_its_error_responses(pool: PgPool) {
    let app = spawn(pool).await;
    let owner = app.onboard("Urban Glow", "owner@example.com").await;
    let (_, powerless) = app
        .staff_member(&owner.access_token, "sam@example.com", json!({}))
        .await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let routes = routes_in_code();
    assert!(
        routes.len() > 80,
        "the parser found only {} routes",
        routes.len()
    );

    let in_code: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let documented = operations(&doc);
    let undocumented: Vec<_> = in_code.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&in_code).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    let mut problems = Vec::new();
    for route in &routes {
        let op = &doc["paths"][&route.path][&route.method];
        let responses = op["responses"].as_object().unwrap();
        let api = route.nested;
        let post = route.method == "post";
        let authenticated = route.signature.contains(": Actor");
        let takes_body = ["ApiJson<", "OptionalJson<", "Bytes", "Form<"]
            .iter()
            .any(|t| route.signature.contains(t));
        let mut expected: Vec<(&str, &str)> = Vec::new();
        if api {
            expected.extend([("400", "every API route"), ("503", "read-your-writes wait")]);
        }
        if api && post {
            expected.extend([
                ("409", "idempotency"),
                ("413", "idempotency"),
                ("422", "idempotency"),
            ]);
        }
        if authenticated {
            expected.push(("401", "takes a token"));
        }
        if takes_body {
            expected.extend([("400", "has a body"), ("413", "has a body")]);
        }
        if route.signature.contains(": IfMatch") {
            expected.push(("412", "takes If-Match"));
        }
        if route.body.contains("limits.") {
            expected.push(("429", "rate limited"));
        }
        if route.path.contains('{') {
            expected.push(("404", "has a path parameter"));
        }
        if ["require(", "require_owner()", "forbidden(", "may_edit("]
            .iter()
            .any(|check| route.body.contains(check))
        {
            expected.push(("403", "checks the role or a permission"));
        }

        // What the real router answers.
        let (anonymous, body) = probe(&app, route, None).await;
        let routed = !matches!(
            body["code"].as_str(),
            Some("route_not_found" | "method_not_allowed")
        );
        if !routed {
            problems.push(format!(
                "{} {}: not routed ({anonymous})",
                route.method, route.path
            ));
            continue;
        }
        if anonymous == StatusCode::UNAUTHORIZED {
            expected.push(("401", "answered 401 without a token"));
        }
        if authenticated {
            let (as_staff, _) = probe(&app, route, Some(&powerless)).await;
            if as_staff == StatusCode::FORBIDDEN {
                expected.push(("403", "answered 403 to staff without permissions"));
            }
        }

        for (status, why) in expected {
            if !responses.contains_key(status) {
                problems.push(format!(
                    "{} {} ({}): no {status} ({why})",
                    route.method, route.path, route.handler
                ));
            }
        }
        for (status, response) in responses {
            let error_body = response["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/components/responses/"))
                || response["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorBody";
            if status.starts_with('4') && !error_body {
                problems.push(format!(
                    "{} {}: {status} is not in the error format",
                    route.method, route.path
                ));
            }
            if status.starts_with('2')
                && response["content"]["application/json"]["schema"] == json!({"type": "object"})
            {
                problems.push(format!(
                    "{} {}: {status} body is a bare object",
                    route.method, route.path
                ));
            }
        }
        if authenticated && op["security"].as_array().is_none_or(|s| s.is_empty()) {
            problems.push(format!(
                "{} {}: takes a token but has no security",
                route.method, route.path
            ));
        }
        if takes_body && op["requestBody"].is_null() {
            problems.push(format!(
                "{} {}: has a body but no requestBody",
                route.method, route.path
            ));
        }
        if route.signature.contains(": IfMatch") && !has_header_param(op, "If-Match") {
            problems.push(format!(
                "{} {}: takes If-Match but does not list it",
                route.method, route.path
            ));
        }
        if api && post && !has_header_param(op, "Idempotency-Key") {
            problems.push(format!(
                "{} {}: no Idempotency-Key parameter",
                route.method, route.path
            ));
        }
        if api && !has_header_param(op, "X-CareOps-Min-Position") {
            problems.push(format!(
                "{} {}: no X-CareOps-Min-Position parameter",
                route.method, route.path
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );

    // The shared responses exist and say what they are.
    for name in [
        "BadRequest",
        "Unauthorized",
        "NotFound",
        "PreconditionFailed",
        "PayloadTooLarge",
        "TooManyRequests",
        "ServiceUnavailable",
    ] {
        let response = &doc["components"]["responses"][name];
        assert!(
            response["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    assert!(
        doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"].is_object()
    );
    assert!(
        doc["components"]["responses"]["ServiceUnavailable"]["description"]
            .as_str()
            .unwrap()
            .contains("projection_lagging")
    );
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn lists_are_documented_as_pages_of_their_items(pool: PgPool) {
    let app = spawn(pool).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    for path in [
        "/api/v1/bookings",
        "/api/v1/contacts",
        "/api/v1/inventory",
        "/api/v1/staff",
        "/api/v1/services",
        "/api/v1/conversations",
        "/api/v1/forms/templates",
        "/api/v1/forms/submissions",
        "/api/v1/dashboard/alerts",
    ] {
        let schema =
            &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
            None => schema,
        };
        let items = &schema["properties"]["items"];
        assert_eq!(items["type"], "array", "{path}: {schema}");
        let item = &items["items"];
        assert!(
            item["$ref"].is_string() || item["properties"]["id"].is_object(),
            "{path}: items are {items}"
        );
        assert!(schema["properties"]["next_cursor"].is_object(), "{path}");
    }
}

/// The name each `ToSchema` type of `crate_dir` has in the document (`#[schema(as = …)]` or
/// its own), with where it is defined.
fn schema_names(crate_dir: &Path, out: &mut Vec<(String, String)>) {
    let mut paths = Vec::new();
    source_files(&crate_dir.join("src"), &mut paths);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut from = 0;
        while let Some(at) = text[from..].find("utoipa::ToSchema") {
            let start = from + at;
            let item = ["pub struct ", "pub enum "]
                .iter()
                .filter_map(|k| text[start..].find(k).map(|i| (start + i, k.len())))
                .min()
                .unwrap();
            let between = &text[start..item.0];
            let own: String = text[item.0 + item.1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let name = between
                .split("schema(as = ")
                .nth(1)
                .map(|rest| {
                    rest.split(')')
                        .next()
                        .unwrap()
                        .rsplit("::")
                        .next()
                        .unwrap()
                        .trim()
                        .to_string()
                })
                .unwrap_or(own);
            out.push((name, format!("{}", path.display())));
            from = item.0;
        }
    }
}

/// utoipa keys schemas by name: two types of one name silently become one in the document,
/// and one of them is described wrongly.
#[test]
fn no_two_documented_types_share_a_schema_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut names = Vec::new();
    for krate in ["command-api", "projections"] {
        schema_names(&root.join(krate), &mut names);
    }
    assert!(names.len() > 50, "found only {} schemas", names.len());
    names.sort();
    let clashes: Vec<_> = names
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| format!("{} in {} and {}", w[0].0, w[0].1, w[1].1))
        .collect();
    assert!(
        clashes.is_empty(),
        "schema names used twice:\n{}",
        clashes.join("\n")
    );
}
