//! How a pack's texts state doses: the vocabulary the dose reader ([`super::dose`]) uses, read
//! from the pack's data (`entities.drugs.dose_language`, `data/dose_language.yaml` in the
//! healthcare pack). A pack in another language, or with other phrasings, brings its own file
//! and needs no change to the code; a pack that names none reads doses as the built-in
//! healthcare pack does.

use std::collections::BTreeMap;

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;

use super::dose::{Route, Unit};
use crate::domains::files::{PackDir, PackPath};
use crate::domains::text::pattern;
use crate::{Error, Result};

/// Where a pack that names no dose language reads its doses from.
const DEFAULT: (&str, &str) = ("healthcare", "data/dose_language.yaml");

/// The compiled vocabulary.
pub struct DoseLanguage {
    number_words: FxHashMap<String, f64>,
    units: FxHashMap<String, (f64, Unit)>,
    lead_ins: FxHashSet<String>,
    pub(super) amount_of: Regex,
    pub(super) release_after: Regex,
    pub(super) release_before: Regex,
    pub(super) routes: Vec<(Regex, Route)>,
    pub(super) concentration: Regex,
    pub(super) p: Statements,
    pub(super) frequencies: Vec<(Regex, FrequencyRule)>,
}

/// The patterns a dose statement is read with; what each finds is said in the file.
pub(super) struct Statements {
    pub amount: Regex,
    pub units: Regex,
    pub millilitres: Regex,
    pub per_before: Regex,
    pub per_ml_after: Regex,
    pub count_before_name: Regex,
    pub sum_before: Regex,
    pub per_day_after: Regex,
    pub per_week_after: Regex,
    pub count_before: Regex,
    pub count_word_before: Regex,
    pub form_after: Regex,
    pub each_after: Regex,
    pub upward_before: Regex,
    pub negation: Regex,
    pub additional_before: Regex,
    pub another_unit: Regex,
    pub addition: Regex,
    pub count_before_each: Regex,
    pub limit_before: Regex,
    pub limit_phrase: Regex,
    pub warning: Regex,
}

