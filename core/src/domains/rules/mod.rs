//! Tiers 0 and 1: the structural checks every trace gets ([`WellFormed`]) and a pack's
//! deterministic domain validators.
//!
//! A pack's `tier1` list becomes one [`RuleModule`] per entry. Most are generated from the
//! spec (`kind: max_daily_dose`, `kind: position_limit`, ...); `kind: custom` names a
//! [`Validator`] written in Rust and registered in [`CustomValidators`]. The pipeline cannot
//! tell the two apart.

pub(crate) mod doses;
mod interactions;
mod phrases;
mod populations;
mod red_flags;
mod requests;
mod trading;
mod well_formed;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::domains::files::PackDir;
use crate::domains::reading::drugs::DrugIndex;
use crate::domains::reading::drugs::Mention;
use crate::domains::spec::{line_of, DomainSpec, ValidatorKind, ValidatorSpec};
use crate::domains::text::char_offset;
use crate::domains::{Domain, Facts};
pub use well_formed::WellFormed;

use crate::model::{Evidence, Issue, Severity};
use crate::{Error, Result};

/// One check of Tiers 0 and 1.
pub trait Module: Send + Sync {
    /// Stable name, shown in results and used in issue attributions.
    fn name(&self) -> &str;
    fn tier(&self) -> u8;
    /// The issues found; none means the module passes the trace.
    fn check(&self, facts: &Facts<'_>) -> Vec<Issue>;
}

/// The modules of Tiers 0 and 1 for a trace of `domain`: the structural checks every trace
/// gets, then the pack's rules. The cascade and Tier 2's training both read them from here, so
/// the classifier learns on the very findings it will see.
pub fn deterministic_modules(domain: Option<&Domain>) -> impl Iterator<Item = &dyn Module> {
    static WELL_FORMED: WellFormed = WellFormed;
    std::iter::once(&WELL_FORMED as &dyn Module)
        .chain(domain.into_iter().flat_map(|d| d.rules.iter().map(|r| r as &dyn Module)))
}

/// A Tier 1 check. Implement it to add a hand-written validator to a domain.
pub trait Validator: Send + Sync {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding>;
}

/// One problem a validator found. The issue code is the validator's id.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub message: String,
    /// Overrides the severity the spec gives the validator (interactions grade their own).
    pub severity: Option<Severity>,
    pub evidence: Option<Evidence>,
    /// What it is about (a drug, a pair, a symbol), for the domain dashboards.
    pub subject: Option<String>,
}

impl Finding {
    pub fn new(message: impl Into<String>) -> Finding {
        Finding { message: message.into(), severity: None, evidence: None, subject: None }
    }

    pub fn about(mut self, subject: impl Into<String>) -> Finding {
        self.subject = Some(subject.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = Some(severity);
        self
    }

    /// Points at `bytes` of `text`, the value of `field`.
    pub fn at(mut self, field: &str, text: &str, bytes: Range<usize>) -> Finding {
        self.evidence = Some(Evidence {
            field: field.into(),
            start: Some(char_offset(text, bytes.start)),
            end: Some(char_offset(text, bytes.end)),
            text: Some(text[bytes].to_string()),
        });
        self
    }

    /// Points at a drug mention: in the answer, or in the question for a drug the answer
    /// approves without naming it.
    pub fn at_mention(self, facts: &Facts<'_>, m: &Mention) -> Finding {
        let ai = &facts.trace.ai_processing;
        if facts.output_drugs.contains(m) {
            self.at(OUTPUT, &ai.output, m.start..m.end)
        } else {
            self.at(INPUT, &ai.input, m.start..m.end)
        }
    }

    /// Points at a whole field (a step of a trajectory).
    pub fn in_field(mut self, field: String) -> Finding {
        self.evidence = Some(Evidence { field, start: None, end: None, text: None });
        self
    }
}

/// What a pack's rules are built from: its spec and the tables it names (read through `dir`),
/// with the entity index built from them.
#[derive(Clone, Copy)]
pub struct PackSource<'a> {
    pub spec: &'a DomainSpec,
    pub dir: &'a PackDir,
    pub drugs: Option<&'a Arc<DrugIndex>>,
}

