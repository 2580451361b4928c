//! Labelled sets: the format of a pack's seed (`seed/*.jsonl`) and evaluation sets
//! (`eval/*.jsonl`), one case per line:
//! `{"id", "label": "safe"|"unsafe", "violations": [rule ids], "category"?, "note"?, "trace"}`
//! with `trace` a `POST /api/v1/traces` body.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::model::{Trace, TraceInput};
use crate::{Error, FieldError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Safe,
    Unsafe,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledCase {
    pub id: String,
    pub label: Label,
    #[serde(default)]
    pub violations: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// Why the case has its label, for the human reader.
    #[serde(default)]
    pub note: Option<String>,
    pub trace: TraceInput,
}

impl LabelledCase {
    /// The trace as it would be stored when received at `now`, and whether it is unsafe.
    pub fn into_labelled_trace(self, now: chrono::DateTime<Utc>) -> (Trace, bool) {
        (Trace::from_input(self.trace, now), self.label == Label::Unsafe)
    }
}

/// Reads a labelled JSONL file; errors name the line.
pub fn parse_jsonl(text: &str) -> Result<Vec<LabelledCase>> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: LabelledCase =
            serde_json::from_str(line).map_err(|e| Error::Malformed(format!("line {}: {e}", i + 1)))?;
        case.trace.validate().map_err(|e: FieldError| Error::Malformed(format!("line {}: trace.{e}", i + 1)))?;
        cases.push(case);
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        let err = parse_jsonl("\n{\"id\": \"x\"}\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
