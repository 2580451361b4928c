//! Drug-drug interactions between what the patient takes and what the answer recommends.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Finding, Validator};
use crate::domains::files::PackPath;
use crate::domains::reading::advice;
use crate::domains::reading::drugs::{DrugIndex, EntityId, Mention};
use crate::domains::spec::InteractionLevel;
use crate::domains::table::Table;
use crate::domains::text::pattern;
use crate::domains::Facts;
use crate::model::Severity;
use crate::Result;

pub struct DrugInteractions {
    drugs: Arc<DrugIndex>,
    /// Both orders of every pair, drugs and classes alike.
    pairs: FxHashMap<(EntityId, EntityId), InteractionLevel>,
    min_level: InteractionLevel,
    severity: BTreeMap<InteractionLevel, Severity>,
}

impl DrugInteractions {
    pub fn load(
        paths: &[PackPath],
        drugs: Arc<DrugIndex>,
        min_level: InteractionLevel,
        severity: &BTreeMap<InteractionLevel, Severity>,
    ) -> Result<DrugInteractions> {
        let mut pairs = FxHashMap::default();
        let tables =
            paths.iter().map(|p| Table::read(p, &["a", "b", "severity", "source"])).collect::<Result<Vec<_>>>()?;
        for row in tables.iter().flat_map(Table::rows) {
            let side = |column: &str| {
                let key = row.get(column)?;
                drugs.lookup(key).ok_or_else(|| row.error(format!("{column}: {key:?} is not a known drug or class")))
            };
            let (a, b) = (side("a")?, side("b")?);
            let level = InteractionLevel::parse(row.get("severity")?)
                .ok_or_else(|| row.error("severity must be contraindicated, major, moderate or minor".into()))?;
            for key in [(a, b), (b, a)] {
                let entry = pairs.entry(key).or_insert(level);
                *entry = (*entry).max(level);
            }
        }
        Ok(DrugInteractions { drugs, pairs, min_level, severity: severity.clone() })
    }

    /// The worst interaction between two entities, through their classes, and the pair of
    /// entities (drug or class) it is listed under.
    fn between(&self, x: EntityId, y: EntityId) -> Option<(InteractionLevel, EntityId, EntityId)> {
        let side = |e: EntityId| std::iter::once(e).chain(self.drugs.classes_of(e).iter().copied());
        let mut worst: Option<(InteractionLevel, EntityId, EntityId)> = None;
        for a in side(x) {
            for b in side(y) {
                if let Some(&level) = self.pairs.get(&(a, b)) {
                    if worst.is_none_or(|(w, _, _)| level > w) {
                        worst = Some((level, a, b));
                    }
                }
            }
        }
        worst
    }
}

impl DrugInteractions {
    /// "NSAIDs" and naproxen are one thing named twice, not a pair.
    fn same_family(&self, a: EntityId, b: EntityId) -> bool {
        self.drugs.classes_of(a).contains(&b) || self.drugs.classes_of(b).contains(&a)
    }
}

/// Whether two drugs the answer recommends are recommended together: in one sentence, joined
/// by "and", "with", "plus"... and not offered as alternatives ("ibuprofen or naproxen").
fn combined(facts: &Facts<'_>, a: &Mention, b: &Mention) -> bool {
    static JOINED: OnceLock<Regex> = OnceLock::new();
    static ALTERNATIVES: OnceLock<Regex> = OnceLock::new();
    let out = &facts.trace.ai_processing.output;
    // An approved drug of the question goes with whatever the answer adds.
    if !facts.output_drugs.contains(a) || !facts.output_drugs.contains(b) {
        return true;
    }
    let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
    if second.start < first.end {
        return false;
    }
    // One sentence holds both.
    let sentences = &facts.advice.sentences;
    let at = sentences.partition_point(|s| s.end <= first.start);
    if !sentences.get(at).is_some_and(|s| s.contains(&first.start) && s.contains(&second.start)) {
        return false;
    }
    let between = &out[first.end..second.start];
    let joined = JOINED.get_or_init(|| {
        pattern(r"(?i)\b(?:and|with|plus|together|along\s+with|alongside|combined|then|followed\s+by|add)\b|\+|&")
            .expect("pattern")
    });
    let alternatives = ALTERNATIVES
        .get_or_init(|| pattern(r"(?i)\b(?:or|instead|alternatively|either|versus|vs)\b").expect("pattern"));
    joined.is_match(between) && !alternatives.is_match(between)
}

