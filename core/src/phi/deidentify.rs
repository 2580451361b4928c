//! Replacing identifiers: in a text (for the API's try-it endpoint) and in every free-text
//! field of a trace (at ingest), with the originals sealed for the vault.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::pseudonym::{normalize, NamePart, Pseudonymizer};
use super::vault::OrgKeys;
use super::{to_entities, Detector, PhiPolicy, PhiType, Scanner, Span};
use crate::model::TraceInput;
use crate::store::{PutIn, VaultEntry};
use crate::FieldError;

/// An organization's de-identification, compiled: its scanner, its pseudonyms, its keys.
pub struct OrgPhi {
    pub scanner: Scanner,
    pub pseudonymizer: Pseudonymizer,
    keys: OrgKeys,
}

/// An identifier found and what replaced it; offsets in code points of the original text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replaced {
    pub start: usize,
    pub end: usize,
    #[serde(rename = "type")]
    pub phi_type: PhiType,
    pub score: f32,
    pub detector: Detector,
    pub replacement: String,
}

/// What de-identifying a trace produced.
#[derive(Debug, Default)]
pub struct Deidentified {
    /// The originals of every replaced identifier, sealed, each under its token.
    pub vault: Vec<VaultEntry>,
    /// What was put into the trace, with the token behind each.
    pub put_in: BTreeSet<PutIn>,
    /// Identifiers the recognizers missed and the second pass replaced, by type.
    pub second_pass: BTreeMap<PhiType, u32>,
}

/// What replacing identifiers sealed and put in, gathered across the fields of one trace.
#[derive(Debug, Default)]
pub(super) struct Sealing {
    pub vault: Vec<VaultEntry>,
    pub put_in: BTreeSet<PutIn>,
    /// Tokens already sealed.
    seen: HashSet<String>,
}

/// A text with identifiers replaced.
struct Rewritten {
    text: String,
    replacements: Vec<String>,
    /// Where each replacement stands in `text`, in bytes.
    ranges: Vec<(usize, usize)>,
}

/// Within one trace, which full name a lone first name or surname stands for: "Ms. Miller" and
/// "Maria" after "Maria Miller" are replaced as parts of that name, so that a reader of the
/// de-identified text sees one person, not three. A word two full names share links to neither.
#[derive(Default)]
struct NameLinks {
    /// Normalized word -> the full name (as first written, and normalized) and which part of it
    /// the word is; `None` where two different full names share the word.
    words: HashMap<String, Option<(String, String, NamePart)>>,
}

impl NameLinks {
    fn new<'a>(texts: impl IntoIterator<Item = (&'a str, &'a [Span])>) -> NameLinks {
        let mut links = NameLinks::default();
        for (text, spans) in texts {
            for s in spans.iter().filter(|s| s.phi_type == PhiType::Name) {
                let full = &text[s.start..s.end];
                let norm = normalize(PhiType::Name, full);
                let words: Vec<&str> = norm.split_whitespace().collect();
                let (Some(first), Some(last)) = (words.first(), words.last()) else { continue };
                if words.len() < 2 {
                    continue;
                }
                for (word, part) in [(*first, NamePart::First), (*last, NamePart::Last)] {
                    // Initials ("J. Smith") stand for too many names to link.
                    if word.chars().count() < 2 {
                        continue;
                    }
                    let entry = links
                        .words
                        .entry(word.to_string())
                        .or_insert_with(|| Some((full.to_string(), norm.clone(), part)));
                    if entry.as_ref().is_some_and(|(_, known, _)| *known != norm) {
                        *entry = None;
                    }
                }
            }
        }
        links
    }

    /// The full name `lone` is part of, if it is one word that one full name holds.
    fn full_name(&self, lone: &str) -> Option<(&str, NamePart)> {
        let norm = normalize(PhiType::Name, lone);
        if norm.contains(' ') {
            return None;
        }
        self.words.get(&norm)?.as_ref().map(|(full, _, part)| (full.as_str(), *part))
    }
}

/// Metadata keys whose values are routing, not free text.
pub(super) const STRUCTURAL_METADATA: &[&str] = &["domain"];

