//! Booking events: confirmations and notices now, reminders and the follow-up later.

use chrono::{DateTime, Duration, Utc};
use domain::booking::{Booking, BookingAggregate, BookingEvent, BookingStatus};
use domain::notification::{Channel, NotificationKind, RecipientRole};
use domain::workspace::{Workspace, WorkspaceAggregate};
use domain::DomainEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Incoming, PlanError, Planner};
use crate::ids::notification_id;
use crate::load::load;
use crate::table::{self, Details, NewRow};

/// Builds one row caused by `event`.
#[allow(clippy::too_many_arguments)]
pub(super) fn row(
    event: &Incoming,
    kind: NotificationKind,
    role: RecipientRole,
    channel: Channel,
    recipient_id: Option<Uuid>,
    subject_id: Uuid,
    due_at: DateTime<Utc>,
    details: Details,
) -> NewRow {
    NewRow {
        id: notification_id(event.event_id, kind, role, channel, details.offset_minutes),
        workspace_id: event.workspace_id,
        kind,
        channel,
        role,
        recipient_id,
        subject_id,
        cause_event_id: event.event_id,
        correlation_id: event.correlation_id.clone(),
        details,
        secret: None,
        due_at,
    }
}

/// The customer's email and SMS of one kind, due now.
fn to_customer(
    event: &Incoming,
    kind: NotificationKind,
    booking_id: Uuid,
    contact_id: Uuid,
) -> Vec<NewRow> {
    [Channel::Email, Channel::Sms]
        .into_iter()
        .map(|channel| {
            row(
                event,
                kind,
                RecipientRole::Customer,
                channel,
                Some(contact_id),
                booking_id,
                event.time,
                Details::default(),
            )
        })
        .collect()
}

/// Reminders (email and SMS) at start − each offset, except those already due when the
/// booking was made or moved.
fn reminders(
    event: &Incoming,
    workspace: &Workspace,
    booking_id: Uuid,
    contact_id: Uuid,
    start: DateTime<Utc>,
) -> Vec<NewRow> {
    let mut rows = Vec::new();
    for offset in &workspace.settings.reminder_offsets_minutes {
        let due = start - Duration::minutes(i64::from(offset.get()));
        if due <= event.time {
            continue;
        }
        for channel in [Channel::Email, Channel::Sms] {
            rows.push(row(
                event,
                NotificationKind::Reminder,
                RecipientRole::Customer,
                channel,
                Some(contact_id),
                booking_id,
                due,
                Details {
                    offset_minutes: Some(offset.get()),
                    start: Some(start),
                    ..Details::default()
                },
            ));
        }
    }
    rows
}

async fn workspace(planner: &Planner, workspace_id: Uuid) -> Result<Workspace, PlanError> {
    let (state, _) =
        load::<WorkspaceAggregate>(&planner.store, &domain::workspace::stream_id(workspace_id))
            .await?;
    state.ok_or_else(|| PlanError::Missing(format!("workspace {workspace_id} not found")))
}

async fn booking(planner: &Planner, booking_id: Uuid) -> Result<Booking, PlanError> {
    let (state, _) =
        load::<BookingAggregate>(&planner.store, &domain::booking::stream_id(booking_id)).await?;
    state.ok_or_else(|| PlanError::Missing(format!("booking {booking_id} not found")))
}

