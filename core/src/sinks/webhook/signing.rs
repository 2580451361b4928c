//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, keyed by the base64 bytes after `whsec_`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::WEBHOOK_SECRET_PREFIX as PREFIX;

/// `v1,<signature>` of one message attempt.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix(PREFIX).unwrap_or(secret))
        .map_err(|e| format!("the endpoint's secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated (two while a
/// rotated-out secret is still honoured).
pub fn signature_header(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let signatures: Result<Vec<String>, String> = secrets.iter().map(|s| sign(s, msg_id, timestamp, body)).collect();
    Ok(signatures?.join(" "))
}

/// Whether any signature in `header` is `secret`'s for this message: what a receiver checks.
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Ok(expected) = sign(secret, msg_id, timestamp, body) else { return false };
    header.split(' ').any(|candidate| {
        // Constant time, as receivers should.
        candidate.len() == expected.len()
            && candidate.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks spec and its reference libraries.
    #[test]
    fn matches_the_reference_signature() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, &format!("v1,bogus {signature}")));
        assert!(!verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, &signature));
    }

    /// The spec's own Python library (`standardwebhooks` from PyPI) accepts what we send.
    #[test]
    fn the_reference_verifier_accepts_our_signatures() {
        let secret = crate::auth::new_webhook_secret();
        let body = r#"{"type":"evaluation.completed","timestamp":"2026-11-27T10:00:00Z","data":{"trace_id":"x"}}"#;
        let timestamp = chrono::Utc::now().timestamp();
        let header =
            signature_header(&[&secret, &crate::auth::new_webhook_secret()], "msg_abc", timestamp, body.as_bytes())
                .unwrap();
        let script = "import sys, json\n\
            from standardwebhooks.webhooks import Webhook\n\
            secret, msg_id, ts, sig = sys.argv[1:5]\n\
            body = sys.stdin.read()\n\
            out = Webhook(secret).verify(body, {'webhook-id': msg_id, 'webhook-timestamp': ts, 'webhook-signature': sig})\n\
            print(json.dumps(out))";
        let run = |signature: &str| {
            use std::io::Write as _;
            let mut child = std::process::Command::new("python3")
                .args(["-c", script, &secret, "msg_abc", &timestamp.to_string(), signature])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("python3 runs");
            child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        };
        let ok = run(&header);
        assert!(
            ok.status.success(),
            "standardwebhooks refused it (is it installed? scripts/tools.sh ensure_python_test_packages): {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).contains("evaluation.completed"));
        let tampered = run(&sign(&crate::auth::new_webhook_secret(), "msg_abc", timestamp, body.as_bytes()).unwrap());
        assert!(!tampered.status.success(), "another secret's signature is refused");
    }

    #[test]
    fn rotation_sends_both_signatures() {
        let (old, new) = (crate::auth::new_webhook_secret(), crate::auth::new_webhook_secret());
        assert!(old.starts_with("whsec_") && old != new);
        let header = signature_header(&[&new, &old], "msg_1", 1, b"{}").unwrap();
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&old, "msg_1", 1, b"{}", &header) && verify(&new, "msg_1", 1, b"{}", &header));
    }
}
