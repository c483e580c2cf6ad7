//! Reading a published event: the CloudEvents document the relay writes (CONTRACT.md "NATS").

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::plan::Incoming;

#[derive(Deserialize)]
struct CloudEvent {
    id: Uuid,
    source: String,
    #[serde(rename = "type")]
    kind: String,
    subject: String,
    time: DateTime<Utc>,
    #[serde(default)]
    data: serde_json::Value,
    /// The CareOps extension attribute with the originating request (CONTRACT.md "NATS").
    #[serde(default)]
    careopscorrelationid: Option<String>,
}

/// A message that is not a CareOps event.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a CloudEvent: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unexpected {0}")]
    Shape(String),
}

/// Parses a message body.
pub fn parse(body: &[u8]) -> Result<Incoming, ParseError> {
    let event: CloudEvent = serde_json::from_slice(body)?;
    let workspace_id = event
        .source
        .strip_prefix("/workspaces/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| ParseError::Shape(format!("source {:?}", event.source)))?;
    // com.careops.<stream_type>.<event_type>.v<schema_version>
    let parts: Vec<&str> = event.kind.split('.').collect();
    let [com, careops, stream_type, event_type, version] = parts.as_slice() else {
        return Err(ParseError::Shape(format!("type {:?}", event.kind)));
    };
    if *com != "com" || *careops != "careops" || !version.starts_with('v') {
        return Err(ParseError::Shape(format!("type {:?}", event.kind)));
    }
    Ok(Incoming {
        event_id: event.id,
        workspace_id,
        stream_type: stream_type.to_string(),
        stream_id: event.subject,
        event_type: event_type.to_string(),
        time: event.time,
        data: event.data,
        correlation_id: event.careopscorrelationid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_cloudevent_is_read_back() {
        let body = serde_json::json!({
            "specversion": "1.0",
            "id": "0191d3a4-0000-7000-8000-000000000001",
            "source": "/workspaces/0191d3a4-0000-7000-8000-0000000000aa",
            "type": "com.careops.form_request.FormRequested.v1",
            "subject": "form-request-1",
            "time": "2026-11-22T10:00:00.000000Z",
            "datacontenttype": "application/json",
            "data": {"a": 1},
            "careopsposition": 42,
            "careopsstreamversion": 1
        });
        let event = parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(event.stream_type, "form_request");
        assert_eq!(event.event_type, "FormRequested");
        assert_eq!(event.stream_id, "form-request-1");
        assert_eq!(
            event.workspace_id.to_string(),
            "0191d3a4-0000-7000-8000-0000000000aa"
        );
        assert_eq!(event.data, serde_json::json!({"a": 1}));
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
