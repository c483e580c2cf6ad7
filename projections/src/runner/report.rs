//! What a runner tells `GET /admin/projections` about itself (best effort: a failure to
//! report is logged, never fatal).

use sqlx::PgPool;

use crate::catalog::ProjectionName;

pub(crate) async fn report(pool: &PgPool, name: ProjectionName, status: &str, error: Option<&str>) {
    let result = sqlx::query(
        "insert into projection_runs (name, status, last_error, updated_at)
         values ($1, $2, $3, now())
         on conflict (name) do update
            set status = excluded.status, last_error = excluded.last_error, updated_at = now()",
    )
    .bind(name.as_str())
    .bind(status)
    .bind(error)
    .execute(pool)
    .await;
    if let Err(error) = result {
        tracing::debug!(projection = %name, %error, "could not record the projection status");
    }
}
