//! Response bodies of commands, built from aggregate state, and of the single-resource
//! queries, built from the read models' rows: one shape for both, so a `GET` answers what the
//! command that changed the resource answered.

use domain::inventory::{InventoryItem, LowStock};
use domain::service::Service;
use domain::workspace::{Workspace, WorkspaceStatus};
use projections::query;
use serde::Serialize;
use uuid::Uuid;

use crate::http::{ApiError, ApiResult};

/// A count kept as `bigint`/`integer` in a read model, as the unsigned value it was
/// recorded as (a negative one would be a broken read model: a 500, logged).
pub(crate) fn unsigned<T: TryInto<u32> + Copy + std::fmt::Display>(
    field: &str,
    value: T,
) -> ApiResult<u32> {
    value
        .try_into()
        .map_err(|_| ApiError::internal(format!("read model holds {field} = {value}")))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkspaceView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub currency: String,
    pub is_active: bool,
}

impl WorkspaceView {
    pub fn of(ws: &Workspace) -> Self {
        Self {
            id: ws.id,
            slug: ws.slug.as_str().to_string(),
            name: ws.name.as_str().to_string(),
            timezone: ws.timezone.name().to_string(),
            currency: ws.currency.code().to_string(),
            is_active: ws.status == WorkspaceStatus::Active,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InventoryItemView {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub quantity: u32,
    pub threshold: u32,
    pub low_stock: bool,
}

impl InventoryItemView {
    pub fn of(item: &InventoryItem) -> Self {
        Self {
            id: item.id,
            name: item.name.as_str().to_string(),
            unit: item.unit.as_str().to_string(),
            quantity: item.quantity,
            threshold: item.threshold,
            low_stock: !matches!(item.low_stock, LowStock::Above),
        }
    }

    /// From the inventory read model (`low_stock` is `quantity <= threshold` there, the
    /// invariant the domain's crossings keep).
    pub fn from_read_model(item: &query::inventory::InventoryItemView) -> ApiResult<Self> {
        Ok(Self {
            id: item.id,
            name: item.name.clone(),
            unit: item.unit.clone(),
            quantity: unsigned("quantity", item.quantity)?,
            threshold: unsigned("threshold", item.threshold)?,
            low_stock: item.low_stock,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceNeedView {
    pub item_id: Uuid,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    pub duration_minutes: u32,
    pub price_cents: i64,
    pub currency: String,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub inventory: Vec<ServiceNeedView>,
    pub archived: bool,
}

impl ServiceView {
    pub fn of(service: &Service) -> Self {
        let d = &service.definition;
        Self {
            id: service.id,
            name: d.name.as_str().to_string(),
            duration_minutes: d.duration_minutes.get(),
            price_cents: d.price.cents(),
            currency: d.price.currency().code().to_string(),
            buffer_before_minutes: d.buffer_before_minutes.get(),
            buffer_after_minutes: d.buffer_after_minutes.get(),
            inventory: d
                .inventory
                .iter()
                .map(|n| ServiceNeedView {
                    item_id: n.item_id,
                    quantity: n.quantity,
                })
                .collect(),
            archived: service.archived,
        }
    }

    /// From the services catalogue read model.
    pub fn from_read_model(service: &query::services::ServiceView) -> ApiResult<Self> {
        Ok(Self {
            id: service.id,
            name: service.name.clone(),
            duration_minutes: unsigned("duration_minutes", service.duration_minutes)?,
            price_cents: service.price_cents,
            currency: service.currency.clone(),
            buffer_before_minutes: unsigned(
                "buffer_before_minutes",
                service.buffer_before_minutes,
            )?,
            buffer_after_minutes: unsigned("buffer_after_minutes", service.buffer_after_minutes)?,
            inventory: service
                .inventory
                .iter()
                .map(|n| ServiceNeedView {
                    item_id: n.item_id,
                    quantity: n.quantity,
                })
                .collect(),
            archived: service.archived,
        })
    }
}
