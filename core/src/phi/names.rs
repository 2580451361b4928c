//! People's names, without a neural model: census name lists, the shape of the words, and the
//! cues around them ("Dr.", "Patient", "signed by", "Name:"). Drug names, eponymous diseases
//! and clinical vocabulary are never people: "Dr. Lasix" is not a doctor and "Parkinson's
//! disease" names nobody.

use std::sync::OnceLock;

use super::lexicon::{lexicon, Flags, Lexicon, WordSet};
use super::places::{multiword_city_at, state_follows};
use super::tokens::{is_title, lower_core, one_of, without_possessive, Word};
use super::types::{Detector, PhiType, Span};

/// What a word can be, as far as names go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    First,
    Last,
    /// In a name list, but also an everyday word ("Grace", "Brown"): a name only with help.
    Ambiguous,
    /// Neither a listed name nor an English word ("Oyelaran"): a name after a cue.
    Unknown,
    /// An everyday word, a drug, a disease eponym in use, clinical vocabulary: never a name.
    Other,
}

/// Words right before a name that say a person follows.
const PERSON_CUES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "patient",
    "pt",
    "name",
    "nurse",
    "rn",
    "np",
    "attending",
    "resident",
    "fellow",
    "surgeon",
    "physician",
    "provider",
    "pcp",
    "therapist",
    "counselor",
    "pharmacist",
    "son",
    "daughter",
    "wife",
    "husband",
    "mother",
    "father",
    "mom",
    "dad",
    "brother",
    "sister",
    "spouse",
    "partner",
    "fiance",
    "fiancee",
    "grandson",
    "granddaughter",
    "grandmother",
    "grandfather",
    "aunt",
    "uncle",
    "niece",
    "nephew",
    "cousin",
    "caregiver",
    "guardian",
    "friend",
    "neighbor",
    "roommate",
    "dear",
    "hi",
    "hello",
    "thanks",
    "regards",
    "sincerely",
    "cc",
    "contact",
    "mrn",
    "member",
    "client",
    "resident",
    "baby",
    "infant",
    "child",
    "boy",
    "girl",
    "man",
    "woman",
    "gentleman",
    "lady",
    "officer",
    "agent",
    "rep",
    "auntie",
    "aunty",
    "grandma",
    "grandpa",
    "granny",
    "nana",
    "papa",
    "mama",
    "stepson",
    "stepdaughter",
    "stepmother",
    "stepfather",
    "godmother",
    "godfather",
    "attorney",
    "lawyer",
    "counsel",
];

/// Prepositions a name often follows ("a question for Priya", "I spoke with Anahera"). Weaker
/// than [`PERSON_CUES`]: the word after one must look like a name, not merely be capitalised.
const WEAK_CUES: &[&str] =
    &["for", "with", "and", "from", "about", "regarding", "re", "to", "of", "as", "told", "asked"];

/// "... by" is a cue only after these ("signed by", not "caused by").
const BY_VERBS: &[&str] = &[
    "signed",
    "seen",
    "reviewed",
    "dictated",
    "authored",
    "referred",
    "examined",
    "evaluated",
    "accompanied",
    "cosigned",
    "written",
    "prepared",
    "attested",
    "verified",
    "transcribed",
    "performed",
    "ordered",
    "approved",
    "interpreted",
    "read",
    "called",
    "visited",
];

/// Words after an eponym that make it a disease, sign or test rather than a person.
const EPONYM_HEADS: &[&str] = &[
    "disease",
    "syndrome",
    "sign",
    "signs",
    "test",
    "palsy",
    "phenomenon",
    "maneuver",
    "manoeuvre",
    "reflex",
    "triad",
    "score",
    "scale",
    "criteria",
    "sarcoma",
    "lymphoma",
    "tumor",
    "tumour",
    "ulcer",
    "esophagus",
    "node",
    "cell",
    "cells",
    "classification",
    "staging",
    "hernia",
    "fracture",
    "contracture",
    "disorder",
    "anomaly",
    "deformity",
    "body",
    "bodies",
    "law",
    "position",
    "point",
    "incision",
    "thyroiditis",
    "encephalopathy",
    "dementia",
    "tetralogy",
    "coma",
    "stain",
    "solution",
    "procedure",
    "operation",
    "repair",
    "type",
    "chorea",
    "negative",
    "positive",
    "present",
    "absent",
    "normal",
    "abnormal",
    "equivocal",
    "intact",
    "bilaterally",
    "bilateral",
    "testing",
];

/// Name particles that may sit between capitalised parts of a name.
const PARTICLES: &[&str] =
    &["de", "van", "von", "del", "della", "da", "di", "la", "le", "bin", "al", "der", "den", "ter"];

/// Words before a place: a lone city name after them is a place, not a person.
pub const PLACE_CUES: &[&str] = &[
    "in",
    "from",
    "to",
    "near",
    "at",
    "of",
    "outside",
    "visiting",
    "lives",
    "living",
    "moved",
    "relocated",
    "born",
    "resident",
    "city",
    "town",
    "downtown",
    "via",
];

/// Lower-cased word without a possessive `'s` or apostrophes, and the byte end of its core.
fn core(text: &str, w: &Word) -> (String, usize) {
    let written = &text[w.start..w.end];
    let mut lower = String::with_capacity(written.len());
    lower_core(written, &mut lower);
    (lower, w.start + without_possessive(written).len())
}

/// Drugs, clinical vocabulary, titles, and eponyms in use ("Parkinson's disease"): never a
/// person, and never a place either ("Norco" the drug, not the town).
/// `next` is the following word as written; it is compared ignoring case.
pub fn medical(lex: &Lexicon, lower: &str, next: Option<&str>) -> bool {
    medical_flags(lex.flags(lower), lower, next)
}

