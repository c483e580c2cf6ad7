//! The hand-over of form request links: the command-api creates a random token for each
//! form request and keeps only its hash for resolving the link; the token itself travels to
//! the notifier sealed (AES-256-GCM under `CAREOPS_SECRET_KEY`, bound to the request id) in
//! `form_request_tokens`, and the notifier takes it once to email the link. It never enters
//! an event or a response of the authenticated API. See the table's migration.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::secrets::SecretBox;

/// A form request's link token, sealed, with the hash the link is resolved by.
#[derive(Debug, Clone)]
pub struct SealedFormToken {
    pub request_id: Uuid,
    pub workspace_id: Uuid,
    token_hash: Vec<u8>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Seals `token` (whose sha-256 is `token_hash`) for the notifier.
pub fn seal_form_token(
    secrets: &SecretBox,
    request_id: Uuid,
    workspace_id: Uuid,
    token: &str,
    token_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<SealedFormToken> {
    let (nonce, ciphertext) = secrets.seal(request_id.as_bytes(), token.as_bytes())?;
    Ok(SealedFormToken {
        request_id,
        workspace_id,
        token_hash,
        nonce,
        ciphertext,
        expires_at,
    })
}

/// Stores a sealed token inside the caller's transaction (with the `FormRequested` event).
pub async fn insert_form_token(
    conn: &mut PgConnection,
    sealed: &SealedFormToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into form_request_tokens
             (request_id, workspace_id, token_hash, nonce, sealed_token, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sealed.request_id)
    .bind(sealed.workspace_id)
    .bind(&sealed.token_hash)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(sealed.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The sealed token as it was (nonce, ciphertext) and whether the link is still live.
type TakenRow = (Option<Vec<u8>>, Option<Vec<u8>>, bool);

/// Takes a form request's link token for its email: returns it once and forgets the
/// sealed copy (the hash stays, so the link keeps working until it expires). `None` when it
/// was already taken, or the link has expired.
pub async fn take_link_token(
    pool: &PgPool,
    secrets: &SecretBox,
    request_id: Uuid,
) -> anyhow::Result<Option<String>> {
    let row: Option<TakenRow> = sqlx::query_as(
        "update form_request_tokens t set nonce = null, sealed_token = null
         from (select request_id, nonce, sealed_token from form_request_tokens
               where request_id = $1 for update) old
         where t.request_id = old.request_id
         returning old.nonce, old.sealed_token, t.expires_at > now()",
    )
    .bind(request_id)
    .fetch_optional(pool)
    .await?;
    match row {
        Some((Some(nonce), Some(sealed), true)) => {
            let token = secrets.open(request_id.as_bytes(), &nonce, &sealed)?;
            Ok(Some(String::from_utf8(token)?))
        }
        _ => Ok(None),
    }
}
