//! Signed webhooks: each message POSTed as JSON with the Standard Webhooks headers.

pub mod signing;

use std::time::Duration;

use chrono::Utc;

use futures::future::BoxFuture;

use super::http::GuardedClient;
use super::{Outcome, Sink, Target};
use crate::model::SinkKind;
use crate::store::{ClaimedMessage, EndpointTarget};

/// Signed POSTs to the organization's endpoints.
pub struct WebhookSink {
    client: GuardedClient,
}

impl WebhookSink {
    pub fn new(client: GuardedClient) -> WebhookSink {
        WebhookSink { client }
    }
}

impl Sink for WebhookSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Webhook
    }

    fn deliver<'a>(&'a self, message: &'a ClaimedMessage, target: Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            match target {
                Target::Endpoint(endpoint) => deliver(&self.client, endpoint, &message.id, &message.payload).await,
                Target::Channel(_) => target.mismatch(self.kind()),
            }
        })
    }
}

/// Sends one attempt of message `msg_id`. The id stays the same on every attempt so that the
/// receiver can drop duplicates; the timestamp is the attempt's own.
pub async fn deliver(client: &GuardedClient, target: &EndpointTarget, msg_id: &str, body: &str) -> Outcome {
    let timestamp = Utc::now().timestamp();
    let secrets: Vec<&str> = target.secrets.iter().map(String::as_str).collect();
    let signature = match signing::signature_header(&secrets, msg_id, timestamp, body.as_bytes()) {
        Ok(s) => s,
        Err(error) => return Outcome::Rejected { status: None, error },
    };
    let request = match client.post(&target.url) {
        Ok(r) => r,
        Err(error) => return Outcome::Rejected { status: None, error },
    };
    let response = request
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_string())
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => Outcome::Delivered { status: r.status().as_u16() },
        // The receiver says the endpoint is gone for good: stop sending to it.
        Ok(r) if r.status().as_u16() == 410 => Outcome::Gone { status: 410 },
        // Any other answer is retried, as the spec asks; a Retry-After is honoured.
        Ok(r) => {
            let status = r.status().as_u16();
            let after = retry_after(&r);
            let text = r.text().await.unwrap_or_default();
            Outcome::Retry { status: Some(status), error: short(&text, status), after }
        }
        Err(e) => Outcome::Retry { status: None, error: super::error_chain(&e), after: None },
    }
}

/// A `Retry-After` in seconds, if the receiver sent one.
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The start of a receiver's error body, for the delivery log.
pub(crate) fn short(body: &str, status: u16) -> String {
    let body: String = body.chars().take(300).collect();
    if body.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", body.trim())
    }
}
