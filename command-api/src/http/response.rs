//! Command responses: the body plus `X-CareOps-Position`, the read-your-writes token.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use event_store::AppendOutcome;
use serde::Serialize;

use super::POSITION_HEADER;

pub fn command_response<T: Serialize>(
    status: StatusCode,
    body: &T,
    outcome: Option<&AppendOutcome>,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Some(outcome) = outcome {
        if let Ok(value) = HeaderValue::from_str(&outcome.last_position.token()) {
            response.headers_mut().insert(POSITION_HEADER, value);
        }
    }
    response
}

/// A single resource with its `ETag` (the stream version), for `If-Match` on later commands.
pub fn with_etag<T: Serialize>(body: &T, version: u64) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, etag);
    }
    response
}

/// Marks a response that hands out credentials (tokens): no cache keeps it
/// (`Cache-Control: no-store`, as RFC 6749 asks of token responses), and the idempotency
/// layer stores it only sealed.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}
