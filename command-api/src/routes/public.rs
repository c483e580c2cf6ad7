//! The public booking page's API (seed: "/book/urbanglow"): no login, rate limited, and
//! only for active workspaces (an inactive or unknown slug answers 404).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::booking::{self, BookingAggregate, BookingSource};
use domain::booking_flow::{self, CancelRequest};
use domain::calendar::{CalendarAggregate, CalendarKey};
use domain::reservation::{ReservationAggregate, ReservationKey};
use domain::slots::{free_slots, SlotRequest};
use domain::values::{Notes, Slug};
use domain::workspace::{self, Workspace, WorkspaceAggregate, WorkspaceStatus};
use projections::query;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sessions::{new_token, token_hash};
use crate::command::{fold, SideWrite, Unit};
use crate::execute;
use crate::http::{command_response, no_store, ApiError, ApiJson, ApiPath, ApiResult, ClientIp};
use crate::routes::bookings::{place, ContactInput, CustomerInput, Placement};
use crate::routes::views::unsigned;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/{slug}", get(page))
        .route("/public/{slug}/availability", get(availability))
        .route("/public/{slug}/bookings", post(book))
        .route("/public/bookings/{id}/cancel", post(cancel))
}

/// The active workspace behind a public slug.
pub(crate) async fn active_workspace(unit: &mut Unit, slug: &str) -> ApiResult<Workspace> {
    let not_found = || ApiError::not_found("booking page");
    let slug = Slug::parse(slug).map_err(|_| not_found())?;
    let holder = unit
        .load::<ReservationAggregate>(&ReservationKey::Slug(slug).stream_id())
        .await?
        .holder
        .ok_or_else(not_found)?;
    unit.load::<WorkspaceAggregate>(&workspace::stream_id(holder))
        .await?
        .filter(|ws| ws.status == WorkspaceStatus::Active)
        .ok_or_else(not_found)
}

