//! What one may ask of a conversation.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Channel;
use crate::aggregate::commands;
use crate::values::MessageBody;

/// Open a conversation with a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct StartConversation {
    pub conversation_id: Uuid,
    pub workspace_id: Uuid,
    pub contact_id: Uuid,
    pub channel: Channel,
}

/// A message arrived from the contact (reopens a closed conversation).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveMessage {
    pub message_id: Uuid,
    pub body: MessageBody,
    pub at: DateTime<Utc>,
}

/// A reply goes out through the conversation's channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SendReply {
    pub message_id: Uuid,
    pub body: MessageBody,
    pub sent_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Give the conversation to a user (or nobody).
#[derive(Debug, Clone, PartialEq)]
pub struct AssignConversation {
    pub assignee: Option<Uuid>,
}

/// Close the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseConversation;

commands!(
    /// Every conversation intent.
    ConversationCommand {
        Start(StartConversation),
        Receive(ReceiveMessage),
        Reply(SendReply),
        Assign(AssignConversation),
        Close(CloseConversation),
    }
);
