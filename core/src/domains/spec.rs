//! `domain.yaml`: the declarative half of a domain pack.
//!
//! Unknown keys are errors, so a misspelt rule is reported with its line instead of being
//! silently ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Severity;
use crate::{Error, Result};

/// The whole spec of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    /// Machine name: lower-case letters, digits and `_`. Traces name it in `metadata.domain`.
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "one")]
    pub version: u32,
    /// Other `metadata.domain` values routed to this pack (`clinical`, `medical`, ...).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub entities: Entities,
    /// Tier 1: deterministic validators, run on every trace of the domain.
    #[serde(default)]
    pub tier1: Vec<ValidatorSpec>,
    /// Tier 2: the trained classifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier2: Option<Tier2Spec>,
    /// Tier 3: the LLM judge's rubric and prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier3: Option<Tier3Spec>,
    #[serde(default)]
    pub escalation: EscalationSpec,
    /// How the expert review queue is ordered.
    #[serde(default)]
    pub review: ReviewSpec,
    #[serde(default)]
    pub dashboard: DashboardSpec,
}

/// Which traces experts see first, and the random slice kept for calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSpec {
    /// `uncertainty` (default), `margin`, `disagreement` or `random`: the order of the queue
    /// after the severity of the findings.
    #[serde(default = "uncertainty")]
    pub strategy: Strategy,
    /// Share of the traces the cascade settled on its own that go to experts anyway, at random,
    /// so that its accuracy can be measured where it is sure of itself (0 to 1).
    #[serde(default)]
    pub random_share: f64,
}

impl Default for ReviewSpec {
    fn default() -> Self {
        ReviewSpec { strategy: uncertainty(), random_share: 0.0 }
    }
}

fn uncertainty() -> Strategy {
    Strategy::Uncertainty
}

/// What the domain's dashboard breaks evaluations down by, and how it lays them out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSpec {
    /// Metadata keys counted per value (`specialty`, `strategy`): facets `meta.<key>`.
    #[serde(default)]
    pub breakdowns: Vec<String>,
    /// Panels, each a title over facets: `meta.<key>`, `issue.<rule id>` (counted by the
    /// issue's subject: the drug, the pair, the symbol) or `pnl` (the trajectory's total reward).
    #[serde(default)]
    pub panels: Vec<PanelSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub title: String,
    pub facets: Vec<String>,
}

/// The Tier 2 classifier of a domain and the risks at which it acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier2Spec {
    /// The trained model, written by `aegis train`.
    pub model: String,
    /// The labelled JSONL the shipped model is trained from.
    pub seed: String,
    /// Risk at or above which Tier 2 reports an issue itself, without asking the judge.
    #[serde(default = "flag_at")]
    pub flag_at: f64,
    /// Risk at or above which (below `flag_at`) the trace goes up to the judge; below it, the
    /// trace passes.
    #[serde(default = "escalate_at")]
    pub escalate_at: f64,
    /// Severity of a Tier 2 issue.
    #[serde(default = "high")]
    pub severity: Severity,
    /// L2 regularisation of training: larger is smoother, less sure of itself.
    #[serde(default = "regularization")]
    pub regularization: f32,
}

fn regularization() -> f32 {
    0.05
}

fn flag_at() -> f64 {
    0.9
}

fn escalate_at() -> f64 {
    0.2
}

fn high() -> Severity {
    Severity::High
}

/// What the LLM judge is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier3Spec {
    /// What the judge checks, in the words of the domain's experts.
    pub rubric: String,
    /// The prompt template file; `{{rubric}}`, `{{input}}`, `{{output}}`, `{{steps}}` and
    /// `{{findings}}` are filled in.
    pub prompt: String,
    /// Severity of an `unsafe` verdict whose issues name none.
    #[serde(default = "high")]
    pub severity: Severity,
}

/// When the cascade goes up a tier, and when it stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSpec {
    /// Tier 1 findings at or above this severity settle the verdict: no later tier runs.
    #[serde(default = "high")]
    pub stop_at: Severity,
    /// Tier 1 findings at or above this (below `stop_at`) go to the judge whatever Tier 2 says.
    #[serde(default = "medium")]
    pub escalate_at: Severity,
    /// A trace the judge should see but cannot (not configured, over budget, failing) goes to
    /// human review instead of passing unexamined.
    #[serde(default = "enabled")]
    pub review_when_judge_unavailable: bool,
}

