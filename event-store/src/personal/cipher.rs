//! The stored form of one encrypted personal field.
//!
//! A personal field of a payload is replaced, at append, by
//! `{"$enc": "<base64(nonce || ciphertext)>", "subject": "<uuid>"}`: the field's JSON value
//! encrypted with AES-256-GCM under the subject's key, with a fresh random 96-bit nonce. The
//! associated data binds the ciphertext to its place (event id, subject and field name), so
//! a sealed value copied into another event or field does not open. Domain payloads never
//! use keys starting with `$`, so the marker cannot be mistaken for data.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The key of a sealed field's ciphertext.
pub(crate) const SEALED: &str = "$enc";
/// The key of a sealed field's data subject.
pub(crate) const SUBJECT: &str = "subject";
const NONCE_LEN: usize = 12;

/// A data subject's key, ready to use.
#[derive(Clone)]
pub(crate) struct SubjectKey(Aes256Gcm);

impl SubjectKey {
    /// 32 fresh random bytes for a new subject.
    pub(crate) fn generate() -> Vec<u8> {
        Aes256Gcm::generate_key(OsRng).to_vec()
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == 32).then(|| Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes))))
    }

    /// The sealed form of `value`, the field `field` of event `event_id`.
    pub(crate) fn seal(
        &self,
        subject: Uuid,
        event_id: Uuid,
        field: &str,
        value: &Value,
    ) -> Result<Value, String> {
        let plaintext = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(event_id, subject, field);
        let ciphertext = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| "encryption failed".to_string())?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(json!({ SEALED: STANDARD.encode(sealed), SUBJECT: subject.to_string() }))
    }

    /// The value of a sealed field (as recognised by [`sealed_subject`]).
    pub(crate) fn open(
        &self,
        subject: Uuid,
        event_id: Uuid,
        field: &str,
        sealed: &Value,
    ) -> Result<Value, String> {
        let encoded = sealed
            .get(SEALED)
            .and_then(Value::as_str)
            .ok_or("the sealed field has no ciphertext")?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| "the sealed field is not base64")?;
        if bytes.len() <= NONCE_LEN {
            return Err("the sealed field is too short".into());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = associated_data(event_id, subject, field);
        let plaintext = self
            .0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| format!("field {field} does not decrypt with its subject's key"))?;
        serde_json::from_slice(&plaintext).map_err(|e| e.to_string())
    }
}

fn associated_data(event_id: Uuid, subject: Uuid, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + field.len());
    aad.extend_from_slice(event_id.as_bytes());
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// The data subject of a sealed field; `None` for any other value. `Some(Err)` for a marker
/// whose subject is unreadable.
pub(crate) fn sealed_subject(value: &Value) -> Option<Result<Uuid, String>> {
    let map: &Map<String, Value> = value.as_object()?;
    if map.len() != 2 || !map.contains_key(SEALED) {
        return None;
    }
    Some(
        map.get(SUBJECT)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| "the sealed field names no subject".to_string()),
    )
}

/// What a field of an erased subject reads as (the domain's `Personal::Erased`).
pub(crate) fn erased() -> Value {
    json!({ "erased": true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SubjectKey {
        SubjectKey::from_bytes(&SubjectKey::generate()).unwrap()
    }

    #[test]
    fn a_sealed_field_opens_to_its_value() {
        let (key, subject, event) = (key(), Uuid::now_v7(), Uuid::now_v7());
        let value = json!({"first": "Mia", "n": 3});
        let sealed = key.seal(subject, event, "name", &value).unwrap();
        assert!(!sealed.to_string().contains("Mia"));
        assert_eq!(sealed_subject(&sealed), Some(Ok(subject)));
        assert_eq!(key.open(subject, event, "name", &sealed).unwrap(), value);
    }

    #[test]
    fn a_sealed_field_does_not_open_in_another_place_or_with_another_key() {
        let (key, subject, event) = (key(), Uuid::now_v7(), Uuid::now_v7());
        let sealed = key.seal(subject, event, "name", &json!("Mia")).unwrap();
        assert!(key.open(subject, event, "email", &sealed).is_err());
        assert!(key.open(subject, Uuid::now_v7(), "name", &sealed).is_err());
        assert!(key.open(Uuid::now_v7(), event, "name", &sealed).is_err());
        assert!(super::tests::key()
            .open(subject, event, "name", &sealed)
            .is_err());
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let (key, subject, event) = (key(), Uuid::now_v7(), Uuid::now_v7());
        let a = key.seal(subject, event, "name", &json!("Mia")).unwrap();
        let b = key.seal(subject, event, "name", &json!("Mia")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_sealed_marker_is_recognised() {
        assert_eq!(sealed_subject(&json!("Mia")), None);
        assert_eq!(sealed_subject(&json!({"erased": true})), None);
        assert_eq!(
            sealed_subject(&json!({"$enc": "x", "subject": "1", "more": 1})),
            None
        );
        assert!(matches!(
            sealed_subject(&json!({"$enc": "x", "subject": "nope"})),
            Some(Err(_))
        ));
    }
}
