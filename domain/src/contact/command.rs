//! What one may ask of a contact.

use uuid::Uuid;

use crate::aggregate::commands;
use crate::values::{Email, PersonName, Phone};

/// Create a contact (the caller matched existing ones with `find_match` first).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateContact {
    pub contact_id: Uuid,
    pub workspace_id: Uuid,
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// Replace name, email and phone.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateContact {
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// Erase the contact's personal data (GDPR); anonymous history stays.
#[derive(Debug, Clone, PartialEq)]
pub struct EraseContact;

commands!(
    /// Every contact intent.
    ContactCommand {
        Create(CreateContact),
        Update(UpdateContact),
        Erase(EraseContact),
    }
);
