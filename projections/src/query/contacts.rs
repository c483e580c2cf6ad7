//! `GET /contacts` (`?q=` searches name, email, phone), `GET /contacts/{id}` and
//! `GET /contacts/{id}/history` (bookings, messages, forms of the contact).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::bookings::{BookingView, COLUMNS as BOOKING_COLUMNS};
use super::forms::{SubmissionRow, SubmissionView, SUBMISSION_COLUMNS};
use super::inbox::{MessageView, MESSAGE_COLUMNS};
use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

/// A contact; personal fields are null once the contact was erased.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Contact)]
pub struct ContactView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub erased: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFilter {
    /// Case-insensitive substring of name, email or phone.
    pub q: Option<String>,
    pub page: PageRequest,
}

const COLUMNS: &str = "id, name, email, phone, erased, created_at, version";

/// The longest history list of each kind returned at once.
const HISTORY_LIMIT: i64 = 200;

pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &ContactFilter,
) -> Result<Page<ContactView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from rm_contacts.contacts where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", escape_like(text));
        q.push(" and (name ilike ")
            .push_bind(pattern.clone())
            .push(" or email ilike ")
            .push_bind(pattern.clone())
            .push(" or phone ilike ")
            .push_bind(pattern)
            .push(")");
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
    let rows: Vec<ContactView> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Page::from_rows(rows, limit, |c| {
        Cursor::new(c.created_at, c.id)
    }))
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

pub async fn get(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<ContactView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<ContactView> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_contacts.contacts where workspace_id = $1 and id = $2"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A contact's bookings (start order), messages (time order) and forms (request order).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContactHistory {
    pub contact_id: Uuid,
    pub bookings: Vec<BookingView>,
    pub messages: Vec<MessageView>,
    pub forms: Vec<SubmissionView>,
}

/// The history of a contact; `None` when the contact is unknown. Staff see only their own
/// bookings and the messages of conversations in their slice.
pub async fn history(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<ContactHistory>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let known: Option<Uuid> = sqlx::query_scalar(
        "select id from rm_contacts.contacts where workspace_id = $1 and id = $2",
    )
    .bind(scope.workspace_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if known.is_none() {
        return Ok(None);
    }
    let staff = scope.staff_member();
    let bookings: Vec<BookingView> = sqlx::query_as(&format!(
        "select {BOOKING_COLUMNS} from rm_bookings.bookings b
         where b.workspace_id = $1 and b.contact_id = $2 and ($3::uuid is null or b.staff_id = $3)
         order by b.start_at, b.id limit $4"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .bind(staff)
    .bind(HISTORY_LIMIT)
    .fetch_all(&mut *tx)
    .await?;
    let messages: Vec<MessageView> = sqlx::query_as(&format!(
        "select {MESSAGE_COLUMNS} from rm_inbox.messages m
         join rm_inbox.conversations c on c.id = m.conversation_id
         where m.workspace_id = $1 and m.contact_id = $2
           and ($3::uuid is null or c.assignee is null or c.assignee = $3)
         order by m.at, m.feed_position limit $4"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .bind(staff)
    .bind(HISTORY_LIMIT)
    .fetch_all(&mut *tx)
    .await?;
    let forms: Vec<SubmissionRow> = sqlx::query_as(&format!(
        "select {SUBMISSION_COLUMNS} from rm_forms.requests
         where workspace_id = $1 and contact_id = $2 order by requested_at, id limit $3"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .bind(HISTORY_LIMIT)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(ContactHistory {
        contact_id: id,
        bookings,
        messages,
        forms: forms.into_iter().map(SubmissionView::from).collect(),
    }))
}
