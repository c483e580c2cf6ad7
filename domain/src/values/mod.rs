//! Value objects: small types that can only hold valid values.
//!
//! Each is made by a parsing constructor (`Email::parse`, `Slug::parse`, …) that says clearly what
//! is wrong, and deserialises through the same constructor.

mod currency;
mod email;
mod local_time;
mod minutes;
mod money;
mod name;
mod permissions;
mod person_name;
mod phone;
mod slug;
mod text;
mod time_range;
mod time_zone;

pub use currency::Currency;
pub use email::Email;
pub use local_time::{LocalRange, LocalTime};
pub use minutes::Minutes;
pub use money::Money;
pub use name::Name;
pub use permissions::{Permission, Permissions, Role};
pub use person_name::PersonName;
pub use phone::Phone;
pub use slug::Slug;
pub use text::{MessageBody, Notes, Reason};
pub use time_range::TimeRange;
pub use time_zone::TimeZone;

/// Implements `Display`, `TryFrom<String>`, `From<T> for String` and `as_str` for a string newtype
/// with a `parse(&str)` constructor.
macro_rules! string_value {
    ($ty:ident) => {
        impl $ty {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = crate::DomainError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl TryFrom<&str> for $ty {
            type Error = crate::DomainError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_value;
