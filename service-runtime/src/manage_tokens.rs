//! The hand-over of a booking's manage link: the command-api creates a random manage token
//! for every booking and keeps only its hash for checking a cancellation; the token itself
//! travels to the notifier sealed (AES-256-GCM under `CAREOPS_SECRET_KEY`, bound to the
//! booking id) in `booking_manage_tokens`, and the notifier takes it once to put the
//! manage/cancel link into the confirmation email. See the table's migrations.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::secrets::SecretBox;

/// A booking's manage token, sealed, with the hash a cancellation is checked against.
#[derive(Debug, Clone)]
pub struct SealedManageToken {
    pub booking_id: Uuid,
    pub workspace_id: Uuid,
    token_hash: Vec<u8>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Seals `token` (whose sha-256 is `token_hash`) for the notifier.
pub fn seal_manage_token(
    secrets: &SecretBox,
    booking_id: Uuid,
    workspace_id: Uuid,
    token: &str,
    token_hash: Vec<u8>,
) -> anyhow::Result<SealedManageToken> {
    let (nonce, ciphertext) = secrets.seal(booking_id.as_bytes(), token.as_bytes())?;
    Ok(SealedManageToken {
        booking_id,
        workspace_id,
        token_hash,
        nonce,
        ciphertext,
    })
}

/// Stores the token inside the caller's transaction (with the booking's events).
pub async fn insert_manage_token(
    conn: &mut PgConnection,
    sealed: &SealedManageToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into booking_manage_tokens (booking_id, workspace_id, token_hash, nonce, sealed_token)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(sealed.booking_id)
    .bind(sealed.workspace_id)
    .bind(&sealed.token_hash)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .execute(conn)
    .await?;
    Ok(())
}

/// The sealed token's columns (nonce, ciphertext), cleared once taken.
type SealedColumns = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Takes a booking's manage token for its confirmation email: returns it once and forgets
/// the sealed copy (the hash stays, so the link keeps working). `None` when it was taken
/// already or the booking has none.
pub async fn take_manage_token(
    pool: &PgPool,
    secrets: &SecretBox,
    booking_id: Uuid,
) -> anyhow::Result<Option<String>> {
    let row: Option<SealedColumns> = sqlx::query_as(
        "update booking_manage_tokens t set nonce = null, sealed_token = null
         from (select booking_id, nonce, sealed_token from booking_manage_tokens
               where booking_id = $1 for update) old
         where t.booking_id = old.booking_id
         returning old.nonce, old.sealed_token",
    )
    .bind(booking_id)
    .fetch_optional(pool)
    .await?;
    match row {
        Some((Some(nonce), Some(sealed))) => {
            let token = secrets.open(booking_id.as_bytes(), &nonce, &sealed)?;
            Ok(Some(String::from_utf8(token)?))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrations = "../migrations")]
    async fn the_manage_token_is_handed_over_once_and_never_stored_in_clear(pool: PgPool) {
        let secrets = SecretBox::generate();
        let booking_id = Uuid::now_v7();
        let token = "tok_abcdefghijklmnopqrstuvwxyz0123456789";
        let sealed = seal_manage_token(&secrets, booking_id, Uuid::now_v7(), token, vec![1, 2, 3])
            .expect("sealed");
        let mut conn = pool.acquire().await.expect("connection");
        insert_manage_token(&mut conn, &sealed)
            .await
            .expect("stored");
        let raw: String =
            sqlx::query_scalar("select row_to_json(t)::text from booking_manage_tokens t")
                .fetch_one(&pool)
                .await
                .expect("row");
        assert!(!raw.contains(token));
        let taken = take_manage_token(&pool, &secrets, booking_id)
            .await
            .expect("taken");
        assert_eq!(taken.as_deref(), Some(token));
        let again = take_manage_token(&pool, &secrets, booking_id)
            .await
            .expect("taken");
        assert_eq!(again, None);
        let hash: Vec<u8> = sqlx::query_scalar("select token_hash from booking_manage_tokens")
            .fetch_one(&pool)
            .await
            .expect("hash kept");
        assert_eq!(hash, vec![1, 2, 3]);
    }
}
