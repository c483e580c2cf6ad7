//! Contacts. Erasure blanks the personal columns and keeps the row, so totals (and the
//! bookings that point at it) stay.

use domain::contact::ContactEvent;
use event_store::RecordedEvent;
use sqlx::PgConnection;

use super::{personal, version};

pub(crate) async fn apply(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &ContactEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        ContactEvent::ContactCreated {
            contact_id,
            workspace_id,
            name,
            email,
            phone,
        } => {
            sqlx::query(&format!(
                "insert into {s}.contacts (workspace_id, id, name, email, phone, erased,
                    created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
            ))
            .bind(workspace_id)
            .bind(contact_id)
            .bind(personal(name, |n| n.as_str().to_owned()))
            .bind(personal(email, |m| m.as_ref().map(|m| m.as_str().to_owned())).flatten())
            .bind(personal(phone, |p| p.as_ref().map(|p| p.as_str().to_owned())).flatten())
            .bind(name.is_erased())
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        ContactEvent::ContactUpdated {
            contact_id,
            name,
            email,
            phone,
        } => {
            sqlx::query(&format!(
                "update {s}.contacts set name = $2, email = $3, phone = $4,
                    updated_at = $5, version = $6
                 where id = $1 and not erased"
            ))
            .bind(contact_id)
            .bind(personal(name, |n| n.as_str().to_owned()))
            .bind(personal(email, |m| m.as_ref().map(|m| m.as_str().to_owned())).flatten())
            .bind(personal(phone, |p| p.as_ref().map(|p| p.as_str().to_owned())).flatten())
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        ContactEvent::ContactErased { contact_id } => {
            sqlx::query(&format!(
                "update {s}.contacts set name = null, email = null, phone = null, erased = true,
                    updated_at = $2, version = $3
                 where id = $1"
            ))
            .bind(contact_id)
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
