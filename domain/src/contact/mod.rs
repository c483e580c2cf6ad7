//! Contacts: the business's customers.
//!
//! Stream `contact-<id>`. Name, email and phone are personal data: erasing a contact records
//! `ContactErased`, after which the event store shreds the key and every field reads as erased.
//! A contact's email is kept unique per workspace by a reservation stream (`crate::reservation`).

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::ContactEvent;

use crate::values::{Email, PersonName, Phone};
use crate::Personal;

/// Stream type of contacts.
pub const STREAM_TYPE: &str = "contact";

/// `contact-<id>`.
pub fn stream_id(contact_id: Uuid) -> String {
    format!("contact-{contact_id}")
}

/// A contact (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Personal<PersonName>,
    pub email: Personal<Option<Email>>,
    pub phone: Personal<Option<Phone>>,
    pub erased: bool,
}

impl Contact {
    /// The email when known.
    pub fn email(&self) -> Option<&Email> {
        self.email.known().and_then(Option::as_ref)
    }

    /// The phone when known.
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.known().and_then(Option::as_ref)
    }
}

/// Find an existing contact for a customer: first by email, then by phone. Erased contacts never
/// match.
pub fn find_match<'a>(
    candidates: &'a [Contact],
    email: Option<&Email>,
    phone: Option<&Phone>,
) -> Option<&'a Contact> {
    let live = || candidates.iter().filter(|c| !c.erased);
    email
        .and_then(|email| live().find(|c| c.email() == Some(email)))
        .or_else(|| phone.and_then(|phone| live().find(|c| c.phone() == Some(phone))))
}

/// The state of a contact stream: `None` until created.
pub type State = Option<Contact>;

/// The contact aggregate.
pub struct ContactAggregate;

impl crate::Aggregate for ContactAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = ContactCommand;
    type Event = ContactEvent;

    fn decide(
        state: &State,
        command: &ContactCommand,
    ) -> Result<Vec<ContactEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &ContactEvent) -> State {
        evolve(state, event)
    }
}
