//! Inventory: items, receiving stock, adjustments (owner, or staff with `inventory`).
//! Stock never goes below zero; the domain decides, including low-stock crossings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{post, put};
use axum::Router;
use domain::inventory::{
    self, AdjustStock, InventoryAggregate, InventoryCommand, ReceiveStock, UpdateItem,
};
use domain::values::{Name, Permission, Reason};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::execute;
use crate::http::{command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId};
use crate::routes::onboarding::{inventory_command, NewInventoryItem};
use crate::routes::queries::scope;
use crate::routes::views::InventoryItemView;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory", post(create_item))
        .route("/inventory/{id}", put(update_item).get(get_item))
        .route("/inventory/{id}/receive", post(receive))
        .route("/inventory/{id}/adjust", post(adjust))
}

/// `POST /inventory`.
#[utoipa::path(post, path = "/api/v1/inventory", tag = "inventory", request_body = NewInventoryItem,
    responses((status = 201, body = InventoryItemView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_item(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewInventoryItem>,
) -> ApiResult<Response> {
    actor.require(Permission::Inventory)?;
    let command = inventory_command(actor.workspace_id, &body)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let events = inventory::decide(&None, &command.clone().into())?;
            let item = events.iter().fold(None, inventory::evolve);
            unit.append(
                inventory::STREAM_TYPE,
                inventory::stream_id(command.item_id),
                &events,
            );
            item.as_ref()
                .map(InventoryItemView::of)
                .ok_or_else(|| ApiError::internal("item missing after creation"))
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// Applies one command to an item of the actor's workspace (404 for any other).
async fn change_item(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    item_id: Uuid,
    command: InventoryCommand,
    if_match: IfMatch,
) -> ApiResult<Response> {
    actor.require(Permission::Inventory)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(request_id),
        |unit| {
            let current = unit
                .load_owned::<InventoryAggregate, _>(
                    &inventory::stream_id(item_id),
                    actor.workspace_id,
                    if_match,
                    "inventory item",
                )
                .await?;
            let events = inventory::decide(&current, &command)?;
            let after = events.iter().fold(current, inventory::evolve);
            unit.append(
                inventory::STREAM_TYPE,
                inventory::stream_id(item_id),
                &events,
            );
            after
                .as_ref()
                .map(InventoryItemView::of)
                .ok_or_else(|| ApiError::not_found("inventory item"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    pub name: String,
    pub unit: Option<String>,
    pub threshold: i64,
}

/// `PUT /inventory/{id}`: name, unit and threshold (quantities change by receive/adjust).
#[utoipa::path(put, path = "/api/v1/inventory/{id}", tag = "inventory", request_body = ItemUpdate,
    params(("id" = Uuid, Path, description = "inventory item id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = InventoryItemView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_item(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(item_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ItemUpdate>,
) -> ApiResult<Response> {
    let command = UpdateItem {
        name: Name::parse(&body.name)?,
        unit: Name::parse_field("unit", body.unit.as_deref().unwrap_or("unit"))?,
        threshold: u32::try_from(body.threshold)
            .ok()
            .filter(|t| *t <= 1_000_000)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_value",
                    "threshold: a whole number from 0 to 1,000,000",
                )
            })?,
    };
    change_item(
        &state,
        &actor,
        &request_id,
        item_id,
        command.into(),
        if_match,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub quantity: i64,
}

/// `POST /inventory/{id}/receive`: stock delivered.
#[utoipa::path(post, path = "/api/v1/inventory/{id}/receive", tag = "inventory", request_body = Receipt,
    params(("id" = Uuid, Path, description = "inventory item id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = InventoryItemView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn receive(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(item_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Receipt>,
) -> ApiResult<Response> {
    let quantity = u32::try_from(body.quantity)
        .ok()
        .filter(|q| (1..=1_000_000).contains(q))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_value",
                "quantity: a whole number from 1 to 1,000,000",
            )
        })?;
    change_item(
        &state,
        &actor,
        &request_id,
        item_id,
        ReceiveStock { quantity }.into(),
        if_match,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    pub delta: i64,
    pub reason: String,
}

/// `POST /inventory/{id}/adjust`: a counted correction; a result below zero is a 409.
#[utoipa::path(post, path = "/api/v1/inventory/{id}/adjust", tag = "inventory", request_body = Adjustment,
    params(("id" = Uuid, Path, description = "inventory item id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = InventoryItemView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn adjust(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(item_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Adjustment>,
) -> ApiResult<Response> {
    if body.delta == 0 || body.delta.abs() > 1_000_000 {
        return Err(ApiError::unprocessable(
            "invalid_value",
            "delta: a non-zero whole number up to 1,000,000 either way",
        ));
    }
    let command = AdjustStock {
        delta: body.delta,
        reason: Reason::parse(&body.reason)?,
    };
    change_item(
        &state,
        &actor,
        &request_id,
        item_id,
        command.into(),
        if_match,
    )
    .await
}

/// `GET /inventory/{id}` from the inventory read model, with its `ETag`: the item stream's
/// version, which `If-Match` on the item's commands checks.
#[utoipa::path(get, path = "/api/v1/inventory/{id}", tag = "inventory",
    params(("id" = Uuid, Path, description = "inventory item id")),
    responses((status = 200, body = InventoryItemView, headers(("ETag" = String, description = "the item's version"))),
              (status = 404, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_item(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(item_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Inventory)?;
    let item = projections::query::inventory::get(state.store.pool(), &scope(&actor), item_id)
        .await?
        .ok_or_else(|| ApiError::not_found("inventory item"))?;
    Ok(crate::http::with_etag(
        &InventoryItemView::from_read_model(&item)?,
        u64::try_from(item.version).unwrap_or(0),
    ))
}
