//! PagerDuty Events API v2: `trigger` with a dedup key per group of identical alerts (so
//! repeats land in one incident), and `resolve` with the same key.

use serde_json::{json, Value};

use super::{grouped_note, title};
use crate::model::{Alert, EventType, Severity};
use crate::sinks::http::GuardedClient;
use crate::sinks::Outcome;

/// The dedup key of an alert's group: one incident per rule, domain and issue type.
pub fn dedup_key(alert: &Alert) -> String {
    let key = format!("aegis/{}/{}", alert.rule_id, alert.group_key);
    key.chars().take(255).collect()
}

/// The event for `alert`: `resolve` for a resolved one, `trigger` otherwise.
pub fn event(alert: &Alert, event: EventType, routing_key: &str, public_url: &str) -> Value {
    if event == EventType::AlertResolved {
        return json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(alert)});
    }
    let severity = match alert.severity {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None => "info",
    };
    let mut summary = format!("{}: {}", title(alert, event), alert.summary);
    if alert.grouped > 0 {
        summary.push_str(&format!(" (+{} grouped)", alert.grouped));
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(alert),
        "payload": {
            "summary": summary.chars().take(1024).collect::<String>(),
            "source": "aegis",
            "severity": severity,
            "timestamp": alert.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "component": alert.domain.as_deref().unwrap_or("none"),
            "group": alert.rule_name,
            "class": alert.issue_type,
            "custom_details": {
                "alert_id": alert.id,
                "trace_id": alert.trace_id,
                "rule_id": alert.rule_id,
                "grouped": alert.grouped,
                "note": grouped_note(alert),
            }
        },
        "links": [{"href": alert.url, "text": "Trace in Aegis"}],
        "client": "Aegis",
        "client_url": public_url,
    })
}

pub async fn deliver(client: &GuardedClient, events_url: &str, body: &Value) -> Outcome {
    let request = match client.post(events_url) {
        Ok(r) => r,
        Err(error) => return Outcome::Rejected { status: None, error },
    };
    super::super::classify(request.json(body).send().await).await
}
