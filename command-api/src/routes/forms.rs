//! Intake forms, command side: the owner defines templates; owners and staff with `forms`
//! send a template to a contact. A request's link carries a random token that reaches the
//! contact only by email: we keep its hash, and hand the token itself to the notifier
//! sealed (`service_runtime::form_tokens`, written in the same transaction as the
//! `FormRequested` event). No response of this API ever contains it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use domain::booking::{self, BookingAggregate};
use domain::contact::{self, ContactAggregate};
use domain::form_request::{self, RequestForm};
use domain::form_template::{
    self, DefineTemplate, FieldKey, FieldKind, FormField, FormTemplate, FormTemplateAggregate,
    UpdateTemplate,
};
use domain::values::{Name, Permission};
use domain::{DomainError, Rule};
use projections::query::{self, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sessions::{new_token, token_hash};
use crate::auth::Actor;
use crate::command::SideWrite;
use crate::execute;
use crate::http::{
    command_response, with_etag, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId,
};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forms/templates", post(create_template))
        .route("/forms/templates/{id}", put(update_template))
        .route("/forms/requests", post(request_form))
        .route("/forms/requests/{id}", get(get_request))
}

/// How long a form link works.
pub const FORM_LINK_TTL: Duration = Duration::days(30);

/// The most options a select field may offer, and their longest text.
const MAX_OPTIONS: usize = 100;
const MAX_OPTION_CHARS: usize = 200;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    /// Lower-case letters, digits and underscores, starting with a letter (`first_name`).
    pub key: String,
    pub label: String,
    /// `text`, `textarea`, `checkbox`, `select`, `date` or `signature`.
    #[schema(value_type = String)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The choices of a `select` (and only of a select).
    pub options: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: String,
    /// 1 to 100 fields with distinct keys.
    pub fields: Vec<FieldInput>,
}

/// A form template (as `GET /forms/templates/{id}` shows it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub id: Uuid,
    pub name: String,
    /// `[{key, label, kind, required, options?}]`
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FormField>,
    pub created_at: DateTime<Utc>,
}

impl TemplateView {
    fn of(t: &FormTemplate, created_at: DateTime<Utc>) -> Self {
        Self {
            id: t.id,
            name: t.name.as_str().to_string(),
            fields: t.fields.clone(),
            created_at,
        }
    }
}

/// Names a problem of the `i`th field by its place: `fields[2].key`.
fn at_field(i: usize) -> impl Fn(DomainError) -> DomainError {
    move |error| match error {
        DomainError::Invalid { field, message } => DomainError::Invalid {
            field: format!("fields[{i}].{field}"),
            message,
        },
        other => other,
    }
}