/// [`medical`] for a word whose flags are already looked up.
fn medical_flags(f: Flags, lower: &str, next: Option<&str>) -> bool {
    f.has(Flags::DRUG | Flags::CLINICAL | Flags::NEVER_NAME)
        || is_title(lower)
        || (f.has(Flags::EPONYM) && next.is_some_and(|n| eponym_head(n, false)))
}

/// Whether `word` (any case) is one of [`EPONYM_HEADS`], or with `studies`, also "study",
/// "trial", "risk", "grade" or "index". Asked of the word after every capitalised word: one
/// look-up, not a walk down the list.
fn eponym_head(word: &str, studies: bool) -> bool {
    static HEADS: OnceLock<[WordSet; 2]> = OnceLock::new();
    let [heads, with_studies] = HEADS.get_or_init(|| {
        let studies = ["study", "trial", "risk", "grade", "index"];
        [WordSet::new(EPONYM_HEADS.iter().copied()), WordSet::new(EPONYM_HEADS.iter().chain(&studies).copied())]
    });
    if studies { with_studies } else { heads }.contains_ignoring_case(word)
}

/// A medical word, or any word before "score", "sign", "trial"...: "Framingham score",
/// "Chaddock sign", "Gleason grade" are eponyms in use, whatever the word. `f` are the flags
/// of `lower`.
pub fn not_a_person(f: Flags, lower: &str, next: Option<&str>) -> bool {
    medical_flags(f, lower, next) || next.is_some_and(|n| eponym_head(n, true))
}

fn kind(lex: &Lexicon, lower: &str, next: Option<&str>) -> Kind {
    kind_flags(lex, lex.flags(lower), lower, next)
}

/// [`kind`] for a word whose flags `f` are already looked up.
fn kind_flags(lex: &Lexicon, f: Flags, lower: &str, next: Option<&str>) -> Kind {
    if not_a_person(f, lower, next) {
        return Kind::Other;
    }
    if lower.contains('-') {
        // Double-barrelled names: judged by their parts; "Guillain-Barre syndrome" by its first.
        if lower.split('-').next().is_some_and(|first| medical(lex, first, next)) {
            return Kind::Other;
        }
        let parts: Vec<Kind> = lower.split('-').map(|p| kind(lex, p, next)).collect();
        return if parts.first() == Some(&Kind::First) {
            Kind::First
        } else if parts.contains(&Kind::Last) {
            Kind::Last
        } else if parts.iter().all(|k| *k == Kind::Other) {
            Kind::Other
        } else {
            Kind::Unknown
        };
    }
    if f.has(Flags::FIRST_NAME | Flags::LAST_NAME) {
        // Two-letter names ("Al", "Ed") look like abbreviations ("Na", "Cr"): context only.
        if f.has(Flags::AMBIGUOUS) || lower.len() <= 2 {
            Kind::Ambiguous
        } else if f.has(Flags::FIRST_NAME) {
            Kind::First
        } else {
            Kind::Last
        }
    } else if f.has(Flags::ENGLISH | Flags::AMBIGUOUS | Flags::COMMON) || lower.len() < 2 || clinical_form(lower) {
        Kind::Other
    } else {
        Kind::Unknown
    }
}

fn word_text<'a>(text: &'a str, w: &Word) -> &'a str {
    &text[w.start..w.end]
}

/// Only spaces between two words, or the full stop of an initial or a title ("J. Smith").
fn adjacent(text: &str, a: &Word, b: &Word) -> bool {
    let gap = &text[a.end..b.start];
    let spaces = gap.len() <= 2 && gap.chars().all(|c| c == ' ' || c == '\u{a0}');
    let after_initial = (a.initial || is_title(&text[a.start..a.end])) && (gap == ". " || gap == ".");
    spaces || after_initial
}

/// Closings of letters and messages: the signature follows, often on the next line.
const SIGN_OFFS: &[&str] =
    &["sincerely", "regards", "thanks", "thank", "best", "cheers", "respectfully", "signed", "cordially"];

/// Whether `word` could be what [`person_cue`] looks for before a name: one look-up, so the
/// many lower-case words of a text do not each walk the cue lists.
fn may_cue(word: &str) -> bool {
    static CUES: OnceLock<WordSet> = OnceLock::new();
    let cues = CUES.get_or_init(|| {
        let extra = ["by", "i'm", "im", "is", "am"];
        WordSet::new(PERSON_CUES.iter().chain(SIGN_OFFS).chain(extra.iter()).copied())
    });
    // "I’m" has a curly apostrophe: not ASCII, and the only cue that is not.
    cues.contains_ignoring_case(word) || word == "I’m"
}

/// A word no list knows: no flags, three letters or more, letters only.
fn unknown_word(f: Flags, lower: &str) -> bool {
    f == Flags::default() && lower.chars().count() >= 3 && lower.chars().all(char::is_alphabetic)
}

