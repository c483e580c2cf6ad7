//! `GET /forms/templates`, `GET /forms/templates/{id}`, `GET /forms/submissions`
//! (`?status=pending|submitted`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FormTemplateView {
    pub id: Uuid,
    pub name: String,
    /// `[{key, label, kind, required, options?}]`
    #[schema(value_type = Vec<Object>)]
    pub fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: Uuid,
    name: String,
    fields: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    version: i64,
}

impl From<TemplateRow> for FormTemplateView {
    fn from(r: TemplateRow) -> Self {
        FormTemplateView {
            id: r.id,
            name: r.name,
            fields: r.fields.0,
            created_at: r.created_at,
            version: r.version,
        }
    }
}

/// A form request and, once submitted, its answers (null once the contact was erased).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SubmissionView {
    pub id: Uuid,
    pub template_id: Uuid,
    pub contact_id: Uuid,
    pub booking_id: Option<Uuid>,
    /// `pending` or `submitted`.
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
    pub requested_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubmissionRow {
    id: Uuid,
    template_id: Uuid,
    contact_id: Uuid,
    booking_id: Option<Uuid>,
    status: String,
    answers: Option<Json<serde_json::Value>>,
    requested_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    version: i64,
}

impl From<SubmissionRow> for SubmissionView {
    fn from(r: SubmissionRow) -> Self {
        SubmissionView {
            id: r.id,
            template_id: r.template_id,
            contact_id: r.contact_id,
            booking_id: r.booking_id,
            status: r.status,
            answers: r.answers.map(|a| a.0),
            requested_at: r.requested_at,
            submitted_at: r.submitted_at,
            version: r.version,
        }
    }
}

pub(crate) const SUBMISSION_COLUMNS: &str = "id, template_id, contact_id, booking_id, status, \
    answers, requested_at, submitted_at, version";

/// `?status=` of `GET /forms/submissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionStatus {
    Pending,
    Submitted,
}

impl SubmissionStatus {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(SubmissionStatus::Pending),
            "submitted" => Some(SubmissionStatus::Submitted),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Pending => "pending",
            SubmissionStatus::Submitted => "submitted",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmissionFilter {
    pub status: Option<SubmissionStatus>,
    pub contact_id: Option<Uuid>,
    pub page: PageRequest,
}

pub async fn list_templates(
    pool: &PgPool,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<FormTemplateView>, QueryError> {
    let limit = page.limit();
    let cursor = page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(
        "select id, name, fields, created_at, version from rm_forms.templates where workspace_id = ",
    );
    q.push_bind(scope.workspace_id);
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
    let rows: Vec<TemplateRow> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let rows = rows.into_iter().map(FormTemplateView::from).collect();
    Ok(Page::from_rows(rows, limit, |t: &FormTemplateView| {
        Cursor::new(t.created_at, t.id)
    }))
}

pub async fn get_template(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<FormTemplateView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<TemplateRow> = sqlx::query_as(
        "select id, name, fields, created_at, version from rm_forms.templates
         where workspace_id = $1 and id = $2",
    )
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(FormTemplateView::from))
}

pub async fn list_submissions(
    pool: &PgPool,
    scope: &Scope,
    filter: &SubmissionFilter,
) -> Result<Page<SubmissionView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {SUBMISSION_COLUMNS} from rm_forms.requests where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if let Some(status) = filter.status {
        q.push(" and status = ").push_bind(status.as_str());
    }
    if let Some(contact_id) = filter.contact_id {
        q.push(" and contact_id = ").push_bind(contact_id);
    }
    if let Some(c) = cursor {
        q.push(" and (requested_at, id) > (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" order by requested_at, id limit ")
        .push_bind(limit + 1);
    let mut tx = begin(pool, scope.workspace_id).await?;
    let rows: Vec<SubmissionRow> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let rows = rows.into_iter().map(SubmissionView::from).collect();
    Ok(Page::from_rows(rows, limit, |s: &SubmissionView| {
        Cursor::new(s.requested_at, s.id)
    }))
}

/// One form request (e.g. for `GET /public/forms/{token}` once the token is resolved).
pub async fn get_submission(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<SubmissionView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<SubmissionRow> = sqlx::query_as(&format!(
        "select {SUBMISSION_COLUMNS} from rm_forms.requests where workspace_id = $1 and id = $2"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(SubmissionView::from))
}
