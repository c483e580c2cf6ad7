//! `GET /inventory`, `GET /inventory/{id}`, `GET /inventory/low-stock`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = InventoryItem)]
pub struct InventoryItemView {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub threshold: i64,
    /// `quantity <= threshold`.
    pub low_stock: bool,
    pub last_alert_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryFilter {
    /// Only items at or below their threshold.
    pub low_stock: bool,
    pub page: PageRequest,
}

const COLUMNS: &str = "id, name, unit, quantity, threshold, quantity <= threshold as low_stock, \
    last_alert_at, created_at, version";

pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &InventoryFilter,
) -> Result<Page<InventoryItemView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from rm_inventory.items where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if filter.low_stock {
        q.push(" and quantity <= threshold");
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
    let rows: Vec<InventoryItemView> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Page::from_rows(rows, limit, |i| {
        Cursor::new(i.created_at, i.id)
    }))
}

/// `GET /inventory/low-stock`.
pub async fn low_stock(
    pool: &PgPool,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<InventoryItemView>, QueryError> {
    let filter = InventoryFilter {
        low_stock: true,
        page: page.clone(),
    };
    list(pool, scope, &filter).await
}

pub async fn get(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<InventoryItemView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<InventoryItemView> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_inventory.items where workspace_id = $1 and id = $2"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}
