//! Values that must never be printed.

use serde::{Deserialize, Serialize};

/// A configuration value that must never be printed: its `Debug` and its serialized form are
/// `<redacted>`, so that no log line, error, dump or health answer can carry it.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_neither_print_nor_serialize() {
        let secret = Secret("sk-live-123".into());
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"<redacted>\"");
        let read: Secret = serde_json::from_str("\"sk-live-123\"").unwrap();
        assert!(read == secret, "it is still read");
    }
}