fn person_cue(text: &str, words: &[Word], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let prev = &words[i - 1];
    let p = word_text(text, prev);
    let gap = &text[prev.end..words[i].start];
    if gap.contains(['\n', ';']) {
        return one_of(p, SIGN_OFFS) && gap.matches('\n').count() <= 2;
    }
    let before = |n: usize| (i > n).then(|| word_text(text, &words[i - 1 - n]));
    if p.eq_ignore_ascii_case("by") {
        return before(1).is_some_and(|w| one_of(w, BY_VERBS));
    }
    // "I'm Thandiwe", "my name is", "this is", "I am".
    if one_of(p, &["i'm", "im"]) || p == "I’m" {
        return true;
    }
    if p.eq_ignore_ascii_case("is") {
        return before(1).is_some_and(|w| one_of(w, &["name", "this"]));
    }
    if p.eq_ignore_ascii_case("am") {
        return before(1).is_some_and(|w| w.eq_ignore_ascii_case("i"));
    }
    static CUES: OnceLock<WordSet> = OnceLock::new();
    CUES.get_or_init(|| WordSet::new(PERSON_CUES.iter().copied())).contains_ignoring_case(p)
}

/// Medical word endings: "Pericarditis", "Normocephalic", "hepatomegaly" name no one.
fn clinical_form(lower: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "itis",
        "osis",
        "emia",
        "aemia",
        "algia",
        "ectomy",
        "otomy",
        "ostomy",
        "plasty",
        "scopy",
        "graphy",
        "pathy",
        "cephalic",
        "megaly",
        "penia",
        "uria",
        "trophy",
        "plasia",
        "genic",
        "lytic",
        "ology",
        "ologist",
        "cardia",
        "pnea",
        "phagia",
        "rrhea",
        "rrhoea",
        "ectasis",
        "plegia",
        "paresis",
        "sclerosis",
        "thorax",
        "cytosis",
    ];
    lower.len() >= 6 && ENDINGS.iter().any(|e| lower.ends_with(e))
}

/// Endings of English words the lists may lack in that form ("Contraindications", "Worsening"):
/// at the start of a sentence such a word is not taken for a name.
fn english_shaped(lower: &str) -> bool {
    ["s", "ing", "ed", "tion", "ment", "ness", "ly", "ity", "ive", "able"].iter().any(|e| lower.ends_with(e))
}

/// An unknown word that can be a name on its own: four letters or more (shorter ones are
/// abbreviations: "Hx", "Tn"), and no code.
fn lone_name(text: &str, w: &Word) -> bool {
    w.end - w.start >= 4 && !w.all_caps && !w.initial && !code_like(text, w)
}

/// Part of a code or a product name rather than a word: against a digit ("SpO2", "A1c") or
/// with capitals inside ("MyChart", "eGFR"), though "McDonald" and "DeShawn" are names.
fn code_like(text: &str, w: &Word) -> bool {
    let near_digit = text[..w.start].bytes().next_back().is_some_and(|b| b.is_ascii_digit())
        || text[w.end..].bytes().next().is_some_and(|b| b.is_ascii_digit());
    let s = &text[w.start..w.end];
    // A capital right after a letter ("MyChart", "ADLs"), not after a hyphen ("Cedars-Sinai").
    let inner_capital = s.chars().zip(s.chars().skip(1)).any(|(a, b)| a.is_alphabetic() && b.is_uppercase());
    let name_prefix =
        || ["Mc", "Mac", "De", "Di", "Da", "La", "Le", "Van", "O'", "D'"].iter().any(|p| s.starts_with(p));
    near_digit || (inner_capital && !name_prefix())
}

/// Verbs of prescribing: a word no list knows right after one is a drug ("continue Sinemet").
const DRUG_VERBS: &[&str] = &[
    "continue",
    "continued",
    "continuing",
    "start",
    "started",
    "starting",
    "restart",
    "restarted",
    "resume",
    "resumed",
    "stop",
    "stopped",
    "hold",
    "held",
    "take",
    "takes",
    "taking",
    "took",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "titrate",
    "titrated",
    "prescribe",
    "prescribed",
    "discontinue",
    "discontinued",
    "dc",
    "d/c",
    "switch",
    "switched",
    "add",
    "added",
    "inject",
    "injected",
    "inhale",
    "apply",
    "applied",
];

/// A preposition a name often follows, on the same line.
fn weak_cue(text: &str, words: &[Word], i: usize) -> bool {
    i > 0 && !text[words[i - 1].end..words[i].start].contains('\n') && one_of(word_text(text, &words[i - 1]), WEAK_CUES)
}

fn place_cue(text: &str, words: &[Word], i: usize) -> bool {
    i > 0 && one_of(word_text(text, &words[i - 1]), PLACE_CUES)
}

/// Finds names among `words`; `taken[i]` marks words already claimed by another recognizer.
#[cfg(test)]
pub fn scan(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    scan_words(text, words, taken, out);
}

