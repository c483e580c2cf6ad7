//! The bookings calendar: one row per booking with its current status and times, and what
//! it holds in its staff member's calendar (buffers as booked, the local dates of its
//! calendar streams), from which the public availability is computed.

use domain::booking::{BookingEvent, BookingSource};
use domain::contact::ContactEvent;
use domain::values::Minutes;
use event_store::RecordedEvent;
use sqlx::PgConnection;

use super::{personal, version};

pub(crate) async fn apply(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &BookingEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        BookingEvent::BookingCreated {
            booking_id,
            workspace_id,
            service_id,
            staff_id,
            contact_id,
            start,
            end,
            price,
            status,
            source,
            notes,
            buffer_before_minutes,
            buffer_after_minutes,
            calendar_dates,
            ..
        } => {
            let source = match source {
                BookingSource::Public => "public",
                BookingSource::Staff { .. } => "staff",
            };
            sqlx::query(&format!(
                "insert into {s}.bookings (workspace_id, id, status, service_id, staff_id,
                    contact_id, start_at, end_at, price_cents, currency, notes, source,
                    created_at, updated_at, version, buffer_before_minutes,
                    buffer_after_minutes, calendar_dates)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15,
                    $16, $17)"
            ))
            .bind(workspace_id)
            .bind(booking_id)
            .bind(status.as_str())
            .bind(service_id)
            .bind(staff_id)
            .bind(contact_id)
            .bind(start)
            .bind(end)
            .bind(price.cents())
            .bind(price.currency().code())
            .bind(personal(notes, |n| n.as_ref().map(|n| n.as_str().to_owned())).flatten())
            .bind(source)
            .bind(e.recorded_at)
            .bind(version(e))
            .bind(minutes(*buffer_before_minutes))
            .bind(minutes(*buffer_after_minutes))
            .bind(calendar_dates)
            .execute(conn)
            .await?;
        }
        BookingEvent::BookingConfirmed { booking_id } => {
            set_status(conn, s, e, *booking_id, "confirmed").await?
        }
        BookingEvent::BookingCancelled { booking_id, .. } => {
            set_status(conn, s, e, *booking_id, "cancelled").await?
        }
        BookingEvent::BookingCompleted { booking_id, .. } => {
            set_status(conn, s, e, *booking_id, "completed").await?
        }
        BookingEvent::BookingNoShow { booking_id } => {
            set_status(conn, s, e, *booking_id, "no_show").await?
        }
        BookingEvent::BookingRescheduled {
            booking_id,
            new_start,
            new_end,
            new_staff_id,
            calendar_dates,
            ..
        } => {
            sqlx::query(&format!(
                "update {s}.bookings set start_at = $2, end_at = $3, staff_id = $4,
                    updated_at = $5, version = $6, calendar_dates = $7
                 where id = $1"
            ))
            .bind(booking_id)
            .bind(new_start)
            .bind(new_end)
            .bind(new_staff_id)
            .bind(e.recorded_at)
            .bind(version(e))
            .bind(calendar_dates)
            .execute(conn)
            .await?;
        }
        BookingEvent::ReminderSent { booking_id, .. }
        | BookingEvent::FollowUpSent { booking_id, .. } => {
            // Not shown, but the stream moved on: keep the ETag in step.
            sqlx::query(&format!(
                "update {s}.bookings set version = $2 where id = $1"
            ))
            .bind(booking_id)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// A buffer's length as stored (buffers are at most a few hours).
fn minutes(m: Minutes) -> i32 {
    i32::try_from(m.get()).unwrap_or(i32::MAX)
}

async fn set_status(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    booking_id: uuid::Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "update {s}.bookings set status = $2, updated_at = $3, version = $4 where id = $1"
    ))
    .bind(booking_id)
    .bind(status)
    .bind(e.recorded_at)
    .bind(version(e))
    .execute(conn)
    .await?;
    Ok(())
}

/// Erasing a contact removes the personal part of their bookings (the notes).
pub(crate) async fn apply_contact(
    conn: &mut PgConnection,
    s: &str,
    ev: &ContactEvent,
) -> Result<(), sqlx::Error> {
    if let ContactEvent::ContactErased { contact_id } = ev {
        sqlx::query(&format!(
            "update {s}.bookings set notes = null where contact_id = $1"
        ))
        .bind(contact_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}
