//! From events to planned notifications (rows of `notifier.notifications`).
//!
//! The planner runs inside the transaction that records the event as processed, so an event
//! plans its rows exactly once however often JetStream delivers it. It decides *who* should
//! hear *what* and *when*; whether a row is still worth sending (the booking may have been
//! cancelled since, the contact erased, the phone missing) is decided when it is due, by the
//! dispatcher, from the streams as they are then.
//!
//! | event | rows |
//! |---|---|
//! | `BookingCreated` | customer confirmation (or "request received" when pending), email + SMS; "new booking" to the owner and the assigned staff member; reminders at start − each offset (not those already past when booked) |
//! | `BookingConfirmed` | customer confirmation, email + SMS |
//! | `BookingRescheduled` | notice to customer (email + SMS) and staff; unsent reminders dropped and planned again for the new start |
//! | `BookingCancelled` | notice to customer (email + SMS) and staff; unsent reminders and follow-up dropped |
//! | `BookingCompleted` | follow-up at end + delay; unsent reminders dropped |
//! | `BookingNoShow` | unsent reminders dropped |
//! | `LowStockCrossed` | owner alert ("Order … now!"), once per crossing |
//! | `StaffInvited` | invitation with the generated password (taken from the hand-over, kept sealed in the row until sent) |
//! | `FormRequested` | the form link to the contact (the link token taken from the hand-over, kept sealed in the row until sent) |
//! | `MessageSent` | the message, to the contact through the conversation's channel |
//! | `MessageReceived` (SMS `STOP` / `START`) | SMS opt-out / opt-in of the contact |
//! | `WorkspaceCreated`, `…SettingsChanged`, `…ProfileChanged` | the owner's next daily summary |

mod booking;
mod others;
pub mod summary;

use chrono::{DateTime, Utc};
use event_store::EventStore;
use service_runtime::secrets::SecretBox;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::load::LoadError;

/// An event as the notifier receives it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub event_id: Uuid,
    pub workspace_id: Uuid,
    pub stream_type: String,
    pub stream_id: String,
    pub event_type: String,
    /// When it was recorded.
    pub time: DateTime<Utc>,
    pub data: serde_json::Value,
    /// The request the event came from (its `X-Request-Id`), carried into what the notifier
    /// records so one request's notifications can be found in the audit trail.
    pub correlation_id: Option<String>,
}

impl From<&event_store::RecordedEvent> for Incoming {
    /// The same event read from the store instead of NATS (replays, benchmarks).
    fn from(event: &event_store::RecordedEvent) -> Self {
        Self {
            event_id: event.event_id,
            workspace_id: event.workspace_id,
            stream_type: event.stream_type.clone(),
            stream_id: event.stream_id.clone(),
            event_type: event.event_type.clone(),
            time: event.recorded_at,
            data: event.data.clone(),
            correlation_id: event.metadata.correlation_id.clone(),
        }
    }
}

/// Why an event could not be planned (it is retried, then set aside).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("event payload does not decode: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("{0}")]
    Missing(String),
    #[error("hand-over secret: {0}")]
    Secret(String),
}

/// Plans rows for events.
#[derive(Clone)]
pub struct Planner {
    pub(crate) store: EventStore,
    pub(crate) secrets: SecretBox,
    pub(crate) clock: SharedClock,
}

impl Planner {
    pub fn new(store: EventStore, secrets: SecretBox, clock: SharedClock) -> Self {
        Self {
            store,
            secrets,
            clock,
        }
    }

    /// Whether an event type can plan anything (others are acknowledged without a write).
    pub fn wants(stream_type: &str, event_type: &str) -> bool {
        matches!(
            (stream_type, event_type),
            (
                "booking",
                "BookingCreated"
                    | "BookingConfirmed"
                    | "BookingRescheduled"
                    | "BookingCancelled"
                    | "BookingCompleted"
                    | "BookingNoShow"
            ) | ("inventory", "LowStockCrossed")
                | ("user", "StaffInvited")
                | ("form_request", "FormRequested")
                | ("conversation", "MessageSent" | "MessageReceived")
                | (
                    "workspace",
                    "WorkspaceCreated" | "WorkspaceSettingsChanged" | "WorkspaceProfileChanged"
                )
        )
    }

    /// Plans the rows of one event inside the caller's transaction; returns how many new
    /// rows it planned.
    pub async fn plan(&self, conn: &mut PgConnection, event: &Incoming) -> Result<u64, PlanError> {
        match event.stream_type.as_str() {
            "booking" => booking::plan(self, conn, event).await,
            "inventory" => others::low_stock(self, conn, event).await,
            "user" => others::staff_invited(self, conn, event).await,
            "form_request" => others::form_requested(self, conn, event).await,
            "conversation" => others::conversation(self, conn, event).await,
            "workspace" => others::workspace(self, conn, event).await,
            _ => Ok(0),
        }
    }
}
