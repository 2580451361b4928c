//! `aegis phi audit`: stored traces read again with today's recognizers. Each release finds
//! more than the last; what an older one let through is found here, reported (a dry run shows
//! where and what kind, never the text) and, when asked, replaced in place with its original
//! sealed in the vault, as if the door had caught it.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;
use serde_json::Value;

use super::deidentify::{strings_in, OrgPhi, Sealing, STRUCTURAL_METADATA};
use super::{on_word_boundaries, Detector, PhiType};
use crate::store::{parse_put_in, PutIn, StoredText, VaultEntry};
use crate::{Error, Result};

/// Where the replacements already made stand in a stored text: the vault's tokens, and the
/// stand-ins a trace's record names, which a re-scan must not take for new finds
/// ("[NAME_3f9a…]", "Avery Ashford").
pub struct Known(Option<AhoCorasick>);

impl Known {
    pub fn new(tokens: &[String]) -> Result<Known> {
        if tokens.is_empty() {
            return Ok(Known(None));
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(tokens)
            .map_err(|e| Error::Internal(format!("cannot index the vault's tokens: {e}")))?;
        Ok(Known(Some(automaton)))
    }

    fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(automaton) = &self.0 else { return Vec::new() };
        automaton
            .find_iter(text)
            .filter(|m| on_word_boundaries(text, m.start(), m.end()))
            .map(|m| (m.start(), m.end()))
            .collect()
    }
}

/// One identifier still in clear in a stored trace. No text: the report is safe to share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `input`, `output`, `steps`, `metadata`, `issues` or `details`.
    pub field: &'static str,
    #[serde(rename = "type")]
    pub phi_type: PhiType,
    pub detector: Detector,
}

/// What a stored trace still holds, and the trace with it replaced.
pub struct TraceAudit {
    pub findings: Vec<Finding>,
    pub repaired: StoredText,
    /// The originals of the new replacements, sealed.
    pub vault: Vec<VaultEntry>,
    /// What the repair put in, with the tokens behind it.
    pub put_in: Vec<PutIn>,
}

/// Keys of an evaluation's issues and details whose values are prose that may quote a trace; the
/// rest are codes, numbers and names of modules.
const PROSE_KEYS: &[&str] = &["message", "subject", "reason", "text"];

impl OrgPhi {
    /// Scans every free-text field of a stored trace (and its evaluation's prose) again, both
    /// passes, outside the replacements already made. `None` when nothing is left in clear.
    pub fn audit_stored(&self, known: &Known, stored: &StoredText) -> Result<Option<TraceAudit>> {
        // Stand-ins are not vault keys: this trace's record says which texts were put in.
        let stand_ins: Vec<String> =
            parse_put_in(&stored.replaced)?.into_iter().filter(|p| p.text != p.token).map(|p| p.text).collect();
        let put_in = Known::new(&stand_ins)?;
        let mut audit =
            Rewrite { phi: self, known: [known, &put_in], findings: Vec::new(), sealing: Sealing::default() };
        let mut repaired = stored.clone();
        if let Some(text) = audit.text("input", &stored.input) {
            repaired.input = text;
        }
        if let Some(text) = audit.text("output", &stored.output) {
            repaired.output = text;
        }
        if let Some(json) = audit.json("steps", &stored.steps, &|_| true)? {
            repaired.steps = json;
        }
        if let Some(json) = audit.json("metadata", &stored.metadata, &|key| !STRUCTURAL_METADATA.contains(&key))? {
            repaired.metadata = json;
        }
        let prose = |key: &str| PROSE_KEYS.contains(&key);
        if let Some(issues) = &stored.issues {
            if let Some(json) = audit.json("issues", issues, &prose)? {
                repaired.issues = Some(json);
            }
        }
        if let Some(details) = &stored.details {
            if let Some(json) = audit.json("details", details, &prose)? {
                repaired.details = Some(json);
            }
        }
        if audit.findings.is_empty() {
            return Ok(None);
        }
        let Sealing { vault, put_in, .. } = audit.sealing;
        Ok(Some(TraceAudit { findings: audit.findings, repaired, vault, put_in: put_in.into_iter().collect() }))
    }
}

struct Rewrite<'a> {
    phi: &'a OrgPhi,
    known: [&'a Known; 2],
    findings: Vec<Finding>,
    sealing: Sealing,
}

impl Rewrite<'_> {
    /// The text with what is still in clear replaced, or `None` if nothing is.
    fn text(&mut self, field: &'static str, text: &str) -> Option<String> {
        let known: Vec<(usize, usize)> = self.known.iter().flat_map(|k| k.ranges(text)).collect();
        let spans = self.phi.scanner.scan_both_passes(text, &known);
        if spans.is_empty() {
            return None;
        }
        self.findings.extend(spans.iter().map(|s| Finding { field, phi_type: s.phi_type, detector: s.detector }));
        Some(self.phi.replace(text, &spans, &mut self.sealing))
    }

    /// A JSON field with the strings under the keys `scan` accepts (at any depth; array items
    /// inherit their key) rewritten, or `None` if nothing is found.
    fn json(&mut self, field: &'static str, json: &str, scan: &dyn Fn(&str) -> bool) -> Result<Option<String>> {
        let mut value: Value = serde_json::from_str(json)?;
        let mut strings = Vec::new();
        prose_in(&mut value, scan, &mut strings);
        let before = self.findings.len();
        for s in strings {
            if let Some(text) = self.text(field, s) {
                *s = text;
            }
        }
        if self.findings.len() == before {
            return Ok(None);
        }
        Ok(Some(serde_json::to_string(&value)?))
    }
}

