//! The CareOps HTTP API.
//!
//! Commands are handled as: authenticate → parse into domain types → load streams →
//! decide → append (one transaction, expected versions), see [`command`]. Queries read the
//! read models. The process also runs a NATS relay candidate (see `event_store::relay`).

pub mod auth;
pub mod clock;
pub mod command;
pub mod config;
pub mod demo;
pub mod http;
pub mod openapi;
pub mod routes;
pub mod startup;

pub use config::ServeConfig;
pub use startup::Application;
