//! The services catalogue.

use domain::service::{ServiceDefinition, ServiceEvent};
use event_store::RecordedEvent;
use sqlx::types::Json;
use sqlx::PgConnection;

use super::version;

pub(crate) async fn apply(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &ServiceEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        ServiceEvent::ServiceCreated {
            service_id,
            workspace_id,
            definition: d,
        } => {
            let sql = format!(
                "insert into {s}.services (workspace_id, id, name, duration_minutes, price_cents,
                    currency, buffer_before_minutes, buffer_after_minutes, inventory, archived,
                    created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10, $11)"
            );
            bind_definition(sqlx::query(&sql).bind(workspace_id).bind(service_id), d)
                .bind(e.recorded_at)
                .bind(version(e))
                .execute(conn)
                .await?;
        }
        ServiceEvent::ServiceUpdated {
            service_id,
            definition: d,
        } => {
            let sql = format!(
                "update {s}.services set name = $3, duration_minutes = $4, price_cents = $5,
                    currency = $6, buffer_before_minutes = $7, buffer_after_minutes = $8,
                    inventory = $9, updated_at = $10, version = $11
                 where id = $2 and workspace_id = $1"
            );
            bind_definition(sqlx::query(&sql).bind(e.workspace_id).bind(service_id), d)
                .bind(e.recorded_at)
                .bind(version(e))
                .execute(conn)
                .await?;
        }
        ServiceEvent::ServiceArchived { service_id } => {
            sqlx::query(&format!(
                "update {s}.services set archived = true, updated_at = $2, version = $3 where id = $1"
            ))
            .bind(service_id)
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn bind_definition<'q>(query: Query<'q>, d: &'q ServiceDefinition) -> Query<'q> {
    query
        .bind(d.name.as_str())
        .bind(i32::try_from(d.duration_minutes.get()).unwrap_or(i32::MAX))
        .bind(d.price.cents())
        .bind(d.price.currency().code().to_owned())
        .bind(i32::try_from(d.buffer_before_minutes.get()).unwrap_or(i32::MAX))
        .bind(i32::try_from(d.buffer_after_minutes.get()).unwrap_or(i32::MAX))
        .bind(Json(&d.inventory))
}
