//! PagerDuty Events API v2: `trigger` with a dedup key per group of identical alerts (so
//! repeats land in one incident), and `resolve` with the same key.

use serde_json::{json, Value};

use futures::future::BoxFuture;

use crate::model::{Alert, ChannelTarget, EventType, Severity, SinkKind};
use crate::sinks::alerts::{alert_of, grouped_note, title};
use crate::sinks::http::GuardedClient;
use crate::sinks::{Links, Outcome, Sink, Target};
use crate::store::ClaimedMessage;

/// Alerts to PagerDuty services, as incidents triggered and resolved.
pub struct PagerDutySink {
    client: GuardedClient,
    events_url: String,
    dashboard: String,
}

impl PagerDutySink {
    pub fn new(client: GuardedClient, events_url: &str, links: &Links) -> PagerDutySink {
        PagerDutySink { client, events_url: events_url.to_string(), dashboard: links.dashboard().to_string() }
    }
}

impl Sink for PagerDutySink {
    fn kind(&self) -> SinkKind {
        SinkKind::PagerDuty
    }

    fn deliver<'a>(&'a self, message: &'a ClaimedMessage, target: Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Target::Channel(ChannelTarget::PagerDuty { routing_key }) = target else {
                return target.mismatch(self.kind());
            };
            match alert_of(message) {
                Ok(alert) => {
                    let body = event(&alert, message.event_type, routing_key, &self.dashboard);
                    deliver(&self.client, &self.events_url, &body).await
                }
                Err(error) => Outcome::Rejected { status: None, error },
            }
        })
    }
}

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
    crate::sinks::classify(request.json(body).send().await).await
}

#[cfg(test)]
mod tests;
