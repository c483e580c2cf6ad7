//! Conversation decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

/// Decide a conversation command.
pub fn decide(
    state: &State,
    command: &ConversationCommand,
) -> Result<Vec<ConversationEvent>, DomainError> {
    let c = match (state, command) {
        (Some(_), ConversationCommand::Start(_)) => {
            return Err(DomainError::conflict(
                Conflict::AlreadyExists,
                "the conversation already exists",
            ))
        }
        (None, ConversationCommand::Start(s)) => {
            return Ok(vec![ConversationEvent::ConversationStarted {
                conversation_id: s.conversation_id,
                workspace_id: s.workspace_id,
                contact_id: s.contact_id,
                channel: s.channel,
            }])
        }
        (None, _) => return Err(DomainError::not_found(Entity::Conversation, "")),
        (Some(c), _) => c,
    };
    let closed = || DomainError::rule(Rule::ConversationClosed, "the conversation is closed");
    match command {
        ConversationCommand::Start(_) => Ok(vec![]),
        ConversationCommand::Receive(m) => {
            let mut events = vec![];
            if c.closed {
                events.push(ConversationEvent::ConversationReopened {
                    conversation_id: c.id,
                });
            }
            events.push(ConversationEvent::MessageReceived {
                conversation_id: c.id,
                message_id: m.message_id,
                contact_id: c.contact_id,
                channel: c.channel,
                direction: Direction::Inbound,
                body: m.body.clone().into(),
                at: m.at,
            });
            Ok(events)
        }
        ConversationCommand::Reply(m) => {
            if c.closed {
                return Err(closed());
            }
            Ok(vec![ConversationEvent::MessageSent {
                conversation_id: c.id,
                message_id: m.message_id,
                contact_id: c.contact_id,
                channel: c.channel,
                direction: Direction::Outbound,
                body: m.body.clone().into(),
                sent_by: m.sent_by,
                at: m.at,
            }])
        }
        ConversationCommand::Assign(a) => {
            if c.closed {
                return Err(closed());
            }
            if c.assignee == a.assignee {
                return Ok(vec![]);
            }
            Ok(vec![ConversationEvent::ConversationAssigned {
                conversation_id: c.id,
                assignee: a.assignee,
            }])
        }
        ConversationCommand::Close(_) => {
            if c.closed {
                return Err(DomainError::transition(
                    "the conversation is already closed",
                ));
            }
            Ok(vec![ConversationEvent::ConversationClosed {
                conversation_id: c.id,
            }])
        }
    }
}

/// Apply a conversation event.
pub fn evolve(state: State, event: &ConversationEvent) -> State {
    let mut c = match (state, event) {
        (
            _,
            ConversationEvent::ConversationStarted {
                conversation_id,
                workspace_id,
                contact_id,
                channel,
            },
        ) => {
            return Some(Conversation {
                id: *conversation_id,
                workspace_id: *workspace_id,
                contact_id: *contact_id,
                channel: *channel,
                assignee: None,
                closed: false,
                last_direction: None,
                messages: 0,
            })
        }
        (None, _) => return None,
        (Some(c), _) => c,
    };
    match event {
        ConversationEvent::ConversationStarted { .. } => {}
        ConversationEvent::MessageReceived { direction, .. }
        | ConversationEvent::MessageSent { direction, .. } => {
            c.last_direction = Some(*direction);
            c.messages += 1;
        }
        ConversationEvent::ConversationAssigned { assignee, .. } => c.assignee = *assignee,
        ConversationEvent::ConversationClosed { .. } => c.closed = true,
        ConversationEvent::ConversationReopened { .. } => c.closed = false,
    }
    Some(c)
}
