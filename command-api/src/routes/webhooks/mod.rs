//! `POST /webhooks/inbound/{provider}?workspace=<slug>`: an email or SMS from a contact,
//! delivered by a provider, becomes `MessageReceived` on the contact's open conversation
//! for that channel (a closed one is reopened; the contact and the conversation are created
//! when unknown, see [`crate::routes::inbound`]).
//!
//! Design:
//! - **The workspace** is named by the query parameter `workspace` (its slug), part of the
//!   URL configured at the provider, e.g.
//!   `https://api.example.com/api/v1/webhooks/inbound/twilio?workspace=urbanglow`.
//! - **Providers** (any other name answers 404 `unknown_provider`):
//!   - `generic`: JSON `{channel: "email"|"sms", from, name?, subject?, body}` signed with
//!     `X-CareOps-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under
//!     `CAREOPS_WEBHOOK_SECRET`; answered 200 `{conversation_id, message_id, contact_id}`.
//!     An email's subject becomes the first line of the message.
//!   - `twilio`: Twilio's form-encoded SMS webhook (`From`, `To`, `Body`, …) signed with
//!     `X-Twilio-Signature` (base64 HMAC-SHA1 of the full URL plus the sorted parameters)
//!     under `CAREOPS_TWILIO_AUTH_TOKEN`; answered 200 with an empty TwiML `<Response/>`
//!     (no automatic reply). The URL is `CAREOPS_PUBLIC_API_URL` + path and query, or
//!     rebuilt from the forwarding headers (see [`WebhookConfig`]).
//! - **Signature first:** nothing is parsed or looked up before the signature is checked;
//!   a missing or wrong one answers 401 `invalid_signature` and records nothing. A provider
//!   whose secret is not configured answers 503 `webhook_not_configured`.
//! - An SMS whose body is STOP, STOPALL or UNSUBSCRIBE is recorded like any other message;
//!   the notifier derives the SMS opt-out from it.
//! - Bodies longer than a message may be (10 000 characters) are cut; an empty one is 422.
//!
//! The secrets are the system's; a workspace's own provider keys (its integration settings)
//! do not sign inbound webhooks here.

mod config;
pub mod signature;

pub use config::WebhookConfig;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use domain::conversation::Channel;
use domain::reservation::{ReservationAggregate, ReservationKey};
use domain::values::{Email, MessageBody, PersonName, Phone, Slug};
use domain::workspace::{self, WorkspaceAggregate};
use serde::Deserialize;
use uuid::Uuid;

use crate::command::Unit;
use crate::execute;
use crate::http::{command_response, ApiError, ApiPath, ApiResult, RequestId, POSITION_HEADER};
use crate::routes::contact_match::ContactDetails;
use crate::routes::inbound::{self, Inbound, Received};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/inbound/{provider}", post(inbound_message))
}

/// The longest message body recorded; longer inbound texts are cut to it.
const MAX_BODY_CHARS: usize = 10_000;

/// The header of `generic` signatures.
pub const GENERIC_SIGNATURE_HEADER: &str = "x-careops-signature";
/// The header of Twilio signatures.
pub const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Generic,
    Twilio,
}

