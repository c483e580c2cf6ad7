//! The shape shared by every aggregate: a pure `decide` and an infallible `evolve`.
//!
//! Each aggregate module also exposes free `decide`/`evolve` functions; this trait lets generic
//! code (the test harness, replay helpers, the command handler) treat them alike.

use crate::{DomainError, DomainEvent};

/// One consistency boundary (one stream).
pub trait Aggregate {
    /// The stream type stored with each event (`booking`, `calendar`, …).
    const STREAM_TYPE: &'static str;
    /// The state folded from the stream (`Default` is the state of an empty stream).
    type State: Default + Clone + std::fmt::Debug;
    /// Everything one may ask this aggregate to do (one variant per intent).
    type Command;
    /// What this aggregate records.
    type Event: DomainEvent + Clone + std::fmt::Debug + PartialEq;

    /// Decide what happens: the new events, or why not.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Apply one event. Never fails: events are facts.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Fold a whole stream.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }

    /// Decide several commands in a row, evolving between them; all or nothing.
    fn decide_all(
        state: &Self::State,
        commands: &[Self::Command],
    ) -> Result<Vec<Self::Event>, DomainError> {
        let mut state = state.clone();
        let mut all = Vec::new();
        for command in commands {
            let events = Self::decide(&state, command)?;
            state = events.iter().fold(state, Self::evolve);
            all.extend(events);
        }
        Ok(all)
    }
}

/// Declares a command enum with one variant per intent, and `From` each intent's struct.
macro_rules! commands {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident($ty:ty)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($(#[$vmeta])* $variant($ty),)*
        }
        $(impl From<$ty> for $name {
            fn from(command: $ty) -> Self {
                $name::$variant(command)
            }
        })*
    };
}
pub(crate) use commands;
