//! What happened in a conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Channel, Direction};
use crate::event::{event_type_list, event_type_names};
use crate::values::MessageBody;
use crate::{DomainEvent, Personal, PersonalData};

/// Events of the `conversation` stream. Message events carry channel and direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum ConversationEvent {
    ConversationStarted {
        conversation_id: Uuid,
        workspace_id: Uuid,
        contact_id: Uuid,
        channel: Channel,
    },
    MessageReceived {
        conversation_id: Uuid,
        message_id: Uuid,
        contact_id: Uuid,
        channel: Channel,
        direction: Direction,
        body: Personal<MessageBody>,
        at: DateTime<Utc>,
    },
    MessageSent {
        conversation_id: Uuid,
        message_id: Uuid,
        contact_id: Uuid,
        channel: Channel,
        direction: Direction,
        body: Personal<MessageBody>,
        sent_by: Option<Uuid>,
        at: DateTime<Utc>,
    },
    ConversationAssigned {
        conversation_id: Uuid,
        assignee: Option<Uuid>,
    },
    ConversationClosed {
        conversation_id: Uuid,
    },
    ConversationReopened {
        conversation_id: Uuid,
    },
}

event_type_list!(ConversationEvent: ConversationStarted, MessageReceived, MessageSent, ConversationAssigned, ConversationClosed, ConversationReopened);

impl DomainEvent for ConversationEvent {
    event_type_names!(
        ConversationStarted,
        MessageReceived,
        MessageSent,
        ConversationAssigned,
        ConversationClosed,
        ConversationReopened
    );

    fn personal_data(&self) -> Option<PersonalData> {
        match self {
            ConversationEvent::MessageReceived { contact_id, .. }
            | ConversationEvent::MessageSent { contact_id, .. } => Some(PersonalData {
                subject: *contact_id,
                fields: &["body"],
            }),
            _ => None,
        }
    }
}
