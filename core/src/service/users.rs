//! People: invitations by email and password resets, each a one-time link sent over the
//! installation's SMTP server, and optional two-factor sign-in (TOTP).

use chrono::{DateTime, Utc};

use crate::access::{Actor, Capability, Role};
use crate::config::Config;
use crate::model::Sealed;
use crate::phi::PhiService;
use crate::sinks::email::EmailSender;
use crate::store::{Store, User};
use crate::totp;
use crate::{Error, FieldError, Result};

/// What the inviter is told.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// The SMTP sender, or a message saying there is none.
fn sender(config: &Config, what: &str) -> Result<EmailSender> {
    let timeout = std::time::Duration::from_secs(30);
    EmailSender::from_config(&config.sinks.smtp, timeout)?.ok_or_else(|| {
        FieldError::new("email", format!("this installation has no SMTP server (sinks.smtp.host) to send {what}"))
            .into()
    })
}

/// Invites `email` to the actor's organization as `role`, by a link that works once for seven
/// days. Inviting an owner needs the `manage_owners` permission.
pub async fn invite(store: &Store, config: &Config, actor: &Actor, email: &str, role: Role) -> Result<Invitation> {
    actor.require(Capability::ManageUsers)?;
    if role == Role::Owner {
        actor.require(Capability::ManageOwners)?;
    }
    let sender = sender(config, "invitations")?;
    let org =
        store.get_organization(&actor.org_id).await?.ok_or_else(|| Error::NotFound("organization not found".into()))?;
    let link = store.create_invite(&actor.org_id, email, role, &actor.audit_name()).await?;
    let email = email.trim().to_lowercase();
    let url = format!("{}/invite/{}", config.public_url.trim_end_matches('/'), link.token);
    let text = format!(
        "You have been invited to {org} on Aegis as {role}.\n\n\
         Choose a password to join: {url}\n\n\
         The link works once, until {expires} UTC. If you did not expect this, ignore this email.\n",
        org = org.name,
        role = role.as_str(),
        expires = link.expires_at.format("%Y-%m-%d %H:%M"),
    );
    let html = format!(
        "<p>You have been invited to <strong>{org}</strong> on Aegis as <strong>{role}</strong>.</p>\
         <p><a href=\"{url}\">Choose a password to join</a></p>\
         <p style=\"color:#666\">The link works once, until {expires} UTC. If you did not expect this, ignore this email.</p>",
        org = html_escape(&org.name),
        role = role.as_str(),
        expires = link.expires_at.format("%Y-%m-%d %H:%M"),
    );
    sender.send(&email, &format!("You are invited to {} on Aegis", org.name), text, html).await?;
    Ok(Invitation { email, role, expires_at: link.expires_at })
}

/// Sends a reset link, valid for an hour, if `email` has an account; says nothing either way,
/// so the answer reveals no accounts.
pub async fn request_password_reset(store: &Store, config: &Config, email: &str) -> Result<()> {
    let sender = sender(config, "password resets")?;
    let Some((user, link)) = store.create_password_reset(email).await? else { return Ok(()) };
    let url = format!("{}/reset/{}", config.public_url.trim_end_matches('/'), link.token);
    let text = format!(
        "Someone asked to reset the Aegis password of {email}.\n\n\
         Choose a new one: {url}\n\n\
         The link works once, for an hour. If it was not you, ignore this email; your password stays as it is.\n",
        email = user.email,
    );
    let html = format!(
        "<p>Someone asked to reset the Aegis password of {email}.</p>\
         <p><a href=\"{url}\">Choose a new password</a></p>\
         <p style=\"color:#666\">The link works once, for an hour. If it was not you, ignore this email; your password stays as it is.</p>",
        email = html_escape(&user.email),
    );
    sender.send(&user.email, "Reset your Aegis password", text, html).await
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a user needs to add Aegis to an authenticator app.
#[derive(Debug, Clone, PartialEq)]
pub struct TotpEnrolment {
    /// Base32, for typing in.
    pub secret: String,
    /// `otpauth://…`, for a QR code or pasting.
    pub uri: String,
}

/// The associated data a user's TOTP secret is sealed with: a sealed secret moved to another
/// user's row does not open.
fn totp_aad(user: &User) -> String {
    format!("totp:{}", user.id)
}

fn seal(phi: &PhiService, user: &User, secret: &str) -> String {
    let sealed = phi.org_keys(&user.org_id).seal(&totp_aad(user), secret);
    format!("{}:{}", hex::encode(sealed.nonce), hex::encode(sealed.ciphertext))
}

fn open(phi: &PhiService, user: &User, stored: &str) -> Result<String> {
    let corrupt = || Error::Internal("a stored TOTP secret is malformed".into());
    let (nonce, ciphertext) = stored.split_once(':').ok_or_else(corrupt)?;
    let sealed = Sealed {
        nonce: hex::decode(nonce).map_err(|_| corrupt())?,
        ciphertext: hex::decode(ciphertext).map_err(|_| corrupt())?,
    };
    phi.org_keys(&user.org_id).open(&totp_aad(user), &sealed)
}

/// Starts turning on two-factor sign-in: a new secret, pending until its first code is given.
pub async fn start_totp(store: &Store, phi: &PhiService, user: &User) -> Result<TotpEnrolment> {
    let secret = totp::generate_secret();
    store.set_totp_pending(user.id, &seal(phi, user, &secret)).await?;
    Ok(TotpEnrolment { uri: totp::provisioning_uri(&secret, &user.email, "Aegis"), secret })
}

/// Turns two-factor sign-in on, once a code from the pending secret proves the app has it.
pub async fn confirm_totp(store: &Store, phi: &PhiService, user: &User, code: &str, unix_now: i64) -> Result<()> {
    let (_, pending, _) = store.totp(user.id).await?;
    let pending = pending.ok_or_else(|| FieldError::new("code", "start setting up two-factor sign-in first"))?;
    let secret = open(phi, user, &pending)?;
    let step = totp::verify(&secret, code, unix_now, None)?
        .ok_or_else(|| FieldError::new("code", "is not the current code of this secret; check the phone's clock"))?;
    store.enable_totp(user.id, &pending, step).await
}

/// Turns two-factor sign-in off; a current code is needed, as for signing in.
pub async fn disable_totp(store: &Store, phi: &PhiService, user: &User, code: &str, unix_now: i64) -> Result<()> {
    if !second_factor(store, phi, user, Some(code), unix_now).await? {
        return Err(FieldError::new("code", "is not the current code").into());
    }
    store.disable_totp(user.id).await
}

/// Whether the user has two-factor sign-in on.
pub async fn has_totp(store: &Store, user: &User) -> Result<bool> {
    Ok(store.totp(user.id).await?.0.is_some())
}

/// The second factor of a sign-in: `true` when the user has none, or `code` is a current code
/// not used before (it is then spent).
pub async fn second_factor(
    store: &Store,
    phi: &PhiService,
    user: &User,
    code: Option<&str>,
    unix_now: i64,
) -> Result<bool> {
    let (Some(sealed), _, last) = store.totp(user.id).await? else { return Ok(true) };
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else { return Ok(false) };
    let secret = open(phi, user, &sealed)?;
    match totp::verify(&secret, code, unix_now, Some(last))? {
        Some(step) => store.use_totp_step(user.id, step).await,
        None => Ok(false),
    }
}
