//! Cities by name (GeoNames: US cities over 5,000 people, world cities over 100,000). A city
//! that is also an everyday word or a surname ("Mobile", "Jackson") needs a cue: "in",
//! "lives in", or a following state.

use super::lexicon::{lexicon, Flags};
use super::names::{medical, PLACE_CUES};
use super::tokens::{one_of, Word};
use super::types::{Detector, PhiType, Span};

const STATE_ABBREVIATIONS: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR",
];

/// `words[next]` is a state after a comma: "Worcester, MA", "Springfield, Illinois".
pub fn state_follows(text: &str, words: &[Word], next: usize) -> bool {
    next > 0
        && words[next - 1].comma_after
        && words.get(next).is_some_and(|w| {
            let s = &text[w.start..w.end];
            STATE_ABBREVIATIONS.contains(&s) || (w.capitalized && one_of(s, STATE_NAMES))
        })
}

const STATE_NAMES: &[&str] = &[
    "alabama",
    "alaska",
    "arizona",
    "arkansas",
    "california",
    "colorado",
    "connecticut",
    "delaware",
    "florida",
    "georgia",
    "hawaii",
    "idaho",
    "illinois",
    "indiana",
    "iowa",
    "kansas",
    "kentucky",
    "louisiana",
    "maine",
    "maryland",
    "massachusetts",
    "michigan",
    "minnesota",
    "mississippi",
    "missouri",
    "montana",
    "nebraska",
    "nevada",
    "new",
    "north",
    "south",
    "west",
    "ohio",
    "oklahoma",
    "oregon",
    "pennsylvania",
    "rhode",
    "tennessee",
    "texas",
    "utah",
    "vermont",
    "virginia",
    "washington",
    "wisconsin",
    "wyoming",
];

/// Words of a city of two or more words starting at `words[i]` ("Terre Haute", "New York"),
/// if there is one.
pub fn multiword_city_at(text: &str, words: &[Word], i: usize) -> Option<usize> {
    let lex = lexicon();
    let mut candidate = String::new();
    (2..=lex.max_city_words.min(words.len() - i)).rev().find(|&n| {
        let last = &words[i + n - 1];
        if !last.capitalized || text[words[i].start..last.end].contains('\n') {
            return false;
        }
        candidate.clear();
        candidate.extend(text[words[i].start..last.end].chars().map(|c| c.to_ascii_lowercase()));
        lex.flags(&candidate).has(Flags::CITY)
    })
}

/// Lower-case words inside city names ("Winston-Salem" aside): "Fuencarral-el Pardo".
const LOWER_PARTS: &[&str] = &["el", "de", "del", "la", "le", "du", "of", "on", "upon"];

/// Finds cities among `words` not already `taken` by another recognizer.
pub fn scan(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    let lex = lexicon();
    let mut candidate = String::new();
    let mut i = 0;
    while i < words.len() {
        if taken[i] || !words[i].capitalized {
            i += 1;
            continue;
        }
        if linked_town(&text[words[i].start..words[i].end]) {
            out.push(Span::new(words[i].start, words[i].end, PhiType::Location, 0.8, Detector::Place));
            taken[i] = true;
            i += 1;
            continue;
        }
        // The longest run of capitalised, untaken, adjacent words that could be a city.
        let mut run = 1;
        while run < lex.max_city_words && i + run < words.len() {
            let (a, b) = (&words[i + run - 1], &words[i + run]);
            let gap = &text[a.end..b.start];
            let joined = gap == " " || gap == ". " || gap == "-";
            if taken[i + run] || !joined || !(b.capitalized || one_of(&text[b.start..b.end], LOWER_PARTS)) {
                break;
            }
            run += 1;
        }
        let mut matched = None;
        for n in (1..=run).rev() {
            let last = &words[i + n - 1];
            if !last.capitalized {
                continue;
            }
            candidate.clear();
            for c in text[words[i].start..last.end].chars() {
                candidate.push(c.to_ascii_lowercase());
            }
            let flags = lex.flags(&candidate);
            if !flags.has(Flags::CITY) {
                continue;
            }
            let next = words.get(i + n).map(|w| &text[w.start..w.end]);
            if n == 1 && medical(lex, &candidate, next) {
                continue;
            }
            // In capitals, three letters or fewer are as likely an acronym ("L ICA stenosis").
            let acronym = n == 1 && words[i].all_caps && candidate.len() <= 3;
            let ambiguous = acronym
                || n == 1 && flags.has(Flags::AMBIGUOUS | Flags::ENGLISH | Flags::FIRST_NAME | Flags::LAST_NAME);
            // "urine from FOLEY", "transferred from OSH": a clinical homograph needs its state.
            let cued = i > 0
                && one_of(&text[words[i - 1].start..words[i - 1].end], PLACE_CUES)
                && !(n == 1 && flags.has(Flags::HOMOGRAPH));
            if !ambiguous || cued || state_follows(text, words, i + n) {
                matched = Some((n, if ambiguous { 0.8 } else { 0.85 }));
                break;
            }
        }
        match matched {
            Some((n, score)) => {
                out.push(Span::new(words[i].start, words[i + n - 1].end, PhiType::Location, score, Detector::Place));
                for t in &mut taken[i..i + n] {
                    *t = true;
                }
                i += n;
            }
            None => i += 1,
        }
    }
}

