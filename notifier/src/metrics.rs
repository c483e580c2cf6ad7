//! Prometheus counters (exported by whichever process runs the notifier: the command-api's
//! `/metrics` in the all-in-one process).

use domain::notification::{Channel, NotificationKind};

use crate::table::channel_name;

/// Notifications handed to a provider.
pub const SENT: &str = "careops_notifications_sent_total";
/// Notifications given up after the last try (each raised an owner alert).
pub const FAILED: &str = "careops_notifications_failed_total";

/// Describes the counters (once per process).
pub fn describe() {
    metrics::describe_counter!(
        SENT,
        "Notifications handed to a provider, by kind, channel and provider."
    );
    metrics::describe_counter!(
        FAILED,
        "Notifications given up after the last try (each raised an owner alert)."
    );
}

pub(crate) fn sent(kind: NotificationKind, channel: Channel, provider: &'static str) {
    metrics::counter!(SENT, "kind" => kind.as_str(), "channel" => channel_name(channel), "provider" => provider)
        .increment(1);
}

pub(crate) fn failed(kind: NotificationKind, channel: Channel) {
    metrics::counter!(FAILED, "kind" => kind.as_str(), "channel" => channel_name(channel))
        .increment(1);
}
