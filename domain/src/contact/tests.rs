use super::*;
use crate::testing::{given, id};
use crate::{Aggregate, DomainEvent};

type C = ContactAggregate;

fn name() -> PersonName {
    PersonName::parse("Mia Jones").unwrap()
}
fn email() -> Email {
    Email::parse("mia@example.com").unwrap()
}
fn phone() -> Phone {
    Phone::parse("+447700900123").unwrap()
}

pub(crate) fn created() -> ContactEvent {
    ContactEvent::ContactCreated {
        contact_id: id(20),
        workspace_id: id(1),
        name: name().into(),
        email: Some(email()).into(),
        phone: Some(phone()).into(),
    }
}

#[test]
fn a_contact_is_created() {
    given::<C>([])
        .when(CreateContact {
            contact_id: id(20),
            workspace_id: id(1),
            name: name(),
            email: Some(email()),
            phone: Some(phone()),
        })
        .then([created()]);
}

#[test]
fn creating_a_contact_twice_is_refused() {
    given::<C>([created()])
        .when(CreateContact {
            contact_id: id(20),
            workspace_id: id(1),
            name: name(),
            email: None,
            phone: None,
        })
        .then_error("already_exists");
}

#[test]
fn a_contact_is_updated() {
    let new_email = Email::parse("mia.j@example.com").unwrap();
    given::<C>([created()])
        .when(UpdateContact {
            name: name(),
            email: Some(new_email.clone()),
            phone: None,
        })
        .then([ContactEvent::ContactUpdated {
            contact_id: id(20),
            name: name().into(),
            email: Some(new_email).into(),
            phone: None.into(),
        }]);
}

#[test]
fn updating_an_unknown_contact_is_refused_as_not_found() {
    given::<C>([])
        .when(UpdateContact {
            name: name(),
            email: None,
            phone: None,
        })
        .then_error("not_found");
}

#[test]
fn a_contact_is_erased_and_then_refuses_changes() {
    let state = given::<C>([created()])
        .when(EraseContact)
        .then([ContactEvent::ContactErased { contact_id: id(20) }]);
    assert!(state.unwrap().name.is_erased());
    given::<C>([
        created(),
        ContactEvent::ContactErased { contact_id: id(20) },
    ])
    .when(UpdateContact {
        name: name(),
        email: None,
        phone: None,
    })
    .then_error("contact_erased");
}

#[test]
fn erasing_an_erased_contact_again_is_a_conflict() {
    given::<C>([
        created(),
        ContactEvent::ContactErased { contact_id: id(20) },
    ])
    .when(EraseContact)
    .then_error("already_erased");
}

#[test]
fn erasing_an_unknown_contact_is_refused_as_not_found() {
    given::<C>([]).when(EraseContact).then_error("not_found");
}

#[test]
fn shredded_fields_read_back_as_erased() {
    let mut payload = created().to_payload();
    for field in created().personal_data().unwrap().fields {
        payload[*field] = serde_json::json!({"erased": true});
    }
    let event = ContactEvent::from_payload("ContactCreated", payload).unwrap();
    let contact = C::replay([&event]).unwrap();
    assert!(contact.name.is_erased() && contact.email.is_erased() && contact.phone.is_erased());
    assert_eq!(contact.email(), None);
}

#[test]
fn an_existing_contact_is_matched_by_email_then_phone() {
    let a = C::replay([&created()]).unwrap();
    let b = Contact {
        id: id(21),
        email: Personal::Known(None),
        phone: Some(Phone::parse("+447700900999").unwrap()).into(),
        ..a.clone()
    };
    let all = vec![b.clone(), a.clone()];
    assert_eq!(
        find_match(
            &all,
            Some(&email()),
            Some(&Phone::parse("+447700900999").unwrap())
        )
        .map(|c| c.id),
        Some(id(20))
    );
    assert_eq!(
        find_match(
            &all,
            Some(&Email::parse("x@y.com").unwrap()),
            Some(&Phone::parse("+447700900999").unwrap())
        )
        .map(|c| c.id),
        Some(id(21))
    );
    assert!(find_match(&all, None, None).is_none());
    let erased = Contact { erased: true, ..a };
    assert!(find_match(&[erased], Some(&email()), None).is_none());
}
