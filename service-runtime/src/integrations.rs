//! A workspace's own email and SMS providers, shared by the command-api (which stores them)
//! and the notifier (which sends with them, in preference to the system default).
//!
//! Keys and passwords are secrets. They are kept apart from the readable settings, sealed as
//! one JSON document with [`SecretBox`] (bound to the workspace id), and the types that hold
//! them print `<set>` in `Debug`, so neither a log line nor a response can carry them.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::secrets::SecretBox;

/// Which email API a provider uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailProviderKind {
    Smtp,
    Resend,
    Sendgrid,
}

impl EmailProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailProviderKind::Smtp => "smtp",
            EmailProviderKind::Resend => "resend",
            EmailProviderKind::Sendgrid => "sendgrid",
        }
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text (a local relay or catcher only).
    None,
    /// STARTTLS on the submission port (587).
    #[default]
    StartTls,
    /// Implicit TLS (465).
    Tls,
}

/// An SMTP server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: SmtpTls,
}

/// One email provider: an API key for Resend and SendGrid, a server for SMTP.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailProvider {
    pub kind: EmailProviderKind,
    pub api_key: Option<String>,
    pub smtp: Option<SmtpSettings>,
}

/// How a workspace sends email: its from-address, a primary provider and an optional fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    pub from_address: String,
    pub from_name: Option<String>,
    pub primary: EmailProvider,
    pub fallback: Option<EmailProvider>,
}

/// A Twilio account sending SMS from `from_number`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsSettings {
    pub account_sid: String,
    pub auth_token: String,
    pub from_number: String,
}

/// Everything a workspace configured; an absent part falls back to the system default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Integrations {
    pub email: Option<EmailSettings>,
    pub sms: Option<SmsSettings>,
}

fn set(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<set>")
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &set(&self.password))
            .field("tls", &self.tls)
            .finish()
    }
}

impl std::fmt::Debug for EmailProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailProvider")
            .field("kind", &self.kind)
            .field("api_key", &set(&self.api_key))
            .field("smtp", &self.smtp)
            .finish()
    }
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<set>")
            .field("from_number", &self.from_number)
            .finish()
    }
}

// ---- storage form: readable settings and sealed secrets, kept apart ----

#[derive(Serialize, Deserialize, Default)]
struct StoredSettings {
    email: Option<StoredEmail>,
    sms: Option<StoredSms>,
}

#[derive(Serialize, Deserialize)]
struct StoredEmail {
    from_address: String,
    from_name: Option<String>,
    primary: StoredProvider,
    fallback: Option<StoredProvider>,
}

#[derive(Serialize, Deserialize)]
struct StoredProvider {
    kind: EmailProviderKind,
    smtp: Option<StoredSmtp>,
}

#[derive(Serialize, Deserialize)]
struct StoredSmtp {
    host: String,
    port: u16,
    username: Option<String>,
    tls: SmtpTls,
}