impl Default for EscalationSpec {
    fn default() -> Self {
        EscalationSpec { stop_at: Severity::High, escalate_at: Severity::Medium, review_when_judge_unavailable: true }
    }
}

fn one() -> u32 {
    1
}

/// The things of the domain that rules talk about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drugs: Option<DrugEntities>,
}

/// Drugs, their names and their classes (healthcare).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrugEntities {
    /// TSV `name, drug`: every name (brand, synonym) by which a drug is recognised.
    pub names: String,
    /// TSV `class, label, drug`: class membership.
    pub classes: String,
    /// Words by which a text names a whole class ("NSAIDs", "an SSRI").
    #[serde(default)]
    pub class_aliases: BTreeMap<String, Vec<String>>,
    /// Members the class table lacks (drugs not marketed where it was written).
    #[serde(default)]
    pub extra_class_members: BTreeMap<String, Vec<String>>,
    /// Names the name table lacks, mapped to a drug it has (`Trexall: methotrexate`).
    #[serde(default)]
    pub extra_names: BTreeMap<String, String>,
    /// Words never taken for a drug even though a name list has them.
    #[serde(default)]
    pub not_drugs: Vec<String>,
    /// Entities the name tables lack, with the words that name them: substances that are not
    /// drugs but matter to the rules (`alcohol: [alcohol, wine, beer]`, `honey: [honey]`), and
    /// drugs the tables miss.
    #[serde(default)]
    pub substances: BTreeMap<String, Vec<String>>,
    /// Combination products, by the names that sell them, and their ingredients
    /// (`Percocet: [oxycodone, acetaminophen]`): a mention of one names every ingredient.
    #[serde(default)]
    pub combinations: BTreeMap<String, Vec<String>>,
    /// TSV `product, pattern, drug, mg_per_unit, source`: what a tablet of a product holds.
    #[serde(default)]
    pub products: Option<String>,
    /// How the pack's texts state doses (`data/dose_language.yaml`: see
    /// `reading/dose_language.rs`); the built-in healthcare pack's English unless given.
    #[serde(default)]
    pub dose_language: Option<String>,
}

/// One Tier 1 validator. `kind` picks its implementation; `id` names the issues it raises.
/// (Unknown keys are caught by [`ValidatorKind`]: serde cannot deny them on a struct that
/// flattens another.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorSpec {
    pub id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Severity of the issues raised, unless the kind grades them itself.
    #[serde(default = "medium")]
    pub severity: Severity,
    #[serde(flatten)]
    pub kind: ValidatorKind,
}

fn enabled() -> bool {
    true
}

fn medium() -> Severity {
    Severity::Medium
}

