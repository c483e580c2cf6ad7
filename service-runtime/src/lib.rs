//! What every CareOps process shares: configuration of its connections, logging,
//! shutdown on SIGTERM/Ctrl-C, and opening PostgreSQL (with migrations) and NATS.

pub mod connections;
pub mod form_tokens;
pub mod integrations;
pub mod manage_tokens;
pub mod secrets;
pub mod shutdown;
pub mod telemetry;

pub use connections::{ConnectionArgs, Connections};
