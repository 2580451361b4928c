use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::{EvaluationStatus, Severity};
use crate::FieldError;

/// Longest accepted identifier-like string (application id, model name, step kind).
const MAX_NAME_CHARS: usize = 256;
/// Metadata is for filtering and grouping, not for payloads.
const MAX_METADATA_ENTRIES: usize = 64;
const MAX_METADATA_VALUE_CHARS: usize = 4096;
const MAX_STEPS: usize = 10_000;

/// A trace as an application submits it to `POST /api/v1/traces`.
///
/// Unknown fields are rejected so that a typo (`ai_procesing`) is an error the client sees,
/// not data silently dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<Uuid>,
    pub application_id: String,
    pub ai_processing: AiProcessing,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
}

/// What the model was asked and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiProcessing {
    pub model: String,
    pub input: String,
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// One step of an agent's trajectory: a tool call, a retrieval, an RL action...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// SDKs commonly send `null` for "nothing": treat it like an absent field.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl TraceInput {
    /// Bytes of free text de-identification reads, roughly: the input, the output and the
    /// strings inside the steps.
    fn text_bytes(&self) -> usize {
        fn strings(v: &serde_json::Value) -> usize {
            match v {
                serde_json::Value::String(s) => s.len(),
                serde_json::Value::Array(items) => items.iter().map(strings).sum(),
                serde_json::Value::Object(map) => map.iter().map(|(k, v)| k.len() + strings(v)).sum(),
                _ => 8,
            }
        }
        let steps: usize =
            self.steps.iter().map(|s| s.input.as_ref().map_or(0, strings) + s.output.as_ref().map_or(0, strings)).sum();
        self.ai_processing.input.len() + self.ai_processing.output.len() + steps
    }

    /// About what this trace takes in memory until it is stored: its texts (which the
    /// de-identified copy replaces) and the rest.
    pub fn approximate_bytes(&self) -> usize {
        let metadata: usize = self.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.text_bytes() + self.application_id.len() + self.ai_processing.model.len() + metadata + 256
    }

    /// The checks a type cannot express. The first problem found is returned, naming its field.
    pub fn validate(&self) -> Result<(), FieldError> {
        non_blank("application_id", &self.application_id)?;
        let ai = &self.ai_processing;
        non_blank("ai_processing.model", &ai.model)?;
        if let Some(latency) = ai.latency_ms {
            if !(latency.is_finite() && latency >= 0.0) {
                return Err(FieldError::new("ai_processing.latency_ms", "must be a non-negative number"));
            }
        }
        if self.steps.len() > MAX_STEPS {
            return Err(FieldError::new("steps", format!("at most {MAX_STEPS} steps")));
        }
        for (i, step) in self.steps.iter().enumerate() {
            non_blank("kind", &step.kind).map_err(|e| e.within(&format!("steps[{i}]")))?;
        }
        if self.metadata.len() > MAX_METADATA_ENTRIES {
            return Err(FieldError::new("metadata", format!("at most {MAX_METADATA_ENTRIES} entries")));
        }
        for (key, value) in &self.metadata {
            let field = || format!("metadata.{key}");
            if key.trim().is_empty() || key.chars().count() > MAX_NAME_CHARS {
                return Err(FieldError::new(field(), "keys must be 1 to 256 characters"));
            }
            if value.chars().count() > MAX_METADATA_VALUE_CHARS {
                return Err(FieldError::new(field(), "values must be at most 4096 characters"));
            }
        }
        if let Some(domain) = self.metadata.get("domain") {
            let valid = !domain.is_empty()
                && domain.len() <= 64
                && domain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
            if !valid {
                return Err(FieldError::new(
                    "metadata.domain",
                    "must be a domain name such as \"healthcare\": 1 to 64 of a-z, 0-9, '_' or '-'",
                ));
            }
        }
        Ok(())
    }

    /// The domain pack that should evaluate this trace, from `metadata.domain`.
    pub fn domain(&self) -> Option<&str> {
        self.metadata.get("domain").map(String::as_str)
    }
}

fn non_blank(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(field, format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    Ok(())
}

/// Where a trace is in its life: waiting for evaluation, or the evaluation's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceStatus {
    Queued,
    Pass,
    Fail,
    NeedsReview,
    Error,
}

