//! Staff (every user of a workspace, the owner included) and their availability.

use domain::schedule::ScheduleEvent;
use domain::user::UserEvent;
use domain::values::{Email, Permissions, PersonName};
use domain::Personal;
use event_store::RecordedEvent;
use serde_json::{json, Value};
use uuid::Uuid;

use super::plan::{Key, Plan};
use super::{personal, version};

const INSERT: &str = "
    insert into {s}.staff (workspace_id, user_id, role, name, email, permissions, active,
        created_at, version)
    select workspace_id, user_id, role, name, email, permissions, true, created_at, version
    from jsonb_populate_recordset(null::{s}.staff, $1) r";

const SET_PERMISSIONS: &str = "
    update {s}.staff t set permissions = r.permissions, version = r.version
    from jsonb_populate_recordset(null::{s}.staff, $1) r where t.user_id = r.user_id";

const DEACTIVATE: &str = "
    update {s}.staff t set active = false, version = r.version
    from jsonb_populate_recordset(null::{s}.staff, $1) r where t.user_id = r.user_id";

const SET_WEEKLY: &str = "
    insert into {s}.availability (workspace_id, staff_id, weekly, updated_at, version)
    select workspace_id, staff_id, weekly, updated_at, version
    from jsonb_populate_recordset(null::{s}.availability, $1) r
    on conflict (staff_id) do update
        set weekly = excluded.weekly, updated_at = excluded.updated_at,
            version = excluded.version";

/// Records a change of the schedule stream on its availability row (created empty when
/// an exception arrives before any weekly hours).
const TOUCH: &str = "
    insert into {s}.availability (workspace_id, staff_id, weekly, updated_at, version)
    select workspace_id, staff_id, '[]'::jsonb, updated_at, version
    from jsonb_populate_recordset(null::{s}.availability, $1) r
    on conflict (staff_id) do update
        set updated_at = excluded.updated_at, version = excluded.version";

const CLEAR_EXCEPTIONS: &str = "
    delete from {s}.availability_exceptions x
    using jsonb_populate_recordset(null::{s}.availability_exceptions, $1) r
    where x.staff_id = r.staff_id";

const SET_EXCEPTION: &str = "
    insert into {s}.availability_exceptions (workspace_id, staff_id, date, hours)
    select workspace_id, staff_id, date, hours
    from jsonb_populate_recordset(null::{s}.availability_exceptions, $1) r
    on conflict (staff_id, date) do update set hours = excluded.hours";

const REMOVE_EXCEPTION: &str = "
    delete from {s}.availability_exceptions x
    using jsonb_populate_recordset(null::{s}.availability_exceptions, $1) r
    where x.staff_id = r.staff_id and x.date = r.date";

fn staff(user_id: Uuid) -> Key {
    Key("staff", user_id)
}

fn availability(staff_id: Uuid) -> Key {
    Key("availability", staff_id)
}

/// Every exception row of a staff member (a weekly reset deletes them all).
fn exceptions(staff_id: Uuid) -> Key {
    Key("availability_exceptions", staff_id)
}

pub(crate) fn apply_user(plan: &mut Plan, e: &RecordedEvent, ev: &UserEvent) {
    match ev {
        UserEvent::OwnerRegistered {
            user_id,
            workspace_id,
            name,
            email,
        } => {
            let member = Member {
                user_id: *user_id,
                workspace_id: *workspace_id,
                name,
                email,
            };
            add_member(plan, e, &member, "owner", json!(Permissions::all()))
        }
        UserEvent::StaffInvited {
            user_id,
            workspace_id,
            name,
            email,
            permissions,
        } => {
            let member = Member {
                user_id: *user_id,
                workspace_id: *workspace_id,
                name,
                email,
            };
            add_member(plan, e, &member, "staff", json!(permissions))
        }
        UserEvent::PermissionsChanged {
            user_id,
            permissions,
        } => plan.add(
            SET_PERMISSIONS,
            &[staff(*user_id)],
            json!({ "user_id": user_id, "permissions": permissions, "version": version(e) }),
        ),
        UserEvent::UserDeactivated { user_id } => plan.add(
            DEACTIVATE,
            &[staff(*user_id)],
            json!({ "user_id": user_id, "version": version(e) }),
        ),
    }
}

/// A user joining the workspace (its owner or an invited member of staff).
struct Member<'a> {
    user_id: Uuid,
    workspace_id: Uuid,
    name: &'a Personal<PersonName>,
    email: &'a Personal<Email>,
}

fn add_member(plan: &mut Plan, e: &RecordedEvent, m: &Member<'_>, role: &str, permissions: Value) {
    plan.add(
        INSERT,
        &[staff(m.user_id)],
        json!({
            "workspace_id": m.workspace_id,
            "user_id": m.user_id,
            "role": role,
            "name": personal(m.name, |n| n.as_str().to_owned()),
            "email": personal(m.email, |a| a.as_str().to_owned()),
            "permissions": permissions,
            "created_at": e.recorded_at,
            "version": version(e),
        }),
    );
}

pub(crate) fn apply_schedule(plan: &mut Plan, e: &RecordedEvent, ev: &ScheduleEvent) {
    match ev {
        ScheduleEvent::AvailabilitySet {
            staff_id,
            workspace_id,
            weekly,
            exceptions: set,
        } => {
            plan.add(
                SET_WEEKLY,
                &[availability(*staff_id)],
                json!({
                    "workspace_id": workspace_id,
                    "staff_id": staff_id,
                    "weekly": weekly,
                    "updated_at": e.recorded_at,
                    "version": version(e),
                }),
            );
            plan.add(
                CLEAR_EXCEPTIONS,
                &[exceptions(*staff_id)],
                json!({ "staff_id": staff_id }),
            );
            for exception in set {
                set_exception(plan, *workspace_id, *staff_id, exception);
            }
        }
        ScheduleEvent::AvailabilityExceptionSet {
            staff_id,
            exception,
        } => {
            set_exception(plan, e.workspace_id, *staff_id, exception);
            touch(plan, e, *staff_id);
        }
        ScheduleEvent::AvailabilityExceptionRemoved { staff_id, date } => {
            plan.add(
                REMOVE_EXCEPTION,
                &[exceptions(*staff_id)],
                json!({ "staff_id": staff_id, "date": date }),
            );
            touch(plan, e, *staff_id);
        }
    }
}

fn set_exception(
    plan: &mut Plan,
    workspace_id: Uuid,
    staff_id: Uuid,
    exception: &domain::schedule::AvailabilityException,
) {
    plan.add(
        SET_EXCEPTION,
        &[exceptions(staff_id)],
        json!({
            "workspace_id": workspace_id,
            "staff_id": staff_id,
            "date": exception.date,
            "hours": exception.hours,
        }),
    );
}

fn touch(plan: &mut Plan, e: &RecordedEvent, staff_id: Uuid) {
    plan.add(
        TOUCH,
        &[availability(staff_id)],
        json!({
            "workspace_id": e.workspace_id,
            "staff_id": staff_id,
            "updated_at": e.recorded_at,
            "version": version(e),
        }),
    );
}
