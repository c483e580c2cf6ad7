//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the browsable UI.
//!
//! The annotations say what is particular to a route (its body, its domain errors). What the
//! shared layers and extractors answer on every route alike (a bad token, a bad
//! `X-CareOps-Min-Position`, a lagging read model, an oversize body, a reused
//! `Idempotency-Key`, a stale `If-Match`) is added by [`CommonResponses`] from what each
//! operation declares, so that no route can forget one. `tests/openapi.rs` checks the result
//! against the real router.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn, PathItem};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response};
use utoipa::{Modify, OpenApi};

use crate::routes;
use crate::startup::AppState;

/// The error body of every failure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A human sentence.
    pub detail: String,
    pub status_code: u16,
    /// A stable snake_case code.
    pub code: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `If-Match` on a command to one resource; list it in a route's `params(...)` when its
/// handler takes [`crate::http::IfMatch`], and [`CommonResponses`] adds the 412.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The resource's `ETag` as last read (`"3"`); the command is refused with 412 when the
    /// resource changed since.
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The error answers every route shares, as named responses under `components.responses`.
const COMMON: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "Malformed input (`malformed_json`, `invalid_body`, `invalid_path`, `invalid_query`, `invalid_position`, `invalid_if_match`, `invalid_idempotency_key`, `unsupported_media_type`)."),
    ("401", "Unauthorized", "No, an invalid or an expired access token, or an ended session (`unauthorized`)."),
    ("403", "Forbidden", "Not allowed for this role, or without the permission it needs (`forbidden`)."),
    ("404", "NotFound", "Unknown, or belonging to another workspace (`not_found`)."),
    ("409", "Conflict", "A conflict; for a request with an `Idempotency-Key` also `idempotency_in_progress` (the first request with this key is still running)."),
    ("412", "PreconditionFailed", "`If-Match` names a version the resource is no longer at (`precondition_failed`)."),
    ("413", "PayloadTooLarge", "The request body is over the size limit (`body_too_large`)."),
    ("422", "Unprocessable", "Well-formed but refused by a rule; for a request with an `Idempotency-Key` also `idempotency_key_reused` (the key came with another body)."),
    ("429", "TooManyRequests", "Rate limited (`rate_limited`); `Retry-After` says when to retry."),
    ("503", "ServiceUnavailable", "A dependency is down (`database_unavailable`), or the read models did not reach `X-CareOps-Min-Position` within 5 s (`projection_lagging`)."),
];

/// Adds, to every operation, the responses and parameters of the layers and extractors
/// it goes through (see the module documentation). A route's own annotation of a status
/// wins over the common one.
struct CommonResponses;

impl CommonResponses {
    fn name(status: &str) -> &'static str {
        COMMON
            .iter()
            .find(|(s, _, _)| *s == status)
            .map(|(_, name, _)| *name)
            .unwrap_or("BadRequest")
    }

    fn add(operation: &mut Operation, status: &str) {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(Self::name(status))));
    }

    fn has_header(operation: &Operation, name: &str) -> bool {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case(name))
    }

    fn add_header(operation: &mut Operation, name: &str, description: &str) {
        if !Self::has_header(operation, name) {
            let mut parameter = Parameter::new(name);
            parameter.parameter_in = ParameterIn::Header;
            parameter.required = Required::False;
            parameter.description = Some(description.to_string());
            parameter.schema = Some(RefOr::T(Object::with_type(Type::String).into()));
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(parameter);
        }
    }

    fn operation(path: &str, method: &str, operation: &mut Operation) {
        // The operations routes (health, readiness, metrics, this document) are served
        // beside the API router, so its layers do not apply to them, whatever their path.
        let operations = operation
            .tags
            .iter()
            .flatten()
            .any(|tag| tag == "operations");
        let api = path.starts_with("/api/v1/") && !operations;
        let command = matches!(method, "post" | "put" | "patch" | "delete");
        if api {
            // Every API route goes through the read-your-writes layer.
            Self::add_header(
                operation,
                "X-CareOps-Min-Position",
                "A command's `X-CareOps-Position`: answer only once the read models applied it.",
            );
            Self::add(operation, "400");
            Self::add(operation, "503");
        }
        if api && method == "post" {
            // Every POST goes through the idempotency layer, which reads the body itself.
            Self::add_header(
                operation,
                "Idempotency-Key",
                "A retry with the same key and body gets the first response again, without the work being done twice (kept 24 h).",
            );
            Self::add(operation, "409");
            Self::add(operation, "413");
            Self::add(operation, "422");
        }
        if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
            Self::add(operation, "401");
        }
        if operation.request_body.is_some() {
            Self::add(operation, "400");
            Self::add(operation, "413");
        }
        if path.contains('{') {
            Self::add(operation, "400");
            Self::add(operation, "404");
        }
        if Self::has_header(operation, "If-Match") {
            Self::add(operation, "412");
        }
        // A route's own error responses without a description get the common one.
        for (status, response) in operation.responses.responses.iter_mut() {
            if let RefOr::T(response) = response {
                if response.description.is_empty() {
                    if let Some((_, _, description)) = COMMON.iter().find(|(s, _, _)| s == status) {
                        response.description = (*description).to_string();
                    }
                }
            }
        }
        if api && command {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                    response.headers.entry("X-CareOps-Position".into()).or_insert_with(|| {
                        let mut header = Header::new(Object::with_type(Type::String));
                        header.description = Some(
                            "Read-your-writes token: pass it as `X-CareOps-Min-Position` to a query."
                                .into(),
                        );
                        header
                    });
                }
            }
        }
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in COMMON {
            let mut response = Response::new(*description);
            response.content.insert(
                "application/json".into(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            if *status == "429" {
                let mut retry_after = Header::new(Object::with_type(Type::Integer));
                retry_after.description = Some("Seconds to wait before retrying.".into());
                response.headers.insert("Retry-After".into(), retry_after);
            }
            components
                .responses
                .insert((*name).to_string(), RefOr::T(response));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                Self::operation(path, method, operation);
            }
        }
    }
}

