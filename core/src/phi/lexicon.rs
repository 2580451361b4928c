//! The word lists behind the name and place recognizers, built once from the files in
//! `core/data/phi/` (see `scripts/phi/build_lexicons.py` for their sources and licences).

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

pub struct Lexicon {
    pub first_names: FxHashSet<&'static str>,
    pub last_names: FxHashSet<&'static str>,
    pub cities: FxHashSet<&'static str>,
    pub drugs: FxHashSet<&'static str>,
    pub eponyms: FxHashSet<&'static str>,
    pub clinical: FxHashSet<&'static str>,
    /// Names and places that are also everyday words ("May", "Will", "Mobile", "Brown"):
    /// they count only with context.
    pub ambiguous: FxHashSet<&'static str>,
    /// Everyday English words that are not names.
    pub english: FxHashSet<&'static str>,
    /// Longest city name in words, to bound the look-ahead.
    pub max_city_words: usize,
}

fn set(text: &'static str) -> FxHashSet<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// Capitalised words that are never a person's name in clinical and chat text, though some are
/// surnames in the census: nationalities, languages, religions, holidays, institutions.
const NEVER_NAMES: &str = "american english french spanish german italian chinese japanese korean indian african \
    european asian hispanic latino latina caucasian christian catholic jewish muslim hindu buddhist \
    christmas easter thanksgiving medicare medicaid tricare covid sars coronavirus hiv aids \
    god lord jesus mary's hospital university college clinic center centre institute foundation \
    department street avenue road drive lane court boulevard highway county city state north south \
    east west united states america monday tuesday wednesday thursday friday saturday sunday \
    january february march april may june july august september october november december";

pub fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let cities = set(include_str!("../../data/phi/cities.txt"));
        let max_city_words = cities.iter().map(|c| c.split(' ').count()).max().unwrap_or(1);
        let mut ambiguous = set(include_str!("../../data/phi/ambiguous_words.txt"));
        ambiguous.extend(NEVER_NAMES.split_whitespace());
        Lexicon {
            first_names: set(include_str!("../../data/phi/first_names.txt")),
            last_names: set(include_str!("../../data/phi/last_names.txt")),
            cities,
            drugs: set(include_str!("../../data/phi/drug_names.txt")),
            eponyms: set(include_str!("../../data/phi/eponyms.txt")),
            clinical: set(include_str!("../../data/phi/clinical_words.txt")),
            ambiguous,
            english: set(include_str!("../../data/phi/english_words.txt")),
            max_city_words,
        }
    })
}

/// Words that are never names at all: `NEVER_NAMES` above.
pub fn never_name(lower: &str) -> bool {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| NEVER_NAMES.split_whitespace().collect()).contains(lower)
}
