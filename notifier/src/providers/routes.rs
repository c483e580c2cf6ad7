//! Which providers carry a workspace's messages: its own integration settings when it has
//! them (`service_runtime::integrations`), otherwise the system default from the notifier's
//! configuration. Routes are cached per workspace for a short while, so a change of settings
//! takes effect within [`CACHE_FOR`] without a lookup per message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use service_runtime::integrations::{self, EmailProvider, EmailProviderKind, Integrations};
use service_runtime::secrets::SecretBox;
use sqlx::PgPool;
use uuid::Uuid;

use super::file::FileTransport;
use super::resend::ResendTransport;
use super::sendgrid::SendgridTransport;
use super::smtp::SmtpTransport;
use super::twilio::TwilioTransport;
use super::{EmailTransport, SendError, SmsTransport};
use crate::config::{ApiUrls, NotifierConfig, SystemEmailProvider, SystemSms};
use crate::message::{OutgoingEmail, OutgoingSms};

/// How long a workspace's routes are reused.
pub const CACHE_FOR: Duration = Duration::from_secs(30);

/// The providers of one workspace's email, tried in order.
pub struct EmailRoute {
    pub from_address: String,
    /// `None`: the workspace's name.
    pub from_name: Option<String>,
    pub providers: Vec<Arc<dyn EmailTransport>>,
}

impl EmailRoute {
    /// Whether a repeated send delivers once (every provider of the route is idempotent).
    pub fn idempotent(&self) -> bool {
        self.providers.iter().all(|p| p.idempotent())
    }

    /// Tries the primary, then the fallback. Returns the provider that took the message, or
    /// every provider's reason.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<&'static str, SendError> {
        let mut reasons = Vec::new();
        for provider in &self.providers {
            match provider.send(email).await {
                Ok(()) => return Ok(provider.name()),
                Err(error) => {
                    tracing::warn!(provider = provider.name(), reason = %error.reason, notification_id = %email.notification_id, "email provider failed");
                    reasons.push(error.to_string());
                }
            }
        }
        Err(SendError::new("email", reasons.join("; ")))
    }
}

/// The provider of one workspace's SMS.
pub struct SmsRoute {
    pub from: String,
    pub provider: Arc<dyn SmsTransport>,
}

impl SmsRoute {
    pub fn idempotent(&self) -> bool {
        self.provider.idempotent()
    }

    pub async fn send(&self, sms: &OutgoingSms) -> Result<&'static str, SendError> {
        self.provider.send(sms).await.map(|()| self.provider.name())
    }
}

/// A workspace's routes.
pub struct WorkspaceRoutes {
    pub email: Arc<EmailRoute>,
    /// `None`: SMS is not configured (neither by the workspace nor by the system).
    pub sms: Option<Arc<SmsRoute>>,
}

/// Builds and caches routes.
pub struct Routes {
    pool: PgPool,
    secrets: SecretBox,
    api_urls: ApiUrls,
    system: Arc<WorkspaceRoutes>,
    cache: Mutex<HashMap<Uuid, (Instant, Arc<WorkspaceRoutes>)>>,
}

/// A provider setting that cannot be used (reported as a failed delivery, not a crash).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RouteError(String);

fn system_email_provider(
    provider: &SystemEmailProvider,
    config: &NotifierConfig,
) -> Result<Arc<dyn EmailTransport>, RouteError> {
    Ok(match provider {
        SystemEmailProvider::File => Arc::new(FileTransport::new(&config.outbox_dir)),
        SystemEmailProvider::Smtp { url } => {
            Arc::new(SmtpTransport::from_url(url).map_err(|e| RouteError(e.to_string()))?)
        }
        SystemEmailProvider::Resend { api_key } => {
            Arc::new(ResendTransport::new(&config.api_urls.resend, api_key))
        }
        SystemEmailProvider::Sendgrid { api_key } => {
            Arc::new(SendgridTransport::new(&config.api_urls.sendgrid, api_key))
        }
    })
}

