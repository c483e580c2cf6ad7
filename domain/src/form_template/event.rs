//! What happened to a form template.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::FormField;
use crate::event::{event_type_list, event_type_names};
use crate::values::Name;
use crate::DomainEvent;

/// Events of the `form_template` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum FormTemplateEvent {
    FormTemplateDefined {
        template_id: Uuid,
        workspace_id: Uuid,
        name: Name,
        fields: Vec<FormField>,
    },
    FormTemplateUpdated {
        template_id: Uuid,
        name: Name,
        fields: Vec<FormField>,
    },
}

event_type_list!(FormTemplateEvent: FormTemplateDefined, FormTemplateUpdated);

impl DomainEvent for FormTemplateEvent {
    event_type_names!(FormTemplateDefined, FormTemplateUpdated);
}
