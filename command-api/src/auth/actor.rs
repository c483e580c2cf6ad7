//! The authenticated caller of a request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::values::{Permission, Permissions, Role};
use uuid::Uuid;

use crate::http::ApiError;
use crate::startup::AppState;

/// Who is calling: a verified access token whose login is still valid.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub role: Role,
    pub permissions: Permissions,
    pub session_id: Uuid,
}

impl Actor {
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    /// Owners only.
    pub fn require_owner(&self) -> Result<(), ApiError> {
        if self.is_owner() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only the workspace owner may do this"))
        }
    }

    /// Owners, or staff granted `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.is_owner() || self.permissions.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the `{}` permission",
                permission.as_str()
            )))
        }
    }

    /// Event metadata naming this actor as the issuer of the request's command.
    pub fn metadata(&self, request_id: &str) -> event_store::Metadata {
        let role = match self.role {
            Role::Owner => "owner",
            Role::Staff => "staff",
        };
        crate::http::request_id::command_metadata(request_id, Some(self.user_id), role)
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let claims = state
            .jwt
            .verify(token.trim())
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        // A deactivated user or a revoked login loses access at once, and changed
        // permissions apply at once: the token names the user, the table says what they may do.
        let current: Option<(bool, sqlx::types::Json<Permissions>)> = sqlx::query_as(
            "select c.active and not exists (
                 select 1 from refresh_tokens r where r.family_id = $2 and r.revoked_at is not null),
                 c.permissions
             from credentials c where c.user_id = $1 and c.workspace_id = $3",
        )
        .bind(claims.sub)
        .bind(claims.sid)
        .bind(claims.workspace_id)
        .fetch_optional(state.store.pool())
        .await?;
        let Some((true, permissions)) = current else {
            return Err(ApiError::unauthorized(
                "this session has ended; log in again",
            ));
        };
        Ok(Actor {
            user_id: claims.sub,
            workspace_id: claims.workspace_id,
            role: claims.role,
            permissions: permissions.0,
            session_id: claims.sid,
        })
    }
}
