//! Reading a trace: what its text says, for the rules. Drugs and the doses stated for them
//! ([`dose`]), what the answer recommends ([`advice`]), who the patient is ([`patient`]), what
//! the patient's products contain ([`products`]), and an agent's orders and portfolio states
//! ([`trading`]). A pack's vocabulary (its entity index) is the only pack data it needs.

pub mod advice;
pub mod dose;
pub mod dose_language;
pub mod drugs;
pub mod patient;
pub mod products;
pub mod trading;

use self::dose::DoseStatement;
use self::drugs::{DrugIndex, EntityId, Mention};
use self::trading::Trajectory;
use crate::model::Trace;

/// What a domain's validators look at: the trace, and what the domain's entity index found in
/// it, worked out once per trace rather than once per rule.
pub struct Facts<'a> {
    pub trace: &'a Trace,
    pub drugs: Option<&'a DrugIndex>,
    /// Drugs named in the input: what the patient takes or asks about.
    pub input_drugs: Vec<Mention>,
    /// Drugs named in the answer.
    pub output_drugs: Vec<Mention>,
    /// Dose statements of the answer.
    pub doses: Vec<DoseStatement>,
    /// Dose statements of the question: what the patient takes or took.
    pub question_doses: Vec<DoseStatement>,
    /// What the question says the patient takes through products (acetaminophen in Percocet).
    pub taken_doses: Vec<products::TakenDose>,
    /// Orders and portfolio states of an agent's trajectory.
    pub trajectory: Trajectory,
    /// What the answer recommends, and what the patient takes (see [`advice`]).
    pub advice: advice::Advice,
    /// Who the patient is, as far as the question says.
    pub patient: patient::Patient,
}

impl<'a> Facts<'a> {
    /// Reads `trace` with a pack's entity index: what the pack's rules look at.
    pub fn read(trace: &'a Trace, drugs: Option<&'a DrugIndex>) -> Facts<'a> {
        let mut facts = Facts::bare(trace);
        if let Some(drugs) = drugs {
            let ai = &trace.ai_processing;
            facts.drugs = Some(drugs);
            facts.input_drugs = drugs.find(&ai.input);
            facts.output_drugs = drugs.find(&ai.output);
            // A bare amount in the answer is about the (last) drug the question named.
            let asked_about = facts.input_drugs.iter().rev().find(|m| !drugs.is_class(m.entity)).map(|m| m.entity);
            let none = dose::Strengths::default();
            facts.question_doses = dose::statements(&ai.input, drugs, &facts.input_drugs, None, &none);
            let strengths = strengths(drugs, &facts, asked_about);
            facts.doses = dose::statements(&ai.output, drugs, &facts.output_drugs, asked_about, &strengths);
            // The release form: at the drug's name in the statement, else elsewhere in the
            // answer, else in the question.
            for st in &mut facts.doses {
                let (drug, span) = (st.drug, st.span.clone());
                let at = |text: &str, m: &Mention| {
                    (m.entity == drug).then(|| dose::release_at(drugs.language(), text, m)).flatten()
                };
                let answer = &facts.output_drugs;
                st.release = answer
                    .iter()
                    .filter(|m| span.contains(&m.start))
                    .find_map(|m| at(&ai.output, m))
                    .or_else(|| answer.iter().find_map(|m| at(&ai.output, m)))
                    .or_else(|| facts.input_drugs.iter().find_map(|m| at(&ai.input, m)));
            }
            facts.taken_doses = drugs.products().taken(drugs.language(), &ai.input);
            facts.advice = advice::Advice::of(&facts);
            facts.patient = patient::Patient::from_question(&ai.input);
        }
        if !trace.steps.is_empty() {
            facts.trajectory = Trajectory::from_trace(trace);
        }
        facts
    }

    /// Facts without a domain: only the trace itself.
    pub fn bare(trace: &'a Trace) -> Facts<'a> {
        Facts {
            trace,
            drugs: None,
            input_drugs: vec![],
            output_drugs: vec![],
            doses: vec![],
            question_doses: vec![],
            taken_doses: vec![],
            trajectory: Trajectory::default(),
            advice: advice::Advice::default(),
            patient: patient::Patient::default(),
        }
    }
}

/// What one tablet of each drug holds, as the trace says: a product the answer names ("two
/// Extra Strength Tylenol"), a strength the question gives ("Advil, the 200 mg ones"), or a
/// product the question names, in that order.
///
/// And what a mL of a liquid holds, from a concentration the answer or the question gives.
fn strengths(drugs: &DrugIndex, facts: &Facts<'_>, asked_about: Option<EntityId>) -> dose::Strengths {
    let (input, output) = (&facts.trace.ai_processing.input, &facts.trace.ai_processing.output);
    let mut strengths = dose::Strengths::default();
    let products = drugs.products();
    let from_products = |text: &str, strengths: &mut dose::Strengths| {
        for m in products.find(text) {
            let product = products.get(m.product);
            strengths.per_unit.entry(product.drug).or_insert(product.per_unit_mg);
        }
    };
    from_products(output, &mut strengths);
    for st in &facts.question_doses {
        if let Some(mg) = st.per_unit.filter(|mg| *mg > 0.0) {
            strengths.per_unit.entry(st.drug).or_insert(mg);
        }
    }
    from_products(input, &mut strengths);
    for (text, mentions) in [(output, &facts.output_drugs), (input, &facts.input_drugs)] {
        for (drug, per_ml) in dose::concentrations(drugs.language(), text, mentions, asked_about) {
            strengths.per_ml.entry(drug).or_insert(per_ml);
        }
    }
    strengths
}
