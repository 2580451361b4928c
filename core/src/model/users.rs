//! What the dashboard shows of people's sessions and links.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One of a user's sessions, as they see it in Settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The first characters of the token's digest.
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: String,
    /// The session this list was asked from.
    pub current: bool,
}

/// What an emailed one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Invite,
    Reset,
}
