//! `If-Match: "<stream version>"` on commands to one resource: refused with 412 when the
//! resource changed since the client read it (its `ETag`).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::IF_MATCH;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::ApiError;

/// The version the client expects, when it sent `If-Match`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfMatch(Option<Result<u64, ()>>);

impl IfMatch {
    /// Checks the version the resource was loaded at.
    pub fn check(&self, current: u64) -> Result<(), ApiError> {
        match self.0 {
            None => Ok(()),
            Some(Ok(expected)) if expected == current => Ok(()),
            Some(Ok(_)) => Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "the resource changed since you read it; read it again",
            )),
            Some(Err(())) => Err(ApiError::bad_request(
                "invalid_if_match",
                "If-Match is an ETag such as \"3\"",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(parts.headers.get(IF_MATCH).map(|value| {
            value
                .to_str()
                .ok()
                .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(())
        })))
    }
}
