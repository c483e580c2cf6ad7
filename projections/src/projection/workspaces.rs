//! Workspaces: profile, settings and activation (settings views and the public page).

use domain::workspace::WorkspaceEvent;
use event_store::RecordedEvent;
use sqlx::types::Json;
use sqlx::PgConnection;

use super::version;

pub(crate) async fn apply(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &WorkspaceEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        WorkspaceEvent::WorkspaceCreated {
            workspace_id,
            name,
            slug,
            timezone,
            currency,
            owner_id,
            settings,
        } => {
            sqlx::query(&format!(
                "insert into {s}.workspaces (workspace_id, name, slug, timezone, currency, owner_id,
                    settings, is_active, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, false, $8, $8, $9)"
            ))
            .bind(workspace_id)
            .bind(name.as_str())
            .bind(slug.as_str())
            .bind(timezone.name())
            .bind(currency.code())
            .bind(owner_id)
            .bind(Json(settings))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        WorkspaceEvent::WorkspaceProfileChanged {
            workspace_id,
            name,
            timezone,
            business_email,
            business_phone,
        } => {
            sqlx::query(&format!(
                "update {s}.workspaces set name = $2, timezone = $3, business_email = $4,
                    business_phone = $5, updated_at = $6, version = $7
                 where workspace_id = $1"
            ))
            .bind(workspace_id)
            .bind(name.as_str())
            .bind(timezone.name())
            .bind(business_email.as_ref().map(|v| v.as_str()))
            .bind(business_phone.as_ref().map(|v| v.as_str()))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        WorkspaceEvent::WorkspaceSettingsChanged {
            workspace_id,
            settings,
        } => {
            sqlx::query(&format!(
                "update {s}.workspaces set settings = $2, updated_at = $3, version = $4
                 where workspace_id = $1"
            ))
            .bind(workspace_id)
            .bind(Json(settings))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        WorkspaceEvent::WorkspaceActivated { workspace_id } => {
            sqlx::query(&format!(
                "update {s}.workspaces set is_active = true, updated_at = $2, version = $3
                 where workspace_id = $1"
            ))
            .bind(workspace_id)
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        // Nothing to show here, but the stream moved on: keep `version` (the ETag) current.
        WorkspaceEvent::IntegrationsChanged { workspace_id, .. }
        | WorkspaceEvent::AlertDismissed { workspace_id, .. } => {
            sqlx::query(&format!(
                "update {s}.workspaces set version = $2 where workspace_id = $1"
            ))
            .bind(workspace_id)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
