//! The evaluation cascade: modules grouped in tiers, cheapest first.
//!
//! Tier 0 checks that a trace is well-formed; Tier 1 runs the deterministic validators of the
//! trace's domain pack ([`rules`]). Later tiers (trained classifiers, LLM judges, human review)
//! plug in as further [`Module`]s.

pub mod classifier;
pub mod rules;
mod well_formed;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

pub use well_formed::WellFormed;

use crate::domains::{DomainSet, Domains, Facts};
use crate::model::{Evaluation, EvaluationStatus, Issue, ModuleResult, Severity, Trace};

/// One check of the cascade.
pub trait Module: Send + Sync {
    /// Stable name, shown in results and used in issue attributions.
    fn name(&self) -> &str;
    fn tier(&self) -> u8;
    /// The issues found; none means the module passes the trace.
    fn check(&self, facts: &Facts<'_>) -> Vec<Issue>;
}

/// The modules every trace goes through, and the domain packs that add their own.
#[derive(Clone)]
pub struct Cascade {
    modules: Vec<Arc<dyn Module>>,
    domains: Domains,
}

impl Default for Cascade {
    fn default() -> Self {
        Cascade::new(Domains::fixed(DomainSet::default()))
    }
}

impl Cascade {
    pub fn new(domains: Domains) -> Cascade {
        Cascade { modules: vec![Arc::new(WellFormed)], domains }
    }

    pub fn domains(&self) -> &Domains {
        &self.domains
    }

    /// Runs Tier 0 and the trace's domain rules, and folds their findings into one verdict.
    pub fn evaluate(&self, trace: &Trace, attempts: u32) -> Evaluation {
        let started = Instant::now();
        let set = self.domains.current();
        let domain = trace.domain().and_then(|d| set.route(d));
        let facts = match domain {
            Some(d) => d.facts(trace),
            None => Facts::bare(trace),
        };
        let domain_modules = domain.into_iter().flat_map(|d| d.rules.iter().map(|r| r as &dyn Module));
        let all: Vec<&dyn Module> = self.modules.iter().map(|m| m.as_ref()).chain(domain_modules).collect();
        let mut modules = Vec::with_capacity(all.len());
        let mut issues = Vec::new();
        let mut tiers_run = Vec::new();
        for module in all {
            let t = Instant::now();
            let found = module.check(&facts);
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
