//! Dose statements in free text: which drug, how much per dose, how often, and so how much a day.
//!
//! "Acetaminophen 1000 mg every 4 hours" is 6 g a day; "two 500 mg tablets three times daily"
//! is 3 g; "do not exceed 4 g a day" is a limit, not a regimen; "taking 6 g a day can damage
//! your liver" is a warning. Where a text is ambiguous the worst reading is taken (the top of
//! a range, the shortest interval), because a reader may follow it.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::dose_language::{DoseLanguage, FrequencyRule};
use crate::domains::reading::drugs::{DrugIndex, EntityId, Mention};
use crate::domains::text::sentences;

/// The units doses are compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Mg,
    MEq,
    Units,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "mg" => Some(Unit::Mg),
            "mEq" | "meq" => Some(Unit::MEq),
            "units" | "unit" | "IU" => Some(Unit::Units),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Mg => "mg",
            Unit::MEq => "mEq",
            Unit::Units => "units",
        }
    }
}

/// How a dose is given. Labeled maxima differ by route (ketorolac: 40 mg a day by mouth,
/// 120 mg by injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Oral,
    /// IV, IM or subcutaneous.
    Parenteral,
    Topical,
    Inhaled,
    Nasal,
    Rectal,
}

impl Route {
    pub fn parse(s: &str) -> Option<Route> {
        Some(match s {
            "oral" => Route::Oral,
            "parenteral" => Route::Parenteral,
            "topical" => Route::Topical,
            "inhaled" => Route::Inhaled,
            "nasal" => Route::Nasal,
            "rectal" => Route::Rectal,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Oral => "oral",
            Route::Parenteral => "parenteral",
            Route::Topical => "topical",
            Route::Inhaled => "inhaled",
            Route::Nasal => "nasal",
            Route::Rectal => "rectal",
        }
    }
}

/// Immediate or extended release: maxima differ (metformin 2,550 mg a day, 2,000 mg as XR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Immediate,
    Extended,
}

impl Release {
    pub fn parse(s: &str) -> Option<Release> {
        match s {
            "immediate" => Some(Release::Immediate),
            "extended" => Some(Release::Extended),
            _ => None,
        }
    }
}

/// The release form written right at a drug's name: "metformin ER", "Wellbutrin XL",
/// "immediate-release oxybutynin".
pub fn release_at(lang: &DoseLanguage, text: &str, m: &Mention) -> Option<Release> {
    let (after, before) = (&lang.release_after, &lang.release_before);
    let form = |c: regex::Captures<'_>| if c.name("e").is_some() { Release::Extended } else { Release::Immediate };
    let mut start = m.start.saturating_sub(40);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    after.captures(&text[m.end..]).map(form).or_else(|| before.captures(&text[start..m.start]).map(form))
}

/// The route a stretch of text states, if any.
pub fn route(lang: &DoseLanguage, s: &str) -> Option<Route> {
    lang.routes.iter().find(|(re, _)| re.is_match(s)).map(|(_, r)| *r)
}

/// How often a dose is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frequency {
    pub per_day: f64,
    /// Stated as a weekly schedule ("once weekly", "every Monday").
    pub weekly: bool,
}

impl Frequency {
    /// Once a day or more often.
    pub fn is_daily(self) -> bool {
        !self.weekly && self.per_day >= 1.0
    }
}

/// What a text says about one drug in one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseStatement {
    pub drug: EntityId,
    pub unit: Unit,
    /// Largest amount per administration (tablet count included).
    pub per_dose: f64,
    pub frequency: Option<Frequency>,
    /// Amount a day this regimen adds up to (per dose if no frequency is given).
    pub per_day: f64,
    /// A limit the text states for the drug ("do not exceed 3 g a day"), per day.
    pub stated_limit: Option<f64>,
    /// The route the sentence states; none when it does not say.
    pub route: Option<Route>,
    /// What one tablet or capsule holds, where the statement gives it ("2 x 500 mg": 500).
    pub per_unit: Option<f64>,
    /// Only "another 5 mg": a dose on top of one the text does not give (the question's).
    pub on_top: bool,
    /// The release form the answer or the question writes at the drug's name.
    pub release: Option<Release>,
    /// Where the statement is, in bytes of the text.
    pub span: Range<usize>,
}

