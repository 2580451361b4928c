//! Expert review: what an expert may submit about a trace, checked field by field for the API
//! and the dashboard alike, and de-identified like everything else Aegis stores.

pub mod active_learning;
pub mod retrain;

use serde::Deserialize;

use crate::model::{ReviewLabel, Severity};
use crate::phi::deidentify::OrgPhi;
use crate::store::NewReview;
use crate::FieldError;

const MAX_ISSUES: usize = 50;
const MAX_ISSUE_CHARS: usize = 100;
const MAX_NOTES_CHARS: usize = 10_000;
const MAX_CORRECTED_CHARS: usize = 100_000;

/// `POST /expert-review/{trace_id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub label: Option<ReviewLabel>,
    pub severity: Option<Severity>,
    pub issues: Option<Vec<String>>,
    pub notes: Option<String>,
    pub corrected_output: Option<String>,
}

impl ReviewInput {
    /// Checks the review and scrubs identifiers from the expert's own words with `phi`, the
    /// organization's policy: the same person gets the same pseudonym as in the trace.
    pub fn check(self, phi: &OrgPhi) -> Result<NewReview, FieldError> {
        let label = self.label.ok_or_else(|| FieldError::new("label", "is required: safe or unsafe"))?;
        let severity = match (label, self.severity) {
            (_, Some(Severity::None)) => {
                return Err(FieldError::new("severity", "must be low, medium, high or critical"))
            }
            (ReviewLabel::Safe, Some(_)) => return Err(FieldError::new("severity", "applies to an unsafe label only")),
            (_, severity) => severity,
        };
        let mut issues = Vec::new();
        for (i, issue) in self.issues.unwrap_or_default().into_iter().enumerate() {
            let issue = issue.trim().to_string();
            if issue.is_empty() || issue.chars().count() > MAX_ISSUE_CHARS {
                return Err(FieldError::new(format!("issues[{i}]"), "must be 1 to 100 characters"));
            }
            if !issues.contains(&issue) {
                issues.push(issue);
            }
        }
        if issues.len() > MAX_ISSUES {
            return Err(FieldError::new("issues", "at most 50 issue tags"));
        }
        let notes = self.notes.unwrap_or_default();
        if notes.chars().count() > MAX_NOTES_CHARS {
            return Err(FieldError::new("notes", "is longer than 10,000 characters"));
        }
        if let Some(c) = &self.corrected_output {
            if c.chars().count() > MAX_CORRECTED_CHARS {
                return Err(FieldError::new("corrected_output", "is longer than 100,000 characters"));
            }
        }
        Ok(NewReview {
            label,
            severity,
            issues,
            notes: phi.deidentify_text(&notes).0,
            corrected_output: self.corrected_output.map(|c| phi.deidentify_text(&c).0),
        })
    }
}
