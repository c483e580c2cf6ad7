//! The bookings calendar: one row per booking with its current status and times, and what
//! it holds in its staff member's calendar (buffers as booked, the local dates of its
//! calendar streams), from which the public availability is computed.

use domain::booking::{BookingEvent, BookingSource};
use domain::contact::ContactEvent;
use domain::values::Minutes;
use event_store::RecordedEvent;
use serde_json::json;
use uuid::Uuid;

use super::plan::{Key, Plan};
use super::{personal, version};

const INSERT: &str = "
    insert into {s}.bookings (workspace_id, id, status, service_id, staff_id, contact_id,
        start_at, end_at, price_cents, currency, notes, source, created_at, updated_at,
        version, buffer_before_minutes, buffer_after_minutes, calendar_dates)
    select workspace_id, id, status, service_id, staff_id, contact_id, start_at, end_at,
        price_cents, currency, notes, source, created_at, updated_at, version,
        buffer_before_minutes, buffer_after_minutes, calendar_dates::date[]
    from jsonb_populate_recordset(null::{s}.bookings, $1) r";

const SET_STATUS: &str = "
    update {s}.bookings b set status = r.status, updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.bookings, $1) r where b.id = r.id";

const RESCHEDULE: &str = "
    update {s}.bookings b set start_at = r.start_at, end_at = r.end_at, staff_id = r.staff_id,
        updated_at = r.updated_at, version = r.version, calendar_dates = r.calendar_dates::date[]
    from jsonb_populate_recordset(null::{s}.bookings, $1) r where b.id = r.id";

const SET_VERSION: &str = "
    update {s}.bookings b set version = r.version
    from jsonb_populate_recordset(null::{s}.bookings, $1) r where b.id = r.id";

const ERASE_NOTES: &str = "
    update {s}.bookings set notes = null
    where contact_id = any(array(
        select contact_id from jsonb_populate_recordset(null::{s}.bookings, $1) r))";

fn booking(id: Uuid) -> Key {
    Key("booking", id)
}

/// The notes of every booking of a contact (what an erasure blanks).
fn notes_of(contact_id: Uuid) -> Key {
    Key("booking_notes_of_contact", contact_id)
}

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &BookingEvent) {
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
            let notes = personal(notes, |n| n.as_ref().map(|n| n.as_str().to_owned())).flatten();
            plan.add(
                INSERT,
                &[booking(*booking_id), notes_of(*contact_id)],
                json!({
                    "workspace_id": workspace_id,
                    "id": booking_id,
                    "status": status.as_str(),
                    "service_id": service_id,
                    "staff_id": staff_id,
                    "contact_id": contact_id,
                    "start_at": start,
                    "end_at": end,
                    "price_cents": price.cents(),
                    "currency": price.currency().code(),
                    "notes": notes,
                    "source": source,
                    "created_at": e.recorded_at,
                    "updated_at": e.recorded_at,
                    "version": version(e),
                    "buffer_before_minutes": minutes(*buffer_before_minutes),
                    "buffer_after_minutes": minutes(*buffer_after_minutes),
                    "calendar_dates": calendar_dates,
                }),
            );
        }
        BookingEvent::BookingConfirmed { booking_id } => {
            set_status(plan, e, *booking_id, "confirmed")
        }
        BookingEvent::BookingCancelled { booking_id, .. } => {
            set_status(plan, e, *booking_id, "cancelled")
        }
        BookingEvent::BookingCompleted { booking_id, .. } => {
            set_status(plan, e, *booking_id, "completed")
        }
        BookingEvent::BookingNoShow { booking_id } => set_status(plan, e, *booking_id, "no_show"),
        BookingEvent::BookingRescheduled {
            booking_id,
            new_start,
            new_end,
            new_staff_id,
            calendar_dates,
            ..
        } => plan.add_overwrite(
            RESCHEDULE,
            booking(*booking_id),
            json!({
                "id": booking_id,
                "start_at": new_start,
                "end_at": new_end,
                "staff_id": new_staff_id,
                "updated_at": e.recorded_at,
                "version": version(e),
                "calendar_dates": calendar_dates,
            }),
        ),
        BookingEvent::ReminderSent { booking_id, .. }
        | BookingEvent::FollowUpSent { booking_id, .. } => {
            // Not shown, but the stream moved on: keep the ETag in step.
            plan.add_overwrite(
                SET_VERSION,
                booking(*booking_id),
                json!({ "id": booking_id, "version": version(e) }),
            )
        }
    }
}

/// A buffer's length as stored (buffers are at most a few hours).
fn minutes(m: Minutes) -> i32 {
    i32::try_from(m.get()).unwrap_or(i32::MAX)
}

fn set_status(plan: &mut Plan, e: &RecordedEvent, booking_id: Uuid, status: &str) {
    plan.add_overwrite(
        SET_STATUS,
        booking(booking_id),
        json!({
            "id": booking_id,
            "status": status,
            "updated_at": e.recorded_at,
            "version": version(e),
        }),
    );
}

/// Erasing a contact removes the personal part of their bookings (the notes).
pub(crate) fn apply_contact(plan: &mut Plan, ev: &ContactEvent) {
    if let ContactEvent::ContactErased { contact_id } = ev {
        plan.add(
            ERASE_NOTES,
            &[notes_of(*contact_id)],
            json!({ "contact_id": contact_id }),
        );
    }
}