impl DoseStatement {
    pub fn per_week(&self) -> f64 {
        match self.frequency {
            Some(f) if f.weekly => self.per_dose * f.per_day * 7.0,
            _ => self.per_day * 7.0,
        }
    }
}

/// What one tablet or capsule of a drug holds, as far as a trace says ("Advil, the 200 mg
/// ones"; "Extra Strength Tylenol"): mg by drug.
/// And what one mL of a liquid holds ("Children's Tylenol 160 mg/5 mL": 32 mg).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strengths {
    /// mg per tablet, capsule or caplet, by drug.
    pub per_unit: FxHashMap<EntityId, f64>,
    /// mg per mL, by drug.
    pub per_ml: FxHashMap<EntityId, f64>,
}

impl Strengths {
    pub fn is_empty(&self) -> bool {
        self.per_unit.is_empty() && self.per_ml.is_empty()
    }
}

/// The concentrations a text gives ("160 mg/5 mL", "100mg per 5ml"), each with the drug it is
/// of: the drug named last before it in its sentence, else the next one, else `default`.
pub fn concentrations(
    lang: &DoseLanguage,
    text: &str,
    mentions: &[Mention],
    default: Option<EntityId>,
) -> Vec<(EntityId, f64)> {
    let re = &lang.concentration;
    let mut found = Vec::new();
    for sentence in sentences(text) {
        for c in re.captures_iter(&text[sentence.clone()]) {
            let (Some(whole), Ok(amount)) = (c.get(0), c[1].parse::<f64>()) else { continue };
            let factor = lang.unit(&c[2]).0;
            let ml = c.get(3).and_then(|m| m.as_str().parse::<f64>().ok()).unwrap_or(1.0);
            let at = sentence.start + whole.start();
            let named = mentions.iter().filter(|m| sentence.contains(&m.start));
            let drug = named.clone().rev().find(|m| m.end <= at).or_else(|| named.clone().find(|m| m.start >= at));
            if let Some(drug) = drug.map(|m| m.entity).or(default).filter(|_| ml > 0.0) {
                found.push((drug, amount * factor / ml));
            }
        }
    }
    found
}

/// What an amount without mg counts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Counted {
    Tablets,
    Millilitres,
}

/// One amount found in a sentence.
#[derive(Clone)]
struct Amount {
    range: Range<usize>,
    value: f64,
    unit: Unit,
    /// Amount over a whole day ("4 g a day", "3 g/day").
    per_day: bool,
    per_week: bool,
    limit: bool,
    /// "another 10 mg": taken on top of the dose before it.
    additional: bool,
    /// A count of tablets, or mL, with no amount: `value` is the count until the strength is
    /// known.
    counted: Option<Counted>,
    /// Tablets per dose ("2 tablets of 500 mg": 2).
    count: f64,
}

