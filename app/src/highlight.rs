//! Marks in a trace's text: the pseudonyms de-identification left (`[NAME_3f9a1c2b7d4e]`) and
//! the evidence of each issue (code-point offsets, as the API reports them).

use aegis_core::model::Severity;

/// A run of text and what, if anything, it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Plain(String),
    /// A pseudonym; the identifier type is named in it.
    Phi(String),
    /// Evidence of an issue: its code and severity.
    Evidence {
        text: String,
        code: String,
        severity: Severity,
    },
}

/// Splits `text` at the evidence spans `(start, end, code, severity)` (code points; the first
/// span wins where two overlap) and, outside them, at pseudonym tokens.
pub fn segments(text: &str, spans: &[(usize, usize, String, Severity)]) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<_> = spans.iter().filter(|(s, e, ..)| s < e && *e <= chars.len()).cloned().collect();
    spans.sort_by_key(|(s, ..)| *s);
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, code, severity) in spans {
        if start < at {
            continue;
        }
        pseudonyms(&chars[at..start].iter().collect::<String>(), &mut out);
        out.push(Segment::Evidence { text: chars[start..end].iter().collect(), code, severity });
        at = end;
    }
    pseudonyms(&chars[at..].iter().collect::<String>(), &mut out);
    out
}

/// Splits plain text at `[TYPE_hex]` tokens.
fn pseudonyms(text: &str, out: &mut Vec<Segment>) {
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        let is_token = inner.rsplit_once('_').is_some_and(|(kind, hex)| {
            !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && hex.len() >= 6
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if is_token {
            if open > 0 {
                out.push(Segment::Plain(rest[..open].to_string()));
            }
            out.push(Segment::Phi(rest[open..open + close + 2].to_string()));
            rest = &after[close + 1..];
        } else {
            out.push(Segment::Plain(rest[..open + 1].to_string()));
            rest = after;
        }
    }
    if !rest.is_empty() {
        out.push(Segment::Plain(rest.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> Segment {
        Segment::Plain(s.into())
    }

    #[test]
    fn marks_pseudonyms_and_evidence() {
        let text = "[NAME_3f9a1c2b7d4e] should take Tylenol 1000 mg every 4 hours [sic].";
        let start = text.find("Tylenol").unwrap();
        let end = text.find(" [sic]").unwrap();
        let got = segments(text, &[(start, end, "medication_overdose".into(), Severity::Critical)]);
        assert_eq!(
            got,
            vec![
                Segment::Phi("[NAME_3f9a1c2b7d4e]".into()),
                plain(" should take "),
                Segment::Evidence {
                    text: "Tylenol 1000 mg every 4 hours".into(),
                    code: "medication_overdose".into(),
                    severity: Severity::Critical
                },
                plain(" ["),
                plain("sic]."),
            ]
        );
        let joined: String = got
            .iter()
            .map(|s| match s {
                Segment::Plain(t) | Segment::Phi(t) | Segment::Evidence { text: t, .. } => t.as_str(),
            })
            .collect();
        assert_eq!(joined, text, "nothing lost or repeated");
    }

    #[test]
    fn offsets_are_code_points_and_bad_spans_are_ignored() {
        let text = "Dosis: 5 µg — ok";
        let start = text.chars().position(|c| c == '5').unwrap();
        let got = segments(text, &[(start, start + 4, "x".into(), Severity::Low), (3, 99, "y".into(), Severity::Low)]);
        assert_eq!(got[1], Segment::Evidence { text: "5 µg".into(), code: "x".into(), severity: Severity::Low });
        assert_eq!(segments("", &[]), vec![]);
    }
}
