//! The HTTP routes, one module per area of CONTRACT.md.

pub mod audit;
pub mod auth;
pub mod bookings;
pub mod contact_match;
pub mod contacts;
pub mod conversations;
pub mod forms;
pub mod health;
pub mod inbound;
pub mod inventory;
pub mod onboarding;
pub mod public;
pub mod public_forms;
pub mod public_messages;
pub mod queries;
pub mod services;
pub mod staff;
pub mod staff_members;
pub mod views;
pub mod webhooks;
pub mod workspace;

use axum::Router;

use crate::startup::AppState;

/// Every route; the API's own under `/api/v1`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::routes())
        .merge(onboarding::routes())
        .merge(staff::routes())
        .merge(inventory::routes())
        .merge(services::routes())
        .merge(staff_members::routes())
        .merge(bookings::routes())
        .merge(public::routes())
        .merge(queries::routes())
        .merge(audit::routes())
        .merge(contacts::routes())
        .merge(conversations::routes())
        .merge(webhooks::routes())
        .merge(public_messages::routes())
        .merge(forms::routes())
        .merge(public_forms::routes())
        .merge(workspace::routes());
    let api = api
        .method_not_allowed_fallback(crate::http::fallback::method_not_allowed)
        // Innermost, so that the idempotency layer stores and replays the position too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::position::ensure_position,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::min_position::wait_for_position,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::idempotency::idempotent,
        ));
    Router::new()
        .nest("/api/v1", api)
        .layer(axum::middleware::from_fn(crate::http::metrics::track))
        .route("/metrics", axum::routing::get(crate::http::metrics::render))
        .merge(health::routes())
        .merge(crate::openapi::routes())
        .method_not_allowed_fallback(crate::http::fallback::method_not_allowed)
        .fallback(crate::http::fallback::route_not_found)
        .with_state(state)
}
