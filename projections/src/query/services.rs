//! `GET /services`, `GET /services/{id}`: the catalogue (archived services only on request
//! or by id).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

/// An inventory item a service consumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemNeed {
    pub item_id: Uuid,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Service)]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    pub duration_minutes: i32,
    pub price_cents: i64,
    pub currency: String,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub inventory: Vec<ItemNeed>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    duration_minutes: i32,
    price_cents: i64,
    currency: String,
    buffer_before_minutes: i32,
    buffer_after_minutes: i32,
    inventory: Json<Vec<ItemNeed>>,
    archived: bool,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<Row> for ServiceView {
    fn from(r: Row) -> Self {
        ServiceView {
            id: r.id,
            name: r.name,
            duration_minutes: r.duration_minutes,
            price_cents: r.price_cents,
            currency: r.currency,
            buffer_before_minutes: r.buffer_before_minutes,
            buffer_after_minutes: r.buffer_after_minutes,
            inventory: r.inventory.0,
            archived: r.archived,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceFilter {
    pub include_archived: bool,
    pub page: PageRequest,
}

const COLUMNS: &str = "id, name, duration_minutes, price_cents, currency, buffer_before_minutes, \
    buffer_after_minutes, inventory, archived, created_at, version";

pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &ServiceFilter,
) -> Result<Page<ServiceView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from rm_services.services where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if !filter.include_archived {
        q.push(" and not archived");
    }
    if let Some(c) = cursor {
        q.push(" and (created_at, id) > (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" order by created_at, id limit ")
        .push_bind(limit + 1);
    let mut tx = begin(pool, scope.workspace_id).await?;
    let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let rows = rows.into_iter().map(ServiceView::from).collect();
    Ok(Page::from_rows(rows, limit, |s: &ServiceView| {
        Cursor::new(s.created_at, s.id)
    }))
}

pub async fn get(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<ServiceView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_services.services where workspace_id = $1 and id = $2"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(ServiceView::from))
}
