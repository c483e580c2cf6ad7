//! Form templates and form requests (pending until submitted, with the answers).

use domain::contact::ContactEvent;
use domain::form_request::FormRequestEvent;
use domain::form_template::FormTemplateEvent;
use event_store::RecordedEvent;
use serde_json::json;
use uuid::Uuid;

use super::plan::{Key, Plan};
use super::version;

const DEFINE: &str = "
    insert into {s}.templates (workspace_id, id, name, fields, created_at, updated_at, version)
    select workspace_id, id, name, fields, created_at, updated_at, version
    from jsonb_populate_recordset(null::{s}.templates, $1) r";

const REDEFINE: &str = "
    update {s}.templates t set name = r.name, fields = r.fields, updated_at = r.updated_at,
        version = r.version
    from jsonb_populate_recordset(null::{s}.templates, $1) r where t.id = r.id";

const REQUEST: &str = "
    insert into {s}.requests (workspace_id, id, template_id, contact_id, booking_id, status,
        requested_at, version)
    select workspace_id, id, template_id, contact_id, booking_id, 'pending', requested_at,
        version
    from jsonb_populate_recordset(null::{s}.requests, $1) r";

const SUBMIT: &str = "
    update {s}.requests q set status = 'submitted', answers = r.answers,
        submitted_at = r.submitted_at, version = r.version
    from jsonb_populate_recordset(null::{s}.requests, $1) r where q.id = r.id";

const ERASE_ANSWERS: &str = "
    update {s}.requests set answers = null
    where contact_id = any(array(
        select contact_id from jsonb_populate_recordset(null::{s}.requests, $1) r))";

/// The answers of every request of a contact (what an erasure blanks).
fn answers_of(contact_id: Uuid) -> Key {
    Key("form_answers_of_contact", contact_id)
}

pub(crate) fn apply_template(plan: &mut Plan, e: &RecordedEvent, ev: &FormTemplateEvent) {
    match ev {
        FormTemplateEvent::FormTemplateDefined {
            template_id,
            workspace_id,
            name,
            fields,
        } => plan.add(
            DEFINE,
            &[Key("form_template", *template_id)],
            json!({
                "workspace_id": workspace_id,
                "id": template_id,
                "name": name.as_str(),
                "fields": fields,
                "created_at": e.recorded_at,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        FormTemplateEvent::FormTemplateUpdated {
            template_id,
            name,
            fields,
        } => plan.add(
            REDEFINE,
            &[Key("form_template", *template_id)],
            json!({
                "id": template_id,
                "name": name.as_str(),
                "fields": fields,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
    }
}

pub(crate) fn apply_request(plan: &mut Plan, e: &RecordedEvent, ev: &FormRequestEvent) {
    match ev {
        FormRequestEvent::FormRequested {
            request_id,
            workspace_id,
            template_id,
            contact_id,
            booking_id,
        } => plan.add(
            REQUEST,
            &[Key("form_request", *request_id)],
            json!({
                "workspace_id": workspace_id,
                "id": request_id,
                "template_id": template_id,
                "contact_id": contact_id,
                "booking_id": booking_id,
                "requested_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        FormRequestEvent::FormSubmitted {
            request_id,
            contact_id,
            answers,
            at,
        } => plan.add(
            SUBMIT,
            &[Key("form_request", *request_id), answers_of(*contact_id)],
            json!({
                "id": request_id,
                "answers": answers.known(),
                "submitted_at": at,
                "version": version(e),
            }),
        ),
    }
}

/// Erasing a contact removes their answers.
pub(crate) fn apply_contact(plan: &mut Plan, ev: &ContactEvent) {
    if let ContactEvent::ContactErased { contact_id } = ev {
        plan.add(
            ERASE_ANSWERS,
            &[answers_of(*contact_id)],
            json!({ "contact_id": contact_id }),
        );
    }
}
