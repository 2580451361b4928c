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
/// span wins where two overlap) and, outside them, at pseudonym tokens and at the `replaced`
/// texts de-identification put in (realistic stand-ins look like anything else).
pub fn segments(text: &str, spans: &[(usize, usize, String, Severity)], replaced: &[String]) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<_> = spans.iter().filter(|(s, e, ..)| s < e && *e <= chars.len()).cloned().collect();
    spans.sort_by_key(|(s, ..)| *s);
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, code, severity) in spans {
        if start < at {
            continue;
        }
        pseudonyms(&chars[at..start].iter().collect::<String>(), replaced, &mut out);
        out.push(Segment::Evidence { text: chars[start..end].iter().collect(), code, severity });
        at = end;
    }
    pseudonyms(&chars[at..].iter().collect::<String>(), replaced, &mut out);
    out
}

/// Splits plain text at `[TYPE_hex]` tokens and at whole-word occurrences of `replaced`.
fn pseudonyms(text: &str, replaced: &[String], out: &mut Vec<Segment>) {
    let mut rest = text;
    while let Some((at, len)) = next_pseudonym(rest, replaced) {
        if at > 0 {
            out.push(Segment::Plain(rest[..at].to_string()));
        }
        out.push(Segment::Phi(rest[at..at + len].to_string()));
        rest = &rest[at + len..];
    }
    if !rest.is_empty() {
        out.push(Segment::Plain(rest.to_string()));
    }
}

/// The first pseudonym in `text`: its byte offset and length.
fn next_pseudonym(text: &str, replaced: &[String]) -> Option<(usize, usize)> {
    let token = text.match_indices('[').find_map(|(open, _)| {
        let after = &text[open + 1..];
        let close = after.find(']')?;
        let inner = &after[..close];
        let is_token = inner.rsplit_once('_').is_some_and(|(kind, hex)| {
            !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && hex.len() >= 6
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        is_token.then_some((open, close + 2))
    });
    let whole_word = |at: usize, len: usize| {
        let before = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[at + len..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        before && after
    };
    let stand_in = replaced
        .iter()
        .filter(|r| !r.is_empty() && !r.starts_with('['))
        .filter_map(|r| {
            text.match_indices(r.as_str()).find(|(at, _)| whole_word(*at, r.len())).map(|(at, _)| (at, r.len()))
        })
        // The earliest, and the longest of those starting there.
        .min_by_key(|&(at, len)| (at, std::cmp::Reverse(len)));
    match (token, stand_in) {
        (Some(t), Some(s)) => Some(if s.0 < t.0 { s } else { t }),
        (t, s) => t.or(s),
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
        let got = segments(text, &[(start, end, "medication_overdose".into(), Severity::Critical)], &[]);
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
                plain(" [sic]."),
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
        let got =
            segments(text, &[(start, start + 4, "x".into(), Severity::Low), (3, 99, "y".into(), Severity::Low)], &[]);
        assert_eq!(got[1], Segment::Evidence { text: "5 µg".into(), code: "x".into(), severity: Severity::Low });
        assert_eq!(segments("", &[], &[]), vec![]);
    }

    #[test]
    fn realistic_stand_ins_are_marked_as_whole_words() {
        let replaced = vec!["Avery Ashford".to_string(), "(212) 555-0142".to_string(), "Ash".to_string()];
        let got = segments("Call Avery Ashford at (212) 555-0142; Ashland is a town.", &[], &replaced);
        assert_eq!(
            got,
            vec![
                plain("Call "),
                Segment::Phi("Avery Ashford".into()),
                plain(" at "),
                Segment::Phi("(212) 555-0142".into()),
                plain("; Ashland is a town."),
            ]
        );
    }
}