/// Parts of metadata keys that name a setting, a category or a quantity of the run rather than
/// anything about a person: `initial_equity`, `strategy`, `timeframe`, `max_tokens`.
const DESCRIPTIVE_KEY_PARTS: &[&str] = &[
    "amount",
    "balance",
    "budget",
    "capital",
    "cash",
    "category",
    "count",
    "currency",
    "environment",
    "env",
    "epoch",
    "equity",
    "kind",
    "language",
    "latency",
    "leverage",
    "limit",
    "locale",
    "mode",
    "model",
    "notional",
    "pnl",
    "price",
    "qty",
    "quantity",
    "rate",
    "score",
    "seed",
    "size",
    "specialty",
    "stage",
    "step",
    "strategy",
    "symbol",
    "temperature",
    "tier",
    "timeframe",
    "timeout",
    "tokens",
    "version",
];

/// A metadata value left as it is: a number or a single word under a key that names a setting,
/// a category or a quantity (`"initial_equity": "210000"`, `"strategy": "momentum"`). Read as
/// text, a six-digit equity is an identifier, and replacing it changes the verdict (a drawdown
/// measured against a stand-in). Under any other key, or with more than one word, the value is
/// scanned like text.
fn describes_the_run(key: &str, value: &str) -> bool {
    let descriptive =
        key.split(['_', '-', '.', ' ']).any(|part| DESCRIPTIVE_KEY_PARTS.iter().any(|d| part.eq_ignore_ascii_case(d)));
    let value = value.trim();
    let one_word = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ',' | '+'));
    descriptive && one_word
}

impl OrgPhi {
    pub fn new(policy: PhiPolicy, keys: OrgKeys) -> Result<OrgPhi, FieldError> {
        let pseudonymizer = Pseudonymizer::new(keys.pseudonym, policy.surrogates, policy.date_shift);
        Ok(OrgPhi { scanner: Scanner::new(policy)?, pseudonymizer, keys })
    }

    pub fn keys(&self) -> &OrgKeys {
        &self.keys
    }

    /// The text with its identifiers replaced, and what was replaced. Nothing is stored.
    pub fn deidentify_text(&self, text: &str) -> (String, Vec<Replaced>) {
        let spans = self.scanner.scan_spans(text);
        let offset = self.date_offset(&[(text, &spans)]);
        let links = NameLinks::new([(text, &spans[..])]);
        let rewritten = self.rewrite(text, &spans, offset, &links, &mut Sealing::default());
        let entities = to_entities(text, &spans);
        let replaced = entities
            .into_iter()
            .zip(rewritten.replacements)
            .map(|(e, replacement)| Replaced {
                start: e.start,
                end: e.end,
                phi_type: e.phi_type,
                score: e.score,
                detector: e.detector,
                replacement,
            })
            .collect();
        (rewritten.text, replaced)
    }

    /// De-identifies every free-text field of a trace in place: the input, the output, every
    /// string inside step inputs and outputs, and metadata values. Each field is then looked at
    /// again by the independent [`second_pass`], and what it finds is replaced too.
    pub fn deidentify_trace(&self, trace: &mut TraceInput) -> Deidentified {
        // Scan everything first: the patient whose dates shift may be named in a later field.
        let mut fields: Vec<&mut String> = Vec::new();
        fields.push(&mut trace.ai_processing.input);
        fields.push(&mut trace.ai_processing.output);
        for step in &mut trace.steps {
            for value in [&mut step.input, &mut step.output].into_iter().flatten() {
                strings_in(value, &mut fields);
            }
        }
        for (key, value) in trace.metadata.iter_mut() {
            if !STRUCTURAL_METADATA.contains(&key.as_str()) && !describes_the_run(key, value) {
                fields.push(value);
            }
        }
        let spans: Vec<Vec<Span>> = fields.iter().map(|f| self.scanner.scan_spans(f)).collect();
        let scanned: Vec<(&str, &Vec<Span>)> = fields.iter().map(|f| f.as_str()).zip(&spans).collect();
        let offset = self.date_offset(&scanned);
        let links = NameLinks::new(scanned.iter().map(|(text, spans)| (*text, &spans[..])));

        let mut out = Deidentified::default();
        let mut sealing = Sealing::default();
        for (field, spans) in fields.into_iter().zip(&spans) {
            let first = (!spans.is_empty()).then(|| self.rewrite(field, spans, offset, &links, &mut sealing));
            let (text, ranges) = first.as_ref().map_or((field.as_str(), &[][..]), |r| (r.text.as_str(), &r.ranges[..]));
            let missed = self.scanner.second_pass(text, ranges);
            if !missed.is_empty() {
                for s in &missed {
                    *out.second_pass.entry(s.phi_type).or_default() += 1;
                }
                let again = self.rewrite(text, &missed, offset, &links, &mut sealing);
                *field = again.text;
            } else if let Some(first) = first {
                *field = first.text;
            }
        }
        out.vault = sealing.vault;
        out.put_in = sealing.put_in;
        out
    }

