//! Form templates and form requests (pending until submitted, with the answers).

use domain::contact::ContactEvent;
use domain::form_request::FormRequestEvent;
use domain::form_template::FormTemplateEvent;
use event_store::RecordedEvent;
use sqlx::types::Json;
use sqlx::PgConnection;

use super::version;

pub(crate) async fn apply_template(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &FormTemplateEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        FormTemplateEvent::FormTemplateDefined {
            template_id,
            workspace_id,
            name,
            fields,
        } => {
            sqlx::query(&format!(
                "insert into {s}.templates (workspace_id, id, name, fields, created_at,
                    updated_at, version)
                 values ($1, $2, $3, $4, $5, $5, $6)"
            ))
            .bind(workspace_id)
            .bind(template_id)
            .bind(name.as_str())
            .bind(Json(fields))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        FormTemplateEvent::FormTemplateUpdated {
            template_id,
            name,
            fields,
        } => {
            sqlx::query(&format!(
                "update {s}.templates set name = $2, fields = $3, updated_at = $4, version = $5
                 where id = $1"
            ))
            .bind(template_id)
            .bind(name.as_str())
            .bind(Json(fields))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn apply_request(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &FormRequestEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        FormRequestEvent::FormRequested {
            request_id,
            workspace_id,
            template_id,
            contact_id,
            booking_id,
        } => {
            sqlx::query(&format!(
                "insert into {s}.requests (workspace_id, id, template_id, contact_id, booking_id,
                    status, requested_at, version)
                 values ($1, $2, $3, $4, $5, 'pending', $6, $7)"
            ))
            .bind(workspace_id)
            .bind(request_id)
            .bind(template_id)
            .bind(contact_id)
            .bind(booking_id)
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        FormRequestEvent::FormSubmitted {
            request_id,
            answers,
            at,
            ..
        } => {
            sqlx::query(&format!(
                "update {s}.requests set status = 'submitted', answers = $2, submitted_at = $3,
                    version = $4
                 where id = $1"
            ))
            .bind(request_id)
            .bind(answers.known().map(Json))
            .bind(at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Erasing a contact removes their answers.
pub(crate) async fn apply_contact(
    conn: &mut PgConnection,
    s: &str,
    ev: &ContactEvent,
) -> Result<(), sqlx::Error> {
    if let ContactEvent::ContactErased { contact_id } = ev {
        sqlx::query(&format!(
            "update {s}.requests set answers = null where contact_id = $1"
        ))
        .bind(contact_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}
