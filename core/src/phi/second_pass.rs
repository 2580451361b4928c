//! Defence in depth: a second, independent look at each text just de-identified, before it is
//! stored. It shares nothing with the recognizers (no regular expressions, no word lists, no
//! tokenizer), so a fault in them is not a fault here. It looks only for shapes no clinical or
//! trading text needs to keep: email addresses, web addresses, social security, phone, card and
//! IP numbers, dates in figures, long runs of digits that measure nothing, and a capitalised
//! word after a personal title. What it finds was missed by the first pass; the caller replaces
//! it, counts it in `/metrics` and writes it to the audit log.

use super::types::{Detector, PhiType, Span};

/// Certainty of a second-pass finding: it is a shape, not a reading of the sentence.
const SCORE: f32 = 0.9;

/// Words after a number that make it a quantity, not an identifier.
const UNITS: &[&str] = &[
    "mg",
    "mcg",
    "g",
    "kg",
    "ml",
    "l",
    "iu",
    "units",
    "unit",
    "meq",
    "mmol",
    "shares",
    "share",
    "contracts",
    "usd",
    "eur",
    "gbp",
    "dollars",
    "bps",
    "lots",
    "ms",
    "bytes",
    "tokens",
];

/// Labels of product and procedure codes, which identify a drug or a service, not a person.
const CODE_LABELS: &[&str] =
    &["ndc", "cpt", "hcpcs", "icd", "icd-9", "icd-10", "loinc", "snomed", "rxnorm", "rxcui", "upc", "gtin"];

/// Titles that put a name right after them.
const TITLES: &[&str] = &["Mr.", "Mrs.", "Ms.", "Miss", "Mx.", "Dr.", "Prof."];

/// Identifier-shaped spans of `text` that overlap none of `replaced` (byte ranges of what the
/// first pass already put in), sorted and not overlapping.
pub fn scan(text: &str, replaced: &[(usize, usize)]) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Most bytes can start nothing: skip them with one table look-up. (All that can are
        // ASCII, so `i` stays on a character boundary.)
        if !STARTS[usize::from(b)] {
            i += 1;
            continue;
        }
        let word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        if b.is_ascii_digit() && word_start {
            if let Some(end) = readings_at(bytes, i) {
                // Judged whole: the parts of "100-120/40-60" are not looked at again.
                i = end;
                continue;
            }
        }
        let found = if b.is_ascii_digit() && word_start {
            digits_at(text, i)
        } else if b == b'@' {
            email_around(bytes, i)
        } else if word_start && (b == b'h' || b == b'H' || b == b'w' || b == b'W') {
            url_at(bytes, i)
        } else if word_start && matches!(b, b'M' | b'D' | b'P') {
            name_after_title(bytes, i)
        } else {
            None
        };
        match found {
            Some(span) if span.end > span.start => {
                if !replaced.iter().any(|&(s, e)| s < span.end && span.start < e)
                    && out.last().is_none_or(|l: &Span| l.end <= span.start)
                {
                    out.push(span);
                }
                i = span.end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// The bytes a finding can start at: digits, the `@` of an email, and the first letters of web
/// addresses and of titles.
static STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = b'0';
    while b <= b'9' {
        table[b as usize] = true;
        b += 1;
    }
    let letters = b"@hHwWMDP";
    let mut k = 0;
    while k < letters.len() {
        table[letters[k] as usize] = true;
        k += 1;
    }
    table
};

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn span(start: usize, end: usize, phi_type: PhiType) -> Option<Span> {
    Some(Span::new(start, end, phi_type, SCORE, Detector::SecondPass))
}

/// A run of digit groups joined by single separators, typed by its shape.
fn digits_at(text: &str, start: usize) -> Option<Span> {
    const MAX_GROUPS: usize = 6;
    let bytes = text.as_bytes();
    // Fixed arrays: most texts are full of short numbers, and none of them should allocate.
    let mut group_at = [(0usize, 0usize); MAX_GROUPS];
    let mut sep_at = [0u8; MAX_GROUPS];
    let mut n = 0;
    let mut i = start;
    loop {
        let g = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        group_at[n] = (g, i);
        n += 1;
        let next_is_digit = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_digit);
        match bytes.get(i) {
            Some(&s @ (b'-' | b'.' | b'/' | b' ')) if next_is_digit(i + 1) && n < MAX_GROUPS => {
                sep_at[n - 1] = s;
                i += 1;
            }
            _ => break,
        }
    }
    let (groups, seps) = (&group_at[..n], &sep_at[..n - 1]);
    let end = groups[n - 1].1;
    let mut len_at = [0usize; MAX_GROUPS];
    for (l, g) in len_at.iter_mut().zip(groups) {
        *l = g.1 - g.0;
    }
    let lens = &len_at[..n];
    if bytes.get(end).is_some_and(|&b| is_word_byte(b)) {
        // Glued to letters it is a code or a word, unless it is an ISO timestamp's date.
        let iso_time = lens == [4, 2, 2] && seps == [b'-', b'-'] && bytes[end] == b'T';
        return if iso_time { span(start, end, PhiType::Date) } else { None };
    }
    let total: usize = lens.iter().sum();
    let all = |s: u8| seps.iter().all(|&x| x == s);
    let value = |k: usize| text[groups[k].0..groups[k].1].parse::<u32>().unwrap_or(u32::MAX);
    let before = &text[..start];
    let prefix_plus = before.ends_with('+');
    let area_code = before.ends_with('(') && text[end..].starts_with(')');

    if lens == [3, 2, 4] && (all(b'-') || all(b' ')) {
        return span(start, end, PhiType::Ssn);
    }
    if lens.len() == 4 && all(b'.') && lens.iter().all(|&l| l <= 3) && (0..4).all(|k| value(k) <= 255) {
        return span(start, end, PhiType::Ip);
    }
    if lens.len() == 3 && (all(b'/') || all(b'-') || all(b'.')) {
        let day_month = lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 2 || lens[2] == 4);
        let iso = lens == [4, 2, 2];
        if day_month || iso {
            return span(start, end, PhiType::Date);
        }
    }
    if prefix_plus && total >= 8 {
        return span(start - 1, end, PhiType::Phone);
    }
    if lens == [3, 3, 4] || lens == [1, 3, 3, 4] || (area_code && lens == [3]) {
        let (s, e) = if area_code { (start - 1, phone_tail(text, end + 1)?) } else { (start, end) };
        return span(s, e, PhiType::Phone);
    }
    if (13..=19).contains(&total) && lens.len() >= 3 && lens[..lens.len() - 1].iter().all(|&l| l == 4) {
        return span(start, end, PhiType::Account);
    }
    // A decimal ("115970.06") or signed number ("-19816") is a value, and so is money.
    let decimal = lens.len() == 2 && seps == [b'.'];
    let signed = before.ends_with('-') && !before.ends_with("--");
    if total >= 7
        && !decimal
        && !signed
        && !code_label_before(before)
        && !before.trim_end().ends_with(['$', '€', '£'])
        && !quantity_follows(&text[end..])
    {
        return span(start, end, PhiType::Id);
    }
    None
}

