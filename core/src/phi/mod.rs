//! De-identification at the door: every free-text field of a trace is scanned for the 18 HIPAA
//! Safe Harbor identifiers and each one is replaced by a consistent pseudonym before anything
//! is stored. The originals go, encrypted, to the vault.
//!
//! Recognition is deterministic and fast: one multi-pattern regex for the structured
//! identifiers ([`patterns`]), census name lists with context cues for people ([`names`]),
//! GeoNames for places ([`places`]), an Aho-Corasick automaton for each organization's
//! deny-list, and the organization's own patterns.

pub mod audit;
mod dates;
pub mod deidentify;
pub mod eval;
mod lexicon;
mod names;
mod patterns;
mod places;
pub mod policy;
pub mod pseudonym;
#[cfg(feature = "testing")]
pub mod sample_notes;
mod second_pass;
pub mod service;
pub mod tagger;
mod tokens;
mod types;
pub mod vault;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::meta::Regex;
use rustc_hash::FxHashSet;

pub use deidentify::{Deidentified, OrgPhi, Replaced};
pub use policy::{CustomRecognizer, PhiPolicy};
pub use service::PhiService;
pub use types::{Detector, Entity, PhiType, Span};

use crate::FieldError;

fn builtin() -> &'static patterns::Patterns {
    static PATTERNS: OnceLock<patterns::Patterns> = OnceLock::new();
    PATTERNS.get_or_init(patterns::Patterns::new)
}

/// Compiles the lists and patterns behind the recognizers now rather than on the first trace.
pub fn warm_up() {
    let _ = builtin();
    let _ = lexicon::lexicon();
}

/// A policy, compiled. Cheap to share; build one per policy change.
#[derive(Default)]
pub struct Scanner {
    policy: PhiPolicy,
    custom: Option<Regex>,
    deny: Option<AhoCorasick>,
    allow: FxHashSet<String>,
}

impl Scanner {
    pub fn new(policy: PhiPolicy) -> Result<Scanner, FieldError> {
        policy.validate()?;
        let custom = if policy.custom.is_empty() {
            None
        } else {
            let patterns: Vec<&str> = policy.custom.iter().map(|c| c.pattern.as_str()).collect();
            Some(
                Regex::builder()
                    .configure(Regex::config().nfa_size_limit(Some(policy::CUSTOM_PATTERN_SIZE_LIMIT * 4)))
                    .build_many(&patterns)
                    .map_err(|e| FieldError::new("custom", format!("patterns do not compile together: {e}")))?,
            )
        };
        let deny = if policy.deny.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&policy.deny)
                    .map_err(|e| FieldError::new("deny", e.to_string()))?,
            )
        };
        let allow = policy.allow.iter().map(|a| a.trim().to_lowercase()).collect();
        Ok(Scanner { policy, custom, deny, allow })
    }

    pub fn policy(&self) -> &PhiPolicy {
        &self.policy
    }

    /// Identifiers in `text` as byte ranges: sorted, not overlapping, only the policy's types.
    pub fn scan_spans(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        // The organization's own words and patterns come first: they know their data best.
        if let Some(deny) = &self.deny {
            for m in deny.find_iter(text) {
                if on_word_boundaries(text, m.start(), m.end()) {
                    spans.push(Span::new(m.start(), m.end(), PhiType::Id, 1.0, Detector::Organization));
                }
            }
        }
        if let Some(custom) = &self.custom {
            for m in custom.find_iter(text) {
                if m.end() > m.start() {
                    let t = self.policy.custom[m.pattern().as_usize()].phi_type;
                    spans.push(Span::new(m.start(), m.end(), t, 1.0, Detector::Organization));
                }
            }
        }
        builtin().scan(text, &mut spans);
        spans = resolve_overlaps(spans);

        // Words already inside an identifier (an email's "john.smith") are not names again.
        let words = tokens::words(text);
        let mut taken = vec![false; words.len()];
        let mut k = 0;
        for (i, w) in words.iter().enumerate() {
            while k < spans.len() && spans[k].end <= w.start {
                k += 1;
            }
            taken[i] = k < spans.len() && spans[k].start < w.end;
        }
        let before = spans.len();
        places::organizations(text, &words, &mut taken, &mut spans);
        let flags = names::scan_words(text, &words, &mut taken, &mut spans);
        places::scan(text, &words, &mut taken, &mut spans);
        tagger::scan(text, &words, &taken, &flags, &mut spans);
        if spans.len() > before {
            spans = resolve_overlaps(spans);
        }

        add_appositive_ages(text, &mut spans);
        spans.retain(|s| self.policy.scrubs(s.phi_type) && !self.allowed(&text[s.start..s.end]));
        spans
    }

    /// Identifiers in `text` with offsets in Unicode code points, as the API reports them.
    pub fn scan(&self, text: &str) -> Vec<Entity> {
        to_entities(text, &self.scan_spans(text))
    }

    /// Both passes over `text`, outside `known` (byte ranges already replaced): the recognizers,
    /// then the second pass over what they left. Sorted by start. Ingest runs the second pass on
    /// the rewritten text instead (see `OrgPhi::deidentify_trace`); offline this is the same.
    pub fn scan_both_passes(&self, text: &str, known: &[(usize, usize)]) -> Vec<Span> {
        let outside = |s: &Span| !known.iter().any(|&(a, b)| a < s.end && s.start < b);
        let mut spans: Vec<Span> = self.scan_spans(text).into_iter().filter(outside).collect();
        let mut taken = known.to_vec();
        taken.extend(spans.iter().map(|s| (s.start, s.end)));
        spans.extend(self.second_pass(text, &taken));
        spans.sort_by_key(|s| s.start);
        spans
    }

    /// What the independent second pass finds in `text` outside `replaced` (byte ranges already
    /// dealt with), within the policy: see [`second_pass`].
    pub fn second_pass(&self, text: &str, replaced: &[(usize, usize)]) -> Vec<Span> {
        let mut found = second_pass::scan(text, replaced);
        found.retain(|s| self.policy.scrubs(s.phi_type) && !self.allowed(&text[s.start..s.end]));
        found
    }

    fn allowed(&self, found: &str) -> bool {
        !self.allow.is_empty() && self.allow.contains(&found.trim().to_lowercase())
    }
}