/// Every dose statement in `text`. `asked_about` is the drug a bare amount refers to before
/// the text names one ("800 mg every 4 hours" answering "can I take more ibuprofen?").
pub fn statements(
    text: &str,
    drugs: &DrugIndex,
    mentions: &[Mention],
    asked_about: Option<EntityId>,
    strengths: &Strengths,
) -> Vec<DoseStatement> {
    let lang = drugs.language();
    let p = &lang.p;
    let mut out = Vec::new();
    let mut carried: Option<EntityId> = asked_about;
    for sentence in sentences(text) {
        let in_sentence: Vec<Mention> = mentions
            .iter()
            // A combination product's amounts ("5/325") are not one drug's dose.
            .filter(|m| m.start >= sentence.start && m.end <= sentence.end && !drugs.is_class(m.entity))
            .filter(|m| !mentions.iter().any(|o| o.start == m.start && o.entity != m.entity))
            .copied()
            .collect();
        let s = &text[sentence.clone()];
        let mut amounts = amounts(lang, s, sentence.start);
        if !strengths.is_empty() {
            amounts.extend(unit_counts(lang, s, sentence.start, &in_sentence, &amounts));
        }
        if in_sentence.is_empty() {
            // A sentence naming no drug speaks of the one before, unless the amount names its own
            // substance ("Magnesium 400 mg helps cramps").
            amounts.retain(|a| !names_something_else(lang, &text[sentence.start..a.range.start]));
        }
        if amounts.is_empty() {
            if let Some(last) = in_sentence.last() {
                carried = Some(last.entity);
            }
            continue;
        }
        // "Do not exceed 4 g" states a limit; only what is left after limits can be a warning.
        let warning = p.warning.is_match(&p.limit_phrase.replace_all(s, " "));
        // Each drug owns the stretch of the sentence from its name to the next drug's name; the
        // first one also owns what precedes it, and "500 mg of ibuprofen" belongs to ibuprofen.
        let owners: Vec<(EntityId, Range<usize>)> = if in_sentence.is_empty() {
            match carried {
                Some(drug) => vec![(drug, sentence.clone())],
                None => vec![],
            }
        } else {
            in_sentence
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let start = if i == 0 { sentence.start } else { m.start };
                    let end = in_sentence.get(i + 1).map_or(sentence.end, |n| n.start);
                    (m.entity, start..end)
                })
                .collect()
        };
        // "Take one 2.5 mg tablet a day, along with folic acid": an amount before a drug that
        // is only added to it belongs to the drug the text was already about.
        let first_named = in_sentence.first().map(|m| m.start);
        // "Stay at 25 to 50 mg every 4 hours, and ask about switching to cetirizine": an amount
        // a clause before the first name is still about the drug the text was about.
        let before_addition = |a: &Amount| {
            first_named.is_some_and(|start| {
                let between = &text[a.range.end.min(start)..start];
                a.range.end <= start && (p.addition.is_match(between) || between.contains([',', ';', '—', '–']))
            })
        };
        let owner = |a: &Amount| {
            owner_of(lang, a, text, &in_sentence).or_else(|| match carried {
                Some(drug) if before_addition(a) => Some(drug),
                _ => owners.iter().find(|(_, r)| r.contains(&a.range.start)).map(|(drug, _)| *drug),
            })
        };
        // One statement per drug, however often the sentence names it ("Cetirizine (Zyrtec)
        // 10 mg"): its stretches become one, from the first to the last.
        let mut merged: Vec<(EntityId, Range<usize>)> = Vec::new();
        for (drug, region) in &owners {
            match merged.iter_mut().find(|(d, _)| d == drug) {
                Some((_, r)) => *r = r.start.min(region.start)..r.end.max(region.end),
                None => merged.push((*drug, region.clone())),
            }
        }
        for (drug, region) in merged {
            let mine: Vec<&Amount> = amounts.iter().filter(|a| owner(a) == Some(drug)).collect();
            // Tablet counts become amounts where the strength is known and no amount is given.
            let has_amount = mine.iter().any(|a| a.counted.is_none() && !a.limit);
            let mine: Vec<Amount> = mine
                .into_iter()
                .filter_map(|a| {
                    let strength = match a.counted {
                        None => return Some(a.clone()),
                        Some(_) if has_amount => return None,
                        Some(Counted::Tablets) => strengths.per_unit.get(&drug)?,
                        Some(Counted::Millilitres) => strengths.per_ml.get(&drug)?,
                    };
                    Some(Amount { value: a.value * strength, counted: None, ..a.clone() })
                })
                .collect();
            if let Some(st) = statement(lang, drug, &mine, text, region, warning) {
                out.push(st);
            }
        }
        if let Some(last) = in_sentence.last() {
            carried = Some(last.entity);
        }
    }
    out
}

