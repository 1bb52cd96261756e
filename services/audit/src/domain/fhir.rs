//! An audit record as a FHIR R4 `AuditEvent` resource, for a hospital's audit repository
//! (IHE BALP / ATNA style): type and subtype, action C/R/U/D/E, recorded, outcome, agent,
//! source and entity.

use sentinel_platform::audit_action::Action;
use serde_json::{Value, json};

use super::record::{ActorKind, AuditEntry, AuditRecord, Outcome};

/// Code system of Sentinel's action codes (the closed set in `sentinel_platform::audit_action`).
pub const ACTION_SYSTEM: &str = "urn:sentinel:audit-action";

/// RFC 3339 with microseconds, UTC, as FHIR `instant` wants it.
pub fn instant(micros: i64) -> String {
    let time = std::time::UNIX_EPOCH
        + std::time::Duration::from_micros(u64::try_from(micros).unwrap_or(0));
    humantime::format_rfc3339_micros(time).to_string()
}

/// DICOM audit event type (DCM) for the action: security alerts, exports, or application
/// activity.
fn event_type(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::AuthDenied => ("110113", "Security Alert"),
        Action::AuditExported => ("110106", "Export"),
        _ => ("110100", "Application Activity"),
    }
}

fn agent_type(kind: ActorKind) -> (&'static str, &'static str) {
    match kind {
        ActorKind::User => ("humanuser", "human user"),
        ActorKind::Device | ActorKind::Gateway | ActorKind::Service => {
            ("dataprocessor", "data processor")
        }
    }
}

/// The record as a FHIR R4 `AuditEvent` JSON object.
pub fn audit_event(record: &AuditRecord, origin: &str) -> Value {
    let entry = &record.entry;
    let (type_code, type_display) = event_type(entry.action);
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": format!("sentinel-audit-{}", record.sequence),
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": type_code,
            "display": type_display,
        },
        "subtype": [{ "system": ACTION_SYSTEM, "code": entry.action.code() }],
        "action": entry.action.fhir_action().code(),
        "recorded": instant(record.recorded_at),
        "outcome": match entry.outcome {
            Outcome::Success => "0",
            Outcome::Failure(_) => "4",
        },
        "agent": [agent(entry)],
        "source": {
            "site": origin,
            "observer": { "display": format!("sentinel-{}", entry.service) },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server",
            }],
        },
        "entity": [entity(entry)],
    });
    if let Outcome::Failure(reason) = &entry.outcome {
        event["outcomeDesc"] = Value::String(reason.clone());
    }
    event
}

/// Who acted: the actor, by kind and id, in their role.
fn agent(entry: &AuditEntry) -> Value {
    let (agent_code, agent_display) = agent_type(entry.actor.kind);
    json!({
        "type": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
            "code": agent_code,
            "display": agent_display,
        }]},
        "role": [{ "text": entry.actor.role }],
        "who": { "identifier": {
            "system": format!("urn:sentinel:{}", entry.actor.kind.code()),
            "value": entry.actor.id,
        }},
        "requestor": true,
    })
}

/// What was acted on, with the entry's detail and trace id.
fn entity(entry: &AuditEntry) -> Value {
    let mut details: Vec<Value> = entry
        .detail
        .iter()
        .map(|(key, value)| json!({ "type": key, "valueString": value }))
        .collect();
    if !entry.trace_id.is_empty() {
        details.push(json!({ "type": "trace-id", "valueString": entry.trace_id }));
    }
    let mut entity = json!({
        "what": {
            "identifier": {
                "system": format!("urn:sentinel:{}", entry.subject.kind),
                "value": entry.subject.id,
            }
        },
    });
    if !details.is_empty() {
        entity["detail"] = Value::Array(details);
    }
    entity
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{Actor, AuditEntry, Subject};

    fn record(outcome: Outcome, action: Action) -> AuditRecord {
        AuditRecord {
            sequence: 12,
            recorded_at: 1_764_000_000_123_456,
            entry: AuditEntry {
                actor: Actor {
                    kind: ActorKind::User,
                    id: "user-7f3a".into(),
                    role: "clinician".into(),
                },
                action,
                subject: Subject {
                    kind: "alert".into(),
                    id: "alert-9".into(),
                },
                outcome,
                service: "rules".into(),
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                detail: [("priority".to_owned(), "high".to_owned())]
                    .into_iter()
                    .collect(),
            },
        }
    }

    #[test]
    fn a_record_renders_every_required_audit_event_element() {
        let event = audit_event(
            &record(Outcome::Success, Action::AlertAcknowledged),
            "h/audit",
        );
        assert_eq!(event["resourceType"], "AuditEvent");
        assert_eq!(event["type"]["code"], "110100");
        assert_eq!(event["subtype"][0]["code"], "alert.acknowledged");
        assert_eq!(event["action"], "U");
        assert_eq!(event["recorded"], "2025-11-24T16:00:00.123456Z");
        assert_eq!(event["outcome"], "0");
        assert!(event.get("outcomeDesc").is_none());
        assert_eq!(event["agent"][0]["requestor"], true);
        assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "user-7f3a");
        assert_eq!(event["source"]["observer"]["display"], "sentinel-rules");
        assert_eq!(event["entity"][0]["what"]["identifier"]["value"], "alert-9");
        let details = event["entity"][0]["detail"].as_array().unwrap();
        assert!(details.contains(
            &json!({"type": "trace-id", "valueString": "4bf92f3577b34da6a3ce929d0e0e4736"})
        ));
    }

    #[test]
    fn a_denial_is_a_security_alert_with_a_failed_outcome() {
        let event = audit_event(
            &record(
                Outcome::Failure("permission_denied".into()),
                Action::AuthDenied,
            ),
            "h/audit",
        );
        assert_eq!(event["type"]["code"], "110113");
        assert_eq!(event["action"], "E");
        assert_eq!(event["outcome"], "4");
        assert_eq!(event["outcomeDesc"], "permission_denied");
    }
}