/// "Mrs. Oyelowo, 96, from Harlem": an age over 89 set off by commas right after a name.
fn add_appositive_ages(text: &str, spans: &mut Vec<Span>) {
    let mut ages = Vec::new();
    for s in spans.iter().filter(|s| s.phi_type == PhiType::Name) {
        let rest = &text[s.end..];
        let Some(after_comma) = rest.strip_prefix(", ") else { continue };
        let digits = after_comma.bytes().take_while(u8::is_ascii_digit).count();
        let next = after_comma.as_bytes().get(digits).copied();
        if (2..=3).contains(&digits) && matches!(next, Some(b',') | Some(b')') | None) {
            if let Ok(age) = after_comma[..digits].parse::<u32>() {
                if (90..=129).contains(&age) {
                    let start = s.end + 2;
                    ages.push(Span::new(start, start + digits, PhiType::Age, 0.85, Detector::Age));
                }
            }
        }
    }
    if !ages.is_empty() {
        spans.extend(ages);
        spans.sort_by_key(|s| s.start);
    }
}

fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
    let after = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
    before && after
}

/// Sorted by start; where two overlap, the more certain (then the longer) wins.
fn resolve_overlaps(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.len().cmp(&a.len())));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if last.overlaps(&s) => {
                if (s.score, s.len()) > (last.score, last.len()) {
                    *last = s;
                }
            }
            _ => out.push(s),
        }
    }
    out
}

/// Byte ranges to code-point ranges, in one pass over the text.
pub fn to_entities(text: &str, spans: &[Span]) -> Vec<Entity> {
    let mut positions: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    positions.sort_unstable();
    positions.dedup();
    let mut chars_at = Vec::with_capacity(positions.len());
    let (mut byte, mut chars) = (0usize, 0usize);
    for p in positions {
        chars += text[byte..p].chars().count();
        byte = p;
        chars_at.push((p, chars));
    }
    let lookup = |b: usize| chars_at.binary_search_by_key(&b, |&(p, _)| p).map(|i| chars_at[i].1).unwrap_or(0);
    spans
        .iter()
        .map(|s| Entity {
            start: lookup(s.start),
            end: lookup(s.end),
            phi_type: s.phi_type,
            score: s.score,
            detector: s.detector,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(scanner: &Scanner, text: &str) -> Vec<(PhiType, String)> {
        scanner.scan_spans(text).iter().map(|s| (s.phi_type, text[s.start..s.end].to_string())).collect()
    }

    #[test]
    fn a_clinical_note() {
        let text = "Patient Maria Garcia (DOB 03/14/1962, MRN: 00482913) was seen by Dr. Oyelaran on 11/02/2026 \
                    at 1478 Larkspur Lane, Springfield, IL 62704. Call (217) 555-0186 or maria.garcia@example.org. \
                    History of Parkinson's disease; continue Sinemet.";
        let s = Scanner::default();
        assert_eq!(
            found(&s, text),
            vec![
                (PhiType::Name, "Maria Garcia".into()),
                (PhiType::Date, "03/14/1962".into()),
                (PhiType::Mrn, "00482913".into()),
                (PhiType::Name, "Oyelaran".into()),
                (PhiType::Date, "11/02/2026".into()),
                (PhiType::Location, "1478 Larkspur Lane".into()),
                (PhiType::Location, "Springfield".into()),
                (PhiType::Zip, "62704".into()),
                (PhiType::Phone, "(217) 555-0186".into()),
                (PhiType::Email, "maria.garcia@example.org".into()),
            ]
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "Zoë Ñúñez — call 617-555-0142";
        let e = Scanner::default().scan(text);
        let phone = e.iter().find(|e| e.phi_type == PhiType::Phone).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[phone.start..phone.end].iter().collect::<String>(), "617-555-0142");
    }

    #[test]
    fn the_policy_narrows_and_extends() {
        let policy = PhiPolicy {
            types: vec![PhiType::Id, PhiType::Mrn, PhiType::Phone],
            custom: vec![CustomRecognizer { name: "rch".into(), pattern: r"RCH-\d{6}".into(), phi_type: PhiType::Mrn }],
            deny: vec!["Project Bluebird".into()],
            allow: vec!["555-0100".into()],
            ..PhiPolicy::default()
        };
        let s = Scanner::new(policy).unwrap();
        let text = "Maria in project bluebird, chart RCH-123456, call 617-555-0142.";
        assert_eq!(
            found(&s, text),
            vec![
                (PhiType::Id, "project bluebird".into()),
                (PhiType::Mrn, "RCH-123456".into()),
                (PhiType::Phone, "617-555-0142".into()),
            ]
        );
    }

    #[test]
    fn odd_input_is_handled() {
        let s = Scanner::default();
        assert!(s.scan("").is_empty());
        let big = "Patient notes. ".repeat(700_000);
        assert!(s.scan(&big).is_empty());
        let weird = "\u{0}\u{FFFD}𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ١٢٣-٤٥-٦٧٨٩ \u{202E}Garcia";
        let _ = s.scan(weird);
    }
}
