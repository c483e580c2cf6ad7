//! What one may ask of a form request.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::aggregate::commands;
use crate::form_template::FormTemplate;

/// Send a template to a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestForm {
    pub request_id: Uuid,
    pub workspace_id: Uuid,
    pub template_id: Uuid,
    pub contact_id: Uuid,
    pub booking_id: Option<Uuid>,
}

/// The contact submits answers; `template` is the loaded template state.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitForm {
    pub template: FormTemplate,
    pub answers: BTreeMap<String, serde_json::Value>,
    pub at: DateTime<Utc>,
}

commands!(
    /// Every form request intent.
    FormRequestCommand {
        Request(RequestForm),
        Submit(SubmitForm),
    }
);