impl Provider {
    fn parse(name: &str) -> ApiResult<Self> {
        match name {
            "generic" => Ok(Provider::Generic),
            "twilio" => Ok(Provider::Twilio),
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                "no inbound webhook for this provider (generic, twilio)",
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Provider::Generic => "generic",
            Provider::Twilio => "twilio",
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WebhookQuery {
    /// The receiving workspace's slug.
    pub workspace: String,
}

/// The `generic` provider's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericInbound {
    /// `email` or `sms`.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// The sender: an email address, or an E.164 phone number for SMS.
    pub from: String,
    /// The sender's name, used when the contact is new.
    pub name: Option<String>,
    /// An email's subject: the message's first line.
    pub subject: Option<String>,
    pub body: String,
}

/// Twilio's SMS webhook parameters (form-encoded; the others Twilio sends are signed too
/// but not used). Documentation only: the handler reads the raw parameters.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TwilioInbound {
    /// The sender's number (E.164).
    #[serde(rename = "From")]
    pub from: String,
    /// The workspace's Twilio number.
    #[serde(rename = "To")]
    pub to: String,
    #[serde(rename = "Body")]
    pub body: String,
}

/// `POST /webhooks/inbound/{provider}?workspace=<slug>` (providers only, signature
/// checked): an inbound email or SMS becomes a message on the contact's conversation.
///
/// `generic`: JSON `{channel, from, name?, subject?, body}`, header `X-CareOps-Signature:
/// sha256=<hex HMAC-SHA256 of the raw body, key CAREOPS_WEBHOOK_SECRET>`; answers 200
/// `{conversation_id, message_id, contact_id}`. `twilio`: form-encoded `From`, `To`, `Body`,
/// header `X-Twilio-Signature` (Twilio's scheme, key CAREOPS_TWILIO_AUTH_TOKEN); answers 200
/// with an empty TwiML `<Response/>`. A missing or wrong signature is 401
/// `invalid_signature` (nothing recorded); an unconfigured provider 503
/// `webhook_not_configured`; an unknown provider 404 `unknown_provider`; an unknown
/// workspace 404. The contact is matched by email (or phone for SMS) or created; the
/// contact's open conversation on that channel takes the message, a closed one is reopened,
/// otherwise one is started. STOP / STOPALL / UNSUBSCRIBE by SMS is recorded like any message
/// (the notifier derives the opt-out from it).
#[utoipa::path(post, path = "/api/v1/webhooks/inbound/{provider}", tag = "inbox",
    params(("provider" = String, Path, description = "`generic` or `twilio`"), WebhookQuery,
           ("X-CareOps-Signature" = Option<String>, Header, description = "generic: `sha256=<hex HMAC-SHA256 of the raw body>`"),
           ("X-Twilio-Signature" = Option<String>, Header, description = "twilio: Twilio's request signature")),
    request_body(content(
        (GenericInbound = "application/json"),
        (TwilioInbound = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "recorded (generic: JSON; twilio: empty TwiML)", body = Received),
              (status = 400, body = crate::openapi::ErrorBody), (status = 401, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody), (status = 409, body = crate::openapi::ErrorBody),
              (status = 413, body = crate::openapi::ErrorBody), (status = 422, body = crate::openapi::ErrorBody),
              (status = 503, body = crate::openapi::ErrorBody)))]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn inbound_message(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RequestId(request_id): RequestId,
    ApiPath(provider): ApiPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let provider = Provider::parse(&provider)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request("invalid_body", rejection.body_text())
        }
    })?;
    let header_value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sender = match provider {
        Provider::Generic => {
            let secret = state
                .webhooks
                .generic_secret()
                .ok_or_else(|| not_configured(provider, "CAREOPS_WEBHOOK_SECRET"))?;
            if !signature::generic_is_valid(secret, &body, header_value(GENERIC_SIGNATURE_HEADER)) {
                return Err(invalid_signature());
            }
            parse_generic(&body)?
        }
        Provider::Twilio => {
            let token = state
                .webhooks
                .twilio_auth_token()
                .ok_or_else(|| not_configured(provider, "CAREOPS_TWILIO_AUTH_TOKEN"))?;
            let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| ApiError::bad_request("invalid_body", format!("not a form: {e}")))?;
            let urls = signature::url_variants(&request_url(&state.webhooks, &headers, &uri));
            if !signature::twilio_is_valid(
                token,
                &urls,
                &params,
                header_value(TWILIO_SIGNATURE_HEADER),
            ) {
                return Err(invalid_signature());
            }
            parse_twilio(&params)?
        }
    };
    let Query(query) = Query::<WebhookQuery>::try_from_uri(&uri)
        .map_err(|rejection| ApiError::bad_request("invalid_query", rejection.body_text()))?;
    let workspace_id =
        workspace_by_slug(&mut Unit::new(state.store.clone()), &query.workspace).await?;
    let message = Inbound {
        channel: sender.channel,
        sender: sender.details,
        body: sender.body,
        at: state.clock.now(),
        new_contact_id: Uuid::now_v7(),
        new_conversation_id: Uuid::now_v7(),
        message_id: Uuid::now_v7(),
    };
    let metadata = crate::http::request_id::command_metadata(
        &request_id,
        None,
        format!("webhook:{}", provider.name()),
    );
    let (received, outcome) = execute!(state.store, workspace_id, &metadata, |unit| {
        inbound::receive(unit, workspace_id, &message).await
    });
    tracing::info!(
        conversation_id = %received.conversation_id,
        message_id = %received.message_id,
        "inbound message recorded"
    );
    Ok(match provider {
        Provider::Generic => command_response(StatusCode::OK, &received, outcome.as_ref()),
        Provider::Twilio => {
            let mut response = (
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#,
            )
                .into_response();
            if let Some(value) = outcome
                .as_ref()
                .and_then(|o| HeaderValue::from_str(&o.last_position.token()).ok())
            {
                response.headers_mut().insert(POSITION_HEADER, value);
            }
            response
        }
    })
}

fn invalid_signature() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        "the webhook signature is missing or does not match",
    )
}

fn not_configured(provider: Provider, variable: &str) -> ApiError {
    ApiError::unavailable(
        "webhook_not_configured",
        format!(
            "the {} webhook is not configured on this server ({variable} is not set)",
            provider.name()
        ),
    )
}

