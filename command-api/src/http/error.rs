//! The one API error type. Every failure becomes `{"detail", "status_code", "code"}`
//! (CONTRACT.md "Conventions"): domain refusals map to 409/422/404, infrastructure failures
//! are logged and answered as an opaque 500 or 503.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{DomainError, ErrorKind};
use event_store::{AppendError, StoreError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: String,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
    /// Extra fields merged into the body (e.g. what activation still misses).
    pub extra: Option<serde_json::Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            retry_after: None,
            extra: None,
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// Unknown, or belonging to another workspace: the answer is the same.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; retry later",
            )
        }
    }

    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }

    /// An unexpected failure: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }

    pub fn with_extra(mut self, extra: serde_json::Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "detail": self.detail,
            "status_code": self.status.as_u16(),
            "code": self.code,
        });
        if let (Some(serde_json::Value::Object(extra)), Some(map)) =
            (self.extra, body.as_object_mut())
        {
            for (k, v) in extra {
                map.entry(k).or_insert(v);
            }
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let status = match error.kind() {
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
        };
        let mut api = ApiError::new(status, error.code(), error.to_string());
        if let Some(field) = error.field() {
            api.extra = Some(json!({ "field": field }));
        }
        if let DomainError::ActivationIncomplete { missing } = &error {
            api.extra = Some(json!({ "missing": missing }));
        }
        api
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(sqlx::Error::PoolTimedOut)
            | StoreError::Database(sqlx::Error::Io(_)) => {
                tracing::error!(%error, "database unavailable");
                ApiError::unavailable(
                    "database_unavailable",
                    "the database is not reachable; retry later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl From<AppendError> for ApiError {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::Conflict { stream_id, .. } => ApiError::conflict(
                "version_conflict",
                format!("{stream_id} was changed by another request; retry"),
            ),
            AppendError::Erased { .. } => ApiError::not_found("contact"),
            AppendError::Invalid(reason) => ApiError::internal(reason),
            AppendError::Store(store) => store.into(),
        }
    }
}
