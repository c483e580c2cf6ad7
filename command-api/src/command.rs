//! The command pipeline: load streams → decide → append with expected versions, retried a
//! few times when another request changed a stream in between.
//!
//! A handler gets a [`Unit`] of work: it loads the aggregates it needs (their versions are
//! remembered), calls the domain's pure `decide`, and records the events to append. The
//! pipeline then appends everything in one transaction, each written stream at the version
//! it was loaded at, together with any [`SideWrite`] (secrets that never go into events).
//! On a version conflict the whole handler runs again on fresh state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use domain::{Aggregate, DomainEvent, EncodedEvent, EncodedStream};
use event_store::{
    AppendError, AppendOutcome, EventStore, ExpectedVersion, Metadata, NewEvent, RecordedEvent,
    StreamWrite,
};
use sqlx::PgConnection;
use uuid::Uuid;

use domain::values::{Permissions, Role};
use service_runtime::secrets::SealedInvitation;

use crate::http::{ApiError, ApiResult, IfMatch};

/// How roles are written in the credentials table.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Staff => "staff",
    }
}

/// How many times a command is decided again after a version conflict before answering 409.
/// Hot streams (one inventory item used by every booking) can see dozens of contenders; each
/// round lets one through, so the budget is generous and the waits are jittered.
const ATTEMPTS: usize = 30;

/// Writes outside the event log that must commit with the events.
#[derive(Debug, Clone)]
pub enum SideWrite {
    /// Login credentials of a new user.
    Credentials {
        user_id: Uuid,
        workspace_id: Uuid,
        email: String,
        password_hash: String,
        role: Role,
        permissions: Permissions,
    },
    /// The user's permissions changed: effective on their next request.
    Permissions {
        user_id: Uuid,
        permissions: Permissions,
    },
    /// A user can no longer log in; every session ends.
    DeactivateCredentials { user_id: Uuid },
    /// A booking's manage token: its hash, and the token sealed for the confirmation email.
    ManageToken(service_runtime::manage_tokens::SealedManageToken),
    /// An invited staff member's generated password, sealed, for the invitation email.
    InvitationPassword {
        workspace_id: Uuid,
        sealed: SealedInvitation,
    },
    /// The workspace's delivery providers, their secrets sealed.
    Integrations(service_runtime::integrations::SealedIntegrations),
    /// A form request's link: the token's hash, and the token sealed for the email.
    FormToken(service_runtime::form_tokens::SealedFormToken),
    /// Crypto-shredding: the data subject's key is destroyed (its personal fields in every
    /// event read as erased from then on), and stored responses that showed its data go.
    EraseSubject {
        workspace_id: Uuid,
        subject_id: Uuid,
    },
}

/// One attempt at a command: what was loaded and what is to be written.
pub struct Unit {
    store: EventStore,
    versions: HashMap<String, u64>,
    created_at: HashMap<String, DateTime<Utc>>,
    writes: Vec<StreamWrite>,
    side_writes: Vec<SideWrite>,
    /// Streams read ahead by [`Unit::prefetch`], not yet loaded.
    prefetched: HashMap<String, Vec<event_store::RecordedEvent>>,
}

