//! Instants as the recipient reads them: local wall-clock time in the workspace's zone, with
//! the zone named (abbreviation and IANA name), so "10:00 BST (Europe/London)" is never
//! mistaken for UTC or the reader's own zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `Tuesday 30 March 2027 at 10:00 BST (Europe/London)`.
pub fn long(instant: DateTime<Utc>, zone: Tz) -> String {
    let local = instant.with_timezone(&zone);
    format!(
        "{} at {} {} ({})",
        local.format("%A %-d %B %Y"),
        local.format("%H:%M"),
        local.format("%Z"),
        zone.name()
    )
}

/// `Tue 30 Mar 10:00 BST` (SMS: short).
pub fn short(instant: DateTime<Utc>, zone: Tz) -> String {
    let local = instant.with_timezone(&zone);
    format!("{}", local.format("%a %-d %b %H:%M %Z"))
}

/// `10:00` local.
pub fn clock(instant: DateTime<Utc>, zone: Tz) -> String {
    format!("{}", instant.with_timezone(&zone).format("%H:%M"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_workspace_zone_with_the_zone_named_on_both_sides_of_dst() {
        let zone: Tz = "Europe/London".parse().unwrap();
        let winter: DateTime<Utc> = "2027-03-27T10:00:00Z".parse().unwrap();
        let summer: DateTime<Utc> = "2027-03-29T09:00:00Z".parse().unwrap();
        assert_eq!(
            long(winter, zone),
            "Saturday 27 March 2027 at 10:00 GMT (Europe/London)"
        );
        assert_eq!(
            long(summer, zone),
            "Monday 29 March 2027 at 10:00 BST (Europe/London)"
        );
        assert_eq!(short(summer, zone), "Mon 29 Mar 10:00 BST");
    }
}