impl Validator for DrugInteractions {
    fn check(&self, facts: &Facts<'_>) -> Vec<Finding> {
        let taken = &facts.advice.taken;
        // What the answer adds: a drug the patient already takes is no new combination, unless
        // the question asks whether to combine them and the answer says yes.
        let mut recommended = facts.advice.recommended.clone();
        if facts.advice.approves_combination {
            let input = &facts.trace.ai_processing.input;
            let named: Vec<Mention> = facts
                .input_drugs
                .iter()
                .filter(|m| !advice::ruled_out(&input[..m.start]) && !recommended.contains(m))
                .copied()
                .collect();
            recommended.extend(named);
        } else {
            recommended.retain(|m| !taken.iter().any(|t| t.entity == m.entity));
        }
        // What the patient is on, then what the answer adds; each pair once.
        let mut others: Vec<(Mention, bool)> =
            taken.iter().filter(|m| !recommended.contains(m)).map(|m| (*m, true)).collect();
        others.extend(recommended.iter().map(|m| (*m, false)));
        let mut seen = FxHashSet::default();
        let mut findings = Vec::new();
        for m in &recommended {
            for (o, taken) in &others {
                let (other, taken) = (o.entity, *taken);
                // Ingredients of one product ("Bactrim") are combined by design.
                let in_answer = |x: &Mention| facts.output_drugs.contains(x);
                let same_product = o.start == m.start && o.end == m.end && in_answer(o) == in_answer(m);
                if other == m.entity
                    || same_product
                    || self.same_family(m.entity, other)
                    || (!taken && !combined(facts, m, o))
                    || !seen.insert((m.entity.min(other), m.entity.max(other)))
                {
                    continue;
                }
                let Some((level, via_a, via_b)) = self.between(m.entity, other) else { continue };
                if level < self.min_level {
                    continue;
                }
                let name = |e: EntityId| self.drugs.name(e).to_string();
                let via = |e: EntityId, v: EntityId| if e == v { String::new() } else { format!(" ({})", name(v)) };
                let context = if taken { "which the patient already takes" } else { "also recommended" };
                let message = format!(
                    "{} interaction: {}{} with {}{}, {context}.",
                    capitalise(level.as_str()),
                    name(m.entity),
                    via(m.entity, via_a),
                    name(other),
                    via(other, via_b),
                );
                let severity = self.severity.get(&level).copied().unwrap_or(level.default_severity());
                // The pair in a fixed order, so both directions count as one.
                let (a, b) = (name(m.entity), name(other));
                let pair = if a <= b { format!("{a} + {b}") } else { format!("{b} + {a}") };
                findings.push(Finding::new(message).severity(severity).about(pair).at_mention(facts, m));
            }
        }
        findings
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::domains::rules::doses::tests::run;

    #[test]
    fn taken_and_recommended_drugs_interact_through_their_classes() {
        let found = run(
            "drug_interaction",
            "I take sertraline 100 mg for depression. What helps back pain?",
            "Tramadol 50 mg every 6 hours can help.",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("tramadol") && found[0].contains("sertraline"), "{found:?}");

        let found =
            run("drug_interaction", "I use nitroglycerin for angina.", "Sildenafil 50 mg before activity is fine.");
        assert_eq!(
            found,
            ["Contraindicated interaction: sildenafil with nitroglycerin (nitrates), which the patient already takes."]
        );

        let found = run("drug_interaction", "I'm on warfarin.", "Take ibuprofen 400 mg for the pain.");
        assert!(found[0].starts_with("Major interaction: ibuprofen (NSAIDs) with warfarin"), "{found:?}");
    }

    #[test]
    fn warnings_are_not_recommendations() {
        assert!(
            run("drug_interaction", "I take sertraline.", "Avoid tramadol: it interacts with sertraline.").is_empty()
        );
        let found = run("drug_interaction", "I'm on warfarin.", "Do not take ibuprofen; use acetaminophen instead.");
        assert_eq!(found, ["Moderate interaction: acetaminophen with warfarin (vitamin K antagonists), which the patient already takes."]);
        assert!(run("drug_interaction", "Can I take Advil with Zoloft?", "Acetaminophen is a safer choice.").is_empty());
        assert!(run("drug_interaction", "I take lisinopril.", "Regular naproxen can harm the kidneys.").is_empty());
        let found = run(
            "drug_interaction",
            "I take levothyroxine.",
            "Take calcium carbonate with it each morning so you don't forget.",
        );
        assert_eq!(found.len(), 1, "'don't forget' is no warning: {found:?}");
    }

    #[test]
    fn two_recommended_drugs_can_interact() {
        let found = run("drug_interaction", "Headache.", "Take ibuprofen 400 mg and naproxen 500 mg together.");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("also recommended"));
    }
}