#[derive(Serialize, Deserialize)]
struct StoredSms {
    account_sid: String,
    from_number: String,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredSecrets {
    primary_api_key: Option<String>,
    primary_smtp_password: Option<String>,
    fallback_api_key: Option<String>,
    fallback_smtp_password: Option<String>,
    twilio_auth_token: Option<String>,
}

fn split_provider(provider: &EmailProvider) -> (StoredProvider, Option<String>, Option<String>) {
    let smtp = provider.smtp.as_ref().map(|s| StoredSmtp {
        host: s.host.clone(),
        port: s.port,
        username: s.username.clone(),
        tls: s.tls,
    });
    let password = provider.smtp.as_ref().and_then(|s| s.password.clone());
    (
        StoredProvider {
            kind: provider.kind,
            smtp,
        },
        provider.api_key.clone(),
        password,
    )
}

fn join_provider(
    stored: StoredProvider,
    api_key: Option<String>,
    password: Option<String>,
) -> EmailProvider {
    EmailProvider {
        kind: stored.kind,
        api_key,
        smtp: stored.smtp.map(|s| SmtpSettings {
            host: s.host,
            port: s.port,
            username: s.username,
            password,
            tls: s.tls,
        }),
    }
}

fn split(integrations: &Integrations) -> (StoredSettings, StoredSecrets) {
    let mut secrets = StoredSecrets::default();
    let email = integrations.email.as_ref().map(|email| {
        let (primary, key, password) = split_provider(&email.primary);
        secrets.primary_api_key = key;
        secrets.primary_smtp_password = password;
        let fallback = email.fallback.as_ref().map(|fallback| {
            let (stored, key, password) = split_provider(fallback);
            secrets.fallback_api_key = key;
            secrets.fallback_smtp_password = password;
            stored
        });
        StoredEmail {
            from_address: email.from_address.clone(),
            from_name: email.from_name.clone(),
            primary,
            fallback,
        }
    });
    let sms = integrations.sms.as_ref().map(|sms| {
        secrets.twilio_auth_token = Some(sms.auth_token.clone());
        StoredSms {
            account_sid: sms.account_sid.clone(),
            from_number: sms.from_number.clone(),
        }
    });
    (StoredSettings { email, sms }, secrets)
}

fn join(settings: StoredSettings, secrets: StoredSecrets) -> Integrations {
    let StoredSecrets {
        primary_api_key,
        primary_smtp_password,
        fallback_api_key,
        fallback_smtp_password,
        twilio_auth_token,
    } = secrets;
    Integrations {
        email: settings.email.map(|email| EmailSettings {
            from_address: email.from_address,
            from_name: email.from_name,
            primary: join_provider(email.primary, primary_api_key, primary_smtp_password),
            fallback: email
                .fallback
                .map(|f| join_provider(f, fallback_api_key, fallback_smtp_password)),
        }),
        sms: settings.sms.map(|sms| SmsSettings {
            account_sid: sms.account_sid,
            auth_token: twilio_auth_token.unwrap_or_default(),
            from_number: sms.from_number,
        }),
    }
}

/// The workspace's integrations, secrets opened; `None` when it configured none.
pub async fn load(
    pool: &PgPool,
    secrets: &SecretBox,
    workspace_id: Uuid,
) -> anyhow::Result<Option<Integrations>> {
    let mut conn = pool.acquire().await?;
    load_in(&mut conn, secrets, workspace_id).await
}

/// [`load`] on the caller's connection or transaction.
pub async fn load_in(
    conn: &mut PgConnection,
    secrets: &SecretBox,
    workspace_id: Uuid,
) -> anyhow::Result<Option<Integrations>> {
    let row: Option<(serde_json::Value, Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "select settings, secrets_nonce, secrets_sealed from workspace_integrations
         where workspace_id = $1",
    )
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?;
    let Some((settings, nonce, sealed)) = row else {
        return Ok(None);
    };
    let settings: StoredSettings =
        serde_json::from_value(settings).context("stored integration settings")?;
    let opened = secrets.open(workspace_id.as_bytes(), &nonce, &sealed)?;
    let stored_secrets: StoredSecrets =
        serde_json::from_slice(&opened).context("stored integration secrets")?;
    Ok(Some(join(settings, stored_secrets)))
}

/// A workspace's integrations ready to store: settings readable, secrets sealed. Safe to
/// hold and log.
#[derive(Debug, Clone)]
pub struct SealedIntegrations {
    workspace_id: Uuid,
    settings: serde_json::Value,
    nonce: Vec<u8>,
    sealed: Vec<u8>,
}

/// Seals the secrets of `integrations` for [`store`].
pub fn seal(
    secrets: &SecretBox,
    workspace_id: Uuid,
    integrations: &Integrations,
) -> anyhow::Result<SealedIntegrations> {
    let (settings, stored_secrets) = split(integrations);
    let plaintext = serde_json::to_vec(&stored_secrets)?;
    let (nonce, sealed) = secrets.seal(workspace_id.as_bytes(), &plaintext)?;
    Ok(SealedIntegrations {
        workspace_id,
        settings: serde_json::to_value(&settings)?,
        nonce,
        sealed,
    })
}

/// Replaces the workspace's integrations inside the caller's transaction, so that the row
/// commits with the `IntegrationsChanged` event.
pub async fn store(
    conn: &mut PgConnection,
    sealed: &SealedIntegrations,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into workspace_integrations
             (workspace_id, settings, secrets_nonce, secrets_sealed, updated_at)
         values ($1, $2, $3, $4, now())
         on conflict (workspace_id) do update set settings = excluded.settings,
             secrets_nonce = excluded.secrets_nonce, secrets_sealed = excluded.secrets_sealed,
             updated_at = now()",
    )
    .bind(sealed.workspace_id)
    .bind(&sealed.settings)
    .bind(&sealed.nonce)
    .bind(&sealed.sealed)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Integrations {
        Integrations {
            email: Some(EmailSettings {
                from_address: "hello@urbanglow.example".into(),
                from_name: Some("Urban Glow".into()),
                primary: EmailProvider {
                    kind: EmailProviderKind::Resend,
                    api_key: Some("re_secret".into()),
                    smtp: None,
                },
                fallback: Some(EmailProvider {
                    kind: EmailProviderKind::Smtp,
                    api_key: None,
                    smtp: Some(SmtpSettings {
                        host: "smtp.example".into(),
                        port: 587,
                        username: Some("glow".into()),
                        password: Some("smtp_secret".into()),
                        tls: SmtpTls::StartTls,
                    }),
                }),
            }),
            sms: Some(SmsSettings {
                account_sid: "AC123".into(),
                auth_token: "twilio_secret".into(),
                from_number: "+15550001111".into(),
            }),
        }
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let printed = format!("{:?}", sample());
        for secret in ["re_secret", "smtp_secret", "twilio_secret"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("smtp.example"));
    }

    #[test]
    fn settings_and_secrets_split_apart_and_join_back() {
        let (settings, secrets) = split(&sample());
        let readable = serde_json::to_string(&settings).expect("serialises");
        for secret in ["re_secret", "smtp_secret", "twilio_secret"] {
            assert!(!readable.contains(secret));
        }
        assert_eq!(join(settings, secrets), sample());
    }

    #[sqlx::test(migrations = "../migrations")]
    async fn stored_integrations_load_back_with_their_secrets_sealed_at_rest(pool: PgPool) {
        let secrets = SecretBox::generate();
        let workspace_id = Uuid::now_v7();
        let mut conn = pool.acquire().await.expect("connection");
        let sealed = seal(&secrets, workspace_id, &sample()).expect("sealed");
        store(&mut conn, &sealed).await.expect("stored");
        let raw: String =
            sqlx::query_scalar("select row_to_json(w)::text from workspace_integrations w")
                .fetch_one(&pool)
                .await
                .expect("row");
        assert!(!raw.contains("re_secret") && !raw.contains("twilio_secret"));
        let loaded = load(&pool, &secrets, workspace_id).await.expect("loads");
        assert_eq!(loaded, Some(sample()));
        assert_eq!(
            load(&pool, &secrets, Uuid::now_v7()).await.expect("loads"),
            None
        );
        let other_key = SecretBox::generate();
        assert!(load(&pool, &other_key, workspace_id).await.is_err());
    }
}
