//! The re-identification vault's cryptography: a master key that never enters the database,
//! per-organization keys derived from it, and AES-256-GCM for every stored original.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

use crate::model::{OrgId, Sealed};
use crate::{Error, Result};

/// The master key: from `AEGIS_VAULT_KEY`, or a key file that Aegis generates once (mode 0600).
#[derive(Clone)]
pub struct VaultKey {
    master: [u8; 32],
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(redacted)")
    }
}

/// What an organization's data is protected with.
#[derive(Clone)]
pub struct OrgKeys {
    /// Keys the HMAC behind pseudonyms.
    pub pseudonym: [u8; 32],
    vault: [u8; 32],
}

impl VaultKey {
    pub fn from_bytes(master: [u8; 32]) -> VaultKey {
        VaultKey { master }
    }

    /// A key given as 32 bytes in base64 or hex.
    pub fn parse(text: &str) -> Result<VaultKey> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .or_else(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok())
            .ok_or_else(|| Error::Config("the vault key must be 32 bytes in base64 or hex".into()))?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| Error::Config(format!("the vault key must be 32 bytes, not {}", b.len())))?;
        Ok(VaultKey { master })
    }

    /// The key from `inline` if given, else the key file at `path`, created on first use.
    pub fn load(inline: Option<&str>, path: &Path) -> Result<VaultKey> {
        if let Some(text) = inline {
            return VaultKey::parse(text);
        }
        match std::fs::read_to_string(path) {
            Ok(text) => VaultKey::parse(&text)
                .map_err(|e| Error::Config(format!("the vault key file {} is unusable: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => VaultKey::generate(path),
            Err(e) => Err(Error::Config(format!("cannot read the vault key file {}: {e}", path.display()))),
        }
    }

    fn generate(path: &Path) -> Result<VaultKey> {
        let mut master = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut master);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(base64::engine::general_purpose::STANDARD.encode(master).as_bytes())?;
                file.sync_all()?;
                tracing::warn!(path = %path.display(), "generated a new vault key file; back it up, and give every node the same key (AEGIS_VAULT_KEY)");
                Ok(VaultKey { master })
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => VaultKey::load(None, path),
            Err(e) => Err(Error::Config(format!("cannot create the vault key file {}: {e}", path.display()))),
        }
    }

    /// Identifies the key without revealing it, so that nodes can check they share one.
    pub fn fingerprint(&self) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.master).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(b"aegis vault key fingerprint");
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    pub fn org(&self, org: &OrgId) -> OrgKeys {
        let hk = Hkdf::<Sha256>::new(Some(b"aegis-vault-v1"), &self.master);
        let mut pseudonym = [0u8; 32];
        let mut vault = [0u8; 32];
        let org = org.to_string();
        // Expanding 32 bytes from a 32-byte PRK cannot fail.
        let _ = hk.expand(format!("pseudonym {org}").as_bytes(), &mut pseudonym);
        let _ = hk.expand(format!("vault {org}").as_bytes(), &mut vault);
        OrgKeys { pseudonym, vault }
    }
}

/// Where the generated key file lives by default.
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("vault.key")
}

impl OrgKeys {
    /// Encrypts an original; the token is bound in as associated data, so a ciphertext
    /// moved to another token's row does not decrypt.
    pub fn seal(&self, token: &str, original: &str) -> Sealed {
        let cipher = Aes256Gcm::new((&self.vault).into());
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: original.as_bytes(), aad: token.as_bytes() })
            .unwrap_or_else(|_| unreachable!("AES-GCM encryption of a short text cannot fail"));
        Sealed { nonce: nonce.to_vec(), ciphertext }
    }

    pub fn open(&self, token: &str, sealed: &Sealed) -> Result<String> {
        if sealed.nonce.len() != 12 {
            return Err(Error::Internal("a vault entry has a malformed nonce".into()));
        }
        let cipher = Aes256Gcm::new((&self.vault).into());
        let plain = cipher
            .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: token.as_bytes() })
            .map_err(|_| Error::Internal("a vault entry does not decrypt: wrong vault key or tampered row".into()))?;
        String::from_utf8(plain).map_err(|_| Error::Internal("a vault entry is not text".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_per_organization_and_token() {
        let key = VaultKey::from_bytes([3; 32]);
        let (a, b) = (OrgId(uuid::Uuid::new_v4()), OrgId(uuid::Uuid::new_v4()));
        let sealed = key.org(&a).seal("[NAME_1]", "Maria Garcia");
        assert!(!sealed.ciphertext.windows(5).any(|w| w == b"Maria"), "no plaintext in the ciphertext");
        assert_eq!(key.org(&a).open("[NAME_1]", &sealed).unwrap(), "Maria Garcia");
        assert!(key.org(&b).open("[NAME_1]", &sealed).is_err(), "another organization's key");
        assert!(key.org(&a).open("[NAME_2]", &sealed).is_err(), "another token's row");
        assert_ne!(key.org(&a).pseudonym, key.org(&b).pseudonym);
    }

    #[test]
    fn key_files_are_generated_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_key_path(dir.path());
        let first = VaultKey::load(None, &path).unwrap();
        let again = VaultKey::load(None, &path).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let inline = VaultKey::load(Some(&hex::encode([9u8; 32])), &path).unwrap();
        assert_ne!(inline.fingerprint(), first.fingerprint());
        assert!(VaultKey::parse("too short").is_err());
    }
}
