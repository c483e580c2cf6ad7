//! Rate limits (login per email and per IP; public endpoints per IP), answered with 429 and
//! `Retry-After`. Kept in memory per process: with N replicas the effective limit is N times
//! higher, which still stops brute force and floods from one client.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;

#[derive(Clone)]
pub struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: Arc<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// `burst` requests at once, refilled at `per_minute` a minute.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            )),
        }
    }

    /// Counts one request for `key`, or refuses it with the seconds to wait.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::too_many_requests(wait.as_secs_f64().ceil() as u64)
        })
    }
}

/// Every limiter of the API.
#[derive(Clone)]
pub struct RateLimits {
    pub login_by_email: KeyedLimit<String>,
    pub login_by_ip: KeyedLimit<std::net::IpAddr>,
    pub public_by_ip: KeyedLimit<std::net::IpAddr>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            login_by_email: KeyedLimit::per_minute(
                config.login_per_email_per_minute,
                config.login_per_email_per_minute,
            ),
            login_by_ip: KeyedLimit::per_minute(
                config.login_per_ip_per_minute,
                config.login_per_ip_per_minute,
            ),
            public_by_ip: KeyedLimit::per_minute(
                config.public_per_ip_per_minute,
                config.public_per_ip_per_minute,
            ),
        }
    }
}

/// Limits, configurable for load tests.
#[derive(Debug, Clone, clap::Args)]
pub struct RateLimitConfig {
    /// Login attempts per email per minute.
    #[arg(long, env = "CAREOPS_LOGIN_PER_EMAIL_PER_MINUTE", default_value_t = 10)]
    pub login_per_email_per_minute: u32,
    /// Login attempts per client IP per minute.
    #[arg(long, env = "CAREOPS_LOGIN_PER_IP_PER_MINUTE", default_value_t = 30)]
    pub login_per_ip_per_minute: u32,
    /// Requests to rate-limited public endpoints per client IP per minute.
    #[arg(long, env = "CAREOPS_PUBLIC_PER_IP_PER_MINUTE", default_value_t = 60)]
    pub public_per_ip_per_minute: u32,
}