impl Unit {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            versions: HashMap::new(),
            created_at: HashMap::new(),
            writes: Vec::new(),
            side_writes: Vec::new(),
            prefetched: HashMap::new(),
        }
    }

    /// Reads streams of any types in one round trip ahead of their `load`s (a booking
    /// touches half a dozen streams; one query instead of six is most of its latency).
    /// A stream that does not exist is remembered as empty.
    pub async fn prefetch(&mut self, stream_ids: &[String]) -> ApiResult<()> {
        let wanted: Vec<String> = stream_ids
            .iter()
            .filter(|id| !self.prefetched.contains_key(*id) && !self.versions.contains_key(*id))
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut streams = self.store.load_streams(&wanted).await?;
        for id in wanted {
            let recorded = streams.remove(&id).unwrap_or_default();
            self.prefetched.insert(id, recorded);
        }
        Ok(())
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Loads an aggregate's state, remembering its version for the append.
    pub async fn load<A: Aggregate>(&mut self, stream_id: &str) -> ApiResult<A::State> {
        let mut states = self.load_many::<A>(&[stream_id.to_string()]).await?;
        Ok(states.pop().unwrap_or_default())
    }

    /// Loads several aggregates of one type in one round trip, in the order asked.
    pub async fn load_many<A: Aggregate>(
        &mut self,
        stream_ids: &[String],
    ) -> ApiResult<Vec<A::State>> {
        let missing: Vec<String> = stream_ids
            .iter()
            .filter(|id| !self.prefetched.contains_key(*id))
            .cloned()
            .collect();
        let mut streams = if missing.is_empty() {
            HashMap::new()
        } else {
            self.store.load_streams(&missing).await?
        };
        let mut states = Vec::with_capacity(stream_ids.len());
        for id in stream_ids {
            let recorded = match self.prefetched.remove(id) {
                Some(recorded) => recorded,
                None => streams.remove(id).unwrap_or_default(),
            };
            let version = recorded.last().map(|e| e.stream_version).unwrap_or(0);
            self.versions.insert(id.clone(), version);
            if let Some(first) = recorded.first() {
                self.created_at.insert(id.clone(), first.recorded_at);
            }
            states.push(fold::<A>(recorded)?);
        }
        Ok(states)
    }

    /// When a loaded stream's first event was recorded.
    pub fn created_at(&self, stream_id: &str) -> Option<DateTime<Utc>> {
        self.created_at.get(stream_id).copied()
    }

    /// The version a loaded stream was at (0 when it did not exist or was not loaded).
    pub fn version(&self, stream_id: &str) -> u64 {
        self.versions.get(stream_id).copied().unwrap_or(0)
    }

    /// Records events for a stream; it must still be at the version it was loaded at (or not
    /// exist, when it was not loaded).
    pub fn append<E: DomainEvent>(
        &mut self,
        stream_type: &'static str,
        stream_id: String,
        events: &[E],
    ) {
        let encoded: Vec<EncodedEvent> = events.iter().map(DomainEvent::encode).collect();
        self.append_encoded(EncodedStream {
            stream_type,
            stream_id,
            events: encoded,
        });
    }

    /// Records the streams of a multi-stream decision (a booking).
    pub fn append_encoded(&mut self, stream: EncodedStream) {
        if stream.events.is_empty() {
            return;
        }
        let expected = match self.versions.get(&stream.stream_id) {
            Some(0) | None => ExpectedVersion::NoStream,
            Some(&v) => ExpectedVersion::Exact(v),
        };
        let events = stream
            .events
            .into_iter()
            .map(|e| {
                let event = NewEvent::new(e.event_type, e.schema_version, e.data);
                // Personal fields are encrypted by the store with the subject's key.
                match e.personal_data {
                    Some(p) => event.with_personal_fields(p.subject, p.fields.iter().copied()),
                    None => event,
                }
            })
            .collect::<Vec<_>>();
        match self
            .writes
            .iter_mut()
            .find(|w| w.stream_id == stream.stream_id)
        {
            Some(existing) => existing.events.extend(events),
            None => self.writes.push(StreamWrite::new(
                stream.stream_type,
                stream.stream_id,
                expected,
                events,
            )),
        }
    }

    pub fn side_write(&mut self, write: SideWrite) {
        self.side_writes.push(write);
    }
}

/// What belongs to one workspace. A request may only load its caller's.
pub trait InWorkspace {
    fn workspace_id(&self) -> Uuid;
}

macro_rules! in_workspace {
    ($($ty:ty),*) => {$(
        impl InWorkspace for $ty {
            fn workspace_id(&self) -> Uuid {
                self.workspace_id
            }
        }
    )*};
}
in_workspace!(
    domain::inventory::InventoryItem,
    domain::service::Service,
    domain::user::User,
    domain::contact::Contact,
    domain::booking::Booking,
    domain::conversation::Conversation,
    domain::form_template::FormTemplate,
    domain::form_request::FormRequest
);

