//! Durations in whole minutes (service length, buffers, notice, offsets).

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A non-negative number of minutes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Minutes(u32);

impl Minutes {
    /// Zero minutes.
    pub const ZERO: Minutes = Minutes(0);

    /// Any number of minutes.
    pub const fn new(minutes: u32) -> Self {
        Minutes(minutes)
    }

    /// Minutes within `min..=max`, else an error on `field`.
    pub fn bounded(field: &str, minutes: i64, min: u32, max: u32) -> Result<Self, DomainError> {
        if minutes < i64::from(min) || minutes > i64::from(max) {
            return Err(DomainError::invalid(
                field,
                format!("must be between {min} and {max} minutes, got {minutes}"),
            ));
        }
        Ok(Minutes(minutes as u32))
    }

    /// The number of minutes.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// As a chrono duration.
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.0))
    }
}

impl std::fmt::Display for Minutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} min", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_outside_their_bounds_are_refused() {
        assert!(Minutes::bounded("duration_minutes", 0, 1, 720).is_err());
        assert!(Minutes::bounded("duration_minutes", 721, 1, 720).is_err());
        assert_eq!(
            Minutes::bounded("duration_minutes", 45, 1, 720)
                .unwrap()
                .get(),
            45
        );
        assert_eq!(Minutes::new(90).duration(), chrono::Duration::minutes(90));
    }
}