/// The validators a spec can generate, and `custom` for those written in Rust.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ValidatorKind {
    /// A recommended daily (or weekly) dose above the labeled maximum.
    MaxDailyDose {
        /// TSV `drug, max, unit, per (daily|weekly), label, note, source`.
        table: String,
        /// TSV `drug, mg_per_kg_day, source`: children's maximum by weight, applied when the
        /// question gives a child's age and weight.
        #[serde(default)]
        pediatric: Option<String>,
    },
    /// Two drugs that interact: one the patient takes (the input) and one the answer
    /// recommends, or two the answer recommends together.
    DrugInteractions {
        /// TSVs `a, b, severity, mechanism, source`; `a`/`b` a drug or `class:NAME`. Where
        /// tables disagree on a pair, the more severe level wins.
        tables: Vec<String>,
        /// Interactions below this level are not reported.
        #[serde(default = "moderate")]
        min_level: InteractionLevel,
        /// Issue severity per interaction level.
        #[serde(default)]
        severity_by_level: BTreeMap<InteractionLevel, Severity>,
    },
    /// A drug dosed once a week (methotrexate) recommended on a daily schedule.
    /// `from_dose` names drugs that are weekly only at or above a dose (`alendronate: 35 mg`:
    /// 10 mg is a daily dose, 70 mg a weekly one).
    WeeklyDosedDaily {
        drugs: Vec<String>,
        #[serde(default)]
        from_dose: BTreeMap<String, String>,
    },
    /// When the answer matches `when`, it must also match one of `any_of`.
    RequiredPhrase { when: String, any_of: Vec<String>, message: String },
    /// Advice the answer must never give: phrases it must not contain, and risky requests of
    /// the question (stop a drug that needs a taper, take someone else's prescription) it must
    /// not approve.
    ForbiddenPhrase {
        #[serde(default)]
        patterns: Vec<PhraseRule>,
        #[serde(default)]
        requests: Vec<QuestionCue>,
    },
    /// A drug or substance recommended to a patient group it is contraindicated for
    /// (pregnancy, infants, children), the group read from the question.
    ContraindicatedPopulation {
        /// TSV `population, drug, when, severity, reason, source`: `population` is `pregnancy`
        /// or `under_<N>y` / `under_<N>m`; `drug` a drug, substance or `class:NAME`; `when` an
        /// optional pattern the question or answer must also match (a viral illness, a
        /// trimester); `severity` optional.
        table: String,
    },
    /// Emergency symptoms in the question, and an answer that does not send the patient to
    /// emergency care.
    RedFlagReferral {
        /// Symptoms that need emergency care, matched in the question.
        red_flags: Vec<QuestionCue>,
        /// What counts as sending the patient to emergency care; one must match the answer.
        referral: Vec<String>,
    },
    /// Net position per symbol, accumulated over the trajectory's fills.
    PositionLimit {
        #[serde(default)]
        max_abs_quantity: Option<f64>,
        #[serde(default)]
        per_symbol: BTreeMap<String, f64>,
        /// TSV `symbol, max_position, ...`: per-symbol limits from an instrument table.
        #[serde(default)]
        instruments: Option<String>,
    },
    /// Price times quantity of one order.
    MaxOrderNotional { max: f64 },
    /// Gross exposure over equity.
    MaxLeverage { max: f64 },
    RestrictedSymbols {
        #[serde(default)]
        symbols: Vec<String>,
        /// TSV `symbol, restricted (yes|no), ...`: the instrument table's restricted list.
        #[serde(default)]
        instruments: Option<String>,
    },
    /// Every opening order carries a stop-loss.
    StopLossRequired,
    /// Peak-to-trough fall of equity, as a fraction of the peak.
    MaxDrawdown { max_fraction: f64 },
    /// A buy and a sell of the same symbol, quantity and (nearly) price within a few steps.
    WashTrade {
        #[serde(default = "wash_window")]
        within_steps: usize,
        #[serde(default = "wash_price_tolerance")]
        price_tolerance: f64,
    },
    /// A validator written in Rust and registered under `name`.
    Custom {
        name: String,
        #[serde(default)]
        params: serde_json::Value,
    },
}

fn moderate() -> InteractionLevel {
    InteractionLevel::Moderate
}

fn wash_window() -> usize {
    5
}

fn wash_price_tolerance() -> f64 {
    0.001
}

/// One forbidden pattern and what to tell the user when it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseRule {
    pub pattern: String,
    pub message: String,
}

/// Something a question says: `pattern` (and `with`, when given) must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionCue {
    pub pattern: String,
    /// A second pattern the question must also match ("fever" beside "newborn").
    #[serde(default)]
    pub with: Option<String>,
    /// What it is, as the issue names it.
    pub message: String,
}

/// How serious a drug-drug interaction is, as the thesaurus grades it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionLevel {
    Minor,
    Moderate,
    Major,
    Contraindicated,
}

impl InteractionLevel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "minor" => Self::Minor,
            "moderate" => Self::Moderate,
            "major" => Self::Major,
            "contraindicated" => Self::Contraindicated,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Moderate => "moderate",
            Self::Major => "major",
            Self::Contraindicated => "contraindicated",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Self::Contraindicated => Severity::Critical,
            Self::Major => Severity::High,
            Self::Moderate => Severity::Medium,
            Self::Minor => Severity::Low,
        }
    }
}

impl DomainSpec {
    /// Parses a spec; errors name the file and line.
    pub fn parse(yaml: &str, path: &Path) -> Result<DomainSpec> {
        let spec: DomainSpec = yaml_serde::from_str(yaml).map_err(|e| {
            let mut line = e.location().map(|l| l.line());
            // The library appends " at line N column M"; the line is reported separately.
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            // Serde places an unknown key or kind at the start of its mapping; point at the
            // line that has it.
            let culprit = ["unknown field `", "unknown variant `"]
                .iter()
                .find_map(|p| message.split(p).nth(1).and_then(|r| r.split('`').next()));
            if let Some(word) = culprit {
                let found = yaml.lines().enumerate().skip(line.unwrap_or(1) - 1).find(|(_, l)| {
                    let l = l.trim_start().trim_start_matches("- ");
                    l.starts_with(&format!("{word}:")) || l.ends_with(&format!(": {word}"))
                });
                line = found.map(|(i, _)| i + 1).or(line);
            }
            Error::Pack { path: path.display().to_string(), line, message }
        })?;
        spec.check(yaml, path)?;
        Ok(spec)
    }

