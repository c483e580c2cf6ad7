#![doc = include_str!("../README.md")]
#![doc = include_str!("../EVENTS.md")]
#![forbid(unsafe_code)]

mod aggregate;
mod error;
mod event;
mod personal;
pub mod values;

pub mod booking;
pub mod booking_flow;
pub mod calendar;
pub mod contact;
pub mod conversation;
pub mod form_request;
pub mod form_template;
pub mod inventory;
pub mod notification;
pub mod reservation;
pub mod schedule;
pub mod service;
pub mod slots;
pub mod user;
pub mod workspace;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod testing;

pub use aggregate::Aggregate;
pub use error::{ActivationRequirement, Conflict, DomainError, Entity, ErrorKind, Rule};
pub use event::{DomainEvent, EncodedEvent, EncodedStream, PersonalData, StreamEvents};
pub use personal::Personal;
