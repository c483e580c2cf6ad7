//! Delivery providers behind one trait per channel, and the choice among them.
//!
//! Email: SMTP (lettre), Resend and SendGrid (HTTP JSON APIs) and the file transport (the
//! default for local runs: `.eml` files in the outbox folder). SMS: Twilio and the file
//! transport (`.txt`). A workspace's own integration settings take precedence over the
//! system default ([`routes`]); an email route tries its primary provider, then its fallback.
//!
//! Errors are reduced to a short reason without personal data (provider and status code, never
//! the provider's answer, which may quote the address), because the reason ends up in a
//! `NotificationFailed` event and in the owner's alert.
//!
//! [`EmailTransport::idempotent`] says whether sending the same notification twice delivers it
//! once: true for the file transport (same file name) and Resend (`Idempotency-Key` = the
//! notification id); false for SMTP, SendGrid and Twilio. The dispatcher lets only one
//! non-idempotent delivery be unrecorded at a time, so a crash duplicates at most one message.

pub mod file;
pub mod resend;
pub mod routes;
pub mod sendgrid;
pub mod smtp;
pub mod twilio;

use futures::future::BoxFuture;

use crate::message::{OutgoingEmail, OutgoingSms};

/// A delivery that did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {reason}")]
pub struct SendError {
    pub provider: &'static str,
    /// Short and free of personal data.
    pub reason: String,
}

impl SendError {
    pub fn new(provider: &'static str, reason: impl Into<String>) -> Self {
        Self {
            provider,
            reason: reason.into(),
        }
    }
}

/// Sends emails.
pub trait EmailTransport: Send + Sync {
    /// `file`, `smtp`, `resend`, `sendgrid` (recorded in `NotificationSent.provider`).
    fn name(&self) -> &'static str;
    /// Whether sending the same notification twice still delivers it once.
    fn idempotent(&self) -> bool;
    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendError>>;
}

/// Sends SMS.
pub trait SmsTransport: Send + Sync {
    /// `file`, `twilio`.
    fn name(&self) -> &'static str;
    fn idempotent(&self) -> bool;
    fn send<'a>(&'a self, sms: &'a OutgoingSms) -> BoxFuture<'a, Result<(), SendError>>;
}

/// The common HTTP client of the API providers (timeouts bounded: a hung provider must not
/// hold a notification past its lease).
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}

/// The reason for a failed HTTP call, without the provider's answer body.
pub(crate) fn http_failure(provider: &'static str, error: reqwest::Error) -> SendError {
    let reason = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "unreachable".to_string()
    } else if let Some(status) = error.status() {
        format!("answered {}", status.as_u16())
    } else {
        "request failed".to_string()
    };
    SendError::new(provider, reason)
}

/// Turns a non-success status into an error.
pub(crate) fn check_status(
    provider: &'static str,
    response: &reqwest::Response,
) -> Result<(), SendError> {
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SendError::new(
            provider,
            format!("answered {}", status.as_u16()),
        ))
    }
}
