//! `GET /conversations` (`?unanswered=true`) and `GET /conversations/{id}/messages`.
//! Staff see conversations assigned to them or unassigned.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{begin, Cursor, Page, PageRequest, QueryError, Scope};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Conversation)]
pub struct ConversationView {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    pub assignee: Option<Uuid>,
    pub closed: bool,
    /// The last message came from the contact and has no reply yet.
    pub unanswered: bool,
    /// Since when the contact has been waiting (null when answered).
    pub unanswered_since: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub message_count: i32,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub contact_id: Uuid,
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Null once the contact was erased.
    pub body: Option<String>,
    pub sent_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationFilter {
    /// `Some(true)`: only unanswered open conversations; `Some(false)`: only the others.
    pub unanswered: Option<bool>,
    pub contact_id: Option<Uuid>,
    pub page: PageRequest,
}

const COLUMNS: &str = "id, contact_id, channel, assignee, closed, \
    (not closed and last_direction = 'inbound') as unanswered, unanswered_since, \
    last_message_at, message_count, created_at, version";

pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.contact_id, m.channel, m.direction, m.body, m.sent_by, m.at";

/// The condition of an unanswered conversation (shared with the dashboard and alerts).
pub(crate) const UNANSWERED: &str = "not closed and last_direction = 'inbound'";

pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &ConversationFilter,
) -> Result<Page<ConversationView>, QueryError> {
    let limit = filter.page.limit();
    let cursor = filter.page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from rm_inbox.conversations where workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    if let Some(staff) = scope.staff_member() {
        q.push(" and (assignee is null or assignee = ")
            .push_bind(staff)
            .push(")");
    }
    match filter.unanswered {
        Some(true) => {
            q.push(format!(" and ({UNANSWERED})"));
        }
        Some(false) => {
            q.push(format!(" and not ({UNANSWERED})"));
        }
        None => {}
    }
    if let Some(contact_id) = filter.contact_id {
        q.push(" and contact_id = ").push_bind(contact_id);
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
    let rows: Vec<ConversationView> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Page::from_rows(rows, limit, |c| {
        Cursor::new(c.created_at, c.id)
    }))
}

pub async fn get(
    pool: &PgPool,
    scope: &Scope,
    id: Uuid,
) -> Result<Option<ConversationView>, QueryError> {
    let mut tx = begin(pool, scope.workspace_id).await?;
    let row: Option<ConversationView> = sqlx::query_as(&format!(
        "select {COLUMNS} from rm_inbox.conversations
         where workspace_id = $1 and id = $2 and ($3::uuid is null or assignee is null or assignee = $3)"
    ))
    .bind(scope.workspace_id)
    .bind(id)
    .bind(scope.staff_member())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The messages of a conversation in time order; `None` when the conversation is unknown
/// or outside the viewer's slice.
pub async fn messages(
    pool: &PgPool,
    scope: &Scope,
    conversation_id: Uuid,
    page: &PageRequest,
) -> Result<Option<Page<MessageView>>, QueryError> {
    if get(pool, scope, conversation_id).await?.is_none() {
        return Ok(None);
    }
    let limit = page.limit();
    let cursor = page.cursor()?;
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {MESSAGE_COLUMNS} from rm_inbox.messages m where m.workspace_id = "
    ));
    q.push_bind(scope.workspace_id);
    q.push(" and m.conversation_id = ")
        .push_bind(conversation_id);
    if let Some(c) = cursor {
        q.push(" and (m.at, m.id) > (")
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    q.push(" order by m.at, m.id limit ").push_bind(limit + 1);
    let mut tx = begin(pool, scope.workspace_id).await?;
    let rows: Vec<MessageView> = q.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(Page::from_rows(rows, limit, |m| {
        Cursor::new(m.at, m.id)
    })))
}
