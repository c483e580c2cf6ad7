//! The workspace's own settings: profile (name, zone, business contact), the notification
//! and booking settings that drive the robot employee, its delivery providers
//! (`/workspace/integrations`, secrets write-only), and dismissing dashboard alerts.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::values::{Email, Minutes, Name, Phone, TimeZone};
use domain::workspace::{
    self, ChangeIntegrations, ChangeSettings, DismissAlert, EmailIntegration, SmsIntegration,
    UpdateWorkspaceProfile, Workspace, WorkspaceAggregate, WorkspaceCommand, WorkspaceSettings,
};
use serde::{Deserialize, Deserializer, Serialize};
use service_runtime::integrations::{
    self, EmailProvider, EmailProviderKind, EmailSettings, Integrations, SmsSettings, SmtpSettings,
    SmtpTls,
};
use uuid::Uuid;

use crate::auth::Actor;
use crate::command::Unit;
use crate::execute;
use crate::http::{
    command_response, ApiError, ApiJson, ApiPath, ApiResult, IfMatch, RequestId, POSITION_HEADER,
};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workspace", axum::routing::put(update_workspace))
        .route(
            "/workspace/integrations",
            get(get_integrations).put(update_integrations),
        )
        .route("/dashboard/alerts/{id}/dismiss", post(dismiss_alert))
}

/// `null` clears a field, absence keeps it.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PUT /workspace`: every field optional; absent fields keep their value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceInput {
    pub name: Option<String>,
    /// IANA zone, e.g. `Europe/London`.
    pub timezone: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub business_email: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub business_phone: Option<Option<String>>,
    pub notifications: Option<NotificationsInput>,
}

/// Notification and booking settings; absent fields keep their value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsInput {
    /// Reminders before a booking's start, in minutes (default `[1440, 60]`).
    pub reminder_offsets_minutes: Option<Vec<i64>>,
    pub follow_up_delay_minutes: Option<i64>,
    /// Local hour of the owner's daily summary, 0–23.
    pub daily_summary_hour: Option<i64>,
    /// Customers cannot cancel themselves within this many hours of the start.
    pub cancellation_window_hours: Option<i64>,
    pub approval_required: Option<bool>,
    pub slot_step_minutes: Option<i64>,
    pub minimum_notice_minutes: Option<i64>,
    pub booking_horizon_days: Option<i64>,
}

/// The workspace with its settings, as a command answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkspaceSettingsView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub currency: String,
    pub is_active: bool,
    pub owner_id: Uuid,
    pub business_email: Option<String>,
    pub business_phone: Option<String>,
    #[schema(value_type = Object)]
    pub notifications: WorkspaceSettings,
}

impl WorkspaceSettingsView {
    fn of(ws: &Workspace) -> Self {
        Self {
            id: ws.id,
            slug: ws.slug.as_str().to_string(),
            name: ws.name.as_str().to_string(),
            timezone: ws.timezone.name().to_string(),
            currency: ws.currency.code().to_string(),
            is_active: ws.is_active(),
            owner_id: ws.owner_id,
            business_email: ws.business_email.as_ref().map(|e| e.as_str().to_string()),
            business_phone: ws.business_phone.as_ref().map(|p| p.as_str().to_string()),
            notifications: ws.settings.clone(),
        }
    }
}

fn whole(field: &str, value: i64) -> Result<u32, ApiError> {
    u32::try_from(value).map_err(|_| {
        ApiError::from(domain::DomainError::invalid(
            field,
            format!("must be a whole number from 0, got {value}"),
        ))
    })
}

/// The settings after applying the input to `current` (validated by the domain).
fn merged_settings(
    current: &WorkspaceSettings,
    input: &NotificationsInput,
) -> Result<WorkspaceSettings, ApiError> {
    let mut settings = current.clone();
    if let Some(offsets) = &input.reminder_offsets_minutes {
        settings.reminder_offsets_minutes = offsets
            .iter()
            .map(|m| whole("reminder_offsets_minutes", *m).map(Minutes::new))
            .collect::<Result<_, _>>()?;
    }
    if let Some(m) = input.follow_up_delay_minutes {
        settings.follow_up_delay_minutes = Minutes::new(whole("follow_up_delay_minutes", m)?);
    }
    if let Some(h) = input.daily_summary_hour {
        let hour = whole("daily_summary_hour", h)?;
        settings.daily_summary_hour = u8::try_from(hour).unwrap_or(u8::MAX);
    }
    if let Some(h) = input.cancellation_window_hours {
        settings.cancellation_window_hours = whole("cancellation_window_hours", h)?;
    }
    if let Some(a) = input.approval_required {
        settings.approval_required = a;
    }
    if let Some(m) = input.slot_step_minutes {
        settings.slot_step_minutes = Minutes::new(whole("slot_step_minutes", m)?);
    }
    if let Some(m) = input.minimum_notice_minutes {
        settings.minimum_notice_minutes = Minutes::new(whole("minimum_notice_minutes", m)?);
    }
    if let Some(d) = input.booking_horizon_days {
        settings.booking_horizon_days = whole("booking_horizon_days", d)?;
    }
    settings.validate()?;
    Ok(settings)
}

