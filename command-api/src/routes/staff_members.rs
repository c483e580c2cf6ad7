//! Staff members: invitation (a generated password, emailed only), permissions,
//! deactivation. The password is hashed for login and sealed for the notifier's invitation
//! email (see `service_runtime::secrets`); it never appears in a response, an event or a log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{post, put};
use axum::Router;
use domain::reservation::{self, ReservationAggregate, ReservationKey, Reserve};
use domain::user::{
    self, ChangePermissions, DeactivateUser, InviteStaff, User, UserAggregate, UserCommand,
};
use domain::values::{Email, Permission, Permissions, PersonName, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{password, Actor};
use crate::command::SideWrite;
use crate::execute;
use crate::http::{command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId};
use crate::routes::queries::scope;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", post(invite))
        .route(
            "/staff/{id}",
            axum::routing::get(get_staff).delete(deactivate),
        )
        .route("/staff/{id}/permissions", put(change_permissions))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub name: String,
    pub email: String,
    #[schema(value_type = Option<projections::query::staff::PermissionsView>)]
    pub permissions: Option<Permissions>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    #[schema(value_type = String, example = "staff")]
    pub role: Role,
    #[schema(value_type = projections::query::staff::PermissionsView)]
    pub permissions: Permissions,
    pub active: bool,
}

impl StaffView {
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
            permissions: user.effective_permissions(),
            active: user.active,
        }
    }

    /// From the staff read model, which keeps every user's effective permissions (an
    /// owner's are all of them) and null for erased names and emails.
    pub fn from_read_model(staff: &projections::query::staff::StaffView) -> ApiResult<Self> {
        let role = match staff.role.as_str() {
            "owner" => Role::Owner,
            "staff" => Role::Staff,
            other => {
                return Err(ApiError::internal(format!(
                    "read model holds role {other:?} for user {}",
                    staff.id
                )))
            }
        };
        let p = staff.permissions;
        let permissions = [
            (p.bookings, Permission::Bookings),
            (p.inbox, Permission::Inbox),
            (p.contacts, Permission::Contacts),
            (p.inventory, Permission::Inventory),
            (p.forms, Permission::Forms),
        ]
        .into_iter()
        .filter_map(|(granted, permission)| granted.then_some(permission))
        .collect();
        let erased = || "erased".to_string();
        Ok(Self {
            id: staff.id,
            name: staff.name.clone().unwrap_or_else(erased),
            email: staff.email.clone().unwrap_or_else(erased),
            role,
            permissions,
            active: staff.is_active,
        })
    }
}

/// `POST /staff` (owner): invites a staff member with a generated password, which only the
/// invitation email will show.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = Invitation,
    responses((status = 201, body = StaffView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<Invitation>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let name = PersonName::parse(&body.name)?;
    let email = Email::parse(&body.email)?;
    let permissions = body.permissions.unwrap_or_default();
    let user_id = Uuid::now_v7();
    let generated = password::generate();
    let sealed =
        service_runtime::secrets::seal_invitation_password(&state.secrets, user_id, &generated)
            .map_err(ApiError::internal)?;
    let password_hash = password::hash(generated).await?;

    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let key = ReservationKey::UserEmail(email.clone());
            if unit
                .load::<ReservationAggregate>(&key.stream_id())
                .await?
                .holder
                .is_some()
            {
                return Err(ApiError::conflict(
                    "email_taken",
                    "an account with this email already exists",
                ));
            }
            let events = user::decide(
                &None,
                &InviteStaff {
                    user_id,
                    workspace_id: actor.workspace_id,
                    name: name.clone(),
                    email: email.clone(),
                    permissions,
                }
                .into(),
            )?;
            let reserved = reservation::decide(
                &Default::default(),
                &Reserve {
                    key: key.clone(),
                    owner_id: user_id,
                }
                .into(),
            )?;
            let invited = events.iter().fold(None, user::evolve);
            unit.append(user::STREAM_TYPE, user::stream_id(user_id), &events);
            unit.append(reservation::STREAM_TYPE, key.stream_id(), &reserved);
            unit.side_write(SideWrite::Credentials {
                user_id,
                workspace_id: actor.workspace_id,
                email: email.as_str().to_string(),
                password_hash: password_hash.clone(),
                role: Role::Staff,
                permissions,
            });
            unit.side_write(SideWrite::InvitationPassword {
                workspace_id: actor.workspace_id,
                sealed: sealed.clone(),
            });
            invited
                .as_ref()
                .map(StaffView::of)
                .ok_or_else(|| ApiError::internal("staff missing after invitation"))
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// Applies a command to a staff member of the actor's workspace (404 for any other; the
/// owner's own account is not a staff member to change).
async fn change_staff(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    staff_id: Uuid,
    command: UserCommand,
    if_match: IfMatch,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(request_id),
        |unit| {
            let current = unit
                .load_owned::<UserAggregate, _>(
                    &user::stream_id(staff_id),
                    actor.workspace_id,
                    if_match,
                    "staff member",
                )
                .await?;
            let events = user::decide(&current, &command)?;
            let after = events.iter().fold(current, user::evolve);
            unit.append(user::STREAM_TYPE, user::stream_id(staff_id), &events);
            if !events.is_empty() {
                unit.side_write(match &command {
                    UserCommand::ChangePermissions(c) => SideWrite::Permissions {
                        user_id: staff_id,
                        permissions: c.permissions,
                    },
                    _ => SideWrite::DeactivateCredentials { user_id: staff_id },
                });
            }
            after
                .as_ref()
                .map(StaffView::of)
                .ok_or_else(|| ApiError::not_found("staff member"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `PUT /staff/{id}/permissions` (owner): takes effect on the staff member's next request.
#[utoipa::path(put, path = "/api/v1/staff/{id}/permissions", tag = "staff", request_body = projections::query::staff::PermissionsView,
    params(("id" = Uuid, Path, description = "staff member id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = StaffView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_permissions(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(staff_id): ApiPath<Uuid>,
    ApiJson(permissions): ApiJson<Permissions>,
) -> ApiResult<Response> {
    change_staff(
        &state,
        &actor,
        &request_id,
        staff_id,
        ChangePermissions { permissions }.into(),
        if_match,
    )
    .await
}

/// `DELETE /staff/{id}` (owner): deactivates; their sessions end; history stays.
#[utoipa::path(delete, path = "/api/v1/staff/{id}", tag = "staff",
    params(("id" = Uuid, Path, description = "staff member id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = StaffView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    change_staff(
        &state,
        &actor,
        &request_id,
        staff_id,
        DeactivateUser.into(),
        if_match,
    )
    .await
}

/// `GET /staff/{id}` from the staff read model (deactivated staff: to the owner only), with
/// its `ETag`: the user stream's version, which `If-Match` on the staff commands checks.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff",
    params(("id" = Uuid, Path, description = "staff member id")),
    responses((status = 200, body = StaffView, headers(("ETag" = String, description = "the staff member's version"))),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_staff(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let found = projections::query::staff::get(state.store.pool(), &scope(&actor), staff_id)
        .await?
        .filter(|s| s.is_active || actor.is_owner())
        .ok_or_else(|| ApiError::not_found("staff member"))?;
    Ok(crate::http::with_etag(
        &StaffView::from_read_model(&found)?,
        u64::try_from(found.version).unwrap_or(0),
    ))
}
