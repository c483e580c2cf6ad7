//! The inbox, command side: staff start conversations, reply, assign and close them
//! (owner, or staff with `inbox`). Sending is the notifier's job: it reacts to
//! `MessageSent` and delivers through the conversation's channel; here we only decide and
//! record. Staff touch only conversations assigned to them or to nobody, the same slice
//! the query side shows them (`projections::query::inbox`); any other is "not found".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use domain::contact::{self, Contact, ContactAggregate};
use domain::conversation::{
    self, AssignConversation, Channel, CloseConversation, Conversation, ConversationAggregate,
    ConversationCommand, ConversationEvent, SendReply, StartConversation,
};
use domain::user::{self, UserAggregate};
use domain::values::{MessageBody, Permission};
use domain::{DomainError, Rule};
use projections::query::{self, Scope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::command::Unit;
use crate::execute;
use crate::http::{
    command_response, with_etag, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId,
};
use crate::routes::inbound::conversation_for;
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations", post(start_conversation))
        .route("/conversations/{id}", get(get_conversation))
        .route("/conversations/{id}/messages", post(reply))
        .route("/conversations/{id}/assign", post(assign))
        .route("/conversations/{id}/close", post(close))
}

/// The longest message typed here: by staff, or by a visitor in the contact form (inbound
/// emails may be longer, up to what a message body holds).
pub const MAX_TYPED_CHARS: usize = 5_000;

/// A typed message body: 1 to 5 000 characters once trimmed.
pub fn typed_body(input: &str) -> ApiResult<MessageBody> {
    let body = MessageBody::parse(input)?;
    if body.as_str().chars().count() > MAX_TYPED_CHARS {
        return Err(DomainError::invalid(
            "body",
            format!("body has at most {MAX_TYPED_CHARS} characters"),
        )
        .into());
    }
    Ok(body)
}

/// The wire name of a channel.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

/// A conversation as the commands leave it (the query side's `GET /conversations` adds
/// when the contact has been waiting since).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    pub assignee: Option<Uuid>,
    pub closed: bool,
    /// The last message came from the contact and has no reply yet.
    pub unanswered: bool,
    pub message_count: u32,
    pub created_at: DateTime<Utc>,
}

impl ConversationView {
    fn of(c: &Conversation, created_at: DateTime<Utc>) -> Self {
        Self {
            id: c.id,
            contact_id: c.contact_id,
            channel: channel_name(c.channel).to_string(),
            assignee: c.assignee,
            closed: c.closed,
            unanswered: !c.closed && c.is_unanswered(),
            message_count: c.messages,
            created_at,
        }
    }
}

/// One message (as in `GET /conversations/{id}/messages`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub contact_id: Uuid,
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub body: Option<String>,
    pub sent_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl MessageView {
    /// The message a `MessageSent` records.
    fn sent(events: &[ConversationEvent]) -> ApiResult<Self> {
        events
            .iter()
            .find_map(|e| match e {
                ConversationEvent::MessageSent {
                    conversation_id,
                    message_id,
                    contact_id,
                    channel,
                    body,
                    sent_by,
                    at,
                    ..
                } => Some(MessageView {
                    id: *message_id,
                    conversation_id: *conversation_id,
                    contact_id: *contact_id,
                    channel: channel_name(*channel).to_string(),
                    direction: "outbound".into(),
                    body: body.known().map(|b| b.as_str().to_string()),
                    sent_by: *sent_by,
                    at: *at,
                }),
                _ => None,
            })
            .ok_or_else(|| ApiError::internal("a reply without its message"))
    }
}

/// A started (or continued) conversation and the message that went out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StartedConversation {
    #[serde(flatten)]
    pub conversation: ConversationView,
    pub message: MessageView,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    pub contact_id: Uuid,
    /// `email` or `sms`.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// 1 to 5 000 characters.
    pub body: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// 1 to 5 000 characters.
    pub body: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// A user of the workspace who may use the inbox, or null for nobody.
    pub assignee_id: Option<Uuid>,
}

/// Whether staff may touch the conversation (owners touch every one).
fn in_slice(actor: &Actor, c: &Conversation) -> bool {
    actor.is_owner() || c.assignee.is_none_or(|a| a == actor.user_id)
}

