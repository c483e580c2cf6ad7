//! Events other than bookings: stock, staff invitations, forms, the inbox, the workspace.

use domain::conversation::{Channel as ConversationChannel, ConversationEvent};
use domain::form_request::FormRequestEvent;
use domain::inventory::InventoryEvent;
use domain::notification::{Channel, NotificationKind, RecipientRole};
use domain::user::UserEvent;
use domain::workspace::{WorkspaceAggregate, WorkspaceEvent};
use domain::DomainEvent;
use sqlx::PgConnection;

use super::booking::row;
use super::{summary, Incoming, PlanError, Planner};
use crate::load::load;
use crate::table::{self, Details};

pub(super) async fn low_stock(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let InventoryEvent::LowStockCrossed { item_id, .. } =
        InventoryEvent::from_payload(&event.event_type, event.data.clone())?
    else {
        return Ok(0);
    };
    let (workspace, _) = load::<WorkspaceAggregate>(
        &planner.store,
        &domain::workspace::stream_id(event.workspace_id),
    )
    .await?;
    let workspace = workspace
        .ok_or_else(|| PlanError::Missing(format!("workspace {} not found", event.workspace_id)))?;
    let rows = [row(
        event,
        NotificationKind::LowStock,
        RecipientRole::Owner,
        Channel::Email,
        Some(workspace.owner_id),
        item_id,
        event.time,
        Details::default(),
    )];
    Ok(table::insert(conn, &rows).await?)
}

/// Takes the invited staff member's generated password from the hand-over table (in this
/// transaction: if planning fails, the password stays there for the retry) and keeps it
/// sealed in the notification row, bound to the row id, until the email is sent. The same
/// read-once row `service_runtime::secrets::take_invitation_password` reads; it is taken here
/// on the planning transaction's connection so the take and the row commit together.
pub(super) async fn staff_invited(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let UserEvent::StaffInvited { user_id, .. } =
        UserEvent::from_payload(&event.event_type, event.data.clone())?
    else {
        return Ok(0);
    };
    let mut new_row = row(
        event,
        NotificationKind::StaffInvitation,
        RecipientRole::Staff,
        Channel::Email,
        Some(user_id),
        user_id,
        event.time,
        Details::default(),
    );
    if table::exists(conn, new_row.id).await? {
        return Ok(0);
    }
    let taken: Option<(Vec<u8>, Vec<u8>, bool)> = sqlx::query_as(
        "delete from staff_invitation_secrets where user_id = $1
         returning nonce, ciphertext, expires_at > now()",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((nonce, ciphertext, true)) = taken {
        let password = planner
            .secrets
            .open(user_id.as_bytes(), &nonce, &ciphertext)
            .map_err(|e| PlanError::Secret(e.to_string()))?;
        let sealed = planner
            .secrets
            .seal(new_row.id.as_bytes(), &password)
            .map_err(|e| PlanError::Secret(e.to_string()))?;
        new_row.secret = Some(sealed);
    }
    Ok(table::insert(conn, &[new_row]).await?)
}

/// Takes the form request's link token from its hand-over (`form_request_tokens`, the same
/// read-once columns `service_runtime::form_tokens::take_link_token` reads, here on the
/// planning transaction so the take and the row commit together) and keeps it sealed in the
/// row until the email is sent. Without a token (taken, expired) the email goes out without
/// a link and says so.
pub(super) async fn form_requested(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let FormRequestEvent::FormRequested {
        request_id,
        contact_id,
        ..
    } = FormRequestEvent::from_payload(&event.event_type, event.data.clone())?
    else {
        return Ok(0);
    };
    let mut new_row = row(
        event,
        NotificationKind::FormRequest,
        RecipientRole::Customer,
        Channel::Email,
        Some(contact_id),
        request_id,
        event.time,
        Details::default(),
    );
    if table::exists(conn, new_row.id).await? {
        return Ok(0);
    }
    type Taken = (Option<Vec<u8>>, Option<Vec<u8>>, bool);
    let taken: Option<Taken> = sqlx::query_as(
        "update form_request_tokens t set nonce = null, sealed_token = null
         from (select request_id, nonce, sealed_token from form_request_tokens
               where request_id = $1 for update) old
         where t.request_id = old.request_id
         returning old.nonce, old.sealed_token, t.expires_at > now()",
    )
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((Some(nonce), Some(sealed), true)) = taken {
        let token = planner
            .secrets
            .open(request_id.as_bytes(), &nonce, &sealed)
            .map_err(|e| PlanError::Secret(e.to_string()))?;
        new_row.secret = Some(
            planner
                .secrets
                .seal(new_row.id.as_bytes(), &token)
                .map_err(|e| PlanError::Secret(e.to_string()))?,
        );
    }
    Ok(table::insert(conn, &[new_row]).await?)
}

