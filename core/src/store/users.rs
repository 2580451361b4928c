//! Dashboard users and their sessions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, to_micros, Store};
use crate::auth;
use crate::model::OrgId;
use crate::{Error, FieldError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub org_id: OrgId,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// Who a session cookie belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub email: String,
    pub org_id: OrgId,
    pub org_name: String,
}

const MIN_PASSWORD_CHARS: usize = 8;

impl Store {
    pub async fn create_user(&self, org: &OrgId, email: &str, password: &str) -> Result<User> {
        let email = normalize_email(email)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(FieldError::new("password", "must be at least 8 characters").into());
        }
        if self.get_organization(org).await?.is_none() {
            return Err(Error::NotFound("organization"));
        }
        let user =
            User { id: Uuid::now_v7(), org_id: org.clone(), email, role: "admin".into(), created_at: Utc::now() };
        let hash = auth::hash_password(password)?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, org_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(user.id.to_string())
        .bind(org.to_string())
        .bind(&user.email)
        .bind(hash)
        .bind(&user.role)
        .bind(to_micros(user.created_at))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict(format!("a user with email {} already exists", user.email)));
        }
        tx.commit().await?;
        Ok(user)
    }

    /// The organization's users, oldest first.
    pub async fn list_users(&self, org: &OrgId) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT id, email, role, created_at FROM users WHERE org_id = $1 ORDER BY created_at, email")
                .bind(org.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(User {
                    id: id.parse().map_err(|e| corrupt("user", e))?,
                    org_id: org.clone(),
                    email: row.try_get("email")?,
                    role: row.try_get("role")?,
                    created_at: from_micros(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Checks an email and password. Takes the same time whether or not the email exists.
    pub async fn authenticate_user(&self, email: &str, password: &str) -> Result<Option<User>> {
        let Ok(email) = normalize_email(email) else { return Ok(None) };
        let row = sqlx::query("SELECT id, org_id, email, password_hash, role, created_at FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            auth::verify_password(password, dummy_hash());
            return Ok(None);
        };
        let stored: String = row.try_get("password_hash")?;
        if !auth::verify_password(password, &stored) {
            return Ok(None);
        }
        let id: String = row.try_get("id")?;
        let org: String = row.try_get("org_id")?;
        Ok(Some(User {
            id: id.parse().map_err(|e| corrupt("user", e))?,
            org_id: org.parse().map_err(|e| corrupt("user", e))?,
            email: row.try_get("email")?,
            role: row.try_get("role")?,
            created_at: from_micros(row.try_get("created_at")?),
        }))
    }

    /// Starts a session and returns the token for the cookie (stored only as a digest).
    pub async fn create_session(&self, user: Uuid, ttl: Duration) -> Result<String> {
        let token = auth::generate_session_token();
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&token.hash)
            .bind(user.to_string())
            .bind(now)
            .bind(now + ttl.as_micros() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token.plaintext)
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, o.id AS org_id, o.name AS org_name FROM sessions s \
             JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(auth::digest(token))
        .bind(now_micros())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let id: String = row.try_get("id")?;
            let org: String = row.try_get("org_id")?;
            Ok(SessionUser {
                user_id: id.parse().map_err(|e| corrupt("session", e))?,
                email: row.try_get("email")?,
                org_id: org.parse().map_err(|e| corrupt("session", e))?,
                org_name: row.try_get("org_name")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(auth::digest(token))
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A real argon2id hash, verified against when the email is unknown so that the response
/// time does not reveal which emails have accounts.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::generate_password()).unwrap_or_default())
}

fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new("email", "must be an email address").into())
    }
}
