//! Timers: reminders and the follow-up fire at their instants (also across a DST change),
//! move with a reschedule and vanish with a cancellation; the daily summary fires once per
//! local day. A manual clock stands in for real time.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::booking::{Actor, BookingEvent, BookingStatus};
use domain::conversation::{Channel, ConversationEvent, Direction};
use domain::form_request::FormRequestEvent;
use domain::form_template::FormTemplateEvent;
use domain::inventory::InventoryEvent;
use domain::values::{MessageBody, Name};
use domain::Personal;
use notifier::clock::ManualClock;
use projections::ProjectionName;
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

async fn complete(env: &Env, s: &Salon, booking_id: Uuid) {
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
}

async fn follow_up_due(env: &Env, booking_id: Uuid) -> Option<DateTime<Utc>> {
    sqlx::query_scalar(
        "select due_at from notifier.notifications where kind = 'follow_up' and subject_id = $1",
    )
    .bind(booking_id)
    .fetch_optional(&env.pool)
    .await
    .unwrap()
}

fn follow_ups_from(env: &Env, salon_name: &str) -> usize {
    let subject = format!("Thank you for visiting {salon_name}");
    mails(&env.outbox)
        .iter()
        .filter(|m| m.kind == "follow_up" && m.subject == subject)
        .count()
}

/// The follow-up is an absolute instant, the visit's end plus the delay: an hour after a
/// visit that ends just before the clocks change is an hour of real time, whatever the wall
/// clock does meanwhile (in London 00:30 GMT + 1 h is 02:30 BST; in New York 01:30 EDT + 1 h
/// is 01:30 EST, the same wall-clock reading an hour later).
#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_follow_up_comes_an_hour_after_the_visit_across_a_dst_change(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let london = salon_named(
        &env.store,
        "Glow London",
        "Europe/London",
        settings(&[]),
        true,
    )
    .await;
    let new_york = salon_named(
        &env.store,
        "Glow New York",
        "America/New_York",
        settings(&[]),
        true,
    )
    .await;
    // London springs forward at 01:00 UTC on 28 March 2027; New York falls back at 06:00 UTC
    // on 7 November 2027. Both visits end half an hour before the change.
    let (in_london, _) = book(
        &env.store,
        &london,
        utc("2027-03-27T23:30:00Z"),
        BookingStatus::Confirmed,
    )
    .await;
    let (in_new_york, _) = book(
        &env.store,
        &new_york,
        utc("2027-11-07T04:30:00Z"),
        BookingStatus::Confirmed,
    )
    .await;
    complete(&env, &london, in_london).await;
    complete(&env, &new_york, in_new_york).await;
    eventually("both follow-ups planned", WAIT, || async {
        follow_up_due(&env, in_london).await.is_some()
            && follow_up_due(&env, in_new_york).await.is_some()
    })
    .await;
    assert_eq!(
        follow_up_due(&env, in_london).await,
        Some(utc("2027-03-28T01:30:00Z")),
        "02:30 BST"
    );
    assert_eq!(
        follow_up_due(&env, in_new_york).await,
        Some(utc("2027-11-07T06:30:00Z")),
        "01:30 EST"
    );

    clock.set(utc("2027-03-28T01:29:00Z"));
    settle().await;
    assert_eq!(follow_ups_from(&env, "Glow London"), 0);
    clock.set(utc("2027-03-28T01:30:00Z"));
    eventually("London's follow-up", WAIT, || async {
        follow_ups_from(&env, "Glow London") == 1
    })
    .await;

    // A wall-clock sum (01:30 + 1 h = 02:30 EST) would be an hour late: due at 01:30 EST.
    clock.set(utc("2027-11-07T06:29:00Z"));
    settle().await;
    assert_eq!(follow_ups_from(&env, "Glow New York"), 0);
    clock.set(utc("2027-11-07T06:30:00Z"));
    eventually("New York's follow-up", WAIT, || async {
        follow_ups_from(&env, "Glow New York") == 1
    })
    .await;
    eventually("each recorded once", WAIT, || async {
        events_of_type(&env.store, "FollowUpSent").await.len() == 2
    })
    .await;
    settle().await;
    assert_eq!(follow_ups_from(&env, "Glow London"), 1);
    running.shutdown().await;
}

/// The figure next to a label in the summary's text (`Bookings today      3`).
fn figure(text: &str, label: &str) -> String {
    text.lines()
        .find(|line| line.starts_with(label))
        .and_then(|line| line.split_whitespace().last())
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))
        .to_string()
}

