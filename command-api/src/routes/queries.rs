//! The query side: lists and dashboards served from the read models (`projections::query`),
//! each confined to the caller's workspace by row-level security, staff to their slice.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::booking::BookingStatus;
use domain::values::Permission;
use projections::query::{self, Page, PageRequest, QueryError, Scope};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Actor;
use crate::http::{ApiError, ApiPath, ApiQuery, ApiResult};
use crate::startup::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bookings", get(list_bookings))
        .route("/services", get(list_services))
        .route("/staff", get(list_staff))
        .route("/inventory", get(list_inventory))
        .route("/inventory/low-stock", get(low_stock))
        .route("/contacts", get(list_contacts))
        .route("/contacts/{id}", get(get_contact))
        .route("/contacts/{id}/history", get(contact_history))
        .route("/conversations", get(list_conversations))
        .route("/conversations/{id}/messages", get(conversation_messages))
        .route("/forms/templates", get(list_templates))
        .route("/forms/templates/{id}", get(get_template))
        .route("/forms/submissions", get(list_submissions))
        .route("/dashboard/stats", get(dashboard_stats))
        .route("/dashboard/alerts", get(dashboard_alerts))
        .route("/workspace", get(get_workspace))
        .route("/admin/projections", get(admin_projections))
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::InvalidCursor => {
                ApiError::bad_request("invalid_cursor", "the cursor is not valid")
            }
            QueryError::InvalidParameter(detail) => ApiError::bad_request("invalid_query", detail),
            QueryError::Database(e) => e.into(),
        }
    }
}

