//! The evaluation cascade: cheap tiers first, dearer ones only when the cheap ones cannot settle
//! the verdict.
//!
//! - Tier 0 checks that a trace is well-formed.
//! - Tier 1 runs the deterministic validators of the trace's domain pack
//!   ([`crate::domains::rules`]).
//! - Tier 2 scores the trace with the pack's trained classifier
//!   ([`crate::domains::classifier`]), or the organization's own from the registry.
//! - Tier 3 asks an LLM judge ([`judge`]), within the organization's daily budget.
//! - Tier 4 sends the trace to human review with the reason.
//!
//! Which tier runs next follows the pack's `escalation` and `tier2` settings; every decision is
//! recorded with its reason in [`Evaluation::escalation`].

pub mod judge;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use self::judge::{Judge, Verdict};
use crate::domains::classifier::ClassifierModel;
use crate::domains::rules::{deterministic_modules, Module};
use crate::domains::{Domain, DomainSet, Domains, Facts};
use crate::model::{
    pnl_bucket, Decision, Evaluation, EvaluationStatus, Facet, Issue, ModuleResult, ReviewRequest, Severity, TierCost,
    Trace,
};

/// The issue of a trace whose domain no loaded pack serves.
pub const UNKNOWN_DOMAIN: &str = "unknown_domain";

/// What the worker knows that the cascade does not.
#[derive(Debug, Clone)]
pub struct Context {
    pub attempts: u32,
    /// The organization still has judge budget today.
    pub judge_allowed: bool,
    /// The modules the organization switched off, as `domain/module`.
    pub disabled: Arc<HashSet<String>>,
    /// The organization's daily allowance of judge calls; none: no limit.
    pub judge_calls: Option<JudgeCalls>,
    /// The organization's own Tier 2 models in production, by domain; others use the pack's.
    pub models: Arc<std::collections::HashMap<String, Arc<ClassifierModel>>>,
    /// The trace's organization: its own packs route before the shared ones. `None` (tools,
    /// tests) routes to the shared packs only.
    pub org: Option<crate::model::OrgId>,
}

/// Where a judge call is taken from the organization's daily allowance.
#[derive(Debug, Clone)]
pub struct JudgeCalls {
    pub limits: crate::limits::Limits,
    pub org: crate::model::OrgId,
    pub plan: Option<String>,
}

impl JudgeCalls {
    /// Takes one call; a limiter that cannot answer lets the call through rather than
    /// sending every trace to an expert.
    async fn take(&self) -> bool {
        match self.limits.take_judge_call(&self.org, self.plan.as_deref()).await {
            Ok(allowed) => allowed,
            Err(e) => {
                tracing::warn!(error = %e, "judge-call limit unavailable; allowing the call");
                true
            }
        }
    }
}

impl Default for Context {
    /// A first attempt, with budget, every module on.
    fn default() -> Self {
        Context {
            attempts: 1,
            judge_allowed: true,
            disabled: Arc::default(),
            judge_calls: None,
            models: Arc::default(),
            org: None,
        }
    }
}

impl Context {
    fn is_off(&self, domain: &Domain, module: &str) -> bool {
        !self.disabled.is_empty() && self.disabled.contains(&format!("{}/{module}", domain.name()))
    }
}

/// The domain packs that decide what a trace is checked against, and the judge.
#[derive(Clone)]
pub struct Cascade {
    domains: Domains,
    judge: Option<Arc<Judge>>,
}

impl Default for Cascade {
    fn default() -> Self {
        Cascade::new(Domains::fixed(DomainSet::default()))
    }
}

/// The evaluation being built.
struct Run {
    modules: Vec<ModuleResult>,
    issues: Vec<Issue>,
    tiers_run: Vec<u8>,
    escalation: Vec<Decision>,
    review: Option<String>,
    /// Tier 2's probability of unsafe, when it ran.
    risk: Option<f64>,
    /// The issue code of a part the verdict needed that was missing: the trace is recorded as
    /// an `error`, never as the weaker verdict the tiers that did run would give (a `fail` of
    /// theirs stands).
    unevaluated: Option<String>,
}

