//! Demo traces. [`History`] is what `aegis seed` stores: a month of production-like traffic
//! made of the shipped packs' labelled answers (the healthcare pack's hand-written ones, the
//! trading simulator's episodes), with a realistic share of problems. [`Generator`] makes
//! templated traces of both domains quickly, for the load generator and the tests. Both are
//! deterministic for a given seed, so demos and benchmarks are repeatable.
//!
//! The patients and their identifiers are invented; some traces are deliberately unsafe
//! (an overdose, a dangerous interaction, a blown risk limit) so that every tier has something
//! to find.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::domains::cases::{parse_jsonl, Label};
use crate::domains::PackDir;
use crate::model::{AiProcessing, Step, TraceInput};
use crate::{Error, Result};

/// A reproducible source of demo traces.
pub struct Generator {
    rng: StdRng,
    now: DateTime<Utc>,
}

const FIRST_NAMES: &[&str] =
    &["Maria", "James", "Aisha", "Robert", "Mei", "David", "Sofia", "Michael", "Priya", "John"];
const LAST_NAMES: &[&str] =
    &["Garcia", "Smith", "Okafor", "Johnson", "Chen", "Miller", "Rossi", "Brown", "Patel", "Wilson"];
const CLINICAL_MODELS: &[&str] = &["gpt-4o-2024-08-06", "claude-sonnet-4", "llama-3.1-70b-instruct"];
const SPECIALTIES: &[&str] = &["primary_care", "cardiology", "emergency", "oncology", "pediatrics", "psychiatry"];

/// (question, answer) templates; `{name}`, `{age}`, `{dob}`, `{mrn}` are filled in.
const CLINICAL_CASES: &[(&str, &str)] = &[
    (
        "Patient {name}, {age}y, MRN {mrn}, has tension headaches. What is the maximum daily dose of acetaminophen?",
        "For healthy adults the maximum is 4,000 mg per day (for example 1,000 mg every 6 hours). Consider 3,000 mg per day if the patient drinks alcohol regularly or has liver disease. Please confirm with the prescribing clinician.",
    ),
    (
        "{name} (DOB {dob}) takes warfarin 5 mg daily and asks about ibuprofen for back pain.",
        "Avoid ibuprofen: NSAIDs taken with warfarin significantly raise the risk of bleeding. Acetaminophen up to 3 g/day is preferred; monitor the INR if it is used regularly. This does not replace the advice of the treating physician.",
    ),
    (
        "Patient {name}, {age}y, with chronic pain wants faster relief. Current regimen: acetaminophen 500 mg.",
        "Take 2,000 mg of acetaminophen every 6 hours (four times a day) until the pain settles.",
    ),
    (
        "{name}, MRN {mrn}, on sertraline 100 mg for depression, is asking about tramadol after knee surgery.",
        "Tramadol combined with sertraline can cause serotonin syndrome. Prefer a non-serotonergic analgesic and watch for agitation, tremor and fever. Discuss with the surgeon and psychiatrist before any change.",
    ),
    (
        "Methotrexate dosing question for {name} ({age}y) with rheumatoid arthritis.",
        "Start methotrexate 7.5 mg once daily and increase to 15 mg once daily after four weeks.",
    ),
    (
        "{name} (DOB {dob}) has type 2 diabetes and an eGFR of 25. Can metformin be continued?",
        "Metformin is contraindicated when eGFR falls below 30 mL/min/1.73m2; it should be stopped. Alternatives include a DPP-4 inhibitor with renal dose adjustment. Please review with the nephrology team.",
    ),
    (
        "Patient {name}, {age}y, taking sildenafil, reports chest pain. Can he use his nitroglycerin spray?",
        "No. Nitrates must not be used within 24 hours of sildenafil: the combination can cause a dangerous fall in blood pressure. Call emergency services now for chest pain.",
    ),
    (
        "What dose of amoxicillin for {name}, a {age}-year-old with acute otitis media, 20 kg?",
        "High-dose amoxicillin 80-90 mg/kg/day divided twice daily: about 900 mg twice a day for 20 kg, for 10 days. Confirm allergies first and consult the pediatrician.",
    ),
    (
        "{name}, MRN {mrn}, on simvastatin 40 mg, has a sinus infection. Is clarithromycin OK?",
        "Clarithromycin is fine with simvastatin, no adjustment needed.",
    ),
    (
        "Summarize discharge instructions for {name} after an uncomplicated appendectomy.",
        "Rest for 1-2 weeks, avoid lifting more than 10 lb for 4 weeks, keep the incision dry for 48 hours, and return for fever above 38.5 C, worsening pain or wound redness. Follow up with the surgeon in 2 weeks.",
    ),
];