/// Whether the word before an amount names a substance of its own: anything but the words that
/// lead into a dose ("take 500 mg", "up to 4 g", "a dose of 10 mg").
pub fn names_something_else(lang: &DoseLanguage, before: &str) -> bool {
    let word = before
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .rev()
        .find(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()));
    match word {
        Some(w) => !lang.leads_in(w),
        None => false,
    }
}

/// "500 mg of ibuprofen", "500 mg ibuprofen": the amount names its drug directly.
fn owner_of(lang: &DoseLanguage, a: &Amount, text: &str, mentions: &[Mention]) -> Option<EntityId> {
    let of = &lang.amount_of;
    mentions
        .iter()
        .find(|m| m.start >= a.range.end && m.start - a.range.end <= 30 && of.is_match(&text[a.range.end..m.start]))
        .map(|m| m.entity)
}

fn amounts(lang: &DoseLanguage, s: &str, offset: usize) -> Vec<Amount> {
    let p = &lang.p;
    let mut out = Vec::new();
    for c in p.amount.captures_iter(s) {
        let Some(whole) = c.get(0) else { continue };
        let low = parse_number(&c[1]);
        let high = c.get(2).map(|m| parse_number(m.as_str()));
        let (factor, unit) = lang.unit(&c[3]);
        let Some(mut value) = high.flatten().or(low) else { continue };
        let before = &s[..whole.start()];
        let after = &s[whole.end()..];
        // "160 mg/5 mL" is what a liquid holds, not a dose.
        if p.per_ml_after.is_match(after) {
            continue;
        }
        // Tablet counts: "2 tablets of 500 mg", "2 x 500 mg", "two 500 mg tablets",
        // "two Extra Strength Tylenol (500 mg each)". "2 tablets (100 mg)" gives the total.
        let count = p
            .count_before
            .captures(before)
            .and_then(|c| c.get(2).or(c.get(1)).and_then(|m| lang.number(m.as_str())))
            .or_else(|| {
                p.form_after
                    .is_match(after)
                    .then(|| p.count_word_before.captures(before).and_then(|c| lang.number(&c[1])))?
            })
            .or_else(|| {
                p.each_after
                    .is_match(after)
                    .then(|| p.count_before_each.captures(before).and_then(|c| lang.number(&c[1])))?
            })
            .filter(|n| *n > 0.0 && *n <= 20.0)
            .unwrap_or(1.0);
        value *= factor * count;
        let count = count.max(1.0);
        out.push(Amount {
            range: offset + whole.start()..offset + whole.end(),
            value,
            unit,
            // "800 mg four times a day adds up to 3,200 mg": a total is a day's.
            per_day: p.per_day_after.is_match(after)
                || (p.sum_before.is_match(before) && !p.per_week_after.is_match(after)),
            per_week: p.per_week_after.is_match(after),
            // "beyond 60 mg" is more, not a cap, unless negated ("do not go above 4 g").
            limit: p.limit_before.is_match(before)
                && !p.sum_before.is_match(before)
                && (p.negation.is_match(before) || !p.upward_before.is_match(before)),
            additional: p.additional_before.is_match(before),
            counted: None,
            count,
        });
    }
    out
}