/// The profile after applying the input to `current`.
fn merged_profile(
    current: &Workspace,
    input: &WorkspaceInput,
) -> Result<UpdateWorkspaceProfile, ApiError> {
    Ok(UpdateWorkspaceProfile {
        name: match &input.name {
            Some(name) => Name::parse(name)?,
            None => current.name.clone(),
        },
        timezone: match &input.timezone {
            Some(zone) => TimeZone::parse(zone)?,
            None => current.timezone,
        },
        business_email: match &input.business_email {
            Some(Some(email)) => Some(Email::parse(email)?),
            Some(None) => None,
            None => current.business_email.clone(),
        },
        business_phone: match &input.business_phone {
            Some(Some(phone)) => Some(Phone::parse(phone)?),
            Some(None) => None,
            None => current.business_phone.clone(),
        },
    })
}

async fn load_own_workspace(
    unit: &mut Unit,
    actor: &Actor,
    if_match: &IfMatch,
) -> ApiResult<Workspace> {
    let stream = workspace::stream_id(actor.workspace_id);
    let ws = unit
        .load::<WorkspaceAggregate>(&stream)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    if_match.check(unit.version(&stream))?;
    Ok(ws)
}

/// `PUT /workspace` (owner): profile and notification settings.
#[utoipa::path(put, path = "/api/v1/workspace", tag = "workspace", request_body = WorkspaceInput,
    params(crate::openapi::IfMatchHeader),
    responses((status = 200, body = WorkspaceSettingsView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 412, body = crate::openapi::ErrorBody),
              (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_workspace(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    if_match: IfMatch,
    ApiJson(body): ApiJson<WorkspaceInput>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = load_own_workspace(unit, &actor, &if_match).await?;
            let mut commands: Vec<WorkspaceCommand> = vec![merged_profile(&current, &body)?.into()];
            if let Some(notifications) = &body.notifications {
                commands.push(
                    ChangeSettings {
                        settings: merged_settings(&current.settings, notifications)?,
                    }
                    .into(),
                );
            }
            let mut state = Some(current);
            let mut events = Vec::new();
            for command in &commands {
                let new = workspace::decide(&state, command)?;
                state = new.iter().fold(state, workspace::evolve);
                events.extend(new);
            }
            unit.append(
                workspace::STREAM_TYPE,
                workspace::stream_id(actor.workspace_id),
                &events,
            );
            state
                .as_ref()
                .map(WorkspaceSettingsView::of)
                .ok_or_else(|| ApiError::not_found("workspace"))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

// ---- integrations ----

/// `PUT /workspace/integrations`. Keys and passwords are write-only: leave one out to keep
/// the stored value (same slot, same provider kind).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationsInput {
    /// `null` or absent: use the system's default email provider.
    pub email: Option<EmailInput>,
    /// `null` or absent: no SMS from this workspace's own account.
    pub sms: Option<SmsInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    pub from_address: String,
    pub from_name: Option<String>,
    pub provider: EmailProviderInput,
    /// Tried when the primary provider fails.
    pub fallback: Option<EmailProviderInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailProviderInput {
    #[schema(value_type = String, example = "resend")]
    pub kind: EmailProviderKind,
    /// Resend or SendGrid API key (write-only).
    pub api_key: Option<String>,
    /// SMTP server (for `smtp`).
    pub smtp: Option<SmtpInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    /// Write-only.
    pub password: Option<String>,
    /// `none`, `start_tls` (default) or `tls`.
    #[schema(value_type = Option<String>)]
    pub tls: Option<SmtpTls>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsInput {
    /// `twilio`.
    pub provider: String,
    pub account_sid: String,
    /// Write-only.
    pub auth_token: Option<String>,
    pub from_number: String,
}

/// A write-only secret as answered: only whether it is set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecretState {
    pub set: bool,
}

impl SecretState {
    fn of(secret: &Option<String>) -> Self {
        Self {
            set: secret.as_ref().is_some_and(|s| !s.is_empty()),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntegrationsView {
    pub email: Option<EmailView>,
    pub sms: Option<SmsView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailView {
    pub from_address: String,
    pub from_name: Option<String>,
    pub provider: EmailProviderView,
    pub fallback: Option<EmailProviderView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailProviderView {
    pub kind: &'static str,
    pub api_key: SecretState,
    pub smtp: Option<SmtpView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: SecretState,
    #[schema(value_type = String)]
    pub tls: SmtpTls,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SmsView {
    pub provider: &'static str,
    pub account_sid: String,
    pub from_number: String,
    pub auth_token: SecretState,
}

impl IntegrationsView {
    fn of(integrations: &Integrations) -> Self {
        let provider = |p: &EmailProvider| EmailProviderView {
            kind: p.kind.as_str(),
            api_key: SecretState::of(&p.api_key),
            smtp: p.smtp.as_ref().map(|s| SmtpView {
                host: s.host.clone(),
                port: s.port,
                username: s.username.clone(),
                password: SecretState::of(&s.password),
                tls: s.tls,
            }),
        };
        Self {
            email: integrations.email.as_ref().map(|e| EmailView {
                from_address: e.from_address.clone(),
                from_name: e.from_name.clone(),
                provider: provider(&e.primary),
                fallback: e.fallback.as_ref().map(provider),
            }),
            sms: integrations.sms.as_ref().map(|s| SmsView {
                provider: "twilio",
                account_sid: s.account_sid.clone(),
                from_number: s.from_number.clone(),
                auth_token: SecretState::of(&Some(s.auth_token.clone())),
            }),
        }
    }
}

fn invalid(field: &str, detail: &str) -> ApiError {
    ApiError::from(domain::DomainError::invalid(field, detail))
}

/// A bounded, non-empty text field.
fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > max {
        return Err(invalid(field, &format!("1 to {max} characters")));
    }
    Ok(value.to_string())
}

/// One provider from the input, keeping the stored secrets the input leaves out.
fn provider_from(
    field: &str,
    input: &EmailProviderInput,
    stored: Option<&EmailProvider>,
) -> Result<EmailProvider, ApiError> {
    let same_kind = stored.filter(|s| s.kind == input.kind);
    let api_key = match &input.api_key {
        Some(key) => Some(text(&format!("{field}.api_key"), key, 500)?),
        None => same_kind.and_then(|s| s.api_key.clone()),
    };
    let smtp = match &input.smtp {
        Some(smtp) => Some(SmtpSettings {
            host: text(&format!("{field}.smtp.host"), &smtp.host, 253)?,
            port: smtp.port,
            username: smtp.username.clone(),
            password: match &smtp.password {
                Some(password) => Some(text(&format!("{field}.smtp.password"), password, 500)?),
                None => same_kind
                    .and_then(|s| s.smtp.as_ref())
                    .and_then(|s| s.password.clone()),
            },
            tls: smtp.tls.unwrap_or_default(),
        }),
        None => None,
    };
    match input.kind {
        EmailProviderKind::Smtp if smtp.is_none() => {
            return Err(invalid(
                &format!("{field}.smtp"),
                "an SMTP provider needs its server",
            ))
        }
        EmailProviderKind::Resend | EmailProviderKind::Sendgrid if api_key.is_none() => {
            return Err(invalid(
                &format!("{field}.api_key"),
                "this provider needs an API key",
            ))
        }
        _ => {}
    }
    Ok(EmailProvider {
        kind: input.kind,
        api_key,
        smtp,
    })
}

/// The integrations to store, and the event's secret-free summary of them.
fn integrations_from(
    input: &IntegrationsInput,
    stored: &Integrations,
) -> Result<(Integrations, ChangeIntegrations), ApiError> {
    let stored_email = stored.email.as_ref();
    let (email, email_event) = match &input.email {
        None => (None, None),
        Some(e) => {
            let from = Email::parse(&e.from_address)?;
            let primary = provider_from("provider", &e.provider, stored_email.map(|s| &s.primary))?;
            let fallback = e
                .fallback
                .as_ref()
                .map(|f| {
                    provider_from(
                        "fallback",
                        f,
                        stored_email.and_then(|s| s.fallback.as_ref()),
                    )
                })
                .transpose()?;
            let from_name = e
                .from_name
                .as_deref()
                .map(|n| text("from_name", n, 200))
                .transpose()?;
            let summary = EmailIntegration {
                provider: primary.kind.as_str().to_string(),
                fallback_provider: fallback.as_ref().map(|f| f.kind.as_str().to_string()),
                from_address: from.clone(),
            };
            let settings = EmailSettings {
                from_address: from.as_str().to_string(),
                from_name,
                primary,
                fallback,
            };
            (Some(settings), Some(summary))
        }
    };
    let (sms, sms_event) = match &input.sms {
        None => (None, None),
        Some(s) => {
            if s.provider != "twilio" {
                return Err(invalid("sms.provider", "the only SMS provider is `twilio`"));
            }
            let from = Phone::parse(&s.from_number)?;
            let auth_token = match &s.auth_token {
                Some(token) => text("sms.auth_token", token, 500)?,
                None => stored
                    .sms
                    .as_ref()
                    .map(|s| s.auth_token.clone())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| invalid("sms.auth_token", "Twilio needs an auth token"))?,
            };
            let settings = SmsSettings {
                account_sid: text("sms.account_sid", &s.account_sid, 100)?,
                auth_token,
                from_number: from.as_str().to_string(),
            };
            let summary = SmsIntegration {
                provider: "twilio".to_string(),
                from_number: from,
            };
            (Some(settings), Some(summary))
        }
    };
    Ok((
        Integrations { email, sms },
        ChangeIntegrations {
            email: email_event,
            sms: sms_event,
        },
    ))
}

async fn stored_integrations(state: &AppState, workspace_id: Uuid) -> ApiResult<Integrations> {
    Ok(
        integrations::load(state.store.pool(), &state.secrets, workspace_id)
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_default(),
    )
}

/// `GET /workspace/integrations` (owner): providers, with secrets answered as `{"set": bool}`.
#[utoipa::path(get, path = "/api/v1/workspace/integrations", tag = "workspace",
    responses((status = 200, body = IntegrationsView), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_integrations(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<IntegrationsView>> {
    actor.require_owner()?;
    let stored = stored_integrations(&state, actor.workspace_id).await?;
    Ok(Json(IntegrationsView::of(&stored)))
}

/// `PUT /workspace/integrations` (owner): replaces the workspace's providers.
#[utoipa::path(put, path = "/api/v1/workspace/integrations", tag = "workspace",
    request_body = IntegrationsInput,
    responses((status = 200, body = IntegrationsView), (status = 400, body = crate::openapi::ErrorBody),
              (status = 403, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_integrations(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiJson(body): ApiJson<IntegrationsInput>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let stored = stored_integrations(&state, actor.workspace_id).await?;
    let (integrations, command) = integrations_from(&body, &stored)?;
    let sealed = integrations::seal(&state.secrets, actor.workspace_id, &integrations)
        .map_err(ApiError::internal)?;
    let (view, outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = load_own_workspace(unit, &actor, &IfMatch::default()).await?;
            let events = workspace::decide(&Some(current), &command.clone().into())?;
            unit.append(
                workspace::STREAM_TYPE,
                workspace::stream_id(actor.workspace_id),
                &events,
            );
            unit.side_write(crate::command::SideWrite::Integrations(sealed.clone()));
            Ok::<_, ApiError>(IntegrationsView::of(&integrations))
        }
    );
    Ok(command_response(StatusCode::OK, &view, outcome.as_ref()))
}

// ---- alerts ----

/// `POST /dashboard/alerts/{id}/dismiss` (owner): hides an open alert → 204.
#[utoipa::path(post, path = "/api/v1/dashboard/alerts/{id}/dismiss", tag = "dashboard",
    params(("id" = Uuid, Path, description = "alert id")),
    responses((status = 204), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn dismiss_alert(
    State(state): State<AppState>,
    actor: Actor,
    RequestId(request_id): RequestId,
    ApiPath(alert_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require_owner()?;
    let scope = projections::query::Scope::owner(actor.workspace_id);
    let open =
        projections::query::alerts::all_open(state.store.pool(), &scope, state.clock.now()).await?;
    if !open.iter().any(|alert| alert.id == alert_id) {
        return Err(ApiError::not_found("alert"));
    }
    let ((), outcome) = execute!(
        state.store,
        actor.workspace_id,
        &actor.metadata(&request_id),
        |unit| {
            let current = load_own_workspace(unit, &actor, &IfMatch::default()).await?;
            let events = workspace::decide(&Some(current), &DismissAlert { alert_id }.into())?;
            unit.append(
                workspace::STREAM_TYPE,
                workspace::stream_id(actor.workspace_id),
                &events,
            );
            Ok::<_, ApiError>(())
        }
    );
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(outcome) = &outcome {
        if let Ok(value) = HeaderValue::from_str(&outcome.last_position.token()) {
            response.headers_mut().insert(POSITION_HEADER, value);
        }
    }
    Ok(response)
}