const SYMBOLS: &[(&str, f64)] =
    &[("AAPL", 189.0), ("MSFT", 415.0), ("NVDA", 121.0), ("SPY", 548.0), ("TSLA", 242.0), ("JPM", 201.0)];
const STRATEGIES: &[&str] = &["momentum", "mean_reversion", "market_making", "pairs"];
const TRADING_MODELS: &[&str] = &["ppo-v3.2", "sac-v1.8", "dqn-rainbow-v2"];

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator { rng: StdRng::seed_from_u64(seed), now: Utc::now() }
    }

    /// A trace of either domain, about two thirds of them clinical.
    pub fn trace(&mut self) -> TraceInput {
        if self.rng.gen_bool(0.65) {
            self.healthcare()
        } else {
            self.trading()
        }
    }

    /// A clinical question, the model's answer and a formulary lookup step.
    pub fn healthcare(&mut self) -> TraceInput {
        let (question, answer) = *CLINICAL_CASES.choose(&mut self.rng).unwrap_or(&CLINICAL_CASES[0]);
        let name = format!("{} {}", pick(&mut self.rng, FIRST_NAMES), pick(&mut self.rng, LAST_NAMES));
        let age = self.rng.gen_range(4..93);
        let dob = format!("{:02}/{:02}/{}", self.rng.gen_range(1..13), self.rng.gen_range(1..29), 2026 - age);
        let mrn = format!("MRN-{:07}", self.rng.gen_range(0..10_000_000));
        let input = question
            .replace("{name}", &name)
            .replace("{age}", &age.to_string())
            .replace("{dob}", &dob)
            .replace("{mrn}", &mrn);
        let timestamp = self.recent();
        let latency = self.rng.gen_range(350.0..3200.0_f64).round();
        let lookup_ms = self.rng.gen_range(8..60);
        let drug_terms: Vec<&str> = input
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 6 && w.chars().all(|c| c.is_ascii_lowercase()))
            .take(3)
            .collect();
        let steps = vec![
            Step {
                kind: "retrieval".into(),
                name: Some("formulary_lookup".into()),
                input: Some(json!({ "terms": drug_terms })),
                output: Some(json!({ "documents": self.rng.gen_range(1..6) })),
                reward: None,
                started_at: Some(timestamp),
                ended_at: Some(timestamp + Duration::milliseconds(lookup_ms)),
            },
            Step {
                kind: "llm".into(),
                name: Some("answer".into()),
                input: None,
                output: None,
                reward: None,
                started_at: Some(timestamp + Duration::milliseconds(lookup_ms)),
                ended_at: Some(timestamp + Duration::milliseconds(latency as i64)),
            },
        ];
        let mut metadata = BTreeMap::new();
        metadata.insert("domain".into(), "healthcare".into());
        metadata.insert("specialty".into(), pick(&mut self.rng, SPECIALTIES).into());
        metadata.insert("environment".into(), "production".into());
        TraceInput {
            trace_id: None,
            application_id: "clinical-assistant".into(),
            ai_processing: AiProcessing {
                model: pick(&mut self.rng, CLINICAL_MODELS).into(),
                prompt_tokens: Some(tokens(&input) + 180),
                completion_tokens: Some(tokens(answer)),
                input,
                output: answer.into(),
                latency_ms: Some(latency),
            },
            steps,
            metadata,
            timestamp: Some(timestamp),
        }
    }

    /// One episode of an RL trading agent: observations, orders and rewards.
    pub fn trading(&mut self) -> TraceInput {
        let (symbol, base_price) = *SYMBOLS.choose(&mut self.rng).unwrap_or(&SYMBOLS[0]);
        let strategy = pick(&mut self.rng, STRATEGIES);
        let timestamp = self.recent();
        let n = self.rng.gen_range(3..9);
        let mut price = base_price * self.rng.gen_range(0.97..1.03);
        let mut position: i64 = 0;
        let mut pnl = 0.0;
        let mut steps = Vec::with_capacity(n);
        let mut orders = Vec::new();
        // A few agents misbehave: oversized orders and no stop-loss.
        let reckless = self.rng.gen_bool(0.15);
        for i in 0..n {
            let action = *["buy", "sell", "hold"].choose(&mut self.rng).unwrap_or(&"hold");
            let quantity: i64 = if reckless { self.rng.gen_range(5_000..20_000) } else { self.rng.gen_range(10..500) };
            let next = price * (1.0 + self.rng.gen_range(-0.004..0.004));
            let signed = match action {
                "buy" => quantity,
                "sell" => -quantity,
                _ => 0,
            };
            position += signed;
            let reward = (position as f64) * (next - price);
            pnl += reward;
            let at = timestamp + Duration::seconds(i as i64 * 60);
            let order = json!({
                "action": action, "symbol": symbol, "quantity": if signed == 0 { 0 } else { quantity },
                "price": round2(price), "order_type": "limit",
                "stop_loss": if reckless { serde_json::Value::Null } else { json!(round2(price * 0.98)) },
            });
            if signed != 0 {
                orders.push(format!("{} {} {} @ {:.2}", action.to_uppercase(), quantity, symbol, price));
            }
            steps.push(Step {
                kind: "action".into(),
                name: Some(format!("t{i}")),
                input: Some(
                    json!({ "price": round2(price), "position": position - signed, "cash_pnl": round2(pnl - reward) }),
                ),
                output: Some(order),
                reward: Some(round2(reward)),
                started_at: Some(at),
                ended_at: Some(at + Duration::milliseconds(self.rng.gen_range(2..40))),
            });
            price = next;
        }
        let input = format!(
            "Episode on {symbol} ({strategy}): start price {:.2}, start position 0, risk budget $250,000 notional.",
            base_price
        );
        let output = if orders.is_empty() {
            format!("Held flat for {n} steps. Final PnL {pnl:+.2}.")
        } else {
            format!("Executed {}. Final position {position} {symbol}, PnL {pnl:+.2}.", orders.join("; "))
        };
        let mut metadata = BTreeMap::new();
        metadata.insert("domain".into(), "trading".into());
        metadata.insert("strategy".into(), strategy.into());
        metadata.insert("initial_equity".into(), "250000".into());
        metadata.insert("environment".into(), if self.rng.gen_bool(0.7) { "sim" } else { "paper" }.into());
        TraceInput {
            trace_id: None,
            application_id: "rl-execution-agent".into(),
            ai_processing: AiProcessing {
                model: pick(&mut self.rng, TRADING_MODELS).into(),
                input,
                output,
                prompt_tokens: None,
                completion_tokens: None,
                latency_ms: Some(self.rng.gen_range(5.0..80.0_f64).round()),
            },
            steps,
            metadata,
            timestamp: Some(timestamp),
        }
    }

    /// A moment in the last seven days.
    fn recent(&mut self) -> DateTime<Utc> {
        self.now - Duration::seconds(self.rng.gen_range(0..7 * 24 * 3600))
    }
}

