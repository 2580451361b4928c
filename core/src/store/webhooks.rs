//! Webhook endpoints: each organization's receivers, their events and signing secrets.

use std::collections::HashMap;

use chrono::{Duration as TimeDelta, Utc};
use serde_json::json;
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, to_micros, Store};
use crate::auth::new_webhook_secret;
use crate::model::{EventType, OrgId, WebhookEndpoint};
use crate::Result;

/// How long a rotated-out secret still signs, so receivers can switch without losing messages.
pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

const COLUMNS: &str = "id, url, description, events, enabled, disabled_reason, created_at, updated_at";

/// Where one endpoint's messages go, and the secrets they are signed with (the current one
/// first, then a rotated-out one still honoured).
#[derive(Debug, Clone)]
pub struct EndpointTarget {
    pub url: String,
    pub secrets: Vec<String>,
}

/// What may change on an endpoint; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<EventType>>,
    /// Switching an endpoint back on also clears why it was switched off.
    pub enabled: Option<bool>,
}

impl Store {
    /// Creates an endpoint; returns it with its new secret, the only time the secret is shown
    /// (besides a rotation).
    pub async fn create_webhook(
        &self,
        org: &OrgId,
        actor: &str,
        url: &str,
        description: &str,
        events: &[EventType],
    ) -> Result<(WebhookEndpoint, String)> {
        let id = format!("ep_{}", Uuid::now_v7().simple());
        let secret = new_webhook_secret();
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, url, description, events, secret, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(&id)
        .bind(org.to_string())
        .bind(url)
        .bind(description)
        .bind(serde_json::to_string(events)?)
        .bind(&secret)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, org, actor, "webhook.created", json!({ "id": id, "url": url, "events": events }))
            .await?;
        tx.commit().await?;
        let endpoint =
            self.webhook(org, &id).await?.ok_or_else(|| crate::Error::NotFound("webhook not found".into()))?;
        Ok((endpoint, secret))
    }

    pub async fn webhooks(&self, org: &OrgId) -> Result<Vec<WebhookEndpoint>> {
        let rows = self.owned_rows("webhook_endpoints", COLUMNS, org).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    pub async fn webhook(&self, org: &OrgId, id: &str) -> Result<Option<WebhookEndpoint>> {
        let row = self.owned_row("webhook_endpoints", COLUMNS, org, id).await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// Applies `update`; `None` if the organization has no such endpoint.
    pub async fn update_webhook(
        &self,
        org: &OrgId,
        actor: &str,
        id: &str,
        update: &EndpointUpdate,
    ) -> Result<Option<WebhookEndpoint>> {
        let Some(current) = self.webhook(org, id).await? else { return Ok(None) };
        let url = update.url.clone().unwrap_or(current.url);
        let description = update.description.clone().unwrap_or(current.description);
        let events = update.events.clone().unwrap_or(current.events);
        let enabled = update.enabled.unwrap_or(current.enabled);
        let reason =
            if enabled { None } else { current.disabled_reason.or_else(|| Some("switched off by a user".into())) };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, enabled = $4, \
             disabled_reason = $5, updated_at = $6 WHERE org_id = $7 AND id = $8",
        )
        .bind(&url)
        .bind(&description)
        .bind(serde_json::to_string(&events)?)
        .bind(i64::from(enabled))
        .bind(reason)
        .bind(now_micros())
        .bind(org.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            org,
            actor,
            "webhook.updated",
            json!({ "id": id, "url": url, "events": events, "enabled": enabled }),
        )
        .await?;
        tx.commit().await?;
        self.webhook(org, id).await
    }

    /// Gives the endpoint a new secret; the old one keeps signing for [`ROTATION_OVERLAP`].
    pub async fn rotate_webhook_secret(&self, org: &OrgId, actor: &str, id: &str) -> Result<Option<String>> {
        let secret = new_webhook_secret();
        let now = Utc::now();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $1, secret = $2, \
             updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(to_micros(now + ROTATION_OVERLAP))
        .bind(&secret)
        .bind(to_micros(now))
        .bind(org.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(None);
        }
        self.audit_in(&mut tx, org, actor, "webhook.secret_rotated", json!({ "id": id })).await?;
        tx.commit().await?;
        Ok(Some(secret))
    }

    /// Deletes the endpoint; its pending messages are given up. `false` if there was none.
    pub async fn delete_webhook(&self, org: &OrgId, actor: &str, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if !self.delete_owned(&mut tx, "webhook_endpoints", org, id).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = 'the endpoint was deleted' \
             WHERE org_id = $1 AND target_id = $2 AND status = 'pending'",
        )
        .bind(org.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, org, actor, "webhook.deleted", json!({ "id": id })).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Where to send, and with which secrets, for the endpoints `ids` that are switched on.
    pub async fn webhook_targets(&self, ids: &[&str]) -> Result<HashMap<String, EndpointTarget>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, url, secret, previous_secret, previous_secret_until FROM webhook_endpoints \
             WHERE enabled = 1 AND id IN {}",
            self.values_list(1, ids.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let now = now_micros();
        let mut targets = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let mut secrets = vec![row.try_get::<String, _>("secret")?];
            let previous: Option<String> = row.try_get("previous_secret")?;
            let until: Option<i64> = row.try_get("previous_secret_until")?;
            if let (Some(previous), Some(until)) = (previous, until) {
                if until > now {
                    secrets.push(previous);
                }
            }
            targets.insert(row.try_get("id")?, EndpointTarget { url: row.try_get("url")?, secrets });
        }
        Ok(targets)
    }
}

fn endpoint_from_row(row: &sqlx::any::AnyRow) -> Result<WebhookEndpoint> {
    let events: String = row.try_get("events")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events: serde_json::from_str(&events).map_err(|e| corrupt("webhook", e))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        created_at: from_micros(row.try_get("created_at")?),
        updated_at: from_micros(row.try_get("updated_at")?),
    })
}
