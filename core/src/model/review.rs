//! Expert review: the human verdicts that are Aegis's ground truth.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Severity;

/// An expert's verdict on an AI answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewLabel {
    Safe,
    Unsafe,
}

impl ReviewLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewLabel::Safe => "safe",
            ReviewLabel::Unsafe => "unsafe",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewLabel> {
        [ReviewLabel::Safe, ReviewLabel::Unsafe].into_iter().find(|l| l.as_str() == s)
    }
}

/// One expert's review of one trace. Notes and the corrected output are de-identified like
/// the trace itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    pub trace_id: Uuid,
    /// Who reviewed: `user:<email>` from the dashboard, `api_key:<id>` through the API.
    pub reviewer: String,
    pub label: ReviewLabel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub issues: Vec<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A trace waiting in the expert review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub trace_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Why the cascade asked for a human.
    pub reason: String,
    /// Higher first.
    pub priority: f64,
    /// Reviews it has, and how many it needs (two for the share kept for agreement).
    pub reviews: u32,
    pub reviews_needed: u32,
    pub queued_at: DateTime<Utc>,
}

/// How often two experts agree on one domain's traces, beyond chance (Cohen's kappa over the
/// first two reviewers of every trace reviewed twice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub domain: String,
    /// Traces with two reviews by different reviewers.
    pub traces: u32,
    /// Share of those where both gave the same label.
    pub observed: f64,
    /// Agreement expected by chance from each side's label rates.
    pub expected: f64,
    /// `(observed - expected) / (1 - expected)`; none while undefined (no pairs, or both sides
    /// always gave one and the same label).
    pub kappa: Option<f64>,
}

/// One reviewer's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewerProgress {
    pub reviewer: String,
    /// Reviews since midnight UTC.
    pub today: u32,
    pub total: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<DateTime<Utc>>,
}

/// Cohen's kappa of paired binary labels.
pub fn cohens_kappa(pairs: &[(ReviewLabel, ReviewLabel)]) -> (f64, f64, Option<f64>) {
    if pairs.is_empty() {
        return (0.0, 0.0, None);
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let share = |f: fn(&(ReviewLabel, ReviewLabel)) -> ReviewLabel| {
        pairs.iter().filter(|p| f(p) == ReviewLabel::Safe).count() as f64 / n
    };
    let (a_safe, b_safe) = (share(|p| p.0), share(|p| p.1));
    let expected = a_safe * b_safe + (1.0 - a_safe) * (1.0 - b_safe);
    let kappa = (expected < 1.0).then(|| (observed - expected) / (1.0 - expected));
    (observed, expected, kappa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewLabel::{Safe, Unsafe};

    #[test]
    fn kappa_matches_a_worked_example() {
        // 50 items: both safe 20, both unsafe 15, A safe/B unsafe 5, A unsafe/B safe 10.
        let mut pairs = vec![(Safe, Safe); 20];
        pairs.extend(vec![(Unsafe, Unsafe); 15]);
        pairs.extend(vec![(Safe, Unsafe); 5]);
        pairs.extend(vec![(Unsafe, Safe); 10]);
        let (observed, expected, kappa) = cohens_kappa(&pairs);
        assert!((observed - 0.7).abs() < 1e-12);
        // A safe 25/50, B safe 30/50: 0.5*0.6 + 0.5*0.4 = 0.5.
        assert!((expected - 0.5).abs() < 1e-12);
        assert!((kappa.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(cohens_kappa(&[(Safe, Safe), (Safe, Safe)]).2, None, "undefined without variation");
        assert_eq!(cohens_kappa(&[]).2, None);
        assert_eq!(cohens_kappa(&[(Safe, Unsafe), (Unsafe, Safe)]).2, Some(-1.0));
    }
}

/// Where a registered model stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStage {
    Staging,
    Production,
    Archived,
}

impl ModelStage {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStage::Staging => "staging",
            ModelStage::Production => "production",
            ModelStage::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<ModelStage> {
        [ModelStage::Staging, ModelStage::Production, ModelStage::Archived].into_iter().find(|m| m.as_str() == s)
    }
}

/// A Tier 2 model in an organization's registry (its weights stay in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub id: String,
    pub domain: String,
    pub tier: u8,
    pub version: String,
    pub stage: ModelStage,
    /// Measured on the held-out fifth of its labels: `accuracy`, `precision`, `recall`,
    /// `brier`, `ece`, `training_size`, `held_out_size`, `training_seconds`.
    pub metrics: serde_json::Value,
    /// Expert reviews among its training labels (the rest are the pack's seed set).
    pub reviews_used: u32,
    /// How it compared with the model in production when it was registered.
    pub note: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<DateTime<Utc>>,
}