/// The strings under keys `scan` accepts, anywhere inside `value`.
fn prose_in<'a>(value: &'a mut Value, scan: &dyn Fn(&str) -> bool, out: &mut Vec<&'a mut String>) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| prose_in(v, scan, out)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if scan(key) {
                    strings_in(v, out);
                } else {
                    prose_in(v, scan, out);
                }
            }
        }
        _ => {}
    }
}

/// What an audit found across an organization's traces.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub traces: u64,
    /// Traces holding something in clear, with what and where (no text).
    pub traces_with_findings: u64,
    pub repaired: bool,
    pub by_type: BTreeMap<PhiType, u64>,
    pub by_detector: BTreeMap<Detector, u64>,
    pub by_field: BTreeMap<&'static str, u64>,
    /// The first traces found, with their findings, for whoever checks the report.
    pub examples: Vec<(uuid::Uuid, Vec<Finding>)>,
}

impl AuditReport {
    const EXAMPLES: usize = 20;

    pub fn add(&mut self, trace_id: uuid::Uuid, findings: &[Finding]) {
        self.traces_with_findings += 1;
        for f in findings {
            *self.by_type.entry(f.phi_type).or_default() += 1;
            *self.by_detector.entry(f.detector).or_default() += 1;
            *self.by_field.entry(f.field).or_default() += 1;
        }
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push((trace_id, findings.to_vec()));
        }
    }

    /// Counts by type, as stored in the audit log.
    pub fn found(&self) -> Value {
        serde_json::to_value(&self.by_type).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrgId;
    use crate::phi::vault::VaultKey;
    use crate::phi::PhiPolicy;

    /// Tokens rather than the default stand-ins: what these tests read back.
    fn tokens_policy() -> PhiPolicy {
        PhiPolicy { surrogates: false, ..PhiPolicy::default() }
    }

    fn org_phi(policy: PhiPolicy) -> OrgPhi {
        OrgPhi::new(policy, VaultKey::from_bytes([7; 32]).org(&OrgId(uuid::Uuid::nil()))).unwrap()
    }

    fn stored(input: &str) -> StoredText {
        StoredText {
            trace_id: uuid::Uuid::nil(),
            input: input.into(),
            output: "ok".into(),
            steps: r#"[{"kind": "tool", "output": {"note": "call 617-555-0142"}}]"#.into(),
            metadata: r#"{"domain": "healthcare", "ward": "4 West"}"#.into(),
            issues: Some(r#"[{"code": "medication_overdose", "module": "dose", "severity": "critical", "message": "Quillfeather's dose"}]"#.into()),
            details: Some(r#"{"domain": "healthcare", "escalation": [{"after_tier": 1, "reason": "judge unavailable"}]}"#.into()),
            indexed: true,
            replaced: "[]".into(),
        }
    }

    #[test]
    fn what_an_older_door_let_through_is_found_and_replaced() {
        let phi = org_phi(tokens_policy());
        let token = phi.pseudonymizer.token(PhiType::Name, "Maria Garcia");
        let known = Known::new(std::slice::from_ref(&token)).unwrap();
        let before = stored(&format!("{token} was seen by Dr. Quillfeather on 03/14/2026."));
        let audit = phi.audit_stored(&known, &before).unwrap().expect("findings");
        let fields: Vec<(&str, PhiType)> = audit.findings.iter().map(|f| (f.field, f.phi_type)).collect();
        assert_eq!(
            fields,
            [("input", PhiType::Name), ("input", PhiType::Date), ("steps", PhiType::Phone), ("issues", PhiType::Name)]
        );
        let r = &audit.repaired;
        assert!(r.input.starts_with(&token), "the old token is kept: {}", r.input);
        for raw in ["Quillfeather", "03/14/2026"] {
            assert!(!r.input.contains(raw), "{}", r.input);
        }
        assert!(!r.steps.contains("555-0142") && !r.issues.as_ref().unwrap().contains("Quillfeather"));
        assert!(r.issues.as_ref().unwrap().contains("medication_overdose"), "codes are not prose");
        assert_eq!(r.metadata, before.metadata, "unchanged fields stay byte for byte");
        assert_eq!(audit.vault.len(), 3, "one sealed original per distinct replacement");

        // Once repaired, a second audit finds nothing.
        let mut tokens: Vec<String> = audit.vault.iter().map(|v| v.token.clone()).collect();
        tokens.push(token);
        assert!(phi.audit_stored(&Known::new(&tokens).unwrap(), r).unwrap().is_none());
    }

    #[test]
    fn stand_ins_the_record_names_are_known_replacements_not_names() {
        let phi = org_phi(PhiPolicy::default());
        let (text, replaced) = phi.deidentify_text("Maria Garcia called from 617-555-0142.");
        let originals = [(PhiType::Name, "Maria Garcia"), (PhiType::Phone, "617-555-0142")];
        let put_in: Vec<PutIn> = replaced
            .iter()
            .zip(originals)
            .map(|(r, (t, original))| PutIn {
                text: r.replacement.clone(),
                token: phi.pseudonymizer.token(t, original),
            })
            .collect();
        let no_tokens = Known::new(&[]).unwrap();
        let unrecorded = StoredText { steps: "[]".into(), issues: None, details: None, ..stored(&text) };
        let found = phi.audit_stored(&no_tokens, &unrecorded).unwrap().expect("a stand-in looks like a name");
        assert!(found.findings.iter().any(|f| f.phi_type == PhiType::Name), "{text}");
        let recorded = StoredText { replaced: crate::store::put_in_json(&put_in), ..unrecorded };
        assert!(phi.audit_stored(&no_tokens, &recorded).unwrap().is_none(), "{text}");
    }
}
