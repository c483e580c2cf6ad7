//! IANA time zones (`Europe/London`), the zone a workspace's wall-clock times are read in.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An IANA time zone known to chrono-tz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Parse an IANA name such as `Europe/London`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        input
            .trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| {
                DomainError::invalid("timezone", format!("not an IANA time zone: {input:?}"))
            })
    }

    /// The chrono-tz zone.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl From<chrono_tz::Tz> for TimeZone {
    fn from(tz: chrono_tz::Tz) -> Self {
        TimeZone(tz)
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for TimeZone {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> Self {
        value.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iana_zone_is_accepted_and_a_made_up_one_refused() {
        assert_eq!(
            TimeZone::parse("Europe/London").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(
            TimeZone::parse("Mars/Olympus").unwrap_err().field(),
            Some("timezone")
        );
    }
}
