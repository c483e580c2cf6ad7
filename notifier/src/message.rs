//! What leaves the notifier: an email (with its MIME form) or an SMS, addressed and rendered.
//!
//! Every transport gets the same [`OutgoingEmail`]; SMTP and the file transport send its MIME
//! form (built with lettre: a text and an HTML alternative, plus attachments such as the
//! booking's `.ics`), the HTTP APIs send its parts as JSON. Two headers name the notification
//! (`X-CareOps-Kind`, `X-CareOps-Notification-Id`) so a mailbox or a test can tell them apart.

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart};
use lettre::Message;
use uuid::Uuid;

use domain::notification::NotificationKind;

/// An address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub email: String,
    pub name: Option<String>,
}

impl Address {
    /// `Name <email>` (or the bare address).
    pub fn display(&self) -> String {
        match &self.name {
            Some(name) => format!("{} <{}>", name.replace(['<', '>', '"'], ""), self.email),
            None => self.email.clone(),
        }
    }
}

/// A file attached to an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// Full content type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// An email ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub notification_id: Uuid,
    pub kind: NotificationKind,
    pub from: Address,
    pub reply_to: Option<String>,
    pub to: Address,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// An SMS ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingSms {
    pub notification_id: Uuid,
    pub kind: NotificationKind,
    /// The sender number (E.164) or an alphanumeric sender id.
    pub from: String,
    /// E.164.
    pub to: String,
    pub body: String,
}

/// The email could not be put into MIME form (an address the mail libraries refuse).
#[derive(Debug, thiserror::Error)]
#[error("the email cannot be built: {0}")]
pub struct MimeError(String);

#[derive(Clone)]
struct KindHeader(String);

impl Header for KindHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-CareOps-Kind")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct IdHeader(String);

impl Header for IdHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-CareOps-Notification-Id")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

fn mailbox(address: &Address) -> Result<Mailbox, MimeError> {
    let email = address
        .email
        .parse()
        .map_err(|_| MimeError("an address is not valid".into()))?;
    Ok(Mailbox::new(address.name.clone(), email))
}

impl OutgoingEmail {
    /// The MIME message (multipart/mixed when there are attachments, else
    /// multipart/alternative). Its Message-ID is derived from the notification id, so a
    /// re-sent copy is recognisable as the same message.
    pub fn mime(&self) -> Result<Message, MimeError> {
        let mut builder = Message::builder()
            .from(mailbox(&self.from)?)
            .to(mailbox(&self.to)?)
            .subject(self.subject.clone())
            .message_id(Some(format!("<{}@careops.notifier>", self.notification_id)))
            .header(KindHeader(self.kind.as_str().to_string()))
            .header(IdHeader(self.notification_id.to_string()));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(mailbox(&Address {
                email: reply_to.clone(),
                name: None,
            })?);
        }
        let alternative = MultiPart::alternative_plain_html(self.text.clone(), self.html.clone());
        let body = if self.attachments.is_empty() {
            alternative
        } else {
            let mut mixed = MultiPart::mixed().multipart(alternative);
            for attachment in &self.attachments {
                let content_type = ContentType::parse(&attachment.content_type)
                    .map_err(|e| MimeError(format!("attachment type: {e}")))?;
                mixed = mixed.singlepart(
                    MimeAttachment::new(attachment.filename.clone())
                        .body(attachment.content.clone(), content_type),
                );
            }
            mixed
        };
        builder
            .multipart(body)
            .map_err(|e| MimeError(e.to_string()))
    }
}
