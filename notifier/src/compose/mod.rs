//! Message content: the facts a notification is about, turned into an email (text + HTML,
//! optionally an `.ics`) or an SMS. All wording lives in [`templates`]; [`time`] shows
//! instants in the workspace's zone with the zone named; [`ics`] builds calendar entries.

pub mod ics;
mod layout;
pub mod templates;
pub mod time;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::notification::NotificationKind;
use projections::query::dashboard::DashboardStats;
use uuid::Uuid;

pub use templates::{email, sms, EmailText};

/// The workspace as messages name it.
#[derive(Debug, Clone)]
pub struct WorkspaceFacts {
    pub name: String,
    pub zone: Tz,
    /// The public booking page (`<base>/book/<slug>`).
    pub booking_page: String,
}

/// A booking as messages describe it.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    pub booking_id: Uuid,
    pub service: String,
    pub staff: String,
    pub customer: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start before a reschedule.
    pub old_start: Option<DateTime<Utc>>,
    /// `45.00 EUR`.
    pub price: String,
    pub reason: Option<String>,
    /// For reminders: how long before the start.
    pub offset_minutes: Option<u32>,
    /// Where the customer manages (reschedules, cancels) the booking.
    pub manage_url: String,
    /// The booking stream's version (the `.ics` SEQUENCE).
    pub sequence: u64,
}

/// The owner's daily pulse.
#[derive(Debug, Clone)]
pub struct SummaryFacts {
    pub local_date: NaiveDate,
    pub stats: DashboardStats,
}

/// What one notification is about.
#[derive(Debug, Clone)]
pub enum Facts {
    /// Confirmation, request received, new booking, reschedule, cancellation, reminder,
    /// follow-up (the kind says which).
    Booking(NotificationKind, BookingFacts),
    StaffInvitation {
        staff_name: String,
        login_email: String,
        password: String,
        login_url: String,
    },
    LowStock {
        item: String,
        unit: String,
        quantity: u32,
        threshold: u32,
    },
    FormRequest {
        customer: String,
        form: String,
        /// `None` when the link token is not available (the email says to ask the business).
        link: Option<String>,
    },
    InboxMessage {
        customer: String,
        body: String,
    },
    DailySummary(SummaryFacts),
}
