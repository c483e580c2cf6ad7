use super::*;
use crate::testing::{given, id, utc};
use crate::values::MessageBody;
use crate::{Aggregate, DomainEvent};

type C = ConversationAggregate;

fn started() -> ConversationEvent {
    ConversationEvent::ConversationStarted {
        conversation_id: id(30),
        workspace_id: id(1),
        contact_id: id(20),
        channel: Channel::Sms,
    }
}
fn body() -> MessageBody {
    MessageBody::parse("Can I move my appointment?").unwrap()
}
fn received() -> ConversationEvent {
    ConversationEvent::MessageReceived {
        conversation_id: id(30),
        message_id: id(31),
        contact_id: id(20),
        channel: Channel::Sms,
        direction: Direction::Inbound,
        body: body().into(),
        at: utc("2026-03-02T09:00:00Z"),
    }
}
fn closed() -> ConversationEvent {
    ConversationEvent::ConversationClosed {
        conversation_id: id(30),
    }
}

#[test]
fn a_conversation_is_started_on_a_channel() {
    given::<C>([])
        .when(StartConversation {
            conversation_id: id(30),
            workspace_id: id(1),
            contact_id: id(20),
            channel: Channel::Sms,
        })
        .then([started()]);
}

#[test]
fn starting_a_conversation_twice_is_refused() {
    given::<C>([started()])
        .when(StartConversation {
            conversation_id: id(30),
            workspace_id: id(1),
            contact_id: id(20),
            channel: Channel::Sms,
        })
        .then_error("already_exists");
}

#[test]
fn an_inbound_message_leaves_the_conversation_unanswered() {
    let state = given::<C>([started()])
        .when(ReceiveMessage {
            message_id: id(31),
            body: body(),
            at: utc("2026-03-02T09:00:00Z"),
        })
        .then([received()]);
    assert!(state.unwrap().is_unanswered());
}

#[test]
fn a_reply_answers_the_conversation() {
    let at = utc("2026-03-02T09:05:00Z");
    let reply = MessageBody::parse("Of course").unwrap();
    let state = given::<C>([started(), received()])
        .when(SendReply {
            message_id: id(32),
            body: reply.clone(),
            sent_by: Some(id(3)),
            at,
        })
        .then([ConversationEvent::MessageSent {
            conversation_id: id(30),
            message_id: id(32),
            contact_id: id(20),
            channel: Channel::Sms,
            direction: Direction::Outbound,
            body: reply.into(),
            sent_by: Some(id(3)),
            at,
        }]);
    assert!(!state.unwrap().is_unanswered());
}

#[test]
fn replying_in_a_closed_conversation_is_refused() {
    given::<C>([started(), closed()])
        .when(SendReply {
            message_id: id(32),
            body: body(),
            sent_by: None,
            at: utc("2026-03-02T09:05:00Z"),
        })
        .then_error("conversation_closed");
}

#[test]
fn an_inbound_message_reopens_a_closed_conversation() {
    given::<C>([started(), closed()])
        .when(ReceiveMessage {
            message_id: id(31),
            body: body(),
            at: utc("2026-03-02T09:00:00Z"),
        })
        .then([
            ConversationEvent::ConversationReopened {
                conversation_id: id(30),
            },
            received(),
        ]);
}

#[test]
fn a_conversation_is_assigned() {
    given::<C>([started()])
        .when(AssignConversation {
            assignee: Some(id(3)),
        })
        .then([ConversationEvent::ConversationAssigned {
            conversation_id: id(30),
            assignee: Some(id(3)),
        }]);
    given::<C>([started(), closed()])
        .when(AssignConversation {
            assignee: Some(id(3)),
        })
        .then_error("conversation_closed");
}

#[test]
fn a_conversation_is_closed_once() {
    given::<C>([started()])
        .when(CloseConversation)
        .then([closed()]);
    given::<C>([started(), closed()])
        .when(CloseConversation)
        .then_error("invalid_transition");
}

#[test]
fn messages_in_an_unknown_conversation_are_refused_as_not_found() {
    given::<C>([])
        .when(CloseConversation)
        .then_error("not_found");
}

#[test]
fn an_erased_message_body_still_replays() {
    let mut payload = received().to_payload();
    assert_eq!(payload["direction"], "inbound");
    assert_eq!(payload["channel"], "sms");
    payload["body"] = serde_json::json!({"erased": true});
    let event = ConversationEvent::from_payload("MessageReceived", payload).unwrap();
    assert!(C::replay([&started(), &event]).unwrap().is_unanswered());
}
