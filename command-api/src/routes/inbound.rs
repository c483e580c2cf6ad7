//! A message from a contact arrives (an inbound email or SMS, the public contact form): it
//! lands on the contact's open conversation for that channel, or reopens their latest
//! closed one, or starts a new one; the contact is found or created first
//! ([`contact_match`]). The conversation is then unanswered until someone replies.
//!
//! The same lookup serves staff who start a conversation ([`conversation_for`]): a contact
//! has at most one open conversation per channel as long as nobody races to start the first
//! one (two appends starting one at the same instant make two; nothing is lost, the inbox
//! shows both).

use chrono::{DateTime, Utc};
use domain::contact::Contact;
use domain::conversation::{
    self, Channel, Conversation, ConversationAggregate, ReceiveMessage, StartConversation,
};
use domain::values::MessageBody;
use uuid::Uuid;

use crate::command::Unit;
use crate::http::{ApiError, ApiResult};
use crate::routes::contact_match::{self, ContactDetails};
use crate::routes::conversations::channel_name;

/// The contact's conversations over `channel`, loaded into `unit`: the open one if any
/// (the newest when a race made two), else the most recently started closed one.
pub async fn conversation_for(
    unit: &mut Unit,
    workspace_id: Uuid,
    contact_id: Uuid,
    channel: Channel,
) -> ApiResult<Option<Conversation>> {
    // Candidates from the log itself (not a read model), so a conversation started by the
    // previous message is always found. `ConversationStarted` carries no personal data.
    let mut ids: Vec<String> = sqlx::query_scalar(
        "select stream_id from events
         where workspace_id = $1 and event_type = 'ConversationStarted'
           and data ->> 'contact_id' = $2 and data ->> 'channel' = $3",
    )
    .bind(workspace_id)
    .bind(contact_id.to_string())
    .bind(channel_name(channel))
    .fetch_all(unit.store().pool())
    .await?;
    ids.sort();
    ids.dedup();
    let loaded = unit.load_many::<ConversationAggregate>(&ids).await?;
    let mut conversations: Vec<Conversation> = loaded
        .into_iter()
        .flatten()
        .filter(|c| {
            c.workspace_id == workspace_id && c.contact_id == contact_id && c.channel == channel
        })
        .collect();
    // Ids are UUIDv7: their order is the order they were started in.
    conversations.sort_by_key(|c| (!c.closed, c.id));
    Ok(conversations.pop())
}

/// An inbound message, parsed.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub channel: Channel,
    pub sender: ContactDetails,
    pub body: MessageBody,
    pub at: DateTime<Utc>,
    /// Ids to use for what may have to be created.
    pub new_contact_id: Uuid,
    pub new_conversation_id: Uuid,
    pub message_id: Uuid,
}

/// Where an inbound message was recorded.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub contact_id: Uuid,
}

/// Records `MessageReceived` (with the contact and conversation when new) in `unit`.
pub async fn receive(
    unit: &mut Unit,
    workspace_id: Uuid,
    inbound: &Inbound,
) -> ApiResult<Received> {
    let contact: Contact =
        contact_match::find_or_create(unit, workspace_id, &inbound.sender, inbound.new_contact_id)
            .await?;
    let existing = conversation_for(unit, workspace_id, contact.id, inbound.channel).await?;
    let (state, mut events) = match existing {
        Some(found) => (Some(found), Vec::new()),
        None => {
            let started = conversation::decide(
                &None,
                &StartConversation {
                    conversation_id: inbound.new_conversation_id,
                    workspace_id,
                    contact_id: contact.id,
                    channel: inbound.channel,
                }
                .into(),
            )?;
            (started.iter().fold(None, conversation::evolve), started)
        }
    };
    let conversation_id = state
        .as_ref()
        .map(|c| c.id)
        .ok_or_else(|| ApiError::internal("conversation missing after start"))?;
    events.extend(conversation::decide(
        &state,
        &ReceiveMessage {
            message_id: inbound.message_id,
            body: inbound.body.clone(),
            at: inbound.at,
        }
        .into(),
    )?);
    unit.append(
        conversation::STREAM_TYPE,
        conversation::stream_id(conversation_id),
        &events,
    );
    Ok(Received {
        conversation_id,
        message_id: inbound.message_id,
        contact_id: contact.id,
    })
}
