//! Staff: weekly availability and dated exceptions (`/staff/{id}/availability`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::put;
use axum::Router;
use chrono::NaiveDate;
use domain::schedule::{
    self, AvailabilityException, DayHours, Schedule, ScheduleAggregate, SetAvailability,
    WeeklyHours,
};
use domain::user::{self, UserAggregate};
use domain::values::{LocalRange, LocalTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::execute;
use crate::http::{
    command_response, with_etag, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId,
};
use crate::routes::queries::scope;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/staff/{id}/availability",
        put(set_availability).get(get_availability),
    )
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyInput {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Local wall-clock `HH:MM`.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionInput {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityInput {
    pub weekly: Vec<WeeklyInput>,
    #[serde(default)]
    pub exceptions: Vec<ExceptionInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AvailabilityView {
    pub staff_id: Uuid,
    pub weekly: Vec<WeeklyInput>,
    pub exceptions: Vec<ExceptionInput>,
}

impl AvailabilityView {
    fn of(staff_id: Uuid, schedule: &Schedule) -> Self {
        let hm = |t: LocalTime| t.naive().format("%H:%M").to_string();
        Self {
            staff_id,
            weekly: schedule
                .weekly
                .iter()
                .map(|w| WeeklyInput {
                    weekday: w.weekday().number_from_monday() as u8,
                    start: hm(w.hours().start()),
                    end: hm(w.hours().end()),
                })
                .collect(),
            exceptions: schedule
                .exceptions
                .iter()
                .flat_map(|(date, hours)| match hours {
                    DayHours::Closed => vec![ExceptionInput {
                        date: *date,
                        closed: true,
                        start: None,
                        end: None,
                    }],
                    DayHours::Open(ranges) => ranges
                        .iter()
                        .map(|r| ExceptionInput {
                            date: *date,
                            closed: false,
                            start: Some(hm(r.start())),
                            end: Some(hm(r.end())),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl AvailabilityView {
    /// From the staff read model, which holds the same weekly hours and exceptions as the
    /// schedule stream (one exception entry per open range, like [`AvailabilityView::of`]).
    fn from_read_model(found: &projections::query::staff::AvailabilityView) -> ApiResult<Self> {
        Ok(Self {
            staff_id: found.staff_id,
            weekly: found
                .weekly
                .iter()
                .map(|w| {
                    Ok(WeeklyInput {
                        weekday: u8::try_from(w.weekday).map_err(|_| {
                            ApiError::internal(format!("read model holds weekday {}", w.weekday))
                        })?,
                        start: w.start.clone(),
                        end: w.end.clone(),
                    })
                })
                .collect::<ApiResult<_>>()?,
            exceptions: found
                .exceptions
                .iter()
                .map(|e| ExceptionInput {
                    date: e.date,
                    closed: e.closed.unwrap_or(false),
                    start: e.start.clone(),
                    end: e.end.clone(),
                })
                .collect(),
        })
    }
}

fn parse_exceptions(inputs: &[ExceptionInput]) -> ApiResult<Vec<AvailabilityException>> {
    let mut by_date: std::collections::BTreeMap<NaiveDate, DayHours> = Default::default();
    for input in inputs {
        let hours = match (input.closed, &input.start, &input.end) {
            (true, None, None) => DayHours::Closed,
            (false, Some(start), Some(end)) => DayHours::Open(vec![LocalRange::parse(start, end)?]),
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid_value",
                    format!(
                        "exceptions: {} is either closed or has a start and an end",
                        input.date
                    ),
                ))
            }
        };
        match (by_date.get_mut(&input.date), hours) {
            (None, hours) => {
                by_date.insert(input.date, hours);
            }
            (Some(DayHours::Open(existing)), DayHours::Open(more)) => existing.extend(more),
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid_value",
                    format!("exceptions: {} is both closed and open", input.date),
                ))
            }
        }
    }
    Ok(by_date
        .into_iter()
        .map(|(date, hours)| AvailabilityException { date, hours })
        .collect())
}

/// The owner, or that staff member, may change a staff member's hours.
fn may_edit(actor: &Actor, staff_id: Uuid) -> ApiResult<()> {
    if actor.is_owner() || actor.user_id == staff_id {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the owner or the staff member may change these hours",
        ))
    }
}

/// `PUT /staff/{id}/availability`.
#[utoipa::path(put, path = "/api/v1/staff/{id}/availability", tag = "staff", request_body = AvailabilityInput,
    params(("id" = Uuid, Path, description = "staff member (user) id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = AvailabilityView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
              (status = 412, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_availability(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(staff_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AvailabilityInput>,
) -> ApiResult<Response> {
    may_edit(&actor, staff_id)?;
    let weekly = body
        .weekly
        .iter()
        .map(|w| {
            Ok(WeeklyHours::parse(
                w.weekday,
                LocalTime::parse(&w.start)?,
                LocalTime::parse(&w.end)?,
            )?)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let exceptions = parse_exceptions(&body.exceptions)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let staff = unit
                .load::<UserAggregate>(&user::stream_id(staff_id))
                .await?;
            if !staff.is_some_and(|u| u.workspace_id == actor.workspace_id && u.active) {
                return Err(ApiError::not_found("staff member"));
            }
            let current = unit
                .load::<ScheduleAggregate>(&schedule::stream_id(staff_id))
                .await?;
            // The ETag of `GET /staff/{id}/availability` is the schedule's version.
            if_match.check(unit.version(&schedule::stream_id(staff_id)))?;
            let events = schedule::decide(
                &current,
                &SetAvailability {
                    staff_id,
                    workspace_id: actor.workspace_id,
                    weekly: weekly.clone(),
                    exceptions: exceptions.clone(),
                }
                .into(),
            )?;
            let after = events.iter().fold(current, schedule::evolve);
            unit.append(
                schedule::STREAM_TYPE,
                schedule::stream_id(staff_id),
                &events,
            );
            Ok(AvailabilityView::of(staff_id, &after))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `GET /staff/{id}/availability` (any member of the workspace) from the staff read model,
/// with its `ETag`: the schedule stream's version, which `If-Match` on `PUT` checks (no
/// schedule yet is version 0: `If-Match: "0"` then guards setting the first hours).
#[utoipa::path(get, path = "/api/v1/staff/{id}/availability", tag = "staff",
    params(("id" = Uuid, Path, description = "staff member (user) id")),
    responses((status = 200, body = AvailabilityView, headers(("ETag" = String, description = "the schedule's version"))),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_availability(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(staff_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let found =
        projections::query::staff::availability(state.store.pool(), &scope(&actor), staff_id)
            .await?
            .ok_or_else(|| ApiError::not_found("staff member"))?;
    Ok(with_etag(
        &AvailabilityView::from_read_model(&found)?,
        u64::try_from(found.version).unwrap_or(0),
    ))
}
