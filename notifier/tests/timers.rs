//! Timers: reminders and the follow-up fire at their instants (also across a DST change),
//! move with a reschedule and vanish with a cancellation; the daily summary fires once per
//! local day. A manual clock stands in for real time.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::booking::{Actor, BookingEvent, BookingStatus};
use notifier::clock::ManualClock;
use sqlx::PgPool;
use support::outbox::{mails, sms};
use support::*;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Gives the dispatcher a few rounds at the current clock.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

fn of_kind(env: &Env, kind: &str) -> usize {
    mails(&env.outbox).iter().filter(|m| m.kind == kind).count()
        + sms(&env.outbox).iter().filter(|m| m.kind == kind).count()
}

async fn reminders_recorded(env: &Env, booking_id: Uuid) -> Vec<u64> {
    env.store
        .read_stream(&domain::booking::stream_id(booking_id), 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "ReminderSent")
        .map(|e| e.data["offset_minutes"].as_u64().unwrap())
        .collect()
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn reminders_fire_24_and_1_hours_before_the_start_across_a_dst_change(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[1440, 60])).await;
    // Sunday 28 March 2027, 10:00 BST: the clocks went forward at 01:00 UTC that morning.
    let start = utc("2027-03-28T09:00:00Z");
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually("the confirmation", WAIT, || async {
        of_kind(&env, "booking_confirmation") == 2
    })
    .await;

    // 24 hours before is 09:00 GMT on Saturday, before the change.
    clock.set(utc("2027-03-27T08:59:59Z"));
    settle().await;
    assert_eq!(of_kind(&env, "reminder"), 0);
    clock.set(utc("2027-03-27T09:00:00Z"));
    eventually("the 24 h reminder by email and SMS", WAIT, || async {
        of_kind(&env, "reminder") == 2
    })
    .await;
    let reminder = mails(&env.outbox)
        .into_iter()
        .find(|m| m.kind == "reminder")
        .unwrap();
    assert!(
        reminder
            .subject
            .starts_with("Reminder: Hair Colouring tomorrow"),
        "{}",
        reminder.subject
    );
    assert!(reminder
        .text
        .contains("Sunday 28 March 2027 at 10:00 BST (Europe/London)"));
    eventually("ReminderSent 1440", WAIT, || async {
        reminders_recorded(&env, booking_id).await == vec![1440]
    })
    .await;

    clock.set(utc("2027-03-28T07:59:00Z"));
    settle().await;
    assert_eq!(of_kind(&env, "reminder"), 2);
    clock.set(utc("2027-03-28T08:00:00Z"));
    eventually("the 1 h reminder", WAIT, || async {
        of_kind(&env, "reminder") == 4
    })
    .await;
    eventually("ReminderSent 60", WAIT, || async {
        reminders_recorded(&env, booking_id).await == vec![1440, 60]
    })
    .await;
    // Once each: later rounds send nothing more.
    clock.set(utc("2027-03-28T08:30:00Z"));
    settle().await;
    assert_eq!(of_kind(&env, "reminder"), 4);
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn rescheduling_moves_the_reminders_and_cancelling_drops_them(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "Europe/Paris", settings(&[60])).await;
    let start = utc("2027-01-20T10:00:00Z");
    let later = utc("2027-01-21T14:00:00Z");
    let (moved, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    let (cancelled, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    append(
        &env.store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(moved),
        &[BookingEvent::BookingRescheduled {
            booking_id: moved,
            old_start: start,
            old_end: start + chrono::Duration::hours(1),
            old_staff_id: s.staff_id,
            new_start: later,
            new_end: later + chrono::Duration::hours(1),
            new_staff_id: s.staff_id,
            calendar_dates: vec![later.date_naive()],
        }],
    )
    .await;
    append(
        &env.store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(cancelled),
        &[BookingEvent::BookingCancelled {
            booking_id: cancelled,
            reason: None,
            by: Actor::Customer,
        }],
    )
    .await;
    eventually("the notices", WAIT, || async {
        of_kind(&env, "booking_rescheduled") == 3 && of_kind(&env, "booking_cancelled") == 3
    })
    .await;
    // The cancelled booking has no timers left; the moved one has its reminder at the new time.
    let timers: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select subject_id, due_at from notifier.notifications
         where kind = 'reminder' and status = 'pending' order by due_at",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        timers,
        vec![
            (moved, utc("2027-01-21T13:00:00Z")),
            (moved, utc("2027-01-21T13:00:00Z"))
        ]
    );

    clock.set(utc("2027-01-20T09:00:00Z"));
    settle().await;
    assert_eq!(of_kind(&env, "reminder"), 0);
    clock.set(utc("2027-01-21T13:00:00Z"));
    eventually("the moved reminder", WAIT, || async {
        of_kind(&env, "reminder") == 2
    })
    .await;
    let reminder = mails(&env.outbox)
        .into_iter()
        .find(|m| m.kind == "reminder")
        .unwrap();
    assert!(
        reminder.text.contains("15:00 CET (Europe/Paris)"),
        "{}",
        reminder.text
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_reminder_already_due_when_the_booking_is_made_is_not_planned(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[1440, 60])).await;
    let start = Utc::now() + chrono::Duration::hours(3);
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually("planned", WAIT, || async {
        of_kind(&env, "booking_confirmation") == 2
    })
    .await;
    let offsets: Vec<i64> = sqlx::query_scalar(
        "select (details->>'offset_minutes')::bigint from notifier.notifications
         where kind = 'reminder' and subject_id = $1",
    )
    .bind(booking_id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        offsets,
        vec![60, 60],
        "only the 1 h reminder, by email and SMS"
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_follow_up_goes_out_an_hour_after_the_visit_ends(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = utc("2027-02-10T10:00:00Z");
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    append(
        &env.store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(booking_id),
        &[BookingEvent::BookingCompleted {
            booking_id,
            inventory_used: vec![],
        }],
    )
    .await;
    eventually("the follow-up planned", WAIT, || async {
        sqlx::query_scalar::<_, DateTime<Utc>>(
            "select due_at from notifier.notifications where kind = 'follow_up'",
        )
        .fetch_optional(&env.pool)
        .await
        .unwrap()
            == Some(utc("2027-02-10T12:00:00Z"))
    })
    .await;
    clock.set(utc("2027-02-10T11:59:00Z"));
    settle().await;
    assert_eq!(of_kind(&env, "follow_up"), 0);
    clock.set(utc("2027-02-10T12:00:00Z"));
    eventually("the follow-up", WAIT, || async {
        of_kind(&env, "follow_up") == 1
    })
    .await;
    let follow_up = mails(&env.outbox)
        .into_iter()
        .find(|m| m.kind == "follow_up")
        .unwrap();
    assert_eq!(follow_up.to, CUSTOMER_EMAIL);
    assert_eq!(follow_up.subject, "Thank you for visiting Urban Glow");
    eventually("FollowUpSent", WAIT, || async {
        env.store
            .read_stream(&domain::booking::stream_id(booking_id), 0)
            .await
            .unwrap()
            .iter()
            .any(|e| e.event_type == "FollowUpSent")
    })
    .await;
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_daily_summary_fires_once_per_local_day_at_the_local_hour(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(utc("2027-03-12T00:00:00Z"));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "America/New_York", settings(&[])).await;
    let summaries = || async {
        events_of_type(&env.store, "DailySummarySent")
            .await
            .iter()
            .map(|e| e.data["local_date"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    eventually("the first summary planned", WAIT, || async {
        pending_rows(&env.pool).await == 1
    })
    .await;
    // 08:00 EST = 13:00 UTC.
    clock.set(utc("2027-03-12T12:59:00Z"));
    settle().await;
    assert!(summaries().await.is_empty());
    clock.set(utc("2027-03-12T13:00:00Z"));
    eventually("Friday's summary", WAIT, || async {
        summaries().await == ["2027-03-12"]
    })
    .await;
    let mail = mails(&env.outbox)
        .into_iter()
        .find(|m| m.kind == "daily_summary")
        .unwrap();
    assert_eq!(mail.to, OWNER_EMAIL);
    assert!(
        mail.text
            .contains("Friday 12 March 2027 (America/New_York)"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Unanswered messages"));
    // Later that day: nothing more.
    clock.set(utc("2027-03-12T23:00:00Z"));
    settle().await;
    assert_eq!(summaries().await, ["2027-03-12"]);
    clock.set(utc("2027-03-13T13:00:00Z"));
    eventually("Saturday's summary", WAIT, || async {
        summaries().await == ["2027-03-12", "2027-03-13"]
    })
    .await;
    // Sunday the clocks go forward: 08:00 EDT = 12:00 UTC.
    clock.set(utc("2027-03-14T11:59:00Z"));
    settle().await;
    assert_eq!(summaries().await.len(), 2);
    clock.set(utc("2027-03-14T12:00:00Z"));
    eventually("Sunday's summary", WAIT, || async {
        summaries().await == ["2027-03-12", "2027-03-13", "2027-03-14"]
    })
    .await;
    assert_eq!(
        mails(&env.outbox)
            .iter()
            .filter(|m| m.kind == "daily_summary")
            .count(),
        3
    );
    let _ = s;
    running.shutdown().await;
}
