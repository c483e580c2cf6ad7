//! Erasure reaches JetStream too.
//!
//! A message published while its subject's key existed carries that subject's personal data
//! in clear, and JetStream keeps it for whoever replays the stream later. CONTRACT.md
//! ("NATS") wants replaying subscribers to see erased data as erased, and a published message
//! cannot be rewritten, so the relay remembers which messages showed whose data
//! (`relay_personal_messages`, written before the checkpoint moves past them) and, once
//! such a subject is erased, deletes those messages from the stream (JetStream's delete
//! overwrites the stored message). A replaying subscriber then finds a gap where they were;
//! events published after the erasure (a relay catching up) carry `{"erased": true}` and stay.

use async_nats::jetstream::{self, ErrorCode};
use sqlx::PgConnection;
use uuid::Uuid;

use super::RelayError;
use crate::envelope::RecordedEvent;

/// Most messages deleted per sweep (the next sweep takes the rest).
const SWEEP_LIMIT: i64 = 1000;

/// Records the messages of `batch` (with their stream `sequences`, in the same order) that
/// show personal data in clear.
pub(super) async fn record(
    conn: &mut PgConnection,
    stream_name: &str,
    batch: &[RecordedEvent],
    sequences: &[u64],
) -> Result<(), RelayError> {
    let mut subjects: Vec<Uuid> = Vec::new();
    let mut seqs: Vec<i64> = Vec::new();
    for (event, sequence) in batch.iter().zip(sequences) {
        for subject in &event.personal_subjects {
            subjects.push(*subject);
            seqs.push(i64::try_from(*sequence).unwrap_or(i64::MAX));
        }
    }
    if subjects.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into relay_personal_messages (subject_id, stream_name, sequence)
         select s, $2, q from unnest($1::uuid[], $3::bigint[]) as x(s, q)
         on conflict do nothing",
    )
    .bind(&subjects)
    .bind(stream_name)
    .bind(&seqs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes from the stream the messages of erased subjects; returns how many were handled.
pub(super) async fn sweep(
    conn: &mut PgConnection,
    jetstream: &jetstream::Context,
    stream_name: &str,
) -> Result<usize, RelayError> {
    let due: Vec<(Uuid, i64)> = sqlx::query_as(
        "select m.subject_id, m.sequence
         from personal_data_keys k
         join relay_personal_messages m on m.subject_id = k.subject_id and m.stream_name = $1
         where k.key is null
         limit $2",
    )
    .bind(stream_name)
    .bind(SWEEP_LIMIT)
    .fetch_all(&mut *conn)
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let stream = jetstream
        .get_stream_no_info(stream_name)
        .await
        .map_err(|e| RelayError::Nats(e.to_string()))?;
    for (_, sequence) in &due {
        match stream.delete_message(*sequence as u64).await {
            Ok(_) => {}
            Err(e) if is_already_gone(&e) => {}
            Err(e) => return Err(RelayError::Nats(e.to_string())),
        }
    }
    let (subjects, seqs): (Vec<Uuid>, Vec<i64>) = due.iter().copied().unzip();
    sqlx::query(
        "delete from relay_personal_messages m
         using unnest($1::uuid[], $3::bigint[]) as x(s, q)
         where m.subject_id = x.s and m.stream_name = $2 and m.sequence = x.q",
    )
    .bind(&subjects)
    .bind(stream_name)
    .bind(&seqs)
    .execute(&mut *conn)
    .await?;
    tracing::info!(
        messages = due.len(),
        "deleted published messages of erased subjects"
    );
    Ok(due.len())
}

/// The message was deleted already (another subject of the same message, a retried sweep),
/// aged out of the stream, or the stream itself is gone.
fn is_already_gone(error: &jetstream::stream::DeleteMessageError) -> bool {
    match error.kind() {
        jetstream::stream::DeleteMessageErrorKind::JetStream(e) => {
            e.error_code() == ErrorCode::NO_MESSAGE_FOUND
                || e.error_code() == ErrorCode::SEQUENCE_NOT_FOUND
                || e.error_code() == ErrorCode::STREAM_NOT_FOUND
        }
        _ => false,
    }
}
