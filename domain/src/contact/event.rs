//! What happened to a contact.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::values::{Email, PersonName, Phone};
use crate::{DomainEvent, Personal, PersonalData};

/// Events of the `contact` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum ContactEvent {
    ContactCreated {
        contact_id: Uuid,
        workspace_id: Uuid,
        name: Personal<PersonName>,
        #[serde(default)]
        email: Personal<Option<Email>>,
        #[serde(default)]
        phone: Personal<Option<Phone>>,
    },
    ContactUpdated {
        contact_id: Uuid,
        name: Personal<PersonName>,
        #[serde(default)]
        email: Personal<Option<Email>>,
        #[serde(default)]
        phone: Personal<Option<Phone>>,
    },
    /// The data subject's key is to be shredded; nothing personal is carried.
    ContactErased { contact_id: Uuid },
}

event_type_list!(ContactEvent: ContactCreated, ContactUpdated, ContactErased);

impl DomainEvent for ContactEvent {
    event_type_names!(ContactCreated, ContactUpdated, ContactErased);

    fn personal_data(&self) -> Option<PersonalData> {
        match self {
            ContactEvent::ContactCreated { contact_id, .. }
            | ContactEvent::ContactUpdated { contact_id, .. } => Some(PersonalData {
                subject: *contact_id,
                fields: &["name", "email", "phone"],
            }),
            ContactEvent::ContactErased { .. } => None,
        }
    }
}