impl Unit {
    /// Loads an aggregate of the caller's workspace: a missing one, or another workspace's,
    /// is "not found" (never revealed), and `If-Match` is checked against its version.
    /// Returns the state, always `Some`, in the shape the domain's `decide` takes.
    pub async fn load_owned<A, T>(
        &mut self,
        stream_id: &str,
        workspace_id: Uuid,
        if_match: IfMatch,
        what: &'static str,
    ) -> ApiResult<Option<T>>
    where
        A: Aggregate<State = Option<T>>,
        T: InWorkspace,
    {
        let state = self.load::<A>(stream_id).await?;
        if state
            .as_ref()
            .is_none_or(|s| s.workspace_id() != workspace_id)
        {
            return Err(ApiError::not_found(what));
        }
        if_match.check(self.version(stream_id))?;
        Ok(state)
    }
}

/// One aggregate read for a single-resource GET.
pub struct Owned<T> {
    pub state: T,
    /// The stream version: the `ETag`.
    pub version: u64,
    /// When the stream's first event was recorded.
    pub created_at: DateTime<Utc>,
}

/// Reads an aggregate of the caller's workspace for a GET: a missing one, or another
/// workspace's, is "not found" (never revealed).
pub async fn read_owned<A, T>(
    store: &EventStore,
    stream_id: &str,
    workspace_id: Uuid,
    what: &'static str,
) -> ApiResult<Owned<T>>
where
    A: Aggregate<State = Option<T>>,
    T: InWorkspace,
{
    let stream = store.read_stream(stream_id, 0).await?;
    let version = stream.last().map(|e| e.stream_version).unwrap_or(0);
    let created_at = stream
        .first()
        .map(|e| e.recorded_at)
        .unwrap_or_else(Utc::now);
    let state = fold::<A>(stream)?
        .filter(|s| s.workspace_id() == workspace_id)
        .ok_or_else(|| ApiError::not_found(what))?;
    Ok(Owned {
        state,
        version,
        created_at,
    })
}

/// Folds a stream's recorded events into the aggregate's state. An event that does not
/// decode is our bug (or a missing upcaster), never the client's: a 500.
pub fn fold<A: Aggregate>(recorded: Vec<RecordedEvent>) -> ApiResult<A::State> {
    let mut state = A::State::default();
    for event in recorded {
        let decoded = A::Event::from_payload(&event.event_type, event.data).map_err(|e| {
            ApiError::internal(format!(
                "event {} ({}) of {} does not decode: {e}",
                event.position, event.event_type, event.stream_id
            ))
        })?;
        state = A::evolve(state, &decoded);
    }
    Ok(state)
}

/// Runs a command body with retries on version conflicts, and evaluates to `(result,
/// Option<AppendOutcome>)` (the outcome is `None` when nothing was recorded). The body gets
/// `$unit: &mut Unit` and evaluates to `ApiResult<R>`; `?` inside it ends the attempt.
///
/// A macro rather than a function taking an async closure, so that the handler's future
/// stays `Send` (async closures borrowing their argument cannot yet promise that).
#[macro_export]
macro_rules! execute {
    ($store:expr, $workspace_id:expr, $metadata:expr, |$unit:ident| $body:block) => {{
        let mut attempt = 0usize;
        loop {
            attempt += 1;
            let mut unit_of_work = $crate::command::Unit::new(($store).clone());
            let result: $crate::http::ApiResult<_> = {
                let $unit = &mut unit_of_work;
                async { $body }.await
            };
            let result = result?;
            match $crate::command::commit(&$store, $workspace_id, $metadata, &unit_of_work).await {
                Ok(outcome) => break (result, outcome),
                Err(error) => $crate::command::retry_or_fail(error, attempt).await?,
            }
        }
    }};
}

/// After a failed commit: `Ok(())` to decide again on fresh state (after a short random
/// pause, so that contenders spread out), or the error to answer.
pub async fn retry_or_fail(error: AppendError, attempt: usize) -> ApiResult<()> {
    match error {
        AppendError::Conflict { stream_id, .. } if attempt < ATTEMPTS => {
            tracing::debug!(%stream_id, attempt, "version conflict; deciding again");
            let ceiling_ms = (attempt as u64).min(10);
            let pause = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=ceiling_ms * 1000);
            tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
            Ok(())
        }
        AppendError::Conflict { .. } => Err(ApiError::conflict(
            "version_conflict",
            "the resource kept changing; retry",
        )),
        other => Err(other.into()),
    }
}

