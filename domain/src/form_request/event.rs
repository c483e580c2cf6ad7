//! What happened to a form request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::form_template::Answers;
use crate::{DomainEvent, Personal, PersonalData};

/// Events of the `form_request` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum FormRequestEvent {
    FormRequested {
        request_id: Uuid,
        workspace_id: Uuid,
        template_id: Uuid,
        contact_id: Uuid,
        booking_id: Option<Uuid>,
    },
    FormSubmitted {
        request_id: Uuid,
        contact_id: Uuid,
        answers: Personal<Answers>,
        at: DateTime<Utc>,
    },
}

event_type_list!(FormRequestEvent: FormRequested, FormSubmitted);

impl DomainEvent for FormRequestEvent {
    event_type_names!(FormRequested, FormSubmitted);

    fn personal_data(&self) -> Option<PersonalData> {
        match self {
            FormRequestEvent::FormSubmitted { contact_id, .. } => Some(PersonalData {
                subject: *contact_id,
                fields: &["answers"],
            }),
            FormRequestEvent::FormRequested { .. } => None,
        }
    }
}
