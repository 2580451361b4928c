use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The verdict on a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationStatus {
    Pass,
    Fail,
    NeedsReview,
    /// The evaluation itself could not complete (after all retries).
    Error,
}

impl EvaluationStatus {
    pub const ALL: [EvaluationStatus; 4] =
        [EvaluationStatus::Pass, EvaluationStatus::Fail, EvaluationStatus::NeedsReview, EvaluationStatus::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            EvaluationStatus::Pass => "pass",
            EvaluationStatus::Fail => "fail",
            EvaluationStatus::NeedsReview => "needs_review",
            EvaluationStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// How bad an issue is. Ordered: `None < Low < ... < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::None, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|severity| severity.as_str() == s)
    }
}

/// Where in the trace an issue was found; offsets are in Unicode code points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One problem a module found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable machine name, e.g. `empty_output`, `medication_overdose`.
    pub code: String,
    /// The module that raised it.
    pub module: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// What the issue is about: the drug, the drug pair, the symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// One value of a dimension the domain dashboards break evaluations down by: a metadata key
/// the pack names (`meta.specialty`), the subject of an issue (`issue.medication_overdose`:
/// `acetaminophen`), or the trajectory's profit and loss (`pnl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    pub name: String,
    pub value: String,
    /// The trajectory's total reward in hundredths, summed by the dashboards; 0 without one.
    #[serde(default)]
    pub amount: i64,
}

/// The PnL buckets of the trading dashboard, in order.
pub const PNL_BUCKETS: [&str; 8] =
    ["< -10k", "-10k to -1k", "-1k to -100", "-100 to 0", "0 to 100", "100 to 1k", "1k to 10k", "> 10k"];

/// The bucket of a total reward.
pub fn pnl_bucket(pnl: f64) -> &'static str {
    let bounds = [-10_000.0, -1_000.0, -100.0, 0.0, 100.0, 1_000.0, 10_000.0];
    let i = bounds.iter().position(|b| pnl < *b).unwrap_or(bounds.len());
    PNL_BUCKETS[i]
}

/// What one module of one tier concluded, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleResult {
    pub name: String,
    pub tier: u8,
    pub verdict: EvaluationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub issues_found: usize,
    pub latency_ms: f64,
    pub cost_micro_usd: i64,
    /// What else is worth knowing: the model version of Tier 2, the judge's reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why the cascade went up a tier, or stopped, after `after_tier`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub after_tier: u8,
    /// The tier it went on to (4: human review); none when it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_tier: Option<u8>,
    pub reason: String,
}

/// What one tier cost for one trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierCost {
    pub tier: u8,
    pub cost_micro_usd: i64,
}

/// A trace sent to the expert review queue (Tier 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRequest {
    pub reason: String,
    /// Higher first: worse findings, then more uncertain ones.
    pub priority: f64,
}

/// The full result of evaluating one trace: `GET /api/v1/evaluations/{trace_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub trace_id: Uuid,
    pub status: EvaluationStatus,
    pub severity: Severity,
    pub tiers_run: Vec<u8>,
    pub modules: Vec<ModuleResult>,
    pub issues: Vec<Issue>,
    pub cost_micro_usd: i64,
    pub latency_ms: f64,
    pub attempts: u32,
    pub evaluated_at: DateTime<Utc>,
    /// The domain pack that judged the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The cascade's path: why each tier ran or did not.
    #[serde(default)]
    pub escalation: Vec<Decision>,
    #[serde(default)]
    pub cost_by_tier: Vec<TierCost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewRequest>,
    /// What the domain dashboards count this evaluation under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facets: Vec<Facet>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnl_buckets_cover_every_value() {
        assert_eq!(pnl_bucket(-50_000.0), "< -10k");
        assert_eq!(pnl_bucket(-0.01), "-100 to 0");
        assert_eq!(pnl_bucket(0.0), "0 to 100");
        assert_eq!(pnl_bucket(10_000.0), "> 10k");
    }

    #[test]
    fn severities_are_ordered() {
        assert!(Severity::None < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        assert_eq!(Severity::ALL.iter().max(), Some(&Severity::Critical));
    }

    #[test]
    fn names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for s in EvaluationStatus::ALL {
            assert_eq!(EvaluationStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
