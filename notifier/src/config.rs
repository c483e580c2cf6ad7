//! Configuration: the system default providers, the outbox, links, timers and the consumer.
//!
//! [`NotifierArgs`] reads flags / the environment (`CAREOPS_*`) and becomes a
//! [`NotifierConfig`], the library's configuration (tests build one directly). Secrets (API
//! keys, the SMTP password inside its URL, Twilio's token) are never printed by `Debug`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use service_runtime::secrets::SecretBox;

use crate::clock::{SharedClock, SystemClock};

/// The system default email provider.
#[derive(Clone, PartialEq, Eq)]
pub enum SystemEmailProvider {
    /// `.eml` files in the outbox (local runs).
    File,
    /// `smtp://user:pass@host:port?tls=required`, `smtps://…`.
    Smtp {
        url: String,
    },
    Resend {
        api_key: String,
    },
    Sendgrid {
        api_key: String,
    },
}

impl std::fmt::Debug for SystemEmailProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SystemEmailProvider::File => "File",
            SystemEmailProvider::Smtp { .. } => "Smtp(<url>)",
            SystemEmailProvider::Resend { .. } => "Resend(<key>)",
            SystemEmailProvider::Sendgrid { .. } => "Sendgrid(<key>)",
        })
    }
}

/// The system default for email.
#[derive(Debug, Clone)]
pub struct SystemEmail {
    pub from_address: String,
    /// Display name; the workspace's name when `None`.
    pub from_name: Option<String>,
    pub primary: SystemEmailProvider,
    pub fallback: Option<SystemEmailProvider>,
}

/// A Twilio account.
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioAccount {
    pub account_sid: String,
    pub auth_token: String,
    pub from_number: String,
}

impl std::fmt::Debug for TwilioAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioAccount")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<set>")
            .field("from_number", &self.from_number)
            .finish()
    }
}

/// The system default for SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemSms {
    /// No SMS unless a workspace configures Twilio.
    Disabled,
    /// `.txt` files in the outbox (local runs), sent "from" this sender name.
    File {
        from: String,
    },
    Twilio(TwilioAccount),
}

/// Base URLs of the HTTP providers (overridden by tests with a local fake server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrls {
    pub resend: String,
    pub sendgrid: String,
    pub twilio: String,
}

impl Default for ApiUrls {
    fn default() -> Self {
        Self {
            resend: "https://api.resend.com".into(),
            sendgrid: "https://api.sendgrid.com".into(),
            twilio: "https://api.twilio.com".into(),
        }
    }
}

/// Where events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// JetStream stream (created like the relay does when absent).
    pub stream_name: String,
    /// Subjects are `<prefix>.<workspace_id>.<stream_type>.<event_type>`.
    pub subject_prefix: String,
    /// Durable pull consumer shared by every notifier replica.
    pub durable_name: String,
    /// How long JetStream waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// After this many failed deliveries an event is set aside (dead letter) with an owner
    /// alert, so one bad event never blocks the consumer.
    pub dead_letter_after: i64,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            stream_name: "CAREOPS_EVENTS".into(),
            subject_prefix: "careops.events".into(),
            durable_name: "notifier".into(),
            ack_wait: Duration::from_secs(30),
            dead_letter_after: 5,
        }
    }
}

/// How due notifications are claimed, sent and retried.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchConfig {
    /// How often the due query runs when nothing woke the dispatcher.
    pub poll_interval: Duration,
    /// Rows claimed per query.
    pub batch_size: i64,
    /// Deliveries in flight at once (non-idempotent providers are limited to one).
    pub concurrency: usize,
    /// How long a claim holds a row; a crashed replica's rows are taken over after it.
    pub lease: Duration,
    /// Tries before giving up with `NotificationFailed`.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with jitter, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// An immediate notification not sent within this time after its due time is dropped
    /// (a consumer replaying old history must not send last month's confirmations).
    pub max_lateness: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch_size: 200,
            concurrency: 32,
            lease: Duration::from_secs(60),
            max_attempts: 6,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(30 * 60),
            max_lateness: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