/// Builds a custom validator from its `params`, for the pack being loaded.
pub type CustomFactory = Arc<dyn Fn(&serde_json::Value, &PackSource<'_>) -> Result<Box<dyn Validator>> + Send + Sync>;

/// Hand-written validators, by the name a spec's `kind: custom` uses.
#[derive(Clone, Default)]
pub struct CustomValidators {
    factories: BTreeMap<String, CustomFactory>,
}

impl CustomValidators {
    pub fn register(
        &mut self,
        name: &str,
        factory: impl Fn(&serde_json::Value, &PackSource<'_>) -> Result<Box<dyn Validator>> + Send + Sync + 'static,
    ) {
        self.factories.insert(name.to_string(), Arc::new(factory));
    }
}

/// A validator in the cascade.
pub struct RuleModule {
    id: String,
    severity: Severity,
    validator: Box<dyn Validator>,
}

impl RuleModule {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Module for RuleModule {
    fn name(&self) -> &str {
        &self.id
    }

    fn tier(&self) -> u8 {
        1
    }

    fn check(&self, facts: &Facts<'_>) -> Vec<Issue> {
        self.validator
            .check(facts)
            .into_iter()
            .map(|f| Issue {
                code: self.id.clone(),
                module: self.id.clone(),
                severity: f.severity.unwrap_or(self.severity),
                message: f.message,
                evidence: f.evidence,
                subject: f.subject,
            })
            .collect()
    }
}

/// The Tier 1 modules of a pack, from its spec and tables (`yaml` is the spec's text, for
/// error lines).
pub fn build(pack: PackSource<'_>, yaml: &str, custom: &CustomValidators) -> Result<Vec<RuleModule>> {
    let mut out = Vec::new();
    for spec in pack.spec.tier1.iter().filter(|s| s.enabled) {
        let validator = validator(pack, spec, custom).map_err(|e| match e {
            Error::Pack { .. } => e,
            other => Error::Pack {
                path: pack.dir.join("domain.yaml").to_string(),
                line: line_of(yaml, &spec.id),
                message: format!("validator {}: {other}", spec.id),
            },
        })?;
        out.push(RuleModule { id: spec.id.clone(), severity: spec.severity, validator });
    }
    Ok(out)
}

fn validator(pack: PackSource<'_>, spec: &ValidatorSpec, custom: &CustomValidators) -> Result<Box<dyn Validator>> {
    let drugs = || pack.drugs.cloned().ok_or_else(|| Error::Config("needs entities.drugs".into()));
    Ok(match &spec.kind {
        ValidatorKind::MaxDailyDose { table, pediatric } => Box::new(doses::MaxDailyDose::load(
            &pack.dir.join(table),
            pediatric.as_ref().map(|p| pack.dir.join(p)).as_ref(),
            drugs()?,
        )?),
        ValidatorKind::WeeklyDosedDaily { drugs: names, from_dose } => {
            Box::new(doses::WeeklyDosedDaily::new(names, from_dose, drugs()?)?)
        }
        ValidatorKind::DrugInteractions { tables, min_level, severity_by_level } => {
            let paths: Vec<_> = tables.iter().map(|t| pack.dir.join(t)).collect();
            Box::new(interactions::DrugInteractions::load(&paths, drugs()?, *min_level, severity_by_level)?)
        }
        ValidatorKind::RequiredPhrase { when, any_of, message } => {
            Box::new(phrases::RequiredPhrase::new(when, any_of, message)?)
        }
        ValidatorKind::ForbiddenPhrase { patterns, requests } => {
            Box::new(phrases::ForbiddenPhrase::new(patterns, requests::ApprovedRequest::new(requests)?)?)
        }
        ValidatorKind::ContraindicatedPopulation { table } => {
            Box::new(populations::ContraindicatedPopulation::load(&pack.dir.join(table), drugs()?)?)
        }
        ValidatorKind::RedFlagReferral { red_flags, referral } => {
            Box::new(red_flags::RedFlagReferral::new(red_flags, referral)?)
        }
        ValidatorKind::PositionLimit { max_abs_quantity, per_symbol, instruments } => {
            let mut limits = per_symbol.clone();
            if let Some(table) = instruments {
                limits.extend(trading::instrument_limits(&pack.dir.join(table))?);
            }
            Box::new(trading::PositionLimit::new(*max_abs_quantity, &limits))
        }
        ValidatorKind::MaxOrderNotional { max } => Box::new(trading::MaxOrderNotional { max: *max }),
        ValidatorKind::MaxLeverage { max } => Box::new(trading::MaxLeverage { max: *max }),
        ValidatorKind::RestrictedSymbols { symbols, instruments } => {
            let mut all = symbols.clone();
            if let Some(table) = instruments {
                all.extend(trading::restricted_instruments(&pack.dir.join(table))?);
            }
            Box::new(trading::RestrictedSymbols::new(&all))
        }
        ValidatorKind::StopLossRequired => Box::new(trading::StopLossRequired),
        ValidatorKind::MaxDrawdown { max_fraction } => Box::new(trading::MaxDrawdown { max_fraction: *max_fraction }),
        ValidatorKind::WashTrade { within_steps, price_tolerance } => {
            Box::new(trading::WashTrade { within_steps: *within_steps, price_tolerance: *price_tolerance })
        }
        ValidatorKind::Custom { name, params } => match custom.factories.get(name) {
            Some(factory) => factory(params, &pack)?,
            None => return Err(Error::Config(format!("no custom validator named {name:?} is registered"))),
        },
    })
}

/// A rule's regular expression; a bad one is a configuration error that quotes it.
fn compile(source: &str) -> Result<regex::Regex> {
    crate::domains::text::pattern(source).map_err(|e| Error::Config(format!("bad regular expression {source:?}: {e}")))
}

/// The field evidence in the answer points at.
const OUTPUT: &str = "ai_processing.output";
/// The field evidence in the question points at.
const INPUT: &str = "ai_processing.input";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::DomainSet;
    use crate::testing::trace;

    struct NoShouting;

    impl Validator for NoShouting {
        fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
            let out = &facts.trace.ai_processing.output;
            match out.find("!!!") {
                Some(i) => vec![Finding::new("The answer shouts.").at(OUTPUT, out, i..i + 3)],
                None => vec![],
            }
        }
    }

    #[test]
    fn custom_validators_run_like_generated_ones() {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("support");
        std::fs::create_dir(&pack).unwrap();
        std::fs::write(
            pack.join("domain.yaml"),
            "name: support\ntitle: Support\ntier1:\n  - id: no_shouting\n    kind: custom\n    name: no_shouting\n    severity: low\n",
        )
        .unwrap();
        let err = DomainSet::load(root.path(), &CustomValidators::default()).err().unwrap().to_string();
        assert!(err.contains("domain.yaml:4") && err.contains("no_shouting"), "{err}");

        let mut custom = CustomValidators::default();
        custom.register("no_shouting", |_, _| Ok(Box::new(NoShouting)));
        let set = DomainSet::load(root.path(), &custom).unwrap();
        let domain = set.route_shared("support").unwrap();
        let t = trace("support", "hi", "Reset it now!!!");
        let issues = domain.rules[0].check(&domain.facts(&t));
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, "no_shouting");
        assert_eq!(issues[0].severity, Severity::Low);
        assert_eq!(issues[0].evidence.as_ref().unwrap().start, Some(12));
    }
}