/// Where a run of readings charted together starting at `start` ends: vital signs, gases and
/// pressures ("120-130/70", "100-120/40-60", "7.40/35/64/22", "7.38-33-169"), or a shift
/// ("1900-0700"). Every reading has at most three digits (and at most three decimals); one of
/// them shows it was measured, as no day, month or year does: a decimal, an ascending range, or
/// 100 and over. Phones, dates and codes have a longer part, or only small ones.
fn readings_at(bytes: &[u8], start: usize) -> Option<usize> {
    let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let glued = |at: usize| bytes.get(at).is_some_and(|&b| is_word_byte(b));
    // A shift: two times of day, "1900-0700".
    let hhmm = |at: usize| {
        let v = |k: usize| u32::from(bytes[at + k] - b'0');
        digits(at) == 4 && v(0) * 10 + v(1) <= 24 && v(2) <= 5
    };
    if hhmm(start) && bytes.get(start + 4) == Some(&b'-') && hhmm(start + 5) && !glued(start + 9) {
        return Some(start + 9);
    }
    // Readings, each `(value, decimal)`, and what joins each to the next: fixed arrays, as
    // this runs at every number of a text.
    const MAX: usize = 12;
    let mut readings_at = [(0f32, false); MAX];
    let mut joins_at = [0u8; MAX];
    let mut n = 0;
    let mut i = start;
    loop {
        let int = digits(i);
        if int == 0 || int > 3 {
            return None;
        }
        let mut end = i + int;
        let decimal = bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if decimal {
            let frac = digits(end + 1);
            if frac > 3 {
                return None;
            }
            end += 1 + frac;
        }
        if n == MAX {
            return None;
        }
        readings_at[n] = (std::str::from_utf8(&bytes[i..end]).ok()?.parse().ok()?, decimal);
        n += 1;
        match bytes.get(end) {
            Some(&j @ (b'-' | b'/')) if bytes.get(end + 1).is_some_and(u8::is_ascii_digit) => {
                joins_at[n - 1] = j;
                i = end + 1;
            }
            // "73.162.44.219" is an address, not a reading.
            Some(b'.') if bytes.get(end + 1).is_some_and(u8::is_ascii_digit) => return None,
            _ if glued(end) => return None,
            _ => {
                i = end;
                break;
            }
        }
    }
    let (readings, joins) = (&readings_at[..n], &joins_at[..n - 1]);
    let any_decimal = readings.iter().any(|r| r.1);
    if !joins.contains(&b'/') {
        // "7.38-33-169": readings joined by dashes, one of them a decimal.
        return (readings.len() >= 3 && any_decimal).then_some(i);
    }
    // Between slashes, one reading or an ascending range.
    let mut measured = false;
    let mut k = 0;
    while k < readings.len() {
        let (lo, decimal) = readings[k];
        if joins.get(k) == Some(&b'-') {
            let hi = readings[k + 1].0;
            if lo >= hi || joins.get(k + 1) == Some(&b'-') {
                return None;
            }
            measured = true;
            k += 2;
        } else {
            measured |= lo >= 100.0 || decimal;
            k += 1;
        }
    }
    measured.then_some(i)
}