/// Whether an inbound SMS body opts out (`Some(true)`), back in (`Some(false)`), or neither.
pub fn opt_out_keyword(body: &str) -> Option<bool> {
    match body.trim().to_ascii_uppercase().as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" => Some(true),
        "START" => Some(false),
        _ => None,
    }
}

pub(super) async fn conversation(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let decoded = match ConversationEvent::from_payload(&event.event_type, event.data.clone()) {
        Ok(decoded) => decoded,
        // The published payload may not be readable as is (personal fields encrypted at
        // rest); the event store gives the readable form.
        Err(_) => {
            let stored = planner
                .store
                .event(event.event_id)
                .await
                .map_err(crate::load::LoadError::from)?
                .ok_or_else(|| PlanError::Missing(format!("event {}", event.event_id)))?;
            ConversationEvent::from_payload(&stored.event_type, stored.data)?
        }
    };
    match decoded {
        ConversationEvent::MessageSent {
            conversation_id,
            message_id,
            contact_id,
            channel,
            ..
        } => {
            let channel = match channel {
                ConversationChannel::Email => Channel::Email,
                ConversationChannel::Sms => Channel::Sms,
            };
            let rows = [row(
                event,
                NotificationKind::InboxMessage,
                RecipientRole::Customer,
                channel,
                Some(contact_id),
                message_id,
                event.time,
                Details {
                    conversation_id: Some(conversation_id),
                    ..Details::default()
                },
            )];
            Ok(table::insert(conn, &rows).await?)
        }
        ConversationEvent::MessageReceived {
            contact_id,
            channel: ConversationChannel::Sms,
            body,
            at,
            ..
        } => {
            match body.known().and_then(|b| opt_out_keyword(b.as_str())) {
                Some(true) => {
                    sqlx::query(
                        "insert into notifier.sms_opt_outs (contact_id, workspace_id, opted_out_at)
                         values ($1, $2, $3) on conflict (contact_id) do nothing",
                    )
                    .bind(contact_id)
                    .bind(event.workspace_id)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                    tracing::info!(%contact_id, "contact opted out of SMS");
                }
                Some(false) => {
                    sqlx::query("delete from notifier.sms_opt_outs where contact_id = $1")
                        .bind(contact_id)
                        .execute(&mut *conn)
                        .await?;
                    tracing::info!(%contact_id, "contact opted back in to SMS");
                }
                None => {}
            }
            Ok(0)
        }
        _ => Ok(0),
    }
}

pub(super) async fn workspace(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let decoded = WorkspaceEvent::from_payload(&event.event_type, event.data.clone())?;
    if matches!(decoded, WorkspaceEvent::WorkspaceActivated { .. }) {
        return Ok(0);
    }
    // The workspace as it is now (zone, hour and owner may have changed since the event).
    let (state, _) = load::<WorkspaceAggregate>(
        &planner.store,
        &domain::workspace::stream_id(event.workspace_id),
    )
    .await?;
    let Some(ws) = state else {
        return Err(PlanError::Missing(format!(
            "workspace {} not found",
            event.workspace_id
        )));
    };
    table::drop_pending_of_workspace(conn, ws.id, NotificationKind::DailySummary).await?;
    let after = event.time.max(planner.clock.now());
    let planned = summary::schedule(
        conn,
        ws.id,
        ws.owner_id,
        ws.timezone.tz(),
        ws.settings.daily_summary_hour,
        after,
        event.event_id,
    )
    .await?;
    Ok(u64::from(planned.is_some()))
}

#[cfg(test)]
mod tests {
    use super::opt_out_keyword;

    #[test]
    fn stop_words_are_recognised_trimmed_and_in_any_case() {
        for word in ["STOP", " stop ", "StopAll", "unsubscribe\n"] {
            assert_eq!(opt_out_keyword(word), Some(true), "{word}");
        }
        assert_eq!(opt_out_keyword(" start "), Some(false));
        for word in ["stop please", "STOPP", "", "yes"] {
            assert_eq!(opt_out_keyword(word), None, "{word}");
        }
    }
}