/// [`scan`], returning the lexicon flags it looked up: those of every capitalised word and
/// initial (`None` for the rest), so that the tagger does not look them up again.
pub fn scan_words(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) -> Vec<Option<Flags>> {
    let lex = lexicon();
    // Only capitalised words (and initials) can be names: the rest are never looked up.
    let candidate = |w: &Word| w.capitalized || w.initial;
    // Each candidate's lower-case core, all in one buffer (one allocation, not one a word), and
    // where its core ends in `text` (without a possessive).
    let mut lowered = String::with_capacity(text.len() / 4);
    let mut scratch = String::new();
    let cores: Vec<(usize, usize, usize)> = words
        .iter()
        .map(|w| {
            let from = lowered.len();
            if !candidate(w) {
                return (from, from, w.end);
            }
            let written = word_text(text, w);
            lower_core(written, &mut scratch);
            lowered.push_str(&scratch);
            (from, lowered.len(), w.start + without_possessive(written).len())
        })
        .collect();
    let lower = |i: usize| &lowered[cores[i].0..cores[i].1];
    let core_end = |i: usize| cores[i].2;
    let flags: Vec<Option<Flags>> =
        words.iter().enumerate().map(|(i, w)| candidate(w).then(|| lex.flags(lower(i)))).collect();
    let kinds: Vec<Kind> = (0..words.len())
        .map(|i| {
            let Some(f) = flags[i] else { return Kind::Other };
            // Double-barrelled names capitalise both parts; "Well-appearing", "Status-post" do not.
            let written = word_text(text, &words[i]);
            if written.split('-').skip(1).any(|part| part.starts_with(|c: char| c.is_lowercase())) {
                return Kind::Other;
            }
            // Glued to a figure it is a measure or a code: "SaO2", "PaO2", "Apgar9".
            if text.as_bytes().get(words[i].end).is_some_and(u8::is_ascii_digit) {
                return Kind::Other;
            }
            let next = words.get(i + 1).map(|w| word_text(text, w));
            kind_flags(lex, f, lower(i), next)
        })
        .collect();

    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let eligible = !taken[i]
            && (w.capitalized || w.initial)
            && (kinds[i] != Kind::Other || w.initial)
            && !(w.all_caps && w.end - w.start <= 3);
        if !eligible {
            i += 1;
            continue;
        }
        let cue = person_cue(text, words, i);
        if !cue && multiword_city_at(text, words, i).is_some() {
            // "Terre Haute", "Des Moines": a place, for the places pass.
            i += 1;
            continue;
        }
        // The run of capitalised words that could form one name.
        let mut run = vec![i];
        let mut j = i;
        while run.len() < 4 && j + 1 < words.len() {
            let (a, b) = (&words[j], &words[j + 1]);
            if taken[j + 1] || !adjacent(text, a, b) || text[a.start..a.end].ends_with("'s") {
                break;
            }
            if one_of(word_text(text, b), PARTICLES) && j + 2 < words.len() && words[j + 2].capitalized {
                j += 1;
                continue;
            }
            let fits = b.initial || (b.capitalized && kinds[j + 1] != Kind::Other);
            if !fits {
                break;
            }
            j += 1;
            run.push(j);
        }
        let known = |kind: Kind| matches!(kind, Kind::First | Kind::Last);
        // "Garcia, Maria": the surname first.
        let surname_first = run.len() == 1
            && !cue
            && w.comma_after
            && matches!(kinds[i], Kind::First | Kind::Last | Kind::Unknown)
            && !(kinds[i] == Kind::Unknown && kinds[i + 1..].first() == Some(&Kind::Unknown) && w.sentence_start)
            // Two codes in capitals no name list holds are a list of tickers or acronyms
            // ("trade MSFT, AAPL"), not a surname and a first name.
            && !(kinds[i] == Kind::Unknown
                && kinds[i + 1..].first() == Some(&Kind::Unknown)
                && w.all_caps
                && words.get(i + 1).is_some_and(|n| n.all_caps))
            && i + 1 < words.len()
            && matches!(kinds[i + 1], Kind::First | Kind::Ambiguous | Kind::Unknown)
            && words[i + 1].capitalized
            && !taken[i + 1];
        if surname_first {
            run.push(i + 1);
        }
        let k = |n: usize| kinds[run[n]];
        let is_initial = |n: usize| words[run[n]].initial;
        // In a name list, though also an everyday word ("Maria", "Miller", "Grace").
        let listed = |n: usize| flags[run[n]].unwrap_or_default().has(Flags::FIRST_NAME | Flags::LAST_NAME);
        let named = |kind: Kind| matches!(kind, Kind::First | Kind::Last | Kind::Ambiguous | Kind::Unknown);

        // In capitals an everyday word after "PT" is the sentence going on ("PT ALERT", "PT
        // WILL NEED"): the capital proves nothing there.
        let named_after_cue = |n: usize| named(k(n)) && !(k(n) == Kind::Ambiguous && words[run[n]].all_caps);
        let accepted: Option<(usize, f32)> = if cue && (0..run.len()).any(|n| !is_initial(n) && named_after_cue(n)) {
            Some((run.len(), 0.95))
        } else if surname_first {
            Some((2, 0.9))
        } else if run.len() >= 2
            && (k(0) == Kind::First || is_initial(0))
            && (1..run.len()).any(|n| known(k(n)) || (k(0) == Kind::First && named(k(n))))
        {
            Some((run.len(), 0.93))
        } else if run.len() >= 2 && k(0) == Kind::Ambiguous && known(k(1)) {
            Some((run.len(), 0.85))
        } else if run.len() >= 2 && listed(0) && is_initial(1) && !words[run[0]].all_caps {
            // "John P.": a first name and the initial of the surname.
            Some((2, 0.8))
        } else if run.len() >= 2
            && (k(0) == Kind::Unknown || flags[run[0]].unwrap_or_default().has(Flags::FIRST_NAME))
            && !words[run[0]].all_caps
            && (1..run.len()).all(|n| listed(n) || k(n) == Kind::Unknown)
            && (1..run.len()).any(listed)
        {
            // "Maria Miller", "Priya Patel": a first name, or a word no list knows, before
            // surnames the lists hold, even ones that are also everyday words.
            Some((run.len(), 0.8))
        } else if weak_cue(text, words, i)
            && (matches!(k(0), Kind::First | Kind::Last) || (k(0) == Kind::Unknown && lone_name(text, w)))
            && !w.all_caps
            && !w.initial
        {
            Some((run.len(), 0.7))
        } else if run.len() >= 2
            && (0..run.len()).all(|n| is_initial(n) || (k(n) == Kind::Unknown && !words[run[n]].all_caps))
            && !is_initial(run.len() - 1)
        {
            // Names the lists do not hold ("Anahera Tipene", "I. Eze"): capitalised words that are
            // not English, not drugs, not clinical terms, side by side.
            Some((run.len(), 0.7))
        } else if k(0) == Kind::Unknown
            && (!w.sentence_start
                || (words.get(i + 1).is_some_and(|n| !n.capitalized)
                    && !english_shaped(lower(i))
                    && !lex.misspelling(lower(i))))
            && lone_name(text, w)
            && !(i > 0 && one_of(word_text(text, &words[i - 1]), DRUG_VERBS))
        {
            // Recall first: a capitalised word inside a sentence that is on no list of safe words
            // (English, drugs, clinical terms, eponyms in use) is taken for a name.
            Some((run.len(), 0.6))
        } else if known(k(0)) && !w.initial && !w.all_caps {
            // A lone capitalised name; in capitals it is more likely an acronym ("ARDS").
            Some((1, if k(0) == Kind::First { 0.8 } else { 0.75 }))
        } else if k(0) == Kind::First && w.all_caps && w.end - w.start >= 4 && in_a_sentence_in_capitals(text, words, i)
        {
            // A first name in a note written in capitals ("DAVID IS SPEAKING TO HIS WIFE"): no
            // acronym of four letters or more is also a first name and no everyday word. Only
            // inside such a sentence: a ticker on its own ("symbol": "LUNA") is no name.
            Some((1, 0.7))
        } else {
            None
        };
        // Without a person cue, a city before a state or after "in" is a place ("Vila Andrade, TN").
        let accepted = accepted.filter(|(n, _)| {
            if cue {
                return true;
            }
            let last = run[n - 1];
            let phrase = text[words[run[0]].start..core_end(last)].to_lowercase();
            // A city of several words is a city ("Des Moines"); a one-word one needs a cue.
            !(lex.flags(&phrase).has(Flags::CITY)
                && (*n > 1 || place_cue(text, words, i) || state_follows(text, words, last + 1)))
        });

        match accepted {
            Some((n, score)) => {
                // Trailing initials and particles are not part of the name.
                let mut last = n - 1;
                while last > 0 && is_initial(last) {
                    last -= 1;
                }
                let start = words[run[0]].start;
                let end = core_end(run[last]);
                // Found because a word is on no list of safe words, or because the lists know it.
                let detector =
                    if (0..n).any(|m| k(m) == Kind::Unknown) { Detector::SafeWords } else { Detector::NameList };
                out.push(Span::new(start, end, PhiType::Name, score, detector));
                for t in taken.iter_mut().take(run[last] + 1).skip(i) {
                    *t = true;
                }
                i = run[last] + 1;
            }
            None => i += 1,
        }
    }
    lower_case_names(text, words, taken, out);
    flags
}

