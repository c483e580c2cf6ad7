//! Bookings, "the brain" (seed: api/bookings.py). Creating one is a single atomic append
//! over the booking, the staff member's calendar day(s), every inventory item the service
//! consumes and, when new, the contact: two requests for one slot cannot both win, and stock
//! never goes below zero. The decisions themselves are the domain's `booking_flow`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::booking::{self, Booking, BookingAggregate, BookingSource, ConfirmBooking, MarkNoShow};
use domain::booking_flow::{
    self, calendar_keys_for, BookingContext, BookingDecision, Calendars, CancelRequest,
    CompleteRequest, Customer, Inventory, NewContact, PlaceBooking, RescheduleContext,
    RescheduleRequest,
};
use domain::calendar::{CalendarAggregate, CalendarKey};
use domain::contact::{self, Contact, ContactAggregate};
use domain::inventory::{self, InventoryAggregate};
use domain::reservation::ReservationKey;
use domain::schedule::{self, ScheduleAggregate};
use domain::service::{self, ItemQuantity, Service, ServiceAggregate};
use domain::user::{self, User, UserAggregate};
use domain::values::{Email, Notes, Permission, PersonName, Phone, Reason};
use domain::workspace::Workspace;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::command::{fold, SideWrite, Unit};
use crate::execute;
use crate::http::{
    command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, OptionalJson, RequestId,
};
use crate::routes::contact_match;
use crate::routes::onboarding::load_workspace;
use crate::routes::queries::scope;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bookings", post(create_booking))
        .route("/bookings/{id}", get(get_booking))
        .route("/bookings/{id}/confirm", post(confirm))
        .route("/bookings/{id}/cancel", post(cancel))
        .route("/bookings/{id}/reschedule", post(reschedule))
        .route("/bookings/{id}/complete", post(complete))
        .route("/bookings/{id}/no-show", post(no_show))
        .route("/bookings/{id}/history", get(history))
}

/// The booking object of the contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingView {
    pub id: Uuid,
    pub status: String,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub contact_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub price_cents: i64,
    pub currency: String,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<projections::query::bookings::BookingView> for BookingView {
    fn from(b: projections::query::bookings::BookingView) -> Self {
        Self {
            id: b.id,
            status: b.status,
            service_id: b.service_id,
            staff_id: b.staff_id,
            contact_id: b.contact_id,
            start: b.start,
            end: b.end,
            price_cents: b.price_cents,
            currency: b.currency,
            notes: b.notes,
            created_at: b.created_at,
        }
    }
}

