//! Crypto-shredding: personal data in an append-only log that can still be erased.
//!
//! An event to append may name a data subject and the top-level payload fields that hold
//! that subject's personal data ([`PersonalFields`]). The append encrypts those fields with
//! the subject's key from `personal_data_keys` (created on the subject's first personal
//! event, in the same statement sequence as the events) and stores each as
//! `{"$enc": "<base64(nonce || ciphertext)>", "subject": "<uuid>"}` (see `cipher`).
//!
//! Every read (streams, single events, the audit trail, the ordered feed and so the relay
//! and the projections) decrypts with one key lookup for the whole batch. Once
//! [`erase_subject`] has destroyed a key, that subject's fields read as `{"erased": true}`,
//! the marker the domain's `Personal<T>` reads as erased, and nothing else changes: the
//! event, its other fields, its position and version stay. An erased subject never gets a
//! new key; an append with personal data for it is refused ([`crate::AppendError::Erased`]).

mod cipher;
mod keys;

use serde_json::Value;
use uuid::Uuid;

pub(crate) use keys::KeyCommit;
pub use keys::{erase_subject, is_erased};

use crate::append::StreamWrite;
use crate::envelope::RecordedEvent;
use crate::error::{AppendError, StoreError};
use crate::store::EventStore;

/// The personal data an event carries: whose it is and which top-level payload fields hold
/// it. Fields absent from the payload are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalFields {
    /// The data subject (a contact or a user id); its key encrypts the fields.
    pub subject: Uuid,
    pub fields: Vec<String>,
}

/// Whether any event of the append carries personal data (the common path has none and
/// skips the key table entirely).
pub(crate) fn any_personal(writes: &[StreamWrite]) -> bool {
    writes
        .iter()
        .any(|w| w.events.iter().any(|e| e.personal.is_some()))
}

/// Encrypts the personal fields of `writes` in `data`, their payloads flattened in request
/// order, creating the keys of subjects seen for the first time.
pub(crate) async fn seal(
    conn: &mut sqlx::PgConnection,
    workspace_id: Uuid,
    writes: &[StreamWrite],
    data: &mut [Value],
    commit: KeyCommit,
) -> Result<(), AppendError> {
    let mut subjects: Vec<Uuid> = writes
        .iter()
        .flat_map(|w| w.events.iter())
        .filter_map(|e| e.personal.as_ref().map(|p| p.subject))
        .collect();
    subjects.sort_unstable();
    subjects.dedup();
    let keys = keys::for_append(conn, workspace_id, &subjects, commit).await?;
    let events = writes.iter().flat_map(|w| w.events.iter());
    for (event, payload) in events.zip(data.iter_mut()) {
        let Some(personal) = &event.personal else {
            continue;
        };
        let key = keys.get(&personal.subject).ok_or_else(|| {
            AppendError::Invalid(format!("no key for subject {}", personal.subject))
        })?;
        let map = payload.as_object_mut().ok_or_else(|| {
            AppendError::Invalid(format!(
                "event {} has personal fields but its payload is not an object",
                event.event_id
            ))
        })?;
        for field in &personal.fields {
            if let Some(value) = map.get_mut(field.as_str()) {
                *value = key
                    .seal(personal.subject, event.event_id, field, value)
                    .map_err(AppendError::Invalid)?;
            }
        }
    }
    Ok(())
}

impl EventStore {
    /// Makes freshly read events readable: decrypts their personal fields (one key lookup for
    /// all of them; erased subjects' fields become `{"erased": true}`), then upcasts the
    /// payloads to the current schema. Decryption comes first because the sealed fields are
    /// bound to the names they were stored under.
    pub(crate) async fn finish(&self, events: &mut [RecordedEvent]) -> Result<(), StoreError> {
        reveal(self.pool(), events).await?;
        if !self.upcasters().is_empty() {
            for event in events.iter_mut() {
                let data = std::mem::take(&mut event.data);
                let (data, version) =
                    self.upcasters()
                        .upcast(&event.event_type, event.schema_version, data);
                event.data = data;
                event.schema_version = version;
            }
        }
        Ok(())
    }
}

fn corrupt(event: &RecordedEvent, reason: String) -> StoreError {
    StoreError::Corrupt {
        position: event.position,
        reason,
    }
}

/// Decrypts the sealed fields of `events` in place.
async fn reveal(pool: &sqlx::PgPool, events: &mut [RecordedEvent]) -> Result<(), StoreError> {
    let mut subjects: Vec<Uuid> = Vec::new();
    let mut sealed_events: Vec<usize> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let Some(map) = event.data.as_object() else {
            continue;
        };
        let before = subjects.len();
        let mut sealed = false;
        for value in map.values() {
            if let Some(subject) = cipher::sealed_subject(value) {
                let subject = subject.map_err(|reason| corrupt(event, reason))?;
                sealed = true;
                if !subjects[before..].contains(&subject) {
                    subjects.push(subject);
                }
            }
        }
        if sealed {
            sealed_events.push(i);
        }
    }
    if sealed_events.is_empty() {
        return Ok(());
    }
    subjects.sort_unstable();
    subjects.dedup();
    let keys = keys::for_read(pool, &subjects).await?;
    for i in sealed_events {
        let event = &mut events[i];
        let event_id = event.event_id;
        let position = event.position;
        let mut revealed: Vec<Uuid> = Vec::new();
        if let Some(map) = event.data.as_object_mut() {
            for (field, value) in map.iter_mut() {
                let Some(Ok(subject)) = cipher::sealed_subject(value) else {
                    continue;
                };
                *value = match keys.get(&subject) {
                    Some(key) => {
                        let opened = key
                            .open(subject, event_id, field, value)
                            .map_err(|reason| StoreError::Corrupt { position, reason })?;
                        if !revealed.contains(&subject) {
                            revealed.push(subject);
                        }
                        opened
                    }
                    None => cipher::erased(),
                };
            }
        }
        event.personal_subjects = revealed;
    }
    Ok(())
}
