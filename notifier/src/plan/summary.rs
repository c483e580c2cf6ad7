//! When the owner's daily summary is due: the next `daily_summary_hour`:00 in the workspace's
//! zone, computed per local date so DST days are right (a nonexistent local time, inside a
//! spring-forward gap, moves to the first valid instant after it; an ambiguous one is taken
//! at its first occurrence). One summary per local date: the row id is derived from it.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::notification::{Channel, NotificationKind, RecipientRole};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ids::daily_summary_id;
use crate::table::{self, Details, NewRow};

/// The instant of `hour`:00 local on `date`.
pub fn local_instant(zone: Tz, date: NaiveDate, hour: u8) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(u32::from(hour.min(23)), 0, 0).unwrap_or(NaiveTime::MIN);
    let mut naive = date.and_time(time);
    // A gap is at most a few hours long; step through it.
    for _ in 0..24 {
        match zone.from_local_datetime(&naive) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => naive += Duration::minutes(30),
        }
    }
    Utc.from_utc_datetime(&date.and_time(time))
}

/// The first summary strictly after `after`: its local date and instant.
pub fn next_after(after: DateTime<Utc>, zone: Tz, hour: u8) -> (NaiveDate, DateTime<Utc>) {
    let mut date = after.with_timezone(&zone).date_naive();
    loop {
        let at = local_instant(zone, date, hour);
        if at > after {
            return (date, at);
        }
        date = date.succ_opt().unwrap_or(date);
        if date == NaiveDate::MAX {
            return (date, at);
        }
    }
}

/// Plans the next summary after `after` whose local date has none yet (a date already
/// planned or sent is skipped: the hour may have changed after today's was sent).
pub async fn schedule(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    owner_id: Uuid,
    zone: Tz,
    hour: u8,
    after: DateTime<Utc>,
    cause_event_id: Uuid,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    let mut from = after;
    for _ in 0..3 {
        let (date, at) = next_after(from, zone, hour);
        let row = NewRow {
            id: daily_summary_id(workspace_id, date),
            workspace_id,
            kind: NotificationKind::DailySummary,
            channel: Channel::Email,
            role: RecipientRole::Owner,
            recipient_id: Some(owner_id),
            subject_id: workspace_id,
            cause_event_id,
            // A timer of the workspace, not of the request that last changed its settings.
            correlation_id: None,
            details: Details {
                local_date: Some(date),
                ..Details::default()
            },
            secret: None,
            due_at: at,
        };
        if table::insert(conn, &[row]).await? == 1 {
            return Ok(Some(date));
        }
        from = at;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_summary_is_at_the_local_hour_on_both_sides_of_a_dst_change() {
        let zone: Tz = "America/New_York".parse().unwrap();
        // 2027-03-14: clocks go from 02:00 EST to 03:00 EDT.
        let (date, at) = next_after(utc("2027-03-13T20:00:00Z"), zone, 8);
        assert_eq!(date.to_string(), "2027-03-14");
        assert_eq!(at, utc("2027-03-14T12:00:00Z"));
        let (date, at) = next_after(utc("2027-03-12T20:00:00Z"), zone, 8);
        assert_eq!(date.to_string(), "2027-03-13");
        assert_eq!(at, utc("2027-03-13T13:00:00Z"));
    }

    #[test]
    fn a_summary_hour_inside_the_gap_moves_past_it() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let at = local_instant(zone, "2027-03-14".parse().unwrap(), 2);
        assert_eq!(at, utc("2027-03-14T07:00:00Z")); // 03:00 EDT
    }

    #[test]
    fn the_next_summary_is_strictly_after_the_given_instant() {
        let zone: Tz = "Europe/London".parse().unwrap();
        let (date, at) = next_after(utc("2027-01-05T08:00:00Z"), zone, 8);
        assert_eq!(date.to_string(), "2027-01-06");
        assert_eq!(at, utc("2027-01-06T08:00:00Z"));
    }
}