/// Names typed without capitals ("said jenny to blake", "it's under dominic halder"): a first
/// name and a surname side by side, neither of them an everyday word, a drug or a place. Only
/// in sentences written without capitals, where a name has nothing else to show it by. The
/// spans come after the others: the scanner sorts them all once.
fn lower_case_names(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    let lex = lexicon();
    let plain = Flags::ENGLISH | Flags::AMBIGUOUS | Flags::DRUG | Flags::CLINICAL | Flags::NEVER_NAME | Flags::CITY;
    let mut lower_case_sentence = false;
    for i in 0..words.len().saturating_sub(1) {
        let (a, b) = (&words[i], &words[i + 1]);
        if a.sentence_start {
            lower_case_sentence = !a.capitalized;
        }
        // Where capitals mean nothing, or the words on both sides are in capitals ("HOUSE STAFF
        // mary souza AWARE"; one acronym beside a pair, "BP and HR", is in every note). In a
        // sentence with capitals where they belong a lower-case pair is left alone, before any
        // other test: this runs for every word of a text.
        let no_capitals =
            lower_case_sentence || (i > 0 && words[i - 1].all_caps) && words.get(i + 2).is_some_and(|w| w.all_caps);
        if !no_capitals || taken[i] || taken[i + 1] || a.capitalized || b.capitalized || !adjacent(text, a, b) {
            continue;
        }
        // Looked up as written: no allocation for the many lower-case words of a text.
        let as_written = |w: &Word| {
            let s = &text[w.start..w.end];
            if s.bytes().all(|b| b.is_ascii_lowercase()) {
                lex.flags(s)
            } else if !s.is_ascii() {
                lex.flags(&core(text, w).0)
            } else {
                Flags::default()
            }
        };
        let first = as_written(a);
        // A first name that is also a town ("mary", "florence") is a first name before a surname;
        // "del", "van" are particles ("del pabellón").
        let particle = one_of(&text[a.start..a.end], PARTICLES);
        if !first.has(Flags::FIRST_NAME) || first.has(plain - Flags::CITY) || particle {
            continue;
        }
        let second = as_written(b);
        // "mary hoeller": a surname no list holds is still one after a first name, unless it
        // reads as a misspelt word.
        let written = &text[b.start..b.end];
        let unknown_surname = unknown_word(second, written) && written.len() >= 4 && !lex.misspelling(written);
        if (second.has(Flags::LAST_NAME) && !second.has(plain)) || unknown_surname {
            out.push(Span::new(a.start, b.end, PhiType::Name, 0.6, Detector::LowerCaseName));
            taken[i] = true;
            taken[i + 1] = true;
        }
    }
    cued_lower_case_names(text, words, taken, out);
    titled_names(text, words, taken, out);
    initialled_names(text, words, taken, out);
}

