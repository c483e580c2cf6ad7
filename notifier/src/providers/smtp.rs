//! SMTP through lettre's async (tokio) transport, pooled connections.
//!
//! Not idempotent: a message accepted by the server just before a crash is sent again after
//! the restart (its Message-ID stays the same, derived from the notification id).

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use service_runtime::integrations::{SmtpSettings, SmtpTls};

use super::{EmailTransport, SendError};
use crate::message::OutgoingEmail;

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// An SMTP server.
#[derive(Clone)]
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpTransport")
    }
}

/// The SMTP configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("SMTP settings are not usable: {0}")]
pub struct SmtpConfigError(String);

impl SmtpTransport {
    /// From a URL: `smtp://user:pass@host:587?tls=required`, `smtps://host:465`, or
    /// `smtp://host:2525` (plain, local relays and catchers only).
    pub fn from_url(url: &str) -> Result<Self, SmtpConfigError> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SmtpConfigError(e.to_string()))?;
        Ok(Self {
            inner: builder.timeout(Some(TIMEOUT)).build(),
        })
    }

    /// From a workspace's integration settings.
    pub fn from_settings(settings: &SmtpSettings) -> Result<Self, SmtpConfigError> {
        let host = settings.host.as_str();
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| SmtpConfigError(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| SmtpConfigError(e.to_string()))?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            inner: builder.build(),
        })
    }
}

fn failure(error: &lettre::transport::smtp::Error) -> SendError {
    let reason = if let Some(code) = error.status() {
        format!("answered {code}")
    } else if error.is_timeout() {
        "timed out".to_string()
    } else {
        "connection failed".to_string()
    };
    SendError::new("smtp", reason)
}

impl EmailTransport for SmtpTransport {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let message = email
                .mime()
                .map_err(|e| SendError::new("smtp", e.to_string()))?;
            self.inner
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| failure(&e))
        })
    }
}