impl Run {
    fn module(&mut self, result: ModuleResult, found: Vec<Issue>) {
        if !self.tiers_run.contains(&result.tier) {
            self.tiers_run.push(result.tier);
        }
        self.modules.push(result);
        self.issues.extend(found);
    }

    fn decide(&mut self, after_tier: u8, next_tier: Option<u8>, reason: String) {
        self.escalation.push(Decision { after_tier, next_tier, reason });
    }

    fn worst(&self) -> Severity {
        self.issues.iter().map(|i| i.severity).max().unwrap_or_default()
    }

    fn worst_issue(&self) -> Option<&Issue> {
        self.issues.iter().max_by_key(|i| i.severity)
    }

    /// Records that a part the verdict needs could not run. The issue is high, so that alert
    /// rules at their default severity hear of it.
    fn unavailable(&mut self, code: &str, module: &str, why: String) {
        self.issues.push(Issue {
            code: code.into(),
            module: module.into(),
            severity: Severity::High,
            message: why,
            evidence: None,
            subject: None,
        });
        self.unevaluated = Some(code.into());
    }
}

impl Cascade {
    pub fn new(domains: Domains) -> Cascade {
        Cascade { domains, judge: None }
    }

    /// Adds Tier 3.
    pub fn with_judge(mut self, judge: Option<Judge>) -> Cascade {
        self.judge = judge.map(Arc::new);
        self
    }

    pub fn domains(&self) -> &Domains {
        &self.domains
    }

    pub fn has_judge(&self) -> bool {
        self.judge.is_some()
    }

    /// Runs the tiers the trace needs and folds their findings into one verdict.
    pub async fn evaluate(&self, trace: &Trace, ctx: Context) -> Evaluation {
        let started = Instant::now();
        let set = self.domains.current();
        let domain = trace.domain().and_then(|d| match &ctx.org {
            Some(org) => set.route(org, d),
            None => set.route_shared(d),
        });
        let mut run = Run {
            modules: vec![],
            issues: vec![],
            tiers_run: vec![],
            escalation: vec![],
            review: None,
            risk: None,
            unevaluated: None,
        };
        let ctx_org = ctx.org.clone();
        self.deterministic(trace, domain.map(|d| d.as_ref()), &ctx, &mut run);
        let attempts = ctx.attempts;
        match (domain, trace.domain()) {
            (Some(domain), _) => self.escalate(trace, domain, ctx, &mut run).await,
            (None, Some(named)) => {
                let loaded: Vec<&str> = match &ctx_org {
                    Some(org) => set.visible_to(org).map(|d| d.name()).collect(),
                    None => set.domains().iter().filter(|d| d.owner.is_none()).map(|d| d.name()).collect(),
                };
                let why = format!(
                    "no domain pack named {named:?} is loaded (loaded: {}), so the trace was not evaluated for \
                     its domain",
                    if loaded.is_empty() { "none".to_string() } else { loaded.join(", ") }
                );
                run.unavailable(UNKNOWN_DOMAIN, "pipeline", why.clone());
                run.decide(0, None, format!("{why}: recorded as an error, not a verdict"));
            }
            (None, None) => run.decide(
                0,
                None,
                "the trace names no domain (metadata.domain): only the structural checks apply".into(),
            ),
        }
        let mut evaluation = finish(trace, domain.map(|d| d.as_ref()), run, attempts, started);
        if domain.is_none() {
            // Counted, filtered and alerted on under the domain the trace asked for.
            evaluation.domain = trace.domain().map(|d| d.trim().to_lowercase()).filter(|d| !d.is_empty());
        }
        evaluation
    }

    /// Tiers 0 and 1.
    fn deterministic(&self, trace: &Trace, domain: Option<&Domain>, ctx: &Context, run: &mut Run) {
        let facts = match domain {
            Some(d) => d.facts(trace),
            None => Facts::bare(trace),
        };
        let on = |m: &&dyn Module| domain.is_none_or(|d| !ctx.is_off(d, m.name()));
        for module in deterministic_modules(domain).filter(on) {
            let t = Instant::now();
            let found = module.check(&facts);
            let worst = found.iter().map(|i| i.severity).max().unwrap_or_default();
            let result = ModuleResult {
                name: module.name().to_string(),
                tier: module.tier(),
                verdict: verdict(worst),
                score: None,
                issues_found: found.len(),
                latency_ms: millis(t.elapsed()),
                cost_micro_usd: 0,
                note: None,
            };
            run.module(result, found);
        }
    }