/// "(617) 555-0142": the rest after the area code's parenthesis.
fn phone_tail(text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let rest_trimmed = rest.trim_start_matches(' ');
    let skipped = rest.len() - rest_trimmed.len();
    let b = rest_trimmed.as_bytes();
    let ok = b.len() >= 8 && b[..3].iter().all(u8::is_ascii_digit) && matches!(b[3], b'-' | b' ' | b'.');
    (ok && b[4..8].iter().all(u8::is_ascii_digit) && b.get(8).is_none_or(|&c| !is_word_byte(c)))
        .then_some(from + skipped + 8)
}

/// "NDC 0071-0155-23", "CPT: 99213": the word before names a product or procedure code.
fn code_label_before(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', ':', '#']);
    let word = trimmed.rsplit(|c: char| c.is_whitespace() || c == '(' || c == ',').next().unwrap_or_default();
    CODE_LABELS.iter().any(|l| word.eq_ignore_ascii_case(l))
}

fn quantity_follows(rest: &str) -> bool {
    let rest = rest.trim_start();
    if rest.starts_with('%') {
        return true;
    }
    let word: String = rest.chars().take_while(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
    UNITS.contains(&word.as_str())
}

/// `local@domain.tld` around the `@` at `at`.
fn email_around(bytes: &[u8], at: usize) -> Option<Span> {
    let local = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let domain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let mut s = at;
    while s > 0 && local(bytes[s - 1]) {
        s -= 1;
    }
    let mut e = at + 1;
    while e < bytes.len() && domain(bytes[e]) {
        e += 1;
    }
    while e > at + 1 && bytes[e - 1] == b'.' {
        e -= 1;
    }
    let host = &bytes[at + 1..e];
    let tld = host.rsplit(|&b| b == b'.').next().unwrap_or_default();
    let dotted = host.contains(&b'.') && tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic);
    if s < at && dotted {
        span(s, e, PhiType::Email)
    } else {
        None
    }
}

