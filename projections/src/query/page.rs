//! Pages of list results (`{"items": [...], "next_cursor": ...}`) and the `limit`/`cursor`
//! parameters (limit 50 by default, 200 at most).

use serde::Serialize;

use super::cursor::Cursor;
use super::QueryError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` of a list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The page size, defaulted and capped (0 is taken as 1).
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, QueryError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says that there is more.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}