/// The operations of a path item, with their lower-case method names.
fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
        ("head", &mut item.head),
        ("options", &mut item.options),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|op| (method, op)))
    .collect()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "CareOps API", description = "The operating system of a service business: booking, staff, stock, inbox, forms and automation."),
    paths(
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::me, routes::auth::change_password,
        routes::onboarding::create_workspace, routes::onboarding::create_inventory,
        routes::onboarding::create_services, routes::onboarding::activate,
        routes::staff::set_availability, routes::staff::get_availability,
        routes::inventory::create_item, routes::inventory::update_item, routes::inventory::receive,
        routes::inventory::adjust, routes::inventory::get_item,
        routes::services::create_service, routes::services::update_service, routes::services::archive_service,
        routes::services::get_service,
        routes::staff_members::invite, routes::staff_members::change_permissions, routes::staff_members::deactivate,
        routes::staff_members::get_staff,
        routes::bookings::create_booking, routes::bookings::get_booking, routes::bookings::confirm,
        routes::bookings::cancel, routes::bookings::reschedule, routes::bookings::complete,
        routes::bookings::no_show, routes::bookings::history,
        routes::public::page, routes::public::availability, routes::public::book, routes::public::cancel,
        routes::queries::list_bookings, routes::queries::list_services, routes::queries::list_staff,
        routes::queries::list_inventory, routes::queries::low_stock, routes::queries::list_contacts,
        routes::queries::get_contact, routes::queries::contact_history, routes::queries::list_conversations,
        routes::queries::conversation_messages, routes::queries::list_templates, routes::queries::get_template,
        routes::queries::list_submissions, routes::queries::dashboard_stats, routes::queries::dashboard_alerts,
        routes::queries::get_workspace, routes::queries::admin_projections, routes::audit::audit, routes::contacts::create_contact, routes::contacts::update_contact, routes::contacts::erase_contact,
        routes::workspace::update_workspace, routes::workspace::get_integrations,
        routes::workspace::update_integrations, routes::workspace::dismiss_alert,
        routes::conversations::start_conversation, routes::conversations::get_conversation,
        routes::conversations::reply, routes::conversations::assign, routes::conversations::close,
        routes::webhooks::inbound_message, routes::public_messages::contact_form,
        routes::forms::create_template, routes::forms::update_template, routes::forms::request_form,
        routes::forms::get_request, routes::public_forms::fetch, routes::public_forms::submit,
        routes::health::health, routes::health::ready, routes::health::api_health, routes::health::api_ready, crate::http::metrics::render, document, ui,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &CommonResponses),
    tags((name = "auth"), (name = "onboarding"), (name = "staff"), (name = "inventory"), (name = "services"), (name = "bookings"), (name = "public"), (name = "contacts"), (name = "inbox"), (name = "forms"), (name = "dashboard"), (name = "workspace"), (name = "admin"), (name = "audit"), (name = "operations"))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(document))
        .route("/docs", get(ui))
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the API", content_type = "application/json")))]
pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// `GET /docs`: a browsable UI (Scalar, loaded by the browser from its CDN) over the document.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "An HTML page", content_type = "text/html")))]
pub async fn ui() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html><head><title>CareOps API</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>"#,
    )
}
