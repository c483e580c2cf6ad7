use super::*;
use crate::testing::{given, id, utc};
use crate::DomainEvent;

type B = BookingAggregate;

fn appointment() -> TimeRange {
    TimeRange::new(utc("2026-03-02T10:00:00Z"), utc("2026-03-02T11:00:00Z")).unwrap()
}

fn create() -> CreateBooking {
    CreateBooking {
        booking_id: id(100),
        workspace_id: id(1),
        service_id: id(10),
        staff_id: id(3),
        contact_id: id(20),
        appointment: appointment(),
        buffer_before: Minutes::new(10),
        buffer_after: Minutes::new(15),
        price: Money::parse(4500, "GBP").unwrap(),
        status: InitialStatus::Pending,
        source: BookingSource::Public,
        notes: Some(Notes::parse("first visit").unwrap()),
        calendar_dates: vec!["2026-03-02".parse().unwrap()],
        inventory: vec![ItemQuantity {
            item_id: id(50),
            quantity: 1,
        }],
    }
}

pub(crate) fn created() -> BookingEvent {
    BookingEvent::BookingCreated {
        booking_id: id(100),
        workspace_id: id(1),
        service_id: id(10),
        staff_id: id(3),
        contact_id: id(20),
        start: utc("2026-03-02T10:00:00Z"),
        end: utc("2026-03-02T11:00:00Z"),
        buffer_before_minutes: Minutes::new(10),
        buffer_after_minutes: Minutes::new(15),
        price: Money::parse(4500, "GBP").unwrap(),
        status: BookingStatus::Pending,
        source: BookingSource::Public,
        notes: Personal::Known(Some(Notes::parse("first visit").unwrap())),
        calendar_dates: vec!["2026-03-02".parse().unwrap()],
        inventory: vec![ItemQuantity {
            item_id: id(50),
            quantity: 1,
        }],
    }
}

fn confirmed() -> BookingEvent {
    BookingEvent::BookingConfirmed {
        booking_id: id(100),
    }
}

fn completed() -> BookingEvent {
    BookingEvent::BookingCompleted {
        booking_id: id(100),
        inventory_used: vec![ItemQuantity {
            item_id: id(50),
            quantity: 1,
        }],
    }
}

fn cancelled() -> BookingEvent {
    BookingEvent::BookingCancelled {
        booking_id: id(100),
        reason: None,
        by: Actor::Customer,
    }
}

fn cancel(by: Actor, now: &str) -> CancelBooking {
    CancelBooking {
        reason: None,
        by,
        now: utc(now),
        cancellation_window_hours: 24,
    }
}

#[test]
fn a_booking_is_created_pending_with_its_buffers_and_stock() {
    let state = given::<B>([]).when(create()).then([created()]);
    let booking = state.unwrap();
    assert_eq!(booking.status, BookingStatus::Pending);
    assert_eq!(booking.reserved().start(), utc("2026-03-02T09:50:00Z"));
    assert_eq!(booking.reserved().end(), utc("2026-03-02T11:15:00Z"));
}

#[test]
fn creating_a_booking_twice_is_refused() {
    given::<B>([created()])
        .when(create())
        .then_error("already_exists");
}

#[test]
fn a_booking_created_event_carries_what_the_notifier_needs() {
    let payload = created().to_payload();
    for field in [
        "start",
        "end",
        "staff_id",
        "service_id",
        "contact_id",
        "price",
        "status",
        "source",
    ] {
        assert!(payload.get(field).is_some(), "{field}");
    }
    assert_eq!(payload["status"], "pending");
    assert_eq!(payload["source"], serde_json::json!({"kind": "public"}));
    assert_eq!(created().personal_data().unwrap().subject, id(20));
}

#[test]
fn a_pending_booking_is_confirmed() {
    given::<B>([created()])
        .when(ConfirmBooking)
        .then([confirmed()]);
}

#[test]
fn confirming_a_confirmed_booking_is_refused() {
    given::<B>([created(), confirmed()])
        .when(ConfirmBooking)
        .then_error("invalid_transition");
}

#[test]
fn commands_on_an_unknown_booking_are_refused_as_not_found() {
    given::<B>([]).when(ConfirmBooking).then_error("not_found");
}

#[test]
fn a_booking_is_rescheduled_with_old_and_new_times() {
    let later = TimeRange::new(utc("2026-03-03T10:00:00Z"), utc("2026-03-03T11:00:00Z")).unwrap();
    let state = given::<B>([
        created(),
        confirmed(),
        BookingEvent::ReminderSent {
            booking_id: id(100),
            offset_minutes: Minutes::new(1440),
            at: utc("2026-03-01T10:00:00Z"),
        },
    ])
    .when(RescheduleBooking {
        appointment: later,
        staff_id: id(4),
        calendar_dates: vec!["2026-03-03".parse().unwrap()],
    })
    .then([BookingEvent::BookingRescheduled {
        booking_id: id(100),
        old_start: utc("2026-03-02T10:00:00Z"),
        old_end: utc("2026-03-02T11:00:00Z"),
        old_staff_id: id(3),
        new_start: utc("2026-03-03T10:00:00Z"),
        new_end: utc("2026-03-03T11:00:00Z"),
        new_staff_id: id(4),
        calendar_dates: vec!["2026-03-03".parse().unwrap()],
    }]);
    let booking = state.unwrap();
    assert_eq!(booking.staff_id, id(4));
    assert!(
        booking.reminders_sent.is_empty(),
        "reminders are due again for the new time"
    );
}