/// The caller's slice of the read models: the owner sees the workspace, staff their part.
pub(crate) fn scope(actor: &Actor) -> Scope {
    if actor.is_owner() {
        Scope::owner(actor.workspace_id)
    } else {
        Scope::staff(actor.workspace_id, actor.user_id, actor.permissions)
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// 1 to 200 (default 50).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl Paging {
    fn page(&self) -> PageRequest {
        PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BookingQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// A local day in the workspace's zone.
    pub date: Option<NaiveDate>,
    pub staff_id: Option<Uuid>,
    #[param(value_type = Option<String>)]
    pub status: Option<BookingStatus>,
    pub contact_id: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /bookings` (owner, staff with `bookings`: their own).
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery),
    responses((status = 200, body = Page<query::bookings::BookingView>), (status = 400, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_bookings(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<BookingQuery>,
) -> ApiResult<Json<Page<query::bookings::BookingView>>> {
    actor.require(Permission::Bookings)?;
    let filter = query::bookings::BookingFilter {
        from: q.from,
        to: q.to,
        date: q.date,
        staff_id: q.staff_id,
        status: q.status,
        contact_id: q.contact_id,
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::bookings::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArchivedQuery {
    #[serde(default)]
    pub include_archived: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /services`.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(ArchivedQuery),
    responses((status = 200, body = Page<query::services::ServiceView>), (status = 400, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_services(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ArchivedQuery>,
) -> ApiResult<Json<Page<query::services::ServiceView>>> {
    let filter = query::services::ServiceFilter {
        include_archived: q.include_archived,
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::services::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StaffQuery {
    /// Owners only.
    #[serde(default)]
    pub include_inactive: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /staff`: active staff (`?include_inactive=true` for owners).
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(StaffQuery),
    responses((status = 200, body = Page<query::staff::StaffView>), (status = 400, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_staff(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<StaffQuery>,
) -> ApiResult<Json<Page<query::staff::StaffView>>> {
    let filter = query::staff::StaffFilter {
        include_inactive: q.include_inactive && actor.is_owner(),
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::staff::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

/// `GET /inventory` (owner, staff with `inventory`).
#[utoipa::path(get, path = "/api/v1/inventory", tag = "inventory", params(Paging),
    responses((status = 200, body = Page<query::inventory::InventoryItemView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_inventory(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<query::inventory::InventoryItemView>>> {
    actor.require(Permission::Inventory)?;
    let filter = query::inventory::InventoryFilter {
        low_stock: false,
        page: paging.page(),
    };
    Ok(Json(
        query::inventory::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

/// `GET /inventory/low-stock`: items with `quantity <= threshold`.
#[utoipa::path(get, path = "/api/v1/inventory/low-stock", tag = "inventory", params(Paging),
    responses((status = 200, body = Page<query::inventory::InventoryItemView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn low_stock(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<query::inventory::InventoryItemView>>> {
    actor.require(Permission::Inventory)?;
    Ok(Json(
        query::inventory::low_stock(state.store.pool(), &scope(&actor), &paging.page()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// Searches name, email and phone.
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /contacts` (owner, staff with `contacts`).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = Page<query::contacts::ContactView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_contacts(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> ApiResult<Json<Page<query::contacts::ContactView>>> {
    actor.require(Permission::Contacts)?;
    let filter = query::contacts::ContactFilter {
        q: q.q,
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::contacts::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

/// `GET /contacts/{id}`, with its `ETag` (for `If-Match` on `PUT` and `DELETE`).
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path, description = "contact id")),
    responses((status = 200, body = query::contacts::ContactView, headers(("ETag" = String, description = "the contact's version"))),
              (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_contact(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    actor.require(Permission::Contacts)?;
    let view = query::contacts::get(state.store.pool(), &scope(&actor), id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact"))?;
    Ok(crate::http::with_etag(
        &view,
        u64::try_from(view.version).unwrap_or(0),
    ))
}

/// `GET /contacts/{id}/history`: bookings, messages and forms of the contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/history", tag = "contacts", params(("id" = Uuid, Path, description = "contact id")),
    responses((status = 200, body = query::contacts::ContactHistory), (status = 404, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn contact_history(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<query::contacts::ContactHistory>> {
    actor.require(Permission::Contacts)?;
    query::contacts::history(state.store.pool(), &scope(&actor), id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("contact"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    pub unanswered: Option<bool>,
    pub contact_id: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /conversations` (owner, staff with `inbox`: assigned to them or unassigned).
#[utoipa::path(get, path = "/api/v1/conversations", tag = "inbox", params(ConversationQuery),
    responses((status = 200, body = Page<query::inbox::ConversationView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> ApiResult<Json<Page<query::inbox::ConversationView>>> {
    actor.require(Permission::Inbox)?;
    let filter = query::inbox::ConversationFilter {
        unanswered: q.unanswered,
        contact_id: q.contact_id,
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::inbox::list(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

/// `GET /conversations/{id}/messages`.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "inbox",
    params(("id" = Uuid, Path, description = "conversation id"), Paging),
    responses((status = 200, body = Page<query::inbox::MessageView>), (status = 404, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn conversation_messages(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<query::inbox::MessageView>>> {
    actor.require(Permission::Inbox)?;
    query::inbox::messages(state.store.pool(), &scope(&actor), id, &paging.page())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// `GET /forms/templates` (owner, staff with `forms`).
#[utoipa::path(get, path = "/api/v1/forms/templates", tag = "forms", params(Paging),
    responses((status = 200, body = Page<query::forms::FormTemplateView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<query::forms::FormTemplateView>>> {
    actor.require(Permission::Forms)?;
    Ok(Json(
        query::forms::list_templates(state.store.pool(), &scope(&actor), &paging.page()).await?,
    ))
}

/// `GET /forms/templates/{id}`, with its `ETag` (for `If-Match` on `PUT`).
#[utoipa::path(get, path = "/api/v1/forms/templates/{id}", tag = "forms", params(("id" = Uuid, Path, description = "template id")),
    responses((status = 200, body = query::forms::FormTemplateView), (status = 403, body = crate::openapi::ErrorBody),
              (status = 404, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn get_template(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<axum::response::Response> {
    actor.require(Permission::Forms)?;
    let view = query::forms::get_template(state.store.pool(), &scope(&actor), id)
        .await?
        .ok_or_else(|| ApiError::not_found("form template"))?;
    Ok(crate::http::with_etag(
        &view,
        u64::try_from(view.version).unwrap_or(0),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubmissionQuery {
    /// `pending` or `submitted`.
    pub status: Option<String>,
    pub contact_id: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /forms/submissions`.
#[utoipa::path(get, path = "/api/v1/forms/submissions", tag = "forms", params(SubmissionQuery),
    responses((status = 200, body = Page<query::forms::SubmissionView>), (status = 400, body = crate::openapi::ErrorBody), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn list_submissions(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<SubmissionQuery>,
) -> ApiResult<Json<Page<query::forms::SubmissionView>>> {
    actor.require(Permission::Forms)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(value) => Some(query::forms::SubmissionStatus::parse(value).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "status: pending or submitted")
        })?),
    };
    let filter = query::forms::SubmissionFilter {
        status,
        contact_id: q.contact_id,
        page: PageRequest {
            limit: q.limit,
            cursor: q.cursor,
        },
    };
    Ok(Json(
        query::forms::list_submissions(state.store.pool(), &scope(&actor), &filter).await?,
    ))
}

/// `GET /dashboard/stats`: the pulse (staff get their own slice).
#[utoipa::path(get, path = "/api/v1/dashboard/stats", tag = "dashboard",
    responses((status = 200, body = query::dashboard::DashboardStats)), security(("bearer" = [])))]
pub async fn dashboard_stats(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<query::dashboard::DashboardStats>> {
    Ok(Json(
        query::dashboard::stats(state.store.pool(), &scope(&actor), state.clock.now()).await?,
    ))
}

/// `GET /dashboard/alerts` (owner): open alerts.
#[utoipa::path(get, path = "/api/v1/dashboard/alerts", tag = "dashboard", params(Paging),
    responses((status = 200, body = Page<query::alerts::AlertView>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn dashboard_alerts(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<query::alerts::AlertView>>> {
    actor.require_owner()?;
    Ok(Json(
        query::alerts::open(
            state.store.pool(),
            &scope(&actor),
            state.clock.now(),
            &paging.page(),
        )
        .await?,
    ))
}

/// `GET /workspace` (any member), with its `ETag` (for `If-Match` on `PUT /workspace`).
#[utoipa::path(get, path = "/api/v1/workspace", tag = "workspace",
    responses((status = 200, body = query::workspace::WorkspaceView, headers(("ETag" = String, description = "the workspace's version"))),
              (status = 404, body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_workspace(State(state): State<AppState>, actor: Actor) -> ApiResult<Response> {
    let view = query::workspace::get(state.store.pool(), &scope(&actor))
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(crate::http::with_etag(
        &view,
        u64::try_from(view.version).unwrap_or(0),
    ))
}

/// `GET /admin/projections` (owner): each read model's position, lag and status.
#[utoipa::path(get, path = "/api/v1/admin/projections", tag = "admin",
    responses((status = 200, body = Vec<projections::ProjectionStatus>), (status = 403, body = crate::openapi::ErrorBody)), security(("bearer" = [])))]
pub async fn admin_projections(
    State(state): State<AppState>,
    actor: Actor,
) -> ApiResult<Json<Vec<projections::ProjectionStatus>>> {
    actor.require_owner()?;
    Ok(Json(projections::status(state.store.pool()).await?))
}