/// The summary is the dashboard's pulse: the same read models `GET /dashboard/stats` reads,
/// at the instant the summary goes out.
#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn the_daily_summary_reports_the_dashboard_figures_of_its_day(pool: PgPool) {
    let env = Env::start(pool).await;
    let clock = ManualClock::new(utc("2027-03-12T00:00:00Z"));
    let running = env.spawn(env.config(arc_clock(&clock))).await;
    let s = salon(&env.store, "America/New_York", settings(&[])).await;
    // Friday 12 March 2027; the summary goes out at 08:00 EST = 13:00 UTC.
    let mut booked = Vec::new();
    for (start, status) in [
        ("2027-03-12T15:00:00Z", BookingStatus::Confirmed), // today, upcoming
        ("2027-03-12T20:00:00Z", BookingStatus::Pending),   // today, upcoming
        ("2027-03-12T12:00:00Z", BookingStatus::Confirmed), // today, completed below
        ("2027-03-12T14:00:00Z", BookingStatus::Confirmed), // today, cancelled below
        ("2027-03-13T16:00:00Z", BookingStatus::Confirmed), // tomorrow, 27 h ahead
        ("2027-03-10T15:00:00Z", BookingStatus::Confirmed), // Wednesday, a no-show below
    ] {
        booked.push(book(&env.store, &s, utc(start), status).await.0);
    }
    complete(&env, &s, booked[2]).await;
    for (booking_id, event) in [
        (
            booked[3],
            BookingEvent::BookingCancelled {
                booking_id: booked[3],
                reason: None,
                by: Actor::Customer,
            },
        ),
        (
            booked[5],
            BookingEvent::BookingNoShow {
                booking_id: booked[5],
            },
        ),
    ] {
        append(
            &env.store,
            s.workspace_id,
            "booking",
            &domain::booking::stream_id(booking_id),
            &[event],
        )
        .await;
    }
    // Two customers waiting for an answer.
    for body in [
        "Can I move my colour to Saturday?",
        "Do you sell gift cards?",
    ] {
        let conversation_id = Uuid::now_v7();
        append(
            &env.store,
            s.workspace_id,
            "conversation",
            &domain::conversation::stream_id(conversation_id),
            &[
                ConversationEvent::ConversationStarted {
                    conversation_id,
                    workspace_id: s.workspace_id,
                    contact_id: s.contact_id,
                    channel: Channel::Email,
                },
                ConversationEvent::MessageReceived {
                    conversation_id,
                    message_id: Uuid::now_v7(),
                    contact_id: s.contact_id,
                    channel: Channel::Email,
                    direction: Direction::Inbound,
                    body: Personal::Known(MessageBody::parse(body).unwrap()),
                    at: utc("2027-03-11T18:00:00Z"),
                },
            ],
        )
        .await;
    }
    // One item at its threshold, one well above it.
    for (name, quantity) in [("Red Dye", 2), ("Shampoo", 10)] {
        let item_id = Uuid::now_v7();
        append(
            &env.store,
            s.workspace_id,
            "inventory",
            &domain::inventory::stream_id(item_id),
            &[InventoryEvent::InventoryItemCreated {
                item_id,
                workspace_id: s.workspace_id,
                name: Name::parse(name).unwrap(),
                unit: Name::parse("tube").unwrap(),
                quantity,
                threshold: 2,
            }],
        )
        .await;
    }
    // Three consultation forms not filled in yet.
    let template_id = Uuid::now_v7();
    append(
        &env.store,
        s.workspace_id,
        "form_template",
        &domain::form_template::stream_id(template_id),
        &[FormTemplateEvent::FormTemplateDefined {
            template_id,
            workspace_id: s.workspace_id,
            name: Name::parse("Consultation").unwrap(),
            fields: vec![],
        }],
    )
    .await;
    for _ in 0..3 {
        let request_id = Uuid::now_v7();
        append(
            &env.store,
            s.workspace_id,
            "form_request",
            &domain::form_request::stream_id(request_id),
            &[FormRequestEvent::FormRequested {
                request_id,
                workspace_id: s.workspace_id,
                template_id,
                contact_id: s.contact_id,
                booking_id: None,
            }],
        )
        .await;
    }
    eventually("the summary planned", WAIT, || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from notifier.notifications where kind = 'daily_summary' and status = 'pending'",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
            == 1
    })
    .await;
    // The read models take in everything above (what `projections run` does continuously).
    projections::catch_up(&env.store, &ProjectionName::ALL, 500)
        .await
        .unwrap();

    clock.set(utc("2027-03-12T13:00:00Z"));
    eventually("the summary", WAIT, || async {
        mails(&env.outbox).iter().any(|m| m.kind == "daily_summary")
    })
    .await;
    let summary = mails(&env.outbox)
        .into_iter()
        .find(|m| m.kind == "daily_summary")
        .unwrap();
    assert_eq!(summary.to, OWNER_EMAIL);
    assert_eq!(summary.subject, "Urban Glow — your day, Friday 12 March");
    let text = &summary.text;
    assert_eq!(figure(text, "Bookings in the next 24 h"), "2", "{text}");
    assert_eq!(figure(text, "Bookings today"), "3", "{text}");
    assert_eq!(figure(text, "Unanswered messages"), "2", "{text}");
    assert_eq!(figure(text, "Items low on stock"), "1", "{text}");
    assert_eq!(figure(text, "Forms pending"), "3", "{text}");
    assert_eq!(figure(text, "No-shows (30 days)"), "1", "{text}");
    assert!(summary.html.contains("Bookings today"), "{}", summary.html);
    running.shutdown().await;
}
