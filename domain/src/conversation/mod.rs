//! Inbox conversations with a contact over one channel (email or SMS).
//!
//! Stream `conversation-<id>`. A conversation is unanswered while its last message is inbound.
//! Message bodies are personal data of the contact.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::ConversationEvent;

/// Stream type of conversations.
pub const STREAM_TYPE: &str = "conversation";

/// `conversation-<id>`.
pub fn stream_id(conversation_id: Uuid) -> String {
    format!("conversation-{conversation_id}")
}

/// How messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A conversation (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub contact_id: Uuid,
    pub channel: Channel,
    pub assignee: Option<Uuid>,
    pub closed: bool,
    pub last_direction: Option<Direction>,
    pub messages: u32,
}

impl Conversation {
    /// The last message came from the contact and nobody replied yet.
    pub fn is_unanswered(&self) -> bool {
        self.last_direction == Some(Direction::Inbound)
    }
}

/// The state of a conversation stream: `None` until started.
pub type State = Option<Conversation>;

/// The conversation aggregate.
pub struct ConversationAggregate;

impl crate::Aggregate for ConversationAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = ConversationCommand;
    type Event = ConversationEvent;

    fn decide(
        state: &State,
        command: &ConversationCommand,
    ) -> Result<Vec<ConversationEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &ConversationEvent) -> State {
        evolve(state, event)
    }
}
