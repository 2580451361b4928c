//! The one error type of the core crate.

use std::fmt;

/// A client mistake in one field of its input, named by a dotted path such as
/// `ai_processing.model` or `steps[2].kind`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error, seen from an enclosing object (`steps[2]` + `kind` → `steps[2].kind`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_string()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is syntactically broken (not JSON at all, truncated, ...).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// The input parsed but a field is missing or wrong.
    #[error("invalid field {0}")]
    Invalid(FieldError),
    /// What the request names does not exist; the message says what, in full.
    #[error("{0}")]
    NotFound(String),
    /// The permission table does not allow it.
    #[error("{0}")]
    Forbidden(crate::access::Forbidden),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The installation's configuration turns this off for everyone, whatever their role.
    #[error("{0}")]
    TurnedOff(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A domain pack (spec or data file) is wrong; `line` is 1-based.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Pack { path: String, line: Option<usize>, message: String },
    /// The database at `url` (its password redacted) could not be opened.
    #[error("{url}: {message}")]
    Connect { url: String, message: String },
    /// The store is shutting down or its writer is gone: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[cfg(feature = "engine")]
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[cfg(feature = "engine")]
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("serialization error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::access::Forbidden> for Error {
    fn from(e: crate::access::Forbidden) -> Self {
        Error::Forbidden(e)
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