/// Word `i` has a word in capitals right before or after it, one space away: it sits in a
/// sentence written in capitals, not alone or in a list of codes ("MSFT, LUNA").
fn in_a_sentence_in_capitals(text: &str, words: &[Word], i: usize) -> bool {
    let joined = |a: &Word, b: &Word| a.all_caps && b.all_caps && &text[a.end..b.start] == " ";
    (i > 0 && joined(&words[i - 1], &words[i])) || words.get(i + 1).is_some_and(|n| joined(&words[i], n))
}

/// Titles and roles written right before a clinician's name in notes: "dr green", "DR TYRO",
/// "NP JEN", "HO SCHWARZ", "RABBI KLEIN". After one, any word the name lists hold is a name,
/// even an everyday one, and so is a word no list knows.
const TITLE_CUES: &[&str] = &["dr", "doctor", "mr", "mrs", "ms", "miss", "rabbi", "md", "ho", "np", "pa", "rn", "rrt"];

/// Roles written as abbreviations, which notes also use for other things ("PA line" for the
/// pulmonary artery, "MD aware"): after one of [`TITLE_CUES`], an everyday word is no name; and
/// before one, an initial and an everyday word are still a signature ("q. lander rrt").
const ROLE_ABBREVIATIONS: &[&str] = &["md", "ho", "np", "pa", "rn", "rrt", "crt", "lpn"];

/// Relations written right before a relative's first name: "son bill", "DTR PHILOMENA",
/// "Son, Ed,". After one, a first name is a name even when it is an everyday word.
const RELATION_CUES: &[&str] = &[
    "son",
    "daughter",
    "dtr",
    "wife",
    "husband",
    "brother",
    "sister",
    "mother",
    "father",
    "girlfriend",
    "boyfriend",
    "friend",
    "grandson",
    "granddaughter",
    "niece",
    "nephew",
    "fiance",
    "fiancee",
    "partner",
    "sons",
    "daughters",
];

/// Words that follow a title or a relation in notes and are never the name: "MD aware", "son
/// will call", "dr to see", "wife at bedside". Some are on the name lists ("Will", "May").
const AFTER_CUE_NOT_NAMES: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "at",
    "in",
    "into",
    "on",
    "to",
    "of",
    "for",
    "from",
    "with",
    "by",
    "is",
    "was",
    "are",
    "were",
    "be",
    "been",
    "has",
    "had",
    "have",
    "will",
    "would",
    "may",
    "might",
    "can",
    "could",
    "should",
    "shall",
    "did",
    "does",
    "do",
    "not",
    "who",
    "that",
    "this",
    "here",
    "there",
    "aware",
    "made",
    "notified",
    "paged",
    "called",
    "ordered",
    "said",
    "states",
    "stated",
    "says",
    "visited",
    "visiting",
    "updated",
    "present",
    "out",
    "up",
    "also",
    "both",
    "all",
    "team",
    "service",
    "office",
    "note",
    "notes",
    "order",
    "orders",
    "re",
    "per",
    "spoke",
    "came",
    "come",
    "left",
    "saw",
    "seen",
    "see",
    "wants",
    "want",
    "feels",
    "felt",
    "believes",
    "thinks",
    "agrees",
    "agreed",
    "informed",
    "contacted",
    "phoned",
    "and/or",
    "w",
    "s",
    "x",
];

fn after_cue_not_name(word: &str) -> bool {
    one_of(word, AFTER_CUE_NOT_NAMES)
}

/// Everyday words after a title or relation, and names in capitals after one; the main pass
/// takes neither (an everyday word or a short word in capitals is no name without this cue).
fn titled_names(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    static CUES: OnceLock<WordSet> = OnceLock::new();
    let cues = CUES.get_or_init(|| WordSet::new(TITLE_CUES.iter().chain(RELATION_CUES).copied()));
    let lex = lexicon();
    let never = Flags::DRUG | Flags::CLINICAL | Flags::NEVER_NAME | Flags::EPONYM;
    let mut lower = String::new();
    let mut i = 1;
    while i < words.len() {
        let prev = &words[i - 1];
        let cue = word_text(text, prev);
        if taken[i] || !cues.contains_ignoring_case(cue) {
            i += 1;
            continue;
        }
        let gap = &text[prev.end..words[i].start];
        let title = one_of(cue, TITLE_CUES) && matches!(gap, " " | ". " | "  ");
        let relation = !title && one_of(cue, RELATION_CUES) && matches!(gap, " " | ", " | ",");
        let role = title && one_of(cue, ROLE_ABBREVIATIONS);
        if !(title || relation) {
            i += 1;
            continue;
        }
        let is_name = |w: &Word, lower: &mut String, first: bool| {
            let written = word_text(text, w);
            if after_cue_not_name(written) || written.bytes().any(|b| b.is_ascii_digit()) || written.len() < 2 {
                return false;
            }
            lower_core(written, lower);
            let f = lex.flags(lower);
            if f.has(never) {
                return false;
            }
            // "dr williams-nuzzo": a double-barrelled name by its parts.
            let parts = || lower.split('-').filter(|p| !p.is_empty());
            let double = lower.contains('-');
            let listed = f.has(Flags::FIRST_NAME | Flags::LAST_NAME)
                || double && parts().any(|p| lex.flags(p).has(Flags::FIRST_NAME | Flags::LAST_NAME));
            let unknown = unknown_word(f, lower) || double && parts().all(|p| unknown_word(lex.flags(p), p));
            // "NP CAROL" is a name, "PA LINE", "NP CRACKLES" and "HO REGARDING" are not.
            if role && f.has(Flags::ENGLISH | Flags::AMBIGUOUS) && !f.has(Flags::FIRST_NAME) {
                return false;
            }
            if first && relation {
                f.has(Flags::FIRST_NAME) || (unknown && w.capitalized)
            } else {
                listed || unknown || (title && first && w.capitalized && !f.has(Flags::SAFE))
            }
        };
        if !is_name(&words[i], &mut lower, true) {
            i += 1;
            continue;
        }
        let mut last = i;
        while last + 1 < words.len()
            && last - i < 2
            && !taken[last + 1]
            && adjacent(text, &words[last], &words[last + 1])
            && is_name(&words[last + 1], &mut lower, false)
        {
            last += 1;
        }
        let (_, end) = core(text, &words[last]);
        out.push(Span::new(words[i].start, end, PhiType::Name, 0.7, Detector::NameList));
        for t in &mut taken[i..=last] {
            *t = true;
        }
        i = last + 1;
    }
}