/// Legal forms that end an organization's name in any case ("flying garden co.ltd.", "cpl
/// resources plc"); the capitalised ones the patterns already find. "Limited" and "company" are
/// everyday words in lower case, so they are left out.
const LEGAL_FORMS: &[&str] = &["inc", "corp", "corporation", "incorporated", "llc", "ltd", "plc", "llp", "gmbh"];

/// Words that end an organization's name on the left: "works for", "ceo of", "and".
const BEFORE_ORGANIZATION: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "her", "his", "in", "is", "my", "of", "on", "or", "our", "the",
    "their", "to", "was", "with", "your",
];

/// Organizations written without capitals, found by their legal form: up to four words before
/// "inc.", "plc" or "co.ltd." back to a preposition, a conjunction or punctuation.
pub fn organizations(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    for i in 1..words.len() {
        let w = words[i];
        let form = &text[w.start..w.end];
        if taken[i] || !form.bytes().next().is_some_and(|b| b.is_ascii_lowercase()) || !one_of(form, LEGAL_FORMS) {
            continue;
        }
        // "co.ltd.", "co. ltd": the "co" belongs to the form.
        let mut first = i;
        if &text[words[i - 1].start..words[i - 1].end] == "co"
            && matches!(&text[words[i - 1].end..w.start], "." | ". " | ", " | "., ")
        {
            first = i - 1;
        }
        let mut start = first;
        while start > 0 && first - start < 4 {
            let prev = words[start - 1];
            let gap = &text[prev.end..words[start].start];
            if taken[start - 1]
                || !(gap == " " || gap == " & ")
                || one_of(&text[prev.start..prev.end], BEFORE_ORGANIZATION)
            {
                break;
            }
            start -= 1;
        }
        if start == first {
            continue;
        }
        let end = if text[w.end..].starts_with('.') { w.end + 1 } else { w.end };
        out.push(Span::new(words[start].start, end, PhiType::Location, 0.8, Detector::Place));
        for t in &mut taken[start..=i] {
            *t = true;
        }
    }
}

/// French, Belgian and Swiss town names joined by a particle, whatever the town: "Boulogne-sur-Mer",
/// "Chauveau-la-Forêt", "Villeneuve-lès-Avignon". No list holds them all; the shape says place.
fn linked_town(word: &str) -> bool {
    const PARTICLES: &[&str] = &["sur", "sous", "la", "le", "les", "lès", "en", "aux", "de", "du", "des", "devant"];
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() >= 3
        && parts.first().is_some_and(|p| p.chars().count() >= 3 && p.starts_with(char::is_uppercase))
        && parts.last().is_some_and(|p| p.starts_with(char::is_uppercase))
        && parts[1..parts.len() - 1].iter().any(|p| PARTICLES.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phi::tokens::recognized;

    fn cities(text: &str) -> Vec<&str> {
        recognized(text, scan)
    }

    #[test]
    fn finds_cities() {
        assert_eq!(cities("She lives in San Francisco with her son."), vec!["San Francisco"]);
        assert_eq!(cities("Transferred from Worcester, MA yesterday."), vec!["Worcester"]);
        assert_eq!(cities("Moved to Mobile last year."), vec!["Mobile"]);
        assert!(cities("Mobile phone on file. Normal exam.").is_empty());
        // Clinical homographs need their state; short capitals are acronyms.
        assert!(cities("URINE FROM FOLEY. TRANSFERRED FROM OSH. L ICA STENOSIS.").is_empty());
        assert_eq!(cities("Moved from Foley, AL in May."), vec!["Foley"]);
        assert_eq!(cities("Envoyez-le au 9, boulevard Brunel 59801 Grondin-sur-Mer."), vec!["Grondin-sur-Mer"]);
        assert_eq!(cities("I'm in Texier-la-Forêt, at the conference"), vec!["Texier-la-Forêt"]);
        assert!(cities("Guillain-Barre syndrome; a Jack-in-the-box; Status-post CABG.").is_empty());
    }

    #[test]
    fn finds_organizations_written_in_lower_case() {
        let orgs = |text| recognized(text, organizations);
        assert_eq!(orgs("amanda is from flying garden co.ltd. and says hi"), vec!["flying garden co.ltd."]);
        assert_eq!(
            orgs("at apex technology acquisition corporation, and cpl resources plc."),
            vec!["apex technology acquisition corporation", "cpl resources plc."]
        );
        assert!(orgs("the corporation said; of inc. and the ltd").is_empty());
    }
}
