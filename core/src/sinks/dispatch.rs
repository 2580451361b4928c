//! The dispatcher: claims due outbox messages, delivers each through its sink, and records
//! how it went. Run one per process; any number of processes share the work.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::config::SinksConfig;
use super::{retry_delay, Links, Outcome, Sinks, Target};
use crate::model::{ChannelTarget, SinkKind};
use crate::store::{AttemptRecord, ClaimedMessage, EndpointTarget, Store};
use crate::Result;

/// How often groups of alerts whose cooldown ended are looked for.
const FLUSH_EVERY: Duration = Duration::from_millis(1000);
/// How often finished messages past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    config: SinksConfig,
    links: Links,
    sinks: Arc<Sinks>,
    /// Woken when this process writes messages, so they need not wait for the next poll.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Dispatcher {
    pub fn new(store: Store, config: &SinksConfig, links: Links) -> Result<Dispatcher> {
        Ok(Dispatcher {
            store,
            sinks: Arc::new(Sinks::new(config, &links)?),
            config: config.clone(),
            links,
            wake: Arc::default(),
        })
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        let mut last_flush = Instant::now();
        // The first pruning waits a while, so a fleet restarting together does not prune at once.
        let mut last_prune = Instant::now();
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if last_flush.elapsed() >= FLUSH_EVERY {
                last_flush = Instant::now();
                if let Err(e) = super::alerts::flush_groups(&self.store, &self.links).await {
                    tracing::warn!(error = %e, "could not report grouped alerts");
                }
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                let before = Utc::now() - chrono::Duration::days(self.config.retention_days as i64);
                match self.store.prune_outbox(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "pruned delivered and failed messages"),
                    Err(e) => tracing::warn!(error = %e, "could not prune old messages"),
                }
            }
            let busy = match self.round().await {
                Ok(sent) => sent >= self.config.claim_batch,
                Err(e) => {
                    tracing::warn!(error = %e, "could not deliver webhooks and alerts");
                    false
                }
            };
            if busy {
                if shutdown.is_cancelled() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    }

    /// Delivers the messages due now; returns how many were attempted.
    pub async fn round(&self) -> Result<usize> {
        let lease = Duration::from_secs(self.config.lease_secs.max(self.config.timeout_secs + 5));
        let claimed = self.store.claim_messages(self.config.claim_batch, lease).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let ids = |kind: fn(SinkKind) -> bool| -> Vec<&str> {
            claimed.iter().filter(|m| kind(m.sink)).map(|m| m.target_id.as_str()).collect()
        };
        let endpoints = self.store.webhook_targets(&ids(|k| k == SinkKind::Webhook)).await?;
        let channels = self.store.channel_targets(&ids(|k| k != SinkKind::Webhook)).await?;
        let count = claimed.len();
        let outcomes: Vec<(ClaimedMessage, Outcome, Duration)> = futures::stream::iter(claimed)
            .map(|message| {
                let (endpoints, channels) = (&endpoints, &channels);
                async move {
                    let started = Instant::now();
                    let outcome = self.send(&message, endpoints, channels).await;
                    (message, outcome, started.elapsed())
                }
            })
            .buffer_unordered(self.config.claim_batch.max(1))
            .collect()
            .await;
        let mut records = Vec::with_capacity(outcomes.len());
        for (message, outcome, duration) in outcomes {
            records.push(self.next_step(message, outcome, duration).await?);
        }
        self.store.record_attempts(&records).await?;
        Ok(count)
    }

    /// Retry, give up, or switch the endpoint off.
    async fn next_step(&self, message: ClaimedMessage, outcome: Outcome, duration: Duration) -> Result<AttemptRecord> {
        let now = Utc::now();
        let window = chrono::Duration::seconds(self.config.retry_for_secs as i64);
        let deadline = message.created_at + window;
        let mut disable_endpoint = None;
        let retry_at = match &outcome {
            Outcome::Retry { after, .. } => {
                let scheduled = retry_delay(&self.config, message.attempts);
                let wait = after
                    .map_or(scheduled, |a| a.min(Duration::from_millis(self.config.max_retry_delay_ms)).max(scheduled));
                let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                if at <= deadline {
                    Some(at)
                } else {
                    if message.sink == SinkKind::Webhook
                        && !self.store.endpoint_delivered_since(&message.target_id, now - window).await?
                    {
                        disable_endpoint = Some(format!(
                            "every delivery failed for {} days (since {})",
                            self.config.retry_for_secs / 86_400,
                            message.created_at.format("%Y-%m-%d %H:%M UTC")
                        ));
                    }
                    None
                }
            }
            Outcome::Gone { .. } if message.sink == SinkKind::Webhook => {
                disable_endpoint =
                    Some(format!("the endpoint answered 410 Gone on {}", now.format("%Y-%m-%d %H:%M UTC")));
                None
            }
            _ => None,
        };
        match &outcome {
            Outcome::Delivered { .. } => {
                tracing::debug!(message = %message.id, sink = message.sink.as_str(), "delivered")
            }
            other => tracing::info!(
                message = %message.id,
                sink = message.sink.as_str(),
                attempt = message.attempts,
                error = other.error().unwrap_or_default(),
                retry = retry_at.is_some(),
                "delivery failed"
            ),
        }
        Ok(AttemptRecord {
            message,
            status_code: outcome.status(),
            error: outcome.error().map(str::to_string),
            delivered: matches!(outcome, Outcome::Delivered { .. }),
            duration,
            retry_at,
            disable_endpoint,
        })
    }

    async fn send(
        &self,
        message: &ClaimedMessage,
        endpoints: &HashMap<String, EndpointTarget>,
        channels: &HashMap<String, ChannelTarget>,
    ) -> Outcome {
        let rejected = |error: String| Outcome::Rejected { status: None, error };
        let target = if message.sink == SinkKind::Webhook {
            match endpoints.get(&message.target_id) {
                Some(endpoint) => Target::Endpoint(endpoint),
                None => return rejected("the endpoint was deleted or switched off".into()),
            }
        } else {
            match channels.get(&message.target_id) {
                Some(channel) => Target::Channel(channel),
                None => return rejected("the alert channel was deleted".into()),
            }
        };
        match self.sinks.get(message.sink) {
            Some(sink) => sink.deliver(message, target).await,
            None => rejected(format!("no sink delivers {} messages", message.sink.as_str())),
        }
    }
}
