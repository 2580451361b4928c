//! Alerts: which evaluations raise one (the organization's rules), how identical ones are
//! grouped, and the words every channel (`slack/`, `email/`, `pagerduty/`) shares.

mod raise;

pub use raise::{count_hits_in, flush_groups, raised, resolve, summary};

use crate::model::{Alert, AlertRule, AlertStatus, Envelope, EventType, Issue};
use crate::store::ClaimedMessage;

/// The issue `rule` alerts on in an evaluation of `domain`: the worst one that passes its
/// filters, or none.
pub fn matching_issue<'a>(rule: &AlertRule, domain: Option<&str>, issues: &'a [Issue]) -> Option<&'a Issue> {
    if !rule.enabled {
        return None;
    }
    if !rule.domains.is_empty() && !domain.is_some_and(|d| rule.domains.iter().any(|r| r == d)) {
        return None;
    }
    issues
        .iter()
        .filter(|i| i.severity >= rule.min_severity)
        .filter(|i| rule.issue_types.is_empty() || rule.issue_types.iter().any(|t| t == &i.code))
        .max_by_key(|i| i.severity)
}

/// What makes two alerts of one rule identical.
pub fn group_key(domain: Option<&str>, issue_type: &str) -> String {
    format!("{}/{issue_type}", domain.unwrap_or("-"))
}

/// One line naming the alert: `Critical medication_overdose in healthcare`.
pub fn title(alert: &Alert, event: EventType) -> String {
    let severity = alert.severity.as_str();
    let mut severity_word: String = severity[..1].to_uppercase();
    severity_word.push_str(&severity[1..]);
    let domain = alert.domain.as_deref().map(|d| format!(" in {d}")).unwrap_or_default();
    let resolved =
        if event == EventType::AlertResolved || alert.status == AlertStatus::Resolved { "Resolved: " } else { "" };
    format!("{resolved}{severity_word} {}{domain}", alert.issue_type)
}

/// The grouped count in words, or nothing for a lone alert.
pub fn grouped_note(alert: &Alert) -> Option<String> {
    match alert.grouped {
        0 => None,
        1 => Some("1 more identical alert was grouped into this one (cooldown window).".into()),
        n => Some(format!("{n} more identical alerts were grouped into this one (cooldown window).")),
    }
}

/// The alert an outbox message to a channel carries.
pub fn alert_of(message: &ClaimedMessage) -> Result<Alert, String> {
    serde_json::from_str::<Envelope>(&message.payload)
        .and_then(|envelope| serde_json::from_value::<Alert>(envelope.data))
        .map_err(|e| format!("not an alert: {e}"))
}

#[cfg(test)]
pub(crate) mod tests;
