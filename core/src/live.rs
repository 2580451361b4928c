//! The live feed: each newly recorded evaluation, fanned out to the websocket subscribers of
//! every process. On SQLite the process that recorded it publishes it directly; on Postgres
//! the recording transaction sends it with `NOTIFY` and every process (this one included)
//! receives it through `LISTEN`, so a browser connected to one node sees evaluations finished
//! on another. Delivery is best effort: the feed never slows the pipeline, and a subscriber
//! that falls behind loses events (it is told so), never the pipeline.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::model::{LiveEvent, OrgId, TopIssue};
use crate::store::{Backend, Recorded};

/// The Postgres notification channel.
pub const CHANNEL: &str = "aegis_evaluations";
/// Postgres refuses payloads of 8,000 bytes or more; events are packed below that.
const MAX_PAYLOAD: usize = 7_500;
/// Events a subscriber may fall behind by before it is dropped.
const CAPACITY: usize = 4_096;

/// An event and the organization it belongs to (never sent to a subscriber).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgEvent {
    pub org_id: OrgId,
    pub event: LiveEvent,
}

/// The process's end of the feed. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<OrgEvent>>,
    backend: Backend,
}

impl LiveFeed {
    pub fn new(backend: Backend) -> LiveFeed {
        LiveFeed { sender: broadcast::channel(CAPACITY).0, backend }
    }

    /// Every event from now on, of every organization: subscribers filter.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<OrgEvent>> {
        self.sender.subscribe()
    }

    /// Called with what [`crate::pipeline::record`] returned, after it committed. On Postgres the events arrive through `LISTEN` instead.
    pub fn recorded(&self, events: Vec<(OrgId, LiveEvent)>) {
        if self.backend == Backend::Postgres {
            return;
        }
        self.publish(events.into_iter().map(|(org_id, event)| OrgEvent { org_id, event }));
    }

    fn publish(&self, events: impl IntoIterator<Item = OrgEvent>) {
        if self.sender.receiver_count() == 0 {
            return;
        }
        for event in events {
            // An error only means nobody is subscribed right now.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// Forwards every `NOTIFY` on [`CHANNEL`] to this process's subscribers until `shutdown`,
    /// reconnecting after a lost connection. Resolves once it listens, then runs in the
    /// background.
    pub async fn listen_postgres(&self, url: &str, shutdown: CancellationToken) -> crate::Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                let notification = tokio::select! {
                    n = listener.recv() => n,
                    _ = shutdown.cancelled() => break,
                };
                match notification {
                    // Nobody watching here: not worth parsing (an all-in-one node under load
                    // receives every evaluation of the cluster).
                    Ok(_) if feed.sender.receiver_count() == 0 => {}
                    Ok(n) => match serde_json::from_str::<Vec<OrgEvent>>(n.payload()) {
                        Ok(events) => feed.publish(events),
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed live-feed notification"),
                    },
                    Err(e) => {
                        // `recv` reconnects on its next call; events sent meanwhile are missed.
                        tracing::warn!(error = %e, "live feed lost its Postgres connection; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(())
    }
}

/// The live-feed events of newly recorded evaluations.
pub fn events(recorded: &[Recorded<'_>]) -> Vec<(OrgId, LiveEvent)> {
    recorded
        .iter()
        .map(|r| {
            let e = r.evaluation;
            let top_issue = e.issues.iter().rev().max_by_key(|i| i.severity).map(|i| TopIssue {
                code: i.code.clone(),
                severity: i.severity,
                message: i.message.chars().take(200).collect(),
            });
            let event = LiveEvent {
                trace_id: r.job.trace_id,
                application_id: r.application_id.clone(),
                domain: e.domain.clone(),
                status: e.status,
                severity: e.severity,
                top_issue,
                cost_micro_usd: e.cost_micro_usd,
                latency_ms: e.latency_ms,
                received_at: r.received_at,
                evaluated_at: e.evaluated_at,
            };
            (r.job.org_id.clone(), event)
        })
        .collect()
}

/// The events as `NOTIFY` payloads: JSON arrays of [`OrgEvent`], each under Postgres's limit.
pub fn notify_payloads(events: &[(OrgId, LiveEvent)]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::from("[");
    for (org_id, event) in events {
        let Ok(json) = serde_json::to_string(&OrgEvent { org_id: org_id.clone(), event: event.clone() }) else {
            continue;
        };
        if json.len() + 2 > MAX_PAYLOAD {
            tracing::warn!(trace_id = %event.trace_id, "live-feed event too large to send");
            continue;
        }
        if current.len() + json.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            payloads.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        payloads.push(current);
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EvaluationStatus, Severity};

    fn event(n: u128) -> (OrgId, LiveEvent) {
        let now = chrono::Utc::now();
        let event = LiveEvent {
            trace_id: uuid::Uuid::from_u128(n),
            application_id: "clinical-bot".into(),
            domain: Some("healthcare".into()),
            status: EvaluationStatus::Fail,
            severity: Severity::High,
            top_issue: None,
            cost_micro_usd: 12,
            latency_ms: 0.4,
            received_at: now,
            evaluated_at: now,
        };
        (OrgId(uuid::Uuid::from_u128(7)), event)
    }

    #[test]
    fn payloads_stay_under_the_postgres_limit_and_keep_every_event() {
        let events: Vec<_> = (0..500).map(event).collect();
        let payloads = notify_payloads(&events);
        assert!(payloads.len() > 1);
        let mut back = Vec::new();
        for p in &payloads {
            assert!(p.len() < MAX_PAYLOAD, "{}", p.len());
            back.extend(serde_json::from_str::<Vec<OrgEvent>>(p).unwrap());
        }
        assert_eq!(back.len(), 500);
        assert_eq!(back[499].event, events[499].1);
        assert!(notify_payloads(&[]).is_empty());
    }

    #[tokio::test]
    async fn sqlite_publishes_in_process() {
        let feed = LiveFeed::new(Backend::Sqlite);
        let mut rx = feed.subscribe();
        feed.recorded(vec![event(1)]);
        assert_eq!(rx.recv().await.unwrap().event.trace_id, uuid::Uuid::from_u128(1));

        let postgres = LiveFeed::new(Backend::Postgres);
        let mut rx = postgres.subscribe();
        postgres.recorded(vec![event(2)]);
        assert!(rx.try_recv().is_err(), "on Postgres events come through LISTEN only");
    }
}