/// `http://…`, `https://…` or `www.…`, up to the first space, quote or bracket.
fn url_at(bytes: &[u8], start: usize) -> Option<Span> {
    let rest = &bytes[start..];
    let starts = |p: &[u8]| rest.get(..p.len()).is_some_and(|r| r.eq_ignore_ascii_case(p));
    let prefix = [&b"https://"[..], b"http://", b"www."].into_iter().find(|p| starts(p))?.len();
    let mut e = start;
    while e < bytes.len()
        && !bytes[e].is_ascii_whitespace()
        && !matches!(bytes[e], b'"' | b'\'' | b'<' | b'>' | b')' | b']')
    {
        e += 1;
    }
    while e > start && matches!(bytes[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        e -= 1;
    }
    let host_len = (e - start).saturating_sub(prefix);
    if host_len >= 3 {
        span(start, e, PhiType::Url)
    } else {
        None
    }
}

/// "Dr. Quillfeather": the capitalised word or two after a title.
fn name_after_title(bytes: &[u8], start: usize) -> Option<Span> {
    let title = TITLES.iter().find(|t| bytes[start..].starts_with(t.as_bytes()))?;
    let mut i = start + title.len();
    if bytes.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let name_start = i;
    let mut end = None;
    for _ in 0..2 {
        let w = i;
        if !bytes.get(w).is_some_and(u8::is_ascii_uppercase) {
            break;
        }
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_lowercase() || matches!(bytes[i], b'\'' | b'-') || bytes[i] >= 0x80)
        {
            i += 1;
        }
        if i - w < 2 {
            break;
        }
        end = Some(i);
        if bytes.get(i) != Some(&b' ') {
            break;
        }
        i += 1;
    }
    span(name_start, end?, PhiType::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found<'a>(text: &'a str, replaced: &[(usize, usize)]) -> Vec<(PhiType, &'a str)> {
        let spans = scan(text, replaced);
        spans.iter().map(|s| (s.phi_type, &text[s.start..s.end])).collect()
    }

    #[test]
    fn identifier_shapes_are_found() {
        let text = "Dr. Quillfeather (SSN 219-09-9999) at quill@example.org, https://portal.example.org/p/7, \
                    call (802) 555-0186 or +44 20 7946 0958, host 73.162.44.219, card 4111 1111 1111 1111, \
                    seen 07/19/1948 (2026-03-14T09:30:00Z), record 88412093.";
        assert_eq!(
            found(text, &[]),
            vec![
                (PhiType::Name, "Quillfeather"),
                (PhiType::Ssn, "219-09-9999"),
                (PhiType::Email, "quill@example.org"),
                (PhiType::Url, "https://portal.example.org/p/7"),
                (PhiType::Phone, "(802) 555-0186"),
                (PhiType::Phone, "+44 20 7946 0958"),
                (PhiType::Ip, "73.162.44.219"),
                (PhiType::Account, "4111 1111 1111 1111"),
                (PhiType::Date, "07/19/1948"),
                (PhiType::Date, "2026-03-14"),
                (PhiType::Id, "88412093"),
            ]
        );
    }

    #[test]
    fn quantities_and_clinical_text_are_left_alone() {
        let text = "Give 2500000 units of penicillin; sold 1500000 shares for $12500000 (0.5%) at 1532120.91, \
                    reward -19816.72; NDC 0071-0155-23, CPT: 99213051; BP 120/80, \
                    HR 72, 2.5 mg twice daily in 2026, Hb 13.4 g/dL, WBC 11.2, ratio 1.2.3, Dr. has left.";
        assert_eq!(found(text, &[]), vec![]);
    }

    #[test]
    fn readings_charted_together_are_left_alone() {
        for text in [
            "bp 100-120/40-60 on neo",
            "gas 7.40/35/64/22 then 7.34/50/95/28/0",
            "filling 99/50/7.39/31/3 ok",
            "hemodynamics 48/7.43/33/6",
            "ABG 7.38-33-169",
            "nursing 1900-0700, then 0700-1930",
        ] {
            assert_eq!(found(text, &[]), vec![], "{text}");
        }
        // A part too long, or only day- and month-sized parts: still numbers to replace.
        assert_eq!(found("wife 201/324/1423 x", &[]), vec![(PhiType::Phone, "201/324/1423")]);
        assert_eq!(found("code 55-45-51-7 x", &[]), vec![(PhiType::Id, "55-45-51-7")]);
        assert_eq!(found("ref 2560-7312 x", &[]), vec![(PhiType::Id, "2560-7312")]);
    }

    #[test]
    fn what_the_first_pass_replaced_is_not_found_again() {
        let text = "Dr. Avery Ashford, 555-0186-4412";
        assert_eq!(found(text, &[(4, 17)]), vec![(PhiType::Id, "555-0186-4412")]);
        assert_eq!(found(text, &[(4, 17), (19, 32)]), vec![]);
    }

    /// Every text of the shipped packs' seed and evaluation sets (doses, lab values, positions,
    /// rewards, prices) passes the first pass and then this one with nothing more replaced.
    #[test]
    fn the_shipped_domain_traces_are_left_alone() {
        let scanner = crate::phi::Scanner::default();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../domains");
        let mut texts = 0;
        for set in [
            "healthcare/seed/train.jsonl",
            "healthcare/eval/eval.jsonl",
            "trading/seed/train.jsonl",
            "trading/eval/eval.jsonl",
        ] {
            let content = std::fs::read_to_string(format!("{root}/{set}")).unwrap();
            for line in content.lines().filter(|l| !l.trim().is_empty()) {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let mut strings = Vec::new();
                strings_of(&value, &mut strings);
                for text in strings {
                    texts += 1;
                    let first: Vec<(usize, usize)> =
                        scanner.scan_spans(text).iter().map(|s| (s.start, s.end)).collect();
                    assert_eq!(found(text, &first), vec![], "in {set}: {text}");
                }
            }
        }
        assert!(texts > 1000, "{texts} texts");
    }

    fn strings_of<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings_of(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings_of(v, out)),
            _ => {}
        }
    }

    #[test]
    fn odd_text_does_not_break_it() {
        for text in ["", "@", "www.", "Dr.", "Dr. ", "(", "1-", "Zoë 123-45-6789 é", "\u{0}@\u{FFFD}.de", "+"] {
            let _ = scan(text, &[]);
        }
        assert_eq!(found("Zoë 123-45-6789 é", &[]), vec![(PhiType::Ssn, "123-45-6789")]);
    }
}
