//! A tiny given(events) → when(command) → then(events | error) harness for aggregates.
//!
//! Every event that passes through it is also checked to survive the store round trip
//! (`to_payload` / `from_payload`), and `evolve` is run over the result, so tests exercise the
//! serialised form too.

use crate::{Aggregate, DomainError, DomainEvent};

/// Start a scenario from the events already in the stream.
pub fn given<A: Aggregate>(history: impl IntoIterator<Item = A::Event>) -> Given<A> {
    let history: Vec<A::Event> = history.into_iter().collect();
    for event in &history {
        assert_round_trips(event);
    }
    Given {
        state: A::replay(&history),
    }
}

/// The state built from the history.
pub struct Given<A: Aggregate> {
    state: A::State,
}

impl<A: Aggregate> Given<A> {
    /// Decide one command.
    pub fn when(self, command: impl Into<A::Command>) -> When<A> {
        let result = A::decide(&self.state, &command.into());
        When {
            state: self.state,
            result,
        }
    }
}

/// The outcome of a decision.
pub struct When<A: Aggregate> {
    state: A::State,
    result: Result<Vec<A::Event>, DomainError>,
}

impl<A: Aggregate> When<A> {
    /// Assert the command was accepted with exactly these events; returns the new state.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> A::State {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "unexpected events");
                for event in &events {
                    assert_round_trips(event);
                }
                events.iter().fold(self.state, A::evolve)
            }
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// Assert the command was refused with this machine code; returns the error.
    #[track_caller]
    pub fn then_error(self, code: &str) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected error {code}, got events {events:?}"),
            Err(error) => {
                assert_eq!(error.code(), code, "unexpected error {error:?}");
                error
            }
        }
    }
}

/// An event survives `to_payload` → `from_payload` unchanged.
#[track_caller]
pub fn assert_round_trips<E: DomainEvent + PartialEq + std::fmt::Debug>(event: &E) {
    let back = E::from_payload(event.event_type(), event.to_payload())
        .unwrap_or_else(|e| panic!("{} does not deserialise: {e}", event.event_type()));
    assert_eq!(&back, event, "round trip changed the event");
    assert!(event.schema_version() >= 1);
}

/// Shorthand for UTC instants in tests: `utc("2026-03-02T09:00:00Z")`.
pub fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
}

/// A fixed id per small number, so expected events are easy to write.
pub fn id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}
