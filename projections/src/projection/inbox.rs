//! The inbox: conversations (assignment, open/closed, unanswered since when) and messages.

use chrono::{DateTime, Utc};
use domain::contact::ContactEvent;
use domain::conversation::{Channel, ConversationEvent, Direction};
use domain::values::MessageBody;
use domain::Personal;
use event_store::RecordedEvent;
use serde_json::json;
use uuid::Uuid;

use super::plan::{Key, Plan};
use super::{personal, version};

const START: &str = "
    insert into {s}.conversations (workspace_id, id, contact_id, channel, created_at,
        updated_at, version)
    select workspace_id, id, contact_id, channel, created_at, updated_at, version
    from jsonb_populate_recordset(null::{s}.conversations, $1) r";

const INSERT_MESSAGE: &str = "
    insert into {s}.messages (workspace_id, id, conversation_id, contact_id, channel, direction,
        body, sent_by, at, feed_position)
    select workspace_id, id, conversation_id, contact_id, channel, direction, body, sent_by, at,
        feed_position
    from jsonb_populate_recordset(null::{s}.messages, $1) r";

/// A message on its conversation: an inbound message starts (or continues) waiting for an
/// answer, a reply ends it. `last_message_at` carries the message's time.
const COUNT_MESSAGE: &str = "
    update {s}.conversations c set last_direction = r.last_direction,
        unanswered_since = case when r.last_direction = 'inbound'
            then coalesce(c.unanswered_since, r.last_message_at) end,
        last_message_at = greatest(c.last_message_at, r.last_message_at),
        message_count = c.message_count + 1, updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.conversations, $1) r where c.id = r.id";

const ASSIGN: &str = "
    update {s}.conversations c set assignee = r.assignee, updated_at = r.updated_at,
        version = r.version
    from jsonb_populate_recordset(null::{s}.conversations, $1) r where c.id = r.id";

const SET_CLOSED: &str = "
    update {s}.conversations c set closed = r.closed, updated_at = r.updated_at,
        version = r.version
    from jsonb_populate_recordset(null::{s}.conversations, $1) r where c.id = r.id";

const ERASE_BODIES: &str = "
    update {s}.messages set body = null
    where contact_id = any(array(
        select contact_id from jsonb_populate_recordset(null::{s}.messages, $1) r))";

fn conversation(id: Uuid) -> Key {
    Key("conversation", id)
}

/// The bodies of every message of a contact (what an erasure blanks).
fn bodies_of(contact_id: Uuid) -> Key {
    Key("message_bodies_of_contact", contact_id)
}

pub(crate) fn channel_str(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &ConversationEvent) {
    match ev {
        ConversationEvent::ConversationStarted {
            conversation_id,
            workspace_id,
            contact_id,
            channel,
        } => plan.add(
            START,
            &[conversation(*conversation_id)],
            json!({
                "workspace_id": workspace_id,
                "id": conversation_id,
                "contact_id": contact_id,
                "channel": channel_str(*channel),
                "created_at": e.recorded_at,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        ConversationEvent::MessageReceived {
            conversation_id,
            message_id,
            contact_id,
            channel,
            body,
            at,
            ..
        } => add_message(
            plan,
            e,
            &Message {
                conversation_id: *conversation_id,
                message_id: *message_id,
                contact_id: *contact_id,
                channel: *channel,
                direction: Direction::Inbound,
                body,
                sent_by: None,
                at: *at,
            },
        ),
        ConversationEvent::MessageSent {
            conversation_id,
            message_id,
            contact_id,
            channel,
            body,
            sent_by,
            at,
            ..
        } => add_message(
            plan,
            e,
            &Message {
                conversation_id: *conversation_id,
                message_id: *message_id,
                contact_id: *contact_id,
                channel: *channel,
                direction: Direction::Outbound,
                body,
                sent_by: *sent_by,
                at: *at,
            },
        ),
        ConversationEvent::ConversationAssigned {
            conversation_id,
            assignee,
        } => plan.add_overwrite(
            ASSIGN,
            conversation(*conversation_id),
            json!({
                "id": conversation_id,
                "assignee": assignee,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        ConversationEvent::ConversationClosed { conversation_id } => {
            set_closed(plan, e, *conversation_id, true)
        }
        ConversationEvent::ConversationReopened { conversation_id } => {
            set_closed(plan, e, *conversation_id, false)
        }
    }
}

struct Message<'a> {
    conversation_id: Uuid,
    message_id: Uuid,
    contact_id: Uuid,
    channel: Channel,
    direction: Direction,
    body: &'a Personal<MessageBody>,
    sent_by: Option<Uuid>,
    at: DateTime<Utc>,
}

fn add_message(plan: &mut Plan, e: &RecordedEvent, m: &Message<'_>) {
    let direction = match m.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    };
    plan.add(
        INSERT_MESSAGE,
        &[Key("message", m.message_id), bodies_of(m.contact_id)],
        json!({
            "workspace_id": e.workspace_id,
            "id": m.message_id,
            "conversation_id": m.conversation_id,
            "contact_id": m.contact_id,
            "channel": channel_str(m.channel),
            "direction": direction,
            "body": personal(m.body, |b| b.as_str().to_owned()),
            "sent_by": m.sent_by,
            "at": m.at,
            "feed_position": e.position,
        }),
    );
    plan.add(
        COUNT_MESSAGE,
        &[conversation(m.conversation_id)],
        json!({
            "id": m.conversation_id,
            "last_direction": direction,
            "last_message_at": m.at,
            "updated_at": e.recorded_at,
            "version": version(e),
        }),
    );
}

fn set_closed(plan: &mut Plan, e: &RecordedEvent, conversation_id: Uuid, closed: bool) {
    plan.add_overwrite(
        SET_CLOSED,
        conversation(conversation_id),
        json!({
            "id": conversation_id,
            "closed": closed,
            "updated_at": e.recorded_at,
            "version": version(e),
        }),
    );
}

/// Erasing a contact removes their message bodies.
pub(crate) fn apply_contact(plan: &mut Plan, ev: &ContactEvent) {
    if let ContactEvent::ContactErased { contact_id } = ev {
        plan.add(
            ERASE_BODIES,
            &[bodies_of(*contact_id)],
            json!({ "contact_id": contact_id }),
        );
    }
}