/// The URL the provider called: the configured public origin, or the forwarded one.
fn request_url(config: &WebhookConfig, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let configured = config
        .public_api_url
        .as_deref()
        .map(|base| base.trim().trim_end_matches('/'))
        .filter(|base| !base.is_empty());
    if let Some(base) = configured {
        return format!("{base}{path}");
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{scheme}://{host}{path}")
}

/// Any workspace with this slug (inactive ones receive messages too).
async fn workspace_by_slug(unit: &mut Unit, slug: &str) -> ApiResult<Uuid> {
    let not_found = || ApiError::not_found("workspace");
    let slug = Slug::parse(slug).map_err(|_| not_found())?;
    let holder = unit
        .load::<ReservationAggregate>(&ReservationKey::Slug(slug).stream_id())
        .await?
        .holder
        .ok_or_else(not_found)?;
    unit.load::<WorkspaceAggregate>(&workspace::stream_id(holder))
        .await?
        .map(|ws| ws.id)
        .ok_or_else(not_found)
}

/// A parsed inbound message, before the workspace is known.
struct Sender {
    channel: Channel,
    details: ContactDetails,
    body: MessageBody,
}

/// A body as recorded: cut to the longest message; empty is refused.
fn message_body(text: &str) -> ApiResult<MessageBody> {
    let text = text.trim();
    let cut: String = text.chars().take(MAX_BODY_CHARS).collect();
    Ok(MessageBody::parse(&cut)?)
}

/// A name for a new contact: the one given, else the address itself.
fn sender_name(name: Option<&str>, address: &str) -> ApiResult<PersonName> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => Ok(PersonName::parse(name)?),
        None => Ok(PersonName::parse(
            &address.chars().take(200).collect::<String>(),
        )?),
    }
}

fn parse_generic(body: &[u8]) -> ApiResult<Sender> {
    let input: GenericInbound = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::bad_request(
            "invalid_body",
            format!("the request body does not fit: {e}"),
        ),
        _ => ApiError::bad_request(
            "malformed_json",
            format!("the request body is not valid JSON: {e}"),
        ),
    })?;
    let text = match input.subject.as_deref().map(str::trim) {
        Some(subject) if !subject.is_empty() && input.channel == Channel::Email => {
            format!("{subject}\n\n{}", input.body.trim())
        }
        _ => input.body.clone(),
    };
    let details = match input.channel {
        Channel::Email => {
            let email = Email::parse(&input.from)?;
            ContactDetails {
                name: sender_name(input.name.as_deref(), email.as_str())?,
                email: Some(email),
                phone: None,
            }
        }
        Channel::Sms => {
            let phone = Phone::parse(&input.from)?;
            ContactDetails {
                name: sender_name(input.name.as_deref(), phone.as_str())?,
                email: None,
                phone: Some(phone),
            }
        }
    };
    Ok(Sender {
        channel: input.channel,
        details,
        body: message_body(&text)?,
    })
}

fn parse_twilio(params: &[(String, String)]) -> ApiResult<Sender> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let from = param("From")
        .ok_or_else(|| ApiError::bad_request("invalid_body", "the From parameter is missing"))?;
    let phone = Phone::parse(from)?;
    Ok(Sender {
        channel: Channel::Sms,
        details: ContactDetails {
            name: sender_name(None, phone.as_str())?,
            email: None,
            phone: Some(phone),
        },
        body: message_body(param("Body").unwrap_or(""))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_called_url_prefers_the_configured_origin_then_forwarding_headers() {
        let uri: Uri = "/api/v1/webhooks/inbound/twilio?workspace=glow"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("10.0.0.5:8080"));
        let config = WebhookConfig::default();
        assert_eq!(
            request_url(&config, &headers, &uri),
            "http://10.0.0.5:8080/api/v1/webhooks/inbound/twilio?workspace=glow"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        headers.insert(
            "x-forwarded-host",
            HeaderValue::from_static("api.example.com"),
        );
        assert_eq!(
            request_url(&config, &headers, &uri),
            "https://api.example.com/api/v1/webhooks/inbound/twilio?workspace=glow"
        );
        let config = WebhookConfig {
            public_api_url: Some("https://careops.example/".into()),
            ..Default::default()
        };
        assert_eq!(
            request_url(&config, &headers, &uri),
            "https://careops.example/api/v1/webhooks/inbound/twilio?workspace=glow"
        );
    }

    #[test]
    fn an_email_subject_becomes_the_first_line_and_long_bodies_are_cut() {
        let sender = parse_generic(
            br#"{"channel":"email","from":"Pia@Example.com","subject":"Moving my visit","body":"Can we do Friday?"}"#,
        )
        .unwrap();
        assert_eq!(sender.body.as_str(), "Moving my visit\n\nCan we do Friday?");
        assert_eq!(
            sender.details.name.as_str(),
            sender.details.email.unwrap().as_str()
        );
        let long = format!(
            r#"{{"channel":"sms","from":"+447700900123","body":"{}"}}"#,
            "x".repeat(12_000)
        );
        let sender = parse_generic(long.as_bytes()).unwrap();
        assert_eq!(sender.body.as_str().chars().count(), MAX_BODY_CHARS);
        assert!(parse_generic(br#"{"channel":"sms","from":"+447700900123","body":"  "}"#).is_err());
    }
}
