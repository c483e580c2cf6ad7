//! Answers for requests that no route takes, in the API's error format: axum's own are
//! empty-bodied, which breaks the contract's "errors always have `{detail, status_code,
//! code}`" for clients that probe an unknown path or send the wrong method.

use axum::http::{Method, StatusCode, Uri};

use super::ApiError;

/// Unknown path: 404 `route_not_found` (distinct from `not_found`, an unknown resource).
pub async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        format!("there is no route {}", uri.path()),
    )
}

/// Known path, wrong method: 405 `method_not_allowed`. axum's method router adds the
/// `Allow` header (the methods the path has) to whatever its fallback answers.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; see the Allow header",
            uri.path()
        ),
    )
}
