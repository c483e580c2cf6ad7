use std::collections::BTreeMap;

use super::*;
use crate::form_template::{
    Answer, FieldKey, FormTemplate, FormTemplateAggregate, FormTemplateEvent,
};
use crate::testing::{given, id, utc};
use crate::values::Name;
use crate::{Aggregate, DomainEvent};

type R = FormRequestAggregate;

fn template() -> FormTemplate {
    let fields = vec![crate::form_template::FormField {
        key: FieldKey::parse("consent").unwrap(),
        label: Name::parse("I agree").unwrap(),
        kind: crate::form_template::FieldKind::Checkbox,
        required: true,
        options: vec![],
    }];
    let defined = FormTemplateEvent::FormTemplateDefined {
        template_id: id(40),
        workspace_id: id(1),
        name: Name::parse("Consent").unwrap(),
        fields,
    };
    FormTemplateAggregate::replay([&defined]).unwrap()
}

fn requested() -> FormRequestEvent {
    FormRequestEvent::FormRequested {
        request_id: id(41),
        workspace_id: id(1),
        template_id: id(40),
        contact_id: id(20),
        booking_id: Some(id(100)),
    }
}

fn raw(consent: bool) -> BTreeMap<String, serde_json::Value> {
    [("consent".to_string(), serde_json::Value::Bool(consent))]
        .into_iter()
        .collect()
}

fn submitted() -> FormRequestEvent {
    let answers = [(FieldKey::parse("consent").unwrap(), Answer::Checked(true))]
        .into_iter()
        .collect();
    FormRequestEvent::FormSubmitted {
        request_id: id(41),
        contact_id: id(20),
        answers: crate::Personal::Known(answers),
        at: utc("2026-03-01T10:00:00Z"),
    }
}

#[test]
fn a_form_is_requested_for_a_contact_and_booking() {
    given::<R>([])
        .when(RequestForm {
            request_id: id(41),
            workspace_id: id(1),
            template_id: id(40),
            contact_id: id(20),
            booking_id: Some(id(100)),
        })
        .then([requested()]);
}

#[test]
fn requesting_the_same_form_twice_is_refused() {
    given::<R>([requested()])
        .when(RequestForm {
            request_id: id(41),
            workspace_id: id(1),
            template_id: id(40),
            contact_id: id(20),
            booking_id: None,
        })
        .then_error("already_exists");
}

#[test]
fn valid_answers_are_submitted() {
    given::<R>([requested()])
        .when(SubmitForm {
            template: template(),
            answers: raw(true),
            at: utc("2026-03-01T10:00:00Z"),
        })
        .then([submitted()]);
    assert_eq!(submitted().personal_data().unwrap().fields, &["answers"]);
}

#[test]
fn invalid_answers_are_refused_with_the_field() {
    let error = given::<R>([requested()])
        .when(SubmitForm {
            template: template(),
            answers: raw(false),
            at: utc("2026-03-01T10:00:00Z"),
        })
        .then_error("invalid_value");
    assert_eq!(error.field(), Some("consent"));
}

#[test]
fn answers_for_another_template_are_refused() {
    let other = FormTemplate {
        id: id(49),
        ..template()
    };
    given::<R>([requested()])
        .when(SubmitForm {
            template: other,
            answers: raw(true),
            at: utc("2026-03-01T10:00:00Z"),
        })
        .then_error("template_mismatch");
}

#[test]
fn a_form_is_submitted_only_once() {
    given::<R>([requested(), submitted()])
        .when(SubmitForm {
            template: template(),
            answers: raw(true),
            at: utc("2026-03-01T10:00:00Z"),
        })
        .then_error("already_submitted");
}

#[test]
fn submitting_an_unknown_request_is_refused_as_not_found() {
    given::<R>([])
        .when(SubmitForm {
            template: template(),
            answers: raw(true),
            at: utc("2026-03-01T10:00:00Z"),
        })
        .then_error("not_found");
}

#[test]
fn erased_answers_still_replay() {
    let mut payload = submitted().to_payload();
    payload["answers"] = serde_json::json!({"erased": true});
    let event = FormRequestEvent::from_payload("FormSubmitted", payload).unwrap();
    let state = R::replay([&requested(), &event]).unwrap();
    assert_eq!(
        state.status,
        FormRequestStatus::Submitted {
            answers: crate::Personal::Erased
        }
    );
}
