//! Plain-text helpers the rules share: sentences, offsets, cue words.

use std::ops::Range;

pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Sentences of `text` as byte ranges: split after `.`, `!` or `?` followed by a space (so
/// "2.5 mg" and "q.i.d." stay whole), and at line breaks and semicolons.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\n' | b';' => Some(i + 1),
            b'.' | b'!' | b'?' if bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) => Some(i + 1),
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(text, start..end, &mut out);
            start = end;
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(r.start + lead..r.end - trail);
    }
}

/// A regular expression over English text. Its word boundaries are ASCII ones: a Unicode `\b`
/// makes the fast automaton give up at the first non-ASCII character (a dash, a µ) and the
/// search fall back to an engine several times slower.
pub fn pattern(p: &str) -> Result<regex::Regex, regex::Error> {
    let mut out = String::with_capacity(p.len() + 32);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    regex::Regex::new(&out)
}

/// Whether a negation governs what follows `before` in its sentence ("is not safe").
pub fn is_negated(before: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let tail: Vec<&str> = before.split_whitespace().rev().take(3).collect();
    let tail = tail.into_iter().rev().collect::<Vec<_>>().join(" ");
    RE.get_or_init(|| pattern(r"(?i)\b(?:not|never|isn'?t|aren'?t|wouldn'?t|won'?t|no\s+longer)\b").expect("pattern"))
        .is_match(&tail)
}

/// The code-point offset of byte offset `byte`: what evidence spans report.
pub fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_use_ascii_word_boundaries() {
        let re = pattern(r"(?i)\bstop\b|a\\b").unwrap();
        assert_eq!(re.as_str(), r"(?i)(?-u:\b)stop(?-u:\b)|a\\b");
        assert!(re.is_match("Please stop — now"));
        assert!(!re.is_match("stopping"));
    }

    #[test]
    fn sentences_keep_decimals_and_abbreviations_whole() {
        let t = "Take 2.5 mg q.i.d. with food. Stop if dizzy!\nCall us; thanks";
        let got: Vec<&str> = sentences(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(got, ["Take 2.5 mg q.i.d.", "with food.", "Stop if dizzy!", "Call us;", "thanks"]);
        assert_eq!(char_offset("héllo", 3), 2);
    }
}
