//! Each kind of notification reaches the right recipients once, with the right content.
//! Real PostgreSQL, the real relay and JetStream; the file transport writes the outbox.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::booking::{BookingEvent, BookingStatus};
use domain::contact::ContactEvent;
use domain::conversation::{Channel, ConversationEvent, Direction};
use domain::form_request::FormRequestEvent;
use domain::form_template::FormTemplateEvent;
use domain::inventory::InventoryEvent;
use domain::user::UserEvent;
use domain::values::{Email, MessageBody, Name, Permissions, PersonName};
use domain::Personal;
use event_store::{ExpectedVersion, Metadata, StreamWrite};
use notifier::clock::SystemClock;
use notifier::config::SystemEmailProvider;
use projections::ProjectionName;
use sqlx::PgPool;
use support::outbox::{mails, parse_mail, sms, vevent};
use support::smtp_sink::SmtpSink;
use support::*;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_booking_confirms_to_the_customer_with_an_ics_and_tells_owner_and_staff(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    // 10:00 BST on the Monday after the clocks change.
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    // A public booking: its manage token is handed over sealed with the booking's events.
    let booking_id = Uuid::now_v7();
    let token = "mt_kY3-public-manage-token";
    let sealed = service_runtime::manage_tokens::seal_manage_token(
        &env.secrets,
        booking_id,
        s.workspace_id,
        token,
        vec![9, 9, 9],
    )
    .unwrap();
    let mut tx = env.pool.begin().await.unwrap();
    env.store
        .append_in(
            &mut tx,
            s.workspace_id,
            &Metadata {
                correlation_id: Some(REQUEST_ID.into()),
                ..Metadata::default()
            },
            &[StreamWrite::new(
                "booking",
                domain::booking::stream_id(booking_id),
                ExpectedVersion::NoStream,
                vec![new_event(&booking_created(
                    &s,
                    booking_id,
                    start,
                    BookingStatus::Confirmed,
                ))],
            )],
        )
        .await
        .unwrap();
    service_runtime::manage_tokens::insert_manage_token(&mut tx, &sealed)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    env.store.appended();

    eventually("three emails and one SMS", WAIT, || async {
        mails(&env.outbox).len() == 3 && sms(&env.outbox).len() == 1
    })
    .await;
    let all = mails(&env.outbox);
    let to = |address: &str| {
        all.iter()
            .find(|m| m.to == address)
            .unwrap_or_else(|| panic!("an email to {address}"))
            .clone()
    };
    let customer = to(CUSTOMER_EMAIL);
    assert_eq!(customer.kind, "booking_confirmation");
    assert!(
        customer
            .subject
            .contains("Booking confirmed: Hair Colouring"),
        "{}",
        customer.subject
    );
    let when = "Monday 29 March 2027 at 10:00 BST (Europe/London)";
    assert!(customer.text.contains(when), "{}", customer.text);
    assert!(customer.html.contains(when), "{}", customer.html);
    assert!(customer.text.contains("Urban Glow"));
    let manage = format!("?booking={booking_id}&token={token}");
    assert!(customer.text.contains(&manage), "{}", customer.text);
    assert_eq!(customer.attachments.len(), 1);
    let (name, content_type, ics) = &customer.attachments[0];
    assert_eq!(name, "booking.ics");
    assert_eq!(content_type, "text/calendar");
    let event = vevent(std::str::from_utf8(ics).unwrap());
    assert_eq!(event["UID"], format!("{booking_id}@careops"));
    assert_eq!(event["DTSTART"], "20270329T090000Z");
    assert_eq!(event["DTEND"], "20270329T100000Z");
    assert_eq!(event["SUMMARY"], "Hair Colouring at Urban Glow");
    assert_eq!(event["LOCATION"], "Urban Glow");

    for (address, role) in [(OWNER_EMAIL, "owner"), (STAFF_EMAIL, "staff")] {
        let notice = to(address);
        assert_eq!(notice.kind, "new_booking", "{role}");
        assert!(notice
            .subject
            .contains("New booking: Hair Colouring with Ada Lovelace"));
        assert!(notice.text.contains(when));
        assert!(notice.attachments.is_empty());
    }
    let text = &sms(&env.outbox)[0];
    assert_eq!(text.to, CUSTOMER_PHONE);
    assert_eq!(text.kind, "booking_confirmation");
    assert!(text.body.contains("Mon 29 Mar 10:00 BST"), "{}", text.body);
    assert!(text.body.contains(&manage), "{}", text.body);
    // The owner's and staff's notices do not carry the customer's capability.
    assert!(all
        .iter()
        .filter(|m| m.to != CUSTOMER_EMAIL)
        .all(|m| !m.text.contains(token)));
    // The hand-over was taken once.
    let left: Option<Vec<u8>> =
        sqlx::query_scalar("select sealed_token from booking_manage_tokens where booking_id = $1")
            .bind(booking_id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(left.is_none());

    // Each delivery is recorded once, as an event without address or body. The file transport's
    // deliveries of a round are recorded together after the files are written, so wait for it.
    eventually("four deliveries recorded", WAIT, || async {
        events_of_type(&env.store, "NotificationSent").await.len() >= 4
    })
    .await;
    let sent = events_of_type(&env.store, "NotificationSent").await;
    assert_eq!(sent.len(), 4);
    for event in &sent {
        assert_eq!(event.stream_version, 1);
        let data = event.data.to_string();
        assert!(!data.contains(CUSTOMER_EMAIL) && !data.contains(CUSTOMER_PHONE));
        assert_eq!(event.data["provider"], "file");
        // The audit trail leads from the request to what it sent.
        assert_eq!(event.metadata.correlation_id.as_deref(), Some(REQUEST_ID));
        assert!(event.metadata.causation_id.is_some());
    }
    // Nothing more arrives (no second copy of anything).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mails(&env.outbox).len(), 3);
    assert_eq!(
        events_of_type(&env.store, "NotificationSent").await.len(),
        4
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_low_stock_crossing_alerts_the_owner_once_per_crossing(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let item_id = Uuid::now_v7();
    let stream = domain::inventory::stream_id(item_id);
    let crossed = InventoryEvent::LowStockCrossed {
        item_id,
        quantity: 1,
        threshold: 2,
    };
    append(
        &env.store,
        s.workspace_id,
        "inventory",
        &stream,
        &[
            InventoryEvent::InventoryItemCreated {
                item_id,
                workspace_id: s.workspace_id,
                name: Name::parse("Red Dye").unwrap(),
                unit: Name::parse("tube").unwrap(),
                quantity: 3,
                threshold: 2,
            },
            InventoryEvent::StockDeducted {
                item_id,
                booking_id: Uuid::now_v7(),
                quantity: 2,
                quantity_after: 1,
            },
            crossed.clone(),
        ],
    )
    .await;
    eventually("the low-stock alert", WAIT, || async {
        mails(&env.outbox).len() == 1
    })
    .await;
    let alert = &mails(&env.outbox)[0];
    assert_eq!(alert.to, OWNER_EMAIL);
    assert_eq!(alert.kind, "low_stock");
    assert_eq!(alert.subject, "Order Red Dye now!");
    assert!(alert.text.contains("1 tube left"));
    eventually("LowStockAlerted recorded", WAIT, || async {
        events_of_type(&env.store, "LowStockAlerted").await.len() == 1
    })
    .await;

    // Restocked, then crossing again: one more alert.
    append(
        &env.store,
        s.workspace_id,
        "inventory",
        &stream,
        &[
            InventoryEvent::StockReceived {
                item_id,
                quantity: 5,
                quantity_after: 6,
            },
            InventoryEvent::LowStockCleared {
                item_id,
                quantity: 6,
                threshold: 2,
            },
            InventoryEvent::StockDeducted {
                item_id,
                booking_id: Uuid::now_v7(),
                quantity: 5,
                quantity_after: 1,
            },
            crossed,
        ],
    )
    .await;
    eventually("the second alert", WAIT, || async {
        mails(&env.outbox).len() == 2
            && events_of_type(&env.store, "LowStockAlerted").await.len() == 2
    })
    .await;
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_invited_staff_member_gets_the_generated_password_and_it_is_kept_nowhere_else(
    pool: PgPool,
) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let user_id = Uuid::now_v7();
    let password = "kX9-generated-Pw-77";
    // As the command-api does: the event and the sealed hand-over in one transaction.
    let sealed =
        service_runtime::secrets::seal_invitation_password(&env.secrets, user_id, password)
            .unwrap();
    let mut tx = env.pool.begin().await.unwrap();
    env.store
        .append_in(
            &mut tx,
            s.workspace_id,
            &Metadata::default(),
            &[StreamWrite::new(
                "user",
                domain::user::stream_id(user_id),
                ExpectedVersion::NoStream,
                vec![new_event(&UserEvent::StaffInvited {
                    user_id,
                    workspace_id: s.workspace_id,
                    name: Personal::Known(PersonName::parse("Bea Barber").unwrap()),
                    email: Personal::Known(Email::parse("bea@urbanglow.test").unwrap()),
                    permissions: Permissions::none(),
                })],
            )],
        )
        .await
        .unwrap();
    service_runtime::secrets::insert_invitation(&mut tx, s.workspace_id, &sealed)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    env.store.appended();

    eventually("the invitation", WAIT, || async {
        mails(&env.outbox).len() == 1
    })
    .await;
    let invitation = &mails(&env.outbox)[0];
    assert_eq!(invitation.to, "bea@urbanglow.test");
    assert_eq!(invitation.kind, "staff_invitation");
    assert!(invitation.text.contains(password));
    assert!(invitation.text.contains("https://app.careops.test/login"));
    // The hand-over was taken, the row's sealed copy erased, no event holds it.
    let left: i64 = sqlx::query_scalar("select count(*) from staff_invitation_secrets")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    eventually("the row is closed", WAIT, || async {
        count_rows(&env.pool, "sent").await == 1
    })
    .await;
    let sealed_left: i64 = sqlx::query_scalar(
        "select count(*) from notifier.notifications where secret_sealed is not null",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(sealed_left, 0);
    let in_events: i64 =
        sqlx::query_scalar("select count(*) from events where data::text like '%' || $1 || '%'")
            .bind(password)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(in_events, 0);
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_form_request_emails_its_link(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let template_id = Uuid::now_v7();
    append(
        &env.store,
        s.workspace_id,
        "form_template",
        &domain::form_template::stream_id(template_id),
        &[FormTemplateEvent::FormTemplateDefined {
            template_id,
            workspace_id: s.workspace_id,
            name: Name::parse("Patch test consent").unwrap(),
            fields: vec![],
        }],
    )
    .await;
    let request_id = Uuid::now_v7();
    let token = "tok_3Hn2-secret-link";
    let sealed = service_runtime::form_tokens::seal_form_token(
        &env.secrets,
        request_id,
        s.workspace_id,
        token,
        vec![1, 2, 3],
        Utc::now() + chrono::Duration::days(7),
    )
    .unwrap();
    let mut tx = env.pool.begin().await.unwrap();
    env.store
        .append_in(
            &mut tx,
            s.workspace_id,
            &Metadata::default(),
            &[StreamWrite::new(
                "form_request",
                domain::form_request::stream_id(request_id),
                ExpectedVersion::NoStream,
                vec![new_event(&FormRequestEvent::FormRequested {
                    request_id,
                    workspace_id: s.workspace_id,
                    template_id,
                    contact_id: s.contact_id,
                    booking_id: None,
                })],
            )],
        )
        .await
        .unwrap();
    service_runtime::form_tokens::insert_form_token(&mut tx, &sealed)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    env.store.appended();

    eventually("the form link", WAIT, || async {
        mails(&env.outbox).len() == 1
    })
    .await;
    let mail = &mails(&env.outbox)[0];
    assert_eq!(mail.to, CUSTOMER_EMAIL);
    assert_eq!(mail.kind, "form_request");
    assert!(
        mail.subject.contains("Patch test consent"),
        "{}",
        mail.subject
    );
    assert!(mail
        .text
        .contains(&format!("https://app.careops.test/forms/{token}")));
    running.shutdown().await;
}

fn message_sent(
    s: &Salon,
    conversation_id: Uuid,
    channel: Channel,
    body: &str,
) -> ConversationEvent {
    ConversationEvent::MessageSent {
        conversation_id,
        message_id: Uuid::now_v7(),
        contact_id: s.contact_id,
        channel,
        direction: Direction::Outbound,
        body: Personal::Known(MessageBody::parse(body).unwrap()),
        sent_by: Some(s.owner_id),
        at: Utc::now(),
    }
}

fn message_received(s: &Salon, conversation_id: Uuid, body: &str) -> ConversationEvent {
    ConversationEvent::MessageReceived {
        conversation_id,
        message_id: Uuid::now_v7(),
        contact_id: s.contact_id,
        channel: Channel::Sms,
        direction: Direction::Inbound,
        body: Personal::Known(MessageBody::parse(body).unwrap()),
        at: Utc::now(),
    }
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn inbox_replies_go_through_the_conversation_channel_and_stop_ends_sms(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let (by_email, by_sms) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, channel) in [(by_email, Channel::Email), (by_sms, Channel::Sms)] {
        append(
            &env.store,
            s.workspace_id,
            "conversation",
            &domain::conversation::stream_id(id),
            &[ConversationEvent::ConversationStarted {
                conversation_id: id,
                workspace_id: s.workspace_id,
                contact_id: s.contact_id,
                channel,
            }],
        )
        .await;
    }
    let email_stream = domain::conversation::stream_id(by_email);
    let sms_stream = domain::conversation::stream_id(by_sms);
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &email_stream,
        &[message_sent(
            &s,
            by_email,
            Channel::Email,
            "Your colour is ready to pick up.",
        )],
    )
    .await;
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &sms_stream,
        &[message_sent(&s, by_sms, Channel::Sms, "See you at 3!")],
    )
    .await;
    eventually("the email and the SMS", WAIT, || async {
        mails(&env.outbox).len() == 1 && sms(&env.outbox).len() == 1
    })
    .await;
    let mail = &mails(&env.outbox)[0];
    assert_eq!(
        (mail.to.as_str(), mail.kind.as_str()),
        (CUSTOMER_EMAIL, "inbox_message")
    );
    assert!(mail.text.contains("Your colour is ready to pick up."));
    assert_eq!(sms(&env.outbox)[0].body, "Urban Glow: See you at 3!");

    // STOP: the next SMS reply is not sent.
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &sms_stream,
        &[message_received(&s, by_sms, "  stop ")],
    )
    .await;
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &sms_stream,
        &[message_sent(&s, by_sms, Channel::Sms, "Are you sure?")],
    )
    .await;
    eventually("the reply skipped", WAIT, || async {
        count_rows(&env.pool, "skipped").await == 1
    })
    .await;
    let reason: String = sqlx::query_scalar(
        "select last_error from notifier.notifications where status = 'skipped'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(reason, "the contact answered STOP");
    assert_eq!(sms(&env.outbox).len(), 1);

    // START: SMS again.
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &sms_stream,
        &[message_received(&s, by_sms, "Start")],
    )
    .await;
    append(
        &env.store,
        s.workspace_id,
        "conversation",
        &sms_stream,
        &[message_sent(&s, by_sms, Channel::Sms, "Welcome back")],
    )
    .await;
    eventually("the SMS after START", WAIT, || async {
        sms(&env.outbox).len() == 2
    })
    .await;
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_erased_contact_is_sent_nothing(pool: PgPool) {
    let env = Env::start(pool).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;
    append(
        &env.store,
        s.workspace_id,
        "contact",
        &domain::contact::stream_id(s.contact_id),
        &[ContactEvent::ContactErased {
            contact_id: s.contact_id,
        }],
    )
    .await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    eventually(
        "owner and staff told, customer rows skipped",
        WAIT,
        || async { mails(&env.outbox).len() == 2 && count_rows(&env.pool, "skipped").await == 2 },
    )
    .await;
    assert!(mails(&env.outbox).iter().all(|m| m.to != CUSTOMER_EMAIL));
    assert!(sms(&env.outbox).is_empty());
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn cancelling_and_rescheduling_notify_the_customer_and_the_staff(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start: chrono::DateTime<Utc> = "2027-01-20T10:00:00Z".parse().unwrap();
    let new_start: chrono::DateTime<Utc> = "2027-01-21T15:30:00Z".parse().unwrap();
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
            new_start,
            new_end: new_start + chrono::Duration::hours(1),
            new_staff_id: s.staff_id,
            calendar_dates: vec![new_start.date_naive()],
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
            reason: Some(domain::values::Reason::parse("Stylist unwell").unwrap()),
            by: domain::booking::Actor::Staff {
                user_id: s.owner_id,
            },
        }],
    )
    .await;
    let notices = |all: &[support::outbox::Mail]| {
        ["booking_rescheduled", "booking_cancelled"]
            .iter()
            .all(|kind| {
                [CUSTOMER_EMAIL, STAFF_EMAIL]
                    .iter()
                    .all(|to| all.iter().any(|m| m.kind == *kind && m.to == *to))
            })
    };
    eventually("every notice", WAIT, || async {
        notices(&mails(&env.outbox)) && sms(&env.outbox).len() >= 2
    })
    .await;
    let all = mails(&env.outbox);
    let find = |kind: &str, to: &str| {
        all.iter()
            .filter(|m| m.kind == kind && m.to == to)
            .cloned()
            .collect::<Vec<_>>()
    };
    let moved_notice = find("booking_rescheduled", CUSTOMER_EMAIL);
    assert_eq!(moved_notice.len(), 1);
    let notice = &moved_notice[0];
    assert!(notice.text.contains("from Wednesday 20 January 2027 at 10:00 GMT (Europe/London) to Thursday 21 January 2027 at 15:30 GMT (Europe/London)"), "{}", notice.text);
    let event = vevent(std::str::from_utf8(&notice.attachments[0].2).unwrap());
    assert_eq!(event["DTSTART"], "20270121T153000Z");
    assert_eq!(event["SEQUENCE"], "2");
    assert_eq!(find("booking_rescheduled", STAFF_EMAIL).len(), 1);

    let cancel_notice = find("booking_cancelled", CUSTOMER_EMAIL);
    assert_eq!(cancel_notice.len(), 1);
    assert!(cancel_notice[0].text.contains("Reason: Stylist unwell"));
    let event = vevent(std::str::from_utf8(&cancel_notice[0].attachments[0].2).unwrap());
    assert_eq!(event["STATUS"], "CANCELLED");
    assert_eq!(find("booking_cancelled", STAFF_EMAIL).len(), 1);
    let texts = sms(&env.outbox);
    let kinds: Vec<&str> = texts.iter().map(|t| t.kind.as_str()).collect();
    assert!(kinds.contains(&"booking_cancelled"));
    assert!(kinds.contains(&"booking_rescheduled"));
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_event_that_keeps_failing_is_set_aside_with_an_owner_alert(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let broken = Uuid::now_v7();
    // A booking event whose payload does not fit its type.
    env.store
        .append(
            s.workspace_id,
            &Metadata::default(),
            &[StreamWrite::new(
                "booking",
                domain::booking::stream_id(broken),
                ExpectedVersion::Any,
                vec![event_store::NewEvent::new(
                    "BookingCreated",
                    1,
                    serde_json::json!({"booking_id": broken}),
                )],
            )],
        )
        .await
        .unwrap();
    // A good event after it still gets through.
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually("the dead letter and its alert", WAIT, || async {
        events_of_type(&env.store, "NotificationFailed").await.len() == 1
    })
    .await;
    let failed = &events_of_type(&env.store, "NotificationFailed").await[0];
    assert_eq!(failed.data["kind"], "dead_letter");
    assert_eq!(
        failed.data["subject_id"],
        serde_json::json!(sqlx::query_scalar::<_, Uuid>(
            "select event_id from notifier.dead_letters"
        )
        .fetch_one(&env.pool)
        .await
        .unwrap())
    );
    eventually("the good booking's emails", WAIT, || async {
        mails(&env.outbox).len() == 3
    })
    .await;
    // The owner sees it among the dashboard's alerts (the alerts read model; the broken
    // event is a booking event, which that projection does not read).
    projections::catch_up(&env.store, &[ProjectionName::Alerts], 100)
        .await
        .unwrap();
    let alerts = projections::query::alerts::all_open(
        &env.pool,
        &projections::query::Scope::owner(s.workspace_id),
        Utc::now(),
    )
    .await
    .unwrap();
    let alert = alerts
        .iter()
        .find(|a| a.kind == "notification_failed")
        .unwrap_or_else(|| panic!("an owner alert in {alerts:?}"));
    assert_eq!(alert.severity, "critical");
    assert_eq!(
        alert.subject_id.map(|id| id.to_string()),
        failed.data["subject_id"].as_str().map(str::to_string)
    );
    assert!(
        alert.message.contains("could not be handled"),
        "{}",
        alert.message
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_pending_booking_gets_request_received_and_its_confirmation_once_confirmed(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon(&env.store, "Europe/London", settings(&[])).await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    let (booking_id, _) = book(&env.store, &s, start, BookingStatus::Pending).await;
    let of_kind = |kind: &str| {
        let kind = kind.to_string();
        let env = &env;
        move || {
            (
                mails(&env.outbox)
                    .into_iter()
                    .filter(|m| m.kind == kind)
                    .collect::<Vec<_>>(),
                sms(&env.outbox)
                    .into_iter()
                    .filter(|m| m.kind == kind)
                    .collect::<Vec<_>>(),
            )
        }
    };
    let requested = of_kind("booking_requested");
    let confirmed = of_kind("booking_confirmation");
    eventually(
        "the request received, and the owner's and staff's notices",
        WAIT,
        || async {
            requested().0.len() == 1 && requested().1.len() == 1 && mails(&env.outbox).len() == 3
        },
    )
    .await;
    let (emails, texts) = requested();
    let mail = &emails[0];
    assert_eq!(mail.to, CUSTOMER_EMAIL);
    assert!(
        mail.subject
            .starts_with("Booking request received: Hair Colouring"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains("will confirm it shortly"),
        "{}",
        mail.text
    );
    assert!(mail
        .text
        .contains("Monday 29 March 2027 at 10:00 BST (Europe/London)"));
    assert_eq!(texts[0].to, CUSTOMER_PHONE);
    assert!(confirmed().0.is_empty(), "not confirmed yet");

    append(
        &env.store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(booking_id),
        &[BookingEvent::BookingConfirmed { booking_id }],
    )
    .await;
    eventually("the confirmation by email and SMS", WAIT, || async {
        confirmed().0.len() == 1 && confirmed().1.len() == 1
    })
    .await;
    let (emails, texts) = confirmed();
    assert_eq!(emails[0].to, CUSTOMER_EMAIL);
    assert!(
        emails[0]
            .subject
            .starts_with("Booking confirmed: Hair Colouring"),
        "{}",
        emails[0].subject
    );
    assert_eq!(
        emails[0].attachments.len(),
        1,
        "the .ics comes with the confirmation"
    );
    assert_eq!(texts[0].to, CUSTOMER_PHONE);
    // Once each: no second request notice, no second "new booking" for the confirmation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(requested().0.len(), 1);
    assert_eq!(
        mails(&env.outbox)
            .iter()
            .filter(|m| m.kind == "new_booking")
            .count(),
        2
    );
    running.shutdown().await;
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn a_customer_without_a_phone_number_gets_email_only(pool: PgPool) {
    let env = Env::start(pool).await;
    let running = env.spawn(env.config(Arc::new(SystemClock))).await;
    let s = salon_named(
        &env.store,
        "Urban Glow",
        "Europe/London",
        settings(&[]),
        false,
    )
    .await;
    let start = "2027-03-29T09:00:00Z".parse().unwrap();
    book(&env.store, &s, start, BookingStatus::Confirmed).await;
    eventually("the emails sent and the SMS skipped", WAIT, || async {
        mails(&env.outbox).len() == 3 && count_rows(&env.pool, "skipped").await == 1
    })
    .await;
    assert!(mails(&env.outbox).iter().any(|m| m.to == CUSTOMER_EMAIL));
    let skipped: (String, String) = sqlx::query_as(
        "select channel, last_error from notifier.notifications where status = 'skipped'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(
        skipped,
        (
            "sms".to_string(),
            "the contact has no phone number".to_string()
        )
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sms(&env.outbox).is_empty(), "no SMS was written");
    running.shutdown().await;
}

/// JetStream drops a republished event only within its de-duplication window; beyond it (a
/// relay that republishes after a restore, a consumer recreated from the stream's start) the
/// same CloudEvent arrives again, and only the notifier's own record of processed event ids
/// stands between it and a second planning. Planned again after a reschedule, a
/// `BookingCreated` would bring back the reminders of the old start, which the reschedule
/// dropped. The test republishes the event under another `Nats-Msg-Id`, as a copy from
/// beyond the window looks to JetStream.
#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn an_event_delivered_again_under_another_message_id_is_planned_and_sent_once(pool: PgPool) {
    let env = Env::start(pool).await;
    let sink = SmtpSink::start().await;
    let mut config = env.config(Arc::new(SystemClock));
    config.email.primary = SystemEmailProvider::Smtp { url: sink.url() };
    let running = env.spawn(config).await;
    let s = salon(&env.store, "Europe/London", settings(&[60])).await;
    let start: chrono::DateTime<Utc> = "2027-03-29T09:00:00Z".parse().unwrap();
    let later: chrono::DateTime<Utc> = "2027-03-30T14:00:00Z".parse().unwrap();
    let (booking_id, created_event) = book(&env.store, &s, start, BookingStatus::Confirmed).await;
    append(
        &env.store,
        s.workspace_id,
        "booking",
        &domain::booking::stream_id(booking_id),
        &[BookingEvent::BookingRescheduled {
            booking_id,
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
    let delivered = |sink: &SmtpSink| {
        sink.received()
            .iter()
            .map(|raw| parse_mail(raw))
            .map(|m| (m.kind, m.to))
            .collect::<Vec<_>>()
    };
    // Confirmation, owner's and staff's notices; the customer's and staff's move notices.
    eventually("the five emails", WAIT, || async {
        delivered(&sink).len() == 5
    })
    .await;
    let reminders_at = || async {
        sqlx::query_scalar::<_, chrono::DateTime<Utc>>(
            "select due_at from notifier.notifications where kind = 'reminder' order by due_at",
        )
        .fetch_all(&env.pool)
        .await
        .unwrap()
    };
    let moved = later - chrono::Duration::hours(1);
    assert_eq!(
        reminders_at().await,
        [moved, moved],
        "email and SMS, for the new start"
    );
    // A delivery reaches the sink before it is recorded: wait until nothing due is pending.
    eventually("every due notification recorded", WAIT, || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from notifier.notifications where status = 'pending' and due_at <= now()",
        )
        .fetch_one(&env.pool)
        .await
        .unwrap()
            == 0
    })
    .await;
    let rows_before: Vec<(Uuid, String)> =
        sqlx::query_as("select id, status from notifier.notifications order by id")
            .fetch_all(&env.pool)
            .await
            .unwrap();

    let js = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let stream = js.get_stream(&env.stream_name).await.unwrap();
    let subject = format!("{}.{}.booking.BookingCreated", env.prefix, s.workspace_id);
    let original = stream
        .get_last_raw_message_by_subject(&subject)
        .await
        .unwrap();
    let cloud_event: serde_json::Value = serde_json::from_slice(&original.payload).unwrap();
    assert_eq!(cloud_event["id"], created_event.to_string());
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::now_v7().to_string().as_str());
    let copy = js
        .publish_with_headers(subject, headers, original.payload.clone())
        .await
        .unwrap()
        .await
        .expect("JetStream keeps the copy");
    assert!(
        !copy.duplicate,
        "another message id: not JetStream's duplicate"
    );
    eventually("the copy consumed and acknowledged", WAIT, || async {
        let stream = js.get_stream(&env.stream_name).await.unwrap();
        let info = stream.consumer_info("notifier").await.unwrap();
        info.delivered.stream_sequence >= copy.sequence
            && info.num_pending == 0
            && info.num_ack_pending == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let rows_after: Vec<(Uuid, String)> =
        sqlx::query_as("select id, status from notifier.notifications order by id")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(rows_after, rows_before, "nothing planned again");
    assert_eq!(
        reminders_at().await,
        [moved, moved],
        "the old start's reminders did not come back"
    );
    assert_eq!(delivered(&sink).len(), 5, "nothing sent again");
    let mut kinds = delivered(&sink);
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (
                "booking_confirmation".to_string(),
                CUSTOMER_EMAIL.to_string()
            ),
            (
                "booking_rescheduled".to_string(),
                CUSTOMER_EMAIL.to_string()
            ),
            ("booking_rescheduled".to_string(), STAFF_EMAIL.to_string()),
            ("new_booking".to_string(), OWNER_EMAIL.to_string()),
            ("new_booking".to_string(), STAFF_EMAIL.to_string()),
        ]
    );
    running.shutdown().await;
}
