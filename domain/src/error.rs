//! The one error type of the domain.
//!
//! Every refusal of a command is a [`DomainError`]. The HTTP layer maps it without matching every
//! variant: [`DomainError::kind`] says 422 / 409 / 404 and [`DomainError::code`] gives the stable
//! snake_case machine code that ends up in the response's `code` field.

use serde::{Deserialize, Serialize};

/// How the outside world should treat an error (the HTTP layer maps these to status codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Well-formed but breaks a rule (HTTP 422).
    Validation,
    /// Clashes with the current state: slot taken, stock short, duplicate (HTTP 409).
    Conflict,
    /// The thing does not exist (HTTP 404).
    NotFound,
}

/// A business rule that a command broke (HTTP 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The appointment does not lie inside the staff member's availability.
    OutsideAvailability,
    /// A customer tried to cancel inside the workspace's cancellation window.
    CancellationWindowPassed,
    /// The aggregate's status does not allow this command.
    InvalidTransition,
    /// The requested time is already in the past.
    InThePast,
    /// The requested time is sooner than the workspace's minimum notice.
    NoticeTooShort,
    /// The requested time is beyond the workspace's booking horizon.
    BeyondHorizon,
    /// The workspace is not active yet.
    WorkspaceInactive,
    /// The service is archived.
    ServiceArchived,
    /// The user (staff member) is deactivated.
    UserDeactivated,
    /// The contact's personal data has been erased.
    ContactErased,
    /// The conversation is closed.
    ConversationClosed,
    /// The visit has not started yet.
    BookingNotStarted,
    /// There is no pending low-stock alert to record.
    NotLowStock,
    /// Nothing is reserved under that key / booking.
    NotReserved,
    /// The owner's role or permissions cannot be changed that way.
    OwnerIsFixed,
    /// Two currencies that must agree do not.
    CurrencyMismatch,
    /// A form submission does not belong to the requested template.
    TemplateMismatch,
}

impl Rule {
    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::OutsideAvailability => "outside_availability",
            Rule::CancellationWindowPassed => "cancellation_window_passed",
            Rule::InvalidTransition => "invalid_transition",
            Rule::InThePast => "in_the_past",
            Rule::NoticeTooShort => "notice_too_short",
            Rule::BeyondHorizon => "beyond_horizon",
            Rule::WorkspaceInactive => "workspace_inactive",
            Rule::ServiceArchived => "service_archived",
            Rule::UserDeactivated => "user_deactivated",
            Rule::ContactErased => "contact_erased",
            Rule::ConversationClosed => "conversation_closed",
            Rule::BookingNotStarted => "booking_not_started",
            Rule::NotLowStock => "not_low_stock",
            Rule::NotReserved => "not_reserved",
            Rule::OwnerIsFixed => "owner_is_fixed",
            Rule::CurrencyMismatch => "currency_mismatch",
            Rule::TemplateMismatch => "template_mismatch",
        }
    }
}

/// A clash with the current state (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The time range (with buffers) overlaps an existing reservation.
    SlotUnavailable,
    /// Not enough stock (nothing was deducted, nothing was booked).
    InsufficientStock,
    /// The thing (stream, slug, email, …) already exists.
    AlreadyExists,
    /// That notification was already recorded as sent.
    AlreadySent,
    /// The low-stock alert for the current crossing was already sent.
    AlreadyAlerted,
    /// The form request was already submitted.
    AlreadySubmitted,
    /// The contact (data subject) was already erased.
    AlreadyErased,
}

impl Conflict {
    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::SlotUnavailable => "slot_unavailable",
            Conflict::InsufficientStock => "insufficient_stock",
            Conflict::AlreadyExists => "already_exists",
            Conflict::AlreadySent => "already_sent",
            Conflict::AlreadyAlerted => "already_alerted",
            Conflict::AlreadySubmitted => "already_submitted",
            Conflict::AlreadyErased => "already_erased",
        }
    }
}

/// The kind of thing that was not found (HTTP 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Workspace,
    User,
    Service,
    InventoryItem,
    Schedule,
    Calendar,
    Booking,
    Contact,
    Conversation,
    FormTemplate,
    FormRequest,
    Reservation,
    AvailabilityException,
}

impl Entity {
    /// A human name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Workspace => "workspace",
            Entity::User => "user",
            Entity::Service => "service",
            Entity::InventoryItem => "inventory item",
            Entity::Schedule => "schedule",
            Entity::Calendar => "calendar",
            Entity::Booking => "booking",
            Entity::Contact => "contact",
            Entity::Conversation => "conversation",
            Entity::FormTemplate => "form template",
            Entity::FormRequest => "form request",
            Entity::Reservation => "reservation",
            Entity::AvailabilityException => "availability exception",
        }
    }
}

/// Something an inactive workspace still lacks before it can be activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationRequirement {
    /// At least one active service.
    Service,
    /// At least one active staff member (the owner counts) with weekly availability.
    StaffWithAvailability,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value failed to parse or is out of range (422, code `invalid_value`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A business rule refused the command (422, code from [`Rule::code`]).
    #[error("{message}")]
    Rule { rule: Rule, message: String },
    /// The command clashes with current state (409, code from [`Conflict::code`]).
    #[error("{message}")]
    Conflict { conflict: Conflict, message: String },
    /// The aggregate (or a referenced one) does not exist (404, code `not_found`).
    #[error("{} {id} not found", entity.name())]
    NotFound { entity: Entity, id: String },
    /// Workspace activation refused, with everything still missing (422, code `activation_incomplete`).
    #[error("the workspace cannot be activated yet: missing {missing:?}")]
    ActivationIncomplete { missing: Vec<ActivationRequirement> },
}

impl DomainError {
    /// A value problem on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A broken business rule.
    pub fn rule(rule: Rule, message: impl Into<String>) -> Self {
        DomainError::Rule {
            rule,
            message: message.into(),
        }
    }

    /// A clash with the current state.
    pub fn conflict(conflict: Conflict, message: impl Into<String>) -> Self {
        DomainError::Conflict {
            conflict,
            message: message.into(),
        }
    }

    /// A missing aggregate.
    pub fn not_found(entity: Entity, id: impl ToString) -> Self {
        DomainError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// A refused status change.
    pub fn transition(message: impl Into<String>) -> Self {
        Self::rule(Rule::InvalidTransition, message)
    }

    /// The stable snake_case machine code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { .. } => "invalid_value",
            DomainError::Rule { rule, .. } => rule.code(),
            DomainError::Conflict { conflict, .. } => conflict.code(),
            DomainError::NotFound { .. } => "not_found",
            DomainError::ActivationIncomplete { .. } => "activation_incomplete",
        }
    }

    /// Validation (422), Conflict (409) or NotFound (404).
    pub fn kind(&self) -> ErrorKind {
        match self {
            DomainError::Invalid { .. }
            | DomainError::Rule { .. }
            | DomainError::ActivationIncomplete { .. } => ErrorKind::Validation,
            DomainError::Conflict { .. } => ErrorKind::Conflict,
            DomainError::NotFound { .. } => ErrorKind::NotFound,
        }
    }

    /// The offending field, when the problem is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