#[test]
fn rescheduling_a_cancelled_booking_is_refused() {
    given::<B>([created(), cancelled()])
        .when(RescheduleBooking {
            appointment: appointment(),
            staff_id: id(3),
            calendar_dates: vec![],
        })
        .then_error("invalid_transition");
}

#[test]
fn a_customer_cancels_before_the_window() {
    given::<B>([created()])
        .when(cancel(Actor::Customer, "2026-03-01T09:59:00Z"))
        .then([cancelled()]);
}

#[test]
fn a_customer_cancelling_inside_the_window_is_refused() {
    given::<B>([created()])
        .when(cancel(Actor::Customer, "2026-03-01T10:01:00Z"))
        .then_error("cancellation_window_passed");
}

#[test]
fn staff_may_cancel_inside_the_window() {
    let by = Actor::Staff { user_id: id(2) };
    given::<B>([created(), confirmed()])
        .when(cancel(by, "2026-03-02T09:00:00Z"))
        .then([BookingEvent::BookingCancelled {
            booking_id: id(100),
            reason: None,
            by,
        }]);
}

#[test]
fn cancelling_a_completed_booking_is_refused() {
    given::<B>([created(), confirmed(), completed()])
        .when(cancel(
            Actor::Staff { user_id: id(2) },
            "2026-03-02T12:00:00Z",
        ))
        .then_error("invalid_transition");
}

#[test]
fn a_confirmed_booking_is_completed_with_actual_usage() {
    given::<B>([created(), confirmed()])
        .when(CompleteBooking {
            inventory_used: vec![ItemQuantity {
                item_id: id(50),
                quantity: 1,
            }],
            now: utc("2026-03-02T11:00:00Z"),
        })
        .then([completed()]);
}

#[test]
fn completing_a_pending_booking_is_refused() {
    given::<B>([created()])
        .when(CompleteBooking {
            inventory_used: vec![],
            now: utc("2026-03-02T11:00:00Z"),
        })
        .then_error("invalid_transition");
}

#[test]
fn completing_before_the_visit_started_is_refused() {
    given::<B>([created(), confirmed()])
        .when(CompleteBooking {
            inventory_used: vec![],
            now: utc("2026-03-02T09:00:00Z"),
        })
        .then_error("booking_not_started");
}

#[test]
fn completing_with_an_item_listed_twice_is_refused() {
    let twice = vec![
        ItemQuantity {
            item_id: id(50),
            quantity: 1,
        },
        ItemQuantity {
            item_id: id(50),
            quantity: 2,
        },
    ];
    given::<B>([created(), confirmed()])
        .when(CompleteBooking {
            inventory_used: twice,
            now: utc("2026-03-02T11:00:00Z"),
        })
        .then_error("invalid_value");
}

#[test]
fn a_confirmed_booking_is_marked_no_show() {
    given::<B>([created(), confirmed()])
        .when(MarkNoShow {
            now: utc("2026-03-02T10:30:00Z"),
        })
        .then([BookingEvent::BookingNoShow {
            booking_id: id(100),
        }]);
}

#[test]
fn a_no_show_before_the_start_or_on_a_pending_booking_is_refused() {
    given::<B>([created(), confirmed()])
        .when(MarkNoShow {
            now: utc("2026-03-02T09:30:00Z"),
        })
        .then_error("booking_not_started");
    given::<B>([created()])
        .when(MarkNoShow {
            now: utc("2026-03-02T10:30:00Z"),
        })
        .then_error("invalid_transition");
}

#[test]
fn each_reminder_is_recorded_once() {
    let at = utc("2026-03-01T10:00:00Z");
    let sent = BookingEvent::ReminderSent {
        booking_id: id(100),
        offset_minutes: Minutes::new(1440),
        at,
    };
    given::<B>([created()])
        .when(RecordReminderSent {
            offset_minutes: Minutes::new(1440),
            at,
        })
        .then([sent.clone()]);
    given::<B>([created(), sent.clone()])
        .when(RecordReminderSent {
            offset_minutes: Minutes::new(1440),
            at,
        })
        .then_error("already_sent");
    given::<B>([created(), sent])
        .when(RecordReminderSent {
            offset_minutes: Minutes::new(60),
            at,
        })
        .then([BookingEvent::ReminderSent {
            booking_id: id(100),
            offset_minutes: Minutes::new(60),
            at,
        }]);
}

#[test]
fn no_reminder_is_recorded_for_a_cancelled_booking() {
    given::<B>([created(), cancelled()])
        .when(RecordReminderSent {
            offset_minutes: Minutes::new(60),
            at: utc("2026-03-02T09:00:00Z"),
        })
        .then_error("invalid_transition");
}

#[test]
fn the_follow_up_is_recorded_once_after_completion() {
    let at = utc("2026-03-02T12:00:00Z");
    given::<B>([created(), confirmed(), completed()])
        .when(RecordFollowUpSent { at })
        .then([BookingEvent::FollowUpSent {
            booking_id: id(100),
            at,
        }]);
    given::<B>([
        created(),
        confirmed(),
        completed(),
        BookingEvent::FollowUpSent {
            booking_id: id(100),
            at,
        },
    ])
    .when(RecordFollowUpSent { at })
    .then_error("already_sent");
    given::<B>([created(), confirmed()])
        .when(RecordFollowUpSent { at })
        .then_error("invalid_transition");
}

#[test]
fn erased_notes_do_not_break_replay() {
    let mut payload = created().to_payload();
    payload["notes"] = serde_json::json!({"erased": true});
    let event = BookingEvent::from_payload("BookingCreated", payload).unwrap();
    given::<B>([event]).when(ConfirmBooking).then([confirmed()]);
}
