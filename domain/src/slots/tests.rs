use chrono::Weekday;

use super::*;
use crate::schedule::{AvailabilityException, DayHours, WeeklyHours};
use crate::testing::utc;

fn every_day(start: &str, end: &str) -> Schedule {
    let range = LocalRange::parse(start, end).unwrap();
    Schedule::new(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|d| WeeklyHours::new(d, range))
        .collect(),
        vec![],
    )
}

fn request<'a>(
    schedule: &'a Schedule,
    reservations: &'a [TimeRange],
    tz: &str,
    date: &str,
) -> SlotRequest<'a> {
    let date: NaiveDate = date.parse().unwrap();
    SlotRequest {
        schedule,
        reservations,
        duration: Minutes::new(60),
        buffer_before: Minutes::ZERO,
        buffer_after: Minutes::ZERO,
        slot_step: Minutes::new(60),
        minimum_notice: Minutes::ZERO,
        horizon_days: 365,
        timezone: TimeZone::parse(tz).unwrap(),
        from: date,
        to: date,
        now: utc("2026-01-01T00:00:00Z"),
    }
}

fn starts(slots: &[Slot]) -> Vec<String> {
    slots
        .iter()
        .map(|s| s.start.format("%H:%M").to_string())
        .collect()
}

#[test]
fn slots_step_through_the_opening_hours() {
    let schedule = every_day("09:00", "12:00");
    let slots = free_slots(&request(&schedule, &[], "UTC", "2026-03-02"));
    assert_eq!(starts(&slots), ["09:00", "10:00", "11:00"]);
    assert_eq!(slots[0].end, utc("2026-03-02T10:00:00Z"));
}

#[test]
fn nine_o_clock_local_stays_nine_o_clock_across_the_london_spring_change() {
    let schedule = every_day("09:00", "10:00");
    let before = free_slots(&request(&schedule, &[], "Europe/London", "2026-03-28"));
    let after = free_slots(&request(&schedule, &[], "Europe/London", "2026-03-29"));
    assert_eq!(before[0].start, utc("2026-03-28T09:00:00Z"));
    assert_eq!(after[0].start, utc("2026-03-29T08:00:00Z"));
}

#[test]
fn a_nonexistent_local_start_is_skipped() {
    // New York springs forward at 02:00 on 2026-03-08: 02:00–02:59 do not exist.
    let schedule = every_day("01:00", "04:00");
    let slots = free_slots(&request(&schedule, &[], "America/New_York", "2026-03-08"));
    assert_eq!(
        slots.iter().map(|s| s.start).collect::<Vec<_>>(),
        vec![
            utc("2026-03-08T06:00:00Z"), // 01:00 EST
            utc("2026-03-08T07:00:00Z"), // 03:00 EDT
        ]
    );
}

#[test]
fn an_ambiguous_local_start_is_offered_once() {
    // New York falls back at 02:00 on 2026-11-01: 01:00–01:59 happen twice.
    let schedule = every_day("00:00", "03:00");
    let mut req = request(&schedule, &[], "America/New_York", "2026-11-01");
    req.slot_step = Minutes::new(30);
    req.duration = Minutes::new(30);
    let slots = free_slots(&req);
    let at_one: Vec<_> = slots
        .iter()
        .filter(|s| {
            s.start
                .with_timezone(&chrono_tz::America::New_York)
                .format("%H:%M")
                .to_string()
                == "01:00"
        })
        .collect();
    assert_eq!(at_one.len(), 1);
    assert_eq!(at_one[0].start, utc("2026-11-01T05:00:00Z"));
}

#[test]
fn reservations_and_buffers_remove_slots() {
    let schedule = every_day("09:00", "13:00");
    let taken = [TimeRange::new(utc("2026-03-02T10:00:00Z"), utc("2026-03-02T11:00:00Z")).unwrap()];
    let mut req = request(&schedule, &taken, "UTC", "2026-03-02");
    assert_eq!(starts(&free_slots(&req)), ["09:00", "11:00", "12:00"]);
    req.buffer_after = Minutes::new(15);
    assert_eq!(starts(&free_slots(&req)), ["11:00", "12:00"]);
}

#[test]
fn minimum_notice_and_horizon_limit_slots() {
    let schedule = every_day("09:00", "12:00");
    let mut req = request(&schedule, &[], "UTC", "2026-03-02");
    req.now = utc("2026-03-02T08:30:00Z");
    req.minimum_notice = Minutes::new(60);
    assert_eq!(starts(&free_slots(&req)), ["10:00", "11:00"]);
    req.now = utc("2026-02-01T00:00:00Z");
    req.horizon_days = 14;
    assert!(free_slots(&req).is_empty());
}

#[test]
fn a_closed_exception_removes_the_day() {
    let mut schedule = every_day("09:00", "12:00");
    schedule = Schedule::new(
        schedule.weekly.clone(),
        vec![AvailabilityException {
            date: "2026-03-02".parse().unwrap(),
            hours: DayHours::Closed,
        }],
    );
    assert!(free_slots(&request(&schedule, &[], "UTC", "2026-03-02")).is_empty());
}

#[test]
fn an_appointment_outside_availability_is_refused() {
    let schedule = every_day("09:00", "12:00");
    let tz = TimeZone::parse("UTC").unwrap();
    let late = TimeRange::new(utc("2026-03-02T11:30:00Z"), utc("2026-03-02T12:30:00Z")).unwrap();
    assert_eq!(
        check_within_availability(&schedule, tz, &late)
            .unwrap_err()
            .code(),
        "outside_availability"
    );
    let fine = TimeRange::new(utc("2026-03-02T11:00:00Z"), utc("2026-03-02T12:00:00Z")).unwrap();
    assert!(check_within_availability(&schedule, tz, &fine).is_ok());
}
