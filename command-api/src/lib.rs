//! The CareOps HTTP API.
//!
//! Commands are handled as: authenticate → parse into domain types → load streams →
//! decide → append (one transaction, expected versions). Queries read the read models.
//! The process also runs a NATS relay candidate (see `event_store::relay`).

pub mod config;
pub mod routes;
pub mod startup;

pub use config::ServeConfig;
pub use startup::Application;