/// Event metadata of a request by the public (no actor).
pub(crate) fn metadata(request_id: &str) -> event_store::Metadata {
    crate::http::request_id::command_metadata(request_id, None, "public")
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicService {
    pub id: Uuid,
    pub name: String,
    pub duration_minutes: u32,
    pub price_cents: i64,
    pub currency: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicStaff {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicPage {
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub services: Vec<PublicService>,
    pub staff: Vec<PublicStaff>,
}

/// The slug of a public path, or the booking page's 404 (no slug can name a workspace).
fn parse_slug(slug: &str) -> ApiResult<Slug> {
    Slug::parse(slug).map_err(|_| ApiError::not_found("booking page"))
}

/// `GET /public/{slug}`: the booking page's services (not archived) and staff (active, with
/// weekly hours), from the read models.
#[utoipa::path(get, path = "/api/v1/public/{slug}", tag = "public",
    params(("slug" = String, Path, description = "the workspace's address")),
    responses((status = 200, body = PublicPage), (status = 404, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
pub async fn page(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(slug): ApiPath<String>,
) -> ApiResult<Json<PublicPage>> {
    state.limits.public_by_ip.check(&client)?;
    let slug = parse_slug(&slug)?;
    let found = query::public::by_slug(state.store.pool(), slug.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("booking page"))?;
    Ok(Json(PublicPage {
        name: found.name,
        slug: found.slug,
        timezone: found.timezone,
        services: found
            .services
            .into_iter()
            .map(|s| {
                Ok(PublicService {
                    id: s.id,
                    duration_minutes: unsigned("duration_minutes", s.duration_minutes)?,
                    name: s.name,
                    price_cents: s.price_cents,
                    currency: s.currency,
                })
            })
            .collect::<ApiResult<_>>()?,
        staff: found
            .staff
            .into_iter()
            .map(|s| PublicStaff {
                id: s.id,
                name: s.name.unwrap_or_else(|| "erased".into()),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    pub service_id: Uuid,
    pub date: NaiveDate,
    pub staff_id: Option<Uuid>,
    /// 1 to 14 (default 1).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub staff_id: Uuid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Availability {
    pub slots: Vec<PublicSlot>,
}

/// `GET /public/{slug}/availability`: free slots in UTC, computed in the workspace's zone
/// with buffers, minimum notice and the booking horizon: the domain's slot maths fed from the
/// read models (schedules from the staff read model, reservations from the bookings'
/// calendar holds), as the command side would compute them from the calendar streams.
#[utoipa::path(get, path = "/api/v1/public/{slug}/availability", tag = "public",
    params(("slug" = String, Path, description = "the workspace's address"), AvailabilityQuery),
    responses((status = 200, body = Availability), (status = 400, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
pub async fn availability(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(slug): ApiPath<String>,
    query: Result<Query<AvailabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Availability>> {
    state.limits.public_by_ip.check(&client)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let days = query.days.unwrap_or(1);
    if !(1..=14).contains(&days) {
        return Err(ApiError::unprocessable("invalid_value", "days: 1 to 14"));
    }
    let to = query
        .date
        .checked_add_days(Days::new(u64::from(days - 1)))
        .ok_or_else(|| ApiError::unprocessable("invalid_value", "date: out of range"))?;
    let slug = parse_slug(&slug)?;
    let pool = state.store.pool();
    let page = query::public::booking_page(pool, slug.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("booking page"))?;
    let inputs = query::public::slot_inputs(
        pool,
        &page,
        query.service_id,
        query.staff_id,
        query.date,
        to,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("service"))?;
    let now = state.clock.now();
    let mut slots = Vec::new();
    for staff in &inputs.staff {
        let found = free_slots(&SlotRequest {
            schedule: &staff.schedule,
            reservations: &staff.reservations,
            duration: inputs.duration,
            buffer_before: inputs.buffer_before,
            buffer_after: inputs.buffer_after,
            slot_step: page.settings.slot_step_minutes,
            minimum_notice: page.settings.minimum_notice_minutes,
            horizon_days: page.settings.booking_horizon_days,
            timezone: page.timezone,
            from: query.date,
            to,
            now,
        });
        slots.extend(found.into_iter().map(|s| PublicSlot {
            start: s.start,
            end: s.end,
            staff_id: staff.staff_id,
        }));
    }
    slots.sort_by_key(|s| (s.start, s.staff_id));
    Ok(Json(Availability { slots }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicBookingInput {
    pub service_id: Uuid,
    pub staff_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub contact: ContactInput,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicBooking {
    pub booking_id: Uuid,
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Lets the customer cancel; shown once, kept only as a hash.
    pub manage_token: String,
}

/// `POST /public/{slug}/bookings` (rate limited): a customer books; confirmed unless the
/// workspace approves bookings by hand.
#[utoipa::path(post, path = "/api/v1/public/{slug}/bookings", tag = "public", request_body = PublicBookingInput,
    params(("slug" = String, Path, description = "the workspace's address")),
    responses((status = 201, body = PublicBooking), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
pub async fn book(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    crate::http::RequestId(request_id): crate::http::RequestId,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<PublicBookingInput>,
) -> ApiResult<Response> {
    state.limits.public_by_ip.check(&client)?;
    if body.contact.email.is_none() {
        return Err(ApiError::unprocessable(
            "invalid_value",
            "contact.email: required to confirm the booking",
        ));
    }
    let placement = Placement {
        booking_id: Uuid::now_v7(),
        new_contact_id: Uuid::now_v7(),
        service_id: body.service_id,
        staff_id: body.staff_id,
        start: body.start,
        customer: CustomerInput::parse(None, Some(&body.contact))?,
        notes: body.notes.as_deref().map(Notes::parse).transpose()?,
        source: BookingSource::Public,
        now: state.clock.now(),
    };
    let workspace_id = active_workspace(&mut Unit::new(state.store.clone()), &slug)
        .await?
        .id;
    let (manage_token, sealed) = manage_link(&state, placement.booking_id, workspace_id)?;
    let (view, outcome) = execute!(state.store, workspace_id, &metadata(&request_id), |unit| {
        // One round trip for the page's slug and workspace and the booking's first streams.
        let mut ahead = placement.streams_known_up_front(workspace_id);
        ahead.push(workspace::stream_id(workspace_id));
        if let Ok(parsed) = Slug::parse(&slug) {
            ahead.push(ReservationKey::Slug(parsed).stream_id());
        }
        unit.prefetch(&ahead).await?;
        let ws = active_workspace(unit, &slug).await?;
        let view = place(unit, &ws, &placement).await?;
        unit.side_write(SideWrite::ManageToken(sealed.clone()));
        Ok(view)
    });
    let body = PublicBooking {
        booking_id: view.id,
        status: view.status,
        start: view.start,
        end: view.end,
        manage_token,
    };
    // The manage token is a credential (it cancels the booking): never kept in clear.
    Ok(no_store(command_response(
        StatusCode::CREATED,
        &body,
        outcome.as_ref(),
    )))
}

/// A publicly cancelled booking (the manage token is not repeated).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicBookingStatus {
    pub booking_id: Uuid,
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageTokenInput {
    pub manage_token: String,
}

/// `POST /public/bookings/{id}/cancel`: the customer cancels with the manage token; refused
/// inside the workspace's cancellation window.
#[utoipa::path(post, path = "/api/v1/public/bookings/{id}/cancel", tag = "public", request_body = ManageTokenInput,
    params(("id" = Uuid, Path, description = "booking id")),
    responses((status = 200, body = PublicBookingStatus), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 429, body = crate::openapi::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    crate::http::RequestId(request_id): crate::http::RequestId,
    ApiPath(booking_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ManageTokenInput>,
) -> ApiResult<Response> {
    state.limits.public_by_ip.check(&client)?;
    let matches: Option<bool> = sqlx::query_scalar(
        "select token_hash = $2 from booking_manage_tokens where booking_id = $1",
    )
    .bind(booking_id)
    .bind(token_hash(body.manage_token.trim()))
    .fetch_optional(state.store.pool())
    .await?;
    if matches != Some(true) {
        return Err(ApiError::not_found("booking"));
    }
    let stream = state
        .store
        .read_stream(&booking::stream_id(booking_id), 0)
        .await?;
    let workspace_id = fold::<BookingAggregate>(stream)?
        .map(|b| b.workspace_id)
        .ok_or_else(|| ApiError::not_found("booking"))?;
    let now = state.clock.now();
    let (view, outcome) = execute!(state.store, workspace_id, &metadata(&request_id), |unit| {
        let current = unit
            .load::<BookingAggregate>(&booking::stream_id(booking_id))
            .await?;
        let Some(existing) = current.clone() else {
            return Err(ApiError::not_found("booking"));
        };
        let ws = unit
            .load::<WorkspaceAggregate>(&workspace::stream_id(existing.workspace_id))
            .await?
            .ok_or_else(|| ApiError::not_found("booking"))?;
        let keys: Vec<CalendarKey> = existing
            .calendar_dates
            .iter()
            .map(|date| CalendarKey {
                staff_id: existing.staff_id,
                date: *date,
            })
            .collect();
        let ids: Vec<String> = keys.iter().map(CalendarKey::stream_id).collect();
        let calendars: BTreeMap<_, _> = keys
            .iter()
            .copied()
            .zip(unit.load_many::<CalendarAggregate>(&ids).await?)
            .collect();
        let item_ids: Vec<Uuid> = existing.inventory.iter().map(|n| n.item_id).collect();
        let item_streams: Vec<String> = item_ids
            .iter()
            .map(|id| domain::inventory::stream_id(*id))
            .collect();
        let items = unit
            .load_many::<domain::inventory::InventoryAggregate>(&item_streams)
            .await?;
        let inventory = item_ids
            .into_iter()
            .zip(items)
            .filter_map(|(id, i)| i.map(|i| (id, i)))
            .collect();
        let decision = booking_flow::cancel_booking(
            &current,
            &ws,
            &calendars,
            &inventory,
            &CancelRequest {
                reason: None,
                by: booking::Actor::Customer,
                now,
            },
        )?;
        let after = decision
            .booking
            .events
            .iter()
            .fold(current.clone(), booking::evolve);
        for stream in decision.encode() {
            unit.append_encoded(stream);
        }
        after.ok_or_else(|| ApiError::not_found("booking"))
    });
    let body = PublicBookingStatus {
        booking_id: view.id,
        status: view.status.as_str().to_string(),
        start: view.start(),
        end: view.end(),
    };
    Ok(command_response(StatusCode::OK, &body, outcome.as_ref()))
}

/// A new booking's manage token, and its sealed hand-over for the confirmation email's
/// manage/cancel link (the token is answered to the public booking page only).
pub fn manage_link(
    state: &AppState,
    booking_id: Uuid,
    workspace_id: Uuid,
) -> ApiResult<(String, service_runtime::manage_tokens::SealedManageToken)> {
    let token = new_token();
    let sealed = service_runtime::manage_tokens::seal_manage_token(
        &state.secrets,
        booking_id,
        workspace_id,
        &token,
        token_hash(&token),
    )
    .map_err(ApiError::internal)?;
    Ok((token, sealed))
}
