use super::*;
use crate::testing::{given, id};
use crate::values::Currency;

type S = ServiceAggregate;

fn gbp() -> Currency {
    Currency::parse("GBP").unwrap()
}

pub(crate) fn definition() -> ServiceDefinition {
    ServiceDefinition {
        name: Name::parse("Hair colouring").unwrap(),
        duration_minutes: Minutes::new(60),
        price: Money::parse(4500, "GBP").unwrap(),
        buffer_before_minutes: Minutes::new(10),
        buffer_after_minutes: Minutes::new(15),
        inventory: vec![ItemQuantity {
            item_id: id(50),
            quantity: 1,
        }],
    }
}

fn created() -> ServiceEvent {
    ServiceEvent::ServiceCreated {
        service_id: id(10),
        workspace_id: id(1),
        definition: definition(),
    }
}

#[test]
fn a_service_is_created_with_its_inventory_needs() {
    given::<S>([])
        .when(CreateService {
            service_id: id(10),
            workspace_id: id(1),
            workspace_currency: gbp(),
            definition: definition(),
        })
        .then([created()]);
}

#[test]
fn a_service_payload_uses_flat_contract_field_names() {
    let payload = crate::DomainEvent::to_payload(&created());
    assert_eq!(payload["duration_minutes"], 60);
    assert_eq!(payload["buffer_after_minutes"], 15);
    assert_eq!(payload["price"]["cents"], 4500);
    assert_eq!(payload["inventory"][0]["quantity"], 1);
}

#[test]
fn creating_a_service_twice_is_refused() {
    given::<S>([created()])
        .when(CreateService {
            service_id: id(10),
            workspace_id: id(1),
            workspace_currency: gbp(),
            definition: definition(),
        })
        .then_error("already_exists");
}

#[test]
fn a_service_with_an_invalid_definition_is_refused() {
    let too_short = ServiceDefinition {
        duration_minutes: Minutes::new(0),
        ..definition()
    };
    let twice = ServiceDefinition {
        inventory: vec![
            ItemQuantity {
                item_id: id(50),
                quantity: 1,
            },
            ItemQuantity {
                item_id: id(50),
                quantity: 2,
            },
        ],
        ..definition()
    };
    let zero = ServiceDefinition {
        inventory: vec![ItemQuantity {
            item_id: id(50),
            quantity: 0,
        }],
        ..definition()
    };
    let long_buffer = ServiceDefinition {
        buffer_before_minutes: Minutes::new(241),
        ..definition()
    };
    for (bad, field) in [
        (too_short, "duration_minutes"),
        (twice, "inventory"),
        (zero, "inventory"),
        (long_buffer, "buffer_before_minutes"),
    ] {
        let error = given::<S>([])
            .when(CreateService {
                service_id: id(10),
                workspace_id: id(1),
                workspace_currency: gbp(),
                definition: bad,
            })
            .then_error("invalid_value");
        assert_eq!(error.field(), Some(field));
    }
}

#[test]
fn a_service_priced_in_another_currency_is_refused() {
    given::<S>([])
        .when(CreateService {
            service_id: id(10),
            workspace_id: id(1),
            workspace_currency: Currency::parse("EUR").unwrap(),
            definition: definition(),
        })
        .then_error("currency_mismatch");
}

#[test]
fn a_service_is_updated() {
    let changed = ServiceDefinition {
        duration_minutes: Minutes::new(90),
        ..definition()
    };
    let state = given::<S>([created()])
        .when(UpdateService {
            workspace_currency: gbp(),
            definition: changed.clone(),
        })
        .then([ServiceEvent::ServiceUpdated {
            service_id: id(10),
            definition: changed,
        }]);
    assert_eq!(state.unwrap().definition.duration_minutes, Minutes::new(90));
}

#[test]
fn updating_an_unknown_service_is_refused_as_not_found() {
    given::<S>([])
        .when(UpdateService {
            workspace_currency: gbp(),
            definition: definition(),
        })
        .then_error("not_found");
}

#[test]
fn a_service_is_archived_and_then_refuses_changes() {
    let state = given::<S>([created()])
        .when(ArchiveService)
        .then([ServiceEvent::ServiceArchived { service_id: id(10) }]);
    assert!(state.unwrap().archived);
    given::<S>([
        created(),
        ServiceEvent::ServiceArchived { service_id: id(10) },
    ])
    .when(ArchiveService)
    .then_error("service_archived");
    given::<S>([
        created(),
        ServiceEvent::ServiceArchived { service_id: id(10) },
    ])
    .when(UpdateService {
        workspace_currency: gbp(),
        definition: definition(),
    })
    .then_error("service_archived");
}
