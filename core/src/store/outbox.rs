//! The durable outbox of webhooks and alerts.
//!
//! A message is written in the transaction of the event it reports (the evaluation recorded,
//! the alert raised or resolved), so nothing acknowledged is lost between the two. Senders in
//! any process claim due messages under a lease, as workers claim evaluation jobs: a sender
//! that dies mid-delivery lets the lease run out, and someone else sends the message again
//! with the same `webhook-id`, for receivers to deduplicate.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, to_micros, Backend, Store, WriteTx, ROWS_PER_STATEMENT};
use crate::model::{Delivery, DeliveryAttempt, DeliveryStatus, EventType, OrgId, SinkKind};
use crate::Result;

const OUTBOX_COLUMNS: usize = 10;
/// What [`delivery_from_row`] reads.
const DELIVERY_COLUMNS: &str = "id, sink, target_id, event_type, payload, status, attempts, next_attempt_at, \
     last_status, last_error, created_at, delivered_at";

/// A webhook endpoint switched on, and the events it subscribes to.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub org_id: OrgId,
    pub endpoint_id: String,
    pub events: Vec<EventType>,
}

/// A message to write to the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub org_id: OrgId,
    pub sink: SinkKind,
    pub target_id: String,
    pub event_type: EventType,
    pub payload: String,
}

/// A message a sender holds until its lease runs out.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: String,
    pub org_id: OrgId,
    pub sink: SinkKind,
    pub target_id: String,
    pub event_type: EventType,
    pub payload: String,
    /// Attempts including this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// How one attempt went, and what comes next.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub message: ClaimedMessage,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong, if it did.
    pub error: Option<String>,
    pub delivered: bool,
    pub duration: Duration,
    /// When to try again; `None` after a delivery, or to give up.
    pub retry_at: Option<DateTime<Utc>>,
    /// Switch the endpoint off, with this reason (it answered 410, or failed for days).
    pub disable_endpoint: Option<String>,
}