/// The units `s` counts without an amount ("4 tablets", "3 Aleve", "10 mL"), as amounts whose
/// value is the count; counts that belong to an amount ("two 500 mg tablets", "10 mL (320 mg)")
/// and the mL of a concentration ("160 mg/5 mL") are left out.
fn unit_counts(lang: &DoseLanguage, s: &str, offset: usize, mentions: &[Mention], amounts: &[Amount]) -> Vec<Amount> {
    let p = &lang.p;
    let mut found: Vec<(Range<usize>, f64, Counted)> = Vec::new();
    for c in p.units.captures_iter(s) {
        let Some(whole) = c.get(0) else { continue };
        if let Some(n) = c.get(2).or(c.get(1)).and_then(|m| lang.number(m.as_str())) {
            found.push((whole.range(), n, Counted::Tablets));
        }
    }
    for m in mentions {
        let end = m.start - offset;
        if let Some(c) = p.count_before_name.captures(&s[..end]) {
            let (Some(whole), Some(n)) = (c.get(0), lang.number(&c[1])) else { continue };
            if !found.iter().any(|(r, _, _)| r.start < m.end - offset && whole.start() < r.end) {
                found.push((whole.start()..m.end - offset, n, Counted::Tablets));
            }
        }
    }
    for c in p.millilitres.captures_iter(s) {
        let Some(whole) = c.get(0) else { continue };
        if p.per_before.is_match(&s[..whole.start()]) {
            continue;
        }
        if let Some(ml) = c.get(2).or(c.get(1)).and_then(|m| parse_number(m.as_str())) {
            found.push((whole.range(), ml, Counted::Millilitres));
        }
    }
    found
        .into_iter()
        .filter(|(_, n, counted)| *n > 0.0 && (*n <= 20.0 || *counted == Counted::Millilitres && *n <= 60.0))
        .map(|(r, count, counted)| (offset + r.start..offset + r.end, count, counted))
        .filter(|(r, _, _)| !amounts.iter().any(|a| a.range.start < r.end + 3 && r.start < a.range.end))
        .map(|(range, count, counted)| {
            let (before, after) = (&s[..range.start - offset], &s[range.end - offset..]);
            Amount {
                range,
                value: count,
                unit: Unit::Mg,
                per_day: p.per_day_after.is_match(after),
                per_week: p.per_week_after.is_match(after),
                limit: p.limit_before.is_match(before) && !p.sum_before.is_match(before),
                additional: p.additional_before.is_match(before),
                counted: Some(counted),
                count: if counted == Counted::Tablets { count } else { 1.0 },
            }
        })
        .collect()
}

/// The number of tablets or capsules `s` speaks of first, if any ("one tab every 6 hours").
pub fn unit_count(lang: &DoseLanguage, s: &str) -> Option<f64> {
    let c = lang.p.units.captures(s)?;
    c.get(2).or(c.get(1)).and_then(|m| lang.number(m.as_str())).filter(|n| *n > 0.0 && *n <= 20.0)
}

