//! Time-based one-time passwords (RFC 6238, with RFC 4226's HOTP): six digits from an
//! HMAC-SHA1 of the 30-second step, as authenticator apps compute them.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha1::Sha1;

use crate::{FieldError, Result};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
/// Steps before and after now whose codes are accepted: a phone's clock may be a little off.
const SKEW_STEPS: i64 = 1;

/// A new shared secret: 160 random bits in base32, as RFC 4226 recommends.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// The step a Unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

fn decode(secret: &str) -> Result<Vec<u8>> {
    let cleaned: String =
        secret.chars().filter(|c| !c.is_whitespace() && *c != '=').flat_map(char::to_uppercase).collect();
    BASE32_NOPAD.decode(cleaned.as_bytes()).map_err(|_| FieldError::new("secret", "is not base32").into())
}

/// The code for `step`.
pub fn code_at_step(secret: &str, step: i64) -> Result<String> {
    let key = decode(secret)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).map_err(|e| crate::Error::Internal(e.to_string()))?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    Ok(format!("{:0width$}", binary % 10u32.pow(DIGITS), width = DIGITS as usize))
}

/// The step whose code `code` is, within the allowed skew of `now` and later than `after`
/// (a code is used once), if any.
pub fn verify(secret: &str, code: &str, unix_now: i64, after: Option<i64>) -> Result<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let now = step_of(unix_now);
    for step in now - SKEW_STEPS..=now + SKEW_STEPS {
        if after.is_some_and(|last| step <= last) {
            continue;
        }
        if constant_time_eq(code_at_step(secret, step)?.as_bytes(), code.as_bytes()) {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI an authenticator app imports (as a QR code or pasted).
pub fn provisioning_uri(secret: &str, account: &str, issuer: &str) -> String {
    // Percent-encoding of all but RFC 3986's unreserved characters.
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 seed "12345678901234567890", eight digits there; the
    /// last six of each are what six-digit codes give.
    #[test]
    fn matches_the_rfc_test_vectors() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at_step(&secret, step_of(time)).unwrap(), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_near_its_time_and_once() {
        let secret = generate_secret();
        let now = 1_800_000_000;
        let code = code_at_step(&secret, step_of(now)).unwrap();
        let step = verify(&secret, &code, now + 20, None).unwrap().expect("within the skew");
        assert_eq!(verify(&secret, &code, now, Some(step)).unwrap(), None, "not twice");
        assert_eq!(verify(&secret, &code, now + 5 * STEP_SECS, None).unwrap(), None, "not much later");
        assert_eq!(verify(&secret, "12 34", now, None).unwrap(), None);
        assert!(provisioning_uri(&secret, "ana@acme.test", "Aegis")
            .starts_with("otpauth://totp/Aegis:ana%40acme.test?secret="));
    }
}