fn parse_template(input: &TemplateInput) -> ApiResult<(Name, Vec<FormField>)> {
    let name = Name::parse(&input.name)?;
    let fields = input
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let options: Vec<String> = f
                .options
                .iter()
                .flatten()
                .map(|o| o.trim().to_string())
                .collect();
            if options.len() > MAX_OPTIONS
                || options.iter().any(|o| o.chars().count() > MAX_OPTION_CHARS)
            {
                return Err(at_field(i)(DomainError::invalid(
                    "options",
                    format!(
                        "at most {MAX_OPTIONS} options of at most {MAX_OPTION_CHARS} characters"
                    ),
                )));
            }
            Ok(FormField {
                key: FieldKey::parse(&f.key).map_err(at_field(i))?,
                label: Name::parse_field("label", &f.label).map_err(at_field(i))?,
                kind: f.kind,
                required: f.required,
                options,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok((name, fields))
}

/// `POST /forms/templates` (owner).
#[utoipa::path(post, path = "/api/v1/forms/templates", tag = "forms", request_body = TemplateInput,
    responses((status = 201, body = TemplateView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 413, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn create_template(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<TemplateInput>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (name, fields) = parse_template(&body)?;
    let template_id = Uuid::now_v7();
    let now = state.clock.now();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let events = form_template::decide(
                &None,
                &DefineTemplate {
                    template_id,
                    workspace_id: actor.workspace_id,
                    name: name.clone(),
                    fields: fields.clone(),
                }
                .into(),
            )?;
            let created = events.iter().fold(None, form_template::evolve);
            unit.append(
                form_template::STREAM_TYPE,
                form_template::stream_id(template_id),
                &events,
            );
            created
                .as_ref()
                .map(|t| TemplateView::of(t, now))
                .ok_or_else(|| ApiError::internal("template missing after creation"))
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// `PUT /forms/templates/{id}` (owner): replaces name and fields; `If-Match` with the
/// template's `ETag` refuses a stale edit (412). Requests already sent show the new fields.
#[utoipa::path(put, path = "/api/v1/forms/templates/{id}", tag = "forms", request_body = TemplateInput,
    params(("id" = Uuid, Path, description = "template id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = TemplateView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 412, body = crate::openapi::ErrorBody), (status = 413, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(template_id = %template_id))]
pub async fn update_template(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(template_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TemplateInput>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (name, fields) = parse_template(&body)?;
    let now = state.clock.now();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let stream_id = form_template::stream_id(template_id);
            let current = unit
                .load_owned::<FormTemplateAggregate, _>(
                    &stream_id,
                    actor.workspace_id,
                    if_match,
                    "form template",
                )
                .await?;
            let events = form_template::decide(
                &current,
                &UpdateTemplate {
                    name: name.clone(),
                    fields: fields.clone(),
                }
                .into(),
            )?;
            let after = events.iter().fold(current, form_template::evolve);
            unit.append(form_template::STREAM_TYPE, stream_id.clone(), &events);
            let created_at = unit.created_at(&stream_id).unwrap_or(now);
            after
                .as_ref()
                .map(|t| TemplateView::of(t, created_at))
                .ok_or_else(|| ApiError::not_found("form template"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormRequestInput {
    pub template_id: Uuid,
    /// The contact who fills it in; they need an email address (the link goes there).
    pub contact_id: Uuid,
    /// A booking of that contact the form is for.
    pub booking_id: Option<Uuid>,
}

/// A form request as created (the link's token is emailed, never answered).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FormRequestView {
    pub id: Uuid,
    pub template_id: Uuid,
    pub contact_id: Uuid,
    pub booking_id: Option<Uuid>,
    /// `pending` (until the contact submits it).
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// When the emailed link stops working.
    pub link_expires_at: DateTime<Utc>,
}

/// `POST /forms/requests` (owner, staff with `forms`): sends a template to a contact,
/// optionally for one of their bookings. The notifier emails the link; the token is in no
/// response. 422 `contact_unreachable` when the contact has no email address.
#[utoipa::path(post, path = "/api/v1/forms/requests", tag = "forms", request_body = FormRequestInput,
    responses((status = 201, body = FormRequestView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 413, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(template_id = %body.template_id, contact_id = %body.contact_id))]
pub async fn request_form(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<FormRequestInput>,
) -> ApiResult<Response> {
    actor.require(Permission::Forms)?;
    let form_request_id = Uuid::now_v7();
    let now = state.clock.now();
    let expires_at = now + FORM_LINK_TTL;
    let sealed = {
        let token = new_token();
        service_runtime::form_tokens::seal_form_token(
            &state.secrets,
            form_request_id,
            actor.workspace_id,
            &token,
            token_hash(&token),
            expires_at,
        )
        .map_err(ApiError::internal)?
    };
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            unit.load::<FormTemplateAggregate>(&form_template::stream_id(body.template_id))
                .await?
                .filter(|t| t.workspace_id == actor.workspace_id)
                .ok_or_else(|| ApiError::not_found("form template"))?;
            let contact = unit
                .load::<ContactAggregate>(&contact::stream_id(body.contact_id))
                .await?
                .filter(|c| c.workspace_id == actor.workspace_id)
                .ok_or_else(|| ApiError::not_found("contact"))?;
            if contact.erased {
                return Err(
                    DomainError::rule(Rule::ContactErased, "the contact was erased").into(),
                );
            }
            if contact.email().is_none() {
                return Err(ApiError::unprocessable(
                    "contact_unreachable",
                    "the contact has no email address to send the form link to",
                ));
            }
            if let Some(booking_id) = body.booking_id {
                let booking = unit
                    .load::<BookingAggregate>(&booking::stream_id(booking_id))
                    .await?
                    .filter(|b| b.workspace_id == actor.workspace_id)
                    .ok_or_else(|| ApiError::not_found("booking"))?;
                if booking.contact_id != contact.id {
                    return Err(DomainError::invalid(
                        "booking_id",
                        "the booking is another contact's",
                    )
                    .into());
                }
            }
            let events = form_request::decide(
                &None,
                &RequestForm {
                    request_id: form_request_id,
                    workspace_id: actor.workspace_id,
                    template_id: body.template_id,
                    contact_id: contact.id,
                    booking_id: body.booking_id,
                }
                .into(),
            )?;
            unit.append(
                form_request::STREAM_TYPE,
                form_request::stream_id(form_request_id),
                &events,
            );
            unit.side_write(SideWrite::FormToken(sealed.clone()));
            Ok(FormRequestView {
                id: form_request_id,
                template_id: body.template_id,
                contact_id: contact.id,
                booking_id: body.booking_id,
                status: "pending".into(),
                created_at: now,
                link_expires_at: expires_at,
            })
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// `GET /forms/requests/{id}` (owner, staff with `forms`): status and, once submitted, the
/// answers; with its `ETag`.
#[utoipa::path(get, path = "/api/v1/forms/requests/{id}", tag = "forms",
    params(("id" = Uuid, Path, description = "form request id")),
    responses((status = 200, body = query::forms::SubmissionView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(form_request_id = %id))]
pub async fn get_request(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Forms)?;
    let scope = if actor.is_owner() {
        Scope::owner(actor.workspace_id)
    } else {
        Scope::staff(actor.workspace_id, actor.user_id, actor.permissions)
    };
    let view = query::forms::get_submission(state.store.pool(), &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("form request"))?;
    Ok(with_etag(&view, u64::try_from(view.version).unwrap_or(0)))
}