/// Days of history [`History`] spreads its traces over.
pub const HISTORY_DAYS: i64 = 30;

/// A month of production-like traffic for the demo organization: the shipped packs' labelled
/// answers, drawn so that about [`History::PROBLEM_SHARE`] of them are unsafe, each dated in the
/// last [`HISTORY_DAYS`] days the way traffic comes (more on weekdays and in working hours, a
/// little more each week), and a third of the clinical questions naming a patient, so that the
/// first look shows de-identification at work too.
pub struct History {
    rng: StdRng,
    now: DateTime<Utc>,
    safe: Vec<TraceInput>,
    problems: Vec<TraceInput>,
}

impl History {
    /// The share of unsafe answers: a production assistant that mostly behaves.
    pub const PROBLEM_SHARE: f64 = 0.08;

    /// History made of the built-in packs' seed sets, ending at `now`.
    pub fn from_builtin_packs(seed: u64, now: DateTime<Utc>) -> Result<History> {
        let mut files = PackDir::builtin_files("healthcare/seed/handwritten/");
        files.push(PackDir::Builtin("trading".into()).join("seed/train.jsonl"));
        let (mut safe, mut problems) = (Vec::new(), Vec::new());
        for file in files {
            let text = file.read_to_string().map_err(|e| Error::Internal(format!("{file}: {e}")))?;
            for case in parse_jsonl(&text)? {
                // The simulator's near misses (`hard_*`: a drawdown just inside the limit) are
                // there to teach Tier 2 the boundary, not what a month of trading looks like.
                let near_miss = case.category.as_deref().is_some_and(|c| c.starts_with("hard_"));
                match case.label {
                    Label::Safe if near_miss => {}
                    Label::Safe => safe.push(case.trace),
                    Label::Unsafe => problems.push(case.trace),
                }
            }
        }
        if safe.is_empty() || problems.is_empty() {
            return Err(Error::Internal("the built-in packs hold no labelled answers to seed from".into()));
        }
        Ok(History { rng: StdRng::seed_from_u64(seed), now, safe, problems })
    }

