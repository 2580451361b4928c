//! Alert email through the installation's SMTP server (lettre): HTML with a plain-text
//! alternative.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub mod config;

use futures::future::BoxFuture;

use crate::model::{Alert, ChannelTarget, EventType, SinkKind};
use crate::sinks::alerts::{alert_of, grouped_note, title};
use crate::sinks::{Outcome, Sink, Target};
use crate::store::ClaimedMessage;
use crate::{Error, FieldError, Result};
use config::{SmtpConfig, SmtpTls};

/// Alerts by email, when an SMTP server is configured.
pub struct EmailSink {
    sender: Option<EmailSender>,
}

impl EmailSink {
    pub fn new(config: &SmtpConfig, timeout: Duration) -> Result<EmailSink> {
        Ok(EmailSink { sender: EmailSender::from_config(config, timeout)? })
    }
}

impl Sink for EmailSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Email
    }

    fn deliver<'a>(&'a self, message: &'a ClaimedMessage, target: Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Target::Channel(ChannelTarget::Email { to }) = target else {
                return target.mismatch(self.kind());
            };
            let Some(sender) = &self.sender else {
                // Configuring SMTP later sends what waited meanwhile.
                return Outcome::Retry {
                    status: None,
                    error: "no SMTP server is configured (sinks.smtp.host)".into(),
                    after: None,
                };
            };
            match alert_of(message) {
                Ok(alert) => sender.deliver(to, &alert, message.event_type).await,
                Err(error) => Outcome::Rejected { status: None, error },
            }
        })
    }
}

/// A connection pool to the SMTP server, and the sender address.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailSender {
    /// `None` when no SMTP host is configured.
    pub fn from_config(config: &SmtpConfig, timeout: Duration) -> Result<Option<EmailSender>> {
        let Some(host) = config.host.as_deref().filter(|h| !h.is_empty()) else { return Ok(None) };
        let smtp_error = |e: lettre::transport::smtp::Error| Error::Config(format!("smtp: {e}"));
        let builder = match config.tls {
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(smtp_error)?,
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(smtp_error)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if let Some(user) = &config.username {
            let password = config.password.as_ref().map(|p| p.0.clone()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from = config.from.parse().map_err(|e| Error::Config(format!("sinks.smtp.from {:?}: {e}", config.from)))?;
        Ok(Some(EmailSender { transport: builder.build(), from }))
    }

    pub async fn deliver(&self, to: &[String], alert: &Alert, event: EventType) -> Outcome {
        let message = match self.message(to, alert, event) {
            Ok(m) => m,
            Err(error) => return Outcome::Rejected { status: None, error },
        };
        match self.transport.send(message).await {
            Ok(response) => Outcome::Delivered { status: response.code().into() },
            // 5xx: the server refuses this message for good (no such mailbox, ...).
            Err(e) if e.is_permanent() => {
                Outcome::Rejected { status: e.status().map(u16::from), error: crate::sinks::error_chain(&e) }
            }
            Err(e) => {
                Outcome::Retry { status: e.status().map(u16::from), error: crate::sinks::error_chain(&e), after: None }
            }
        }
    }

    /// Sends one message to one address now (invitations, password resets), HTML with a
    /// plain-text alternative.
    pub async fn send(&self, to: &str, subject: &str, text: String, html: String) -> Result<()> {
        let to: Mailbox = to.parse().map_err(|e| FieldError::new("email", format!("is not an address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
            )
            .map_err(|e| Error::Internal(format!("building an email: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Error::Unavailable(format!("the email could not be sent: {}", crate::sinks::error_chain(&e))))
    }

    fn message(&self, to: &[String], alert: &Alert, event: EventType) -> Result<Message, String> {
        let mut builder =
            Message::builder().from(self.from.clone()).subject(format!("[Aegis] {}", title(alert, event)));
        for address in to {
            builder = builder.to(address.parse::<Mailbox>().map_err(|e| format!("recipient {address:?}: {e}"))?);
        }
        let (text, html) = bodies(alert, event);
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
            )
            .map_err(|e| e.to_string())
    }
}

/// Checks a channel's recipients when it is created.
pub fn check_recipients(to: &[String]) -> Result<(), FieldError> {
    if to.is_empty() {
        return Err(FieldError::new("to", "name at least one recipient"));
    }
    for (i, address) in to.iter().enumerate() {
        address
            .parse::<Mailbox>()
            .map_err(|e| FieldError::new(format!("to[{i}]"), format!("{address:?} is not an email address: {e}")))?;
    }
    Ok(())
}

/// The plain-text and HTML bodies.
pub fn bodies(alert: &Alert, event: EventType) -> (String, String) {
    let title = title(alert, event);
    let domain = alert.domain.as_deref().unwrap_or("none");
    let note = grouped_note(alert);
    let mut text = format!(
        "{title}\n\n{}\n\nSeverity: {}\nDomain: {domain}\nRule: {}\nTrace: {}\n",
        alert.summary,
        alert.severity.as_str(),
        alert.rule_name,
        alert.trace_id
    );
    if let Some(note) = &note {
        text.push_str(&format!("\n{note}\n"));
    }
    text.push_str(&format!("\nOpen in Aegis: {}\n", alert.url));
    let row = |k: &str, v: &str| {
        format!("<tr><th align=\"left\" style=\"padding:4px 12px 4px 0;color:#555\">{k}</th><td>{}</td></tr>", html(v))
    };
    let html_body = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#1a1d24\">\
         <h2 style=\"margin:0 0 8px\">{}</h2><p>{}</p>{}<table>{}{}{}{}</table>\
         <p><a href=\"{}\" style=\"display:inline-block;padding:8px 14px;background:#2952cc;color:#fff;\
         border-radius:6px;text-decoration:none\">Open in Aegis</a></p>\
         <p style=\"color:#777;font-size:12px\">Aegis alert {} · {}</p></body></html>",
        html(&title),
        html(&alert.summary),
        note.map(|n| format!("<p><em>{}</em></p>", html(&n))).unwrap_or_default(),
        row("Severity", alert.severity.as_str()),
        row("Domain", domain),
        row("Rule", &alert.rule_name),
        row("Trace", &alert.trace_id.to_string()),
        html(&alert.url),
        html(&alert.id),
        alert.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    (text, html_body)
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests;
