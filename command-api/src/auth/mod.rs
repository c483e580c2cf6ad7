//! Authentication: Argon2id passwords, JWT access tokens, rotating refresh tokens, and the
//! `Actor` extractor that every authenticated route takes.

pub mod actor;
pub mod jwt;
pub mod password;
pub mod sessions;

pub use actor::Actor;
pub use jwt::{Claims, JwtKeys};
