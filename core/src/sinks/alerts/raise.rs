//! Raising and resolving alerts: each alert written with the messages that tell its rule's
//! channels and the subscribed webhooks, in one transaction.

use crate::model::{Alert, AlertStatus, EventType, OrgId};
use crate::sinks::route::{self, Links};
use crate::store::{EndedGroup, GroupHit, NewMessage, Store, WriteTx};
use crate::Result;

use uuid::Uuid;

/// The alert a hit raises when it opens a cooldown window; `carried` hits of the window before
/// were never reported and ride along.
pub fn raised(hit: &GroupHit, carried: u64, links: &Links) -> Alert {
    Alert {
        id: new_id(),
        rule_id: hit.rule.id.clone(),
        rule_name: hit.rule.name.clone(),
        group_key: hit.group_key.clone(),
        trace_id: hit.first_trace,
        domain: hit.domain.clone(),
        issue_type: hit.issue_type.clone(),
        severity: hit.severity,
        summary: hit.summary.clone(),
        grouped: (hit.count - 1) + carried,
        status: AlertStatus::Triggered,
        url: links.trace(hit.first_trace),
        created_at: chrono::Utc::now(),
        resolved_at: None,
    }
}

/// The one summary alert for the hits a cooldown window grouped without reporting.
pub fn summary(group: &EndedGroup, links: &Links) -> Alert {
    let (count, trace_id) = (group.count, group.last_trace);
    let in_domain = group.domain.as_deref().map(|d| format!(" in {d}")).unwrap_or_default();
    Alert {
        id: new_id(),
        rule_id: group.rule.id.clone(),
        rule_name: group.rule.name.clone(),
        group_key: group.group_key.clone(),
        trace_id,
        domain: group.domain.clone(),
        issue_type: group.issue_type.clone(),
        severity: group.severity,
        summary: format!(
            "{count} more {} alert{}{in_domain} during the {}-second cooldown; the latest is trace {trace_id}.",
            group.issue_type,
            if count == 1 { "" } else { "s" },
            group.rule.cooldown_secs
        ),
        grouped: count,
        status: AlertStatus::Triggered,
        url: links.trace(trace_id),
        created_at: chrono::Utc::now(),
        resolved_at: None,
    }
}

fn new_id() -> String {
    format!("al_{}", Uuid::now_v7().simple())
}

/// Counts `hits` into their groups in `tx`, and raises an alert for each that opened a window.
pub async fn count_hits_in(store: &Store, tx: &mut WriteTx, hits: Vec<GroupHit>, links: &Links) -> Result<()> {
    if hits.is_empty() {
        return Ok(());
    }
    let opened = store.count_alert_hits(tx, hits).await?;
    let alerts = opened.iter().map(|(hit, carried)| (hit.org.clone(), raised(hit, *carried, links))).collect();
    raise_in(store, tx, alerts).await
}

/// Reports the alerts grouped in windows that have ended: one summary per group. Returns how
/// many summaries went out.
pub async fn flush_groups(store: &Store, links: &Links) -> Result<usize> {
    let mut tx = store.begin_write().await?;
    let ended = store.take_ended_groups(&mut tx).await?;
    let alerts: Vec<_> = ended.iter().map(|group| (group.org.clone(), summary(group, links))).collect();
    let sent = alerts.len();
    raise_in(store, &mut tx, alerts).await?;
    tx.commit().await?;
    Ok(sent)
}

/// Marks an alert resolved and tells its channels (PagerDuty resolves the incident). `None` if
/// there is no such alert; an alert already resolved is returned as it is.
pub async fn resolve(store: &Store, org: &OrgId, actor: &str, id: &str) -> Result<Option<Alert>> {
    let mut tx = store.begin_write().await?;
    let Some((alert, changed)) = store.resolve_alert(&mut tx, org, actor, id).await? else { return Ok(None) };
    if changed {
        let messages = messages_in(store, &mut tx, org, &alert, EventType::AlertResolved).await?;
        store.enqueue(&mut tx, &messages).await?;
        tx.commit().await?;
    }
    Ok(Some(alert))
}

/// Writes alerts just raised, with their messages.
async fn raise_in(store: &Store, tx: &mut WriteTx, alerts: Vec<(OrgId, Alert)>) -> Result<()> {
    store.insert_alerts(tx, &alerts).await?;
    let mut messages = Vec::new();
    for (org, alert) in &alerts {
        messages.extend(messages_in(store, tx, org, alert, EventType::AlertTriggered).await?);
    }
    store.enqueue(tx, &messages).await
}

async fn messages_in(
    store: &Store,
    tx: &mut WriteTx,
    org: &OrgId,
    alert: &Alert,
    event: EventType,
) -> Result<Vec<NewMessage>> {
    let channels = match store.rule_in(tx, org, &alert.rule_id).await? {
        Some(rule) => store.channel_kinds_in(tx, org, &rule.channels).await?,
        None => Vec::new(),
    };
    let webhooks = store.subscribed_endpoints_in(tx, org, event).await?;
    route::alert_messages(org, alert, event, &channels, &webhooks)
}
