//! Property tests (proptest) of the invariants the issue lists:
//! - no sequence of reserve/release commands yields overlapping reservations;
//! - no sequence of inventory commands yields a negative quantity, and each downward threshold
//!   crossing yields exactly one alert request (and at most one recorded alert) until restocked;
//! - folding decide's events with evolve reproduces the state (replay is deterministic, also
//!   through the serialised form);
//! - computed slots never overlap reservations or buffers and never fall outside availability,
//!   including on the DST change dates of Europe/London, America/New_York and Australia/Sydney.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use proptest::prelude::*;

use crate::booking::{self, BookingAggregate, BookingEvent, BookingStatus};
use crate::calendar::{CalendarAggregate, CalendarCommand, ReleaseSlot, ReserveSlot};
use crate::inventory::{self, InventoryAggregate, InventoryCommand, InventoryEvent};
use crate::schedule::{AvailabilityException, DayHours, Schedule, WeeklyHours};
use crate::slots::{free_slots, SlotRequest};
use crate::testing::{id, utc};
use crate::values::{LocalRange, LocalTime, Minutes, Money, Name, Reason, TimeRange, TimeZone};
use crate::{Aggregate, DomainEvent};

/// Replay of the events, also after a store round trip, equals the incrementally built state.
fn assert_replays<A: Aggregate>(events: &[A::Event], state: &A::State)
where
    A::State: PartialEq,
{
    let replayed = A::replay(events);
    assert_eq!(&replayed, state);
    let stored: Vec<A::Event> = events
        .iter()
        .map(|e| A::Event::from_payload(e.event_type(), e.to_payload()).unwrap())
        .collect();
    assert_eq!(&A::replay(&stored), state);
}

// ---------------------------------------------------------------- calendar

#[derive(Debug, Clone)]
enum CalendarOp {
    Reserve {
        booking: u128,
        start: i64,
        length: i64,
    },
    Release {
        booking: u128,
    },
}

fn calendar_op() -> impl Strategy<Value = CalendarOp> {
    prop_oneof![
        3 => (0u128..8, 0i64..64, 1i64..8).prop_map(|(booking, start, length)| CalendarOp::Reserve { booking, start, length }),
        1 => (0u128..8).prop_map(|booking| CalendarOp::Release { booking }),
    ]
}

proptest! {
    #[test]
    fn no_sequence_of_reserve_and_release_yields_overlapping_reservations(ops in prop::collection::vec(calendar_op(), 1..40)) {
        let date: NaiveDate = "2026-03-02".parse().unwrap();
        let base = utc("2026-03-02T00:00:00Z");
        let mut state = Default::default();
        let mut events = vec![];
        for op in ops {
            let command: CalendarCommand = match op {
                CalendarOp::Reserve { booking, start, length } => {
                    let from = base + Duration::minutes(start * 15);
                    let range = TimeRange::new(from, from + Duration::minutes(length * 15)).unwrap();
                    ReserveSlot { staff_id: id(3), date, booking_id: id(booking), range }.into()
                }
                CalendarOp::Release { booking } => ReleaseSlot { staff_id: id(3), date, booking_id: id(booking) }.into(),
            };
            if let Ok(new) = CalendarAggregate::decide(&state, &command) {
                state = new.iter().fold(state, CalendarAggregate::evolve);
                events.extend(new);
            }
            let ranges: Vec<TimeRange> = state.reservations.values().copied().collect();
            for (i, a) in ranges.iter().enumerate() {
                for b in &ranges[i + 1..] {
                    prop_assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
                }
            }
        }
        assert_replays::<CalendarAggregate>(&events, &state);
    }
}

// ---------------------------------------------------------------- inventory

fn inventory_op() -> impl Strategy<Value = InventoryCommand> {
    prop_oneof![
        (1u32..8).prop_map(|quantity| inventory::ReceiveStock { quantity }.into()),
        (0u128..4, 1u32..5).prop_map(|(b, quantity)| inventory::DeductStock {
            booking_id: id(b),
            quantity
        }
        .into()),
        (0u128..4, 1u32..5).prop_map(|(b, quantity)| inventory::ReturnStock {
            booking_id: id(b),
            quantity
        }
        .into()),
        (-8i64..8).prop_map(|delta| inventory::AdjustStock {
            delta,
            reason: Reason::parse("count").unwrap()
        }
        .into()),
        Just(
            inventory::RecordLowStockAlert {
                at: utc("2026-03-02T09:00:00Z")
            }
            .into()
        ),
        (0u32..10).prop_map(|threshold| inventory::UpdateItem {
            name: Name::parse("Red dye").unwrap(),
            unit: Name::parse("tube").unwrap(),
            threshold,
        }
        .into()),
    ]
}

