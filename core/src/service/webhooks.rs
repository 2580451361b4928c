//! Webhook endpoints: created with a signing secret shown once, switched, rotated, tested and
//! deleted, and each one's delivery log with replay.

use crate::access::{Actor, Capability};
use crate::config::Config;
use crate::model::{Delivery, DeliveryStatus, WebhookEndpoint};
use crate::sinks::settings::WebhookInput;
use crate::store::Store;
use crate::{Error, Result};

fn no_endpoint(id: &str) -> Error {
    Error::NotFound(format!("no webhook endpoint {id:?} in this organization"))
}

fn no_delivery(id: &str) -> Error {
    Error::NotFound(format!("no delivery {id:?} for this endpoint"))
}

/// The organization's endpoints, without secrets.
pub async fn list(store: &Store, actor: &Actor) -> Result<Vec<WebhookEndpoint>> {
    actor.require(Capability::ReadIntegrations)?;
    store.webhooks(&actor.org_id).await
}

pub async fn get(store: &Store, actor: &Actor, id: &str) -> Result<WebhookEndpoint> {
    actor.require(Capability::ReadIntegrations)?;
    store.webhook(&actor.org_id, id).await?.ok_or_else(|| no_endpoint(id))
}

/// Creates an endpoint (`url` and `events` required); returns it and its signing secret
/// (`whsec_...`), shown this once.
pub async fn create(
    store: &Store,
    config: &Config,
    actor: &Actor,
    input: WebhookInput,
) -> Result<(WebhookEndpoint, String)> {
    actor.require(Capability::ManageIntegrations)?;
    let checked = input.check(true, config.sinks.allow_private).await?;
    let (url, events) = (checked.url.unwrap_or_default(), checked.events.unwrap_or_default());
    let description = checked.description.unwrap_or_default();
    store.create_webhook(&actor.org_id, &actor.audit_name(), &url, &description, &events).await
}

/// Changes any of `url`, `events`, `description`, `enabled`.
pub async fn update(
    store: &Store,
    config: &Config,
    actor: &Actor,
    id: &str,
    input: WebhookInput,
) -> Result<WebhookEndpoint> {
    actor.require(Capability::ManageIntegrations)?;
    let update = input.check(false, config.sinks.allow_private).await?;
    store.update_webhook(&actor.org_id, &actor.audit_name(), id, &update).await?.ok_or_else(|| no_endpoint(id))
}

/// Deletes an endpoint; messages still pending to it are given up.
pub async fn delete(store: &Store, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Capability::ManageIntegrations)?;
    if store.delete_webhook(&actor.org_id, &actor.audit_name(), id).await? {
        Ok(())
    } else {
        Err(no_endpoint(id))
    }
}

/// A new signing secret; the old one keeps signing beside it for
/// [`ROTATION_OVERLAP`](crate::store::ROTATION_OVERLAP).
pub async fn rotate(store: &Store, actor: &Actor, id: &str) -> Result<String> {
    actor.require(Capability::ManageIntegrations)?;
    store.rotate_webhook_secret(&actor.org_id, &actor.audit_name(), id).await?.ok_or_else(|| no_endpoint(id))
}

/// Sends a `webhook.test` event to the endpoint.
pub async fn test(store: &Store, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Capability::ManageIntegrations)?;
    store.webhook(&actor.org_id, id).await?.ok_or_else(|| no_endpoint(id))?;
    store.enqueue_alone(&[crate::sinks::route::test_message(&actor.org_id, id)?]).await
}

/// The endpoint's deliveries, newest first, `limit` of them from before the `cursor` delivery.
pub async fn deliveries(
    store: &Store,
    actor: &Actor,
    id: &str,
    status: Option<DeliveryStatus>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    actor.require(Capability::ReadIntegrations)?;
    store.webhook(&actor.org_id, id).await?.ok_or_else(|| no_endpoint(id))?;
    store.deliveries(&actor.org_id, id, status, cursor, limit).await
}

/// One delivery: the message and every attempt.
pub async fn delivery(store: &Store, actor: &Actor, id: &str, delivery_id: &str) -> Result<Delivery> {
    actor.require(Capability::ReadIntegrations)?;
    store.delivery(&actor.org_id, id, delivery_id).await?.ok_or_else(|| no_delivery(delivery_id))
}

/// Sends a delivery again with the same message id; a switched-off endpoint must be switched on
/// first.
pub async fn replay(store: &Store, actor: &Actor, id: &str, delivery_id: &str) -> Result<Delivery> {
    actor.require(Capability::ManageIntegrations)?;
    let endpoint = store.webhook(&actor.org_id, id).await?.ok_or_else(|| no_endpoint(id))?;
    if !endpoint.enabled {
        return Err(Error::Conflict(
            "the endpoint is switched off; switch it on (PATCH {\"enabled\": true}) before replaying".into(),
        ));
    }
    store
        .replay_delivery(&actor.org_id, id, delivery_id, &actor.audit_name())
        .await?
        .ok_or_else(|| no_delivery(delivery_id))
}
