//! Contacts: the customers of the business. One contact per email in a workspace (a
//! reservation stream per email); bookings match them by email too. The owner can erase a
//! contact's personal data (crypto-shredding, see `erase_contact`).

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::Router;
use domain::contact::{
    self, Contact, ContactAggregate, CreateContact, EraseContact, UpdateContact,
};
use domain::reservation::{self, Release, ReservationAggregate, ReservationKey, Reserve};
use domain::values::{Email, Permission, PersonName, Phone};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::command::{SideWrite, Unit};
use crate::execute;
use crate::http::{
    command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId, POSITION_HEADER,
};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts", post(create_contact))
        .route("/contacts/{id}", put(update_contact).delete(erase_contact))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactView {
    fn of(contact: &Contact) -> Self {
        Self {
            id: contact.id,
            name: contact
                .name
                .known()
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|| "erased".into()),
            email: contact.email().map(|e| e.as_str().to_string()),
            phone: contact.phone().map(|p| p.as_str().to_string()),
        }
    }
}

struct Parsed {
    name: PersonName,
    email: Option<Email>,
    phone: Option<Phone>,
}

fn parse(input: &ContactInput) -> ApiResult<Parsed> {
    Ok(Parsed {
        name: PersonName::parse(&input.name)?,
        email: input.email.as_deref().map(Email::parse).transpose()?,
        phone: input.phone.as_deref().map(Phone::parse).transpose()?,
    })
}

/// Reserves `email` for `contact_id` in the workspace, or refuses with 409 when another
/// contact holds it.
async fn reserve_email(
    unit: &mut Unit,
    workspace_id: Uuid,
    email: &Email,
    contact_id: Uuid,
) -> ApiResult<()> {
    let key = ReservationKey::ContactEmail {
        workspace_id,
        email: email.clone(),
    };
    let current = unit.load::<ReservationAggregate>(&key.stream_id()).await?;
    match current.holder {
        Some(holder) if holder == contact_id => Ok(()),
        Some(_) => Err(ApiError::conflict(
            "duplicate_contact",
            "a contact with this email already exists",
        )),
        None => {
            let events = reservation::decide(
                &current,
                &Reserve {
                    key: key.clone(),
                    owner_id: contact_id,
                }
                .into(),
            )?;
            unit.append(reservation::STREAM_TYPE, key.stream_id(), &events);
            Ok(())
        }
    }
}

/// `POST /contacts` (owner, staff with `contacts`); a duplicate email is a 409.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = ContactView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_contact(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    actor.require(Permission::Contacts)?;
    let parsed = parse(&body)?;
    let contact_id = Uuid::now_v7();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            if let Some(email) = &parsed.email {
                reserve_email(unit, actor.workspace_id, email, contact_id).await?;
            }
            let events = contact::decide(
                &None,
                &CreateContact {
                    contact_id,
                    workspace_id: actor.workspace_id,
                    name: parsed.name.clone(),
                    email: parsed.email.clone(),
                    phone: parsed.phone.clone(),
                }
                .into(),
            )?;
            let created = events.iter().fold(None, contact::evolve);
            unit.append(
                contact::STREAM_TYPE,
                contact::stream_id(contact_id),
                &events,
            );
            created
                .as_ref()
                .map(ContactView::of)
                .ok_or_else(|| ApiError::internal("contact missing after creation"))
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// Gives back the contact's hold on `email` in the workspace (after a change or an erasure),
/// so that another contact may use it.
async fn release_email(
    unit: &mut Unit,
    workspace_id: Uuid,
    email: Email,
    contact_id: Uuid,
) -> ApiResult<()> {
    let key = ReservationKey::ContactEmail {
        workspace_id,
        email,
    };
    let held = unit.load::<ReservationAggregate>(&key.stream_id()).await?;
    if held.holder == Some(contact_id) {
        let events = reservation::decide(
            &held,
            &Release {
                key: key.clone(),
                owner_id: contact_id,
            }
            .into(),
        )?;
        unit.append(reservation::STREAM_TYPE, key.stream_id(), &events);
    }
    Ok(())
}

/// `PUT /contacts/{id}`: name, email, phone; a new email must be free in the workspace.
#[utoipa::path(put, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactInput,
    params(("id" = Uuid, Path, description = "contact id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = ContactView), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 412, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_contact(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(contact_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    actor.require(Permission::Contacts)?;
    let parsed = parse(&body)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = unit
                .load_owned::<ContactAggregate, _>(
                    &contact::stream_id(contact_id),
                    actor.workspace_id,
                    if_match,
                    "contact",
                )
                .await?;
            let old_email = current.as_ref().and_then(|c| c.email().cloned());
            if parsed.email != old_email {
                if let Some(email) = &parsed.email {
                    reserve_email(unit, actor.workspace_id, email, contact_id).await?;
                }
                if let Some(old) = old_email {
                    release_email(unit, actor.workspace_id, old, contact_id).await?;
                }
            }
            let events = contact::decide(
                &current,
                &UpdateContact {
                    name: parsed.name.clone(),
                    email: parsed.email.clone(),
                    phone: parsed.phone.clone(),
                }
                .into(),
            )?;
            let after = events.iter().fold(current, contact::evolve);
            unit.append(
                contact::STREAM_TYPE,
                contact::stream_id(contact_id),
                &events,
            );
            after
                .as_ref()
                .map(ContactView::of)
                .ok_or_else(|| ApiError::not_found("contact"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `DELETE /contacts/{id}` (owner): erases the contact's personal data everywhere.
///
/// One transaction appends `ContactErased`, releases the contact's email (another contact may
/// use it again) and destroys the contact's key (crypto-shredding): from the commit on, the
/// name, email, phone, booking notes, message bodies and form answers of this contact read as
/// erased in every event, and the read models blank them when they apply `ContactErased`. The
/// contact itself stays as an anonymous record (bookings and totals keep pointing at it), so
/// `GET /contacts/{id}` answers it with `erased: true`, and erasing it again is a 409
/// `already_erased`.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = Uuid, Path, description = "contact id"), crate::openapi::IfMatchHeader),
    responses((status = 204, description = "erased; `X-CareOps-Position` names the erasure"),
              (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody),
              (status = 409, body = crate::openapi::ErrorBody), (status = 412, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(%contact_id, workspace_id = %actor.workspace_id))]
pub async fn erase_contact(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(contact_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let ((), outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = unit
                .load_owned::<ContactAggregate, _>(
                    &contact::stream_id(contact_id),
                    actor.workspace_id,
                    if_match,
                    "contact",
                )
                .await?;
            let events = contact::decide(&current, &EraseContact.into())?;
            if let Some(email) = current.as_ref().and_then(|c| c.email().cloned()) {
                release_email(unit, actor.workspace_id, email, contact_id).await?;
            }
            unit.append(
                contact::STREAM_TYPE,
                contact::stream_id(contact_id),
                &events,
            );
            unit.side_write(SideWrite::EraseSubject {
                workspace_id: actor.workspace_id,
                subject_id: contact_id,
            });
            Ok(())
        }
    );
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(value) = outcome
        .as_ref()
        .and_then(|o| HeaderValue::from_str(&o.last_position.token()).ok())
    {
        response.headers_mut().insert(POSITION_HEADER, value);
    }
    Ok(response)
}
