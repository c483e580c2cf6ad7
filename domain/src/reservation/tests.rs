use super::*;
use crate::testing::{given, id};

type R = ReservationAggregate;

fn slug() -> ReservationKey {
    ReservationKey::Slug(Slug::parse("urbanglow").unwrap())
}

fn email() -> ReservationKey {
    ReservationKey::ContactEmail {
        workspace_id: id(1),
        email: Email::parse("mia@example.com").unwrap(),
    }
}

#[test]
fn reservation_stream_ids_follow_the_design() {
    assert_eq!(slug().stream_id(), "slug-urbanglow");
    assert_eq!(
        ReservationKey::UserEmail(Email::parse("A@B.com").unwrap()).stream_id(),
        "user-email-a@b.com"
    );
    assert_eq!(
        email().stream_id(),
        format!(
            "contact-email-{}-{}",
            id(1),
            uuid::Uuid::new_v5(&id(1), b"mia@example.com")
        )
    );
}

#[test]
fn a_contact_email_stream_id_does_not_reveal_the_email_but_is_the_same_for_the_same_email() {
    let id_of = |workspace: u128, email: &str| {
        ReservationKey::ContactEmail {
            workspace_id: id(workspace),
            email: Email::parse(email).unwrap(),
        }
        .stream_id()
    };
    assert!(!id_of(1, "mia@example.com").contains("mia"));
    assert_eq!(id_of(1, "mia@example.com"), id_of(1, "Mia@Example.com"));
    assert_ne!(id_of(1, "mia@example.com"), id_of(1, "ada@example.com"));
    assert_ne!(id_of(1, "mia@example.com"), id_of(2, "mia@example.com"));
}

#[test]
fn a_free_slug_is_reserved() {
    given::<R>([])
        .when(Reserve {
            key: slug(),
            owner_id: id(1),
        })
        .then([ReservationEvent::SlugReserved {
            workspace_id: id(1),
        }]);
}

#[test]
fn a_taken_slug_is_refused() {
    given::<R>([ReservationEvent::SlugReserved {
        workspace_id: id(1),
    }])
    .when(Reserve {
        key: slug(),
        owner_id: id(9),
    })
    .then_error("already_exists");
}

#[test]
fn an_email_is_reserved_released_and_reserved_again() {
    given::<R>([])
        .when(Reserve {
            key: email(),
            owner_id: id(20),
        })
        .then([ReservationEvent::EmailReserved { owner_id: id(20) }]);
    given::<R>([ReservationEvent::EmailReserved { owner_id: id(20) }])
        .when(Release {
            key: email(),
            owner_id: id(20),
        })
        .then([ReservationEvent::EmailReleased { owner_id: id(20) }]);
    given::<R>([
        ReservationEvent::EmailReserved { owner_id: id(20) },
        ReservationEvent::EmailReleased { owner_id: id(20) },
    ])
    .when(Reserve {
        key: email(),
        owner_id: id(21),
    })
    .then([ReservationEvent::EmailReserved { owner_id: id(21) }]);
}

#[test]
fn releasing_a_value_held_by_someone_else_is_refused() {
    given::<R>([ReservationEvent::EmailReserved { owner_id: id(20) }])
        .when(Release {
            key: email(),
            owner_id: id(21),
        })
        .then_error("not_reserved");
}
