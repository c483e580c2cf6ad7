//! What one may ask of a form template.

use uuid::Uuid;

use super::FormField;
use crate::aggregate::commands;
use crate::values::Name;

/// Define a new template.
#[derive(Debug, Clone, PartialEq)]
pub struct DefineTemplate {
    pub template_id: Uuid,
    pub workspace_id: Uuid,
    pub name: Name,
    pub fields: Vec<FormField>,
}

/// Replace a template's name and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateTemplate {
    pub name: Name,
    pub fields: Vec<FormField>,
}

commands!(
    /// Every form template intent.
    FormTemplateCommand {
        Define(DefineTemplate),
        Update(UpdateTemplate),
    }
);