/// Loads a conversation of the actor's workspace and slice (404 otherwise), then checks
/// `If-Match`, so that a hidden conversation does not reveal itself with a 412.
async fn load_visible(
    unit: &mut Unit,
    actor: &Actor,
    conversation_id: Uuid,
    if_match: IfMatch,
) -> ApiResult<Conversation> {
    let stream_id = conversation::stream_id(conversation_id);
    let conversation = unit
        .load_owned::<ConversationAggregate, _>(
            &stream_id,
            actor.workspace_id,
            IfMatch::default(),
            "conversation",
        )
        .await?
        .filter(|c| in_slice(actor, c))
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    if_match.check(unit.version(&stream_id))?;
    Ok(conversation)
}

/// The contact a message goes to, who must be reachable over `channel` (422 otherwise).
async fn reachable_contact(
    unit: &mut Unit,
    workspace_id: Uuid,
    contact_id: Uuid,
    channel: Channel,
) -> ApiResult<Contact> {
    let contact = unit
        .load::<ContactAggregate>(&contact::stream_id(contact_id))
        .await?
        .filter(|c| c.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("contact"))?;
    if contact.erased {
        return Err(DomainError::rule(Rule::ContactErased, "the contact was erased").into());
    }
    let reachable = match channel {
        Channel::Email => contact.email().is_some(),
        Channel::Sms => contact.phone().is_some(),
    };
    if !reachable {
        let what = match channel {
            Channel::Email => "an email address",
            Channel::Sms => "a phone number",
        };
        return Err(ApiError::unprocessable(
            "contact_unreachable",
            format!("the contact has no {what} to send this through"),
        ));
    }
    Ok(contact)
}

/// Decides a reply on `current` and records it; returns the message and the conversation after.
fn record_reply(
    unit: &mut Unit,
    current: conversation::State,
    mut events: Vec<ConversationEvent>,
    reply: SendReply,
) -> ApiResult<(Conversation, MessageView)> {
    let before = events.iter().fold(current, conversation::evolve);
    let sent = conversation::decide(&before, &reply.into())?;
    let message = MessageView::sent(&sent)?;
    let after = sent.iter().fold(before, conversation::evolve);
    events.extend(sent);
    let conversation = after.ok_or_else(|| ApiError::internal("conversation missing"))?;
    unit.append(
        conversation::STREAM_TYPE,
        conversation::stream_id(conversation.id),
        &events,
    );
    Ok((conversation, message))
}

/// `POST /conversations` (owner, staff with `inbox`): writes to a contact over `email` or
/// `sms` (the contact needs an address for it: 422 `contact_unreachable` otherwise). The
/// message goes on the contact's open conversation for that channel when the caller may
/// touch it, otherwise a new conversation is started; either way the answer is 201 with
/// the conversation and the message. The notifier sends it.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "inbox", request_body = NewConversation,
    responses((status = 201, body = StartedConversation), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(contact_id = %body.contact_id))]
pub async fn start_conversation(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<NewConversation>,
) -> ApiResult<Response> {
    actor.require(Permission::Inbox)?;
    let text = typed_body(&body.body)?;
    let new_id = Uuid::now_v7();
    let message_id = Uuid::now_v7();
    let now = state.clock.now();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let contact =
                reachable_contact(unit, actor.workspace_id, body.contact_id, body.channel).await?;
            let open = conversation_for(unit, actor.workspace_id, contact.id, body.channel)
                .await?
                .filter(|c| !c.closed && in_slice(&actor, c));
            let (current, started) = match open {
                Some(c) => (Some(c), Vec::new()),
                None => (
                    None,
                    conversation::decide(
                        &None,
                        &ConversationCommand::Start(StartConversation {
                            conversation_id: new_id,
                            workspace_id: actor.workspace_id,
                            contact_id: contact.id,
                            channel: body.channel,
                        }),
                    )?,
                ),
            };
            let (conversation, message) = record_reply(
                unit,
                current,
                started,
                SendReply {
                    message_id,
                    body: text.clone(),
                    sent_by: Some(actor.user_id),
                    at: now,
                },
            )?;
            let created_at = unit
                .created_at(&conversation::stream_id(conversation.id))
                .unwrap_or(now);
            Ok(StartedConversation {
                conversation: ConversationView::of(&conversation, created_at),
                message,
            })
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &view,
        outcome.as_ref(),
    ))
}