/// Species written with the genus's initial: "E. coli", "S. aureus", never a person.
const SPECIES: &[&str] = &[
    "coli",
    "aureus",
    "diff",
    "difficile",
    "pylori",
    "aeruginosa",
    "pneumoniae",
    "epi",
    "epidermidis",
    "albicans",
    "faecalis",
    "faecium",
    "fragilis",
    "tuberculosis",
    "gonorrhoeae",
    "influenzae",
    "marcescens",
    "cloacae",
    "glabrata",
    "jirovecii",
    "carinii",
    "pneumonia",
    "vulgaris",
    "mirabilis",
    "catarrhalis",
    "viridans",
    "pyogenes",
    "agalactiae",
    "maltophilia",
    "baumannii",
    "oxytoca",
    "monocytogenes",
    "trachomatis",
    "fumigatus",
    "perfringens",
];

/// An initial and a surname in any case, as notes write a colleague: "E. WELSH AWARE",
/// "AS PER B. KARGAS", "s. roberto rrt".
fn initialled_names(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    let lex = lexicon();
    let never = Flags::DRUG | Flags::CLINICAL | Flags::NEVER_NAME | Flags::EPONYM | Flags::SAFE;
    let mut lower = String::new();
    for i in 0..words.len().saturating_sub(1) {
        let (a, b) = (&words[i], &words[i + 1]);
        if taken[i] || taken[i + 1] || a.end - a.start != 1 || &text[a.end..b.start] != ". " {
            continue;
        }
        // "p. o.", "q. 4h": not after another initial or a letter and a full stop; and an
        // initial stands alone ("50-110s. no ectopy" is a plural).
        if text[..a.start].ends_with(". ") && i > 0 && words[i - 1].end - words[i - 1].start == 1
            || text[..a.start].ends_with(|c: char| c.is_alphanumeric())
        {
            continue;
        }
        let written = word_text(text, b);
        if written.len() < 2 || after_cue_not_name(written) || one_of(written, SPECIES) {
            continue;
        }
        lower_core(written, &mut lower);
        let f = lex.flags(&lower);
        let listed = f.has(Flags::FIRST_NAME | Flags::LAST_NAME);
        let unknown = unknown_word(f, &lower);
        // In lower case a single letter and a word are more often shorthand: the lists decide.
        let capital = a.capitalized && (b.capitalized || b.all_caps);
        // "q. lander rrt": before a credential, an everyday word is still a surname.
        let credential = words.get(i + 2).is_some_and(|c| one_of(word_text(text, c), ROLE_ABBREVIATIONS));
        let everyday = !capital && !credential && f.has(Flags::ENGLISH | Flags::AMBIGUOUS);
        if f.has(never) || everyday || !(listed || (unknown && capital)) {
            continue;
        }
        let (_, end) = core(text, b);
        out.push(Span::new(a.start, end, PhiType::Name, 0.7, Detector::NameList));
        taken[i] = true;
        taken[i + 1] = true;
    }
}

