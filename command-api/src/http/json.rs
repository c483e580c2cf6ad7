//! JSON request bodies: malformed JSON, wrong types and unknown fields are 400s in the API's
//! error format (request types use `#[serde(deny_unknown_fields)]`); a body over the limit
//! is a 413.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::ApiError;

/// `axum::Json`, with rejections in the API's error format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        );
    }
    let (code, detail) = match &rejection {
        JsonRejection::JsonDataError(e) => (
            "invalid_body",
            format!(
                "the request body does not fit: {}",
                body_error_text(&e.body_text())
            ),
        ),
        JsonRejection::JsonSyntaxError(e) => (
            "malformed_json",
            format!(
                "the request body is not valid JSON: {}",
                body_error_text(&e.body_text())
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => (
            "unsupported_media_type",
            "send the body as application/json".to_string(),
        ),
        other => ("invalid_body", other.body_text()),
    };
    ApiError::bad_request(code, detail)
}

/// serde's message without axum's prefix ("Failed to deserialize the JSON body into the target type: ").
fn body_error_text(text: &str) -> String {
    text.rsplit_once("target type: ")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_else(|| text.to_string())
}

/// A JSON body that may be left out entirely (`POST /bookings/{id}/cancel` with no reason).
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_content = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the request body is too large",
                    )
                } else {
                    ApiError::bad_request("invalid_body", rejection.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        // A body, when there is one, is JSON like every other (as `ApiJson` insists).
        if !json_content {
            return Err(ApiError::bad_request(
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJson(Some(v)))
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => ApiError::bad_request(
                    "invalid_body",
                    format!("the request body does not fit: {e}"),
                ),
                _ => ApiError::bad_request(
                    "malformed_json",
                    format!("the request body is not valid JSON: {e}"),
                ),
            })
    }
}
