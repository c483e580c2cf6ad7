//! The CareOps notifier ("robot employee"): confirmations, reminders, follow-ups and alerts
//! by email and SMS. The reactions arrive with the notifier issue; this crate already
//! carries the process entry point.