impl BookingView {
    pub fn of(booking: &Booking, created_at: DateTime<Utc>) -> Self {
        Self {
            id: booking.id,
            status: booking.status.as_str().to_string(),
            service_id: booking.service_id,
            staff_id: booking.staff_id,
            contact_id: booking.contact_id,
            start: booking.start(),
            end: booking.end(),
            price_cents: booking.price.cents(),
            currency: booking.price.currency().code().to_string(),
            notes: booking
                .notes
                .known()
                .and_then(|n| n.as_ref())
                .map(|n| n.as_str().to_string()),
            created_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = BookingContactInput)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBooking {
    pub service_id: Uuid,
    pub staff_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub contact_id: Option<Uuid>,
    pub contact: Option<ContactInput>,
    pub notes: Option<String>,
}

/// Who a new booking is for, parsed.
#[derive(Debug, Clone)]
pub enum CustomerInput {
    Known(Uuid),
    Details {
        name: PersonName,
        email: Option<Email>,
        phone: Option<Phone>,
    },
}

impl CustomerInput {
    pub fn parse(contact_id: Option<Uuid>, contact: Option<&ContactInput>) -> ApiResult<Self> {
        match (contact_id, contact) {
            (Some(id), None) => Ok(CustomerInput::Known(id)),
            (None, Some(c)) => Ok(CustomerInput::Details {
                name: PersonName::parse(&c.name)?,
                email: c.email.as_deref().map(Email::parse).transpose()?,
                phone: c.phone.as_deref().map(Phone::parse).transpose()?,
            }),
            _ => Err(ApiError::unprocessable(
                "invalid_value",
                "contact: give either contact_id or contact details",
            )),
        }
    }
}

/// Everything a placement needs besides the loaded streams.
pub struct Placement {
    pub booking_id: Uuid,
    pub new_contact_id: Uuid,
    pub service_id: Uuid,
    pub staff_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub customer: CustomerInput,
    pub notes: Option<Notes>,
    pub source: BookingSource,
    pub now: DateTime<Utc>,
}

impl Placement {
    /// The streams a placement reads that are known before the service is: the service,
    /// the chosen staff member and their schedule, the customer's contact or email holder.
    /// A handler reads them ahead in one round trip (with the workspace's stream, see
    /// [`place`]).
    pub fn streams_known_up_front(&self, workspace_id: Uuid) -> Vec<String> {
        let mut ahead = vec![service::stream_id(self.service_id)];
        if let Some(staff_id) = self.staff_id {
            ahead.push(user::stream_id(staff_id));
            ahead.push(schedule::stream_id(staff_id));
        }
        match &self.customer {
            CustomerInput::Known(id) => ahead.push(contact::stream_id(*id)),
            CustomerInput::Details {
                email: Some(email), ..
            } => ahead.push(
                ReservationKey::ContactEmail {
                    workspace_id,
                    email: email.clone(),
                }
                .stream_id(),
            ),
            CustomerInput::Details { .. } => {}
        }
        ahead
    }
}

/// Codes after which automatic staff choice tries the next staff member.
const TRY_NEXT_STAFF: [&str; 3] = [
    "slot_unavailable",
    "outside_availability",
    "user_deactivated",
];

/// Loads what a booking of `placement` touches, decides, and records the events in `unit`.
/// Returns the booking as it will be.
///
/// A booking reads its streams in two round trips: those known up front (which the caller
/// may already have read ahead with the workspace's stream, saving a third), then the stock
/// and calendar days the service and the start time lead to.
pub async fn place(
    unit: &mut Unit,
    workspace: &Workspace,
    placement: &Placement,
) -> ApiResult<BookingView> {
    unit.prefetch(&placement.streams_known_up_front(workspace.id))
        .await?;
    let service = unit
        .load::<ServiceAggregate>(&service::stream_id(placement.service_id))
        .await?
        .filter(|s| s.workspace_id == workspace.id)
        .ok_or_else(|| ApiError::not_found("service"))?;
    // Second round trip: the stock the service uses and, with a chosen staff member, the
    // calendar days the booking falls on.
    let mut ahead: Vec<String> = service
        .definition
        .inventory
        .iter()
        .map(|n| inventory::stream_id(n.item_id))
        .collect();
    if let Some(staff_id) = placement.staff_id {
        let keys = calendar_keys_for(staff_id, placement.start, &service, workspace.timezone);
        ahead.extend(keys.iter().map(CalendarKey::stream_id));
    }
    unit.prefetch(&ahead).await?;
    let inventory =
        load_inventory(unit, service.definition.inventory.iter().map(|n| n.item_id)).await?;

    let existing_contact: Option<Contact>;
    let customer = match &placement.customer {
        CustomerInput::Known(id) => {
            existing_contact = unit
                .load::<ContactAggregate>(&contact::stream_id(*id))
                .await?
                .filter(|c| c.workspace_id == workspace.id);
            Customer::Existing(
                existing_contact
                    .as_ref()
                    .ok_or_else(|| ApiError::not_found("contact"))?,
            )
        }
        CustomerInput::Details { name, email, phone } => {
            let mut email_reservation = Default::default();
            let mut found = None;
            if let Some(email) = email {
                let matched = contact_match::find_by_email(unit, workspace.id, email).await?;
                email_reservation = matched.reservation;
                found = matched.contact;
            }
            existing_contact = found;
            match &existing_contact {
                Some(contact) => Customer::Existing(contact),
                None => Customer::New(NewContact {
                    contact_id: placement.new_contact_id,
                    name: name.clone(),
                    email: email.clone(),
                    phone: phone.clone(),
                    email_reservation,
                }),
            }
        }
    };

    let candidates: Vec<Uuid> = match placement.staff_id {
        Some(id) => vec![id],
        None => staff_candidates(unit, workspace.id).await?,
    };
    if candidates.is_empty() {
        return Err(ApiError::unprocessable(
            "outside_availability",
            "no staff member is available",
        ));
    }
    let mut last_error = None;
    for staff_id in candidates {
        let staff = unit
            .load::<UserAggregate>(&user::stream_id(staff_id))
            .await?
            .filter(|u| u.workspace_id == workspace.id)
            .ok_or_else(|| ApiError::not_found("staff member"))?;
        let schedule = unit
            .load::<ScheduleAggregate>(&schedule::stream_id(staff_id))
            .await?;
        let keys = calendar_keys_for(staff_id, placement.start, &service, workspace.timezone);
        let calendars = load_calendars(unit, &keys).await?;
        let ctx = BookingContext {
            workspace,
            service: &service,
            staff: &staff,
            schedule: &schedule,
            calendars: &calendars,
            inventory: &inventory,
        };
        let command = PlaceBooking {
            booking_id: placement.booking_id,
            start: placement.start,
            notes: placement.notes.clone(),
            source: placement.source,
            now: placement.now,
        };
        match booking_flow::place_booking(&ctx, &customer, &command) {
            Ok(decision) => return record(unit, &None, decision, placement.now),
            Err(error)
                if placement.staff_id.is_none() && TRY_NEXT_STAFF.contains(&error.code()) =>
            {
                last_error = Some(error);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(last_error
        .map(ApiError::from)
        .unwrap_or_else(|| ApiError::conflict("slot_unavailable", "no staff member is free then")))
}

/// Active users of the workspace with weekly availability, in a stable order.
async fn staff_candidates(unit: &mut Unit, workspace_id: Uuid) -> ApiResult<Vec<Uuid>> {
    let ids = unit
        .store()
        .stream_ids(workspace_id, user::STREAM_TYPE)
        .await?;
    let users = unit.load_many::<UserAggregate>(&ids).await?;
    let active: Vec<Uuid> = users
        .into_iter()
        .flatten()
        .filter(|u| u.active)
        .map(|u| u.id)
        .collect();
    let schedule_ids: Vec<String> = active.iter().map(|id| schedule::stream_id(*id)).collect();
    let schedules = unit.load_many::<ScheduleAggregate>(&schedule_ids).await?;
    Ok(active
        .into_iter()
        .zip(schedules)
        .filter(|(_, s)| s.has_weekly_availability())
        .map(|(id, _)| id)
        .collect())
}

async fn load_inventory(
    unit: &mut Unit,
    item_ids: impl Iterator<Item = Uuid>,
) -> ApiResult<Inventory> {
    let ids: Vec<Uuid> = item_ids
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let streams: Vec<String> = ids.iter().map(|id| inventory::stream_id(*id)).collect();
    let items = unit.load_many::<InventoryAggregate>(&streams).await?;
    Ok(ids
        .into_iter()
        .zip(items)
        .filter_map(|(id, item)| item.map(|item| (id, item)))
        .collect())
}

async fn load_calendars(unit: &mut Unit, keys: &[CalendarKey]) -> ApiResult<Calendars> {
    let streams: Vec<String> = keys.iter().map(CalendarKey::stream_id).collect();
    let days = unit.load_many::<CalendarAggregate>(&streams).await?;
    Ok(keys.iter().copied().zip(days).collect::<BTreeMap<_, _>>())
}

/// Records a decision's streams and returns the booking as it will be.
fn record(
    unit: &mut Unit,
    before: &booking::State,
    decision: BookingDecision,
    now: DateTime<Utc>,
) -> ApiResult<BookingView> {
    let stream_id = decision.booking.stream_id.clone();
    let after = decision
        .booking
        .events
        .iter()
        .fold(before.clone(), booking::evolve);
    let created_at = unit.created_at(&stream_id).unwrap_or(now);
    for stream in decision.encode() {
        unit.append_encoded(stream);
    }
    after
        .map(|b| BookingView::of(&b, created_at))
        .ok_or_else(|| ApiError::internal("a booking decision without its booking"))
}

/// `POST /bookings` (owner, staff with `bookings`; staff book themselves).
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = NewBooking,
    responses((status = 201, body = BookingView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_booking(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewBooking>,
) -> ApiResult<Response> {
    actor.require(Permission::Bookings)?;
    let staff_id = match (actor.is_owner(), body.staff_id) {
        (true, chosen) => chosen,
        (false, None) => Some(actor.user_id),
        (false, Some(id)) if id == actor.user_id => Some(id),
        (false, Some(_)) => {
            return Err(ApiError::forbidden(
                "staff book appointments for themselves only",
            ))
        }
    };
    let placement = Placement {
        booking_id: Uuid::now_v7(),
        new_contact_id: Uuid::now_v7(),
        service_id: body.service_id,
        staff_id,
        start: body.start,
        customer: CustomerInput::parse(body.contact_id, body.contact.as_ref())?,
        notes: body.notes.as_deref().map(Notes::parse).transpose()?,
        source: BookingSource::Staff {
            user_id: actor.user_id,
        },
        now: state.clock.now(),
    };
    // Every customer gets a manage/cancel link in the confirmation email, also when the
    // salon booked for them.
    let (_, manage_token) =
        crate::routes::public::manage_link(&state, placement.booking_id, actor.workspace_id)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let mut ahead = placement.streams_known_up_front(actor.workspace_id);
            ahead.push(domain::workspace::stream_id(actor.workspace_id));
            unit.prefetch(&ahead).await?;
            let workspace = load_workspace(unit, actor.workspace_id).await?;
            let view = place(unit, &workspace, &placement).await?;
            unit.side_write(SideWrite::ManageToken(manage_token.clone()));
            Ok::<_, ApiError>(view)
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// Loads a booking the actor may see: of their workspace, and for staff their own.
async fn load_visible(
    unit: &mut Unit,
    actor: &Actor,
    booking_id: Uuid,
) -> ApiResult<booking::State> {
    actor.require(Permission::Bookings)?;
    let current = unit
        .load::<BookingAggregate>(&booking::stream_id(booking_id))
        .await?;
    match &current {
        Some(b)
            if b.workspace_id == actor.workspace_id
                && (actor.is_owner() || b.staff_id == actor.user_id) =>
        {
            Ok(current)
        }
        _ => Err(ApiError::not_found("booking")),
    }
}

/// The change a booking command asks for.
enum Change {
    Confirm,
    Cancel(Option<Reason>),
    Reschedule {
        start: DateTime<Utc>,
        staff_id: Option<Uuid>,
    },
    Complete(Option<Vec<ItemQuantity>>),
    NoShow,
}

async fn change_booking(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    booking_id: Uuid,
    change: Change,
    if_match: IfMatch,
) -> ApiResult<Response> {
    if let Change::Reschedule {
        staff_id: Some(id), ..
    } = &change
    {
        if !actor.is_owner() && *id != actor.user_id {
            return Err(ApiError::forbidden(
                "staff move appointments within their own calendar only",
            ));
        }
    }
    let now = state.clock.now();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(request_id),
        |unit| {
            let current = load_visible(unit, actor, booking_id).await?;
            if_match.check(unit.version(&booking::stream_id(booking_id)))?;
            let Some(existing) = current.clone() else {
                return Err(ApiError::not_found("booking"));
            };
            let workspace = load_workspace(unit, actor.workspace_id).await?;
            let by = booking::Actor::Staff {
                user_id: actor.user_id,
            };
            let decision = match &change {
                Change::Confirm | Change::NoShow => {
                    let events = match &change {
                        Change::Confirm => booking::decide(&current, &ConfirmBooking.into())?,
                        _ => booking::decide(&current, &MarkNoShow { now }.into())?,
                    };
                    let mut decision = BookingDecision::for_booking(booking_id);
                    decision.booking.events = events;
                    decision
                }
                Change::Cancel(reason) => {
                    let keys: Vec<CalendarKey> = existing
                        .calendar_dates
                        .iter()
                        .map(|date| CalendarKey {
                            staff_id: existing.staff_id,
                            date: *date,
                        })
                        .collect();
                    let calendars = load_calendars(unit, &keys).await?;
                    let inventory =
                        load_inventory(unit, existing.inventory.iter().map(|n| n.item_id)).await?;
                    booking_flow::cancel_booking(
                        &current,
                        &workspace,
                        &calendars,
                        &inventory,
                        &CancelRequest {
                            reason: reason.clone(),
                            by,
                            now,
                        },
                    )?
                }
                Change::Reschedule { start, staff_id } => {
                    let staff_id = staff_id.unwrap_or(existing.staff_id);
                    let staff: User = unit
                        .load::<UserAggregate>(&user::stream_id(staff_id))
                        .await?
                        .filter(|u| u.workspace_id == actor.workspace_id)
                        .ok_or_else(|| ApiError::not_found("staff member"))?;
                    let schedule = unit
                        .load::<ScheduleAggregate>(&schedule::stream_id(staff_id))
                        .await?;
                    let service: Service = unit
                        .load::<ServiceAggregate>(&service::stream_id(existing.service_id))
                        .await?
                        .ok_or_else(|| ApiError::not_found("service"))?;
                    let mut keys: Vec<CalendarKey> = existing
                        .calendar_dates
                        .iter()
                        .map(|date| CalendarKey {
                            staff_id: existing.staff_id,
                            date: *date,
                        })
                        .collect();
                    keys.extend(calendar_keys_for(
                        staff_id,
                        *start,
                        &service,
                        workspace.timezone,
                    ));
                    keys.sort();
                    keys.dedup();
                    let calendars = load_calendars(unit, &keys).await?;
                    let ctx = RescheduleContext {
                        workspace: &workspace,
                        staff: &staff,
                        schedule: &schedule,
                        calendars: &calendars,
                    };
                    booking_flow::reschedule_booking(
                        &current,
                        &ctx,
                        &RescheduleRequest {
                            start: *start,
                            public: false,
                            now,
                        },
                    )?
                }
                Change::Complete(used) => {
                    let ids = existing
                        .inventory
                        .iter()
                        .map(|n| n.item_id)
                        .chain(used.iter().flatten().map(|n| n.item_id));
                    let inventory = load_inventory(unit, ids).await?;
                    booking_flow::complete_booking(
                        &current,
                        &inventory,
                        &CompleteRequest {
                            inventory_used: used.clone(),
                            now,
                        },
                    )?
                }
            };
            record(unit, &current, decision, now)
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `POST /bookings/{id}/confirm`: pending → confirmed.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/confirm", tag = "bookings",
    params(("id" = Uuid, Path, description = "booking id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = BookingView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    change_booking(&state, &actor, &request_id, id, Change::Confirm, if_match).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    pub reason: Option<String>,
}

/// `POST /bookings/{id}/cancel`: releases the slot and returns the stock.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings", request_body = CancelInput,
    params(("id" = Uuid, Path, description = "booking id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = BookingView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<CancelInput>,
) -> ApiResult<Response> {
    let reason = body
        .and_then(|b| b.reason)
        .as_deref()
        .map(Reason::parse)
        .transpose()?;
    change_booking(
        &state,
        &actor,
        &request_id,
        id,
        Change::Cancel(reason),
        if_match,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleInput {
    pub start: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
}

/// `POST /bookings/{id}/reschedule`: the same checks as a new booking.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/reschedule", tag = "bookings", request_body = RescheduleInput,
    params(("id" = Uuid, Path, description = "booking id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = BookingView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reschedule(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RescheduleInput>,
) -> ApiResult<Response> {
    change_booking(
        &state,
        &actor,
        &request_id,
        id,
        Change::Reschedule {
            start: body.start,
            staff_id: body.staff_id,
        },
        if_match,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageInput {
    pub item_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    pub inventory_used: Option<Vec<UsageInput>>,
}

/// `POST /bookings/{id}/complete`: the visit happened (starts the follow-up timer);
/// `inventory_used` corrects what was actually consumed.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/complete", tag = "bookings", request_body = CompleteInput,
    params(("id" = Uuid, Path, description = "booking id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = BookingView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<CompleteInput>,
) -> ApiResult<Response> {
    let used = match body.and_then(|b| b.inventory_used) {
        None => None,
        Some(items) => Some(
            items
                .iter()
                .map(|u| {
                    Ok(ItemQuantity {
                        item_id: u.item_id,
                        quantity: u32::try_from(u.quantity)
                            .ok()
                            .filter(|q| *q <= 10_000)
                            .ok_or_else(|| {
                                ApiError::unprocessable(
                                    "invalid_value",
                                    "inventory_used: quantities from 0 to 10,000",
                                )
                            })?,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
    };
    change_booking(
        &state,
        &actor,
        &request_id,
        id,
        Change::Complete(used),
        if_match,
    )
    .await
}

/// `POST /bookings/{id}/no-show`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/no-show", tag = "bookings",
    params(("id" = Uuid, Path, description = "booking id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = BookingView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn no_show(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    change_booking(&state, &actor, &request_id, id, Change::NoShow, if_match).await
}

/// `GET /bookings/{id}` from the bookings read model (staff: their own bookings only), with
/// its `ETag`: the booking stream's version, which `If-Match` on the booking commands checks.
#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings",
    params(("id" = Uuid, Path, description = "booking id")),
    responses((status = 200, body = BookingView, headers(("ETag" = String, description = "the booking's version"))),
              (status = 404, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_booking(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Bookings)?;
    let found = projections::query::bookings::get(state.store.pool(), &scope(&actor), id)
        .await?
        .ok_or_else(|| ApiError::not_found("booking"))?;
    let version = u64::try_from(found.version).unwrap_or(0);
    Ok(crate::http::with_etag(&BookingView::from(found), version))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_version: u64,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub correlation_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

/// `GET /bookings/{id}/history` (owner, assigned staff): the booking's own events.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/history", tag = "bookings",
    params(("id" = Uuid, Path, description = "booking id")),
    responses((status = 200, body = History), (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<History>> {
    let stream = state.store.read_stream(&booking::stream_id(id), 0).await?;
    let current = fold::<BookingAggregate>(stream.clone())?;
    if !current.is_some_and(|b| {
        b.workspace_id == actor.workspace_id && (actor.is_owner() || b.staff_id == actor.user_id)
    }) {
        return Err(ApiError::not_found("booking"));
    }
    Ok(Json(History {
        items: stream
            .into_iter()
            .map(|e| HistoryEntry {
                position: e.position,
                event_id: e.event_id,
                stream_version: e.stream_version,
                event_type: e.event_type,
                recorded_at: e.recorded_at,
                actor_id: e.metadata.actor_id,
                correlation_id: e.metadata.correlation_id,
                data: e.data,
            })
            .collect(),
    }))
}
