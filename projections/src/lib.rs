//! CareOps read models: the query side of CQRS.
//!
//! Every projection owns one PostgreSQL schema (`rm_<name>`, created by the read-model
//! migration) and a checkpoint `projection:<name>` in `feed_checkpoints`, saved in the same
//! transaction as its changes, so a crash never applies an event twice or loses one.
//!
//! - [`run`] follows the ordered feed with every projection (each claimed by one process
//!   only, through an advisory lock);
//! - [`query`] answers the GET endpoints of CONTRACT.md from the read models, inside a
//!   transaction under row-level security for the caller's workspace;
//! - [`rebuild()`] replays the feed into fresh tables and swaps them in atomically;
//! - [`status()`] and [`wait_for`] serve `GET /admin/projections`, `/metrics` and
//!   `X-CareOps-Min-Position`.

#![forbid(unsafe_code)]

mod catalog;
mod decode;
pub mod projection;
pub mod query;
pub mod rebuild;
pub(crate) mod runner;
mod status;
mod wait;

pub use catalog::ProjectionName;
pub use rebuild::rebuild;
pub use runner::{catch_up, run, RunConfig};
pub use status::{status, ProjectionStatus};
pub use wait::wait_for;
