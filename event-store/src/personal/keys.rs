//! The key table (`personal_data_keys`): one AES-256 key per data subject, created on the
//! subject's first personal event, emptied when the subject is erased.

use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::cipher::SubjectKey;
use crate::error::{AppendError, StoreError};

/// Creates the missing keys and reads all of them in one statement.
///
/// The statement sees the table as it was when it started, so a key it creates comes from
/// `created` and an existing one from the plain select; a tombstone (an erased subject)
/// reads as a null key. A key created by a concurrent append that committed while this
/// statement waited on it is in neither: [`for_append`] reads those again.
const ENSURE_KEYS_SQL: &str = r#"
with wanted as (
    select * from unnest((select $1::uuid[]), (select $2::bytea[])) as w(subject_id, key)
),
created as (
    insert into personal_data_keys (subject_id, workspace_id, key)
    select w.subject_id, $3, w.key from wanted w
    on conflict (subject_id) do nothing
    returning subject_id, key
)
select subject_id, key from created
union all
select k.subject_id, k.key from personal_data_keys k where k.subject_id = any($1::uuid[])
"#;

/// [`ENSURE_KEYS_SQL`] for an append outside a transaction (its own commit): the statement
/// commits without waiting for the WAL flush (see [`KeyCommit::Asynchronous`]).
const ENSURE_KEYS_ASYNC_SQL: &str = r#"
with unflushed as materialized (
    select set_config('synchronous_commit', 'off', true)
),
wanted as (
    select w.* from unnest((select $1::uuid[]), (select $2::bytea[])) as w(subject_id, key), unflushed
),
created as (
    insert into personal_data_keys (subject_id, workspace_id, key)
    select w.subject_id, $3, w.key from wanted w
    on conflict (subject_id) do nothing
    returning subject_id, key
)
select subject_id, key from created
union all
select k.subject_id, k.key from personal_data_keys k where k.subject_id = any($1::uuid[])
"#;

/// How the statement creating keys commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyCommit {
    /// Inside the caller's transaction: the keys commit with the events.
    WithCaller,
    /// On its own, before the append statement (an append outside a transaction), and
    /// without waiting for its WAL flush: the append commits synchronously right after, on
    /// the same connection, and flushing its commit record flushes the key's (earlier in
    /// the WAL) too. A crash in between loses only keys no stored event uses. This spares
    /// such appends a second flush wait, which halved their rate.
    Asynchronous,
}

/// The array behind a scalar subquery keeps the cached generic plan (an index probe per
/// subject); given as a constant, it was planned anew on every read of a sealed event.
const READ_KEYS_SQL: &str =
    "select subject_id, key from personal_data_keys where subject_id = any((select $1::uuid[])::uuid[])";

/// The keys to encrypt with, created for subjects seen for the first time.
///
/// An erased subject has no key and gets none: the append is refused with
/// [`AppendError::Erased`] rather than storing new personal data of someone erased.
pub(crate) async fn for_append(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    subjects: &[Uuid],
    commit: KeyCommit,
) -> Result<HashMap<Uuid, SubjectKey>, AppendError> {
    let fresh: Vec<Vec<u8>> = subjects.iter().map(|_| SubjectKey::generate()).collect();
    let sql = match commit {
        KeyCommit::WithCaller => ENSURE_KEYS_SQL,
        KeyCommit::Asynchronous => ENSURE_KEYS_ASYNC_SQL,
    };
    let rows: Vec<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(sql)
        .bind(subjects)
        .bind(&fresh)
        .bind(workspace_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut keys = collect(rows).map_err(StoreError::Key)?;
    let missing: Vec<Uuid> = subjects
        .iter()
        .filter(|s| !keys.contains_key(s))
        .copied()
        .collect();
    if !missing.is_empty() {
        // Created by a concurrent append after our statement's snapshot: a new statement
        // sees it (under READ COMMITTED; a stricter transaction retries the command).
        let rows: Vec<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(READ_KEYS_SQL)
            .bind(&missing)
            .fetch_all(&mut *conn)
            .await?;
        keys.extend(collect(rows).map_err(StoreError::Key)?);
    }
    let mut usable = HashMap::with_capacity(subjects.len());
    for subject in subjects {
        match keys.remove(subject) {
            Some(Some(key)) => {
                usable.insert(*subject, key);
            }
            Some(None) => {
                return Err(AppendError::Erased {
                    subject_id: *subject,
                })
            }
            None => {
                return Err(AppendError::Conflict {
                    stream_id: format!("personal-data-key-{subject}"),
                    expected: crate::ExpectedVersion::Any,
                    actual: None,
                })
            }
        }
    }
    Ok(usable)
}

/// Reads the keys of `subjects` for decryption; erased (and unknown) subjects are absent.
pub(crate) async fn for_read<'e>(
    executor: impl PgExecutor<'e>,
    subjects: &[Uuid],
) -> Result<HashMap<Uuid, SubjectKey>, StoreError> {
    let rows: Vec<(Uuid, Option<Vec<u8>>)> = sqlx::query_as(READ_KEYS_SQL)
        .bind(subjects)
        .fetch_all(executor)
        .await?;
    let keys = collect(rows).map_err(StoreError::Key)?;
    Ok(keys
        .into_iter()
        .filter_map(|(subject, key)| key.map(|key| (subject, key)))
        .collect())
}

type MaybeKey = Option<SubjectKey>;

fn collect(rows: Vec<(Uuid, Option<Vec<u8>>)>) -> Result<HashMap<Uuid, MaybeKey>, String> {
    rows.into_iter()
        .map(|(subject, bytes)| match bytes {
            None => Ok((subject, None)),
            Some(bytes) => SubjectKey::from_bytes(&bytes)
                .map(|key| (subject, Some(key)))
                .ok_or_else(|| format!("the key of subject {subject} is not 32 bytes")),
        })
        .collect()
}

/// Erases a data subject: destroys its key, so that its personal fields in every event,
/// past and future reads alike, show as `{"erased": true}`.
///
/// Runs on the caller's connection, so that inside a transaction the erasure commits with
/// the event that records it (e.g. `ContactErased`). The subject's row stays as a tombstone
/// (`key` null): later appends of personal data for it are refused with
/// [`AppendError::Erased`]. A subject that never had a key gets a tombstone too.
///
/// Returns `true` when the subject is erased by this call; `false` when it already was, or
/// when its key belongs to another workspace (which is left alone).
#[tracing::instrument(level = "debug", skip_all, fields(%workspace_id, %subject_id))]
pub async fn erase_subject(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    subject_id: Uuid,
) -> Result<bool, StoreError> {
    let erased: Option<i32> = sqlx::query_scalar(
        "insert into personal_data_keys (subject_id, workspace_id, key, erased_at)
         values ($1, $2, null, now())
         on conflict (subject_id) do update set key = null, erased_at = now()
         where personal_data_keys.key is not null
           and personal_data_keys.workspace_id = excluded.workspace_id
         returning 1",
    )
    .bind(subject_id)
    .bind(workspace_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(erased.is_some())
}

/// Whether a data subject was erased.
pub async fn is_erased<'e>(
    executor: impl PgExecutor<'e>,
    subject_id: Uuid,
) -> Result<bool, StoreError> {
    let erased: Option<bool> =
        sqlx::query_scalar("select key is null from personal_data_keys where subject_id = $1")
            .bind(subject_id)
            .fetch_optional(executor)
            .await?;
    Ok(erased.unwrap_or(false))
}
