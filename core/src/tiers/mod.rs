//! The evaluation cascade: modules grouped in tiers, cheapest first.
//!
//! Tier 0 checks that a trace is well-formed. Later tiers (deterministic domain validators,
//! trained classifiers, LLM judges, human review) plug in as further [`Module`]s.

mod well_formed;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

pub use well_formed::WellFormed;

use crate::model::{Evaluation, EvaluationStatus, Issue, ModuleResult, Severity, Trace};

/// One check of the cascade.
pub trait Module: Send + Sync {
    /// Stable name, shown in results and used in issue attributions.
    fn name(&self) -> &'static str;
    fn tier(&self) -> u8;
    /// The issues found in `trace`; none means the module passes it.
    fn check(&self, trace: &Trace) -> Vec<Issue>;
}

/// The ordered modules every trace goes through.
#[derive(Clone)]
pub struct Cascade {
    modules: Vec<Arc<dyn Module>>,
}

impl Default for Cascade {
    fn default() -> Self {
        Cascade { modules: vec![Arc::new(WellFormed)] }
    }
}

impl Cascade {
    pub fn new(mut modules: Vec<Arc<dyn Module>>) -> Cascade {
        modules.sort_by_key(|m| m.tier());
        Cascade { modules }
    }

    /// Runs every module over the trace and folds their findings into one verdict.
    pub fn evaluate(&self, trace: &Trace, attempts: u32) -> Evaluation {
        let started = Instant::now();
        let mut modules = Vec::with_capacity(self.modules.len());
        let mut issues = Vec::new();
        let mut tiers_run = Vec::new();
        for module in &self.modules {
            let t = Instant::now();
            let found = module.check(trace);
            let worst = found.iter().map(|i| i.severity).max().unwrap_or_default();
            modules.push(ModuleResult {
                name: module.name().to_string(),
                tier: module.tier(),
                verdict: verdict(worst),
                score: None,
                issues_found: found.len(),
                latency_ms: millis(t.elapsed()),
                cost_micro_usd: 0,
            });
            if !tiers_run.contains(&module.tier()) {
                tiers_run.push(module.tier());
            }
            issues.extend(found);
        }
        let severity = issues.iter().map(|i| i.severity).max().unwrap_or_default();
        Evaluation {
            trace_id: trace.trace_id,
            status: verdict(severity),
            severity,
            tiers_run,
            cost_micro_usd: modules.iter().map(|m| m.cost_micro_usd).sum(),
            modules,
            issues,
            latency_ms: millis(started.elapsed()),
            attempts,
            evaluated_at: Utc::now(),
        }
    }

    /// The result recorded when a trace could not be evaluated at all.
    pub fn failed(trace_id: uuid::Uuid, attempts: u32, error: &str) -> Evaluation {
        Evaluation {
            trace_id,
            status: EvaluationStatus::Error,
            severity: Severity::None,
            tiers_run: vec![],
            modules: vec![],
            issues: vec![Issue {
                code: "evaluation_failed".into(),
                module: "pipeline".into(),
                severity: Severity::None,
                message: format!("evaluation gave up after {attempts} attempts: {error}"),
                evidence: None,
            }],
            cost_micro_usd: 0,
            latency_ms: 0.0,
            attempts,
            evaluated_at: Utc::now(),
        }
    }
}

/// Milliseconds, to the microsecond: finer digits are noise.
fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1e3
}

/// High and critical issues fail a trace; medium ones need a human; low ones pass with a note.
fn verdict(worst: Severity) -> EvaluationStatus {
    match worst {
        Severity::Critical | Severity::High => EvaluationStatus::Fail,
        Severity::Medium => EvaluationStatus::NeedsReview,
        Severity::Low | Severity::None => EvaluationStatus::Pass,
    }
}
