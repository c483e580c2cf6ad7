//! Users: the owner and invited staff, with their permissions.
//!
//! Stream `user-<id>`. Passwords never appear here: the API generates and hashes them and keeps
//! the hash in an ordinary table. Names and emails are personal data (`Personal`).

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::UserEvent;

use crate::values::{Email, Permissions, PersonName, Role};
use crate::Personal;

/// Stream type of users.
pub const STREAM_TYPE: &str = "user";

/// `user-<id>`.
pub fn stream_id(user_id: Uuid) -> String {
    format!("user-{user_id}")
}

/// A registered or invited user (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub role: Role,
    pub name: Personal<PersonName>,
    pub email: Personal<Email>,
    pub permissions: Permissions,
    pub active: bool,
}

impl User {
    /// What this user may do (owners: everything).
    pub fn effective_permissions(&self) -> Permissions {
        match self.role {
            Role::Owner => Permissions::all(),
            Role::Staff => self.permissions,
        }
    }
}

/// The state of a user stream: `None` until registered or invited.
pub type State = Option<User>;

/// The user aggregate.
pub struct UserAggregate;

impl crate::Aggregate for UserAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = UserCommand;
    type Event = UserEvent;

    fn decide(state: &State, command: &UserCommand) -> Result<Vec<UserEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &UserEvent) -> State {
        evolve(state, event)
    }
}
