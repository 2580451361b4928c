//! The sinks' section of the configuration (`[sinks]`).

use serde::{Deserialize, Serialize};

use crate::sinks::email::config::SmtpConfig;

/// Delivery of webhooks and alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SinksConfig {
    /// How often a process looks for messages due, including those other processes wrote.
    pub poll_interval_ms: u64,
    /// Messages claimed per round trip, and sent at once.
    pub claim_batch: usize,
    /// How long a claimed message belongs to its sender before another process may send it.
    pub lease_secs: u64,
    /// Longest wait for a receiver's answer.
    pub timeout_secs: u64,
    /// The first retry comes after about this long; each later one waits six times longer.
    pub first_retry_ms: u64,
    /// Longest pause between two attempts.
    pub max_retry_delay_ms: u64,
    /// A message is retried for this long after it was written, then given up.
    pub retry_for_secs: u64,
    /// Delivered and failed messages, and their attempts, are kept this many days.
    pub retention_days: u64,
    /// Let webhooks and alert channels reach loopback, private and link-local addresses
    /// (`AEGIS_WEBHOOK_ALLOW_PRIVATE=1`). Off, they are refused (SSRF protection).
    pub allow_private: bool,
    /// PagerDuty's Events API v2.
    pub pagerduty_url: String,
    /// The SMTP server alert email goes through; without a host, email channels cannot be created.
    pub smtp: SmtpConfig,
}

impl Default for SinksConfig {
    fn default() -> Self {
        SinksConfig {
            poll_interval_ms: 200,
            claim_batch: 64,
            lease_secs: 60,
            timeout_secs: 10,
            first_retry_ms: 5_000,
            max_retry_delay_ms: 8 * 3600 * 1000,
            retry_for_secs: 3 * 24 * 3600,
            retention_days: 30,
            allow_private: false,
            pagerduty_url: "https://events.pagerduty.com/v2/enqueue".into(),
            smtp: SmtpConfig::default(),
        }
    }
}