/// Everything the notifier needs besides its connections.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    pub consumer: ConsumerConfig,
    pub dispatch: DispatchConfig,
    pub email: SystemEmail,
    pub sms: SystemSms,
    pub api_urls: ApiUrls,
    /// The file transport's folder.
    pub outbox_dir: PathBuf,
    /// Base of links in messages (`<base>/forms/<token>`, `<base>/book/<slug>`).
    pub public_base_url: String,
    /// Opens workspace provider secrets and hand-over secrets (invitation passwords).
    pub secrets: SecretBox,
    pub clock: SharedClock,
    /// How long [`crate::run`] may take to stop after `stop`; what is still running then is
    /// abandoned (and picked up again after a restart).
    pub shutdown_timeout: Duration,
}

impl NotifierConfig {
    /// Defaults for a local run: file transport for email and SMS into `outbox_dir`.
    pub fn new(secrets: SecretBox, outbox_dir: impl Into<PathBuf>) -> Self {
        Self {
            consumer: ConsumerConfig::default(),
            dispatch: DispatchConfig::default(),
            email: SystemEmail {
                from_address: "notifications@careops.localhost".into(),
                from_name: None,
                primary: SystemEmailProvider::File,
                fallback: None,
            },
            sms: SystemSms::File {
                from: "CareOps".into(),
            },
            api_urls: ApiUrls::default(),
            outbox_dir: outbox_dir.into(),
            public_base_url: "http://localhost:8080".into(),
            secrets,
            clock: Arc::new(SystemClock),
            shutdown_timeout: service_runtime::shutdown::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// Email provider names accepted in `CAREOPS_EMAIL_PROVIDER` / `CAREOPS_EMAIL_FALLBACK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmailProviderName {
    File,
    Smtp,
    Resend,
    Sendgrid,
}

/// SMS provider names accepted in `CAREOPS_SMS_PROVIDER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmsProviderName {
    None,
    File,
    Twilio,
}

/// The notifier's flags and environment. Connection and secret-key settings are separate
/// (`ConnectionArgs`, `SecretKeyArgs`), so the all-in-one process can flatten this next to
/// its own.
#[derive(Clone, clap::Args)]
pub struct NotifierArgs {
    /// System default email provider (a workspace's own integration settings win).
    #[arg(
        long,
        env = "CAREOPS_EMAIL_PROVIDER",
        value_enum,
        default_value = "file"
    )]
    pub email_provider: EmailProviderName,
    /// Provider tried when the primary fails.
    #[arg(long, env = "CAREOPS_EMAIL_FALLBACK", value_enum)]
    pub email_fallback: Option<EmailProviderName>,
    /// Sender address of the system default.
    #[arg(
        long,
        env = "CAREOPS_EMAIL_FROM",
        default_value = "notifications@careops.localhost"
    )]
    pub email_from: String,
    /// Sender display name (default: the workspace's name).
    #[arg(long, env = "CAREOPS_EMAIL_FROM_NAME")]
    pub email_from_name: Option<String>,
    /// SMTP server, e.g. `smtp://user:pass@mail.example.com:587?tls=required`.
    #[arg(long, env = "CAREOPS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "CAREOPS_RESEND_API_KEY", hide_env_values = true)]
    pub resend_api_key: Option<String>,
    #[arg(
        long,
        env = "CAREOPS_RESEND_API_URL",
        default_value = "https://api.resend.com"
    )]
    pub resend_api_url: String,
    #[arg(long, env = "CAREOPS_SENDGRID_API_KEY", hide_env_values = true)]
    pub sendgrid_api_key: Option<String>,
    #[arg(
        long,
        env = "CAREOPS_SENDGRID_API_URL",
        default_value = "https://api.sendgrid.com"
    )]
    pub sendgrid_api_url: String,
    /// System default SMS provider: `file` (local runs), `twilio`, or `none`.
    #[arg(long, env = "CAREOPS_SMS_PROVIDER", value_enum, default_value = "file")]
    pub sms_provider: SmsProviderName,
    #[arg(long, env = "CAREOPS_TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,
    #[arg(long, env = "CAREOPS_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// Sender number (E.164) of the system Twilio account.
    #[arg(long, env = "CAREOPS_TWILIO_FROM_NUMBER")]
    pub twilio_from_number: Option<String>,
    #[arg(
        long,
        env = "CAREOPS_TWILIO_API_URL",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_url: String,
    /// Folder of the file transport (default `$CAREOPS_DATA_DIR/outbox`).
    #[arg(long, env = "CAREOPS_OUTBOX_DIR")]
    pub outbox_dir: Option<PathBuf>,
    /// Base URL of links in messages (the public booking and form pages).
    #[arg(
        long,
        env = "CAREOPS_PUBLIC_BASE_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_base_url: String,
    /// Durable JetStream consumer shared by the notifier replicas.
    #[arg(long, env = "CAREOPS_NOTIFIER_CONSUMER", default_value = "notifier")]
    pub notifier_consumer: String,
    /// Deliveries in flight at once.
    #[arg(long, env = "CAREOPS_NOTIFIER_CONCURRENCY", default_value_t = 32)]
    pub notifier_concurrency: usize,
    /// Tries before a notification is given up (and the owner alerted).
    #[arg(long, env = "CAREOPS_NOTIFIER_MAX_ATTEMPTS", default_value_t = 6)]
    pub notifier_max_attempts: u32,
}

