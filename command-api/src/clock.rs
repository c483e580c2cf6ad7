//! The time commands decide with. Real time in production; tests move it forward to reach
//! a visit's start or a cancellation window without waiting.
//!
//! The all-in-one process gives the same clock to the notifier it runs, so commands and
//! timers agree on what time it is: a test that moves it past a visit's end sees the
//! follow-up that is due then.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time (0 outside tests).
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

impl notifier::clock::Clock for Clock {
    fn now(&self) -> DateTime<Utc> {
        Clock::now(self)
    }
}
