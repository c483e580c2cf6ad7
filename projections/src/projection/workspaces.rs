//! Workspaces: profile, settings and activation (settings views and the public page).

use domain::workspace::WorkspaceEvent;
use event_store::RecordedEvent;
use serde_json::json;

use super::plan::{Key, Plan};
use super::version;

const INSERT: &str = "
    insert into {s}.workspaces (workspace_id, name, slug, timezone, currency, owner_id,
        settings, is_active, created_at, updated_at, version)
    select workspace_id, name, slug, timezone, currency, owner_id, settings, false, created_at,
        updated_at, version
    from jsonb_populate_recordset(null::{s}.workspaces, $1) r";

const SET_PROFILE: &str = "
    update {s}.workspaces w set name = r.name, timezone = r.timezone,
        business_email = r.business_email, business_phone = r.business_phone,
        updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.workspaces, $1) r
    where w.workspace_id = r.workspace_id";

const SET_SETTINGS: &str = "
    update {s}.workspaces w set settings = r.settings, updated_at = r.updated_at,
        version = r.version
    from jsonb_populate_recordset(null::{s}.workspaces, $1) r
    where w.workspace_id = r.workspace_id";

const ACTIVATE: &str = "
    update {s}.workspaces w set is_active = true, updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.workspaces, $1) r
    where w.workspace_id = r.workspace_id";

const SET_VERSION: &str = "
    update {s}.workspaces w set version = r.version
    from jsonb_populate_recordset(null::{s}.workspaces, $1) r
    where w.workspace_id = r.workspace_id";

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &WorkspaceEvent) {
    match ev {
        WorkspaceEvent::WorkspaceCreated {
            workspace_id,
            name,
            slug,
            timezone,
            currency,
            owner_id,
            settings,
        } => plan.add(
            INSERT,
            &[Key("workspace", *workspace_id)],
            json!({
                "workspace_id": workspace_id,
                "name": name.as_str(),
                "slug": slug.as_str(),
                "timezone": timezone.name(),
                "currency": currency.code(),
                "owner_id": owner_id,
                "settings": settings,
                "created_at": e.recorded_at,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        WorkspaceEvent::WorkspaceProfileChanged {
            workspace_id,
            name,
            timezone,
            business_email,
            business_phone,
        } => plan.add(
            SET_PROFILE,
            &[Key("workspace", *workspace_id)],
            json!({
                "workspace_id": workspace_id,
                "name": name.as_str(),
                "timezone": timezone.name(),
                "business_email": business_email.as_ref().map(|v| v.as_str()),
                "business_phone": business_phone.as_ref().map(|v| v.as_str()),
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        WorkspaceEvent::WorkspaceSettingsChanged {
            workspace_id,
            settings,
        } => plan.add(
            SET_SETTINGS,
            &[Key("workspace", *workspace_id)],
            json!({
                "workspace_id": workspace_id,
                "settings": settings,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        WorkspaceEvent::WorkspaceActivated { workspace_id } => plan.add(
            ACTIVATE,
            &[Key("workspace", *workspace_id)],
            json!({
                "workspace_id": workspace_id,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        // Nothing to show here, but the stream moved on: keep `version` (the ETag) current.
        WorkspaceEvent::IntegrationsChanged { workspace_id, .. }
        | WorkspaceEvent::AlertDismissed { workspace_id, .. } => plan.add(
            SET_VERSION,
            &[Key("workspace", *workspace_id)],
            json!({ "workspace_id": workspace_id, "version": version(e) }),
        ),
    }
}
