//! The services catalogue.

use domain::service::{ServiceDefinition, ServiceEvent};
use event_store::RecordedEvent;
use serde_json::{json, Value};

use super::plan::{Key, Plan};
use super::version;

const INSERT: &str = "
    insert into {s}.services (workspace_id, id, name, duration_minutes, price_cents, currency,
        buffer_before_minutes, buffer_after_minutes, inventory, archived, created_at,
        updated_at, version)
    select workspace_id, id, name, duration_minutes, price_cents, currency,
        buffer_before_minutes, buffer_after_minutes, inventory, false, created_at, updated_at,
        version
    from jsonb_populate_recordset(null::{s}.services, $1) r";

const UPDATE: &str = "
    update {s}.services v set name = r.name, duration_minutes = r.duration_minutes,
        price_cents = r.price_cents, currency = r.currency,
        buffer_before_minutes = r.buffer_before_minutes,
        buffer_after_minutes = r.buffer_after_minutes, inventory = r.inventory,
        updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.services, $1) r
    where v.id = r.id and v.workspace_id = r.workspace_id";

const ARCHIVE: &str = "
    update {s}.services v set archived = true, updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.services, $1) r where v.id = r.id";

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &ServiceEvent) {
    match ev {
        ServiceEvent::ServiceCreated {
            service_id,
            workspace_id,
            definition,
        } => {
            let mut row = definition_row(definition);
            row["workspace_id"] = json!(workspace_id);
            row["id"] = json!(service_id);
            row["created_at"] = json!(e.recorded_at);
            row["updated_at"] = json!(e.recorded_at);
            row["version"] = json!(version(e));
            plan.add(INSERT, &[Key("service", *service_id)], row);
        }
        ServiceEvent::ServiceUpdated {
            service_id,
            definition,
        } => {
            let mut row = definition_row(definition);
            row["workspace_id"] = json!(e.workspace_id);
            row["id"] = json!(service_id);
            row["updated_at"] = json!(e.recorded_at);
            row["version"] = json!(version(e));
            plan.add(UPDATE, &[Key("service", *service_id)], row);
        }
        ServiceEvent::ServiceArchived { service_id } => plan.add(
            ARCHIVE,
            &[Key("service", *service_id)],
            json!({
                "id": service_id,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
    }
}

/// The columns a service's definition sets.
fn definition_row(d: &ServiceDefinition) -> Value {
    json!({
        "name": d.name.as_str(),
        "duration_minutes": i32::try_from(d.duration_minutes.get()).unwrap_or(i32::MAX),
        "price_cents": d.price.cents(),
        "currency": d.price.currency().code(),
        "buffer_before_minutes": i32::try_from(d.buffer_before_minutes.get()).unwrap_or(i32::MAX),
        "buffer_after_minutes": i32::try_from(d.buffer_after_minutes.get()).unwrap_or(i32::MAX),
        "inventory": d.inventory,
    })
}
