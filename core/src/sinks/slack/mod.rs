//! Slack incoming webhooks: a message with blocks (and `text` as the notification fallback).
//! Slack answers `200 ok`, or an error word in the body (`invalid_blocks`, `no_service`,
//! `channel_is_archived`), and 429 with Retry-After when rate limited.

use serde_json::{json, Value};

use futures::future::BoxFuture;

use crate::model::{Alert, ChannelTarget, EventType, Severity, SinkKind};
use crate::sinks::alerts::{alert_of, grouped_note, title};
use crate::sinks::http::GuardedClient;
use crate::sinks::{Outcome, Sink, Target};
use crate::store::ClaimedMessage;

/// Alerts to Slack channels' incoming webhooks.
pub struct SlackSink {
    client: GuardedClient,
}

impl SlackSink {
    pub fn new(client: GuardedClient) -> SlackSink {
        SlackSink { client }
    }
}

impl Sink for SlackSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Slack
    }

    fn deliver<'a>(&'a self, message: &'a ClaimedMessage, target: Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Target::Channel(ChannelTarget::Slack { webhook_url }) = target else {
                return target.mismatch(self.kind());
            };
            match alert_of(message) {
                Ok(alert) => deliver(&self.client, webhook_url, &self::message(&alert, message.event_type)).await,
                Err(error) => Outcome::Rejected { status: None, error },
            }
        })
    }
}

/// The message for `alert`.
pub fn message(alert: &Alert, event: EventType) -> Value {
    let title = title(alert, event);
    let icon = match (event, alert.severity) {
        (EventType::AlertResolved, _) => ":white_check_mark:",
        (_, Severity::Critical) => ":red_circle:",
        (_, Severity::High) => ":large_orange_circle:",
        _ => ":large_yellow_circle:",
    };
    let mut summary = escape(&alert.summary);
    if let Some(note) = grouped_note(alert) {
        summary.push_str(&format!("\n_{note}_"));
    }
    let field = |name: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", escape(value))});
    json!({
        "text": format!("{title}: {}", alert.summary),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(&format!("{icon} {title}"), 150), "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(&summary, 3000)}},
            {"type": "section", "fields": [
                field("Severity", alert.severity.as_str()),
                field("Domain", alert.domain.as_deref().unwrap_or("none")),
                field("Rule", &alert.rule_name),
                field("Trace", &alert.trace_id.to_string()),
            ]},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Open in Aegis"}, "url": alert.url, "style": "primary"}
            ]},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("Aegis alert {} · {}", alert.id, alert.created_at.format("%Y-%m-%d %H:%M:%S UTC"))}
            ]}
        ]
    })
}

pub async fn deliver(client: &GuardedClient, webhook_url: &str, body: &Value) -> Outcome {
    let request = match client.post(webhook_url) {
        Ok(r) => r,
        Err(error) => return Outcome::Rejected { status: None, error },
    };
    crate::sinks::classify(request.json(body).send().await).await
}

/// Slack's mrkdwn treats these three as control characters.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests;
