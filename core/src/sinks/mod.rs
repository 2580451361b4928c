//! Sinks: where evaluations go after they are stored, besides the dashboards' live feed.
//!
//! Each message is written to the durable outbox in the transaction of its event ([`route`]
//! works out which, `pipeline/record.rs` writes them); the [`Dispatcher`] claims due messages
//! from any process and hands each to its [`Sink`]: a signed [`webhook`] POST, or an alert
//! ([`alerts`]) to [`slack`], [`email`] or [`pagerduty`]. Failures are retried with
//! exponential backoff and jitter for days.
//!
//! A sink is a folder of its own (its wire format, its delivery, its tests) implementing
//! [`Sink`], and one line in [`Sinks::new`].

pub mod alerts;
pub mod config;
mod dispatch;
pub mod email;
pub mod http;
pub mod pagerduty;
pub mod route;
pub mod settings;
pub mod slack;
pub mod webhook;

use std::time::Duration;

use futures::future::BoxFuture;
use rand::Rng as _;

pub use dispatch::Dispatcher;
pub use route::Links;

use crate::model::{ChannelTarget, SinkKind};
use crate::store::{ClaimedMessage, EndpointTarget};
use config::SinksConfig;
use http::GuardedClient;

/// A destination of outbox messages.
pub trait Sink: Send + Sync {
    /// The messages it delivers.
    fn kind(&self) -> SinkKind;

    /// Sends one attempt of `message` to `target`. Every failure is an [`Outcome`], never a
    /// panic or an error: the dispatcher decides from it whether to try again.
    fn deliver<'a>(&'a self, message: &'a ClaimedMessage, target: Target<'a>) -> BoxFuture<'a, Outcome>;
}

/// Whom a message is addressed to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A webhook endpoint, with its signing secrets.
    Endpoint(&'a EndpointTarget),
    /// An alert channel of the organization.
    Channel(&'a ChannelTarget),
}

impl Target<'_> {
    /// The outcome for a message whose target is not one `sink` can deliver to.
    pub fn mismatch(&self, sink: SinkKind) -> Outcome {
        Outcome::Rejected { status: None, error: format!("the target is not a {} target", sink.as_str()) }
    }
}

/// Every sink this installation delivers through, one per kind.
pub struct Sinks(Vec<Box<dyn Sink>>);

impl Sinks {
    /// The sinks, configured. Customers' URLs (webhooks, Slack) go through a client that
    /// refuses private addresses unless allowed; the operator's own (PagerDuty's API) do not.
    pub fn new(config: &SinksConfig, links: &Links) -> crate::Result<Sinks> {
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let guarded = GuardedClient::new(timeout, config.allow_private)?;
        let trusted = GuardedClient::new(timeout, true)?;
        Ok(Sinks(vec![
            Box::new(webhook::WebhookSink::new(guarded.clone())),
            Box::new(slack::SlackSink::new(guarded)),
            Box::new(pagerduty::PagerDutySink::new(trusted, &config.pagerduty_url, links)),
            Box::new(email::EmailSink::new(&config.smtp, timeout)?),
        ]))
    }

    pub fn get(&self, kind: SinkKind) -> Option<&dyn Sink> {
        self.0.iter().find(|sink| sink.kind() == kind).map(|sink| sink.as_ref())
    }
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered {
        status: u16,
    },
    /// Worth trying again: a timeout, a refused connection, a 5xx, a 429.
    Retry {
        status: Option<u16>,
        error: String,
        after: Option<Duration>,
    },
    /// Never worth trying again: the receiver refused this message itself, or its target is gone.
    Rejected {
        status: Option<u16>,
        error: String,
    },
    /// The webhook endpoint answered 410 Gone: it is switched off.
    Gone {
        status: u16,
    },
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status } | Outcome::Gone { status } => Some(*status),
            Outcome::Retry { status, .. } | Outcome::Rejected { status, .. } => *status,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Gone { .. } => Some("the endpoint answered 410 Gone"),
            Outcome::Retry { error, .. } | Outcome::Rejected { error, .. } => Some(error),
        }
    }
}

/// The outcome of a POST to a third-party alert API (Slack, PagerDuty): 2xx delivered; 408,
/// 429 and 5xx retried; any other 4xx is a refusal of the message, not worth repeating.
pub(crate) async fn classify(response: Result<reqwest::Response, reqwest::Error>) -> Outcome {
    match response {
        Ok(r) if r.status().is_success() => Outcome::Delivered { status: r.status().as_u16() },
        Ok(r) => {
            let status = r.status().as_u16();
            let after = webhook::retry_after(&r);
            let error = webhook::short(&r.text().await.unwrap_or_default(), status);
            if status == 408 || status == 429 || status >= 500 {
                Outcome::Retry { status: Some(status), error, after }
            } else {
                Outcome::Rejected { status: Some(status), error }
            }
        }
        Err(e) => Outcome::Retry { status: None, error: error_chain(&e), after: None },
    }
}

/// An error with its causes, which for connection failures hold the useful part.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// When to try again after `attempts` failed attempts: the first retry after about
/// `first_retry_ms` (5 s by default), each later one six times longer (30 s, 3 min, 18 min,
/// 1.8 h), capped at `max_retry_delay_ms` (8 h), each ±20% so that receivers coming back are
/// not hit by every sender at once.
pub fn retry_delay(config: &SinksConfig, attempts: u32) -> Duration {
    let base = config.first_retry_ms as f64 * 6f64.powi(attempts.saturating_sub(1).min(20) as i32);
    let capped = base.min(config.max_retry_delay_ms as f64);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_millis((capped * jitter) as u64)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod schedule_tests {
    use super::*;

    #[test]
    fn retries_start_within_ten_seconds_and_grow_to_hours() {
        let config = SinksConfig::default();
        for _ in 0..100 {
            let first = retry_delay(&config, 1);
            assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6), "{first:?}");
        }
        assert!(retry_delay(&config, 2) >= Duration::from_secs(24));
        assert!(retry_delay(&config, 3) >= Duration::from_secs(144));
        let late = retry_delay(&config, 30);
        assert!(late <= Duration::from_secs(8 * 3600 * 6 / 5) && late >= Duration::from_secs(8 * 3600 * 4 / 5));
        // The schedule spans the three-day window in a dozen or so attempts, not thousands.
        let mut total = Duration::ZERO;
        let mut attempts = 0;
        while total < Duration::from_secs(config.retry_for_secs) {
            attempts += 1;
            total += retry_delay(&config, attempts);
        }
        assert!((10..=20).contains(&attempts), "{attempts} attempts");
    }
}