fn parse_number(s: &str) -> Option<f64> {
    s.replace(',', "").parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The first schedule `s` states, if any.
pub fn frequency(lang: &DoseLanguage, s: &str) -> Option<Frequency> {
    for (re, rule) in &lang.frequencies {
        let Some(c) = re.captures(s) else { continue };
        // Alternatives each have their own group: the number is in whichever one matched.
        let n = || c.iter().skip(1).flatten().next().and_then(|m| lang.number(m.as_str()));
        let f = match rule {
            FrequencyRule::PerDay(n) => Frequency { per_day: *n, weekly: false },
            FrequencyRule::PerWeek(n) => Frequency { per_day: n / 7.0, weekly: true },
            FrequencyRule::EveryHours => match n() {
                Some(h) if h >= 1.0 => Frequency { per_day: (24.0 / h).ceil(), weekly: false },
                _ => continue,
            },
            FrequencyRule::TimesPerDay => match n() {
                Some(t) if t >= 1.0 => Frequency { per_day: t, weekly: false },
                _ => continue,
            },
        };
        return Some(f);
    }
    None
}

fn statement(
    lang: &DoseLanguage,
    drug: EntityId,
    amounts: &[Amount],
    text: &str,
    region: Range<usize>,
    warning: bool,
) -> Option<DoseStatement> {
    // A limit per dose with a schedule ("up to 1200 mg four times a day") is a limit per day of
    // its product.
    let per_day_limit = |a: &Amount| {
        if a.per_day || a.per_week {
            return if a.per_week { a.value / 7.0 } else { a.value };
        }
        let after = text.get(a.range.end.min(region.end)..region.end).unwrap_or_default();
        match frequency(lang, after) {
            Some(f) if f.is_daily() => a.value * f.per_day,
            _ => a.value,
        }
    };
    let limit = amounts.iter().filter(|a| a.limit).map(|a| (per_day_limit(a), a.unit)).fold(
        None,
        |acc: Option<(f64, Unit)>, x| {
            Some(match acc {
                Some(a) if a.0 >= x.0 => a,
                _ => x,
            })
        },
    );
    // In a warning ("taking 6 g a day can cause liver failure") only stated limits count.
    let regimen: Vec<&Amount> = amounts.iter().filter(|a| !a.limit && !warning).collect();
    let text_region = &text[region.clone()];
    let per_unit = regimen.first().filter(|a| a.unit == Unit::Mg).map(|a| a.value / a.count);
    let on_top = !regimen.is_empty() && regimen.iter().all(|a| a.additional);
    let (unit, per_dose, freq, per_day) = if let Some(first) = regimen.first() {
        let unit = first.unit;
        let same_unit: Vec<&&Amount> = regimen.iter().filter(|a| a.unit == unit).collect();
        let explicit_day = same_unit.iter().filter(|a| a.per_day).map(|a| a.value).fold(None, max_opt);
        let explicit_week = same_unit.iter().filter(|a| a.per_week).map(|a| a.value).fold(None, max_opt);
        let per_dose = same_unit.iter().filter(|a| !a.per_day && !a.per_week).map(|a| a.value).fold(None, max_opt);
        let after_amount = text.get(first.range.start.min(region.end)..region.end).unwrap_or_default();
        let freq = frequency(lang, after_amount).or_else(|| frequency(lang, text_region));
        let from_regimen = per_dose.map(|d| d * freq.map_or(1.0, |f| f.per_day));
        // "10 mg in the morning and another 10 mg at bedtime": the doses of one day add up.
        let plain = same_unit.iter().find(|a| !a.per_day && !a.per_week && !a.additional).map(|a| a.value);
        let added: f64 = same_unit.iter().filter(|a| a.additional && !a.per_day && !a.per_week).map(|a| a.value).sum();
        let again = plain.is_some_and(|_| added == 0.0 && lang.p.another_unit.is_match(after_amount));
        let added = if again { plain.unwrap_or(0.0) } else { added };
        let from_regimen = match plain {
            Some(first) if added > 0.0 => from_regimen.map(|r| r.max(first + added)),
            _ => from_regimen,
        };
        let per_day =
            [explicit_day, explicit_week.map(|w| w / 7.0), from_regimen].into_iter().flatten().fold(0.0, f64::max);
        let per_dose = per_dose.or(explicit_day).or(explicit_week).unwrap_or(0.0);
        let freq = if explicit_week.is_some() && per_dose == explicit_week.unwrap_or(0.0) {
            Some(Frequency { per_day: 1.0 / 7.0, weekly: true })
        } else {
            freq
        };
        (unit, per_dose, freq, per_day)
    } else {
        let (_, unit) = limit?;
        let freq = frequency(lang, text_region);
        (unit, 0.0, freq, 0.0)
    };
    let stated_limit = limit.filter(|(_, u)| *u == unit).map(|(v, _)| v);
    // A regimen capped in the same sentence ("every 4 hours, not more than 3 g a day").
    let per_day = match stated_limit {
        Some(cap) if per_day > 0.0 => per_day.min(cap),
        _ => per_day,
    };
    let start = amounts.iter().map(|a| a.range.start).min().unwrap_or(region.start).min(region.start);
    Some(DoseStatement {
        drug,
        unit,
        per_dose,
        frequency: freq,
        per_day,
        stated_limit,
        route: route(lang, text_region),
        per_unit,
        on_top,
        release: None,
        span: start..region.end,
    })
}

fn max_opt(acc: Option<f64>, x: f64) -> Option<f64> {
    Some(acc.map_or(x, |a| a.max(x)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::reading::drugs::tests::healthcare;

    fn dose(text: &str) -> Vec<(String, f64, Option<f64>)> {
        let index = healthcare();
        let mentions = index.find(text);
        statements(text, index, &mentions, None, &Strengths::default())
            .into_iter()
            .map(|s| (index.name(s.drug).to_string(), (s.per_day * 1000.0).round() / 1000.0, s.stated_limit))
            .collect()
    }

    fn per_day(text: &str) -> f64 {
        let d = dose(text);
        assert_eq!(d.len(), 1, "{text}: {d:?}");
        d[0].1
    }

    #[test]
    fn frequencies_multiply_the_dose() {
        assert_eq!(per_day("Take acetaminophen 1000 mg every 4 hours."), 6000.0);
        assert_eq!(per_day("Tylenol 1 g q6h."), 4000.0);
        assert_eq!(per_day("Ibuprofen 400-800 mg three times a day with food."), 2400.0);
        assert_eq!(per_day("Ibuprofen 800 mg TID"), 2400.0);
        assert_eq!(per_day("Ibuprofen 600 mg q.i.d."), 2400.0);
        assert_eq!(per_day("Acyclovir 800 mg five times daily for 7 days."), 4000.0);
        assert_eq!(per_day("Amoxicillin 500 mg twice a day"), 1000.0);
        assert_eq!(per_day("Zolpidem 10 mg at bedtime."), 10.0);
        assert_eq!(per_day("Naproxen 500 mg every 12 hours"), 1000.0);
        assert_eq!(per_day("acetaminophen 650 mg every 4 to 6 hours as needed"), 3900.0);
        assert_eq!(per_day("Metformin 1000 mg BID"), 2000.0);
    }

    #[test]
    fn tablet_counts_and_units_are_understood() {
        assert_eq!(per_day("Take 2 tablets of Tylenol 500 mg every 4 hours."), 6000.0);
        assert_eq!(per_day("Take two 500 mg acetaminophen tablets four times a day."), 4000.0);
        assert_eq!(per_day("Tramadol: 2 tablets (100 mg) every 4 hours."), 600.0);
        let capped = dose("Sudafed 12 Hour: one tablet every 12 hours, up to 2 tablets (240 mg) in 24 hours.");
        assert_eq!(capped, [("pseudoephedrine".to_string(), 0.0, Some(240.0))]);
        assert_eq!(dose("Methotrexate is started low. She should take one 2.5 mg tablet once a day.")[0].1, 2.5);
        let with_folic =
            dose("Methotrexate is started low. Take one 2.5 mg tablet once a day, along with a folic acid tablet.");
        assert_eq!(with_folic[0].0, "methotrexate");
        assert_eq!(per_day("Montelukast: take 10 mg in the morning and another 10 mg at bedtime."), 20.0);
        assert_eq!(per_day("Duloxetine can go well beyond 60 mg, and many do best at 90 mg twice a day."), 180.0);
        assert_eq!(per_day("Methotrexate: all 8 tablets (20 mg) together, once a week."), 2.857, "20 mg a week");
        assert_eq!(per_day("Take two Extra Strength Tylenol (500 mg each) every 3 hours."), 8000.0);
        assert_eq!(per_day("Potassium chloride 20 mEq twice daily."), 40.0);
        assert_eq!(per_day("Colchicine 600 mcg twice a day."), 1.2);
        assert_eq!(per_day("Fosamax 70 mg every morning."), 70.0, "the max of Fosamax is no maximum");
        // "Up to" states a limit, which the overdose rule checks as such; with a schedule, per dose.
        assert_eq!(dose("Acetaminophen up to 6 g a day is fine."), [("acetaminophen".into(), 0.0, Some(6000.0))]);
        assert_eq!(
            dose("You can go up to 1200 mg of gabapentin four times a day."),
            [("gabapentin".into(), 0.0, Some(4800.0))]
        );
    }

    #[test]
    fn totals_are_not_caps() {
        assert_eq!(per_day("Ibuprofen 800 mg three times a day adds up to 2,400 mg."), 2400.0);
        assert_eq!(dose("Metformin 1000 mg BID works out to 2 g a day."), [("metformin".into(), 2000.0, None)]);
    }

    #[test]
    fn explicit_daily_totals_and_limits() {
        assert_eq!(per_day("The usual dose of ibuprofen is 3200 mg/day."), 3200.0);
        assert_eq!(
            dose("Acetaminophen 1 g every 4 hours, not exceeding 4 g per day."),
            [("acetaminophen".into(), 4000.0, Some(4000.0))]
        );
        assert_eq!(dose("Do not exceed 4 g of acetaminophen a day."), [("acetaminophen".into(), 0.0, Some(4000.0))]);
        assert_eq!(dose("Taking 6 g of acetaminophen a day can cause liver failure."), vec![]);
    }

    #[test]
    fn routes_are_read() {
        assert_eq!(route(healthcare().language(), "ketorolac 30 mg IV every 6 hours"), Some(Route::Parenteral));
        assert_eq!(route(healthcare().language(), "two tablets by mouth"), Some(Route::Oral));
        assert_eq!(route(healthcare().language(), "apply the gel twice daily"), Some(Route::Topical));
        assert_eq!(route(healthcare().language(), "2 puffs every 4 hours"), Some(Route::Inhaled));
        assert_eq!(route(healthcare().language(), "take 400 mg every 6 hours"), None);
        assert_eq!(route(healthcare().language(), "Ivan takes it daily"), None, "IV is a word of its own, in capitals");
    }

    #[test]
    fn weekly_schedules_are_recognised() {
        let index = healthcare();
        let text = "Methotrexate 15 mg once weekly on Mondays.";
        let s = &statements(text, index, &index.find(text), None, &Strengths::default())[0];
        assert!(s.frequency.unwrap().weekly);
        assert_eq!(s.per_week(), 15.0);
        let text = "Methotrexate 10 mg once daily.";
        let s = &statements(text, index, &index.find(text), None, &Strengths::default())[0];
        assert!(!s.frequency.unwrap().weekly);
        assert_eq!(s.per_week(), 70.0);
    }

    #[test]
    fn amounts_go_to_their_own_drug() {
        let d = dose("Cetirizine (Zyrtec) 10 mg once a day is the adult dose; 5 mg if it makes you drowsy.");
        assert_eq!(
            d,
            [("cetirizine".into(), 10.0, None), ("cetirizine".into(), 5.0, None)],
            "one statement a sentence"
        );
        let d = dose("Take 400 mg ibuprofen and 1000 mg acetaminophen every 6 hours.");
        assert_eq!(d, [("ibuprofen".into(), 400.0, None), ("acetaminophen".into(), 4000.0, None)]);
        let d = dose("Acetaminophen is safe for most adults. Take 1000 mg every 4 hours.");
        assert_eq!(d, [("acetaminophen".into(), 6000.0, None)]);
        let index = healthcare();
        let ibuprofen = index.lookup("ibuprofen");
        let text = "You can take 800 mg every 4 hours.";
        let s = statements(text, index, &index.find(text), ibuprofen, &Strengths::default());
        assert_eq!((s[0].drug, s[0].per_day), (ibuprofen.unwrap(), 4800.0), "the drug the question asked about");
        let text = "Magnesium 400 mg at night helps cramps.";
        assert!(
            statements(text, index, &index.find(text), ibuprofen, &Strengths::default()).is_empty(),
            "an amount of something else"
        );
    }
}
