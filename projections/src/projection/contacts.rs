//! Contacts. Erasure blanks the personal columns and keeps the row, so totals (and the
//! bookings that point at it) stay.

use domain::contact::ContactEvent;
use event_store::RecordedEvent;
use serde_json::json;

use super::plan::{Key, Plan};
use super::{personal, version};

const INSERT: &str = "
    insert into {s}.contacts (workspace_id, id, name, email, phone, erased, created_at,
        updated_at, version)
    select workspace_id, id, name, email, phone, erased, created_at, updated_at, version
    from jsonb_populate_recordset(null::{s}.contacts, $1) r";

const UPDATE: &str = "
    update {s}.contacts c set name = r.name, email = r.email, phone = r.phone,
        updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.contacts, $1) r
    where c.id = r.id and not c.erased";

const ERASE: &str = "
    update {s}.contacts c set name = null, email = null, phone = null, erased = true,
        updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.contacts, $1) r where c.id = r.id";

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &ContactEvent) {
    match ev {
        ContactEvent::ContactCreated {
            contact_id,
            workspace_id,
            name,
            email,
            phone,
        } => plan.add(
            INSERT,
            &[Key("contact", *contact_id)],
            json!({
                "workspace_id": workspace_id,
                "id": contact_id,
                "name": personal(name, |n| n.as_str().to_owned()),
                "email": personal(email, |m| m.as_ref().map(|m| m.as_str().to_owned())).flatten(),
                "phone": personal(phone, |p| p.as_ref().map(|p| p.as_str().to_owned())).flatten(),
                "erased": name.is_erased(),
                "created_at": e.recorded_at,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        ContactEvent::ContactUpdated {
            contact_id,
            name,
            email,
            phone,
        } => plan.add(
            UPDATE,
            &[Key("contact", *contact_id)],
            json!({
                "id": contact_id,
                "name": personal(name, |n| n.as_str().to_owned()),
                "email": personal(email, |m| m.as_ref().map(|m| m.as_str().to_owned())).flatten(),
                "phone": personal(phone, |p| p.as_ref().map(|p| p.as_str().to_owned())).flatten(),
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        ContactEvent::ContactErased { contact_id } => plan.add(
            ERASE,
            &[Key("contact", *contact_id)],
            json!({
                "id": contact_id,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
    }
}
