//! The wire format of published events: CloudEvents 1.0 in structured JSON mode, as
//! CONTRACT.md ("NATS") fixes it for downstream subscribers.

use serde::Serialize;

use crate::envelope::RecordedEvent;

/// The subject an event is published on: `<prefix>.<workspace_id>.<stream_type>.<event_type>`.
pub fn subject(prefix: &str, event: &RecordedEvent) -> String {
    format!(
        "{prefix}.{}.{}.{}",
        event.workspace_id,
        subject_token(&event.stream_type),
        subject_token(&event.event_type)
    )
}

/// NATS subject tokens cannot hold dots, spaces or wildcards; our names never do, but a
/// stray one must not reroute an event.
fn subject_token(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '.' | ' ' | '*' | '>' | '\t' | '\r' | '\n' => '_',
            other => other,
        })
        .collect()
}

#[derive(Serialize)]
struct CloudEvent<'a> {
    specversion: &'static str,
    id: String,
    source: String,
    #[serde(rename = "type")]
    kind: String,
    subject: &'a str,
    time: String,
    datacontenttype: &'static str,
    data: &'a serde_json::Value,
    careopsposition: i64,
    careopsstreamversion: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    careopscorrelationid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    careopscausationid: Option<&'a str>,
}

/// The CloudEvents JSON document for an event.
pub fn body(event: &RecordedEvent) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&CloudEvent {
        specversion: "1.0",
        id: event.event_id.to_string(),
        source: format!("/workspaces/{}", event.workspace_id),
        kind: format!(
            "com.careops.{}.{}.v{}",
            event.stream_type, event.event_type, event.schema_version
        ),
        subject: &event.stream_id,
        time: event
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        datacontenttype: "application/json",
        data: &event.data,
        careopsposition: event.position,
        careopsstreamversion: event.stream_version,
        careopscorrelationid: event.metadata.correlation_id.as_deref(),
        careopscausationid: event.metadata.causation_id.as_deref(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Metadata;
    use serde_json::json;
    use uuid::Uuid;

    fn event() -> RecordedEvent {
        RecordedEvent {
            position: 42,
            tx: 900,
            event_id: Uuid::parse_str("0191d3a4-0000-7000-8000-000000000001").unwrap(),
            workspace_id: Uuid::parse_str("0191d3a4-0000-7000-8000-0000000000aa").unwrap(),
            stream_type: "booking".into(),
            stream_id: "booking-0191".into(),
            stream_version: 3,
            event_type: "BookingCreated".into(),
            schema_version: 2,
            data: json!({"start": "2026-12-01T09:00:00Z"}),
            metadata: Metadata {
                correlation_id: Some("req-1".into()),
                ..Metadata::default()
            },
            recorded_at: "2026-11-22T10:00:00Z".parse().unwrap(),
            personal_subjects: Vec::new(),
        }
    }

    #[test]
    fn the_subject_names_workspace_stream_type_and_event_type() {
        assert_eq!(
            subject("careops.events", &event()),
            "careops.events.0191d3a4-0000-7000-8000-0000000000aa.booking.BookingCreated"
        );
    }

    #[test]
    fn the_body_is_a_structured_cloudevent() {
        let body: serde_json::Value = serde_json::from_slice(&body(&event()).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "specversion": "1.0",
                "id": "0191d3a4-0000-7000-8000-000000000001",
                "source": "/workspaces/0191d3a4-0000-7000-8000-0000000000aa",
                "type": "com.careops.booking.BookingCreated.v2",
                "subject": "booking-0191",
                "time": "2026-11-22T10:00:00.000000Z",
                "datacontenttype": "application/json",
                "data": {"start": "2026-12-01T09:00:00Z"},
                "careopsposition": 42,
                "careopsstreamversion": 3,
                "careopscorrelationid": "req-1"
            })
        );
    }
}
