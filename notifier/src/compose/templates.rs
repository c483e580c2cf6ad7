//! Every word the robot employee says, in one place: change wording here.
//!
//! Each kind has an email draft (subject, paragraphs, details, action link) and an SMS line.
//! Times are always shown in the workspace's zone with the zone named ([`super::time`]).

use domain::notification::NotificationKind;

use super::layout::Draft;
use super::time::{clock, long, short};
use super::{BookingFacts, Facts, SummaryFacts, WorkspaceFacts};

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn duration_words(minutes: u32) -> String {
    match minutes {
        m if m % (24 * 60) == 0 && m >= 24 * 60 => match m / (24 * 60) {
            1 => "tomorrow".to_string(),
            d => format!("in {d} days"),
        },
        m if m % 60 == 0 => match m / 60 {
            1 => "in 1 hour".to_string(),
            h => format!("in {h} hours"),
        },
        m => format!("in {m} minutes"),
    }
}

fn booking_details(ws: &WorkspaceFacts, b: &BookingFacts) -> Vec<(String, String)> {
    vec![
        ("Service".into(), b.service.clone()),
        ("When".into(), long(b.start, ws.zone)),
        ("Until".into(), clock(b.end, ws.zone)),
        ("With".into(), b.staff.clone()),
        ("Where".into(), ws.name.clone()),
        ("Price".into(), b.price.clone()),
    ]
}

fn booking_draft(ws: &WorkspaceFacts, kind: NotificationKind, b: &BookingFacts) -> Draft {
    let hello = format!("Hello {},", first_name(&b.customer));
    let sign_off = format!("See you soon,\n{}", ws.name);
    let manage = Some((
        "Manage or cancel your booking".to_string(),
        b.manage_url.clone(),
    ));
    let when = long(b.start, ws.zone);
    match kind {
        NotificationKind::BookingConfirmation => Draft {
            subject: format!("Booking confirmed: {} on {}", b.service, short(b.start, ws.zone)),
            greeting: hello,
            paragraphs: vec![format!(
                "Your booking at {} is confirmed. The calendar file attached adds it to your calendar.",
                ws.name
            )],
            details: booking_details(ws, b),
            action: manage,
            closing: vec![format!("Booking reference: {}", b.booking_id)],
            sign_off,
        },
        NotificationKind::BookingRequested => Draft {
            subject: format!("Booking request received: {} on {}", b.service, short(b.start, ws.zone)),
            greeting: hello,
            paragraphs: vec![format!(
                "Thank you! {} has received your booking request and will confirm it shortly.",
                ws.name
            )],
            details: booking_details(ws, b),
            action: manage,
            closing: vec![format!("Booking reference: {}", b.booking_id)],
            sign_off,
        },
        NotificationKind::NewBooking => Draft {
            subject: format!("New booking: {} with {}, {}", b.service, b.customer, short(b.start, ws.zone)),
            greeting: "Hello,".into(),
            paragraphs: vec![format!("{} booked {} for {when}.", b.customer, b.service)],
            details: vec![
                ("Customer".into(), b.customer.clone()),
                ("Service".into(), b.service.clone()),
                ("When".into(), when.clone()),
                ("Until".into(), clock(b.end, ws.zone)),
                ("Staff".into(), b.staff.clone()),
                ("Price".into(), b.price.clone()),
            ],
            action: None,
            closing: vec![format!("Booking reference: {}", b.booking_id)],
            sign_off: format!("Your robot employee at {}", ws.name),
        },
        NotificationKind::BookingRescheduled => Draft {
            subject: format!("Booking moved: {} now on {}", b.service, short(b.start, ws.zone)),
            greeting: hello,
            paragraphs: vec![match b.old_start {
                Some(old) => format!(
                    "Your booking at {} has moved from {} to {when}. The calendar file attached updates your calendar.",
                    ws.name,
                    long(old, ws.zone)
                ),
                None => format!("Your booking at {} has moved to {when}.", ws.name),
            }],
            details: booking_details(ws, b),
            action: manage,
            closing: vec![format!("Booking reference: {}", b.booking_id)],
            sign_off,
        },
        NotificationKind::BookingCancelled => Draft {
            subject: format!("Booking cancelled: {} on {}", b.service, short(b.start, ws.zone)),
            greeting: hello,
            paragraphs: vec![
                format!("Your booking for {} on {when} at {} has been cancelled.", b.service, ws.name),
                match &b.reason {
                    Some(reason) => format!("Reason: {reason}"),
                    None => "We hope to see you another time.".to_string(),
                },
            ],
            details: vec![],
            action: Some(("Book again".into(), ws.booking_page.clone())),
            closing: vec![format!("Booking reference: {}", b.booking_id)],
            sign_off: ws.name.clone(),
        },
        NotificationKind::Reminder => Draft {
            subject: format!("Reminder: {} {}", b.service, match b.offset_minutes {
                Some(m) => format!("{} ({})", duration_words(m), short(b.start, ws.zone)),
                None => short(b.start, ws.zone),
            }),
            greeting: hello,
            paragraphs: vec![format!(
                "This is a reminder of your booking at {} on {when}.",
                ws.name
            )],
            details: booking_details(ws, b),
            action: manage,
            closing: vec![],
            sign_off,
        },
        NotificationKind::FollowUp => Draft {
            subject: format!("Thank you for visiting {}", ws.name),
            greeting: hello,
            paragraphs: vec![
                format!("Thank you for your visit to {} for {}. We hope you enjoyed it.", ws.name, b.service),
                "Would you rate us? A short reply to this email tells us how we did.".into(),
            ],
            details: vec![],
            action: Some(("Book your next visit".into(), ws.booking_page.clone())),
            closing: vec![],
            sign_off: format!("Warm wishes,\n{}", ws.name),
        },
        // Not a booking kind: never asked for; an empty draft is still well-formed.
        _ => Draft {
            subject: ws.name.clone(),
            greeting: hello,
            sign_off,
            ..Draft::default()
        },
    }
}