    /// Tiers 2 to 4, as far as the findings so far require.
    async fn escalate(&self, trace: &Trace, domain: &Domain, ctx: Context, run: &mut Run) {
        let policy = &domain.spec.escalation;
        let worst = run.worst();
        if worst >= policy.stop_at {
            let code = run.worst_issue().map(|i| i.code.clone()).unwrap_or_default();
            run.decide(1, None, format!("Tier 1 found a {} issue ({code}): the verdict is settled", worst.as_str()));
            return;
        }
        let mut why_judge = (worst >= policy.escalate_at)
            .then(|| format!("Tier 1 found a {} issue that needs confirming", worst.as_str()));

        let model = ctx.models.get(domain.name()).or(domain.classifier.as_ref());
        let classifier = model.zip(domain.spec.tier2.as_ref());
        if let Some((model, t2)) = classifier.filter(|_| !ctx.is_off(domain, "classifier")) {
            let t = Instant::now();
            let codes: Vec<&str> = run.issues.iter().map(|i| i.code.as_str()).collect();
            let risk = model.risk(trace, &codes);
            let flagged = risk >= t2.flag_at;
            let found = if flagged {
                vec![Issue {
                    code: "classifier_risk".into(),
                    module: "classifier".into(),
                    severity: t2.severity,
                    message: format!(
                        "The {} classifier rates this trace unsafe with probability {risk:.2}.",
                        domain.name()
                    ),
                    evidence: None,
                    subject: None,
                }]
            } else {
                vec![]
            };
            run.module(
                ModuleResult {
                    name: "classifier".into(),
                    tier: 2,
                    verdict: if flagged { verdict(t2.severity) } else { EvaluationStatus::Pass },
                    score: Some(round3(risk)),
                    issues_found: found.len(),
                    latency_ms: millis(t.elapsed()),
                    cost_micro_usd: 0,
                    note: Some(format!("model {}", model.version)),
                },
                found,
            );
            run.risk = Some(risk);
            if flagged {
                run.decide(2, None, format!("Tier 2 risk {risk:.2} is at or above {:.2}: unsafe", t2.flag_at));
                return;
            }
            if risk >= t2.escalate_at {
                why_judge.get_or_insert(format!(
                    "Tier 2 risk {risk:.2} is uncertain (between {:.2} and {:.2})",
                    t2.escalate_at, t2.flag_at
                ));
            } else if why_judge.is_none() {
                run.decide(2, None, format!("Tier 2 risk {risk:.2} is below {:.2}: safe", t2.escalate_at));
                return;
            }
        } else if why_judge.is_none() {
            let why = if classifier.is_some() {
                "the organization switched Tier 2 off"
            } else {
                "the pack has no classifier"
            };
            run.decide(1, None, format!("Tier 1 found nothing that needs a closer look, and {why}"));
            return;
        }
        let why_judge = why_judge.unwrap_or_default();
        let from = *run.tiers_run.iter().max().unwrap_or(&1);

        let mut unavailable = match (&self.judge, &domain.spec.tier3) {
            (None, _) => Some("no LLM judge is configured"),
            (_, None) => Some("the pack has no Tier 3 rubric"),
            _ if ctx.is_off(domain, "llm_judge") => Some("the organization switched the judge off"),
            _ if !ctx.judge_allowed => Some("the organization's judge budget for today is spent"),
            _ => None,
        };
        // The daily call limit is taken last, so a call that will not happen uses none of it.
        if let (None, Some(calls)) = (unavailable, &ctx.judge_calls) {
            if !calls.take().await {
                unavailable = Some("the organization's judge calls for today are used up");
            }
        }
        if let Some(unavailable) = unavailable {
            if policy.review_when_judge_unavailable {
                run.decide(from, Some(4), format!("{why_judge}; {unavailable}, so an expert reviews it"));
                run.review = Some(format!("{why_judge}; {unavailable}"));
            } else {
                run.decide(from, None, format!("{why_judge}, but {unavailable}"));
            }
            return;
        }
        let Some(judge) = &self.judge else { return };
        run.decide(from, Some(3), why_judge.clone());
        let judgement = judge.judge(domain, trace, &run.issues).await;
        let severity_if_unsafe = domain.spec.tier3.as_ref().map_or(Severity::High, |t| t.severity);
        let (found, status, score, note) = match &judgement.verdict {
            Ok(v) => {
                let mut found: Vec<Issue> = v
                    .issues
                    .iter()
                    .map(|i| Issue {
                        code: i.code.clone(),
                        module: "llm_judge".into(),
                        severity: i.severity,
                        message: i.message.clone(),
                        evidence: None,
                        subject: None,
                    })
                    .collect();
                if v.verdict == Verdict::Unsafe && !found.iter().any(|i| i.severity >= Severity::Medium) {
                    found.push(Issue {
                        code: "judge_unsafe".into(),
                        module: "llm_judge".into(),
                        severity: severity_if_unsafe,
                        message: v.reasoning.clone(),
                        evidence: None,
                        subject: None,
                    });
                }
                let worst = found.iter().map(|i| i.severity).max().unwrap_or_default();
                (found, verdict(worst), Some(v.score), Some(v.reasoning.clone()))
            }
            Err(e) => (vec![], EvaluationStatus::Error, None, Some(e.clone())),
        };
        run.module(
            ModuleResult {
                name: "llm_judge".into(),
                tier: 3,
                verdict: status,
                score,
                issues_found: found.len(),
                latency_ms: round3(judgement.latency_ms),
                cost_micro_usd: judgement.cost_micro_usd,
                note: note.map(|n| format!("{}: {n}", judgement.model)),
            },
            found,
        );
        match &judgement.verdict {
            Ok(v) if v.verdict == Verdict::Unsure => {
                run.decide(3, Some(4), "the judge is unsure, so an expert reviews it".into());
                run.review = Some("the judge is unsure".into());
            }
            Ok(v) => {
                run.decide(3, None, format!("the judge's verdict: {} (score {:.2})", verdict_name(v.verdict), v.score))
            }
            Err(e) if policy.review_when_judge_unavailable => {
                run.decide(3, Some(4), format!("the judge failed ({e}), so an expert reviews it"));
                run.review = Some(format!("the judge failed: {e}"));
            }
            Err(e) => {
                run.unavailable("judge_unavailable", "llm_judge", format!("the LLM judge was needed and failed: {e}"));
                run.decide(3, None, format!("the judge failed ({e}): recorded as an error, not a verdict"));
            }
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
                subject: None,
            }],
            cost_micro_usd: 0,
            latency_ms: 0.0,
            attempts,
            evaluated_at: Utc::now(),
            domain: None,
            escalation: vec![],
            cost_by_tier: vec![],
            review: None,
            facets: vec![],
        }
    }
}