impl TraceStatus {
    pub const ALL: [TraceStatus; 5] =
        [TraceStatus::Queued, TraceStatus::Pass, TraceStatus::Fail, TraceStatus::NeedsReview, TraceStatus::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            TraceStatus::Queued => "queued",
            TraceStatus::Pass => "pass",
            TraceStatus::Fail => "fail",
            TraceStatus::NeedsReview => "needs_review",
            TraceStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl From<EvaluationStatus> for TraceStatus {
    fn from(s: EvaluationStatus) -> Self {
        match s {
            EvaluationStatus::Pass => TraceStatus::Pass,
            EvaluationStatus::Fail => TraceStatus::Fail,
            EvaluationStatus::NeedsReview => TraceStatus::NeedsReview,
            EvaluationStatus::Error => TraceStatus::Error,
        }
    }
}

/// A stored trace, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub trace_id: Uuid,
    pub application_id: String,
    pub ai_processing: AiProcessing,
    pub steps: Vec<Step>,
    pub metadata: BTreeMap<String, String>,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub status: TraceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

impl Trace {
    /// The trace a submission becomes, before it is stored (used where nothing is stored:
    /// offline evaluation, previews).
    pub fn from_input(input: TraceInput, received_at: DateTime<Utc>) -> Trace {
        Trace {
            trace_id: input.trace_id.unwrap_or_else(Uuid::nil),
            application_id: input.application_id,
            ai_processing: input.ai_processing,
            steps: input.steps,
            metadata: input.metadata,
            timestamp: input.timestamp.unwrap_or(received_at),
            received_at,
            status: TraceStatus::Queued,
            severity: None,
        }
    }

    pub fn domain(&self) -> Option<&str> {
        self.metadata.get("domain").map(String::as_str)
    }
}

/// The few columns a list of traces shows; cheap to load for a whole page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    pub trace_id: Uuid,
    pub application_id: String,
    pub model: String,
    pub domain: Option<String>,
    pub input_preview: String,
    pub output_preview: String,
    pub timestamp: DateTime<Utc>,
    pub status: TraceStatus,
    pub severity: Option<Severity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> TraceInput {
        serde_json::from_value(serde_json::json!({
            "application_id": "triage-bot",
            "ai_processing": {"model": "gpt-4o", "input": "q", "output": "a"}
        }))
        .unwrap()
    }

    #[test]
    fn minimal_trace_is_valid() {
        assert_eq!(minimal().validate(), Ok(()));
    }

    #[test]
    fn null_steps_and_metadata_mean_none() {
        let t: TraceInput = serde_json::from_value(serde_json::json!({
            "application_id": "a",
            "ai_processing": {"model": "m", "input": "", "output": ""},
            "steps": null, "metadata": null
        }))
        .unwrap();
        assert!(t.steps.is_empty() && t.metadata.is_empty());
    }

    #[test]
    fn blank_fields_are_named() {
        let mut t = minimal();
        t.ai_processing.model = "  ".into();
        assert_eq!(t.validate().unwrap_err().field, "ai_processing.model");

        let mut t = minimal();
        t.steps.push(Step {
            kind: "".into(),
            name: None,
            input: None,
            output: None,
            reward: None,
            started_at: None,
            ended_at: None,
        });
        assert_eq!(t.validate().unwrap_err().field, "steps[0].kind");
    }

    #[test]
    fn domain_must_be_a_pack_name() {
        let mut t = minimal();
        t.metadata.insert("domain".into(), "Health Care".into());
        assert_eq!(t.validate().unwrap_err().field, "metadata.domain");
        t.metadata.insert("domain".into(), "healthcare".into());
        assert_eq!(t.validate(), Ok(()));
        assert_eq!(t.domain(), Some("healthcare"));
    }

    #[test]
    fn negative_latency_is_rejected() {
        let mut t = minimal();
        t.ai_processing.latency_ms = Some(-1.0);
        assert_eq!(t.validate().unwrap_err().field, "ai_processing.latency_ms");
    }

    #[test]
    fn status_names_round_trip() {
        for status in TraceStatus::ALL {
            assert_eq!(TraceStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
        }
    }
}
