//! Server functions of the Settings page's webhooks and alerts sections. They check input
//! exactly as the API does (`aegis_core::sinks::settings`).

use aegis_core::model::{Alert, AlertChannel, AlertRule, Delivery, EventType, WebhookEndpoint};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
    let (user, store) = crate::session::require_user().await?;
    store.webhooks(&user.org_id).await.map_err(crate::session::internal)
}

/// Creates an endpoint; returns its signing secret, shown once.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn create_webhook(url: String, events: Vec<EventType>, description: String) -> Result<String, ServerFnError> {
    use aegis_core::sinks::settings::WebhookInput;
    let (user, store) = crate::session::require_user().await?;
    let config = crate::session::config()?;
    let input = WebhookInput { url: Some(url), description: Some(description), events: Some(events), enabled: None };
    let checked = input.check(true, config.sinks.allow_private).await.map_err(crate::session::invalid)?;
    let (endpoint_url, events) = (checked.url.unwrap_or_default(), checked.events.unwrap_or_default());
    let actor = format!("user:{}", user.email);
    let description = checked.description.unwrap_or_default();
    let (_, secret) = store
        .create_webhook(&user.org_id, &actor, &endpoint_url, &description, &events)
        .await
        .map_err(crate::session::internal)?;
    Ok(secret)
}

/// Switches an endpoint on or off.
#[server]
pub async fn switch_webhook(id: String, enabled: bool) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let update = aegis_core::store::EndpointUpdate { enabled: Some(enabled), ..Default::default() };
    match store.update_webhook(&user.org_id, &format!("user:{}", user.email), &id, &update).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ServerFnError::new("This endpoint no longer exists.")),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// A new secret; the old one keeps signing for a day.
#[server]
pub async fn rotate_webhook(id: String) -> Result<String, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store
        .rotate_webhook_secret(&user.org_id, &format!("user:{}", user.email), &id)
        .await
        .map_err(crate::session::internal)?
        .ok_or_else(|| ServerFnError::new("This endpoint no longer exists."))
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store.delete_webhook(&user.org_id, &format!("user:{}", user.email), &id).await.map_err(crate::session::internal)?;
    Ok(())
}

/// Sends a `webhook.test` event.
#[server]
pub async fn test_webhook(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    if store.webhook(&user.org_id, &id).await.map_err(crate::session::internal)?.is_none() {
        return Err(ServerFnError::new("This endpoint no longer exists."));
    }
    store.send_test_webhook(&user.org_id, &id).await.map_err(crate::session::internal)
}

/// The endpoint's latest deliveries, newest first.
#[server]
pub async fn webhook_deliveries(id: String) -> Result<Vec<Delivery>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store.deliveries(&user.org_id, &id, None, None, 25).await.map_err(crate::session::internal)
}

/// Sends a delivery again, with the same message id.
#[server]
pub async fn replay_delivery(endpoint: String, id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    match store.replay_delivery(&user.org_id, &endpoint, &id, &format!("user:{}", user.email)).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ServerFnError::new("This delivery no longer exists.")),
        Err(e) => Err(crate::session::internal(e)),
    }
}

#[server]
pub async fn alert_setup() -> Result<AlertSettings, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let config = crate::session::config()?;
    let org = &user.org_id;
    let (channels, rules, alerts) =
        tokio::try_join!(store.alert_channels(org), store.alert_rules(org), store.alerts(org, 20))
            .map_err(crate::session::internal)?;
    Ok(AlertSettings {
        channels: channels.into_iter().map(|c| AlertChannel { target: c.target.masked(), ..c }).collect(),
        rules,
        alerts,
        email_available: config.sinks.smtp.host.as_deref().is_some_and(|h| !h.is_empty()),
    })
}

/// `address` is the Slack webhook URL, the email addresses (comma-separated) or the PagerDuty
/// routing key, by `kind`.
#[server]
pub async fn create_alert_channel(name: String, kind: String, address: String) -> Result<(), ServerFnError> {
    use aegis_core::sinks::settings::ChannelInput;
    let (user, store) = crate::session::require_user().await?;
    let config = crate::session::config()?;
    let address = address.trim().to_string();
    let mut input = ChannelInput { name: Some(name), kind: Some(kind.clone()), ..Default::default() };
    match kind.as_str() {
        "slack" => input.webhook_url = Some(address),
        "email" => {
            input.to = Some(address.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
        }
        _ => input.routing_key = Some(address),
    }
    let email = config.sinks.smtp.host.as_deref().is_some_and(|h| !h.is_empty());
    let (name, target) = input.check(config.sinks.allow_private, email).await.map_err(crate::session::invalid)?;
    store
        .create_alert_channel(&user.org_id, &format!("user:{}", user.email), &name, &target)
        .await
        .map_err(crate::session::internal)?;
    Ok(())
}

#[server]
pub async fn delete_alert_channel(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store
        .delete_alert_channel(&user.org_id, &format!("user:{}", user.email), &id)
        .await
        .map_err(crate::session::internal)?;
    Ok(())
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
    let (user, store) = crate::session::require_user().await?;
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
    let known: Vec<String> =
        store.alert_channels(&user.org_id).await.map_err(crate::session::internal)?.into_iter().map(|c| c.id).collect();
    let rule = input.check(&known).map_err(crate::session::invalid)?;
    store
        .create_alert_rule(&user.org_id, &format!("user:{}", user.email), &rule)
        .await
        .map_err(crate::session::internal)?;
    Ok(())
}

#[server]
pub async fn delete_alert_rule(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store
        .delete_alert_rule(&user.org_id, &format!("user:{}", user.email), &id)
        .await
        .map_err(crate::session::internal)?;
    Ok(())
}

#[server]
pub async fn resolve_alert(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    match store.resolve_alert(&user.org_id, &format!("user:{}", user.email), &id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ServerFnError::new("This alert no longer exists.")),
        Err(e) => Err(crate::session::internal(e)),
    }
}