/// Whether experts should see the trace, why, and how urgently: the severity of the findings
/// first, then the pack's sampling strategy (uncertainty by default) on Tier 2's probability.
/// A share of the traces the cascade settled goes to experts at random, for calibration.
fn review_request(
    domain: Option<&Domain>,
    run: &Run,
    severity: Severity,
    status: EvaluationStatus,
) -> Option<(String, f64)> {
    use crate::domains::spec::Strategy;
    let spec = domain.map(|d| d.spec.review.clone()).unwrap_or_default();
    let threshold = domain.and_then(|d| d.spec.tier2.as_ref()).map_or(0.5, |t| t.flag_at);
    let mut rng = rand::thread_rng();
    let reason = match &run.review {
        Some(reason) => reason.clone(),
        None if run.risk.is_some()
            && status == EvaluationStatus::Pass
            && spec.random_share > 0.0
            && rand::Rng::gen_bool(&mut rng, spec.random_share) =>
        {
            // Ranked by chance alone, below every trace the cascade itself was unsure of.
            return Some((
                "a random sample, to measure the cascade where it is sure".into(),
                round3(Strategy::Random.priority(0.5, threshold, false, &mut rng) - 1.0),
            ));
        }
        None => return None,
    };
    let rank = Severity::ALL.iter().position(|s| *s == severity).unwrap_or(0) as f64;
    let tier1_flagged = run.modules.iter().any(|m| m.tier == 1 && m.issues_found > 0);
    let value = spec.strategy.priority(run.risk.unwrap_or(0.5), threshold, tier1_flagged, &mut rng);
    // Uncertainty is an entropy (0 to 1 bit); every strategy's value stays below one rank.
    Some((reason, round3(rank + value.clamp(0.0, 0.999))))
}

