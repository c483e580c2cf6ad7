//! Password hashing with Argon2id, off the async threads (a hash takes tens of milliseconds
//! of CPU and would stall every request sharing the worker).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};

use crate::http::ApiError;

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Checks a password against a stored PHC string.
pub async fn verify(password: String, stored_hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored_hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(ApiError::internal)
}

/// A hash of a password nobody has, checked when the email is unknown so that a wrong email
/// and a wrong password take the same time.
pub async fn verify_dummy(password: String) -> Result<(), ApiError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => {
            let hash = hash(generate()).await?;
            DUMMY.get_or_init(|| hash).clone()
        }
    };
    verify(password, stored).await.map(|_| ())
}

/// A random password for an invited staff member: 20 alphanumeric characters (~119 bits).
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// The rules for a password chosen by a person.
pub fn check_strength(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(ApiError::unprocessable(
            "weak_password",
            "a password has at least 8 characters",
        ));
    }
    if chars > 256 {
        return Err(ApiError::unprocessable(
            "invalid_value",
            "a password has at most 256 characters",
        ));
    }
    Ok(())
}
