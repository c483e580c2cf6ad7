//! Secrets that must pass from one process to another without ever entering an event, a
//! response or a log line: today, an invited staff member's generated password, which the
//! command-api creates and only the notifier's invitation email shows.
//!
//! The hand-over is a row in `staff_invitation_secrets`, encrypted with AES-256-GCM under
//! `CAREOPS_SECRET_KEY` (shared by the processes; a local run generates one into the data
//! folder), readable once (the read deletes it) and expiring after a week.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Encrypts and decrypts hand-over secrets, and makes keyed digests under the same key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    /// HMAC-SHA256 key derived from the secret key (never the cipher key itself).
    mac_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

/// `CAREOPS_SECRET_KEY`: 32 bytes, base64.
#[derive(Clone, clap::Args)]
pub struct SecretKeyArgs {
    /// Key (32 bytes, base64) that encrypts hand-over secrets such as invited staff passwords.
    /// When unset, one is generated and kept in `$CAREOPS_DATA_DIR/secret-key` (local runs).
    #[arg(long, env = "CAREOPS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for SecretKeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeyArgs")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl SecretKeyArgs {
    /// The configured key, or the local one under `data_dir` (created on first use).
    pub fn secret_box(&self, data_dir: &Path) -> anyhow::Result<SecretBox> {
        let encoded = match &self.secret_key {
            Some(key) => key.trim().to_string(),
            None => local_key(&data_dir.join("secret-key"))?,
        };
        SecretBox::from_base64(&encoded)
    }
}

fn local_key(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        if SecretBox::from_base64(existing.trim()).is_ok() {
            return Ok(existing.trim().to_string());
        }
    }
    let key = STANDARD.encode(Aes256Gcm::generate_key(OsRng));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, &key).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).ok();
    }
    Ok(key)
}

impl SecretBox {
    pub fn from_base64(encoded: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(encoded)
            .context("CAREOPS_SECRET_KEY is not base64")?;
        anyhow::ensure!(
            bytes.len() == 32,
            "CAREOPS_SECRET_KEY must be 32 bytes (base64), got {}",
            bytes.len()
        );
        Ok(Self::from_key(&bytes))
    }

    fn from_key(bytes: &[u8]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
            mac_key: hmac_sha256(bytes, b"careops secret box: mac key"),
        }
    }

    /// A fresh random key (tests).
    pub fn generate() -> Self {
        Self::from_key(&Aes256Gcm::generate_key(OsRng))
    }

    /// A keyed digest of `data` for `purpose` (HMAC-SHA256): a fingerprint that can be
    /// stored and compared without being a fast, unsalted hash of what may be a secret
    /// (a login body holds a password), which anyone with the table could brute-force.
    pub fn digest(&self, purpose: &[u8], data: &[&[u8]]) -> [u8; 32] {
        let mut mac = hmac_keyed(&self.mac_key);
        mac.update(purpose);
        mac.update(&[0]);
        for part in data {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Encrypts `plaintext` bound to `context` (a row id), returning nonce and ciphertext.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                aes_gcm::aead::Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        Ok((nonce.to_vec(), ciphertext))
    }

    pub fn open(&self, context: &[u8], nonce: &[u8], ciphertext: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(nonce.len() == 12, "bad nonce");
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                aes_gcm::aead::Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| anyhow::anyhow!("the secret does not decrypt with this key"))
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac_keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 under `key`, without a fallible constructor: HMAC pads a short key with
/// zeros to the 64-byte block (and hashes a longer one first), so doing that here is the
/// same MAC.
fn hmac_keyed(key: &[u8]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
}

/// Seals an invited staff member's password for [`insert_invitation`].
pub fn seal_invitation_password(
    secrets: &SecretBox,
    user_id: Uuid,
    password: &str,
) -> anyhow::Result<SealedInvitation> {
    let (nonce, ciphertext) = secrets.seal(user_id.as_bytes(), password.as_bytes())?;
    Ok(SealedInvitation {
        user_id,
        nonce,
        ciphertext,
    })
}

/// An invitation password, encrypted: safe to hold, log and pass around.
#[derive(Debug, Clone)]
pub struct SealedInvitation {
    pub user_id: Uuid,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Stores a sealed invitation password inside the caller's transaction, so that it commits
/// with the invitation's events.
pub async fn insert_invitation(
    conn: &mut PgConnection,
    workspace_id: Uuid,
    sealed: &SealedInvitation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into staff_invitation_secrets (user_id, workspace_id, nonce, ciphertext, expires_at)
         values ($1, $2, $3, $4, now() + interval '7 days')
         on conflict (user_id) do update set nonce = excluded.nonce, ciphertext = excluded.ciphertext,
             created_at = now(), expires_at = excluded.expires_at",
    )
    .bind(sealed.user_id)
    .bind(workspace_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (reads and deletes) an invited staff member's password; `None` when it was
/// already taken or has expired.
pub async fn take_invitation_password(
    pool: &PgPool,
    secrets: &SecretBox,
    user_id: Uuid,
) -> anyhow::Result<Option<String>> {
    let row: Option<(Vec<u8>, Vec<u8>, bool)> = sqlx::query_as(
        "delete from staff_invitation_secrets where user_id = $1
         returning nonce, ciphertext, expires_at > now()",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    match row {
        Some((nonce, ciphertext, true)) => {
            let plaintext = secrets.open(user_id.as_bytes(), &nonce, &ciphertext)?;
            Ok(Some(
                String::from_utf8(plaintext).context("the password is not UTF-8")?,
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let secrets = SecretBox::generate();
        let (nonce, ct) = secrets.seal(b"user-1", b"hunter22").unwrap();
        assert_eq!(secrets.open(b"user-1", &nonce, &ct).unwrap(), b"hunter22");
        assert!(secrets.open(b"user-2", &nonce, &ct).is_err());
        assert!(SecretBox::generate().open(b"user-1", &nonce, &ct).is_err());
        assert!(!ct.windows(8).any(|w| w == b"hunter22"));
    }

    #[test]
    fn the_padded_key_hmac_is_rfc_4231_hmac_sha256() {
        // RFC 4231, test cases 1 (20-byte key) and 6 (131-byte key, hashed first).
        let short = hmac_sha256(&[0x0b; 20], b"Hi There");
        assert_eq!(
            hex(&short),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let long = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&long),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn digests_depend_on_the_key_the_purpose_and_the_data() {
        let key = SecretBox::generate();
        let a = key.digest(b"idempotency", &[b"POST /login", b"{}"]);
        assert_eq!(a, key.digest(b"idempotency", &[b"POST /login", b"{}"]));
        assert_ne!(a, key.digest(b"other", &[b"POST /login", b"{}"]));
        assert_ne!(a, key.digest(b"idempotency", &[b"POST /login", b"{ }"]));
        assert_ne!(
            a,
            SecretBox::generate().digest(b"idempotency", &[b"POST /login", b"{}"])
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