fn finish(trace: &Trace, domain: Option<&Domain>, run: Run, attempts: u32, started: Instant) -> Evaluation {
    let severity = run.worst();
    let facets = facets(trace, domain, &run.issues);
    let mut status = verdict(severity);
    if let Some(code) = &run.unevaluated {
        let found = run.issues.iter().filter(|i| &i.code != code).map(|i| i.severity).max().unwrap_or_default();
        if verdict(found) != EvaluationStatus::Fail {
            status = EvaluationStatus::Error;
        }
    }
    let review = review_request(domain, &run, severity, status).map(|(reason, priority)| {
        if status == EvaluationStatus::Pass {
            status = EvaluationStatus::NeedsReview;
        }
        ReviewRequest { reason, priority }
    });
    let mut cost_by_tier: Vec<TierCost> = Vec::new();
    for m in &run.modules {
        match cost_by_tier.iter_mut().find(|c| c.tier == m.tier) {
            Some(c) => c.cost_micro_usd += m.cost_micro_usd,
            None => cost_by_tier.push(TierCost { tier: m.tier, cost_micro_usd: m.cost_micro_usd }),
        }
    }
    if review.is_some() && !run.tiers_run.contains(&4) {
        cost_by_tier.push(TierCost { tier: 4, cost_micro_usd: 0 });
    }
    let mut tiers_run = run.tiers_run;
    if review.is_some() {
        tiers_run.push(4);
    }
    Evaluation {
        trace_id: trace.trace_id,
        status,
        severity,
        tiers_run,
        cost_micro_usd: run.modules.iter().map(|m| m.cost_micro_usd).sum(),
        modules: run.modules,
        issues: run.issues,
        latency_ms: millis(started.elapsed()),
        attempts,
        evaluated_at: Utc::now(),
        domain: domain.map(|d| d.name().to_string()),
        escalation: run.escalation,
        cost_by_tier,
        review,
        facets,
    }
}

/// What the domain dashboards count the trace under: the metadata values its pack breaks
/// down by, the subject of each issue, and the trajectory's PnL (total reward).
fn facets(trace: &Trace, domain: Option<&Domain>, issues: &[Issue]) -> Vec<Facet> {
    let rewards: Vec<f64> = trace.steps.iter().filter_map(|s| s.reward).filter(|r| r.is_finite()).collect();
    let pnl: f64 = rewards.iter().sum();
    let amount = (pnl * 100.0).round() as i64;
    let mut out = Vec::new();
    if let Some(d) = domain {
        for key in &d.spec.dashboard.breakdowns {
            if let Some(value) = trace.metadata.get(key).filter(|v| !v.is_empty()) {
                out.push(Facet { name: format!("meta.{key}"), value: value.chars().take(100).collect(), amount });
            }
        }
    }
    if !rewards.is_empty() {
        out.push(Facet { name: "pnl".into(), value: pnl_bucket(pnl).into(), amount });
    }
    let mut seen = std::collections::BTreeSet::new();
    for issue in issues {
        if let Some(subject) = &issue.subject {
            if seen.insert((issue.code.as_str(), subject.as_str())) {
                out.push(Facet { name: format!("issue.{}", issue.code), value: subject.clone(), amount });
            }
        }
    }
    out
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Safe => "safe",
        Verdict::Unsafe => "unsafe",
        Verdict::Unsure => "unsure",
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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