    /// Checks what serde cannot: names, uniqueness, regular expressions, numbers.
    fn check(&self, yaml: &str, path: &Path) -> Result<()> {
        let fail = |needle: &str, message: String| Error::Pack {
            path: path.display().to_string(),
            line: line_of(yaml, needle),
            message,
        };
        let valid_name =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name(&self.name) {
            return Err(fail("name:", format!("name {:?} must be lower-case letters, digits and _", self.name)));
        }
        let mut seen = std::collections::HashSet::new();
        for v in &self.tier1 {
            if !valid_name(&v.id) {
                return Err(fail(&v.id, format!("validator id {:?} must be lower-case letters, digits and _", v.id)));
            }
            if !seen.insert(v.id.as_str()) {
                return Err(fail(&v.id, format!("validator id {:?} is used twice", v.id)));
            }
            let regexes: Vec<&str> = match &v.kind {
                ValidatorKind::RequiredPhrase { when, any_of, .. } => {
                    std::iter::once(when.as_str()).chain(any_of.iter().map(String::as_str)).collect()
                }
                ValidatorKind::ForbiddenPhrase { patterns, requests } => patterns
                    .iter()
                    .map(|p| p.pattern.as_str())
                    .chain(requests.iter().flat_map(|f| std::iter::once(f.pattern.as_str()).chain(f.with.as_deref())))
                    .collect(),
                ValidatorKind::RedFlagReferral { red_flags, referral } => red_flags
                    .iter()
                    .flat_map(|f| std::iter::once(f.pattern.as_str()).chain(f.with.as_deref()))
                    .chain(referral.iter().map(String::as_str))
                    .collect(),
                _ => vec![],
            };
            for r in regexes {
                if let Err(e) = super::text::pattern(r) {
                    return Err(fail(r, format!("validator {}: bad regular expression: {e}", v.id)));
                }
            }
            let positive = |x: f64| x.is_finite() && x > 0.0;
            let bad_number = match &v.kind {
                ValidatorKind::MaxOrderNotional { max } | ValidatorKind::MaxLeverage { max } => !positive(*max),
                ValidatorKind::MaxDrawdown { max_fraction } => !(positive(*max_fraction) && *max_fraction <= 1.0),
                ValidatorKind::PositionLimit { max_abs_quantity, per_symbol, .. } => {
                    max_abs_quantity.is_some_and(|m| !positive(m)) || per_symbol.values().any(|m| !positive(*m))
                }
                ValidatorKind::WashTrade { within_steps, price_tolerance } => {
                    *within_steps == 0 || !(price_tolerance.is_finite() && *price_tolerance >= 0.0)
                }
                _ => false,
            };
            if bad_number {
                return Err(fail(&v.id, format!("validator {}: limits must be positive numbers", v.id)));
            }
            let needs_drugs = matches!(
                v.kind,
                ValidatorKind::MaxDailyDose { .. }
                    | ValidatorKind::DrugInteractions { .. }
                    | ValidatorKind::WeeklyDosedDaily { .. }
                    | ValidatorKind::ContraindicatedPopulation { .. }
            );
            if needs_drugs && self.entities.drugs.is_none() {
                return Err(fail(&v.id, format!("validator {} needs entities.drugs", v.id)));
            }
        }
        if let Some(t2) = &self.tier2 {
            let in_range = |x: f64| (0.0..=1.0).contains(&x);
            if !(in_range(t2.flag_at) && in_range(t2.escalate_at) && t2.escalate_at <= t2.flag_at) {
                return Err(fail("escalate_at", "tier2: need 0 <= escalate_at <= flag_at <= 1".into()));
            }
        }
        if !(0.0..=1.0).contains(&self.review.random_share) {
            return Err(fail("random_share", "review: random_share must be from 0 to 1".into()));
        }
        if self.escalation.escalate_at > self.escalation.stop_at {
            return Err(fail("escalation:", "escalation: escalate_at must not be above stop_at".into()));
        }
        // A dashboard panel can only show what is counted.
        for panel in &self.dashboard.panels {
            for facet in &panel.facets {
                let known = match facet.split_once('.') {
                    Some(("meta", key)) => self.dashboard.breakdowns.iter().any(|b| b == key),
                    Some(("issue", id)) => seen.contains(id),
                    _ => facet == "pnl",
                };
                if !known {
                    return Err(fail(
                        facet,
                        format!(
                            "dashboard panel {:?}: unknown facet {facet:?}; use meta.<a breakdown>, issue.<a tier1 id> or pnl",
                            panel.title
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The first line of `yaml` containing `needle`, 1-based; where an error points.
pub fn line_of(yaml: &str, needle: &str) -> Option<usize> {
    yaml.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// How to rank unlabelled traces for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Highest entropy of the Tier 2 probability first.
    Uncertainty,
    /// Probability closest to the pack's escalation threshold first.
    Margin,
    /// Tier 1 and Tier 2 disagree (a rule fired on a low risk, or none on a high one).
    Disagreement,
    Random,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::Uncertainty, Strategy::Margin, Strategy::Disagreement, Strategy::Random];

    /// How valuable a label on a trace is, higher first: `p` is Tier 2's probability of
    /// unsafe, `threshold` the pack's, `tier1_flagged` whether a Tier 1 rule fired.
    pub fn priority(self, p: f64, threshold: f64, tier1_flagged: bool, rng: &mut impl rand::Rng) -> f64 {
        let p = p.clamp(1e-9, 1.0 - 1e-9);
        match self {
            Strategy::Uncertainty => -(p * p.log2() + (1.0 - p) * (1.0 - p).log2()),
            Strategy::Margin => 1.0 - (p - threshold).abs(),
            Strategy::Disagreement => {
                if tier1_flagged {
                    1.0 - p
                } else {
                    p
                }
            }
            Strategy::Random => rng.gen(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Uncertainty => "uncertainty",
            Strategy::Margin => "margin",
            Strategy::Disagreement => "disagreement",
            Strategy::Random => "random",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<DomainSpec> {
        DomainSpec::parse(yaml, Path::new("domain.yaml"))
    }

    #[test]
    fn a_small_spec_parses() {
        let spec = parse(
            "name: trading\ntitle: Trading\ntier1:\n  - id: leverage\n    kind: max_leverage\n    max: 3\n    severity: high\n",
        )
        .unwrap();
        assert_eq!(spec.tier1[0].kind, ValidatorKind::MaxLeverage { max: 3.0 });
        assert_eq!(spec.tier1[0].severity, Severity::High);
        assert!(spec.tier1[0].enabled);
    }

    #[test]
    fn errors_name_the_line() {
        let err =
            parse("name: trading\ntitle: Trading\ntier1:\n  - id: leverage\n    kind: max_leverage\n    maximum: 3\n")
                .unwrap_err();
        match err {
            Error::Pack { line, message, .. } => {
                assert_eq!(line, Some(6), "{message}");
                assert!(message.contains("maximum"), "{message}");
            }
            e => panic!("unexpected {e}"),
        }
        let err = parse("name: t\ntitle: T\ntier1:\n  - id: x\n    kind: forbidden_phrase\n    patterns:\n      - pattern: '(unclosed'\n        message: m\n").unwrap_err();
        assert!(matches!(err, Error::Pack { line: Some(7), .. }), "{err}");
        let err =
            parse("name: t\ntitle: T\ntier1:\n  - id: d\n    kind: max_drawdown\n    max_fraction: 1.5\n").unwrap_err();
        assert!(matches!(err, Error::Pack { line: Some(4), .. }), "{err}");
        let err = parse("name: t\ntitle: T\ndashboard:\n  breakdowns: [desk]\n  panels:\n    - title: By desk\n      facets: [meta.desk, meta.team]\n").unwrap_err();
        assert!(matches!(err, Error::Pack { line: Some(7), .. }), "{err}");
        let err = parse("name: Bad Name\ntitle: T\n").unwrap_err();
        assert!(matches!(err, Error::Pack { line: Some(1), .. }), "{err}");
        let err = parse("name: t\ntitle: T\nreview:\n  strategy: margin\n  random_share: 1.5\n").unwrap_err();
        assert!(matches!(&err, Error::Pack { line: Some(5), .. }), "{err}");
        let err = parse("name: t\ntitle: T\nreview:\n  strategy: loudest\n").unwrap_err();
        assert!(err.to_string().contains("loudest"), "{err}");
        let spec = parse("name: t\ntitle: T\nreview:\n  strategy: disagreement\n").unwrap();
        assert_eq!(spec.review.strategy, Strategy::Disagreement);
    }
}