/// A name written without capitals after a person cue, in any sentence: "my name is pacífica
/// solís", "follow up with dr. cotto". The cue makes one word enough: one the name lists hold,
/// or one no list knows at all.
fn cued_lower_case_names(text: &str, words: &[Word], taken: &mut [bool], out: &mut Vec<Span>) {
    let lex = lexicon();
    let plain = Flags::ENGLISH | Flags::AMBIGUOUS | Flags::DRUG | Flags::CLINICAL | Flags::NEVER_NAME | Flags::CITY;
    // A word no list knows is a name only after a title or "my name is": after "pt" it is as
    // likely a misspelt verb ("pt reportd").
    let strong_cue = |i: usize| {
        one_of(
            word_text(text, &words[i - 1]),
            &["is", "am", "i'm", "im", "dr", "mr", "mrs", "ms", "miss", "mx", "prof"],
        )
    };
    let listed = |w: &Word, strong: bool| {
        let (lower, _) = core(text, w);
        let flags = lex.flags(&lower);
        (flags.has(Flags::FIRST_NAME | Flags::LAST_NAME) || (strong && unknown_word(flags, &lower)))
            && !flags.has(plain)
    };
    let mut i = 1;
    while i < words.len() {
        let w = &words[i];
        if taken[i] || w.capitalized || !may_cue(word_text(text, &words[i - 1])) || !person_cue(text, words, i) {
            i += 1;
            continue;
        }
        let strong = strong_cue(i);
        if !listed(w, strong) {
            i += 1;
            continue;
        }
        let mut last = i;
        while last + 1 < words.len()
            && last - i < 3
            && !taken[last + 1]
            && !words[last + 1].capitalized
            && adjacent(text, &words[last], &words[last + 1])
            && listed(&words[last + 1], strong)
        {
            last += 1;
        }
        out.push(Span::new(w.start, words[last].end, PhiType::Name, 0.7, Detector::LowerCaseName));
        for t in &mut taken[i..=last] {
            *t = true;
        }
        i = last + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phi::tokens::recognized;

    fn names(text: &str) -> Vec<&str> {
        recognized(text, scan)
    }

    #[test]
    fn names_with_cues_lists_and_shapes() {
        assert_eq!(names("Patient Maria Garcia was seen today."), vec!["Maria Garcia"]);
        assert_eq!(names("Seen by Dr. Oyelaran in clinic."), vec!["Oyelaran"]);
        assert_eq!(names("Garcia reports less pain."), vec!["Garcia"]);
        assert_eq!(names("Called her daughter Grace about it."), vec!["Grace"]);
        assert_eq!(names("Grace Johnson called back."), vec!["Grace Johnson"]);
        assert_eq!(names("Signed by J. Whitfield, MD"), vec!["J. Whitfield"]);
        assert_eq!(names("Garcia, Maria (DOB on file)"), vec!["Garcia, Maria"]);
        assert_eq!(names("Dear Mr. O'Brien-Walsh,"), vec!["O'Brien-Walsh"]);
        assert_eq!(names("Mr. Smith's wife"), vec!["Smith"]);
    }

    #[test]
    fn names_no_cue_announces() {
        assert_eq!(names("Summarize discharge instructions for Maria Miller after surgery."), vec!["Maria Miller"]);
        assert_eq!(names("A dosing question for Priya Miller (29y) with psoriasis."), vec!["Priya Miller"]);
        assert_eq!(names("I spoke with Anahera yesterday about the rash."), vec!["Anahera"]);
        assert_eq!(names("The rash was better on review, per Xochitl in triage."), vec!["Xochitl"]);
        assert_eq!(names("Anahera called back at noon."), vec!["Anahera"]);
        assert_eq!(names("it's under my partner's name, jamal ortiz, i think"), vec!["jamal ortiz"]);
        assert_eq!(names("My name is priya okafor. Please help."), vec!["priya okafor"]);
        assert_eq!(names("Follow up with dr. nakashima next week."), vec!["nakashima"]);
        assert!(names("My name is on the form; ask the nurse about it.").is_empty());
    }

    #[test]
    fn names_in_nursing_notes() {
        assert_eq!(names("some mild stridor noted, dr green aware."), vec!["green"]);
        assert_eq!(names("social: pt's son, bill, called twice"), vec!["bill"]);
        assert_eq!(names("DR TYRO IN SPOKE WITH THE WIFE"), vec!["TYRO"]);
        assert_eq!(names("EXTENSIVE DISCUSSION WITH DTR PHILOMENA AND HER HUSBAND"), vec!["PHILOMENA"]);
        assert_eq!(names("LAB: INR THIS AM 6.0. E. WELSH AWARE."), vec!["E. WELSH"]);
        assert_eq!(names("DAVID IS SPEAKING TO HIS WIFE"), vec!["DAVID"]);
        assert!(names("LUNA").is_empty(), "a ticker on its own");
        assert_eq!(names("md will call son don reid regarding drainage"), vec!["don reid"]);
        // Names that nurses write as words (learned homographs) are still names in context.
        assert_eq!(names("Plan discussed with Dr. Foley this morning."), vec!["Foley"]);
        assert_eq!(names("Report given to Bernard Foley, RN."), vec!["Bernard Foley"]);
        assert_eq!(names("BP 88/40. NP CAROL MADE AWARE."), vec!["CAROL"]);
        assert_eq!(names("all is well at this time. q. lander rrt"), vec!["q. lander"]);
        assert_eq!(names("HOUSE STAFF mary souza AWARE."), vec!["mary souza"]);
        assert_eq!(names("will consult with mary hoeller re skin care"), vec!["mary hoeller"]);
        assert_eq!(names("wean to extubate per dr williams-nuzzo."), vec!["williams-nuzzo"]);
        for text in [
            "MD aware. Son will call back. Wife at bedside.",
            "Cultures grew E. coli and S. aureus.",
            "Dr. Lasix is not a person.",
            "ROUTE: p. o. q. 6 hours",
            "NEURO: PT ALERT AND ORIENTED. PT WILL NEED PEG. PT GIVEN KCL.",
            "HR 60-90s. no ectopy. SaO2 95% on 2L, PaO2 88.",
            "R radial a-line and PA line intact; PA pressures stable.",
        ] {
            assert!(names(text).is_empty(), "{text:?} -> {:?}", names(text));
        }
    }

    #[test]
    fn not_people() {
        for text in [
            "Dr. Lasix is not a person; give Lasix 40 mg.",
            "History of Parkinson's disease and Graves disease.",
            "Will continue metformin. May increase the dose.",
            "Plan: Follow up in Cardiology Clinic.",
            "Patient Reports improvement. Assessment and Plan below.",
            "The Babinski sign was negative.",
            "Caused by Staphylococcus aureus.",
            "Take Tylenol and Advil as needed.",
            "O: Well-appearing male. Hx angina; Sx differ. Pericarditis a possibility. HEENT: Normocephalic.",
            "No difficulty with ADLs. Status-post knee replacement.",
            // Words clinicians were seen to write often and never as a name (learned lists).
            "Trach is postponed until Monday. Afebrile, on IVABX. Vent as per Carevue.",
            "Paciente de 64 años. Exploración física sin hallazgos.",
            "Foley draining clear urine. Levo weaned off overnight. Endo following.",
            "Cantonese speaking; interpreter called. Contiue to monitor.",
        ] {
            assert!(names(text).is_empty(), "{text:?} -> {:?}", names(text));
        }
    }
}
