//! Erasing a contact, end to end through the encrypted log: the read models lose the personal
//! data when they apply `ContactErased`, and a rebuild, which reads the old events already as
//! erased, ends with exactly the same tables.

mod support;

use chrono::{Duration, Utc};
use domain::booking::BookingEvent;
use domain::contact::ContactEvent;
use domain::conversation::ConversationEvent;
use domain::form_request::FormRequestEvent;
use domain::user::UserEvent;
use domain::{DomainEvent, PersonalData};
use event_store::{EventStore, ExpectedVersion, Metadata, NewEvent, StreamWrite};
use projections::rebuild::{ProgressMode, RebuildOptions};
use projections::ProjectionName;
use serde_json::json;
use sqlx::PgPool;
use support::events::*;
use support::{assert_same, catch_up, dump, Ev};
use uuid::Uuid;

/// The personal data the domain declares for `e` (so that the store encrypts it as the
/// command side's appends do).
fn personal_data(e: &Ev) -> Option<PersonalData> {
    fn of<E: DomainEvent>(e: &Ev) -> Option<PersonalData> {
        E::from_payload(e.event_type, e.data.clone())
            .expect("a valid payload")
            .personal_data()
    }
    match e.stream_type {
        "contact" => of::<ContactEvent>(e),
        "booking" => of::<BookingEvent>(e),
        "conversation" => of::<ConversationEvent>(e),
        "form_request" => of::<FormRequestEvent>(e),
        "user" => of::<UserEvent>(e),
        _ => None,
    }
}

/// Appends `events` in one transaction with their personal fields encrypted; a
/// `ContactErased` shreds that contact's key in the same transaction.
async fn append(store: &EventStore, ws: Uuid, events: Vec<Ev>) {
    let mut writes: Vec<StreamWrite> = Vec::new();
    let mut erase: Vec<Uuid> = Vec::new();
    for e in events {
        if e.event_type == "ContactErased" {
            erase.push(e.data["contact_id"].as_str().unwrap().parse().unwrap());
        }
        let mut event = NewEvent::new(e.event_type, 1, e.data.clone());
        if let Some(p) = personal_data(&e) {
            event = event.with_personal_fields(p.subject, p.fields.iter().copied());
        }
        match writes.iter_mut().find(|w| w.stream_id == e.stream_id) {
            Some(w) => w.events.push(event),
            None => writes.push(StreamWrite::new(
                e.stream_type,
                e.stream_id,
                ExpectedVersion::Any,
                vec![event],
            )),
        }
    }
    let mut tx = store.pool().begin().await.unwrap();
    for subject in erase {
        event_store::erase_subject(&mut tx, ws, subject)
            .await
            .unwrap();
    }
    store
        .append_in(&mut tx, ws, &Metadata::default(), &writes)
        .await
        .expect("append");
    tx.commit().await.unwrap();
    store.appended();
}

/// How many rows of the live read models mention `needle`.
fn mentions(dump: &[(String, Vec<String>)], needle: &str) -> usize {
    dump.iter()
        .flat_map(|(_, rows)| rows)
        .filter(|row| row.contains(needle))
        .count()
}

/// A customer's whole story: contact, a booking with notes, a conversation both ways, a
/// submitted form. Every personal value carries `tag`.
fn customer(ws: Uuid, staff: Uuid, service: Uuid, template: Uuid, tag: &str) -> (Uuid, Vec<Ev>) {
    let contact = Uuid::now_v7();
    let conversation = Uuid::now_v7();
    let request = Uuid::now_v7();
    let at = Utc::now() + Duration::days(2);
    let mut submitted = form_submitted(request, contact, at);
    submitted.data["answers"]["allergies"] = json!(format!("{tag} allergy"));
    let events = vec![
        contact_created(
            ws,
            contact,
            &format!("{tag} Person"),
            Some(&format!("{}@example.com", tag.to_lowercase())),
            Some("+447700900321"),
        ),
        booking_created(
            ws,
            Uuid::now_v7(),
            service,
            staff,
            contact,
            at,
            4500,
            "confirmed",
            Some(&format!("{tag} notes")),
        ),
        conversation_started(ws, conversation, contact),
        message(conversation, contact, true, &format!("{tag} asks"), at),
        message(conversation, contact, false, &format!("{tag} answered"), at),
        form_requested(ws, request, template, contact),
        submitted,
    ];
    (contact, events)
}

#[sqlx::test(migrator = "event_store::MIGRATOR")]
async fn after_an_erasure_the_incremental_read_models_hold_no_trace_and_equal_a_rebuild(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let (ws, owner, service, template) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    append(
        &store,
        ws,
        vec![
            workspace_created(ws, owner, "erasure", "Europe/Berlin"),
            owner_registered(ws, owner, "Olivia Owner"),
            service_created(ws, service, "Cut", 4500, &[]),
            template_defined(ws, template),
        ],
    )
    .await;
    let (zelda, zelda_events) = customer(ws, owner, service, template, "Zelda");
    let (yannick, yann_events) = customer(ws, owner, service, template, "Yannick");
    append(&store, ws, zelda_events.clone()).await;
    append(&store, ws, yann_events).await;
    catch_up(&store).await;

    // Applied while the key existed: the read models show Zelda in clear.
    let before = dump(&pool).await;
    assert!(mentions(&before, "Zelda") >= 5, "{before:?}");
    let raw_plain: i64 =
        sqlx::query_scalar("select count(*) from events where data::text like '%Zelda%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(raw_plain, 0, "the log holds no plaintext");

    // Erase Zelda, then more happens to her anonymous records and to Yannick.
    append(&store, ws, vec![contact_erased(zelda)]).await;
    let booking = zelda_events[1].data["booking_id"].as_str().unwrap();
    let conversation = zelda_events[2].data["conversation_id"].as_str().unwrap();
    append(
        &store,
        ws,
        vec![
            booking_simple(booking.parse().unwrap(), "BookingCompleted"),
            conversation_closed(conversation.parse().unwrap()),
            contact_updated(yannick, "Yannick Renamed"),
        ],
    )
    .await;
    catch_up(&store).await;

    let incremental = dump(&pool).await;
    assert_eq!(mentions(&incremental, "Zelda"), 0, "{incremental:?}");
    assert_eq!(mentions(&incremental, "zelda"), 0);
    assert!(
        mentions(&incremental, "Yannick") >= 5,
        "others are untouched"
    );
    let table = |name: &str| {
        incremental
            .iter()
            .find(|(t, _)| t == name)
            .map(|(_, rows)| rows.clone())
            .unwrap()
    };
    assert_eq!(
        table("rm_contacts.contacts").len(),
        2,
        "the erased contact stays"
    );
    assert_eq!(table("rm_bookings.bookings").len(), 2, "its booking stays");
    assert_eq!(
        table("rm_inbox.messages").len(),
        4,
        "its messages stay, blank"
    );
    assert_eq!(table("rm_forms.requests").len(), 2);
    assert!(table("rm_contacts.contacts")
        .iter()
        .any(|r| r.contains("\"erased\": true") && r.contains("\"name\": null")));

    let reports = projections::rebuild(
        &store,
        &ProjectionName::ALL,
        &RebuildOptions {
            fresh: true,
            batch_size: 1000,
            progress: ProgressMode::Quiet,
            parallel: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(reports.len(), ProjectionName::ALL.len());
    let rebuilt = dump(&pool).await;
    assert_same(&incremental, &rebuilt);
}
