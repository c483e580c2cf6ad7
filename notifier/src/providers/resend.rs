//! Resend's HTTP API (`POST /emails`). Each request carries `Idempotency-Key` = the
//! notification id, so a retry after a crash is delivered once by Resend.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::future::BoxFuture;
use serde_json::json;

use super::{check_status, http_failure, EmailTransport, SendError};
use crate::message::OutgoingEmail;

/// A Resend account.
#[derive(Clone)]
pub struct ResendTransport {
    client: reqwest::Client,
    api_url: String,
    api_key: String,
}

impl std::fmt::Debug for ResendTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResendTransport")
            .field("api_url", &self.api_url)
            .field("api_key", &"<set>")
            .finish()
    }
}

impl ResendTransport {
    pub fn new(api_url: &str, api_key: &str) -> Self {
        Self {
            client: super::http_client(),
            api_url: api_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
        }
    }
}

impl EmailTransport for ResendTransport {
    fn name(&self) -> &'static str {
        "resend"
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let attachments: Vec<_> = email
                .attachments
                .iter()
                .map(|a| {
                    json!({
                        "filename": a.filename,
                        "content": STANDARD.encode(&a.content),
                        "content_type": a.content_type,
                    })
                })
                .collect();
            let mut body = json!({
                "from": email.from.display(),
                "to": [email.to.email],
                "subject": email.subject,
                "html": email.html,
                "text": email.text,
                "headers": {
                    "X-CareOps-Kind": email.kind.as_str(),
                    "X-CareOps-Notification-Id": email.notification_id.to_string(),
                },
            });
            if !attachments.is_empty() {
                body["attachments"] = json!(attachments);
            }
            if let Some(reply_to) = &email.reply_to {
                body["reply_to"] = json!(reply_to);
            }
            let response = self
                .client
                .post(format!("{}/emails", self.api_url))
                .bearer_auth(&self.api_key)
                .header("Idempotency-Key", email.notification_id.to_string())
                .json(&body)
                .send()
                .await
                .map_err(|e| http_failure("resend", e))?;
            check_status("resend", &response)
        })
    }
}
