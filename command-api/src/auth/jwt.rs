//! JWT access tokens: HS256 only (a token naming any other algorithm, `none` included, is
//! refused), 30 minutes, carrying workspace, role and permissions.

use chrono::{Duration, Utc};
use domain::values::{Permissions, Role};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long an access token is valid.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(30);

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The workspace the user belongs to.
    pub workspace_id: Uuid,
    pub role: Role,
    pub permissions: Permissions,
    /// The login (refresh token family) this token belongs to; revoking it ends the token.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// The signing key, from `CAREOPS_JWT_SECRET` (or generated for a local run).
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<secret>)")
    }
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        workspace_id: Uuid,
        role: Role,
        permissions: Permissions,
        session_id: Uuid,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            sub: user_id,
            workspace_id,
            role,
            permissions,
            sid: session_id,
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, ACCESS_TOKEN_TTL.num_seconds()))
    }

    /// Verifies signature, algorithm and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_and_a_tampered_one_does_not() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let (token, ttl) = keys
            .issue(
                Uuid::now_v7(),
                Uuid::now_v7(),
                Role::Owner,
                Permissions::all(),
                Uuid::now_v7(),
            )
            .unwrap();
        assert_eq!(ttl, 1800);
        assert!(keys.verify(&token).is_some());
        let other = JwtKeys::from_secret(b"another secret of enough length!");
        assert!(other.verify(&token).is_none());
        let mut tampered = token.clone();
        tampered.insert(token.len() / 2, 'x');
        assert!(keys.verify(&tampered).is_none());
    }
}