/// How a frequency pattern turns into doses per day.
#[derive(Clone, Copy)]
pub(super) enum FrequencyRule {
    PerDay(f64),
    PerWeek(f64),
    /// Every N hours, N being the pattern's first number.
    EveryHours,
    /// N times a day.
    TimesPerDay,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    placeholders: BTreeMap<String, String>,
    number_words: BTreeMap<String, f64>,
    units: Vec<UnitEntry>,
    lead_ins: Vec<String>,
    amount_of: String,
    release: ReleaseEntry,
    routes: Vec<RouteEntry>,
    concentration: String,
    statements: BTreeMap<String, String>,
    frequencies: Vec<FrequencyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitEntry {
    words: Vec<String>,
    unit: String,
    factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseEntry {
    after: String,
    before: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    route: String,
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrequencyEntry {
    pattern: String,
    #[serde(default)]
    per_day: Option<f64>,
    #[serde(default)]
    per_week: Option<f64>,
    #[serde(default)]
    every_hours: bool,
    #[serde(default)]
    times_per_day: bool,
}

impl DoseLanguage {
    /// The file `path` of `dir`, or the built-in healthcare pack's when `path` is `None`.
    pub fn load(dir: &PackDir, path: Option<&str>) -> Result<DoseLanguage> {
        let file: PackPath = match path {
            Some(path) => dir.join(path),
            None => PackDir::Builtin(DEFAULT.0.into()).join(DEFAULT.1),
        };
        let text = file.read_to_string().map_err(|e| Error::Pack {
            path: file.to_string(),
            line: None,
            message: format!("cannot read the dose language: {e}"),
        })?;
        DoseLanguage::parse(&text).map_err(|(line, message)| Error::Pack { path: file.to_string(), line, message })
    }

    /// Parses and compiles a dose-language file; an error names the line where it can.
    pub fn parse(text: &str) -> std::result::Result<DoseLanguage, (Option<usize>, String)> {
        let file: File = yaml_serde::from_str(text).map_err(|e| {
            (e.location().map(|l| l.line()), e.to_string().split(" at line ").next().unwrap_or_default().to_string())
        })?;
        let expand = |p: &str| {
            let mut out = p.to_string();
            // A placeholder may use those before it (`times` uses `number_words`): expand until
            // nothing changes, at most once per placeholder.
            for _ in 0..=file.placeholders.len() {
                let before = out.clone();
                for (name, value) in &file.placeholders {
                    out = out.replace(&format!("{{{name}}}"), value);
                }
                if out == before {
                    break;
                }
            }
            out
        };
        let compile = |what: &str, p: &str| -> std::result::Result<Regex, (Option<usize>, String)> {
            pattern(&expand(p)).map_err(|e| (None, format!("{what}: not a valid pattern: {e}")))
        };
        let statement = |name: &str| -> std::result::Result<Regex, (Option<usize>, String)> {
            let p = file.statements.get(name).ok_or_else(|| (None, format!("statements.{name} is missing")))?;
            compile(&format!("statements.{name}"), p)
        };
        let mut units = FxHashMap::default();
        for entry in &file.units {
            let unit =
                Unit::parse(&entry.unit).ok_or_else(|| (None, format!("units: unknown unit {:?}", entry.unit)))?;
            for word in &entry.words {
                units.insert(word.to_lowercase(), (entry.factor, unit));
            }
        }
        let mut routes = Vec::new();
        for (i, r) in file.routes.iter().enumerate() {
            let route =
                Route::parse(&r.route).ok_or_else(|| (None, format!("routes[{i}]: unknown route {:?}", r.route)))?;
            routes.push((compile(&format!("routes[{i}]"), &r.pattern)?, route));
        }
        let mut frequencies = Vec::new();
        for (i, f) in file.frequencies.iter().enumerate() {
            let rule = match (f.per_day, f.per_week, f.every_hours, f.times_per_day) {
                (Some(n), None, false, false) => FrequencyRule::PerDay(n),
                (None, Some(n), false, false) => FrequencyRule::PerWeek(n),
                (None, None, true, false) => FrequencyRule::EveryHours,
                (None, None, false, true) => FrequencyRule::TimesPerDay,
                _ => {
                    return Err((
                        None,
                        format!("frequencies[{i}]: give exactly one of per_day, per_week, every_hours, times_per_day"),
                    ))
                }
            };
            frequencies.push((compile(&format!("frequencies[{i}]"), &f.pattern)?, rule));
        }
        let known = [
            "amount",
            "units",
            "millilitres",
            "per_before",
            "per_ml_after",
            "count_before_name",
            "sum_before",
            "per_day_after",
            "per_week_after",
            "count_before",
            "count_word_before",
            "form_after",
            "each_after",
            "upward_before",
            "negation",
            "additional_before",
            "another_unit",
            "addition",
            "count_before_each",
            "limit_before",
            "limit_phrase",
            "warning",
        ];
        if let Some(unknown) = file.statements.keys().find(|k| !known.contains(&k.as_str())) {
            return Err((None, format!("statements.{unknown} is not a pattern the reader uses")));
        }
        Ok(DoseLanguage {
            number_words: file.number_words.iter().map(|(w, n)| (w.to_lowercase(), *n)).collect(),
            units,
            lead_ins: file.lead_ins.iter().map(|w| w.to_lowercase()).collect(),
            amount_of: compile("amount_of", &file.amount_of)?,
            release_after: compile("release.after", &file.release.after)?,
            release_before: compile("release.before", &file.release.before)?,
            routes,
            concentration: compile("concentration", &file.concentration)?,
            p: Statements {
                amount: statement("amount")?,
                units: statement("units")?,
                millilitres: statement("millilitres")?,
                per_before: statement("per_before")?,
                per_ml_after: statement("per_ml_after")?,
                count_before_name: statement("count_before_name")?,
                sum_before: statement("sum_before")?,
                per_day_after: statement("per_day_after")?,
                per_week_after: statement("per_week_after")?,
                count_before: statement("count_before")?,
                count_word_before: statement("count_word_before")?,
                form_after: statement("form_after")?,
                each_after: statement("each_after")?,
                upward_before: statement("upward_before")?,
                negation: statement("negation")?,
                additional_before: statement("additional_before")?,
                another_unit: statement("another_unit")?,
                addition: statement("addition")?,
                count_before_each: statement("count_before_each")?,
                limit_before: statement("limit_before")?,
                limit_phrase: statement("limit_phrase")?,
                warning: statement("warning")?,
            },
            frequencies,
        })
    }

    /// A number written as a word ("two", "twice", "an") or in digits ("1,000").
    pub fn number(&self, s: &str) -> Option<f64> {
        let lower = s.to_ascii_lowercase();
        match self.number_words.get(&lower) {
            Some(n) => Some(*n),
            None => lower.replace(',', "").parse().ok(),
        }
    }

    /// What an amount's unit word counts in, and by what factor: milligrams, or the unit itself.
    pub fn unit(&self, word: &str) -> (f64, Unit) {
        self.units.get(&word.to_lowercase()).copied().unwrap_or((1.0, Unit::Units))
    }

    /// Whether `word` leads into a dose ("take", "up to", "a dose of").
    pub fn leads_in(&self, word: &str) -> bool {
        self.lead_ins.contains(&word.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_language_loads_and_bad_files_are_named() {
        let english = DoseLanguage::load(&PackDir::Builtin("healthcare".into()), None).unwrap();
        assert_eq!(english.number("Twice"), Some(2.0));
        assert_eq!(english.number("1,000"), Some(1000.0));
        assert_eq!(english.unit("Grams"), (1000.0, Unit::Mg));
        assert!(english.leads_in("Take") && !english.leads_in("folic"));
        let text = PackDir::Builtin("healthcare".into()).join(DEFAULT.1).read_to_string().unwrap();
        let broken = text.replacen("statements:\n", "statements:\n  shouting: 'x'\n", 1);
        let err = DoseLanguage::parse(&broken).err().unwrap().1;
        assert!(err.contains("statements.shouting"), "{err}");
        let err = DoseLanguage::parse("number_words: [").err().unwrap();
        assert!(err.0.is_some(), "a syntax error names its line: {err:?}");
    }
}