proptest! {
    #[test]
    fn inventory_never_goes_negative_and_alerts_once_per_downward_crossing(
        quantity in 0u32..10,
        threshold in 0u32..6,
        ops in prop::collection::vec(inventory_op(), 1..60),
    ) {
        let create: InventoryCommand = inventory::CreateItem {
            item_id: id(50),
            workspace_id: id(1),
            name: Name::parse("Red dye").unwrap(),
            unit: Name::parse("tube").unwrap(),
            quantity,
            threshold,
        }.into();
        let mut events = InventoryAggregate::decide(&None, &create).unwrap();
        let mut state = InventoryAggregate::replay(&events);
        // Model: was the item low, and how many alerts were recorded for the current crossing.
        let mut model_quantity = i64::from(quantity);
        let mut alerts_this_crossing = 0;
        let crossings = events.iter().filter(|e| matches!(e, InventoryEvent::LowStockCrossed { .. })).count();
        prop_assert_eq!(crossings, usize::from(quantity <= threshold));
        for op in ops {
            let before = state.clone().unwrap();
            let was_low = before.quantity <= before.threshold;
            let Ok(new) = InventoryAggregate::decide(&state, &op) else { continue };
            state = new.iter().fold(state, InventoryAggregate::evolve);
            events.extend(new.iter().cloned());
            let after = state.clone().unwrap();
            let now_low = after.quantity <= after.threshold;
            model_quantity += match &op {
                InventoryCommand::Receive(c) => i64::from(c.quantity),
                InventoryCommand::Deduct(c) => -i64::from(c.quantity),
                InventoryCommand::Return(c) => i64::from(c.quantity),
                InventoryCommand::Adjust(c) => c.delta,
                _ => 0,
            };
            prop_assert!(model_quantity >= 0);
            prop_assert_eq!(i64::from(after.quantity), model_quantity);
            let crossed = new.iter().filter(|e| matches!(e, InventoryEvent::LowStockCrossed { .. })).count();
            prop_assert_eq!(crossed, usize::from(!was_low && now_low), "one alert request per downward crossing");
            if !was_low || !now_low {
                alerts_this_crossing = 0;
            }
            let alerted = new.iter().filter(|e| matches!(e, InventoryEvent::LowStockAlerted { .. })).count();
            alerts_this_crossing += alerted;
            prop_assert!(alerts_this_crossing <= 1, "at most one alert per crossing");
            prop_assert_eq!(after.is_low(), now_low);
        }
        assert_replays::<InventoryAggregate>(&events, &state);
    }
}

// ---------------------------------------------------------------- booking replay

