//! Event payloads in the shapes of domain/EVENTS.md (the projections decode them with the
//! domain's types, so a wrong shape fails the test).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// One event for one stream.
#[derive(Debug, Clone)]
pub struct Ev {
    pub stream_type: &'static str,
    pub stream_id: String,
    pub event_type: &'static str,
    pub data: Value,
}

fn ev(stream_type: &'static str, id: Uuid, event_type: &'static str, data: Value) -> Ev {
    let prefix = stream_type.replace('_', "-");
    Ev {
        stream_type,
        stream_id: format!("{prefix}-{id}"),
        event_type,
        data,
    }
}

pub fn workspace_created(ws: Uuid, owner: Uuid, slug: &str, tz: &str) -> Ev {
    ev(
        "workspace",
        ws,
        "WorkspaceCreated",
        json!({
            "workspace_id": ws, "name": format!("Salon {slug}"), "slug": slug, "timezone": tz,
            "currency": "EUR", "owner_id": owner, "settings": {}
        }),
    )
}
pub fn workspace_activated(ws: Uuid) -> Ev {
    ev(
        "workspace",
        ws,
        "WorkspaceActivated",
        json!({ "workspace_id": ws }),
    )
}
pub fn owner_registered(ws: Uuid, user: Uuid, name: &str) -> Ev {
    ev(
        "user",
        user,
        "OwnerRegistered",
        json!({
            "user_id": user, "workspace_id": ws, "name": name,
            "email": format!("{}@example.com", user.simple())
        }),
    )
}
pub fn staff_invited(ws: Uuid, user: Uuid, name: &str) -> Ev {
    ev(
        "user",
        user,
        "StaffInvited",
        json!({
            "user_id": user, "workspace_id": ws, "name": name,
            "email": format!("{}@example.com", user.simple()),
            "permissions": {"bookings": true, "inbox": true, "contacts": false, "inventory": false, "forms": false}
        }),
    )
}
pub fn user_deactivated(user: Uuid) -> Ev {
    ev("user", user, "UserDeactivated", json!({ "user_id": user }))
}
pub fn availability_set(ws: Uuid, staff: Uuid) -> Ev {
    ev(
        "schedule",
        staff,
        "AvailabilitySet",
        json!({
            "staff_id": staff, "workspace_id": ws,
            "weekly": [{"weekday": 1, "start": "09:00", "end": "17:00"}, {"weekday": 2, "start": "09:00", "end": "12:00"}],
            "exceptions": [{"date": "2026-12-24", "hours": "closed"}]
        }),
    )
}
pub fn exception_set(staff: Uuid, date: &str) -> Ev {
    ev(
        "schedule",
        staff,
        "AvailabilityExceptionSet",
        json!({
            "staff_id": staff, "exception": {"date": date, "hours": {"open": [{"start": "10:00", "end": "14:00"}]}}
        }),
    )
}
pub fn service_created(ws: Uuid, id: Uuid, name: &str, cents: i64, items: &[(Uuid, u32)]) -> Ev {
    let inventory: Vec<Value> = items
        .iter()
        .map(|(i, q)| json!({"item_id": i, "quantity": q}))
        .collect();
    ev(
        "service",
        id,
        "ServiceCreated",
        json!({
            "service_id": id, "workspace_id": ws, "name": name, "duration_minutes": 60,
            "price": {"cents": cents, "currency": "EUR"}, "buffer_before_minutes": 0,
            "buffer_after_minutes": 15, "inventory": inventory
        }),
    )
}
pub fn service_updated(id: Uuid, name: &str, cents: i64) -> Ev {
    ev(
        "service",
        id,
        "ServiceUpdated",
        json!({
            "service_id": id, "name": name, "duration_minutes": 45,
            "price": {"cents": cents, "currency": "EUR"}, "buffer_before_minutes": 5,
            "buffer_after_minutes": 5, "inventory": []
        }),
    )
}
pub fn service_archived(id: Uuid) -> Ev {
    ev(
        "service",
        id,
        "ServiceArchived",
        json!({ "service_id": id }),
    )
}
pub fn item_created(ws: Uuid, id: Uuid, name: &str, quantity: u32, threshold: u32) -> Ev {
    ev(
        "inventory",
        id,
        "InventoryItemCreated",
        json!({
            "item_id": id, "workspace_id": ws, "name": name, "unit": "ml", "quantity": quantity, "threshold": threshold
        }),
    )
}
pub fn stock_deducted(id: Uuid, booking: Uuid, quantity: u32, after: u32) -> Ev {
    ev(
        "inventory",
        id,
        "StockDeducted",
        json!({
            "item_id": id, "booking_id": booking, "quantity": quantity, "quantity_after": after
        }),
    )
}
pub fn stock_received(id: Uuid, quantity: u32, after: u32) -> Ev {
    ev(
        "inventory",
        id,
        "StockReceived",
        json!({ "item_id": id, "quantity": quantity, "quantity_after": after }),
    )
}
pub fn stock_adjusted(id: Uuid, delta: i64, after: u32) -> Ev {
    ev(
        "inventory",
        id,
        "StockAdjusted",
        json!({
            "item_id": id, "delta": delta, "reason": "count", "quantity_after": after
        }),
    )
}
pub fn low_stock_crossed(id: Uuid, quantity: u32, threshold: u32) -> Ev {
    ev(
        "inventory",
        id,
        "LowStockCrossed",
        json!({ "item_id": id, "quantity": quantity, "threshold": threshold }),
    )
}
pub fn low_stock_cleared(id: Uuid, quantity: u32, threshold: u32) -> Ev {
    ev(
        "inventory",
        id,
        "LowStockCleared",
        json!({ "item_id": id, "quantity": quantity, "threshold": threshold }),
    )
}
pub fn contact_created(
    ws: Uuid,
    id: Uuid,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Ev {
    ev(
        "contact",
        id,
        "ContactCreated",
        json!({
            "contact_id": id, "workspace_id": ws, "name": name, "email": email, "phone": phone
        }),
    )
}
pub fn contact_updated(id: Uuid, name: &str) -> Ev {
    ev(
        "contact",
        id,
        "ContactUpdated",
        json!({
            "contact_id": id, "name": name, "email": null, "phone": "+4915112345678"
        }),
    )
}
pub fn contact_erased(id: Uuid) -> Ev {
    ev("contact", id, "ContactErased", json!({ "contact_id": id }))
}
#[allow(clippy::too_many_arguments)]
pub fn booking_created(
    ws: Uuid,
    id: Uuid,
    service: Uuid,
    staff: Uuid,
    contact: Uuid,
    start: DateTime<Utc>,
    cents: i64,
    status: &str,
    notes: Option<&str>,
) -> Ev {
    let end = start + chrono::Duration::minutes(60);
    ev(
        "booking",
        id,
        "BookingCreated",
        json!({
            "booking_id": id, "workspace_id": ws, "service_id": service, "staff_id": staff,
            "contact_id": contact, "start": start, "end": end, "buffer_before_minutes": 0,
            "buffer_after_minutes": 15, "price": {"cents": cents, "currency": "EUR"},
            "status": status, "source": {"kind": "public"}, "notes": notes,
            "calendar_dates": [start.date_naive()], "inventory": []
        }),
    )
}
pub fn booking_simple(id: Uuid, event_type: &'static str) -> Ev {
    let data = match event_type {
        "BookingCancelled" => {
            json!({ "booking_id": id, "reason": null, "by": {"kind": "customer"} })
        }
        "BookingCompleted" => json!({ "booking_id": id, "inventory_used": [] }),
        _ => json!({ "booking_id": id }),
    };
    ev("booking", id, event_type, data)
}
pub fn booking_rescheduled(
    id: Uuid,
    old: DateTime<Utc>,
    new: DateTime<Utc>,
    old_staff: Uuid,
    new_staff: Uuid,
) -> Ev {
    ev(
        "booking",
        id,
        "BookingRescheduled",
        json!({
            "booking_id": id, "old_start": old, "old_end": old + chrono::Duration::minutes(60),
            "old_staff_id": old_staff, "new_start": new, "new_end": new + chrono::Duration::minutes(60),
            "new_staff_id": new_staff, "calendar_dates": [new.date_naive()]
        }),
    )
}
pub fn conversation_started(ws: Uuid, id: Uuid, contact: Uuid) -> Ev {
    ev(
        "conversation",
        id,
        "ConversationStarted",
        json!({
            "conversation_id": id, "workspace_id": ws, "contact_id": contact, "channel": "email"
        }),
    )
}
pub fn message(id: Uuid, contact: Uuid, inbound: bool, body: &str, at: DateTime<Utc>) -> Ev {
    let message_id = Uuid::now_v7();
    if inbound {
        ev(
            "conversation",
            id,
            "MessageReceived",
            json!({
                "conversation_id": id, "message_id": message_id, "contact_id": contact,
                "channel": "email", "direction": "inbound", "body": body, "at": at
            }),
        )
    } else {
        ev(
            "conversation",
            id,
            "MessageSent",
            json!({
                "conversation_id": id, "message_id": message_id, "contact_id": contact,
                "channel": "email", "direction": "outbound", "body": body, "sent_by": null, "at": at
            }),
        )
    }
}
pub fn conversation_assigned(id: Uuid, assignee: Option<Uuid>) -> Ev {
    ev(
        "conversation",
        id,
        "ConversationAssigned",
        json!({ "conversation_id": id, "assignee": assignee }),
    )
}
pub fn conversation_closed(id: Uuid) -> Ev {
    ev(
        "conversation",
        id,
        "ConversationClosed",
        json!({ "conversation_id": id }),
    )
}
pub fn template_defined(ws: Uuid, id: Uuid) -> Ev {
    ev(
        "form_template",
        id,
        "FormTemplateDefined",
        json!({
            "template_id": id, "workspace_id": ws, "name": "Intake",
            "fields": [{"key": "allergies", "label": "Allergies", "kind": "text", "required": true},
                       {"key": "consent", "label": "Consent", "kind": "checkbox", "required": true}]
        }),
    )
}
pub fn form_requested(ws: Uuid, id: Uuid, template: Uuid, contact: Uuid) -> Ev {
    ev(
        "form_request",
        id,
        "FormRequested",
        json!({
            "request_id": id, "workspace_id": ws, "template_id": template, "contact_id": contact, "booking_id": null
        }),
    )
}
pub fn form_submitted(id: Uuid, contact: Uuid, at: DateTime<Utc>) -> Ev {
    ev(
        "form_request",
        id,
        "FormSubmitted",
        json!({
            "request_id": id, "contact_id": contact, "answers": {"allergies": "none", "consent": true}, "at": at
        }),
    )
}
/// An event type no projection knows (a newer producer). (`NotificationFailed` is known now:
/// the alerts read model shows it.)
pub fn unknown(ws: Uuid) -> Ev {
    ev(
        "notification",
        ws,
        "NotificationOpened",
        json!({ "anything": 1 }),
    )
}
