//! `X-Request-Id`: accepted from the client or generated, returned on the response (see the
//! layers in `startup`), logged, and stored in event metadata as the correlation id and, for
//! the events a request's command appends, as their causation id (see [`command_metadata`]).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id (set by the request-id layer before any handler runs).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_default();
        Ok(RequestId(id))
    }
}

/// The metadata of the events appended by a command that arrived over HTTP.
///
/// - `correlation_id` ties together everything that follows from one request: these events,
///   and whatever later reacts to them (the notifier's `ReminderSent`, say).
/// - `causation_id` names the message that *directly* caused these events. For an HTTP
///   command that message is the request itself, identified by its request id, so at the
///   origin of a chain the two ids are equal. A reaction to an event (the notifier) names
///   that event's id instead, which is how the audit trail tells "what the user asked for"
///   from "what the system did because of it".
///
/// Every command handler builds its metadata here, so no HTTP command leaves either unset.
pub fn command_metadata(
    request_id: &str,
    actor_id: Option<Uuid>,
    actor_role: impl Into<String>,
) -> event_store::Metadata {
    let id = Some(request_id.to_string()).filter(|id| !id.is_empty());
    event_store::Metadata {
        actor_id,
        actor_role: Some(actor_role.into()),
        correlation_id: id.clone(),
        causation_id: id.clone(),
        request_id: id,
    }
}
