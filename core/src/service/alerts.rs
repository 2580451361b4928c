//! Alerts: where an organization's alerts go (channels), when they are raised (rules), and the
//! alerts themselves. Channels are always shown with their secrets masked.

use crate::access::{Actor, Capability};
use crate::config::Config;
use crate::model::{Alert, AlertChannel, AlertRule};
use crate::sinks::settings::{ChannelInput, RuleInput};
use crate::store::{NewAlertRule, Store};
use crate::{Error, Result};

/// Whether the installation has an SMTP server, so that email channels can send.
pub fn email_available(config: &Config) -> bool {
    config.sinks.smtp.host.as_deref().is_some_and(|h| !h.is_empty())
}

fn masked(channel: AlertChannel) -> AlertChannel {
    AlertChannel { target: channel.target.masked(), ..channel }
}

/// The organization's channels, their secrets (Slack URLs, routing keys) masked.
pub async fn channels(store: &Store, actor: &Actor) -> Result<Vec<AlertChannel>> {
    actor.require(Capability::ReadAlerts)?;
    Ok(store.alert_channels(&actor.org_id).await?.into_iter().map(masked).collect())
}

/// Checks and adds a channel; returns it masked.
pub async fn create_channel(
    store: &Store,
    config: &Config,
    actor: &Actor,
    input: ChannelInput,
) -> Result<AlertChannel> {
    actor.require(Capability::ManageIntegrations)?;
    let (name, target) = input.check(config.sinks.allow_private, email_available(config)).await?;
    Ok(masked(store.create_alert_channel(&actor.org_id, &actor.audit_name(), &name, &target).await?))
}

pub async fn delete_channel(store: &Store, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Capability::ManageIntegrations)?;
    if store.delete_alert_channel(&actor.org_id, &actor.audit_name(), id).await? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("no alert channel {id:?} in this organization")))
    }
}

pub async fn rules(store: &Store, actor: &Actor) -> Result<Vec<AlertRule>> {
    actor.require(Capability::ReadAlerts)?;
    store.alert_rules(&actor.org_id).await
}

/// A rule's settings, checked against the organization's channels.
async fn checked_rule(store: &Store, actor: &Actor, input: RuleInput) -> Result<NewAlertRule> {
    let known: Vec<String> = store.alert_channels(&actor.org_id).await?.into_iter().map(|c| c.id).collect();
    Ok(input.check(&known)?)
}

pub async fn create_rule(store: &Store, actor: &Actor, input: RuleInput) -> Result<AlertRule> {
    actor.require(Capability::ManageIntegrations)?;
    let rule = checked_rule(store, actor, input).await?;
    store.create_alert_rule(&actor.org_id, &actor.audit_name(), &rule).await
}

/// Replaces the rule's settings.
pub async fn update_rule(store: &Store, actor: &Actor, id: &str, input: RuleInput) -> Result<AlertRule> {
    actor.require(Capability::ManageIntegrations)?;
    let rule = checked_rule(store, actor, input).await?;
    store
        .update_alert_rule(&actor.org_id, &actor.audit_name(), id, &rule)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no alert rule {id:?} in this organization")))
}

pub async fn delete_rule(store: &Store, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Capability::ManageIntegrations)?;
    if store.delete_alert_rule(&actor.org_id, &actor.audit_name(), id).await? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("no alert rule {id:?} in this organization")))
    }
}

/// The latest `limit` alerts, newest first.
pub async fn alerts(store: &Store, actor: &Actor, limit: i64) -> Result<Vec<Alert>> {
    actor.require(Capability::ReadAlerts)?;
    store.alerts(&actor.org_id, limit).await
}

/// Resolves the alert, and its PagerDuty incident.
pub async fn resolve(store: &Store, actor: &Actor, id: &str) -> Result<Alert> {
    actor.require(Capability::ResolveAlerts)?;
    crate::sinks::alerts::resolve(store, &actor.org_id, &actor.audit_name(), id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no alert {id:?} in this organization")))
}
