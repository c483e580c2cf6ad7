//! Where each projection is: `GET /admin/projections` and the lag in `/metrics`.

use event_store::FeedPosition;
use serde::Serialize;
use sqlx::PgPool;

use crate::catalog::ProjectionName;

/// One read model's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectionStatus {
    pub name: String,
    /// The checkpoint as a position token (`"<tx>-<position>"`).
    pub position: String,
    /// Committed events not yet applied.
    pub lag_events: i64,
    /// `running`, `failing`, `stopped`, or `idle` (no runner has reported yet).
    pub status: String,
    /// The last error of a failing projection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The status of every projection.
pub async fn status(pool: &PgPool) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
    let mut all = Vec::with_capacity(ProjectionName::ALL.len());
    for name in ProjectionName::ALL {
        let at = event_store::checkpoint::load(pool, &name.checkpoint()).await?;
        let lag_events: i64 = sqlx::query_scalar(
            "select count(*) from events where (tx, position) > (($1::bigint)::text::xid8, $2)",
        )
        .bind(at.tx)
        .bind(at.position)
        .fetch_one(pool)
        .await?;
        let run: Option<(String, Option<String>)> =
            sqlx::query_as("select status, last_error from projection_runs where name = $1")
                .bind(name.as_str())
                .fetch_optional(pool)
                .await?;
        let (status, last_error) = run.unwrap_or_else(|| ("idle".to_owned(), None));
        all.push(ProjectionStatus {
            name: name.as_str().to_owned(),
            position: at.token(),
            lag_events,
            status,
            last_error,
        });
    }
    Ok(all)
}

/// The checkpoints of every projection (a missing one is the start of the feed).
pub(crate) async fn checkpoints(pool: &PgPool) -> Result<Vec<FeedPosition>, sqlx::Error> {
    let names: Vec<String> = ProjectionName::ALL.iter().map(|p| p.checkpoint()).collect();
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select name, (tx::text)::bigint, position from feed_checkpoints where name = any($1)",
    )
    .bind(&names)
    .fetch_all(pool)
    .await?;
    Ok(names
        .iter()
        .map(|name| {
            rows.iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, tx, position)| FeedPosition::new(*tx, *position))
                .unwrap_or(FeedPosition::START)
        })
        .collect())
}
