//! Secrets of the inbound webhooks, from the environment. A provider whose secret is not
//! set answers 503 `webhook_not_configured`: it cannot be verified, so it is not accepted.

/// `CAREOPS_WEBHOOK_SECRET`, `CAREOPS_TWILIO_AUTH_TOKEN`, `CAREOPS_PUBLIC_API_URL`.
#[derive(Clone, Default, clap::Args)]
pub struct WebhookConfig {
    /// Key of the `generic` inbound webhook's signatures (`X-CareOps-Signature: sha256=<hex
    /// HMAC-SHA256 of the raw body>`). Unset: the `generic` webhook answers 503.
    #[arg(
        long = "inbound-webhook-secret",
        env = "CAREOPS_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub inbound_webhook_secret: Option<String>,
    /// Twilio auth token that signs inbound SMS webhooks (`X-Twilio-Signature`). Unset: the
    /// `twilio` webhook answers 503.
    #[arg(
        long = "inbound-twilio-auth-token",
        env = "CAREOPS_TWILIO_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub inbound_twilio_auth_token: Option<String>,
    /// The public origin providers call, e.g. `https://api.example.com` (Twilio signs the
    /// full URL it called). Unset: rebuilt from `X-Forwarded-Proto`/`X-Forwarded-Host`, or
    /// `Host` over http.
    #[arg(long = "public-api-url", env = "CAREOPS_PUBLIC_API_URL")]
    pub public_api_url: Option<String>,
}

impl WebhookConfig {
    /// The `generic` key, when set (an empty value counts as unset).
    pub fn generic_secret(&self) -> Option<&[u8]> {
        non_empty(&self.inbound_webhook_secret)
    }

    /// The Twilio auth token, when set.
    pub fn twilio_auth_token(&self) -> Option<&[u8]> {
        non_empty(&self.inbound_twilio_auth_token)
    }
}

fn non_empty(value: &Option<String>) -> Option<&[u8]> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::as_bytes)
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: Option<&[u8]>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("WebhookConfig")
            .field("inbound_webhook_secret", &set(self.generic_secret()))
            .field("inbound_twilio_auth_token", &set(self.twilio_auth_token()))
            .field("public_api_url", &self.public_api_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secrets() {
        let config = WebhookConfig {
            inbound_webhook_secret: Some("generic-secret-value".into()),
            inbound_twilio_auth_token: Some("twilio-token-value".into()),
            public_api_url: Some("https://api.example.com".into()),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("generic-secret-value"), "{shown}");
        assert!(!shown.contains("twilio-token-value"), "{shown}");
        assert!(shown.contains("<set>") && shown.contains("api.example.com"));
        let unset = WebhookConfig {
            inbound_webhook_secret: Some("  ".into()),
            ..Default::default()
        };
        assert!(unset.generic_secret().is_none() && unset.twilio_auth_token().is_none());
    }
}
