//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the browsable UI.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        routes::health::health, routes::health::ready, crate::http::metrics::render,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "onboarding"), (name = "staff"), (name = "inventory"), (name = "services"), (name = "bookings"), (name = "public"), (name = "contacts"), (name = "inbox"), (name = "forms"), (name = "dashboard"), (name = "workspace"), (name = "admin"), (name = "audit"), (name = "operations"))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(document))
        .route("/docs", get(ui))
}

async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// A browsable UI (Scalar, loaded by the browser from its CDN) over the document.
async fn ui() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html><head><title>CareOps API</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>"#,
    )
}
