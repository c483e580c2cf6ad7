//! `X-Request-Id`: accepted from the client or generated, returned on the response (see the
//! layers in `startup`), logged, and stored in event metadata as the correlation id.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

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
