//! The SMTP server alert email goes through (`[sinks.smtp]`).

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The SMTP server and the sender address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The sender, e.g. `Aegis <alerts@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Implicit TLS (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    Starttls,
    /// No encryption: only for a relay on the same host.
    None,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            username: None,
            password: None,
            from: "Aegis <alerts@localhost>".into(),
            tls: SmtpTls::Starttls,
        }
    }
}
