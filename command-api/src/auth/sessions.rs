//! Refresh tokens: opaque, stored as SHA-256 hashes, rotated on every use. Each login is a
//! family; presenting an already spent token revokes the whole family (it was replayed by
//! someone, and we cannot tell who).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// How long a refresh token may wait before it is used.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// A new refresh token of a login.
pub struct IssuedRefresh {
    pub token: String,
    pub family_id: Uuid,
}

/// A random opaque token (256 bits, URL-safe).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How opaque tokens are stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a login: a new family with its first token.
pub async fn start(conn: &mut PgConnection, user_id: Uuid) -> Result<IssuedRefresh, sqlx::Error> {
    let family_id = Uuid::now_v7();
    let token = new_token();
    insert(conn, &token, family_id, user_id).await?;
    Ok(IssuedRefresh { token, family_id })
}

async fn insert(
    conn: &mut PgConnection,
    token: &str,
    family_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into refresh_tokens (token_hash, family_id, user_id, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token_hash(token))
    .bind(family_id)
    .bind(user_id)
    .bind(Utc::now() + REFRESH_TOKEN_TTL)
    .execute(conn)
    .await?;
    Ok(())
}

/// Why a refresh was refused (all answered as 401).
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshRefused {
    Unknown,
    Expired,
    Revoked,
    /// A spent token came back: the family is now revoked.
    Reused,
    UserInactive,
}

/// Spends `token` and issues the next one of its family.
pub async fn rotate(
    pool: &PgPool,
    token: &str,
) -> Result<Result<(Uuid, IssuedRefresh), RefreshRefused>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Uuid, bool, bool, bool, bool)> = sqlx::query_as(
        "select r.family_id, r.user_id, r.spent_at is not null, r.revoked_at is not null,
                r.expires_at < now(), c.active
         from refresh_tokens r join credentials c using (user_id)
         where r.token_hash = $1
         for update of r",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((family_id, user_id, spent, revoked, expired, active)) = row else {
        return Ok(Err(RefreshRefused::Unknown));
    };
    let refused = if revoked {
        Some(RefreshRefused::Revoked)
    } else if spent {
        revoke_family(&mut tx, family_id).await?;
        Some(RefreshRefused::Reused)
    } else if expired {
        Some(RefreshRefused::Expired)
    } else if !active {
        Some(RefreshRefused::UserInactive)
    } else {
        None
    };
    if let Some(refused) = refused {
        tx.commit().await?;
        return Ok(Err(refused));
    }
    sqlx::query("update refresh_tokens set spent_at = now() where token_hash = $1")
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?;
    let next = new_token();
    insert(&mut tx, &next, family_id, user_id).await?;
    tx.commit().await?;
    Ok(Ok((
        user_id,
        IssuedRefresh {
            token: next,
            family_id,
        },
    )))
}

/// Ends the login that `token` belongs to (logout). Unknown tokens are ignored.
pub async fn logout(pool: &PgPool, user_id: Uuid, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update refresh_tokens set revoked_at = now()
         where revoked_at is null and family_id = (
             select family_id from refresh_tokens where token_hash = $1 and user_id = $2)",
    )
    .bind(token_hash(token))
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every login of a user, except `keep` (the caller's own, after a password change).
pub async fn revoke_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update refresh_tokens set revoked_at = now()
         where user_id = $1 and revoked_at is null and family_id is distinct from $2",
    )
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}