impl std::fmt::Debug for NotifierArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifierArgs")
            .field("email_provider", &self.email_provider)
            .field("email_fallback", &self.email_fallback)
            .field("sms_provider", &self.sms_provider)
            .field("outbox_dir", &self.outbox_dir)
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

impl NotifierArgs {
    fn email_provider(&self, name: EmailProviderName) -> anyhow::Result<SystemEmailProvider> {
        let need = |value: &Option<String>, var: &str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("{var} is required for that email provider"))
        };
        Ok(match name {
            EmailProviderName::File => SystemEmailProvider::File,
            EmailProviderName::Smtp => SystemEmailProvider::Smtp {
                url: need(&self.smtp_url, "CAREOPS_SMTP_URL")?,
            },
            EmailProviderName::Resend => SystemEmailProvider::Resend {
                api_key: need(&self.resend_api_key, "CAREOPS_RESEND_API_KEY")?,
            },
            EmailProviderName::Sendgrid => SystemEmailProvider::Sendgrid {
                api_key: need(&self.sendgrid_api_key, "CAREOPS_SENDGRID_API_KEY")?,
            },
        })
    }

    /// The library configuration, with the process's data folder and secret box.
    pub fn config(
        &self,
        data_dir: &Path,
        secrets: SecretBox,
        stream_name: &str,
        subject_prefix: &str,
    ) -> anyhow::Result<NotifierConfig> {
        let outbox = self
            .outbox_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("outbox"));
        let mut config = NotifierConfig::new(secrets, outbox);
        config.email = SystemEmail {
            from_address: self.email_from.trim().to_string(),
            from_name: self.email_from_name.clone(),
            primary: self.email_provider(self.email_provider)?,
            fallback: self
                .email_fallback
                .map(|name| self.email_provider(name))
                .transpose()?,
        };
        config.sms = match self.sms_provider {
            SmsProviderName::None => SystemSms::Disabled,
            SmsProviderName::File => SystemSms::File {
                from: self
                    .twilio_from_number
                    .clone()
                    .unwrap_or_else(|| "CareOps".into()),
            },
            SmsProviderName::Twilio => {
                let (Some(sid), Some(token), Some(from)) = (
                    &self.twilio_account_sid,
                    &self.twilio_auth_token,
                    &self.twilio_from_number,
                ) else {
                    anyhow::bail!(
                        "CAREOPS_TWILIO_ACCOUNT_SID, CAREOPS_TWILIO_AUTH_TOKEN and CAREOPS_TWILIO_FROM_NUMBER are required for Twilio"
                    );
                };
                SystemSms::Twilio(TwilioAccount {
                    account_sid: sid.clone(),
                    auth_token: token.clone(),
                    from_number: from.clone(),
                })
            }
        };
        config.api_urls = ApiUrls {
            resend: self.resend_api_url.clone(),
            sendgrid: self.sendgrid_api_url.clone(),
            twilio: self.twilio_api_url.clone(),
        };
        config.public_base_url = self.public_base_url.trim_end_matches('/').to_string();
        config.consumer.stream_name = stream_name.to_string();
        config.consumer.subject_prefix = subject_prefix.to_string();
        config.consumer.durable_name = self.notifier_consumer.clone();
        config.dispatch.concurrency = self.notifier_concurrency.max(1);
        config.dispatch.max_attempts = self.notifier_max_attempts.max(1);
        Ok(config)
    }
}
