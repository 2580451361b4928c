//! Where evaluations go after they are stored: signed webhooks and alert channels (Slack,
//! email, PagerDuty), and the messages delivered to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Severity;

/// What a webhook endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// An evaluation finished (any status but `error`).
    #[serde(rename = "evaluation.completed")]
    EvaluationCompleted,
    /// An evaluation could not be completed, after every retry.
    #[serde(rename = "evaluation.failed")]
    EvaluationFailed,
    #[serde(rename = "alert.triggered")]
    AlertTriggered,
    #[serde(rename = "alert.resolved")]
    AlertResolved,
    /// Sent on request, to check an endpoint.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::EvaluationCompleted,
        EventType::EvaluationFailed,
        EventType::AlertTriggered,
        EventType::AlertResolved,
        EventType::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::EvaluationCompleted => "evaluation.completed",
            EventType::EvaluationFailed => "evaluation.failed",
            EventType::AlertTriggered => "alert.triggered",
            EventType::AlertResolved => "alert.resolved",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A webhook endpoint as the API shows it; its secret is shown only when created or rotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub description: String,
    pub events: Vec<EventType>,
    pub enabled: bool,
    /// Why Aegis switched the endpoint off (it answered 410, or failed for days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Webhook,
    Slack,
    Email,
    #[serde(rename = "pagerduty")]
    PagerDuty,
}

impl SinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Webhook => "webhook",
            SinkKind::Slack => "slack",
            SinkKind::Email => "email",
            SinkKind::PagerDuty => "pagerduty",
        }
    }

    pub fn parse(s: &str) -> Option<SinkKind> {
        [SinkKind::Webhook, SinkKind::Slack, SinkKind::Email, SinkKind::PagerDuty].into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered; it will be tried (again) at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up: the receiver refused it for good, or kept failing for the whole retry window.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One message to one webhook endpoint or alert channel, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate.
    pub id: String,
    pub sink: SinkKind,
    pub target_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The event as sent.
    pub payload: serde_json::Value,
    /// Every attempt, oldest first (only in the detail view).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempt_log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// An alert channel: where an organization's alerts are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertChannel {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub target: ChannelTarget,
    pub created_at: DateTime<Utc>,
}

/// A channel's kind and address. Secrets (the Slack URL's path, the routing key) are masked
/// when listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelTarget {
    /// A Slack incoming webhook.
    Slack { webhook_url: String },
    /// Email through the installation's SMTP server.
    Email { to: Vec<String> },
    /// PagerDuty Events API v2.
    #[serde(rename = "pagerduty")]
    PagerDuty { routing_key: String },
}

impl ChannelTarget {
    pub fn kind(&self) -> SinkKind {
        match self {
            ChannelTarget::Slack { .. } => SinkKind::Slack,
            ChannelTarget::Email { .. } => SinkKind::Email,
            ChannelTarget::PagerDuty { .. } => SinkKind::PagerDuty,
        }
    }

    /// The same target with its secret parts hidden, for listings.
    pub fn masked(&self) -> ChannelTarget {
        fn tail(s: &str) -> String {
            let n = s.chars().count();
            let shown: String = s.chars().skip(n.saturating_sub(4)).collect();
            format!("…{shown}")
        }
        match self {
            ChannelTarget::Slack { webhook_url } => {
                let host_end = webhook_url.find("://").map(|i| i + 3).unwrap_or(0);
                let path_start = webhook_url[host_end..].find('/').map(|i| host_end + i).unwrap_or(webhook_url.len());
                ChannelTarget::Slack { webhook_url: format!("{}/{}", &webhook_url[..path_start], tail(webhook_url)) }
            }
            ChannelTarget::Email { to } => ChannelTarget::Email { to: to.clone() },
            ChannelTarget::PagerDuty { routing_key } => ChannelTarget::PagerDuty { routing_key: tail(routing_key) },
        }
    }
}

/// When an evaluation raises an alert, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    /// The least severity that alerts.
    pub min_severity: Severity,
    /// Only these domains; empty: all.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Only these issue types (`medication_overdose`); empty: any.
    #[serde(default)]
    pub issue_types: Vec<String>,
    /// Alert channel ids.
    pub channels: Vec<String>,
    /// Identical alerts (same rule, domain and issue type) inside this window are grouped into
    /// one notification with a count.
    pub cooldown_secs: u64,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// One notification: the first of a group, or a summary of those grouped after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// What makes two alerts identical: domain and issue type.
    pub group_key: String,
    /// The trace that raised it (for a summary, the latest one grouped).
    pub trace_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub issue_type: String,
    pub severity: Severity,
    /// De-identified: built from the issue's message, which speaks only of pseudonyms.
    pub summary: String,
    /// Alerts this one stands for besides its own trace: those grouped in the cooldown window.
    pub grouped: u64,
    pub status: AlertStatus,
    /// The trace in the dashboard.
    pub url: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Triggered,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Triggered => "triggered",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// What every webhook body and outbox message is: `{"type", "timestamp", "data"}`, as the
/// Standard Webhooks spec recommends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// The `data` of `evaluation.completed` and `evaluation.failed`. Everything in it is
/// de-identified: issue messages speak of the pseudonyms in the stored text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationEvent {
    pub trace_id: Uuid,
    pub application_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub status: super::EvaluationStatus,
    pub severity: Severity,
    pub issues: Vec<super::TopIssue>,
    pub tiers_run: Vec<u8>,
    pub cost_micro_usd: i64,
    pub latency_ms: f64,
    pub received_at: DateTime<Utc>,
    pub evaluated_at: DateTime<Utc>,
    /// The trace in the dashboard.
    pub url: String,
}
