//! The `.ics` attached to booking emails (RFC 5545): one VEVENT whose UID is the booking's,
//! so calendar apps update the same entry on a reschedule (higher SEQUENCE) and remove it on
//! a cancellation (METHOD:CANCEL, STATUS:CANCELLED). Times are UTC (`…Z`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What the calendar entry says.
#[derive(Debug, Clone)]
pub struct CalendarEvent<'a> {
    pub booking_id: Uuid,
    /// Increases with every change of the booking (its stream version).
    pub sequence: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub cancelled: bool,
    pub stamp: DateTime<Utc>,
}

fn utc(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (continuation lines start with a space).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// The `.ics` document.
pub fn calendar(event: &CalendarEvent<'_>) -> String {
    let method = if event.cancelled { "CANCEL" } else { "PUBLISH" };
    let status = if event.cancelled {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//CareOps//Notifier//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        format!("METHOD:{method}"),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}@careops", event.booking_id),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.start)),
        format!("DTEND:{}", utc(event.end)),
        format!("SUMMARY:{}", text(event.summary)),
        format!("LOCATION:{}", text(event.location)),
        format!("DESCRIPTION:{}", text(event.description)),
        format!("STATUS:{status}"),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

/// The content type of the attachment.
pub fn content_type(cancelled: bool) -> &'static str {
    if cancelled {
        "text/calendar; charset=utf-8; method=CANCEL"
    } else {
        "text/calendar; charset=utf-8; method=PUBLISH"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_folded_and_text_is_escaped() {
        let description = "a, b; c\\d\nnext ".repeat(10);
        let ics = calendar(&CalendarEvent {
            booking_id: Uuid::nil(),
            sequence: 2,
            start: "2027-03-29T09:00:00Z".parse().unwrap(),
            end: "2027-03-29T10:00:00Z".parse().unwrap(),
            summary: "Cut",
            location: "Urban Glow",
            description: &description,
            cancelled: false,
            stamp: "2027-03-01T00:00:00Z".parse().unwrap(),
        });
        assert!(ics.lines().all(|l| l.trim_end_matches('\r').len() <= 75));
        assert!(ics.contains("DTSTART:20270329T090000Z\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("DESCRIPTION:a\\, b\\; c\\\\d\\nnext a\\,"));
    }
}
