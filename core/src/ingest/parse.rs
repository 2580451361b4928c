//! JSON → [`TraceInput`], with errors that name the field at fault.
//!
//! A syntax error (not JSON, truncated) is [`Error::Malformed`]; valid JSON with a missing,
//! unknown or mistyped field is [`Error::Invalid`] with a path like `steps[2].started_at`.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::model::TraceInput;
use crate::{Error, FieldError, Result};

/// Most traces accepted in one batch request.
pub const MAX_BATCH: usize = 1_000;

const TIMESTAMP_FIELDS: [&str; 3] = ["timestamp", "started_at", "ended_at"];

/// Parses and validates one trace. `prefix` is prepended to field names (`traces[3]`).
pub fn parse_trace(json: &[u8], prefix: &str) -> Result<TraceInput> {
    let trace: TraceInput = parse_json(json, prefix)?;
    trace.validate().map_err(|e| Error::Invalid(if prefix.is_empty() { e } else { e.within(prefix) }))?;
    Ok(trace)
}

/// Splits a batch body `{"traces": [...]}` into its items, still unparsed, so that each item
/// can fail on its own.
pub fn parse_batch(json: &[u8]) -> Result<Vec<Box<RawValue>>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Batch {
        traces: Vec<Box<RawValue>>,
    }
    let batch: Batch = parse_json(json, "")?;
    if batch.traces.is_empty() {
        return Err(FieldError::new("traces", "must contain at least one trace").into());
    }
    if batch.traces.len() > MAX_BATCH {
        return Err(FieldError::new("traces", format!("at most {MAX_BATCH} traces per batch")).into());
    }
    Ok(batch.traces)
}

/// Deserializes JSON, turning serde's errors into ones that name the field.
pub fn parse_json<T: DeserializeOwned>(json: &[u8], prefix: &str) -> Result<T> {
    if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: say so, unless it is not JSON at all.
        serde_json::from_slice::<serde::de::IgnoredAny>(json)
            .map_err(|e| Error::Malformed(without_position(&e.to_string())))?;
        let field = if prefix.is_empty() { "body" } else { prefix };
        return Err(FieldError::new(field, "must be a JSON object").into());
    }
    // The fast path parses once; only a failure pays for tracking the path to name the field.
    if let Ok(value) = serde_json::from_slice(json) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(json);
    match serde_path_to_error::deserialize(de) {
        Ok(value) => Ok(value),
        Err(e) => Err(json_error(e, prefix)),
    }
}

fn json_error(err: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> Error {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = without_position(&inner.to_string());
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::Malformed(message),
        Category::Data => {
            let mut field = join(prefix, if path == "." { "" } else { &path });
            // serde reports a missing field at its parent; name the field itself.
            if let Some(name) = backticked(&message, "missing field `") {
                field = join(&field, name);
            }
            let last = field.rsplit('.').next().unwrap_or_default();
            let message = if TIMESTAMP_FIELDS.contains(&last) && !message.starts_with("invalid type") {
                "must be an RFC 3339 timestamp such as 2026-11-26T09:30:00Z".to_string()
            } else if last == "trace_id" && !message.starts_with("invalid type") {
                format!("must be a UUID such as 0b7c6a36-3f57-4b7e-9a51-2d1f0c1e9a11 ({message})")
            } else {
                message.replace("expected u32", "expected a whole number from 0 to 4294967295")
            };
            let field = if field.is_empty() { "body".to_string() } else { field };
            Error::Invalid(FieldError::new(field, message))
        }
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

fn backticked<'a>(message: &'a str, lead: &str) -> Option<&'a str> {
    message.strip_prefix(lead)?.split('`').next()
}

/// serde_json appends " at line 1 column 42"; the field name says more to an API client.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(json: &str) -> FieldError {
        match parse_trace(json.as_bytes(), "") {
            Err(Error::Invalid(e)) => e,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    const OK: &str = r#"{"application_id":"a","ai_processing":{"model":"m","input":"i","output":"o"}}"#;

    #[test]
    fn accepts_a_minimal_trace() {
        let t = parse_trace(OK.as_bytes(), "").unwrap();
        assert_eq!(t.ai_processing.model, "m");
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(parse_trace(b"{\"application_id\": ", ""), Err(Error::Malformed(_))));
        assert!(matches!(parse_trace(b"not json", ""), Err(Error::Malformed(_))));
    }

    #[test]
    fn missing_fields_are_named() {
        let e = invalid(r#"{"application_id":"a","ai_processing":{"input":"i","output":"o"}}"#);
        assert_eq!(e.field, "ai_processing.model");
        assert_eq!(e.message, "missing field `model`");
        assert_eq!(invalid(r#"{"ai_processing":{"model":"m","input":"i","output":"o"}}"#).field, "application_id");
    }

    #[test]
    fn wrong_types_are_named() {
        let e = invalid(
            r#"{"application_id":"a","ai_processing":{"model":"m","input":"i","output":"o","prompt_tokens":"many"}}"#,
        );
        assert_eq!(e.field, "ai_processing.prompt_tokens");
        let e = invalid(
            r#"{"application_id":"a","ai_processing":{"model":"m","input":"i","output":"o"},"metadata":{"n":3}}"#,
        );
        assert_eq!(e.field, "metadata.n");
        let e = invalid(
            r#"{"application_id":"a","ai_processing":{"model":"m","input":"i","output":"o"},"steps":[{"kind":"tool"},{"kind":"tool","started_at":"yesterday"}]}"#,
        );
        assert_eq!(e.field, "steps[1].started_at");
        assert!(e.message.contains("RFC 3339"));
        let e = invalid(
            r#"{"trace_id":"nope","application_id":"a","ai_processing":{"model":"m","input":"i","output":"o"}}"#,
        );
        assert_eq!(e.field, "trace_id");
        assert_eq!(invalid("[1]").field, "body");
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = invalid(r#"{"application_id":"a","ai_procesing":{}}"#);
        assert_eq!(e.field, "ai_procesing");
    }

    #[test]
    fn batch_items_fail_alone_with_their_index() {
        let items = parse_batch(format!(r#"{{"traces":[{OK},{{"application_id":"a"}}]}}"#).as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        assert!(parse_trace(items[0].get().as_bytes(), "traces[0]").is_ok());
        match parse_trace(items[1].get().as_bytes(), "traces[1]") {
            Err(Error::Invalid(e)) => assert_eq!(e.field, "traces[1].ai_processing"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn batch_size_is_bounded() {
        assert!(matches!(parse_batch(br#"{"traces":[]}"#), Err(Error::Invalid(e)) if e.field == "traces"));
        let many = format!(r#"{{"traces":[{}]}}"#, vec![OK; MAX_BATCH + 1].join(","));
        assert!(matches!(parse_batch(many.as_bytes()), Err(Error::Invalid(e)) if e.field == "traces"));
    }
}
