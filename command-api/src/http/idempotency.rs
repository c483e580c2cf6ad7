//! `Idempotency-Key` on POST: the first response to a key is stored (status, body and the
//! position header) and replayed for a retry with the same body, without doing the work
//! again; the same key with another body is a 422. Keys are scoped to the caller (the user
//! of a valid token, or the client address for public endpoints) and kept for 24 hours.
//!
//! A retry that arrives while the first request is still running gets 409
//! `idempotency_in_progress` rather than running twice. A first attempt that failed with a
//! 5xx is not kept, so a retry runs again.

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{ApiError, POSITION_HEADER};
use crate::startup::AppState;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Responses of this size or less are kept for replay (command responses are small).
const MAX_STORED_BODY: usize = 1024 * 1024;

pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_HEADER).cloned() else {
        return next.run(request).await;
    };
    match handle(&state, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle(
    state: &AppState,
    key: HeaderValue,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let key = key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key is 1 to 255 visible characters",
            )
            .into_response()
        })?
        .to_string();
    let scope = caller_scope(state, &request);
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, state.max_body_bytes).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        )
        .into_response()
    })?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let request_hash = hasher.finalize().to_vec();
    let pool = state.store.pool();

    // Claim the key, or find what an earlier request did with it.
    let claimed = sqlx::query(
        "insert into idempotency_records (scope, key, request_hash, status, body)
         values ($1, $2, $3, 0, ''::bytea)
         on conflict (scope, key) do update
            set request_hash = excluded.request_hash, status = 0, body = ''::bytea, headers = '{}'::jsonb, created_at = now()
            where idempotency_records.created_at < now() - interval '24 hours'",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&request_hash)
    .execute(pool)
    .await
    .map_err(|e| ApiError::from(e).into_response())?
    .rows_affected()
        == 1;
    if !claimed {
        let stored: Option<(Vec<u8>, i16, serde_json::Value, Vec<u8>)> = sqlx::query_as(
            "select request_hash, status, headers, body from idempotency_records where scope = $1 and key = $2",
        )
        .bind(&scope)
        .bind(&key)
        .fetch_optional(pool)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
        return Err(match stored {
            Some((hash, _, _, _)) if hash != request_hash => ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
            )
            .into_response(),
            Some((_, 0, _, _)) | None => ApiError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .into_response(),
            Some((_, status, headers, body)) => replay(status, &headers, body),
        });
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        let _ = sqlx::query("delete from idempotency_records where scope = $1 and key = $2")
            .bind(&scope)
            .bind(&key)
            .execute(pool)
            .await;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, MAX_STORED_BODY)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let mut kept = serde_json::Map::new();
    for name in [header::CONTENT_TYPE.as_str(), POSITION_HEADER] {
        if let Some(value) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(
                name.to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
    }
    sqlx::query("update idempotency_records set status = $3, headers = $4, body = $5 where scope = $1 and key = $2")
        .bind(&scope)
        .bind(&key)
        .bind(status.as_u16() as i16)
        .bind(serde_json::Value::Object(kept))
        .bind(body.to_vec())
        .execute(pool)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn replay(status: i16, headers: &serde_json::Value, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    if let Some(map) = headers.as_object() {
        for (name, value) in map {
            if let (Ok(name), Some(Ok(value))) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Whose key this is: the user of a valid token, else the client's address.
fn caller_scope(state: &AppState, request: &Request) -> String {
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .and_then(|token| state.jwt.verify(token.trim()));
    match user {
        Some(claims) => format!("user:{}", claims.sub),
        None => {
            let ip = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
                .unwrap_or_default();
            format!("public:{ip}")
        }
    }
}