impl Store {
    /// Writes `messages` in `tx`, the transaction of the event they report.
    pub async fn enqueue(&self, tx: &mut WriteTx, messages: &[NewMessage]) -> Result<()> {
        let now = now_micros();
        for chunk in messages.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO outbox (id, org_id, sink, target_id, event_type, payload, status, attempts, \
                 next_attempt_at, created_at) VALUES {}",
                self.values_list(chunk.len(), OUTBOX_COLUMNS, 1)
            );
            let mut query = sqlx::query(&sql);
            for m in chunk {
                query = query
                    .bind(format!("msg_{}", Uuid::now_v7().simple()))
                    .bind(m.org_id.to_string())
                    .bind(m.sink.as_str())
                    .bind(m.target_id.clone())
                    .bind(m.event_type.as_str())
                    .bind(m.payload.clone())
                    .bind(DeliveryStatus::Pending.as_str())
                    .bind(0i64)
                    .bind(now)
                    .bind(now);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Webhook endpoints of `org` switched on and subscribed to `event`.
    pub async fn subscribed_endpoints_in(
        &self,
        tx: &mut WriteTx,
        org: &OrgId,
        event: EventType,
    ) -> Result<Vec<String>> {
        let endpoints = self.subscriptions_in(tx, std::slice::from_ref(org)).await?;
        Ok(endpoints.into_iter().filter(|s| s.events.contains(&event)).map(|s| s.endpoint_id).collect())
    }

    /// The webhook endpoints switched on in `orgs`, with the events each subscribes to.
    pub async fn subscriptions_in(&self, tx: &mut WriteTx, orgs: &[OrgId]) -> Result<Vec<Subscription>> {
        let select = "SELECT org_id, id, events FROM webhook_endpoints WHERE enabled = 1 AND org_id IN";
        let orgs: Vec<String> = orgs.iter().map(OrgId::to_string).collect();
        let rows = self.rows_of_orgs(tx, select, &orgs).await?;
        rows.iter()
            .map(|row| {
                let org: String = row.try_get("org_id")?;
                let events: String = row.try_get("events")?;
                Ok(Subscription {
                    org_id: org.parse().map_err(|e| corrupt("webhook", e))?,
                    endpoint_id: row.try_get("id")?,
                    events: serde_json::from_str(&events).map_err(|e| corrupt("webhook", e))?,
                })
            })
            .collect()
    }

    /// Claims up to `limit` messages that are due (new, retrying, or whose lease ran out).
    pub async fn claim_messages(&self, limit: usize, lease: Duration) -> Result<Vec<ClaimedMessage>> {
        let now = now_micros();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at LIMIT $3{lock}) \
             RETURNING id, org_id, sink, target_id, event_type, payload, attempts, created_at"
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&sql)
            .bind(now + lease.as_micros() as i64)
            .bind(now)
            .bind(limit as i64)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let org: String = row.try_get("org_id")?;
                let sink: String = row.try_get("sink")?;
                let event: String = row.try_get("event_type")?;
                Ok(ClaimedMessage {
                    id: row.try_get("id")?,
                    org_id: org.parse().map_err(|e| corrupt("outbox", e))?,
                    sink: SinkKind::parse(&sink).ok_or_else(|| corrupt("outbox", &sink))?,
                    target_id: row.try_get("target_id")?,
                    event_type: EventType::parse(&event).ok_or_else(|| corrupt("outbox", &event))?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
                    created_at: from_micros(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Records a round of attempts in one transaction. A message claimed again by someone else
    /// meanwhile (its lease ran out) is left to them; its attempt is still logged.
    pub async fn record_attempts(&self, records: &[AttemptRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO outbox_attempts (outbox_id, attempt, at, status_code, error, duration_ms) VALUES {} \
                 ON CONFLICT (outbox_id, attempt) DO NOTHING",
                self.values_list(chunk.len(), 6, 1)
            );
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query
                    .bind(r.message.id.clone())
                    .bind(i64::from(r.message.attempts))
                    .bind(now)
                    .bind(r.status_code.map(i64::from))
                    .bind(r.error.clone())
                    .bind(r.duration.as_millis() as i64);
            }
            query.execute(&mut *tx).await?;
        }
        for r in records {
            let (status, next, delivered_at) = match (r.delivered, r.retry_at) {
                (true, _) => (DeliveryStatus::Delivered, now, Some(now)),
                (_, Some(at)) => (DeliveryStatus::Pending, to_micros(at), None),
                (_, None) => (DeliveryStatus::Failed, now, None),
            };
            sqlx::query(
                "UPDATE outbox SET status = $1, next_attempt_at = $2, delivered_at = $3, last_status = $4, \
                 last_error = $5 WHERE id = $6 AND attempts = $7 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(next)
            .bind(delivered_at)
            .bind(r.status_code.map(i64::from))
            .bind(r.error.clone())
            .bind(&r.message.id)
            .bind(i64::from(r.message.attempts))
            .execute(&mut *tx)
            .await?;
        }
        for r in records {
            let Some(reason) = &r.disable_endpoint else { continue };
            self.disable_endpoint_in(&mut tx, &r.message.org_id, &r.message.target_id, reason).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Switches an endpoint off with a notice, and gives up its pending messages.
    async fn disable_endpoint_in(&self, tx: &mut WriteTx, org: &OrgId, id: &str, reason: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND enabled = 1",
        )
        .bind(reason)
        .bind(now_micros())
        .bind(org.to_string())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(());
        }
        tracing::warn!(%org, endpoint = id, reason, "webhook endpoint disabled");
        sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = $1 WHERE org_id = $2 AND target_id = $3 AND status = 'pending'",
        )
        .bind(format!("not sent: the endpoint was disabled ({reason})"))
        .bind(org.to_string())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        self.audit_in(tx, org, "aegis", "webhook.disabled", serde_json::json!({ "id": id, "reason": reason })).await
    }

    /// Whether the endpoint took any message since `since`: one failing for days without a
    /// single success is switched off.
    pub async fn endpoint_delivered_since(&self, id: &str, since: DateTime<Utc>) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM outbox WHERE target_id = $1 AND status = 'delivered' AND delivered_at > $2 LIMIT 1",
        )
        .bind(id)
        .bind(to_micros(since))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The messages to one endpoint or channel, newest first, `before` a message id for the
    /// next page.
    pub async fn deliveries(
        &self,
        org: &OrgId,
        target_id: &str,
        status: Option<DeliveryStatus>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let mut sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE org_id = $1 AND target_id = $2");
        let mut n = 3;
        if status.is_some() {
            sql.push_str(&format!(" AND status = ${n}"));
            n += 1;
        }
        if before.is_some() {
            // Message ids are time-ordered (UUIDv7), so they page like timestamps.
            sql.push_str(&format!(" AND id < ${n}"));
            n += 1;
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${n}"));
        let mut query = sqlx::query(&sql).bind(org.to_string()).bind(target_id);
        if let Some(status) = status {
            query = query.bind(status.as_str());
        }
        if let Some(before) = before {
            query = query.bind(before);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// One message with every attempt.
    pub async fn delivery(&self, org: &OrgId, target_id: &str, id: &str) -> Result<Option<Delivery>> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE org_id = $1 AND target_id = $2 AND id = $3"
        ))
        .bind(org.to_string())
        .bind(target_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut delivery = delivery_from_row(&row)?;
        let attempts = sqlx::query(
            "SELECT attempt, at, status_code, error, duration_ms FROM outbox_attempts WHERE outbox_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        delivery.attempt_log = attempts
            .iter()
            .map(|a| {
                Ok(DeliveryAttempt {
                    attempt: a.try_get::<i64, _>("attempt")?.max(0) as u32,
                    at: from_micros(a.try_get("at")?),
                    status_code: a.try_get::<Option<i64>, _>("status_code")?.map(|c| c as u16),
                    error: a.try_get("error")?,
                    duration_ms: a.try_get::<i64, _>("duration_ms")?.max(0) as u64,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some(delivery))
    }

    /// Sends a message again, now, with the same id. `None` if there is no such message; a
    /// message still pending is simply made due.
    pub async fn replay_delivery(
        &self,
        org: &OrgId,
        target_id: &str,
        id: &str,
        actor: &str,
    ) -> Result<Option<Delivery>> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, delivered_at = NULL \
             WHERE org_id = $2 AND target_id = $3 AND id = $4",
        )
        .bind(now_micros())
        .bind(org.to_string())
        .bind(target_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(None);
        }
        self.audit_in(
            &mut tx,
            org,
            actor,
            "webhook.replayed",
            serde_json::json!({ "endpoint": target_id, "message": id }),
        )
        .await?;
        tx.commit().await?;
        self.delivery(org, target_id, id).await
    }

    /// Writes `messages` in a transaction of their own: they report nothing else written.
    pub async fn enqueue_alone(&self, messages: &[NewMessage]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.enqueue(&mut tx, messages).await?;
        tx.commit().await
    }

    /// Deletes finished messages (delivered or given up) written before `before`, with their
    /// attempts, a slice at a time. Returns how many messages went.
    pub async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64> {
        const SLICE: i64 = 5_000;
        let old = "SELECT id FROM outbox WHERE status <> 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2";
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!("DELETE FROM outbox_attempts WHERE outbox_id IN ({old})"))
            .bind(to_micros(before))
            .bind(SLICE)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query(&format!("DELETE FROM outbox WHERE id IN ({old})"))
            .bind(to_micros(before))
            .bind(SLICE)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// Messages waiting to be delivered, for metrics and tests.
    pub async fn outbox_pending(&self) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }
}

fn delivery_from_row(row: &sqlx::any::AnyRow) -> Result<Delivery> {
    let sink: String = row.try_get("sink")?;
    let event: String = row.try_get("event_type")?;
    let status: String = row.try_get("status")?;
    let payload: String = row.try_get("payload")?;
    let status = DeliveryStatus::parse(&status).ok_or_else(|| corrupt("outbox", &status))?;
    Ok(Delivery {
        id: row.try_get("id")?,
        sink: SinkKind::parse(&sink).ok_or_else(|| corrupt("outbox", &sink))?,
        target_id: row.try_get("target_id")?,
        event_type: EventType::parse(&event).ok_or_else(|| corrupt("outbox", &event))?,
        status,
        attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
        last_status_code: row.try_get::<Option<i64>, _>("last_status")?.map(|c| c as u16),
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?),
        next_attempt_at: (status == DeliveryStatus::Pending)
            .then(|| row.try_get::<i64, _>("next_attempt_at").map(from_micros))
            .transpose()?,
        delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(from_micros),
        payload: serde_json::from_str(&payload)?,
        attempt_log: Vec::new(),
    })
}
