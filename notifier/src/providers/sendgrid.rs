//! SendGrid's v3 HTTP API (`POST /v3/mail/send`, answers 202). SendGrid has no idempotency
//! key, so it counts as non-idempotent.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::future::BoxFuture;
use serde_json::json;

use super::{check_status, http_failure, EmailTransport, SendError};
use crate::message::OutgoingEmail;

/// A SendGrid account.
#[derive(Clone)]
pub struct SendgridTransport {
    client: reqwest::Client,
    api_url: String,
    api_key: String,
}

impl std::fmt::Debug for SendgridTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendgridTransport")
            .field("api_url", &self.api_url)
            .field("api_key", &"<set>")
            .finish()
    }
}

impl SendgridTransport {
    pub fn new(api_url: &str, api_key: &str) -> Self {
        Self {
            client: super::http_client(),
            api_url: api_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
        }
    }
}

impl EmailTransport for SendgridTransport {
    fn name(&self) -> &'static str {
        "sendgrid"
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, email: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let mut from = json!({ "email": email.from.email });
            if let Some(name) = &email.from.name {
                from["name"] = json!(name);
            }
            let mut body = json!({
                "personalizations": [{ "to": [{ "email": email.to.email }] }],
                "from": from,
                "subject": email.subject,
                "content": [
                    { "type": "text/plain", "value": email.text },
                    { "type": "text/html", "value": email.html },
                ],
                "headers": {
                    "X-CareOps-Kind": email.kind.as_str(),
                    "X-CareOps-Notification-Id": email.notification_id.to_string(),
                },
                "custom_args": { "notification_id": email.notification_id.to_string() },
            });
            if !email.attachments.is_empty() {
                body["attachments"] = json!(email
                    .attachments
                    .iter()
                    .map(|a| json!({
                        "content": STANDARD.encode(&a.content),
                        "filename": a.filename,
                        "type": a.content_type.split(';').next().unwrap_or("application/octet-stream"),
                        "disposition": "attachment",
                    }))
                    .collect::<Vec<_>>());
            }
            if let Some(reply_to) = &email.reply_to {
                body["reply_to"] = json!({ "email": reply_to });
            }
            let response = self
                .client
                .post(format!("{}/v3/mail/send", self.api_url))
                .bearer_auth(&self.api_key)
                .json(&body)
                .send()
                .await
                .map_err(|e| http_failure("sendgrid", e))?;
            check_status("sendgrid", &response)
        })
    }
}
