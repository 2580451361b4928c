//! Server functions of the Settings page's webhooks and alerts sections: thin adapters over
//! `aegis_core::service::{webhooks, alerts}`, which the API uses too.

use aegis_core::model::{Alert, AlertChannel, AlertRule, Delivery, EventType, WebhookEndpoint};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    crate::session::{actor, config, require_user, user_error},
    aegis_core::service::{alerts, webhooks},
};

/// Everything the alerts section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSettings {
    /// Secrets masked.
    pub channels: Vec<AlertChannel>,
    pub rules: Vec<AlertRule>,
    /// The latest alerts, newest first.
    pub alerts: Vec<Alert>,
    /// Whether the installation has an SMTP server for email channels.
    pub email_available: bool,
}

#[server]
pub async fn list_webhooks() -> Result<Vec<WebhookEndpoint>, ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::list(&store, &actor(&user)).await.map_err(user_error)
}

/// Creates an endpoint; returns its signing secret, shown once.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn create_webhook(url: String, events: Vec<EventType>, description: String) -> Result<String, ServerFnError> {
    use aegis_core::sinks::settings::WebhookInput;
    let (user, store) = require_user().await?;
    let input = WebhookInput { url: Some(url), description: Some(description), events: Some(events), enabled: None };
    let (_, secret) = webhooks::create(&store, &*config()?, &actor(&user), input).await.map_err(user_error)?;
    Ok(secret)
}

/// Switches an endpoint on or off.
#[server]
pub async fn switch_webhook(id: String, enabled: bool) -> Result<(), ServerFnError> {
    use aegis_core::sinks::settings::WebhookInput;
    let (user, store) = require_user().await?;
    let input = WebhookInput { enabled: Some(enabled), ..Default::default() };
    webhooks::update(&store, &*config()?, &actor(&user), &id, input).await.map(drop).map_err(user_error)
}

/// A new secret; the old one keeps signing for a day.
#[server]
pub async fn rotate_webhook(id: String) -> Result<String, ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::rotate(&store, &actor(&user), &id).await.map_err(user_error)
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::delete(&store, &actor(&user), &id).await.map_err(user_error)
}

/// Sends a `webhook.test` event.
#[server]
pub async fn test_webhook(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::test(&store, &actor(&user), &id).await.map_err(user_error)
}

/// The endpoint's latest deliveries, newest first.
#[server]
pub async fn webhook_deliveries(id: String) -> Result<Vec<Delivery>, ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::deliveries(&store, &actor(&user), &id, None, None, 25).await.map_err(user_error)
}

/// Sends a delivery again, with the same message id.
#[server]
pub async fn replay_delivery(endpoint: String, id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    webhooks::replay(&store, &actor(&user), &endpoint, &id).await.map(drop).map_err(user_error)
}

#[server]
pub async fn alert_setup() -> Result<AlertSettings, ServerFnError> {
    let (user, store) = require_user().await?;
    let (config, actor) = (config()?, actor(&user));
    let (channels, rules, alerts) = tokio::try_join!(
        alerts::channels(&store, &actor),
        alerts::rules(&store, &actor),
        alerts::alerts(&store, &actor, 20)
    )
    .map_err(user_error)?;
    Ok(AlertSettings { channels, rules, alerts, email_available: alerts::email_available(&config) })
}

/// `address` is the Slack webhook URL, the email addresses (comma-separated) or the PagerDuty
/// routing key, by `kind`.
#[server]
pub async fn create_alert_channel(name: String, kind: String, address: String) -> Result<(), ServerFnError> {
    use aegis_core::sinks::settings::ChannelInput;
    let (user, store) = require_user().await?;
    let address = address.trim().to_string();
    let mut input = ChannelInput { name: Some(name), kind: Some(kind.clone()), ..Default::default() };
    match kind.as_str() {
        "slack" => input.webhook_url = Some(address),
        "email" => {
            input.to = Some(address.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
        }
        _ => input.routing_key = Some(address),
    }
    alerts::create_channel(&store, &*config()?, &actor(&user), input).await.map(drop).map_err(user_error)
}

#[server]
pub async fn delete_alert_channel(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    alerts::delete_channel(&store, &actor(&user), &id).await.map_err(user_error)
}

/// A rule from the form: domains and issue types comma-separated (empty: any).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn create_alert_rule(
    name: String,
    min_severity: aegis_core::model::Severity,
    domains: String,
    issue_types: String,
    channels: Vec<String>,
    cooldown_secs: u64,
) -> Result<(), ServerFnError> {
    use aegis_core::sinks::settings::RuleInput;
    let (user, store) = require_user().await?;
    let list = |s: &str| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<Vec<_>>();
    let input = RuleInput {
        name: Some(name),
        min_severity: Some(min_severity),
        domains: Some(list(&domains)),
        issue_types: Some(list(&issue_types)),
        channels: Some(channels),
        cooldown_secs: Some(cooldown_secs),
        enabled: Some(true),
    };
    alerts::create_rule(&store, &actor(&user), input).await.map(drop).map_err(user_error)
}

#[server]
pub async fn delete_alert_rule(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    alerts::delete_rule(&store, &actor(&user), &id).await.map_err(user_error)
}

#[server]
pub async fn resolve_alert(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    alerts::resolve(&store, &actor(&user), &id).await.map(drop).map_err(user_error)
}
