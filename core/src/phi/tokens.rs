//! Words of a text with their positions, for the recognizers that work on words rather than
//! patterns (names, places).

/// A run of letters (with inner apostrophes and hyphens: O'Brien, Mary-Jane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    /// Starts with an upper-case letter.
    pub capitalized: bool,
    /// Two or more letters, all upper case.
    pub all_caps: bool,
    /// A single capital letter followed by a full stop: an initial ("J. Smith").
    pub initial: bool,
    /// First word of a sentence, a line, or after a colon: capitals there prove nothing.
    pub sentence_start: bool,
    /// Directly followed by a comma.
    pub comma_after: bool,
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut i = 0;
    // What came before the current word, ignoring spaces: decides `sentence_start`.
    let mut boundary = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() || (b >= 0x80 && starts_letter(text, i)) {
            let start = i;
            let mut end = i;
            let mut upper = 0usize;
            let mut letters = 0usize;
            let mut first_upper = false;
            while end < bytes.len() {
                let b = bytes[end];
                // ASCII letters are nearly all of it: no UTF-8 decoding for them.
                if b.is_ascii_alphabetic() {
                    if letters == 0 {
                        first_upper = b.is_ascii_uppercase();
                    }
                    letters += 1;
                    if b.is_ascii_uppercase() {
                        upper += 1;
                    }
                    end += 1;
                    continue;
                }
                if b < 0x80 && b != b'\'' && b != b'-' {
                    break;
                }
                let c = match text[end..].chars().next() {
                    Some(c) => c,
                    None => break,
                };
                if c.is_alphabetic() {
                    if letters == 0 {
                        first_upper = c.is_uppercase();
                    }
                    letters += 1;
                    if c.is_uppercase() {
                        upper += 1;
                    }
                    end += c.len_utf8();
                } else if (c == '\'' || c == '’' || c == '-')
                    && text[end + c.len_utf8()..].chars().next().is_some_and(|n| n.is_alphabetic())
                {
                    end += c.len_utf8();
                } else {
                    break;
                }
            }
            let next = bytes.get(end).copied();
            out.push(Word {
                start,
                end,
                capitalized: first_upper,
                all_caps: letters >= 2 && upper == letters,
                initial: letters == 1 && first_upper && next == Some(b'.'),
                sentence_start: boundary,
                comma_after: next == Some(b','),
            });
            boundary = false;
            i = end;
        } else {
            match b {
                b'.' | b'!' | b'?' | b':' | b'\n' | b';' | b'(' | b'"' | b'*' | b'#' | b'>' => boundary = true,
                b' ' | b'\t' | b'\r' => {}
                // A full stop after an initial or a title ("Dr.") does not end the sentence.
                _ => boundary = false,
            }
            if b == b'.' {
                if let Some(prev) = out.last() {
                    let w = &text[prev.start..prev.end];
                    if prev.end == i && (prev.initial || is_title(w)) {
                        boundary = false;
                    }
                }
            }
            i += 1;
        }
    }
    out
}

fn starts_letter(text: &str, i: usize) -> bool {
    text.is_char_boundary(i) && text[i..].chars().next().is_some_and(char::is_alphabetic)
}

const TITLES: &[&str] =
    &["mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "pt", "rev", "hon", "capt", "lt", "sgt"];

/// Abbreviated titles that end in a full stop without ending a sentence.
pub fn is_title(word: &str) -> bool {
    word.len() <= 4 && TITLES.iter().any(|t| t.eq_ignore_ascii_case(word))
}

/// `word` is one of `list` (lower-case entries), ignoring ASCII case, without allocating.
pub fn one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.len() == word.len() && w.eq_ignore_ascii_case(word))
}

/// `written` without a possessive "'s" ("O'Brien's" → "O'Brien").
pub fn without_possessive(written: &str) -> &str {
    written
        .strip_suffix("'s")
        .or_else(|| written.strip_suffix("’s"))
        .or_else(|| written.strip_suffix("'S"))
        .unwrap_or(written)
}

/// `written` as the lexicon holds it: without a possessive, lower case, no apostrophes. Into
/// `out`, which is cleared first, so that a caller can reuse one buffer.
pub fn lower_core(written: &str, out: &mut String) {
    out.clear();
    for c in without_possessive(written).chars() {
        if c == '\'' || c == '’' {
            continue;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// What a word-level recognizer (`names::scan`, `places::scan`) finds in `text`, as text: for
/// their tests.
#[cfg(test)]
pub(crate) fn recognized(text: &str, scan: fn(&str, &[Word], &mut [bool], &mut Vec<super::Span>)) -> Vec<&str> {
    let w = words(text);
    let mut taken = vec![false; w.len()];
    let mut out = Vec::new();
    scan(text, &w, &mut taken, &mut out);
    out.iter().map(|s| &text[s.start..s.end]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_words_and_their_shape() {
        let text = "Seen by Dr. J. O'Brien-Smith today. PLAN: call Garcia, Maria";
        let w = words(text);
        let s = |i: usize| &text[w[i].start..w[i].end];
        assert_eq!(s(2), "Dr");
        assert_eq!(s(3), "J");
        assert!(w[3].initial);
        assert_eq!(s(4), "O'Brien-Smith");
        assert!(!w[4].sentence_start, "a title's full stop does not end the sentence");
        assert!(w[6].all_caps && w[6].sentence_start);
        assert!(w[7].sentence_start, "after a colon");
        assert!(w[8].comma_after);
    }
}