fn summary_draft(ws: &WorkspaceFacts, s: &SummaryFacts) -> Draft {
    let stats = &s.stats;
    Draft {
        subject: format!(
            "{} — your day, {}",
            ws.name,
            s.local_date.format("%A %-d %B")
        ),
        greeting: "Good morning,".into(),
        paragraphs: vec![format!(
            "Here is the pulse of {} for {} ({}).",
            ws.name,
            s.local_date.format("%A %-d %B %Y"),
            ws.zone.name()
        )],
        details: vec![
            (
                "Bookings in the next 24 h".into(),
                stats.upcoming_24h.to_string(),
            ),
            ("Bookings today".into(), stats.bookings_today.to_string()),
            (
                "Unanswered messages".into(),
                stats.unanswered_messages.to_string(),
            ),
            (
                "Items low on stock".into(),
                stats.low_stock_items.to_string(),
            ),
            ("Forms pending".into(), stats.pending_forms.to_string()),
            ("No-shows (30 days)".into(), stats.no_shows_30d.to_string()),
        ],
        action: None,
        closing: vec![],
        sign_off: format!("Your robot employee at {}", ws.name),
    }
}

fn draft(ws: &WorkspaceFacts, facts: &Facts) -> Draft {
    match facts {
        Facts::Booking(kind, booking) => booking_draft(ws, *kind, booking),
        Facts::StaffInvitation {
            staff_name,
            login_email,
            password,
            login_url,
        } => Draft {
            subject: format!("You're invited to {} on CareOps", ws.name),
            greeting: format!("Hello {},", first_name(staff_name)),
            paragraphs: vec![format!(
                "{} has invited you to join its team on CareOps. Sign in with these credentials:",
                ws.name
            )],
            details: vec![
                ("Email".into(), login_email.clone()),
                ("Password".into(), password.clone()),
            ],
            action: Some(("Sign in".into(), login_url.clone())),
            closing: vec!["Please change the password after your first sign-in. This email is the only copy of it.".into()],
            sign_off: ws.name.clone(),
        },
        Facts::LowStock {
            item,
            unit,
            quantity,
            threshold,
        } => Draft {
            subject: format!("Order {item} now!"),
            greeting: "Hello,".into(),
            paragraphs: vec![format!(
                "{item} is running low at {}: {quantity} {unit} left (alert threshold {threshold}). Order {item} now!",
                ws.name
            )],
            details: vec![
                ("Item".into(), item.clone()),
                ("In stock".into(), format!("{quantity} {unit}")),
                ("Threshold".into(), threshold.to_string()),
            ],
            action: None,
            closing: vec!["You will not be alerted again for this item until it is restocked above its threshold.".into()],
            sign_off: format!("Your robot employee at {}", ws.name),
        },
        Facts::FormRequest { customer, form, link } => Draft {
            subject: format!("{}: please fill in \"{form}\"", ws.name),
            greeting: format!("Hello {},", first_name(customer)),
            paragraphs: vec![match link {
                Some(_) => format!("{} asks you to fill in the form \"{form}\" before your visit. It takes a minute.", ws.name),
                None => format!("{} asks you to fill in the form \"{form}\" before your visit. The link is not available in this email: please ask {} for it.", ws.name, ws.name),
            }],
            details: vec![],
            action: link.as_ref().map(|url| ("Fill in the form".to_string(), url.clone())),
            closing: vec![],
            sign_off: ws.name.clone(),
        },
        Facts::InboxMessage { customer, body } => Draft {
            subject: format!("Message from {}", ws.name),
            greeting: format!("Hello {},", first_name(customer)),
            paragraphs: vec![body.clone()],
            details: vec![],
            action: None,
            closing: vec!["You can reply to this email.".into()],
            sign_off: ws.name.clone(),
        },
        Facts::DailySummary(summary) => summary_draft(ws, summary),
    }
}

