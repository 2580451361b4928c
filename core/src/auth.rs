//! Secrets: API keys, passwords and session tokens.
//!
//! API keys and session tokens are 256-bit random values, so a fast SHA-256 digest is enough
//! to store them safely (there is nothing to brute-force); passwords are low-entropy and get
//! argon2id.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Every API key starts with this, so leaked keys are easy to recognise and scan for.
pub const API_KEY_PREFIX: &str = "aegis_sk_";
/// Characters of a key kept in clear to tell keys apart in listings.
const DISPLAY_PREFIX_CHARS: usize = 16;

/// A freshly generated secret: the plaintext (shown once) and what is stored.
#[derive(Debug, Clone)]
pub struct GeneratedSecret {
    pub plaintext: String,
    pub hash: String,
    /// The first characters, kept to identify the key in listings.
    pub display_prefix: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What a webhook signing secret starts with (the Standard Webhooks convention).
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A new webhook signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_webhook_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{WEBHOOK_SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(key))
}

pub fn generate_api_key() -> GeneratedSecret {
    let plaintext = format!("{API_KEY_PREFIX}{}", random_token());
    GeneratedSecret {
        hash: digest(&plaintext),
        display_prefix: plaintext.chars().take(DISPLAY_PREFIX_CHARS).collect(),
        plaintext,
    }
}

pub fn generate_session_token() -> GeneratedSecret {
    let plaintext = random_token();
    GeneratedSecret { hash: digest(&plaintext), display_prefix: String::new(), plaintext }
}

/// The stored form of an API key or session token.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

/// [`hash_password`] on a blocking thread: argon2 takes tens of milliseconds of CPU by design,
/// which must not hold up a thread of the async runtime.
pub async fn hash_password_off_runtime(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| crate::Error::Internal(format!("password hashing panicked: {e}")))?
}

/// [`verify_password`] on a blocking thread (see [`hash_password_off_runtime`]).
pub async fn verify_password_off_runtime(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_string(), stored.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &stored)).await.unwrap_or(false)
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// A readable random password for generated demo and first users.
pub fn generate_password() -> String {
    random_token().chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_unique_prefixed_and_hashed() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.starts_with(API_KEY_PREFIX));
        assert!(a.plaintext.len() > 40);
        assert_eq!(a.hash, digest(&a.plaintext));
        assert_ne!(a.hash, a.plaintext);
        assert!(a.plaintext.starts_with(&a.display_prefix));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("wrong horse", &stored));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
