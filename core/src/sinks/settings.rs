//! What an organization may configure (webhook endpoints, alert channels and rules), checked
//! the same way for the API and the dashboard. Every error names its field.

use serde::Deserialize;

use super::http::check_url;
use crate::model::{ChannelTarget, EventType, Severity};
use crate::store::{EndpointUpdate, NewAlertRule};
use crate::FieldError;

/// The default cooldown of a rule: identical alerts inside five minutes are grouped.
pub const DEFAULT_COOLDOWN_SECS: u64 = 300;
const MAX_COOLDOWN_SECS: u64 = 7 * 24 * 3600;
const MAX_NAME: usize = 200;

/// `POST /webhooks` and `PATCH /webhooks/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

impl WebhookInput {
    /// A new endpoint needs `url` and `events`; an update any of the fields.
    pub async fn check(self, creating: bool, allow_private: bool) -> Result<EndpointUpdate, FieldError> {
        if creating && self.url.is_none() {
            return Err(FieldError::new("url", "is required: where to POST the events"));
        }
        let url = match self.url {
            Some(url) => Some(check_url("url", &url, allow_private).await?.to_string()),
            None => None,
        };
        let events = match self.events {
            Some(events) if events.is_empty() => {
                return Err(FieldError::new("events", "name at least one event type, such as evaluation.completed"))
            }
            Some(mut events) => {
                events.sort();
                events.dedup();
                Some(events)
            }
            None if creating => {
                return Err(FieldError::new(
                    "events",
                    format!(
                        "is required: a list of {}",
                        EventType::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
            None => None,
        };
        if let Some(d) = &self.description {
            if d.chars().count() > 500 {
                return Err(FieldError::new("description", "is longer than 500 characters"));
            }
        }
        Ok(EndpointUpdate { url, description: self.description, events, enabled: self.enabled })
    }
}

/// `POST /alert-channels`: `{"name", "kind": "slack", "webhook_url"}`, `{"name", "kind":
/// "email", "to": [...]}` or `{"name", "kind": "pagerduty", "routing_key"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub webhook_url: Option<String>,
    pub to: Option<Vec<String>>,
    pub routing_key: Option<String>,
}

impl ChannelInput {
    pub async fn check(
        self,
        allow_private: bool,
        email_configured: bool,
    ) -> Result<(String, ChannelTarget), FieldError> {
        let kind = self.kind.ok_or_else(|| FieldError::new("kind", "is required: slack, email or pagerduty"))?;
        let extra = |field: &str, present: bool| -> Result<(), FieldError> {
            if present {
                Err(FieldError::new(field, format!("does not apply to a {kind} channel")))
            } else {
                Ok(())
            }
        };
        let target = match kind.as_str() {
            "slack" => {
                extra("to", self.to.is_some())?;
                extra("routing_key", self.routing_key.is_some())?;
                let url = self
                    .webhook_url
                    .ok_or_else(|| FieldError::new("webhook_url", "is required: the Slack incoming webhook URL"))?;
                let url = check_url("webhook_url", &url, allow_private).await?;
                ChannelTarget::Slack { webhook_url: url.to_string() }
            }
            "email" => {
                extra("webhook_url", self.webhook_url.is_some())?;
                extra("routing_key", self.routing_key.is_some())?;
                if !email_configured {
                    return Err(FieldError::new(
                        "kind",
                        "email needs an SMTP server, and this installation has none (sinks.smtp.host)",
                    ));
                }
                let to = self.to.ok_or_else(|| FieldError::new("to", "is required: a list of email addresses"))?;
                super::email::check_recipients(&to)?;
                ChannelTarget::Email { to }
            }
            "pagerduty" => {
                extra("webhook_url", self.webhook_url.is_some())?;
                extra("to", self.to.is_some())?;
                let key = self.routing_key.unwrap_or_default();
                if key.trim().len() != 32 || !key.trim().chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(FieldError::new(
                        "routing_key",
                        "must be the 32-character integration key of a PagerDuty Events API v2 integration",
                    ));
                }
                ChannelTarget::PagerDuty { routing_key: key.trim().to_string() }
            }
            other => return Err(FieldError::new("kind", format!("{other:?} is not slack, email or pagerduty"))),
        };
        let name = self.name.map(|n| n.trim().to_string()).unwrap_or_default();
        let name = if name.is_empty() { kind.clone() } else { name };
        if name.chars().count() > MAX_NAME {
            return Err(FieldError::new("name", "is longer than 200 characters"));
        }
        Ok((name, target))
    }
}

/// `POST /alert-rules` and `PUT /alert-rules/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: Option<String>,
    pub min_severity: Option<Severity>,
    pub domains: Option<Vec<String>>,
    pub issue_types: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub cooldown_secs: Option<u64>,
    pub enabled: Option<bool>,
}

impl RuleInput {
    /// `channels` must be among the organization's `known_channels`.
    pub fn check(self, known_channels: &[String]) -> Result<NewAlertRule, FieldError> {
        let name = self.name.map(|n| n.trim().to_string()).unwrap_or_default();
        if name.is_empty() {
            return Err(FieldError::new("name", "is required"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(FieldError::new("name", "is longer than 200 characters"));
        }
        let min_severity = self.min_severity.unwrap_or(Severity::High);
        if min_severity == Severity::None {
            return Err(FieldError::new("min_severity", "must be low, medium, high or critical"));
        }
        let channels = self.channels.unwrap_or_default();
        if channels.is_empty() {
            return Err(FieldError::new("channels", "name at least one alert channel id"));
        }
        for (i, id) in channels.iter().enumerate() {
            if !known_channels.contains(id) {
                return Err(FieldError::new(
                    format!("channels[{i}]"),
                    format!("no alert channel {id:?} in this organization"),
                ));
            }
        }
        let cooldown_secs = self.cooldown_secs.unwrap_or(DEFAULT_COOLDOWN_SECS);
        if cooldown_secs > MAX_COOLDOWN_SECS {
            return Err(FieldError::new("cooldown_secs", "must be at most 604800 (a week)"));
        }
        let clean = |field: &str, list: Option<Vec<String>>| -> Result<Vec<String>, FieldError> {
            let list = list.unwrap_or_default();
            for (i, item) in list.iter().enumerate() {
                if item.trim().is_empty() {
                    return Err(FieldError::new(format!("{field}[{i}]"), "is empty"));
                }
            }
            Ok(list.into_iter().map(|s| s.trim().to_string()).collect())
        };
        Ok(NewAlertRule {
            name,
            min_severity,
            domains: clean("domains", self.domains)?,
            issue_types: clean("issue_types", self.issue_types)?,
            channels,
            cooldown_secs,
            enabled: self.enabled.unwrap_or(true),
        })
    }
}
