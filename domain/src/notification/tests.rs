use super::*;
use crate::testing::{given, id, utc};

type N = NotificationAggregate;

fn record_sent() -> RecordSent {
    RecordSent {
        notification_id: id(7),
        workspace_id: id(1),
        kind: NotificationKind::BookingConfirmation,
        channel: Channel::Email,
        recipient_role: RecipientRole::Customer,
        recipient_id: Some(id(30)),
        subject_id: id(40),
        provider: "resend".into(),
        at: utc("2026-03-02T09:00:00Z"),
    }
}

fn sent() -> NotificationEvent {
    NotificationEvent::NotificationSent {
        notification_id: id(7),
        workspace_id: id(1),
        kind: NotificationKind::BookingConfirmation,
        channel: Channel::Email,
        recipient_role: RecipientRole::Customer,
        recipient_id: Some(id(30)),
        subject_id: id(40),
        provider: "resend".into(),
        at: utc("2026-03-02T09:00:00Z"),
    }
}

fn record_failed(reason: &str) -> RecordFailed {
    RecordFailed {
        notification_id: id(7),
        workspace_id: id(1),
        kind: NotificationKind::Reminder,
        channel: Some(Channel::Sms),
        subject_id: id(40),
        reason: reason.into(),
        attempts: 5,
        at: utc("2026-03-02T10:00:00Z"),
    }
}

fn failed() -> NotificationEvent {
    NotificationEvent::NotificationFailed {
        notification_id: id(7),
        workspace_id: id(1),
        kind: NotificationKind::Reminder,
        channel: Some(Channel::Sms),
        subject_id: id(40),
        reason: "twilio answered 503".into(),
        attempts: 5,
        at: utc("2026-03-02T10:00:00Z"),
    }
}

fn summary_sent() -> NotificationEvent {
    NotificationEvent::DailySummarySent {
        notification_id: id(8),
        workspace_id: id(1),
        local_date: "2026-03-02".parse().unwrap(),
        channel: Channel::Email,
        provider: "file".into(),
        at: utc("2026-03-02T08:00:00Z"),
    }
}

#[test]
fn a_sent_notification_is_recorded_once() {
    let state = given::<N>([]).when(record_sent()).then([sent()]);
    assert_eq!(
        state.unwrap().outcome,
        Outcome::Sent {
            provider: "resend".into()
        }
    );
}

#[test]
fn a_notification_already_sent_cannot_be_recorded_again() {
    given::<N>([sent()])
        .when(record_sent())
        .then_error("already_sent");
}

#[test]
fn a_notification_already_sent_cannot_be_recorded_as_failed() {
    given::<N>([sent()])
        .when(record_failed("smtp timed out"))
        .then_error("already_sent");
}

#[test]
fn a_failed_notification_is_recorded_with_its_reason_and_attempts() {
    let state = given::<N>([])
        .when(record_failed("  twilio answered 503 "))
        .then([failed()]);
    assert_eq!(
        state.unwrap().outcome,
        Outcome::Failed {
            reason: "twilio answered 503".into(),
            attempts: 5
        }
    );
}

#[test]
fn a_failed_notification_is_not_recorded_as_sent_later() {
    given::<N>([failed()])
        .when(record_sent())
        .then_error("already_sent");
}

#[test]
fn a_failure_needs_a_reason() {
    given::<N>([])
        .when(record_failed("   "))
        .then_error("invalid_value");
}

#[test]
fn a_long_failure_reason_is_cut() {
    let long = "x".repeat(1000);
    let events = decide(&None, &record_failed(&long).into()).unwrap();
    match &events[0] {
        NotificationEvent::NotificationFailed { reason, .. } => assert_eq!(reason.len(), 300),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_daily_summary_is_recorded_with_its_local_date_once() {
    let command = RecordDailySummarySent {
        notification_id: id(8),
        workspace_id: id(1),
        local_date: "2026-03-02".parse().unwrap(),
        channel: Channel::Email,
        provider: "file".into(),
        at: utc("2026-03-02T08:00:00Z"),
    };
    given::<N>([]).when(command.clone()).then([summary_sent()]);
    given::<N>([summary_sent()])
        .when(command)
        .then_error("already_sent");
}

#[test]
fn a_daily_summary_is_not_recorded_as_an_ordinary_notification() {
    let mut command = record_sent();
    command.kind = NotificationKind::DailySummary;
    given::<N>([]).when(command).then_error("invalid_value");
}

#[test]
fn kinds_and_roles_round_trip_through_their_wire_names() {
    for kind in NotificationKind::ALL {
        assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.as_str())
        );
    }
    for role in RecipientRole::ALL {
        assert_eq!(RecipientRole::parse(role.as_str()), Some(role));
    }
}
