use super::*;
use crate::testing::{given, id};
use crate::Aggregate;

type T = FormTemplateAggregate;

fn field(key: &str, kind: FieldKind, required: bool, options: &[&str]) -> FormField {
    FormField {
        key: FieldKey::parse(key).unwrap(),
        label: Name::parse(key).unwrap(),
        kind,
        required,
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

pub(crate) fn fields() -> Vec<FormField> {
    vec![
        field("allergies", FieldKind::Textarea, false, &[]),
        field("consent", FieldKind::Checkbox, true, &[]),
        field("hair_type", FieldKind::Select, true, &["fine", "thick"]),
        field("birthday", FieldKind::Date, false, &[]),
        field("signature", FieldKind::Signature, true, &[]),
        field("nickname", FieldKind::Text, false, &[]),
    ]
}

pub(crate) fn defined() -> FormTemplateEvent {
    FormTemplateEvent::FormTemplateDefined {
        template_id: id(40),
        workspace_id: id(1),
        name: Name::parse("Intake").unwrap(),
        fields: fields(),
    }
}

#[test]
fn a_template_is_defined() {
    given::<T>([])
        .when(DefineTemplate {
            template_id: id(40),
            workspace_id: id(1),
            name: Name::parse("Intake").unwrap(),
            fields: fields(),
        })
        .then([defined()]);
}

#[test]
fn defining_a_template_twice_is_refused() {
    given::<T>([defined()])
        .when(DefineTemplate {
            template_id: id(40),
            workspace_id: id(1),
            name: Name::parse("Intake").unwrap(),
            fields: fields(),
        })
        .then_error("already_exists");
}

#[test]
fn a_template_with_bad_fields_is_refused() {
    let cases = [
        vec![],
        vec![
            field("a", FieldKind::Text, false, &[]),
            field("a", FieldKind::Date, false, &[]),
        ],
        vec![field("colour", FieldKind::Select, false, &[])],
        vec![field("colour", FieldKind::Select, false, &["red", "red"])],
        vec![field("name", FieldKind::Text, false, &["x"])],
    ];
    for bad in cases {
        given::<T>([])
            .when(DefineTemplate {
                template_id: id(40),
                workspace_id: id(1),
                name: Name::parse("Intake").unwrap(),
                fields: bad,
            })
            .then_error("invalid_value");
    }
    assert!(FieldKey::parse("First Name").is_err());
}

#[test]
fn a_template_is_updated() {
    let fewer = fields()[..2].to_vec();
    given::<T>([defined()])
        .when(UpdateTemplate {
            name: Name::parse("Intake v2").unwrap(),
            fields: fewer.clone(),
        })
        .then([FormTemplateEvent::FormTemplateUpdated {
            template_id: id(40),
            name: Name::parse("Intake v2").unwrap(),
            fields: fewer,
        }]);
    given::<T>([])
        .when(UpdateTemplate {
            name: Name::parse("x").unwrap(),
            fields: fields(),
        })
        .then_error("not_found");
}

#[test]
fn a_field_serialises_in_the_contract_shape() {
    let json =
        serde_json::to_value(field("hair_type", FieldKind::Select, true, &["fine"])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"key": "hair_type", "label": "hair_type", "kind": "select", "required": true, "options": ["fine"]})
    );
}

#[test]
fn answers_are_validated_against_the_template() {
    let template = T::replay([&defined()]).unwrap();
    let ok: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "consent": true, "hair_type": "fine", "birthday": "1990-05-01", "signature": "Mia Jones"
        }))
        .unwrap();
    let answers = template.validate_answers(&ok).unwrap();
    assert_eq!(answers.len(), 4);
    let cases = [
        (
            serde_json::json!({"hair_type": "fine", "signature": "M"}),
            "consent",
        ),
        (
            serde_json::json!({"consent": false, "hair_type": "fine", "signature": "M"}),
            "consent",
        ),
        (
            serde_json::json!({"consent": true, "hair_type": "curly", "signature": "M"}),
            "hair_type",
        ),
        (
            serde_json::json!({"consent": true, "hair_type": "fine", "signature": "M", "birthday": "01/05/1990"}),
            "birthday",
        ),
        (
            serde_json::json!({"consent": true, "hair_type": "fine", "signature": " "}),
            "signature",
        ),
        (
            serde_json::json!({"consent": true, "hair_type": "fine", "signature": "M", "shoe_size": "42"}),
            "shoe_size",
        ),
        (
            serde_json::json!({"consent": "yes", "hair_type": "fine", "signature": "M"}),
            "consent",
        ),
        (
            serde_json::json!({"consent": true, "hair_type": "fine", "signature": "M", "nickname": 3}),
            "nickname",
        ),
    ];
    for (raw, field) in cases {
        let raw = serde_json::from_value(raw).unwrap();
        assert_eq!(
            template.validate_answers(&raw).unwrap_err().field(),
            Some(field)
        );
    }
}
