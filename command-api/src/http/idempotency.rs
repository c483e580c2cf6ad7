//! `Idempotency-Key` on POST: the first response to a key is stored (status, body and the
//! position header) and replayed for a retry with the same body, without doing the work
//! again; the same key with another body is a 422. Keys are scoped to the caller (the user
//! of a valid token, or the client address for public endpoints) and kept for 24 hours.
//!
//! A retry that arrives while the first request is still running gets 409
//! `idempotency_in_progress` rather than running twice. A first attempt that failed with a
//! 5xx is not kept, so a retry runs again. A first attempt that never finished (the process
//! died mid-request) leaves its claim behind: after [`IN_PROGRESS_TIMEOUT`], far longer
//! than a request runs, the same request may claim the key again. That retry runs the
//! command a second time, which is what a client without the key would have done anyway;
//! the alternative is refusing the key for a day.
//!
//! What is stored must not become a second, weaker copy of a secret:
//!
//! - Responses that hand out credentials (access and refresh tokens from login, refresh and
//!   onboarding; a public booking's manage token) are marked `Cache-Control: no-store` by
//!   their handlers, as RFC 6749 asks of token responses. Their bodies are stored sealed
//!   (AES-256-GCM under `CAREOPS_SECRET_KEY`, bound to the record's scope and key), so the
//!   table alone reveals no token, and a retry still gets its tokens back: without that a
//!   retried refresh would present a spent token and revoke the whole login. Other bodies
//!   stay in clear, which lets a contact's erasure find and drop the responses showing it.
//! - The fingerprint of the request is a keyed digest (HMAC-SHA256 under the same key),
//!   not a plain hash: a login body holds a password.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::{ApiError, ClientIp, POSITION_HEADER};
use crate::startup::AppState;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Responses of this size or less are kept for replay (command responses are small).
const MAX_STORED_BODY: usize = 1024 * 1024;

/// How long a claimed key whose request never finished blocks retries. Requests finish in
/// well under a second; the graceful shutdown gives in-flight ones 30 s.
pub const IN_PROGRESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The response headers a replay repeats.
const KEPT_HEADERS: [&str; 3] = ["content-type", POSITION_HEADER, "cache-control"];

/// Domain separation of the request fingerprint and the sealed bodies.
const REQUEST_DIGEST: &[u8] = b"careops idempotency request";
const SEALED_BODY: &[u8] = b"careops idempotency body";

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

/// A stored record, as found by a request that could not claim its key.
#[derive(sqlx::FromRow)]
struct Stored {
    request_hash: Vec<u8>,
    status: i16,
    headers: serde_json::Value,
    body: Vec<u8>,
    body_nonce: Option<Vec<u8>>,
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
    let request_hash = state
        .secrets
        .digest(
            REQUEST_DIGEST,
            &[
                parts.method.as_str().as_bytes(),
                b" ",
                parts.uri.path().as_bytes(),
                b"\n",
                &bytes,
            ],
        )
        .to_vec();
    let pool = state.store.pool();
    let claim = Uuid::now_v7();

    // Claim the key: new, expired, or left in progress by a request that never finished
    // (the same request only: another body with this key stays a 422).
    let claimed = sqlx::query(
        "insert into idempotency_records (scope, key, request_hash, status, body, claim_id)
         values ($1, $2, $3, 0, ''::bytea, $4)
         on conflict (scope, key) do update
            set request_hash = excluded.request_hash, status = 0, body = ''::bytea,
                body_nonce = null, headers = '{}'::jsonb, created_at = now(),
                claim_id = excluded.claim_id
            where idempotency_records.created_at < now() - interval '24 hours'
               or (idempotency_records.status = 0
                   and idempotency_records.request_hash = excluded.request_hash
                   and idempotency_records.created_at < now() - make_interval(secs => $5))",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&request_hash)
    .bind(claim)
    .bind(IN_PROGRESS_TIMEOUT.as_secs_f64())
    .execute(pool)
    .await
    .map_err(|e| ApiError::from(e).into_response())?
    .rows_affected()
        == 1;
    if !claimed {
        let stored: Option<Stored> = sqlx::query_as(
            "select request_hash, status, headers, body, body_nonce
             from idempotency_records where scope = $1 and key = $2",
        )
        .bind(&scope)
        .bind(&key)
        .fetch_optional(pool)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
        return Err(match stored {
            Some(stored) if stored.request_hash != request_hash => ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
            )
            .into_response(),
            Some(Stored { status: 0, .. }) | None => ApiError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .into_response(),
            Some(stored) => replay(state, &scope, &key, stored),
        });
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if status.is_server_error() {
        let _ = sqlx::query(
            "delete from idempotency_records where scope = $1 and key = $2 and claim_id = $3",
        )
        .bind(&scope)
        .bind(&key)
        .bind(claim)
        .execute(pool)
        .await;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, MAX_STORED_BODY)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let mut kept = serde_json::Map::new();
    for name in KEPT_HEADERS {
        if let Some(value) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(
                name.to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
    }
    let (stored_body, nonce) = if must_seal(&parts.headers) {
        let (nonce, sealed) = state
            .secrets
            .seal(&seal_context(&scope, &key), &body)
            .map_err(|e| ApiError::internal(e).into_response())?;
        (sealed, Some(nonce))
    } else {
        (body.to_vec(), None)
    };
    // Only while the claim is still ours: had this request outlived the in-progress timeout
    // and a retry taken the key over, the retry's record stands.
    sqlx::query(
        "update idempotency_records set status = $4, headers = $5, body = $6, body_nonce = $7
         where scope = $1 and key = $2 and claim_id = $3",
    )
    .bind(&scope)
    .bind(&key)
    .bind(claim)
    .bind(status.as_u16() as i16)
    .bind(serde_json::Value::Object(kept))
    .bind(stored_body)
    .bind(nonce)
    .execute(pool)
    .await
    .map_err(|e| ApiError::from(e).into_response())?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// A response marked `Cache-Control: no-store` carries credentials: stored sealed.
fn must_seal(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"))
}

/// What a sealed body is bound to: it opens only as the body of this record.
fn seal_context(scope: &str, key: &str) -> Vec<u8> {
    [SEALED_BODY, b"\n", scope.as_bytes(), b"\n", key.as_bytes()].concat()
}

fn replay(state: &AppState, scope: &str, key: &str, stored: Stored) -> Response {
    let body = match &stored.body_nonce {
        None => stored.body,
        Some(nonce) => match state
            .secrets
            .open(&seal_context(scope, key), nonce, &stored.body)
        {
            Ok(body) => body,
            // Sealed under another CAREOPS_SECRET_KEY (rotated within the day).
            Err(error) => return ApiError::internal(error).into_response(),
        },
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(stored.status as u16).unwrap_or(StatusCode::OK);
    if let Some(map) = stored.headers.as_object() {
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
            let ClientIp(ip) = ClientIp::of(state, request.headers(), request.extensions());
            format!("public:{ip}")
        }
    }
}