/// `GET /conversations/{id}` (owner, staff with `inbox` in their slice), with its `ETag`.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "inbox",
    params(("id" = Uuid, Path, description = "conversation id")),
    responses((status = 200, body = query::inbox::ConversationView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn get_conversation(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Inbox)?;
    let scope = if actor.is_owner() {
        Scope::owner(actor.workspace_id)
    } else {
        Scope::staff(actor.workspace_id, actor.user_id, actor.permissions)
    };
    let view = query::inbox::get(state.store.pool(), &scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    Ok(with_etag(&view, u64::try_from(view.version).unwrap_or(0)))
}

/// `POST /conversations/{id}/messages`: a reply through the conversation's channel; the
/// conversation is answered from then on. A closed conversation takes no reply (422).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "inbox", request_body = ReplyInput,
    params(("id" = Uuid, Path, description = "conversation id"), crate::openapi::IfMatchHeader),
    responses((status = 201, body = MessageView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 412, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
pub async fn reply(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(conversation_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReplyInput>,
) -> ApiResult<Response> {
    actor.require(Permission::Inbox)?;
    let text = typed_body(&body.body)?;
    let message_id = Uuid::now_v7();
    let now = state.clock.now();
    let (message, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = load_visible(unit, &actor, conversation_id, if_match).await?;
            if current.closed {
                return Err(DomainError::rule(
                    Rule::ConversationClosed,
                    "the conversation is closed",
                )
                .into());
            }
            reachable_contact(
                unit,
                actor.workspace_id,
                current.contact_id,
                current.channel,
            )
            .await?;
            let (_, message) = record_reply(
                unit,
                Some(current),
                Vec::new(),
                SendReply {
                    message_id,
                    body: text.clone(),
                    sent_by: Some(actor.user_id),
                    at: now,
                },
            )?;
            Ok(message)
        }
    );
    Ok(command_response(
        StatusCode::CREATED,
        &message,
        outcome.as_ref(),
    ))
}

/// Applies an assignment or closing to a visible conversation; answers it as it is after.
async fn change(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    conversation_id: Uuid,
    if_match: IfMatch,
    command: ConversationCommand,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(request_id),
        |unit| {
            let current = load_visible(unit, actor, conversation_id, if_match).await?;
            if let ConversationCommand::Assign(AssignConversation {
                assignee: Some(assignee),
            }) = &command
            {
                let user = unit
                    .load::<UserAggregate>(&user::stream_id(*assignee))
                    .await?
                    .filter(|u| u.workspace_id == actor.workspace_id && u.active)
                    .ok_or_else(|| ApiError::not_found("staff member"))?;
                if !user.effective_permissions().has(Permission::Inbox) {
                    return Err(DomainError::invalid(
                        "assignee_id",
                        "this staff member has no access to the inbox",
                    )
                    .into());
                }
            }
            let current = Some(current);
            let events = conversation::decide(&current, &command)?;
            let after = events.iter().fold(current, conversation::evolve);
            let stream_id = conversation::stream_id(conversation_id);
            unit.append(conversation::STREAM_TYPE, stream_id.clone(), &events);
            let created_at = unit.created_at(&stream_id).unwrap_or(now);
            after
                .as_ref()
                .map(|c| ConversationView::of(c, created_at))
                .ok_or_else(|| ApiError::not_found("conversation"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

/// `POST /conversations/{id}/assign`: `{assignee_id}` gives the conversation to a user who
/// may use the inbox, `null` to nobody. Staff may only take it themselves or let it go.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "inbox", request_body = Assignment,
    params(("id" = Uuid, Path, description = "conversation id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = ConversationView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 412, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
pub async fn assign(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(conversation_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Assignment>,
) -> ApiResult<Response> {
    actor.require(Permission::Inbox)?;
    if !actor.is_owner() && body.assignee_id.is_some_and(|id| id != actor.user_id) {
        return Err(ApiError::forbidden(
            "staff assign conversations to themselves only",
        ));
    }
    let command = ConversationCommand::Assign(AssignConversation {
        assignee: body.assignee_id,
    });
    change(
        &state,
        &actor,
        &request_id,
        conversation_id,
        if_match,
        command,
    )
    .await
}

/// `POST /conversations/{id}/close`: done; the next message from the contact reopens it.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/close", tag = "inbox",
    params(("id" = Uuid, Path, description = "conversation id"), crate::openapi::IfMatchHeader),
    responses((status = 200, body = ConversationView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 401, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 412, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
pub async fn close(
    State(state): State<AppState>,
    actor: Actor,
    if_match: IfMatch,
    RequestId(request_id): RequestId,
    ApiPath(conversation_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Inbox)?;
    change(
        &state,
        &actor,
        &request_id,
        conversation_id,
        if_match,
        ConversationCommand::Close(CloseConversation),
    )
    .await
}
