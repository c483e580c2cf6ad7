//! Reading the file transport's outbox: parsed `.eml` emails and `.txt` SMS.

use std::path::Path;

use mail_parser::{MessageParser, MimeHeaders};

/// One email written by the file transport.
#[derive(Debug, Clone)]
pub struct Mail {
    pub notification_id: String,
    pub kind: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// (file name, content type, content).
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// One SMS written by the file transport.
#[derive(Debug, Clone)]
pub struct Sms {
    pub notification_id: String,
    pub kind: String,
    pub to: String,
    pub body: String,
}

pub fn parse_mail(raw: &[u8]) -> Mail {
    let message = MessageParser::default().parse(raw).expect("a MIME message");
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    Mail {
        notification_id: header("X-CareOps-Notification-Id"),
        kind: header("X-CareOps-Kind"),
        to: message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        from: message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        attachments: message
            .attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    a.content_type()
                        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                        .unwrap_or_default(),
                    a.contents().to_vec(),
                )
            })
            .collect(),
    }
}

pub fn mails(dir: &Path) -> Vec<Mail> {
    files(dir, "eml")
        .into_iter()
        .map(|raw| parse_mail(&raw))
        .collect()
}

pub fn sms(dir: &Path) -> Vec<Sms> {
    files(dir, "txt")
        .into_iter()
        .map(|raw| {
            let text = String::from_utf8(raw).expect("utf-8");
            let (head, body) = text.split_once("\n\n").expect("headers and body");
            let field = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_default()
                    .to_string()
            };
            Sms {
                notification_id: field("Notification-Id"),
                kind: field("Kind"),
                to: field("To"),
                body: body.trim_end().to_string(),
            }
        })
        .collect()
}

fn files(dir: &Path, extension: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) == Some(extension)
            && !path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        {
            out.push(std::fs::read(&path).expect("readable"));
        }
    }
    out
}

/// The VEVENT properties of an `.ics` (parsed by the `icalendar` crate).
pub fn vevent(ics: &str) -> std::collections::HashMap<String, String> {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("the .ics parses");
    let event = calendar
        .components
        .iter()
        .find(|c| c.name.as_str() == "VEVENT")
        .expect("a VEVENT");
    event
        .properties
        .iter()
        .map(|p| (p.name.as_str().to_string(), p.val.as_str().to_string()))
        .collect()
}
