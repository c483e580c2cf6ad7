use super::*;
use crate::testing::{given, id};
use crate::values::Permission;
use crate::DomainEvent;

type U = UserAggregate;

fn name() -> PersonName {
    PersonName::parse("Sarah Lee").unwrap()
}
fn email() -> Email {
    Email::parse("sarah@urbanglow.example").unwrap()
}

pub(crate) fn owner_registered() -> UserEvent {
    UserEvent::OwnerRegistered {
        user_id: id(2),
        workspace_id: id(1),
        name: name().into(),
        email: email().into(),
    }
}

pub(crate) fn staff_invited() -> UserEvent {
    UserEvent::StaffInvited {
        user_id: id(3),
        workspace_id: id(1),
        name: name().into(),
        email: email().into(),
        permissions: Permissions::none().with(Permission::Bookings),
    }
}

#[test]
fn an_owner_is_registered_with_every_permission() {
    let state = given::<U>([])
        .when(RegisterOwner {
            user_id: id(2),
            workspace_id: id(1),
            name: name(),
            email: email(),
        })
        .then([owner_registered()]);
    assert_eq!(state.unwrap().effective_permissions(), Permissions::all());
}

#[test]
fn a_staff_member_is_invited_with_permissions_and_no_password() {
    given::<U>([])
        .when(InviteStaff {
            user_id: id(3),
            workspace_id: id(1),
            name: name(),
            email: email(),
            permissions: Permissions::none().with(Permission::Bookings),
        })
        .then([staff_invited()]);
    let payload = staff_invited().to_payload().to_string();
    assert!(!payload.contains("password"));
}

#[test]
fn inviting_an_existing_user_again_is_refused() {
    given::<U>([staff_invited()])
        .when(InviteStaff {
            user_id: id(3),
            workspace_id: id(1),
            name: name(),
            email: email(),
            permissions: Permissions::none(),
        })
        .then_error("already_exists");
    given::<U>([owner_registered()])
        .when(RegisterOwner {
            user_id: id(2),
            workspace_id: id(1),
            name: name(),
            email: email(),
        })
        .then_error("already_exists");
}

#[test]
fn staff_permissions_can_be_changed() {
    let state = given::<U>([staff_invited()])
        .when(ChangePermissions {
            permissions: Permissions::all(),
        })
        .then([UserEvent::PermissionsChanged {
            user_id: id(3),
            permissions: Permissions::all(),
        }]);
    assert_eq!(state.unwrap().permissions, Permissions::all());
}

#[test]
fn the_owners_permissions_cannot_be_changed() {
    given::<U>([owner_registered()])
        .when(ChangePermissions {
            permissions: Permissions::none(),
        })
        .then_error("owner_is_fixed");
}

#[test]
fn a_staff_member_is_deactivated() {
    let state = given::<U>([staff_invited()])
        .when(DeactivateUser)
        .then([UserEvent::UserDeactivated { user_id: id(3) }]);
    assert!(!state.unwrap().active);
}

#[test]
fn the_owner_cannot_be_deactivated() {
    given::<U>([owner_registered()])
        .when(DeactivateUser)
        .then_error("owner_is_fixed");
}

#[test]
fn a_deactivated_user_refuses_further_changes() {
    given::<U>([
        staff_invited(),
        UserEvent::UserDeactivated { user_id: id(3) },
    ])
    .when(DeactivateUser)
    .then_error("user_deactivated");
}

#[test]
fn commands_on_an_unknown_user_are_refused_as_not_found() {
    given::<U>([]).when(DeactivateUser).then_error("not_found");
}

#[test]
fn user_events_declare_their_personal_data() {
    let personal = staff_invited().personal_data().unwrap();
    assert_eq!(personal.subject, id(3));
    assert_eq!(personal.fields, &["name", "email"]);
}

#[test]
fn an_erased_user_still_replays() {
    let mut payload = staff_invited().to_payload();
    payload["name"] = serde_json::json!({"erased": true});
    payload["email"] = serde_json::json!({"erased": true});
    let event = UserEvent::from_payload("StaffInvited", payload).unwrap();
    let state = given::<U>([event])
        .when(DeactivateUser)
        .then([UserEvent::UserDeactivated { user_id: id(3) }]);
    assert!(state.unwrap().name.is_erased());
}
