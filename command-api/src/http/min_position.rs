//! Read-your-writes: a query carrying `X-CareOps-Min-Position: <token>` (from a command's
//! `X-CareOps-Position`) is answered only once every read model has applied that position,
//! waiting at most 5 s, then 503 `projection_lagging`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use event_store::FeedPosition;

use super::ApiError;
use crate::startup::AppState;

pub const MIN_POSITION_HEADER: &str = "x-careops-min-position";

/// How long a query waits for the read models.
const WAIT: Duration = Duration::from_secs(5);

pub async fn wait_for_position(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(raw) = request.headers().get(MIN_POSITION_HEADER) else {
        return next.run(request).await;
    };
    let Some(position) = raw.to_str().ok().and_then(FeedPosition::parse_token) else {
        return ApiError::bad_request(
            "invalid_position",
            "X-CareOps-Min-Position is not a position token",
        )
        .into_response();
    };
    match projections::wait_for(state.store.pool(), position, WAIT).await {
        Ok(true) => next.run(request).await,
        Ok(false) => ApiError::unavailable(
            "projection_lagging",
            "the read models have not caught up yet; retry",
        )
        .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
