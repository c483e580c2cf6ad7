//! Twilio's Messages API: a form POST with basic auth (account SID and auth token).

use futures::future::BoxFuture;

use super::{check_status, http_failure, SendError, SmsTransport};
use crate::message::OutgoingSms;

/// A Twilio account.
#[derive(Clone)]
pub struct TwilioTransport {
    client: reqwest::Client,
    api_url: String,
    account_sid: String,
    auth_token: String,
}

impl std::fmt::Debug for TwilioTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioTransport")
            .field("api_url", &self.api_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<set>")
            .finish()
    }
}

impl TwilioTransport {
    pub fn new(api_url: &str, account_sid: &str, auth_token: &str) -> Self {
        Self {
            client: super::http_client(),
            api_url: api_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
        }
    }
}

impl SmsTransport for TwilioTransport {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, sms: &'a OutgoingSms) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let response = self
                .client
                .post(format!(
                    "{}/2010-04-01/Accounts/{}/Messages.json",
                    self.api_url, self.account_sid
                ))
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .form(&[
                    ("To", sms.to.as_str()),
                    ("From", sms.from.as_str()),
                    ("Body", sms.body.as_str()),
                ])
                .send()
                .await
                .map_err(|e| http_failure("twilio", e))?;
            check_status("twilio", &response)
        })
    }
}
