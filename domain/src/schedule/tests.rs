use chrono::Weekday;

use super::*;
use crate::testing::{given, id};

type S = ScheduleAggregate;

fn range(a: &str, b: &str) -> LocalRange {
    LocalRange::parse(a, b).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub(crate) fn weekdays_nine_to_five() -> Vec<WeeklyHours> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
    .into_iter()
    .map(|d| WeeklyHours::new(d, range("09:00", "17:00")))
    .collect()
}

fn set(weekly: Vec<WeeklyHours>, exceptions: Vec<AvailabilityException>) -> SetAvailability {
    SetAvailability {
        staff_id: id(3),
        workspace_id: id(1),
        weekly,
        exceptions,
    }
}

#[test]
fn weekly_availability_and_exceptions_are_set() {
    let closed = AvailabilityException {
        date: date("2026-12-24"),
        hours: DayHours::Closed,
    };
    let state = given::<S>([])
        .when(set(weekdays_nine_to_five(), vec![closed.clone()]))
        .then([ScheduleEvent::AvailabilitySet {
            staff_id: id(3),
            workspace_id: id(1),
            weekly: weekdays_nine_to_five(),
            exceptions: vec![closed],
        }]);
    assert!(state.has_weekly_availability());
    assert_eq!(
        state.hours_on(date("2026-12-23")),
        vec![range("09:00", "17:00")]
    );
    assert_eq!(state.hours_on(date("2026-12-24")), vec![]);
    assert_eq!(state.hours_on(date("2026-12-26")), vec![], "a Saturday");
}

#[test]
fn weekly_hours_serialise_with_iso_weekday_numbers() {
    let json =
        serde_json::to_value(WeeklyHours::new(Weekday::Sun, range("10:00", "12:00"))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"weekday": 7, "start": "10:00", "end": "12:00"})
    );
    assert!(serde_json::from_value::<WeeklyHours>(
        serde_json::json!({"weekday": 8, "start": "10:00", "end": "12:00"})
    )
    .is_err());
}

#[test]
fn overlapping_weekly_hours_are_refused() {
    let weekly = vec![
        WeeklyHours::new(Weekday::Mon, range("09:00", "12:00")),
        WeeklyHours::new(Weekday::Mon, range("11:00", "14:00")),
    ];
    let error = given::<S>([])
        .when(set(weekly, vec![]))
        .then_error("invalid_value");
    assert_eq!(error.field(), Some("weekly"));
}

#[test]
fn an_exception_listed_twice_or_open_without_hours_is_refused() {
    let twice = vec![
        AvailabilityException {
            date: date("2026-12-24"),
            hours: DayHours::Closed,
        },
        AvailabilityException {
            date: date("2026-12-24"),
            hours: DayHours::Closed,
        },
    ];
    given::<S>([])
        .when(set(vec![], twice))
        .then_error("invalid_value");
    let empty = vec![AvailabilityException {
        date: date("2026-12-24"),
        hours: DayHours::Open(vec![]),
    }];
    given::<S>([])
        .when(set(vec![], empty))
        .then_error("invalid_value");
}

#[test]
fn an_exception_with_other_hours_replaces_the_weekly_pattern_for_its_date() {
    let short = AvailabilityException {
        date: date("2026-12-23"),
        hours: DayHours::Open(vec![range("10:00", "13:00")]),
    };
    let state = given::<S>([ScheduleEvent::AvailabilitySet {
        staff_id: id(3),
        workspace_id: id(1),
        weekly: weekdays_nine_to_five(),
        exceptions: vec![],
    }])
    .when(SetException {
        staff_id: id(3),
        exception: short.clone(),
    })
    .then([ScheduleEvent::AvailabilityExceptionSet {
        staff_id: id(3),
        exception: short,
    }]);
    assert_eq!(
        state.hours_on(date("2026-12-23")),
        vec![range("10:00", "13:00")]
    );
}

#[test]
fn an_exception_is_removed() {
    let closed = AvailabilityException {
        date: date("2026-12-24"),
        hours: DayHours::Closed,
    };
    given::<S>([ScheduleEvent::AvailabilityExceptionSet {
        staff_id: id(3),
        exception: closed,
    }])
    .when(RemoveException {
        staff_id: id(3),
        date: date("2026-12-24"),
    })
    .then([ScheduleEvent::AvailabilityExceptionRemoved {
        staff_id: id(3),
        date: date("2026-12-24"),
    }]);
}

#[test]
fn removing_a_missing_exception_is_refused_as_not_found() {
    given::<S>([])
        .when(RemoveException {
            staff_id: id(3),
            date: date("2026-12-24"),
        })
        .then_error("not_found");
}
