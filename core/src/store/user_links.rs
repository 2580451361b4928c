//! One-time links sent by email: invitations to join an organization, and password resets.
//! Only a digest of the token is stored; a link works once and expires.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use super::users::normalize_email;
use super::{corrupt, from_micros, now_micros, Store, User};
use crate::access::Role;
use crate::auth;
use crate::model::{LinkKind, OrgId};
use crate::{Error, Result};

/// How long an invitation link works.
pub const INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(3600);

/// Reset links sent to one address within an hour; further requests send nothing.
const MAX_RESETS_PER_HOUR: i64 = 3;

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            LinkKind::Invite => "invite",
            LinkKind::Reset => "reset",
        }
    }
}

/// A link as its page shows it before it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingLink {
    pub kind: LinkKind,
    pub email: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// A link just made: the token for the email, shown nowhere else.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Invites `email` to join `org` as `role`. A user with that email exists already:
    /// conflict. Inviting again makes a new link; earlier ones keep working until they expire.
    pub async fn create_invite(&self, org: &OrgId, email: &str, role: Role, by: &str) -> Result<NewLink> {
        let email = normalize_email(email)?;
        if self.get_organization(org).await?.is_none() {
            return Err(Error::NotFound("organization not found".into()));
        }
        if self.user_by_email(&email).await?.is_some() {
            return Err(Error::Conflict(format!("{email} already has an account")));
        }
        let link = self.insert_link(LinkKind::Invite, org, &email, role, by, INVITE_TTL).await?;
        let detail = serde_json::json!({ "email": email, "role": role.as_str(), "expires_at": link.expires_at });
        self.audit(org, by, "user.invite", detail).await?;
        Ok(link)
    }

    /// A reset link for the user with `email`, or `None` when there is no such user (the
    /// caller answers the same either way).
    pub async fn create_password_reset(&self, email: &str) -> Result<Option<(User, NewLink)>> {
        let Ok(email) = normalize_email(email) else { return Ok(None) };
        let Some(user) = self.user_by_email(&email).await? else { return Ok(None) };
        // A few links an hour are enough for anyone; more would let a stranger flood a mailbox.
        let recent: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM user_links WHERE email = $1 AND kind = 'reset' AND created_at > $2")
                .bind(&email)
                .bind(now_micros() - RESET_TTL.as_micros() as i64)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
        if recent >= MAX_RESETS_PER_HOUR {
            return Ok(None);
        }
        let link = self.insert_link(LinkKind::Reset, &user.org_id, &email, user.role, "self", RESET_TTL).await?;
        Ok(Some((user, link)))
    }

    /// The unused, unexpired link of `kind` behind `token`, if any.
    pub async fn pending_link(&self, kind: LinkKind, token: &str) -> Result<Option<PendingLink>> {
        let row = sqlx::query(
            "SELECT l.email, l.role, l.expires_at, o.id AS org_id, o.name AS org_name FROM user_links l \
             JOIN organizations o ON o.id = l.org_id \
             WHERE l.token_hash = $1 AND l.kind = $2 AND l.used_at IS NULL AND l.expires_at > $3",
        )
        .bind(auth::digest(token))
        .bind(kind.as_str())
        .bind(now_micros())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let role: String = row.try_get("role")?;
            let org: String = row.try_get("org_id")?;
            Ok(PendingLink {
                kind,
                email: row.try_get("email")?,
                org_id: org.parse().map_err(|e| corrupt("link", e))?,
                org_name: row.try_get("org_name")?,
                role: Role::parse(&role).ok_or_else(|| corrupt("link", role))?,
                expires_at: from_micros(row.try_get("expires_at")?),
            })
        })
        .transpose()
    }

    /// Accepts an invitation: the user is created with the invited role and `password`, and
    /// the link is spent, in one transaction.
    pub async fn accept_invite(&self, token: &str, password: &str) -> Result<User> {
        let link = self
            .pending_link(LinkKind::Invite, token)
            .await?
            .ok_or_else(|| Error::NotFound("invitation not found".into()))?;
        super::users::check_password(password)?;
        let hash = auth::hash_password_off_runtime(password).await?;
        let user = User {
            id: Uuid::now_v7(),
            org_id: link.org_id,
            email: link.email,
            role: link.role,
            created_at: Utc::now(),
        };
        let mut tx = self.begin_write().await?;
        spend(&mut tx, token).await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, org_id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(user.id.to_string())
        .bind(user.org_id.to_string())
        .bind(&user.email)
        .bind(hash)
        .bind(user.role.as_str())
        .bind(super::to_micros(user.created_at))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::Conflict(format!("{} already has an account", user.email)));
        }
        let detail = serde_json::json!({ "user_id": user.id, "email": user.email, "role": user.role.as_str() });
        self.audit_in(&mut tx, &user.org_id, &super::users::user_actor(user.id), "user.join", detail).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a new password through a reset link, spends the link and ends every session of
    /// the user (whoever knew the old password is signed out).
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<User> {
        let link = self
            .pending_link(LinkKind::Reset, token)
            .await?
            .ok_or_else(|| Error::NotFound("reset link not found".into()))?;
        super::users::check_password(password)?;
        let user = self.user_by_email(&link.email).await?.ok_or_else(|| Error::NotFound("user not found".into()))?;
        let hash = auth::hash_password_off_runtime(password).await?;
        let mut tx = self.begin_write().await?;
        spend(&mut tx, token).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id.to_string()).execute(&mut *tx).await?;
        let actor = super::users::user_actor(user.id);
        self.audit_in(&mut tx, &user.org_id, &actor, "user.password_reset", serde_json::json!({ "user_id": user.id }))
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn insert_link(
        &self,
        kind: LinkKind,
        org: &OrgId,
        email: &str,
        role: Role,
        by: &str,
        ttl: Duration,
    ) -> Result<NewLink> {
        let token = auth::generate_session_token();
        let now = now_micros();
        let expires = now + ttl.as_micros() as i64;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO user_links (token_hash, kind, org_id, email, role, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&token.hash)
        .bind(kind.as_str())
        .bind(org.to_string())
        .bind(email)
        .bind(role.as_str())
        .bind(by)
        .bind(now)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NewLink { token: token.plaintext, expires_at: from_micros(expires) })
    }
}

/// Marks the link used, unless another request spent it first.
async fn spend(tx: &mut super::WriteTx, token: &str) -> Result<()> {
    let spent = sqlx::query("UPDATE user_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now_micros())
        .bind(auth::digest(token))
        .execute(&mut **tx)
        .await?;
    if spent.rows_affected() == 0 {
        return Err(Error::NotFound("link not found".into()));
    }
    Ok(())
}
