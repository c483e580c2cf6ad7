//! The public contact form (`POST /public/{slug}/messages`): a visitor writes to the
//! business without logging in. Like an inbound email, the message lands on the contact's
//! open email conversation (found by email, or created), unanswered until staff reply.
//! Rate limited per client address like public booking; only active workspaces take it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use domain::conversation::Channel;
use domain::values::{Email, PersonName, Phone};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::Unit;
use crate::execute;
use crate::http::{command_response, ApiJson, ApiPath, ApiResult, ClientIp, RequestId};
use crate::routes::contact_match::ContactDetails;
use crate::routes::conversations::typed_body;
use crate::routes::inbound::{self, Inbound};
use crate::routes::public::{active_workspace, metadata};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/public/{slug}/messages", post(contact_form))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFormInput {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// 1 to 5 000 characters.
    pub body: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactFormAccepted {
    pub conversation_id: Uuid,
}

/// `POST /public/{slug}/messages` (public, rate limited): the contact form. The visitor is
/// matched to a contact by email (created when new; a known contact's details are not
/// changed), and the message starts an unanswered conversation, or joins the contact's
/// open email conversation. 202 `{conversation_id}`.
#[utoipa::path(post, path = "/api/v1/public/{slug}/messages", tag = "public", request_body = ContactFormInput,
    params(("slug" = String, Path, description = "the workspace's address")),
    responses((status = 202, body = ContactFormAccepted), (status = 400, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 413, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody),
              (status = 429, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all, fields(slug = %slug))]
pub async fn contact_form(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    RequestId(request_id): RequestId,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<ContactFormInput>,
) -> ApiResult<Response> {
    state.limits.public_by_ip.check(&client)?;
    let message = Inbound {
        channel: Channel::Email,
        sender: ContactDetails {
            name: PersonName::parse(&body.name)?,
            email: Some(Email::parse(&body.email)?),
            phone: body.phone.as_deref().map(Phone::parse).transpose()?,
        },
        body: typed_body(&body.body)?,
        at: state.clock.now(),
        new_contact_id: Uuid::now_v7(),
        new_conversation_id: Uuid::now_v7(),
        message_id: Uuid::now_v7(),
    };
    let workspace_id = active_workspace(&mut Unit::new(state.store.clone()), &slug)
        .await?
        .id;
    let (received, outcome) = execute!(state.store, workspace_id, &metadata(&request_id), |unit| {
        inbound::receive(unit, workspace_id, &message).await
    });
    Ok(command_response(
        StatusCode::ACCEPTED,
        &ContactFormAccepted {
            conversation_id: received.conversation_id,
        },
        outcome.as_ref(),
    ))
}
