//! The inbox: conversations (assignment, open/closed, unanswered since when) and messages.

use chrono::{DateTime, Utc};
use domain::contact::ContactEvent;
use domain::conversation::{Channel, ConversationEvent, Direction};
use domain::values::MessageBody;
use domain::Personal;
use event_store::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{personal, version};

pub(crate) fn channel_str(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

pub(crate) async fn apply(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &ConversationEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        ConversationEvent::ConversationStarted {
            conversation_id,
            workspace_id,
            contact_id,
            channel,
        } => {
            sqlx::query(&format!(
                "insert into {s}.conversations (workspace_id, id, contact_id, channel,
                    created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $5, $6)"
            ))
            .bind(workspace_id)
            .bind(conversation_id)
            .bind(contact_id)
            .bind(channel_str(*channel))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        ConversationEvent::MessageReceived {
            conversation_id,
            message_id,
            contact_id,
            channel,
            body,
            at,
            ..
        } => {
            let message = Message {
                conversation_id: *conversation_id,
                message_id: *message_id,
                contact_id: *contact_id,
                channel: *channel,
                direction: Direction::Inbound,
                body,
                sent_by: None,
                at: *at,
            };
            add_message(conn, s, e, &message).await?;
        }
        ConversationEvent::MessageSent {
            conversation_id,
            message_id,
            contact_id,
            channel,
            body,
            sent_by,
            at,
            ..
        } => {
            let message = Message {
                conversation_id: *conversation_id,
                message_id: *message_id,
                contact_id: *contact_id,
                channel: *channel,
                direction: Direction::Outbound,
                body,
                sent_by: *sent_by,
                at: *at,
            };
            add_message(conn, s, e, &message).await?;
        }
        ConversationEvent::ConversationAssigned {
            conversation_id,
            assignee,
        } => {
            update(
                conn,
                s,
                e,
                *conversation_id,
                "assignee = $4",
                Some(*assignee),
            )
            .await?;
        }
        ConversationEvent::ConversationClosed { conversation_id } => {
            update(conn, s, e, *conversation_id, "closed = true", None).await?;
        }
        ConversationEvent::ConversationReopened { conversation_id } => {
            update(conn, s, e, *conversation_id, "closed = false", None).await?;
        }
    }
    Ok(())
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

async fn add_message(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    m: &Message<'_>,
) -> Result<(), sqlx::Error> {
    let direction = match m.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    };
    sqlx::query(&format!(
        "insert into {s}.messages (workspace_id, id, conversation_id, contact_id, channel,
            direction, body, sent_by, at, feed_position)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(e.workspace_id)
    .bind(m.message_id)
    .bind(m.conversation_id)
    .bind(m.contact_id)
    .bind(channel_str(m.channel))
    .bind(direction)
    .bind(personal(m.body, |b| b.as_str().to_owned()))
    .bind(m.sent_by)
    .bind(m.at)
    .bind(e.position)
    .execute(&mut *conn)
    .await?;
    // An inbound message starts (or continues) waiting for an answer; a reply ends it.
    let unanswered = match m.direction {
        Direction::Inbound => "coalesce(unanswered_since, $4)",
        Direction::Outbound => "null",
    };
    sqlx::query(&format!(
        "update {s}.conversations set last_direction = $5, unanswered_since = {unanswered},
            last_message_at = greatest(last_message_at, $4), message_count = message_count + 1,
            updated_at = $2, version = $3
         where id = $1"
    ))
    .bind(m.conversation_id)
    .bind(e.recorded_at)
    .bind(version(e))
    .bind(m.at)
    .bind(direction)
    .execute(conn)
    .await?;
    Ok(())
}

async fn update(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    conversation_id: Uuid,
    set: &str,
    assignee: Option<Option<Uuid>>,
) -> Result<(), sqlx::Error> {
    let sql =
        format!("update {s}.conversations set {set}, updated_at = $2, version = $3 where id = $1");
    let mut query = sqlx::query(&sql)
        .bind(conversation_id)
        .bind(e.recorded_at)
        .bind(version(e));
    if let Some(assignee) = assignee {
        query = query.bind(assignee);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Erasing a contact removes their message bodies.
pub(crate) async fn apply_contact(
    conn: &mut PgConnection,
    s: &str,
    ev: &ContactEvent,
) -> Result<(), sqlx::Error> {
    if let ContactEvent::ContactErased { contact_id } = ev {
        sqlx::query(&format!(
            "update {s}.messages set body = null where contact_id = $1"
        ))
        .bind(contact_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}