fn booking_op() -> impl Strategy<Value = booking::BookingCommand> {
    let now = utc("2026-03-02T12:00:00Z");
    prop_oneof![
        Just(booking::ConfirmBooking.into()),
        Just(
            booking::CancelBooking {
                reason: None,
                by: booking::Actor::Staff { user_id: id(2) },
                now,
                cancellation_window_hours: 24
            }
            .into()
        ),
        Just(
            booking::CompleteBooking {
                inventory_used: vec![],
                now
            }
            .into()
        ),
        Just(booking::MarkNoShow { now }.into()),
        prop_oneof![Just(60u32), Just(1440u32)].prop_map(move |m| booking::RecordReminderSent {
            offset_minutes: Minutes::new(m),
            at: now
        }
        .into()),
        Just(booking::RecordFollowUpSent { at: now }.into()),
        (0i64..4).prop_map(|h| {
            let start = utc("2026-03-02T08:00:00Z") + Duration::hours(h);
            booking::RescheduleBooking {
                appointment: TimeRange::new(start, start + Duration::hours(1)).unwrap(),
                staff_id: id(3),
                calendar_dates: vec!["2026-03-02".parse().unwrap()],
            }
            .into()
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_booking_events_reproduces_the_decided_state_and_statuses_only_move_forward(
        ops in prop::collection::vec(booking_op(), 1..20),
    ) {
        let create: booking::BookingCommand = booking::CreateBooking {
            booking_id: id(100),
            workspace_id: id(1),
            service_id: id(10),
            staff_id: id(3),
            contact_id: id(20),
            appointment: TimeRange::new(utc("2026-03-02T10:00:00Z"), utc("2026-03-02T11:00:00Z")).unwrap(),
            buffer_before: Minutes::ZERO,
            buffer_after: Minutes::ZERO,
            price: Money::parse(4500, "GBP").unwrap(),
            status: booking::InitialStatus::Pending,
            source: booking::BookingSource::Public,
            notes: None,
            calendar_dates: vec![],
            inventory: vec![],
        }.into();
        let mut events: Vec<BookingEvent> = BookingAggregate::decide(&None, &create).unwrap();
        let mut state = BookingAggregate::replay(&events);
        for op in ops {
            let before = state.clone().unwrap().status;
            let Ok(new) = BookingAggregate::decide(&state, &op) else { continue };
            state = new.iter().fold(state, BookingAggregate::evolve);
            events.extend(new);
            let after = state.clone().unwrap().status;
            let allowed = before == after
                || matches!(
                    (before, after),
                    (BookingStatus::Pending, BookingStatus::Confirmed | BookingStatus::Cancelled)
                        | (BookingStatus::Confirmed, BookingStatus::Completed | BookingStatus::NoShow | BookingStatus::Cancelled)
                );
            prop_assert!(allowed, "{before:?} -> {after:?}");
        }
        assert_replays::<BookingAggregate>(&events, &state);
    }
}

// ---------------------------------------------------------------- slots

/// UTC availability windows of one local date.
type Windows = Vec<(DateTime<Utc>, DateTime<Utc>)>;

const DST_DATES: [(&str, &str); 6] = [
    ("Europe/London", "2026-03-29"),
    ("Europe/London", "2026-10-25"),
    ("America/New_York", "2026-03-08"),
    ("America/New_York", "2026-11-01"),
    ("Australia/Sydney", "2026-04-05"),
    ("Australia/Sydney", "2026-10-04"),
];

/// Independent of the implementation: scan minute by minute for the first instant whose local
/// wall-clock reading is at or after `wall`.
fn brute_first_at_or_after(tz: TimeZone, wall: NaiveDateTime) -> DateTime<Utc> {
    let mut t = wall.and_utc() - Duration::hours(15);
    while t.with_timezone(&tz.tz()).naive_local() < wall {
        t += Duration::minutes(1);
    }
    t
}

fn hours() -> impl Strategy<Value = Vec<LocalRange>> {
    // Up to 3 non-overlapping ranges from sorted distinct cut points (half-hours).
    prop::collection::btree_set(0u32..48, 2..7).prop_map(|cuts| {
        let cuts: Vec<u32> = cuts.into_iter().collect();
        cuts.chunks_exact(2)
            .filter_map(|pair| {
                let start = LocalTime::from_hm(pair[0] / 2, (pair[0] % 2) * 30).ok()?;
                let end = LocalTime::from_hm(pair[1] / 2, (pair[1] % 2) * 30).ok()?;
                LocalRange::new(start, end).ok()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn slots_never_overlap_reservations_or_buffers_and_stay_inside_availability_even_on_dst_days(
        place in 0usize..DST_DATES.len(),
        day_offset in -1i64..=1,
        weekly in hours(),
        exception in prop::option::of(hours()),
        reservations in prop::collection::vec((0i64..(3 * 24 * 4), 1i64..12), 0..6),
        duration in 3u32..36,
        before in 0u32..4,
        after in 0u32..4,
        step in prop_oneof![Just(15u32), Just(20u32), Just(30u32), Just(60u32)],
        notice in 0u32..180,
        now_back in 0i64..72,
    ) {
        let (zone, dst_date) = DST_DATES[place];
        let tz = TimeZone::parse(zone).unwrap();
        let dst: NaiveDate = dst_date.parse().unwrap();
        let date = dst + Duration::days(day_offset);
        let every_day = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        let weekly_hours: Vec<WeeklyHours> = every_day.iter().flat_map(|d| weekly.iter().map(move |h| WeeklyHours::new(*d, *h))).collect();
        let exceptions: Vec<AvailabilityException> = exception
            .map(|h| AvailabilityException { date: dst, hours: if h.is_empty() { DayHours::Closed } else { DayHours::Open(h) } })
            .into_iter()
            .collect();
        let schedule = Schedule::new(weekly_hours, exceptions);
        let base = (date - Duration::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
        let reserved: Vec<TimeRange> = reservations
            .iter()
            .map(|(start, len)| {
                let from = base + Duration::minutes(start * 15);
                TimeRange::new(from, from + Duration::minutes(len * 15)).unwrap()
            })
            .collect();
        let now = base - Duration::hours(now_back);
        let request = SlotRequest {
            schedule: &schedule,
            reservations: &reserved,
            duration: Minutes::new(duration * 5),
            buffer_before: Minutes::new(before * 5),
            buffer_after: Minutes::new(after * 5),
            slot_step: Minutes::new(step),
            minimum_notice: Minutes::new(notice),
            horizon_days: 30,
            timezone: tz,
            from: date,
            to: date + Duration::days(1),
            now,
        };
        let slots = free_slots(&request);
        // Availability windows computed independently, per local date.
        let windows = |d: NaiveDate| -> Windows {
            schedule.hours_on(d).iter().map(|h| (
                brute_first_at_or_after(tz, d.and_time(h.start().naive())),
                brute_first_at_or_after(tz, d.and_time(h.end().naive())),
            )).collect()
        };
        let by_date: std::collections::BTreeMap<NaiveDate, Windows> =
            [date, date + Duration::days(1)].into_iter().map(|d| (d, windows(d))).collect();
        for pair in slots.windows(2) {
            prop_assert!(pair[0].start < pair[1].start, "sorted and each offered once");
        }
        for slot in &slots {
            prop_assert_eq!(slot.end - slot.start, Duration::minutes(i64::from(duration * 5)));
            prop_assert!(slot.start >= now + Duration::minutes(i64::from(notice)));
            let local = slot.start.with_timezone(&tz.tz());
            let day = local.date_naive();
            let inside = by_date.get(&day).is_some_and(|ws| ws.iter().any(|(s, e)| *s <= slot.start && slot.end <= *e));
            prop_assert!(inside, "{slot:?} ({local}) is outside availability");
            // The wall-clock start is one the schedule offers: opening time plus whole steps.
            let minutes = i64::from(local.time().num_seconds_from_midnight() / 60);
            let aligned = schedule.hours_on(day).iter().any(|h| {
                let open = i64::from(h.start().minutes_from_midnight());
                minutes >= open && (minutes - open) % i64::from(step) == 0
            });
            prop_assert!(aligned, "{local} is not on the step grid");
            let occupied = TimeRange::new(
                slot.start - Duration::minutes(i64::from(before * 5)),
                slot.end + Duration::minutes(i64::from(after * 5)),
            ).unwrap();
            prop_assert!(reserved.iter().all(|r| !r.overlaps(&occupied)), "{slot:?} overlaps a reservation");
        }
    }
}

use chrono::Timelike as _;

#[test]
fn the_event_table_in_the_docs_lists_every_event_type_exactly() {
    use crate::{
        calendar::CalendarEvent, contact::ContactEvent, conversation::ConversationEvent,
        form_request::FormRequestEvent, form_template::FormTemplateEvent,
        notification::NotificationEvent, reservation::ReservationEvent, schedule::ScheduleEvent,
        service::ServiceEvent, user::UserEvent, workspace::WorkspaceEvent,
    };
    let table = include_str!("../EVENTS.md");
    let documented: std::collections::BTreeSet<String> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(2))
        .map(|cell| cell.trim().trim_matches('`').to_string())
        .collect();
    let all: Vec<&[&str]> = vec![
        WorkspaceEvent::EVENT_TYPES,
        UserEvent::EVENT_TYPES,
        ServiceEvent::EVENT_TYPES,
        InventoryEvent::EVENT_TYPES,
        ScheduleEvent::EVENT_TYPES,
        CalendarEvent::EVENT_TYPES,
        BookingEvent::EVENT_TYPES,
        ContactEvent::EVENT_TYPES,
        ConversationEvent::EVENT_TYPES,
        FormTemplateEvent::EVENT_TYPES,
        FormRequestEvent::EVENT_TYPES,
        ReservationEvent::EVENT_TYPES,
        NotificationEvent::EVENT_TYPES,
    ];
    let declared: std::collections::BTreeSet<String> =
        all.concat().into_iter().map(String::from).collect();
    assert_eq!(documented, declared);
    assert_eq!(
        declared.len(),
        all.iter().map(|a| a.len()).sum::<usize>(),
        "event type names are unique across aggregates"
    );
}
