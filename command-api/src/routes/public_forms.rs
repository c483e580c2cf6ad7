//! A contact fills in a form from the emailed link (`/public/forms/{token}`): no login, the
//! token is the capability. It is resolved by its hash (`form_request_tokens`); an unknown
//! or expired token, or one whose contact was erased, is simply "not found". Answers are
//! validated against the template by the domain (the first problem names its field, 422),
//! and a form is submitted once (409 `already_submitted`). Rate limited per client address.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::contact::{self, ContactAggregate};
use domain::form_request::{
    self, FormRequest, FormRequestAggregate, FormRequestStatus, SubmitForm,
};
use domain::form_template::{self, FormField, FormTemplate, FormTemplateAggregate};
use domain::workspace::{self, WorkspaceAggregate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sessions::token_hash;
use crate::command::Unit;
use crate::execute;
use crate::http::{command_response, ApiError, ApiJson, ApiPath, ApiResult, ClientIp, RequestId};
use crate::routes::public::metadata;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/public/forms/{token}", get(fetch).post(submit))
}

/// The form request a live link names: `(request_id, workspace_id)`.
async fn resolve(state: &AppState, token: &str) -> ApiResult<(Uuid, Uuid)> {
    let found: Option<(Uuid, Uuid)> = sqlx::query_as(
        "select request_id, workspace_id from form_request_tokens
         where token_hash = $1 and expires_at > $2",
    )
    .bind(token_hash(token.trim()))
    .bind(state.clock.now())
    .fetch_optional(state.store.pool())
    .await?;
    found.ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::not_found("form")
}

/// The request and its template, loaded into `unit`; not found when the contact was erased.
async fn load_form(
    unit: &mut Unit,
    request_id: Uuid,
    workspace_id: Uuid,
) -> ApiResult<(FormRequest, FormTemplate)> {
    let request = unit
        .load::<FormRequestAggregate>(&form_request::stream_id(request_id))
        .await?
        .filter(|r| r.workspace_id == workspace_id)
        .ok_or_else(not_found)?;
    let template = unit
        .load::<FormTemplateAggregate>(&form_template::stream_id(request.template_id))
        .await?
        .filter(|t| t.workspace_id == workspace_id)
        .ok_or_else(not_found)?;
    unit.load::<ContactAggregate>(&contact::stream_id(request.contact_id))
        .await?
        .filter(|c| !c.erased)
        .ok_or_else(not_found)?;
    Ok((request, template))
}

fn status_name(status: &FormRequestStatus) -> &'static str {
    match status {
        FormRequestStatus::Pending => "pending",
        FormRequestStatus::Submitted { .. } => "submitted",
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFormWorkspace {
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicFormTemplate {
    pub name: String,
    /// `[{key, label, kind, required, options?}]`
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<FormField>,
}

/// A form to fill in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicForm {
    pub request_id: Uuid,
    pub workspace: PublicFormWorkspace,
    pub template: PublicFormTemplate,
    /// `pending` or `submitted`.
    pub status: String,
}

/// `GET /public/forms/{token}` (public, rate limited): the form behind an emailed link.
#[utoipa::path(get, path = "/api/v1/public/forms/{token}", tag = "public",
    params(("token" = String, Path, description = "the token of the emailed link")),
    responses((status = 200, body = PublicForm), (status = 404, body = crate::openapi::ErrorBody),
              (status = 429, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn fetch(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<PublicForm>> {
    state.limits.public_by_ip.check(&client)?;
    let (request_id, workspace_id) = resolve(&state, &token).await?;
    let mut unit = Unit::new(state.store.clone());
    let (request, template) = load_form(&mut unit, request_id, workspace_id).await?;
    let ws = unit
        .load::<WorkspaceAggregate>(&workspace::stream_id(workspace_id))
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(PublicForm {
        request_id,
        workspace: PublicFormWorkspace {
            name: ws.name.as_str().to_string(),
        },
        template: PublicFormTemplate {
            name: template.name.as_str().to_string(),
            fields: template.fields,
        },
        status: status_name(&request.status).to_string(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormAnswers {
    /// `{key: value}`: `true`/`false` for checkboxes, text otherwise (a select's option,
    /// a date as `YYYY-MM-DD`, a signature).
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormSubmitted {
    pub request_id: Uuid,
    /// `submitted`.
    pub status: String,
    pub submitted_at: DateTime<Utc>,
}

/// `POST /public/forms/{token}` (public, rate limited): submits the answers, once. Each is
/// checked against its field (required fields, checkboxes true/false, a select's options,
/// dates `YYYY-MM-DD`, text lengths); the first problem is a 422 naming the field (`field`).
#[utoipa::path(post, path = "/api/v1/public/forms/{token}", tag = "public", request_body = FormAnswers,
    params(("token" = String, Path, description = "the token of the emailed link")),
    responses((status = 200, body = FormSubmitted), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 413, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody),
              (status = 429, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    RequestId(request_id): RequestId,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<FormAnswers>,
) -> ApiResult<Response> {
    state.limits.public_by_ip.check(&client)?;
    let (form_request_id, workspace_id) = resolve(&state, &token).await?;
    let now = state.clock.now();
    let (view, outcome) = execute!(state.store, workspace_id, &metadata(&request_id), |unit| {
        let (request, template) = load_form(unit, form_request_id, workspace_id).await?;
        let events = form_request::decide(
            &Some(request),
            &SubmitForm {
                template,
                answers: body.answers.clone(),
                at: now,
            }
            .into(),
        )?;
        unit.append(
            form_request::STREAM_TYPE,
            form_request::stream_id(form_request_id),
            &events,
        );
        Ok(FormSubmitted {
            request_id: form_request_id,
            status: "submitted".into(),
            submitted_at: now,
        })
    });
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}
