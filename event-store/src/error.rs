//! Errors of the event store. A version clash is a value callers match on, not a string.

use crate::append::ExpectedVersion;

/// An append that did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A stream was not at the expected version: another writer got there first.
    /// Nothing of the append was written.
    #[error("stream {stream_id} is not at the expected version {expected:?} (found {actual:?})")]
    Conflict {
        stream_id: String,
        expected: ExpectedVersion,
        /// The version found, when it could be read (not inside an aborted transaction).
        actual: Option<u64>,
    },
    /// An event carries personal data of a subject that was erased. Nothing was written:
    /// an erased subject never gets a new key (see [`crate::erase_subject`]).
    #[error("subject {subject_id} was erased; its personal data cannot be stored again")]
    Erased { subject_id: uuid::Uuid },
    /// The request itself is unusable (no streams, a stream listed twice, …).
    #[error("invalid append: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A storage failure: the database is unreachable or answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored event {position} could not be decoded: {reason}")]
    Corrupt { position: i64, reason: String },
    /// A row of the personal data key table is unusable.
    #[error("personal data key: {0}")]
    Key(String),
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        AppendError::Store(StoreError::Database(error))
    }
}
