//! `/onboarding/*`: a new business sets up its workspace, stock and services, then opens
//! its booking page (seed: api/onboarding.py).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use domain::reservation::{self, ReservationAggregate, ReservationKey, Reserve};
use domain::schedule::ScheduleAggregate;
use domain::service::{CreateService, ItemQuantity, ServiceAggregate, ServiceDefinition};
use domain::user::{self, RegisterOwner, UserAggregate};
use domain::values::{
    Currency, Email, Minutes, Money, Name, Permissions, PersonName, Role, Slug, TimeZone,
};
use domain::workspace::{self, ActivateWorkspace, CreateWorkspace, WorkspaceAggregate};
use domain::{inventory, service};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{password, Actor};
use crate::command::{SideWrite, Unit};
use crate::execute;
use crate::http::{command_response, no_store, ApiError, ApiJson, ApiResult, RequestId};
use crate::routes::auth::issue_tokens;
use crate::routes::views::{InventoryItemView, ServiceView, WorkspaceView};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/onboarding/workspaces", post(create_workspace))
        .route("/onboarding/inventory", post(create_inventory))
        .route("/onboarding/services", post(create_services))
        .route("/onboarding/activate", post(activate))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub name: String,
    pub slug: Option<String>,
    pub timezone: String,
    pub currency: Option<String>,
    pub owner: NewOwner,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkspaceCreated {
    pub workspace: WorkspaceView,
    pub access_token: String,
    pub refresh_token: String,
}

/// How many numbered variants of a name-derived slug are tried before giving up.
const SLUG_CANDIDATES: u32 = 50;

/// `POST /onboarding/workspaces` (public): the workspace and its owner.
#[utoipa::path(post, path = "/api/v1/onboarding/workspaces", tag = "onboarding", request_body = NewWorkspace,
    responses((status = 201, body = WorkspaceCreated), (status = 400, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_workspace(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewWorkspace>,
) -> ApiResult<Response> {
    let name = Name::parse(&body.name)?;
    let timezone = TimeZone::parse(&body.timezone)?;
    let currency = Currency::parse(body.currency.as_deref().unwrap_or("USD"))?;
    let owner_name = PersonName::parse(&body.owner.name)?;
    let owner_email = Email::parse(&body.owner.email)?;
    password::check_strength(&body.owner.password)?;
    let requested_slug = match &body.slug {
        Some(slug) => Some(Slug::parse(slug)?),
        None => None,
    };
    let base_slug = match &requested_slug {
        Some(slug) => slug.clone(),
        None => Slug::from_name(name.as_str()).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_value",
                "name: choose a slug; none can be made from this name",
            )
        })?,
    };
    let password_hash = password::hash(body.owner.password).await?;

    let workspace_id = Uuid::now_v7();
    let owner_id = Uuid::now_v7();
    // The new owner issues the command that creates them (there is no token yet).
    let metadata = crate::http::request_id::command_metadata(&request_id, Some(owner_id), "owner");
    let (workspace, outcome) = execute!(state.store, workspace_id, &metadata, |unit| {
        let email_key = ReservationKey::UserEmail(owner_email.clone());
        let email_holder = unit
            .load::<ReservationAggregate>(&email_key.stream_id())
            .await?;
        if email_holder.holder.is_some() {
            return Err(ApiError::conflict(
                "email_taken",
                "an account with this email already exists",
            ));
        }
        let slug = free_slug(unit, &base_slug, requested_slug.is_some()).await?;
        let slug_key = ReservationKey::Slug(slug.clone());

        let created = workspace::decide(
            &None,
            &CreateWorkspace {
                workspace_id,
                name: name.clone(),
                slug: slug.clone(),
                timezone,
                currency,
                owner_id,
            }
            .into(),
        )?;
        let registered = user::decide(
            &None,
            &RegisterOwner {
                user_id: owner_id,
                workspace_id,
                name: owner_name.clone(),
                email: owner_email.clone(),
            }
            .into(),
        )?;
        for key in [slug_key, email_key] {
            let reserved = reservation::decide(
                &Default::default(),
                &Reserve {
                    key: key.clone(),
                    owner_id: if matches!(key, ReservationKey::Slug(_)) {
                        workspace_id
                    } else {
                        owner_id
                    },
                }
                .into(),
            )?;
            unit.append(reservation::STREAM_TYPE, key.stream_id(), &reserved);
        }
        let state_after = created.iter().fold(None, workspace::evolve);
        unit.append(
            workspace::STREAM_TYPE,
            workspace::stream_id(workspace_id),
            &created,
        );
        unit.append(user::STREAM_TYPE, user::stream_id(owner_id), &registered);
        unit.side_write(SideWrite::Credentials {
            user_id: owner_id,
            workspace_id,
            email: owner_email.as_str().to_string(),
            password_hash: password_hash.clone(),
            role: Role::Owner,
            permissions: Permissions::all(),
        });
        state_after.ok_or_else(|| ApiError::internal("workspace state missing after creation"))
    });

    let owner = crate::routes::auth::load_user(&state, owner_id)
        .await?
        .ok_or_else(|| ApiError::internal("owner missing after onboarding"))?;
    let tokens = issue_tokens(&state, &owner).await?;
    let body = WorkspaceCreated {
        workspace: WorkspaceView::of(&workspace),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
    };
    Ok(no_store(command_response(
        StatusCode::CREATED,
        &body,
        outcome.as_ref(),
    )))
}