/// Appends what a unit recorded, with its side writes, in one transaction. A unit that
/// recorded nothing commits nothing.
pub async fn commit(
    store: &EventStore,
    workspace_id: Uuid,
    metadata: &Metadata,
    unit: &Unit,
) -> Result<Option<AppendOutcome>, AppendError> {
    if unit.writes.is_empty() && unit.side_writes.is_empty() {
        return Ok(None);
    }
    let mut tx = store.pool().begin().await?;
    let outcome = if unit.writes.is_empty() {
        None
    } else {
        Some(
            store
                .append_in(&mut tx, workspace_id, metadata, &unit.writes)
                .await?,
        )
    };
    for write in &unit.side_writes {
        apply_side_write(&mut tx, write)
            .await
            .map_err(|e| match e {
                // A unique violation here is a race on the same email: a conflict like any other.
                sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                    AppendError::Conflict {
                        stream_id: "credentials".into(),
                        expected: ExpectedVersion::NoStream,
                        actual: None,
                    }
                }
                other => other.into(),
            })?;
    }
    tx.commit().await?;
    if let Some(appended) = &outcome {
        store.appended();
        metrics::counter!("careops_events_appended_total")
            .increment(appended.positions.len() as u64);
    }
    Ok(outcome)
}

async fn apply_side_write(conn: &mut PgConnection, write: &SideWrite) -> Result<(), sqlx::Error> {
    match write {
        SideWrite::Credentials {
            user_id,
            workspace_id,
            email,
            password_hash,
            role,
            permissions,
        } => {
            sqlx::query(
                "insert into credentials (user_id, workspace_id, email, password_hash, role, permissions)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user_id)
            .bind(workspace_id)
            .bind(email)
            .bind(password_hash)
            .bind(role_name(*role))
            .bind(sqlx::types::Json(permissions))
            .execute(&mut *conn)
            .await?;
        }
        SideWrite::Permissions {
            user_id,
            permissions,
        } => {
            sqlx::query(
                "update credentials set permissions = $2, updated_at = now() where user_id = $1",
            )
            .bind(user_id)
            .bind(sqlx::types::Json(permissions))
            .execute(&mut *conn)
            .await?;
        }
        SideWrite::ManageToken(sealed) => {
            service_runtime::manage_tokens::insert_manage_token(conn, sealed).await?;
        }
        SideWrite::InvitationPassword {
            workspace_id,
            sealed,
        } => {
            service_runtime::secrets::insert_invitation(conn, *workspace_id, sealed).await?;
        }
        SideWrite::Integrations(sealed) => {
            service_runtime::integrations::store(conn, sealed).await?;
        }
        SideWrite::FormToken(sealed) => {
            service_runtime::form_tokens::insert_form_token(conn, sealed).await?;
        }
        SideWrite::EraseSubject {
            workspace_id,
            subject_id,
        } => {
            event_store::erase_subject(conn, *workspace_id, *subject_id)
                .await
                .map_err(|e| match e {
                    event_store::StoreError::Database(db) => db,
                    other => sqlx::Error::Protocol(other.to_string()),
                })?;
            // Idempotency records replay first responses for 24 hours; a contact's (its
            // creation, say) would show the erased name and email. Their body names the
            // subject's id (ids are unique UUIDs, so no other record matches).
            sqlx::query(
                "delete from idempotency_records where position(convert_to($1, 'UTF8') in body) > 0",
            )
            .bind(subject_id.to_string())
            .execute(&mut *conn)
            .await?;
        }
        SideWrite::DeactivateCredentials { user_id } => {
            sqlx::query(
                "update credentials set active = false, updated_at = now() where user_id = $1",
            )
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
            crate::auth::sessions::revoke_user(conn, *user_id, None).await?;
        }
    }
    Ok(())
}
