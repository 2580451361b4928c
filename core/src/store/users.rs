//! Dashboard users and their sessions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, to_micros, Store};
use crate::access::Role;
use crate::auth;
use crate::model::{OrgId, SessionInfo};
use crate::{Error, FieldError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub org_id: OrgId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Who a session cookie belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub email: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub role: Role,
}

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_USER_AGENT_CHARS: usize = 300;
/// Characters of a session's token digest that name it in the list: enough to be unique, and
/// a digest of a 256-bit secret gives nothing away.
const SESSION_ID_CHARS: usize = 16;

/// Failed sign-ins of one email within [`SIGN_IN_WINDOW`] that lock it for the rest of it.
pub const SIGN_IN_FAILURES: usize = 5;
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins from one client address within [`SIGN_IN_WINDOW`] that lock it: more than
/// one person's worth, since an office shares its address.
pub const SIGN_IN_FAILURES_PER_CLIENT: usize = 20;

/// The outcome of [`Store::sign_in`].
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    Signed(User),
    /// Wrong email or password.
    Refused,
    /// Too many recent failures for this email.
    Throttled {
        retry_after: Duration,
    },
}

impl Store {
    /// A new user of `org`, added by `by` (how the audit log names them).
    pub async fn create_user(&self, org: &OrgId, email: &str, password: &str, role: Role, by: &str) -> Result<User> {
        let email = normalize_email(email)?;
        check_password(password)?;
        if self.get_organization(org).await?.is_none() {
            return Err(Error::NotFound("organization not found".into()));
        }
        let user = User { id: Uuid::now_v7(), org_id: org.clone(), email, role, created_at: Utc::now() };
        let hash = auth::hash_password_off_runtime(password).await?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, org_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(user.id.to_string())
        .bind(org.to_string())
        .bind(&user.email)
        .bind(hash)
        .bind(user.role.as_str())
        .bind(to_micros(user.created_at))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict(format!("a user with email {} already exists", user.email)));
        }
        let detail = serde_json::json!({ "user_id": user.id, "email": user.email, "role": role.as_str() });
        self.audit_in(&mut tx, org, by, "user.create", detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The organization's users, oldest first.
    pub async fn list_users(&self, org: &OrgId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY created_at, email");
        let rows = sqlx::query(&sql).bind(org.to_string()).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The user with this (normalized) email, in whichever organization.
    pub(super) async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.user_and_hash_by_email(email).await?.map(|(user, _)| user))
    }

    /// The user with this (normalized) email and their password hash.
    async fn user_and_hash_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sqlx::query(&sql).bind(email).fetch_optional(&self.pool).await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?))).transpose()
    }

    /// One of the organization's users.
    pub async fn get_user(&self, org: &OrgId, id: Uuid) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.to_string()).bind(id.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Gives a user another role. The organization keeps at least one owner.
    pub async fn set_user_role(&self, org: &OrgId, id: Uuid, role: Role, by: &str) -> Result<User> {
        let before = self.get_user(org, id).await?.ok_or_else(|| Error::NotFound("user not found".into()))?;
        let mut tx = self.begin_user_change(org).await?;
        let changed = sqlx::query("UPDATE users SET role = $1 WHERE org_id = $2 AND id = $3")
            .bind(role.as_str())
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(Error::NotFound("user not found".into()));
        }
        keeps_an_owner(&mut tx, org).await?;
        let detail = serde_json::json!({ "user_id": id, "email": before.email, "from": before.role.as_str(), "to": role.as_str() });
        self.audit_in(&mut tx, org, by, "user.role_change", detail).await?;
        tx.commit().await?;
        Ok(User { role, ..before })
    }

    /// Removes a user and ends their sessions. The organization keeps at least one owner.
    pub async fn remove_user(&self, org: &OrgId, id: Uuid, by: &str) -> Result<User> {
        let user = self.get_user(org, id).await?.ok_or_else(|| Error::NotFound("user not found".into()))?;
        let mut tx = self.begin_user_change(org).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.to_string()).execute(&mut *tx).await?;
        let removed = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() == 0 {
            return Err(Error::NotFound("user not found".into()));
        }
        keeps_an_owner(&mut tx, org).await?;
        let detail = serde_json::json!({ "user_id": id, "email": user.email, "role": user.role.as_str() });
        self.audit_in(&mut tx, org, by, "user.remove", detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A write transaction in which no other change to the organization's users runs: on
    /// Postgres two admins demoting the last two owners at once must not both succeed (SQLite
    /// has one writer at a time already).
    async fn begin_user_change(&self, org: &OrgId) -> Result<super::WriteTx> {
        let mut tx = self.begin_write().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
                .bind(org.to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Checks an email and password. Takes the same time whether or not the email exists.
    pub async fn authenticate_user(&self, email: &str, password: &str) -> Result<Option<User>> {
        let Ok(email) = normalize_email(email) else { return Ok(None) };
        let account = self.user_and_hash_by_email(&email).await?;
        Ok(check_password_of(account, password).await)
    }

    /// Starts a session and returns the token for the cookie (stored only as a digest).
    pub async fn create_session(&self, user: Uuid, ttl: Duration) -> Result<String> {
        self.create_session_from(user, ttl, "").await
    }

    /// [`Store::create_session`], remembering the browser's `User-Agent` for the session list.
    pub async fn create_session_from(&self, user: Uuid, ttl: Duration, user_agent: &str) -> Result<String> {
        let token = auth::generate_session_token();
        let now = now_micros();
        let user_agent: String = user_agent.chars().take(MAX_USER_AGENT_CHARS).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.hash)
        .bind(user.to_string())
        .bind(now)
        .bind(now + ttl.as_micros() as i64)
        .bind(user_agent)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token.plaintext)
    }

    pub async fn session_user(&self, token: &str) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, o.id AS org_id, o.name AS org_name FROM sessions s \
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
                role: role_of(&row)?,
            })
        })
        .transpose()
    }

    /// Signs in with an email and password from `client` (an address), unless this email or
    /// this client has failed too often lately: [`SIGN_IN_FAILURES`] failures of an email, or
    /// [`SIGN_IN_FAILURES_PER_CLIENT`] from one address, within [`SIGN_IN_WINDOW`] lock it until
    /// the oldest of them leaves the window. Unknown emails are counted too, so the answer
    /// reveals nothing. Sign-ins, failures and refusals of known accounts are audited.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> Result<SignIn> {
        let key = email.trim().to_lowercase();
        let now = now_micros();
        let by_email = self.recent_failures("email", &key, SIGN_IN_FAILURES, now).await?;
        let by_client = self.recent_failures("client", client, SIGN_IN_FAILURES_PER_CLIENT, now).await?;
        let account = match normalize_email(email) {
            Ok(email) => self.user_and_hash_by_email(&email).await?,
            Err(_) => None,
        };
        let audited = account.as_ref().map(|(user, _)| (user.org_id.clone(), user_actor(user.id)));
        let audit = |action: &'static str| {
            let detail = serde_json::json!({ "client": client });
            audited.clone().map(|(org, actor)| (org, actor, action, detail))
        };
        if let Some(retry_after) = by_email.or(by_client) {
            if let Some((org, actor, action, detail)) = audit("user.sign_in_throttled") {
                self.audit(&org, &actor, action, detail).await?;
            }
            return Ok(SignIn::Throttled { retry_after });
        }
        let user = check_password_of(account, password).await;
        let mut tx = self.begin_write().await?;
        let outcome = match user {
            Some(user) => {
                sqlx::query("DELETE FROM sign_in_failures WHERE email = $1").bind(&key).execute(&mut *tx).await?;
                SignIn::Signed(user)
            }
            None => {
                insert_failure(&mut tx, &key, client, now).await?;
                // Old failures are of no use: each failure sweeps the ones past the window.
                sqlx::query("DELETE FROM sign_in_failures WHERE at <= $1")
                    .bind(now - SIGN_IN_WINDOW.as_micros() as i64)
                    .execute(&mut *tx)
                    .await?;
                SignIn::Refused
            }
        };
        let action = if matches!(outcome, SignIn::Signed(_)) { "user.sign_in" } else { "user.sign_in_failed" };
        if let Some((org, actor, action, detail)) = audit(action) {
            self.audit_in(&mut tx, &org, &actor, action, detail).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// How long until `column` = `value` may try again, if it has `limit` failures in the window.
    async fn recent_failures(&self, column: &str, value: &str, limit: usize, now: i64) -> Result<Option<Duration>> {
        let window = SIGN_IN_WINDOW.as_micros() as i64;
        // `column` is one of two names written in this file, never input.
        let sql = format!("SELECT at FROM sign_in_failures WHERE {column} = $1 AND at > $2 ORDER BY at DESC LIMIT $3");
        let recent: Vec<i64> = sqlx::query(&sql)
            .bind(value)
            .bind(now - window)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get("at"))
            .collect::<std::result::Result<_, _>>()?;
        if recent.len() < limit {
            return Ok(None);
        }
        let oldest = recent.iter().min().copied().unwrap_or(now);
        Ok(Some(Duration::from_micros((oldest + window - now).max(1_000_000) as u64)))
    }

    /// A failed sign-in that got past the password (a wrong second factor), counted like any.
    pub async fn record_sign_in_failure(&self, user: &User, client: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_failure(&mut tx, &user.email, client, now_micros()).await?;
        let detail = serde_json::json!({ "client": client, "second_factor": true });
        self.audit_in(&mut tx, &user.org_id, &user_actor(user.id), "user.sign_in_failed", detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's sealed TOTP secrets: `(enabled, pending, last step used)`.
    pub async fn totp(&self, user: Uuid) -> Result<(Option<String>, Option<String>, i64)> {
        let row = sqlx::query("SELECT totp_sealed, totp_pending, totp_last_step FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound("user not found".into()))?;
        Ok((row.try_get("totp_sealed")?, row.try_get("totp_pending")?, row.try_get("totp_last_step")?))
    }

    /// Sets the secret waiting for its first code.
    pub async fn set_totp_pending(&self, user: Uuid, sealed: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
            .bind(sealed)
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Turns two-factor sign-in on with the pending secret, its first code's step used.
    pub async fn enable_totp(&self, user: Uuid, sealed: &str, step: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET totp_sealed = $1, totp_pending = NULL, totp_last_step = $2 WHERE id = $3")
            .bind(sealed)
            .bind(step)
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        self.audit_user_in(&mut tx, user, "user.totp_enable").await?;
        tx.commit().await
    }

    /// Turns two-factor sign-in off.
    pub async fn disable_totp(&self, user: Uuid) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET totp_sealed = NULL, totp_pending = NULL WHERE id = $1")
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        self.audit_user_in(&mut tx, user, "user.totp_disable").await?;
        tx.commit().await
    }

    /// Marks `step` used, unless it (or a later one) was already: a code works once.
    pub async fn use_totp_step(&self, user: Uuid, step: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn audit_user_in(&self, tx: &mut super::WriteTx, user: Uuid, action: &str) -> Result<()> {
        let org: String = sqlx::query("SELECT org_id FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_one(&mut **tx)
            .await?
            .try_get("org_id")?;
        let org: OrgId = org.parse().map_err(|e| corrupt("user", e))?;
        self.audit_in(tx, &org, &user_actor(user), action, serde_json::json!({ "user_id": user })).await
    }

    /// A user's live sessions, newest first; `current` marks the one whose token is given.
    pub async fn list_sessions(&self, user: Uuid, current_token: Option<&str>) -> Result<Vec<SessionInfo>> {
        let current = current_token.map(auth::digest);
        let rows = sqlx::query(
            "SELECT token_hash, created_at, expires_at, user_agent FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
        )
        .bind(user.to_string())
        .bind(now_micros())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get("token_hash")?;
                Ok(SessionInfo {
                    id: hash[..SESSION_ID_CHARS.min(hash.len())].to_string(),
                    created_at: from_micros(row.try_get("created_at")?),
                    expires_at: from_micros(row.try_get("expires_at")?),
                    user_agent: row.try_get("user_agent")?,
                    current: current.as_deref() == Some(hash.as_str()),
                })
            })
            .collect()
    }

    /// Ends one of a user's sessions, named by its listed id; `false` if there is none.
    pub async fn revoke_session(&self, user: Uuid, id: &str) -> Result<bool> {
        if id.len() != SESSION_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FieldError::new("id", "is not a session id").into());
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash LIKE $2")
            .bind(user.to_string())
            .bind(format!("{id}%"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of a user but the one whose token is given; returns how many ended.
    pub async fn revoke_other_sessions(&self, user: Uuid, keep_token: &str) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.to_string())
            .bind(auth::digest(keep_token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
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

async fn keeps_an_owner(tx: &mut super::WriteTx, org: &OrgId) -> Result<()> {
    let owners: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE org_id = $1 AND role = 'owner'")
        .bind(org.to_string())
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
    if owners == 0 {
        return Err(Error::Conflict(
            "the organization must keep at least one owner; make someone else an owner first".into(),
        ));
    }
    Ok(())
}

/// The columns [`user_from_row`] reads.
const USER_COLUMNS: &str = "id, org_id, email, role, created_at";

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User> {
    let id: String = row.try_get("id")?;
    let org: String = row.try_get("org_id")?;
    Ok(User {
        id: id.parse().map_err(|e| corrupt("user", e))?,
        org_id: org.parse().map_err(|e| corrupt("user", e))?,
        email: row.try_get("email")?,
        role: role_of(row)?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

/// How the audit log names a user acting for themselves.
pub(super) fn user_actor(id: Uuid) -> String {
    format!("user:{id}")
}

/// The account if `password` is its password. Without an account, a dummy hash is checked so
/// that the answer takes as long either way.
async fn check_password_of(account: Option<(User, String)>, password: &str) -> Option<User> {
    let Some((user, stored)) = account else {
        // The dummy hash is made on first use: that too is argon2 work, off the runtime.
        let password = password.to_string();
        let _ = tokio::task::spawn_blocking(move || auth::verify_password(&password, dummy_hash())).await;
        return None;
    };
    auth::verify_password_off_runtime(password, &stored).await.then_some(user)
}

async fn insert_failure(tx: &mut super::WriteTx, email: &str, client: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO sign_in_failures (email, client, at) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(client)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn role_of(row: &sqlx::any::AnyRow) -> Result<Role> {
    let role: String = row.try_get("role")?;
    Role::parse(&role).ok_or_else(|| corrupt("user", role))
}

/// A password long enough to set.
pub(super) fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new("password", "must be at least 8 characters").into());
    }
    Ok(())
}

/// A real argon2id hash, verified against when the email is unknown so that the response
/// time does not reveal which emails have accounts.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::generate_password()).unwrap_or_default())
}

pub(super) fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new("email", "must be an email address").into())
    }
}