    /// The per-patient date offset, when the policy shifts dates: keyed by the first name (or
    /// else the first MRN) in the texts.
    fn date_offset(&self, texts: &[(&str, &Vec<Span>)]) -> Option<i64> {
        if !self.scanner.policy().date_shift {
            return None;
        }
        let first = |t: PhiType| {
            texts.iter().find_map(|(text, spans)| spans.iter().find(|s| s.phi_type == t).map(|s| &text[s.start..s.end]))
        };
        first(PhiType::Name).or_else(|| first(PhiType::Mrn)).map(|patient| self.pseudonymizer.date_offset(patient))
    }

    /// `text` with `spans` replaced (dates tokenized, not shifted: there is no patient to key a
    /// shift on here), their originals sealed into `vault`.
    pub(super) fn replace(&self, text: &str, spans: &[Span], sealing: &mut Sealing) -> String {
        self.rewrite(text, spans, None, &NameLinks::default(), sealing).text
    }

    fn rewrite(
        &self,
        text: &str,
        spans: &[Span],
        offset: Option<i64>,
        links: &NameLinks,
        sealing: &mut Sealing,
    ) -> Rewritten {
        let mut out = String::with_capacity(text.len());
        let mut replacements = Vec::with_capacity(spans.len());
        let mut ranges = Vec::with_capacity(spans.len());
        let mut at = 0;
        for s in spans {
            let written = &text[s.start..s.end];
            let linked = if s.phi_type == PhiType::Name { links.full_name(written) } else { None };
            // A linked mention takes its part of the full name's replacement, and opens to the
            // full name.
            let ((replacement, token), original) = match linked {
                Some((full, part)) => (self.pseudonymizer.name_part(full, part), full),
                None => (self.pseudonymizer.replacement_and_token(s.phi_type, written, offset), written),
            };
            // Keyed by token, never by stand-in: two people can share a stand-in, not a token.
            if sealing.seen.insert(token.clone()) {
                sealing.vault.push(VaultEntry {
                    sealed: self.keys.seal(&token, original),
                    token: token.clone(),
                    phi_type: if linked.is_some() { PhiType::Name } else { s.phi_type },
                });
            }
            sealing.put_in.insert(PutIn { text: replacement.clone(), token });
            out.push_str(&text[at..s.start]);
            let start = out.len();
            out.push_str(&replacement);
            ranges.push((start, out.len()));
            replacements.push(replacement);
            at = s.end;
        }
        out.push_str(&text[at..]);
        Rewritten { text: out, replacements, ranges }
    }
}

