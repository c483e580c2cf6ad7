//! `/auth/*`: login, refresh (rotating), logout, me, password change.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::user::{self, User, UserAggregate};
use domain::values::{Permissions, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sessions::{self, RefreshRefused};
use crate::auth::{password, Actor};
use crate::http::{no_store, ApiError, ApiJson, ApiResult, ClientIp};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/password", post(change_password))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The `user` object of the contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    #[schema(value_type = String, example = "owner")]
    pub role: Role,
    pub workspace_id: Uuid,
    #[schema(value_type = projections::query::staff::PermissionsView)]
    pub permissions: Permissions,
}

impl UserView {
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id,
            name: user
                .name
                .known()
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|| "erased".into()),
            email: user
                .email
                .known()
                .map(|e| e.as_str().to_string())
                .unwrap_or_else(|| "erased".into()),
            role: user.role,
            workspace_id: user.workspace_id,
            permissions: user.effective_permissions(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: UserView,
}

/// Loads a user's current state from its stream.
pub async fn load_user(state: &AppState, user_id: Uuid) -> ApiResult<Option<User>> {
    let events = state
        .store
        .read_stream(&user::stream_id(user_id), 0)
        .await?;
    crate::command::fold::<UserAggregate>(events)
}

/// Issues an access token and a new login's refresh token for `user`.
pub async fn issue_tokens(state: &AppState, user: &User) -> ApiResult<TokenPair> {
    let mut conn = state.store.pool().acquire().await?;
    let refresh = sessions::start(&mut conn, user.id).await?;
    access_pair(state, user, refresh)
}

fn access_pair(
    state: &AppState,
    user: &User,
    refresh: sessions::IssuedRefresh,
) -> ApiResult<TokenPair> {
    let (access_token, expires_in) = state
        .jwt
        .issue(
            user.id,
            user.workspace_id,
            user.role,
            user.effective_permissions(),
            refresh.family_id,
        )
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token,
        refresh_token: refresh.token,
        token_type: "bearer",
        expires_in,
        user: UserView::of(user),
    })
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong email or password",
    )
}

/// `POST /auth/login`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let email = body.email.trim().to_lowercase();
    state.limits.login_by_ip.check(&client)?;
    state.limits.login_by_email.check(&email)?;
    let row: Option<(Uuid, String, bool)> =
        sqlx::query_as("select user_id, password_hash, active from credentials where email = $1")
            .bind(&email)
            .fetch_optional(state.store.pool())
            .await?;
    let Some((user_id, stored_hash, active)) = row else {
        password::verify_dummy(body.password).await?;
        return Err(wrong_credentials());
    };
    if !password::verify(body.password, stored_hash).await? || !active {
        return Err(wrong_credentials());
    }
    let user = load_user(&state, user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(wrong_credentials)?;
    Ok(no_store(
        Json(issue_tokens(&state, &user).await?).into_response(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /auth/refresh`: spends the refresh token and returns a new pair.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Response> {
    let (user_id, issued) =
        match sessions::rotate(state.store.pool(), body.refresh_token.trim()).await? {
            Ok(rotated) => rotated,
            Err(RefreshRefused::Reused) => {
                tracing::warn!("a spent refresh token was presented; its login is revoked");
                return Err(ApiError::unauthorized(
                    "this refresh token was already used; the login is revoked",
                ));
            }
            Err(_) => return Err(ApiError::unauthorized("invalid or expired refresh token")),
        };
    let user = load_user(&state, user_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unauthorized("invalid or expired refresh token"))?;
    Ok(no_store(
        Json(access_pair(&state, &user, issued)?).into_response(),
    ))
}

/// `POST /auth/logout`: ends the login of the refresh token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    sessions::logout(state.store.pool(), actor.user_id, body.refresh_token.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /auth/me`.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> ApiResult<Json<UserView>> {
    let user = load_user(&state, actor.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown user"))?;
    Ok(Json(UserView::of(&user)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /auth/password`: changes the password and ends every other login.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<Response> {
    password::check_strength(&body.new_password)?;
    let stored: String =
        sqlx::query_scalar("select password_hash from credentials where user_id = $1")
            .bind(actor.user_id)
            .fetch_one(state.store.pool())
            .await?;
    if !password::verify(body.current_password, stored).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the current password is wrong",
        ));
    }
    let new_hash = password::hash(body.new_password).await?;
    let mut tx = state.store.pool().begin().await?;
    sqlx::query("update credentials set password_hash = $2, updated_at = now() where user_id = $1")
        .bind(actor.user_id)
        .bind(new_hash)
        .execute(&mut *tx)
        .await?;
    sessions::revoke_user(&mut tx, actor.user_id, Some(actor.session_id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
