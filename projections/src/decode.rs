//! Turning a stored event into the domain's typed event.
//!
//! Projections work on the domain's event enums, so a payload that does not match its
//! declared type is an error (the projection stops and retries) rather than a silently
//! wrong read model. An event type the domain does not know (a newer producer, or an
//! aggregate without read model) decodes to `None` and is skipped.

use domain::booking::BookingEvent;
use domain::contact::ContactEvent;
use domain::conversation::ConversationEvent;
use domain::form_request::FormRequestEvent;
use domain::form_template::FormTemplateEvent;
use domain::inventory::InventoryEvent;
use domain::notification::NotificationEvent;
use domain::schedule::ScheduleEvent;
use domain::service::ServiceEvent;
use domain::user::UserEvent;
use domain::workspace::WorkspaceEvent;
use domain::DomainEvent;
use event_store::RecordedEvent;

/// A decoded event of one of the aggregates that feed read models.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    Workspace(WorkspaceEvent),
    User(UserEvent),
    Service(ServiceEvent),
    Inventory(InventoryEvent),
    Schedule(ScheduleEvent),
    Booking(BookingEvent),
    Contact(ContactEvent),
    Conversation(ConversationEvent),
    FormTemplate(FormTemplateEvent),
    FormRequest(FormRequestEvent),
    Notification(NotificationEvent),
}

/// A payload that does not fit its (known) event type.
#[derive(Debug, thiserror::Error)]
#[error("event {event_id} at {position} ({event_type}) does not decode: {source}")]
pub(crate) struct DecodeError {
    event_id: uuid::Uuid,
    position: i64,
    event_type: String,
    source: serde_json::Error,
}

fn typed<E: DomainEvent>(
    known: &[&str],
    event: &RecordedEvent,
    wrap: fn(E) -> Event,
) -> Result<Option<Event>, DecodeError> {
    if !known.contains(&event.event_type.as_str()) {
        return Ok(None);
    }
    E::from_payload_ref(&event.event_type, &event.data)
        .map(|e| Some(wrap(e)))
        .map_err(|source| DecodeError {
            event_id: event.event_id,
            position: event.position,
            event_type: event.event_type.clone(),
            source,
        })
}

/// Decodes `event` into its domain type; `None` for streams and event types the read models
/// do not know.
pub(crate) fn decode(event: &RecordedEvent) -> Result<Option<Event>, DecodeError> {
    match event.stream_type.as_str() {
        "workspace" => typed(WorkspaceEvent::EVENT_TYPES, event, Event::Workspace),
        "user" => typed(UserEvent::EVENT_TYPES, event, Event::User),
        "service" => typed(ServiceEvent::EVENT_TYPES, event, Event::Service),
        "inventory" => typed(InventoryEvent::EVENT_TYPES, event, Event::Inventory),
        "schedule" => typed(ScheduleEvent::EVENT_TYPES, event, Event::Schedule),
        "booking" => typed(BookingEvent::EVENT_TYPES, event, Event::Booking),
        "contact" => typed(ContactEvent::EVENT_TYPES, event, Event::Contact),
        "conversation" => typed(ConversationEvent::EVENT_TYPES, event, Event::Conversation),
        "form_template" => typed(FormTemplateEvent::EVENT_TYPES, event, Event::FormTemplate),
        "form_request" => typed(FormRequestEvent::EVENT_TYPES, event, Event::FormRequest),
        "notification" => typed(NotificationEvent::EVENT_TYPES, event, Event::Notification),
        _ => Ok(None),
    }
}
