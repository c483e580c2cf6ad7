//! Services: what the business sells — duration, price, buffers, and the stock each use
//! consumes. Owners write; `DELETE` archives (history and past bookings keep them).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use domain::service::{
    self, ArchiveService, CreateService, ServiceAggregate, ServiceCommand, UpdateService,
};
use uuid::Uuid;

use crate::auth::Actor;
use crate::execute;
use crate::http::{command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId};
use crate::routes::onboarding::{
    check_inventory_items, load_workspace, service_definition, ServiceInput,
};
use crate::routes::queries::scope;
use crate::routes::views::ServiceView;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", post(create_service))
        .route(
            "/services/{id}",
            axum::routing::get(get_service)
                .put(update_service)
                .delete(archive_service),
        )
}

/// `POST /services` (owner).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceInput,
    responses((status = 201, body = ServiceView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_service(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<ServiceInput>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let service_id = Uuid::now_v7();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let ws = load_workspace(unit, actor.workspace_id).await?;
            let definition = service_definition(&body, ws.currency)?;
            check_inventory_items(unit, actor.workspace_id, &definition).await?;
            let command = CreateService {
                service_id,
                workspace_id: actor.workspace_id,
                workspace_currency: ws.currency,
                definition,
            };
            let events = service::decide(&None, &command.into())?;
            let created = events.iter().fold(None, service::evolve);
            unit.append(
                service::STREAM_TYPE,
                service::stream_id(service_id),
                &events,
            );
            created
                .as_ref()
                .map(ServiceView::of)
                .ok_or_else(|| ApiError::internal("service missing after creation"))
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// Applies a command to a service of the actor's workspace (404 for any other).
async fn change_service(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    service_id: Uuid,
    body: Option<&ServiceInput>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(request_id),
        |unit| {
            let current = unit
                .load_owned::<ServiceAggregate, _>(
                    &service::stream_id(service_id),
                    actor.workspace_id,
                    if_match,
                    "service",
                )
                .await?;
            let command: ServiceCommand = match body {
                Some(input) => {
                    let ws = load_workspace(unit, actor.workspace_id).await?;
                    let definition = service_definition(input, ws.currency)?;
                    check_inventory_items(unit, actor.workspace_id, &definition).await?;
                    UpdateService {
                        workspace_currency: ws.currency,
                        definition,
                    }
                    .into()
                }
                None => ArchiveService.into(),
            };
            let events = service::decide(&current, &command)?;
            let after = events.iter().fold(current, service::evolve);
            unit.append(
                service::STREAM_TYPE,
                service::stream_id(service_id),
                &events,
            );
            after
                .as_ref()
                .map(ServiceView::of)
                .ok_or_else(|| ApiError::not_found("service"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `PUT /services/{id}` (owner): replaces the definition.
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "services", request_body = ServiceInput,
    params(("id" = Uuid, Path, description = "service id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = ServiceView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_service(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(service_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ServiceInput>,
) -> ApiResult<Response> {
    change_service(
        &state,
        &actor,
        &request_id,
        service_id,
        Some(&body),
        if_match,
    )
    .await
}

/// `DELETE /services/{id}` (owner): archives the service.
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "services",
    params(("id" = Uuid, Path, description = "service id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = ServiceView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn archive_service(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(service_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    change_service(&state, &actor, &request_id, service_id, None, if_match).await
}

/// `GET /services/{id}` from the services catalogue (archived ones too: bookings name them),
/// with its `ETag`: the service stream's version, which `If-Match` on `PUT` and `DELETE` checks.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "services",
    params(("id" = Uuid, Path, description = "service id")),
    responses((status = 200, body = ServiceView, headers(("ETag" = String, description = "the service's version"))),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_service(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(service_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let found = projections::query::services::get(state.store.pool(), &scope(&actor), service_id)
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    Ok(crate::http::with_etag(
        &ServiceView::from_read_model(&found)?,
        u64::try_from(found.version).unwrap_or(0),
    ))
}