/// The email for a notification.
pub fn email(ws: &WorkspaceFacts, facts: &Facts) -> EmailText {
    let draft = draft(ws, facts);
    EmailText {
        subject: draft.subject.clone(),
        text: draft.text(),
        html: draft.html(),
    }
}

/// The SMS for a notification (booking kinds and inbox messages; others are email only).
pub fn sms(ws: &WorkspaceFacts, facts: &Facts) -> String {
    match facts {
        Facts::Booking(kind, b) => {
            let when = short(b.start, ws.zone);
            match kind {
                NotificationKind::BookingConfirmation => format!(
                    "{}: your {} on {when} is confirmed. Manage: {}",
                    ws.name, b.service, b.manage_url
                ),
                NotificationKind::BookingRequested => format!(
                    "{}: we received your request for {} on {when} and will confirm shortly.",
                    ws.name, b.service
                ),
                NotificationKind::BookingRescheduled => format!(
                    "{}: your {} has moved to {when}. Manage: {}",
                    ws.name, b.service, b.manage_url
                ),
                NotificationKind::BookingCancelled => format!(
                    "{}: your {} on {when} has been cancelled.",
                    ws.name, b.service
                ),
                NotificationKind::Reminder => format!(
                    "Reminder from {}: {} {} ({when}).",
                    ws.name,
                    b.service,
                    b.offset_minutes.map(duration_words).unwrap_or_default()
                ),
                _ => format!("{}: {} on {when}.", ws.name, b.service),
            }
        }
        Facts::InboxMessage { body, .. } => format!("{}: {body}", ws.name),
        other => email(ws, other).subject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_offsets_read_naturally() {
        assert_eq!(duration_words(1440), "tomorrow");
        assert_eq!(duration_words(2880), "in 2 days");
        assert_eq!(duration_words(60), "in 1 hour");
        assert_eq!(duration_words(180), "in 3 hours");
        assert_eq!(duration_words(45), "in 45 minutes");
    }
}