/// The requested slug when free (409 otherwise), or the first free numbered variant of a
/// slug made from the name.
pub async fn free_slug(unit: &mut Unit, base: &Slug, requested: bool) -> ApiResult<Slug> {
    if requested {
        if base.is_reserved() {
            return Err(ApiError::conflict(
                "slug_taken",
                format!("the address {base} is reserved"),
            ));
        }
        let key = ReservationKey::Slug(base.clone());
        if unit
            .load::<ReservationAggregate>(&key.stream_id())
            .await?
            .holder
            .is_some()
        {
            return Err(ApiError::conflict(
                "slug_taken",
                format!("the address {base} is taken"),
            ));
        }
        return Ok(base.clone());
    }
    let candidates: Vec<Slug> = std::iter::once(base.clone())
        .chain((2..=SLUG_CANDIDATES).map(|n| base.with_suffix(n)))
        .collect();
    let ids: Vec<String> = candidates
        .iter()
        .map(|s| ReservationKey::Slug(s.clone()).stream_id())
        .collect();
    let holders = unit.load_many::<ReservationAggregate>(&ids).await?;
    candidates
        .into_iter()
        .zip(holders)
        .find(|(slug, r)| r.holder.is_none() && !slug.is_reserved())
        .map(|(slug, _)| slug)
        .ok_or_else(|| {
            ApiError::conflict(
                "slug_taken",
                "choose a slug; this name's addresses are taken",
            )
        })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInventoryItem {
    pub name: String,
    pub unit: Option<String>,
    pub quantity: i64,
    pub threshold: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInventory {
    pub items: Vec<NewInventoryItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InventoryCreated {
    pub items: Vec<InventoryItemView>,
}

/// Parses one new inventory item into its create command.
pub fn inventory_command(
    workspace_id: Uuid,
    item: &NewInventoryItem,
) -> ApiResult<inventory::CreateItem> {
    let count = |field: &str, value: i64| -> ApiResult<u32> {
        u32::try_from(value)
            .ok()
            .filter(|v| *v <= 1_000_000)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_value",
                    format!("{field}: a whole number from 0 to 1,000,000"),
                )
            })
    };
    Ok(inventory::CreateItem {
        item_id: Uuid::now_v7(),
        workspace_id,
        name: Name::parse(&item.name)?,
        unit: Name::parse_field("unit", item.unit.as_deref().unwrap_or("unit"))?,
        quantity: count("quantity", item.quantity)?,
        threshold: count("threshold", item.threshold)?,
    })
}