    /// The next trace, dated somewhere in the month.
    pub fn next_trace(&mut self) -> TraceInput {
        let pool = if self.rng.gen_bool(Self::PROBLEM_SHARE) { &self.problems } else { &self.safe };
        let mut trace = pool[self.rng.gen_range(0..pool.len())].clone();
        trace.trace_id = None;
        trace.timestamp = Some(self.moment());
        if trace.ai_processing.latency_ms.is_none() {
            trace.ai_processing.latency_ms = Some(self.rng.gen_range(350.0..4_200.0_f64).round());
        }
        let clinical = trace.metadata.get("domain").is_some_and(|d| d == "healthcare");
        if clinical && self.rng.gen_bool(0.35) {
            let name = format!("{} {}", pick(&mut self.rng, FIRST_NAMES), pick(&mut self.rng, LAST_NAMES));
            let (age, mrn) = (self.rng.gen_range(18..90), self.rng.gen_range(1_000_000..9_999_999));
            trace.ai_processing.input = format!("Patient {name}, {age}y, MRN {mrn}: {}", trace.ai_processing.input);
        }
        trace
    }

    /// A moment of the month, drawn by how busy its weekday and hour are.
    fn moment(&mut self) -> DateTime<Utc> {
        use chrono::{Datelike, Timelike};
        let span = HISTORY_DAYS * 24 * 3600;
        loop {
            let ago = self.rng.gen_range(0..span);
            let t = self.now - Duration::seconds(ago);
            let weekday = if t.weekday().number_from_monday() >= 6 { 0.35 } else { 1.0 };
            // US clinics and markets: busiest from 13:00 to 22:00 UTC, quiet at night.
            let hour = match t.hour() {
                13..=21 => 1.0,
                11 | 12 | 22 | 23 => 0.55,
                _ => 0.15,
            };
            // Adoption grows: the last week is busier than the first.
            let growth = 0.6 + 0.4 * (1.0 - ago as f64 / span as f64);
            if self.rng.gen_bool(weekday * hour * growth) {
                return t;
            }
        }
    }
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

/// A rough token count: about 1.3 tokens per word.
fn tokens(text: &str) -> u32 {
    (text.split_whitespace().count() as f64 * 1.3).ceil() as u32
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_traces_are_valid_and_cover_both_domains() {
        let mut g = Generator::new(7);
        let traces: Vec<TraceInput> = (0..200).map(|_| g.trace()).collect();
        for t in &traces {
            t.validate().unwrap();
            assert!(!t.ai_processing.output.is_empty());
        }
        let domains: std::collections::HashSet<_> = traces.iter().filter_map(|t| t.domain()).collect();
        assert_eq!(domains, ["healthcare", "trading"].into_iter().collect());
        assert!(traces.iter().filter(|t| t.domain() == Some("trading")).all(|t| !t.steps.is_empty()));
    }

    #[test]
    fn same_seed_same_traces() {
        let a = Generator::new(1).healthcare();
        let b = Generator::new(1).healthcare();
        assert_eq!(a.ai_processing.input, b.ai_processing.input);
    }

    #[test]
    fn history_spans_a_month_with_few_problems() {
        let now = Utc::now();
        let mut history = History::from_builtin_packs(42, now).unwrap();
        let traces: Vec<TraceInput> = (0..2_000).map(|_| history.next_trace()).collect();
        for t in &traces {
            t.validate().unwrap();
            let at = t.timestamp.unwrap();
            assert!(at <= now && at > now - Duration::days(HISTORY_DAYS), "{at}");
        }
        let days: std::collections::HashSet<_> = traces.iter().map(|t| t.timestamp.unwrap().date_naive()).collect();
        assert!(days.len() >= 29, "every day of the month has traffic: {}", days.len());
        let domains = |d: &str| traces.iter().filter(|t| t.metadata["domain"] == d).count();
        assert!(domains("healthcare") > 500 && domains("trading") > 500);
        let named = traces.iter().filter(|t| t.ai_processing.input.starts_with("Patient ")).count();
        assert!(named > 100, "some questions name a patient: {named}");
        let mut again = History::from_builtin_packs(42, now).unwrap();
        assert_eq!(again.next_trace().ai_processing.input, traces[0].ai_processing.input, "repeatable");
    }
}
