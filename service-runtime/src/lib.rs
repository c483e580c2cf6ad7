//! What every CareOps process shares: configuration of its connections, logging,
//! shutdown on SIGTERM/Ctrl-C (bounded by a deadline), the health listener of the processes
//! that serve no API, and opening PostgreSQL (with migrations) and NATS.

pub mod connections;
pub mod form_tokens;
pub mod health;
pub mod integrations;
pub mod manage_tokens;
pub mod secrets;
pub mod shutdown;
pub mod telemetry;

pub use connections::{ConnectionArgs, Connections};