/// `POST /onboarding/inventory` (owner): several items, all or nothing.
#[utoipa::path(post, path = "/api/v1/onboarding/inventory", tag = "onboarding", request_body = NewInventory,
    responses((status = 201, body = InventoryCreated), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_inventory(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewInventory>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    if body.items.is_empty() || body.items.len() > 200 {
        return Err(ApiError::unprocessable(
            "invalid_value",
            "items: 1 to 200 items",
        ));
    }
    let commands = body
        .items
        .iter()
        .map(|item| inventory_command(actor.workspace_id, item))
        .collect::<ApiResult<Vec<_>>>()?;
    let (items, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let mut views = Vec::new();
            for command in &commands {
                let events = inventory::decide(&None, &command.clone().into())?;
                let item = events.iter().fold(None, inventory::evolve);
                unit.append(
                    inventory::STREAM_TYPE,
                    inventory::stream_id(command.item_id),
                    &events,
                );
                views.extend(item.as_ref().map(InventoryItemView::of));
            }
            Ok(views)
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &InventoryCreated { items },
        outcome.as_ref(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInventoryNeed {
    pub item_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub name: String,
    pub duration_minutes: i64,
    pub price_cents: i64,
    pub currency: Option<String>,
    pub buffer_before_minutes: Option<i64>,
    pub buffer_after_minutes: Option<i64>,
    #[serde(default)]
    pub inventory: Vec<ServiceInventoryNeed>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServices {
    pub services: Vec<ServiceInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServicesCreated {
    pub services: Vec<ServiceView>,
}

/// Parses a service body into its definition (the workspace's currency when none is given).
pub fn service_definition(
    input: &ServiceInput,
    workspace_currency: Currency,
) -> ApiResult<ServiceDefinition> {
    let currency = match &input.currency {
        Some(code) => Currency::parse(code)?,
        None => workspace_currency,
    };
    let definition = ServiceDefinition {
        name: Name::parse(&input.name)?,
        duration_minutes: Minutes::bounded("duration_minutes", input.duration_minutes, 5, 720)?,
        price: Money::new(input.price_cents, currency)?,
        buffer_before_minutes: Minutes::bounded(
            "buffer_before_minutes",
            input.buffer_before_minutes.unwrap_or(0),
            0,
            240,
        )?,
        buffer_after_minutes: Minutes::bounded(
            "buffer_after_minutes",
            input.buffer_after_minutes.unwrap_or(0),
            0,
            240,
        )?,
        inventory: input
            .inventory
            .iter()
            .map(|need| {
                Ok(ItemQuantity {
                    item_id: need.item_id,
                    quantity: u32::try_from(need.quantity)
                        .ok()
                        .filter(|q| (1..=10_000).contains(q))
                        .ok_or_else(|| {
                            ApiError::unprocessable(
                                "invalid_value",
                                "inventory: quantities from 1 to 10,000",
                            )
                        })?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
    };
    definition.validate()?;
    Ok(definition)
}

/// Loads the workspace of the actor (it always exists for a valid token).
pub async fn load_workspace(
    unit: &mut Unit,
    workspace_id: Uuid,
) -> ApiResult<workspace::Workspace> {
    unit.load::<WorkspaceAggregate>(&workspace::stream_id(workspace_id))
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))
}

/// Every inventory item a service uses must exist in the workspace (checked against the
/// item streams, which the append then guards).
pub async fn check_inventory_items(
    unit: &mut Unit,
    workspace_id: Uuid,
    definition: &ServiceDefinition,
) -> ApiResult<()> {
    let ids: Vec<String> = definition
        .inventory
        .iter()
        .map(|n| inventory::stream_id(n.item_id))
        .collect();
    let items = unit
        .load_many::<inventory::InventoryAggregate>(&ids)
        .await?;
    for (need, item) in definition.inventory.iter().zip(items) {
        if item.is_none_or(|i| i.workspace_id != workspace_id) {
            return Err(ApiError::unprocessable(
                "unknown_inventory_item",
                format!("inventory item {} does not exist", need.item_id),
            ));
        }
    }
    Ok(())
}

/// `POST /onboarding/services` (owner): several services, all or nothing.
#[utoipa::path(post, path = "/api/v1/onboarding/services", tag = "onboarding", request_body = NewServices,
    responses((status = 201, body = ServicesCreated), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_services(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewServices>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    if body.services.is_empty() || body.services.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_value",
            "services: 1 to 100 services",
        ));
    }
    let ids: Vec<Uuid> = body.services.iter().map(|_| Uuid::now_v7()).collect();
    let (services, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let ws = load_workspace(unit, actor.workspace_id).await?;
            let mut views = Vec::new();
            for (input, service_id) in body.services.iter().zip(&ids) {
                let definition = service_definition(input, ws.currency)?;
                check_inventory_items(unit, actor.workspace_id, &definition).await?;
                let events = service::decide(
                    &None,
                    &CreateService {
                        service_id: *service_id,
                        workspace_id: actor.workspace_id,
                        workspace_currency: ws.currency,
                        definition,
                    }
                    .into(),
                )?;
                let created = events.iter().fold(None, service::evolve);
                unit.append(
                    service::STREAM_TYPE,
                    service::stream_id(*service_id),
                    &events,
                );
                views.extend(created.as_ref().map(ServiceView::of));
            }
            Ok(views)
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &ServicesCreated { services },
        outcome.as_ref(),
    ))
}

/// `POST /onboarding/activate` (owner): opens the booking page once there is a service and a
/// staff member (the owner counts) with availability; 422 lists what is missing.
#[utoipa::path(post, path = "/api/v1/onboarding/activate", tag = "onboarding",
    responses((status = 200, body = WorkspaceView), (status = 403, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn activate(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let ws_state = unit
                .load::<WorkspaceAggregate>(&workspace::stream_id(actor.workspace_id))
                .await?;
            let service_ids = unit
                .store()
                .stream_ids(actor.workspace_id, service::STREAM_TYPE)
                .await?;
            let services = unit.load_many::<ServiceAggregate>(&service_ids).await?;
            let has_active_service = services.iter().flatten().any(|s| !s.archived);
            let user_ids = unit
                .store()
                .stream_ids(actor.workspace_id, user::STREAM_TYPE)
                .await?;
            let users = unit.load_many::<UserAggregate>(&user_ids).await?;
            let schedule_ids: Vec<String> = users
                .iter()
                .flatten()
                .filter(|u| u.active)
                .map(|u| domain::schedule::stream_id(u.id))
                .collect();
            let schedules = unit.load_many::<ScheduleAggregate>(&schedule_ids).await?;
            let has_staff_with_availability = schedules.iter().any(|s| s.has_weekly_availability());
            let events = workspace::decide(
                &ws_state,
                &ActivateWorkspace {
                    has_active_service,
                    has_staff_with_availability,
                }
                .into(),
            )?;
            let after = events.iter().fold(ws_state, workspace::evolve);
            unit.append(
                workspace::STREAM_TYPE,
                workspace::stream_id(actor.workspace_id),
                &events,
            );
            after
                .as_ref()
                .map(WorkspaceView::of)
                .ok_or_else(|| ApiError::not_found("workspace"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}
