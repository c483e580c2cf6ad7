use super::*;
use crate::testing::{given, id, utc};

type C = CalendarAggregate;

fn date() -> NaiveDate {
    "2026-03-02".parse().unwrap()
}

fn range(a: &str, b: &str) -> TimeRange {
    TimeRange::new(
        utc(&format!("2026-03-02T{a}:00Z")),
        utc(&format!("2026-03-02T{b}:00Z")),
    )
    .unwrap()
}

fn reserved(booking: u128, a: &str, b: &str) -> CalendarEvent {
    CalendarEvent::SlotReserved {
        staff_id: id(3),
        date: date(),
        booking_id: id(booking),
        range: range(a, b),
    }
}

#[test]
fn a_free_range_is_reserved() {
    given::<C>([])
        .when(ReserveSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(100),
            range: range("09:00", "10:00"),
        })
        .then([reserved(100, "09:00", "10:00")]);
}

#[test]
fn a_reservation_payload_has_flat_start_and_end() {
    let payload = crate::DomainEvent::to_payload(&reserved(100, "09:00", "10:00"));
    assert_eq!(payload["start"], "2026-03-02T09:00:00Z");
    assert_eq!(payload["date"], "2026-03-02");
}

#[test]
fn an_overlapping_reservation_is_refused() {
    given::<C>([reserved(100, "09:00", "10:00")])
        .when(ReserveSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(101),
            range: range("09:30", "10:30"),
        })
        .then_error("slot_unavailable");
}

#[test]
fn a_reservation_touching_another_is_accepted() {
    given::<C>([reserved(100, "09:00", "10:00")])
        .when(ReserveSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(101),
            range: range("10:00", "11:00"),
        })
        .then([reserved(101, "10:00", "11:00")]);
}

#[test]
fn reserving_twice_for_one_booking_is_refused() {
    given::<C>([reserved(100, "09:00", "10:00")])
        .when(ReserveSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(100),
            range: range("11:00", "12:00"),
        })
        .then_error("already_exists");
}

#[test]
fn a_released_range_can_be_reserved_again() {
    let state = given::<C>([reserved(100, "09:00", "10:00")])
        .when(ReleaseSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(100),
        })
        .then([CalendarEvent::SlotReleased {
            staff_id: id(3),
            date: date(),
            booking_id: id(100),
        }]);
    assert!(state.reservations.is_empty());
}

#[test]
fn releasing_a_range_that_is_not_reserved_is_refused() {
    given::<C>([])
        .when(ReleaseSlot {
            staff_id: id(3),
            date: date(),
            booking_id: id(100),
        })
        .then_error("not_reserved");
}

#[test]
fn a_late_evening_range_touches_two_local_dates() {
    let tz = TimeZone::parse("America/New_York").unwrap();
    let late = TimeRange::new(utc("2026-03-03T04:30:00Z"), utc("2026-03-03T05:30:00Z")).unwrap();
    let dates: Vec<String> = dates_touched(&late, tz)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(dates, ["2026-03-02", "2026-03-03"]);
    assert_eq!(
        stream_id(id(3), date()),
        format!("calendar-{}-2026-03-02", id(3))
    );
}
