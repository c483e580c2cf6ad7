//! Every command response carries `X-CareOps-Position` (CONTRACT.md "Read-your-writes"),
//! also when the command appended nothing: a confirm of a confirmed booking, a login, a
//! dismissal of a dismissed alert. A client that always passes the header it got to
//! `X-CareOps-Min-Position` must never be refused or kept waiting for it.
//!
//! Handlers that append set the header to their last event's position (see
//! [`super::command_response`]). For the others this layer adds the store's head: the newest
//! committed event in feed order. Every projection reads the whole feed, so it reaches the
//! head soon; and a read model at or past the head shows everything the command could
//! have seen, which is what read-your-writes promises. Only successful answers get it: an
//! error changed nothing a client would want to read back.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use event_store::FeedPosition;

use super::POSITION_HEADER;
use crate::startup::AppState;

pub async fn ensure_position(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let command = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let mut response = next.run(request).await;
    if !command
        || !response.status().is_success()
        || response.headers().contains_key(POSITION_HEADER)
    {
        return response;
    }
    match state.store.feed_head().await {
        Ok(position) => {
            // The start of the feed when there is no event yet.
            let position = position.unwrap_or(FeedPosition::START);
            if let Ok(value) = HeaderValue::from_str(&position.token()) {
                response.headers_mut().insert(POSITION_HEADER, value);
            }
        }
        // The command itself succeeded; failing its answer now would invite a retry.
        Err(error) => tracing::warn!(%error, "no position for a command that appended nothing"),
    }
    response
}