/// Takes a public booking's manage token from its hand-over (`booking_manage_tokens`, the
/// read-once columns `service_runtime::manage_tokens::take_manage_token` reads, here on the
/// planning transaction so the take and the rows commit together). The customer's rows of
/// the booking keep it sealed (bound to each row id) for the manage/cancel link; bookings
/// made by staff have none, and their messages link to the booking page.
async fn take_manage_token(
    planner: &Planner,
    conn: &mut PgConnection,
    booking_id: Uuid,
) -> Result<Option<String>, PlanError> {
    type Taken = (Option<Vec<u8>>, Option<Vec<u8>>);
    let taken: Option<Taken> = sqlx::query_as(
        "update booking_manage_tokens t set nonce = null, sealed_token = null
         from (select booking_id, nonce, sealed_token from booking_manage_tokens
               where booking_id = $1 for update) old
         where t.booking_id = old.booking_id
         returning old.nonce, old.sealed_token",
    )
    .bind(booking_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((Some(nonce), Some(sealed))) = taken else {
        return Ok(None);
    };
    let token = planner
        .secrets
        .open(booking_id.as_bytes(), &nonce, &sealed)
        .map_err(|e| PlanError::Secret(e.to_string()))?;
    String::from_utf8(token)
        .map(Some)
        .map_err(|_| PlanError::Secret("the manage token is not text".into()))
}

const TIMERS: [NotificationKind; 2] = [NotificationKind::Reminder, NotificationKind::FollowUp];

pub(super) async fn plan(
    planner: &Planner,
    conn: &mut PgConnection,
    event: &Incoming,
) -> Result<u64, PlanError> {
    let booking_event = BookingEvent::from_payload(&event.event_type, event.data.clone())?;
    let rows = match booking_event {
        BookingEvent::BookingCreated {
            booking_id,
            staff_id,
            contact_id,
            start,
            status,
            ..
        } => {
            let ws = workspace(planner, event.workspace_id).await?;
            let kind = if status == BookingStatus::Pending {
                NotificationKind::BookingRequested
            } else {
                NotificationKind::BookingConfirmation
            };
            let mut rows = to_customer(event, kind, booking_id, contact_id);
            rows.push(row(
                event,
                NotificationKind::NewBooking,
                RecipientRole::Owner,
                Channel::Email,
                Some(ws.owner_id),
                booking_id,
                event.time,
                Details::default(),
            ));
            if staff_id != ws.owner_id {
                rows.push(row(
                    event,
                    NotificationKind::NewBooking,
                    RecipientRole::Staff,
                    Channel::Email,
                    Some(staff_id),
                    booking_id,
                    event.time,
                    Details::default(),
                ));
            }
            rows.extend(reminders(event, &ws, booking_id, contact_id, start));
            if let Some(token) = take_manage_token(planner, conn, booking_id).await? {
                for row in rows
                    .iter_mut()
                    .filter(|r| r.role == RecipientRole::Customer)
                {
                    row.secret = Some(
                        planner
                            .secrets
                            .seal(row.id.as_bytes(), token.as_bytes())
                            .map_err(|e| PlanError::Secret(e.to_string()))?,
                    );
                }
            }
            rows
        }
        BookingEvent::BookingConfirmed { booking_id } => {
            let b = booking(planner, booking_id).await?;
            to_customer(
                event,
                NotificationKind::BookingConfirmation,
                booking_id,
                b.contact_id,
            )
        }
        BookingEvent::BookingRescheduled {
            booking_id,
            new_start,
            new_staff_id,
            ..
        } => {
            let ws = workspace(planner, event.workspace_id).await?;
            let b = booking(planner, booking_id).await?;
            table::drop_pending(conn, booking_id, &[NotificationKind::Reminder]).await?;
            let mut rows = to_customer(
                event,
                NotificationKind::BookingRescheduled,
                booking_id,
                b.contact_id,
            );
            rows.push(row(
                event,
                NotificationKind::BookingRescheduled,
                RecipientRole::Staff,
                Channel::Email,
                Some(new_staff_id),
                booking_id,
                event.time,
                Details::default(),
            ));
            rows.extend(reminders(event, &ws, booking_id, b.contact_id, new_start));
            rows
        }
        BookingEvent::BookingCancelled { booking_id, .. } => {
            let b = booking(planner, booking_id).await?;
            table::drop_pending(conn, booking_id, &TIMERS).await?;
            let mut rows = to_customer(
                event,
                NotificationKind::BookingCancelled,
                booking_id,
                b.contact_id,
            );
            rows.push(row(
                event,
                NotificationKind::BookingCancelled,
                RecipientRole::Staff,
                Channel::Email,
                Some(b.staff_id),
                booking_id,
                event.time,
                Details::default(),
            ));
            rows
        }
        BookingEvent::BookingCompleted { booking_id, .. } => {
            let ws = workspace(planner, event.workspace_id).await?;
            let b = booking(planner, booking_id).await?;
            table::drop_pending(conn, booking_id, &[NotificationKind::Reminder]).await?;
            let delay = Duration::minutes(i64::from(ws.settings.follow_up_delay_minutes.get()));
            vec![row(
                event,
                NotificationKind::FollowUp,
                RecipientRole::Customer,
                Channel::Email,
                Some(b.contact_id),
                booking_id,
                b.end() + delay,
                Details {
                    start: Some(b.start()),
                    ..Details::default()
                },
            )]
        }
        BookingEvent::BookingNoShow { booking_id } => {
            table::drop_pending(conn, booking_id, &[NotificationKind::Reminder]).await?;
            vec![]
        }
        BookingEvent::ReminderSent { .. } | BookingEvent::FollowUpSent { .. } => vec![],
    };
    Ok(table::insert(conn, &rows).await?)
}
