//! The query side of CONTRACT.md: every GET answered from the read models.
//!
//! Each query runs in its own read transaction that sets the caller's workspace
//! (`careops.workspace_id`) and switches to the `careops_reader` role, so row-level
//! security limits it to that workspace even if a filter were forgotten (queries still
//! filter on `workspace_id` explicitly: the policy is the second line of defence). Staff
//! see only their slice ([`Scope`]). Lists are [`Page`]s with opaque cursors.

pub mod alerts;
pub mod bookings;
pub mod contacts;
pub mod dashboard;
pub mod forms;
pub mod inbox;
pub mod inventory;
pub mod public;
pub mod services;
pub mod staff;
pub mod workspace;

mod cursor;
mod page;
mod scope;

pub use cursor::Cursor;
pub use page::{Page, PageRequest};
pub use scope::{Scope, Viewer};

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A query that could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The `cursor` parameter is not one this API issued (400).
    #[error("the cursor is not valid")]
    InvalidCursor,
    /// A parameter is out of range (400).
    #[error("{0}")]
    InvalidParameter(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A read transaction confined to one workspace by row-level security.
pub(crate) async fn begin(
    pool: &PgPool,
    workspace_id: Uuid,
) -> Result<Transaction<'static, Postgres>, QueryError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "select set_config('careops.workspace_id', $1, true), set_config('role', 'careops_reader', true)",
    )
    .bind(workspace_id.to_string())
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}
