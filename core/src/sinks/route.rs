//! What recorded evaluations and alerts send: outbox messages to the subscribed webhook
//! endpoints and alert channels, and the hits that count toward alerts. Pure functions of what
//! the store has read; the steps that hold the transaction write their results.

use std::collections::HashMap;

use chrono::Utc;
use uuid::Uuid;

use super::alerts;
use crate::model::{
    Alert, AlertRule, Envelope, EvaluationEvent, EvaluationStatus, EventType, OrgId, SinkKind, TopIssue,
};
use crate::store::{GroupHit, NewMessage, Recorded, Subscription};
use crate::Result;

/// Where links in messages point: the dashboard's public address.
#[derive(Debug, Clone)]
pub struct Links {
    public_url: String,
}

impl Links {
    pub fn new(public_url: &str) -> Links {
        Links { public_url: public_url.trim_end_matches('/').to_string() }
    }

    /// The dashboard itself.
    pub fn dashboard(&self) -> &str {
        &self.public_url
    }

    /// The dashboard's page of a trace.
    pub fn trace(&self, trace_id: Uuid) -> String {
        format!("{}/traces/{trace_id}", self.public_url)
    }
}

/// What a batch of recorded evaluations causes.
#[derive(Debug, Default)]
pub struct Routed {
    /// `evaluation.completed` and `evaluation.failed` webhooks.
    pub messages: Vec<NewMessage>,
    /// Alert-rule matches, one per rule and group with the count found in this batch.
    pub hits: Vec<GroupHit>,
}

/// Works out the webhooks and alert hits of newly recorded evaluations.
pub fn evaluations(
    recorded: &[Recorded<'_>],
    subscriptions: &[Subscription],
    rules: &[(OrgId, AlertRule)],
    links: &Links,
) -> Result<Routed> {
    let now = Utc::now();
    let mut routed = Routed::default();
    let mut hit_index: HashMap<(OrgId, String, String), usize> = HashMap::new();
    for r in recorded {
        let (job, evaluation) = (r.job, r.evaluation);
        let event_type = if evaluation.status == EvaluationStatus::Error {
            EventType::EvaluationFailed
        } else {
            EventType::EvaluationCompleted
        };
        let subscribed: Vec<&String> = subscriptions
            .iter()
            .filter(|s| s.org_id == job.org_id && s.events.contains(&event_type))
            .map(|s| &s.endpoint_id)
            .collect();
        if !subscribed.is_empty() {
            let data = EvaluationEvent {
                trace_id: job.trace_id,
                application_id: r.application_id.clone(),
                domain: evaluation.domain.clone(),
                status: evaluation.status,
                severity: evaluation.severity,
                issues: evaluation
                    .issues
                    .iter()
                    .map(|i| TopIssue { code: i.code.clone(), severity: i.severity, message: i.message.clone() })
                    .collect(),
                tiers_run: evaluation.tiers_run.clone(),
                cost_micro_usd: evaluation.cost_micro_usd,
                latency_ms: evaluation.latency_ms,
                received_at: r.received_at,
                evaluated_at: evaluation.evaluated_at,
                url: links.trace(job.trace_id),
            };
            let payload =
                serde_json::to_string(&Envelope { event_type, timestamp: now, data: serde_json::to_value(&data)? })?;
            for id in subscribed {
                routed.messages.push(NewMessage {
                    org_id: job.org_id.clone(),
                    sink: SinkKind::Webhook,
                    target_id: id.clone(),
                    event_type,
                    payload: payload.clone(),
                });
            }
        }
        for (org, rule) in rules.iter().filter(|(org, _)| org == &job.org_id) {
            let Some(issue) = alerts::matching_issue(rule, evaluation.domain.as_deref(), &evaluation.issues) else {
                continue;
            };
            let group_key = alerts::group_key(evaluation.domain.as_deref(), &issue.code);
            let key = (org.clone(), rule.id.clone(), group_key.clone());
            match hit_index.get(&key) {
                Some(&i) => {
                    routed.hits[i].count += 1;
                    routed.hits[i].last_trace = job.trace_id;
                }
                None => {
                    hit_index.insert(key, routed.hits.len());
                    routed.hits.push(GroupHit {
                        org: org.clone(),
                        rule: rule.clone(),
                        group_key,
                        domain: evaluation.domain.clone(),
                        issue_type: issue.code.clone(),
                        severity: issue.severity,
                        summary: issue.message.clone(),
                        first_trace: job.trace_id,
                        last_trace: job.trace_id,
                        count: 1,
                    });
                }
            }
        }
    }
    Ok(routed)
}

/// One message about `alert` per channel of its rule and per webhook endpoint subscribed to
/// `event`.
pub fn alert_messages(
    org: &OrgId,
    alert: &Alert,
    event: EventType,
    channels: &[(String, SinkKind)],
    webhooks: &[String],
) -> Result<Vec<NewMessage>> {
    let payload = serde_json::to_string(&Envelope {
        event_type: event,
        timestamp: Utc::now(),
        data: serde_json::to_value(alert)?,
    })?;
    let to_channels = channels.iter().map(|(id, kind)| (id, *kind));
    let to_webhooks = webhooks.iter().map(|id| (id, SinkKind::Webhook));
    Ok(to_channels
        .chain(to_webhooks)
        .map(|(id, sink)| NewMessage {
            org_id: org.clone(),
            sink,
            target_id: id.clone(),
            event_type: event,
            payload: payload.clone(),
        })
        .collect())
}

/// A `webhook.test` message to one endpoint.
pub fn test_message(org: &OrgId, endpoint_id: &str) -> Result<NewMessage> {
    let payload = serde_json::to_string(&Envelope {
        event_type: EventType::WebhookTest,
        timestamp: Utc::now(),
        data: serde_json::json!({ "endpoint_id": endpoint_id, "message": "A test message from Aegis." }),
    })?;
    Ok(NewMessage {
        org_id: org.clone(),
        sink: SinkKind::Webhook,
        target_id: endpoint_id.to_string(),
        event_type: EventType::WebhookTest,
        payload,
    })
}