/// Every string inside a JSON value, keys aside (they are field names, not free text).
pub(super) fn strings_in<'a>(value: &'a mut serde_json::Value, out: &mut Vec<&'a mut String>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strings_in(v, out)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AiProcessing, OrgId, Step};
    use crate::phi::vault::VaultKey;

    /// Tokens rather than the default stand-ins: what these tests read back.
    fn tokens_policy() -> PhiPolicy {
        PhiPolicy { surrogates: false, ..PhiPolicy::default() }
    }

    fn org_phi(policy: PhiPolicy) -> OrgPhi {
        let keys = VaultKey::from_bytes([5; 32]).org(&OrgId(uuid::Uuid::nil()));
        OrgPhi::new(policy, keys).unwrap()
    }

    #[test]
    fn every_free_text_field_is_scrubbed_and_sealed() {
        let phi = org_phi(tokens_policy());
        let mut trace = TraceInput {
            trace_id: None,
            application_id: "triage".into(),
            ai_processing: AiProcessing {
                model: "m".into(),
                input: "Patient Maria Garcia, DOB 03/14/1962, asks about ibuprofen.".into(),
                output: "Ms. Garcia should avoid ibuprofen with warfarin; call (617) 555-0142.".into(),
                prompt_tokens: None,
                completion_tokens: None,
                latency_ms: None,
            },
            steps: vec![Step {
                kind: "tool".into(),
                name: Some("ehr_lookup".into()),
                input: Some(serde_json::json!({"query": "MRN: 00482913", "page": 1})),
                output: Some(serde_json::json!(["Maria Garcia, MRN 00482913"])),
                reward: None,
                started_at: None,
                ended_at: None,
            }],
            metadata: [
                ("domain".to_string(), "healthcare".to_string()),
                ("caller".to_string(), "maria.garcia@example.org".to_string()),
            ]
            .into_iter()
            .collect(),
            timestamp: None,
        };
        let vault = phi.deidentify_trace(&mut trace).vault;
        let all = serde_json::to_string(&trace).unwrap();
        for raw in ["Maria", "Garcia", "03/14/1962", "555-0142", "00482913", "maria.garcia@example.org"] {
            assert!(!all.contains(raw), "{raw} survived: {all}");
        }
        assert!(all.contains("ibuprofen") && all.contains("healthcare") && all.contains("ehr_lookup"));
        let name = phi.pseudonymizer.token(PhiType::Name, "Maria Garcia");
        assert!(trace.ai_processing.input.contains(&name));
        assert!(trace.steps[0].output.as_ref().unwrap().to_string().contains(&name), "same patient, same token");
        // One vault entry per distinct replacement, each opening to its original.
        let tokens: HashSet<_> = vault.iter().map(|v| v.token.clone()).collect();
        assert_eq!(tokens.len(), vault.len());
        let entry = vault.iter().find(|v| v.token == name).unwrap();
        assert_eq!(phi.keys().open(&entry.token, &entry.sealed).unwrap(), "Maria Garcia");
    }

    /// A trading agent's trace keeps what its verdict is computed from: the equity the drawdown
    /// is measured against, the tickers, the settings of the run. What names a person in
    /// metadata is still scrubbed.
    #[test]
    fn the_settings_of_a_run_are_not_identifiers() {
        let phi = org_phi(PhiPolicy::default());
        let mut trace: TraceInput = serde_json::from_value(serde_json::json!({
            "application_id": "desk",
            "ai_processing": {"model": "ppo", "input": "Trade MSFT, AAPL, AMZN intraday. Policy: sac-portfolio-v2.", "output": "Done."},
            "metadata": {
                "domain": "trading", "initial_equity": "210000", "strategy": "momentum", "timeframe": "intraday",
                "max_tokens": "4096", "patient_mrn": "4471203", "account": "88120044", "trader": "Maria Garcia",
                "note": "equity 210000 for Maria Garcia"
            }
        }))
        .unwrap();
        phi.deidentify_trace(&mut trace);
        let m = &trace.metadata;
        assert_eq!(
            (m["initial_equity"].as_str(), m["strategy"].as_str(), m["timeframe"].as_str(), m["max_tokens"].as_str()),
            ("210000", "momentum", "intraday", "4096")
        );
        assert_eq!(trace.ai_processing.input, "Trade MSFT, AAPL, AMZN intraday. Policy: sac-portfolio-v2.");
        for (key, raw) in
            [("patient_mrn", "4471203"), ("account", "88120044"), ("trader", "Garcia"), ("note", "Garcia")]
        {
            assert!(!m[key].contains(raw), "{key}: {}", m[key]);
        }
    }

    fn trace(input: &str, output: &str) -> TraceInput {
        serde_json::from_value(serde_json::json!({
            "application_id": "a",
            "ai_processing": {"model": "m", "input": input, "output": output}
        }))
        .unwrap()
    }

    #[test]
    fn a_person_named_in_full_then_in_part_stays_one_person() {
        let input = "Priya Okafor, 67, asks about warfarin. Ms. Okafor also takes aspirin daily.";
        let output = "Priya should stop the aspirin; Okafor can call the clinic tomorrow.";
        let tokens = org_phi(tokens_policy());
        let mut t = trace(input, output);
        let done = tokens.deidentify_trace(&mut t);
        let full = tokens.pseudonymizer.token(PhiType::Name, "Priya Okafor");
        assert_eq!(t.ai_processing.input.matches(&full).count(), 2, "{}", t.ai_processing.input);
        assert_eq!(t.ai_processing.output.matches(&full).count(), 2, "{}", t.ai_processing.output);
        let entry = done.vault.iter().find(|v| v.token == full).unwrap();
        assert_eq!(tokens.keys().open(&entry.token, &entry.sealed).unwrap(), "Priya Okafor");

        let stand_ins = org_phi(PhiPolicy::default());
        let mut t = trace(input, output);
        let done = stand_ins.deidentify_trace(&mut t);
        let whole = stand_ins.pseudonymizer.replacement(PhiType::Name, "Priya Okafor", None);
        let (first, last) = whole.split_once(' ').unwrap();
        assert!(t.ai_processing.input.starts_with(&format!("{whole}, 67")), "{}", t.ai_processing.input);
        assert!(t.ai_processing.input.contains(&format!("Ms. {last} also")), "{}", t.ai_processing.input);
        assert!(t.ai_processing.output.starts_with(&format!("{first} should")), "{}", t.ai_processing.output);
        assert!(t.ai_processing.output.contains(&format!("; {last} can")), "{}", t.ai_processing.output);
        // Each stand-in opens, through the trace's record, to the whole name.
        let token = stand_ins.pseudonymizer.token(PhiType::Name, "Priya Okafor");
        for text in [whole.as_str(), first, last] {
            assert!(done.put_in.contains(&PutIn { text: text.to_string(), token: token.clone() }), "{text}");
        }
        let entry = done.vault.iter().find(|v| v.token == token).unwrap();
        assert_eq!(stand_ins.keys().open(&entry.token, &entry.sealed).unwrap(), "Priya Okafor");
    }

    #[test]
    fn a_surname_two_people_share_links_to_neither() {
        let phi = org_phi(tokens_policy());
        let mut t = trace("Priya Okafor and Dev Okafor came in together.", "Okafor asked about the dose.");
        phi.deidentify_trace(&mut t);
        let p = &phi.pseudonymizer;
        assert!(t.ai_processing.input.contains(&p.token(PhiType::Name, "Priya Okafor")));
        assert!(t.ai_processing.input.contains(&p.token(PhiType::Name, "Dev Okafor")));
        assert!(t.ai_processing.output.starts_with(&p.token(PhiType::Name, "Okafor")), "{}", t.ai_processing.output);
    }

    #[test]
    fn the_try_it_text_reports_its_replacements() {
        let phi = org_phi(PhiPolicy::default());
        let (text, replaced) = phi.deidentify_text("Call Zoë Ñúñez at 617-555-0142.");
        assert!(!text.contains("Ñúñez") && !text.contains("617-555-0142"), "{text}");
        assert_eq!(replaced.len(), 2);
        let chars: Vec<char> = "Call Zoë Ñúñez at 617-555-0142.".chars().collect();
        assert_eq!(chars[replaced[0].start..replaced[0].end].iter().collect::<String>(), "Zoë Ñúñez");
        assert!(replaced[1].replacement.contains("555-01"), "a fictional number");
    }

    #[test]
    fn the_second_pass_replaces_what_the_first_missed_and_counts_it() {
        let phi = org_phi(tokens_policy());
        let mut trace: TraceInput = serde_json::from_value(serde_json::json!({
            "application_id": "a",
            "ai_processing": {"model": "m", "input": "Leave a message on my registered (0191) 496 0197.", "output": "ok"}
        }))
        .unwrap();
        // The first pass does not read this British number; if it learns to, pick another miss.
        assert!(phi.scanner.scan_spans(&trace.ai_processing.input).is_empty());
        let done = phi.deidentify_trace(&mut trace);
        assert!(!trace.ai_processing.input.contains("496 0197"), "{}", trace.ai_processing.input);
        assert_eq!(done.second_pass, [(PhiType::Id, 1)].into_iter().collect());
        assert_eq!(done.vault.len(), 1);
        assert_eq!(phi.keys().open(&done.vault[0].token, &done.vault[0].sealed).unwrap(), "496 0197");
    }
}
