//! Staff (every user of a workspace, the owner included) and their availability.

use domain::schedule::ScheduleEvent;
use domain::user::UserEvent;
use domain::values::Permissions;
use event_store::RecordedEvent;
use sqlx::types::Json;
use sqlx::PgConnection;

use super::{personal, version};

pub(crate) async fn apply_user(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &UserEvent,
) -> Result<(), sqlx::Error> {
    let insert = format!(
        "insert into {s}.staff (workspace_id, user_id, role, name, email, permissions, active,
            created_at, version)
         values ($1, $2, $3, $4, $5, $6, true, $7, $8)"
    );
    match ev {
        UserEvent::OwnerRegistered {
            user_id,
            workspace_id,
            name,
            email,
        } => {
            sqlx::query(&insert)
                .bind(workspace_id)
                .bind(user_id)
                .bind("owner")
                .bind(personal(name, |n| n.as_str().to_owned()))
                .bind(personal(email, |m| m.as_str().to_owned()))
                .bind(Json(Permissions::all()))
                .bind(e.recorded_at)
                .bind(version(e))
                .execute(conn)
                .await?;
        }
        UserEvent::StaffInvited {
            user_id,
            workspace_id,
            name,
            email,
            permissions,
        } => {
            sqlx::query(&insert)
                .bind(workspace_id)
                .bind(user_id)
                .bind("staff")
                .bind(personal(name, |n| n.as_str().to_owned()))
                .bind(personal(email, |m| m.as_str().to_owned()))
                .bind(Json(permissions))
                .bind(e.recorded_at)
                .bind(version(e))
                .execute(conn)
                .await?;
        }
        UserEvent::PermissionsChanged {
            user_id,
            permissions,
        } => {
            sqlx::query(&format!(
                "update {s}.staff set permissions = $2, version = $3 where user_id = $1"
            ))
            .bind(user_id)
            .bind(Json(permissions))
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        UserEvent::UserDeactivated { user_id } => {
            sqlx::query(&format!(
                "update {s}.staff set active = false, version = $2 where user_id = $1"
            ))
            .bind(user_id)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn apply_schedule(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &ScheduleEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        ScheduleEvent::AvailabilitySet {
            staff_id,
            workspace_id,
            weekly,
            exceptions,
        } => {
            sqlx::query(&format!(
                "insert into {s}.availability (workspace_id, staff_id, weekly, updated_at, version)
                 values ($1, $2, $3, $4, $5)
                 on conflict (staff_id) do update
                    set weekly = excluded.weekly, updated_at = excluded.updated_at,
                        version = excluded.version"
            ))
            .bind(workspace_id)
            .bind(staff_id)
            .bind(Json(weekly))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(&mut *conn)
            .await?;
            sqlx::query(&format!(
                "delete from {s}.availability_exceptions where staff_id = $1"
            ))
            .bind(staff_id)
            .execute(&mut *conn)
            .await?;
            for exception in exceptions {
                upsert_exception(conn, s, *workspace_id, *staff_id, exception).await?;
            }
        }
        ScheduleEvent::AvailabilityExceptionSet {
            staff_id,
            exception,
        } => {
            let workspace_id = e.workspace_id;
            upsert_exception(conn, s, workspace_id, *staff_id, exception).await?;
            touch(conn, s, e, *staff_id).await?;
        }
        ScheduleEvent::AvailabilityExceptionRemoved { staff_id, date } => {
            sqlx::query(&format!(
                "delete from {s}.availability_exceptions where staff_id = $1 and date = $2"
            ))
            .bind(staff_id)
            .bind(date)
            .execute(&mut *conn)
            .await?;
            touch(conn, s, e, *staff_id).await?;
        }
    }
    Ok(())
}

async fn upsert_exception(
    conn: &mut PgConnection,
    s: &str,
    workspace_id: uuid::Uuid,
    staff_id: uuid::Uuid,
    exception: &domain::schedule::AvailabilityException,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into {s}.availability_exceptions (workspace_id, staff_id, date, hours)
         values ($1, $2, $3, $4)
         on conflict (staff_id, date) do update set hours = excluded.hours"
    ))
    .bind(workspace_id)
    .bind(staff_id)
    .bind(exception.date)
    .bind(Json(&exception.hours))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a change of the schedule stream on its availability row (created empty when
/// an exception arrives before any weekly hours).
async fn touch(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    staff_id: uuid::Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into {s}.availability (workspace_id, staff_id, weekly, updated_at, version)
         values ($1, $2, '[]'::jsonb, $3, $4)
         on conflict (staff_id) do update
            set updated_at = excluded.updated_at, version = excluded.version"
    ))
    .bind(e.workspace_id)
    .bind(staff_id)
    .bind(e.recorded_at)
    .bind(version(e))
    .execute(conn)
    .await?;
    Ok(())
}
