//! HTTP plumbing shared by every route: the error type, the JSON body extractor, request
//! ids and the position header.

pub mod client_ip;
pub mod error;
pub mod fallback;
pub mod idempotency;
pub mod if_match;
pub mod json;
pub mod metrics;
pub mod min_position;
pub mod path;
pub mod position;
pub mod query;
pub mod rate_limit;
pub mod request_id;
pub mod response;

pub use client_ip::ClientIp;
pub use error::{ApiError, ApiResult};
pub use if_match::IfMatch;
pub use json::{ApiJson, OptionalJson};
pub use path::ApiPath;
pub use query::ApiQuery;
pub use request_id::RequestId;
pub use response::{command_response, no_store, with_etag};

/// The read-your-writes token of a command response.
pub const POSITION_HEADER: &str = "x-careops-position";