fn workspace_email_provider(
    provider: &EmailProvider,
    urls: &ApiUrls,
) -> Result<Arc<dyn EmailTransport>, RouteError> {
    let key = || {
        provider
            .api_key
            .clone()
            .ok_or_else(|| RouteError(format!("{} has no API key", provider.kind.as_str())))
    };
    Ok(match provider.kind {
        EmailProviderKind::Smtp => {
            let settings = provider
                .smtp
                .as_ref()
                .ok_or_else(|| RouteError("smtp has no server".into()))?;
            Arc::new(SmtpTransport::from_settings(settings).map_err(|e| RouteError(e.to_string()))?)
        }
        EmailProviderKind::Resend => Arc::new(ResendTransport::new(&urls.resend, &key()?)),
        EmailProviderKind::Sendgrid => Arc::new(SendgridTransport::new(&urls.sendgrid, &key()?)),
    })
}

impl Routes {
    /// The system routes from the configuration.
    pub fn new(pool: PgPool, config: &NotifierConfig) -> anyhow::Result<Self> {
        let mut providers = vec![system_email_provider(&config.email.primary, config)?];
        if let Some(fallback) = &config.email.fallback {
            providers.push(system_email_provider(fallback, config)?);
        }
        let email = Arc::new(EmailRoute {
            from_address: config.email.from_address.clone(),
            from_name: config.email.from_name.clone(),
            providers,
        });
        let sms = match &config.sms {
            SystemSms::Disabled => None,
            SystemSms::File { from } => Some(Arc::new(SmsRoute {
                from: from.clone(),
                provider: Arc::new(FileTransport::new(&config.outbox_dir)) as Arc<dyn SmsTransport>,
            })),
            SystemSms::Twilio(account) => Some(Arc::new(SmsRoute {
                from: account.from_number.clone(),
                provider: Arc::new(TwilioTransport::new(
                    &config.api_urls.twilio,
                    &account.account_sid,
                    &account.auth_token,
                )),
            })),
        };
        Ok(Self {
            pool,
            secrets: config.secrets.clone(),
            api_urls: config.api_urls.clone(),
            system: Arc::new(WorkspaceRoutes { email, sms }),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The routes of `workspace_id`: its own providers where configured, else the system's.
    pub async fn for_workspace(&self, workspace_id: Uuid) -> anyhow::Result<Arc<WorkspaceRoutes>> {
        if let Some(routes) = self.cached(workspace_id) {
            return Ok(routes);
        }
        let integrations = integrations::load(&self.pool, &self.secrets, workspace_id).await?;
        let routes = match integrations {
            None => self.system.clone(),
            Some(integrations) => Arc::new(self.build(&integrations)?),
        };
        self.lock()
            .insert(workspace_id, (Instant::now(), routes.clone()));
        Ok(routes)
    }

    fn build(&self, integrations: &Integrations) -> anyhow::Result<WorkspaceRoutes> {
        let email = match &integrations.email {
            None => self.system.email.clone(),
            Some(settings) => {
                let mut providers =
                    vec![workspace_email_provider(&settings.primary, &self.api_urls)?];
                if let Some(fallback) = &settings.fallback {
                    providers.push(workspace_email_provider(fallback, &self.api_urls)?);
                }
                Arc::new(EmailRoute {
                    from_address: settings.from_address.clone(),
                    from_name: settings.from_name.clone(),
                    providers,
                })
            }
        };
        let sms = match &integrations.sms {
            None => self.system.sms.clone(),
            Some(settings) => Some(Arc::new(SmsRoute {
                from: settings.from_number.clone(),
                provider: Arc::new(TwilioTransport::new(
                    &self.api_urls.twilio,
                    &settings.account_sid,
                    &settings.auth_token,
                )),
            })),
        };
        Ok(WorkspaceRoutes { email, sms })
    }

    fn cached(&self, workspace_id: Uuid) -> Option<Arc<WorkspaceRoutes>> {
        let cache = self.lock();
        cache
            .get(&workspace_id)
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, routes)| routes.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, Arc<WorkspaceRoutes>)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}
