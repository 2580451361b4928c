//! The word lists behind the name and place recognizers, built once from the files in
//! `core/data/phi/` (see `scripts/phi/build_lexicons.py` for their sources and licences), and
//! merged into one map so that each word costs one lookup.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// What a (lower-case) word is known to be; a word can be several things at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(u16);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const FIRST_NAME: Flags = Flags(1);
    pub const LAST_NAME: Flags = Flags(1 << 1);
    pub const CITY: Flags = Flags(1 << 2);
    pub const DRUG: Flags = Flags(1 << 3);
    pub const EPONYM: Flags = Flags(1 << 4);
    pub const CLINICAL: Flags = Flags(1 << 5);
    /// A name or place that is also an everyday word ("May", "Will", "Mobile", "Brown").
    pub const AMBIGUOUS: Flags = Flags(1 << 6);
    /// An everyday English word that is not a name.
    pub const ENGLISH: Flags = Flags(1 << 7);
    /// Never a person's name: nationalities, institutions, months...
    pub const NEVER_NAME: Flags = Flags(1 << 8);
    /// On Philter's allow-list of words that are never PHI (mostly clinical and scientific
    /// vocabulary: "supple", "nontender", "exertional"), and on none of our name or place lists.
    pub const SAFE: Flags = Flags(1 << 9);
    /// Written often, and never as an identifier, by the people behind third-party labelled
    /// clinical text: shorthand ("conts", "sxn'd"), recurring misspellings, other languages'
    /// clinical words (`learned_safe_words.txt`, from `scripts/phi/learn_safe_words.py`).
    /// Such a word is also [`Flags::SAFE`], and unlike the rest of Philter's list, it is no name
    /// candidate even where a name could stand.
    pub const COMMON: Flags = Flags(1 << 10);

    pub fn bits(self) -> u16 {
        self.0
    }

    pub fn has(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

pub struct Lexicon {
    words: FxHashMap<&'static str, Flags>,
    /// Longest city name in words, to bound the look-ahead.
    pub max_city_words: usize,
}

impl Lexicon {
    pub fn flags(&self, lower: &str) -> Flags {
        self.words.get(lower).copied().unwrap_or_default()
    }
}

/// Capitalised words that are never a person's name in clinical and chat text, though some are
/// surnames in the census: nationalities, languages, religions, holidays, institutions.
const NEVER_NAMES: &str = "american english french spanish german italian chinese japanese korean indian african \\
    european asian hispanic latino latina caucasian christian catholic jewish muslim hindu buddhist \\
    christmas easter thanksgiving medicare medicaid tricare covid sars coronavirus hiv aids \\
    god lord jesus hospital university college clinic center centre institute foundation \\
    department street avenue road drive lane court boulevard highway county city state north south \\
    east west united states america monday tuesday wednesday thursday friday saturday sunday \\
    january february march april may june july august september october november december \
    honda toyota hyundai subaru nissan kia tesla mazda volkswagen chevrolet chevy lexus acura porsche jeep \
    walgreens walmart costco medtronic aetna cigna humana kaiser anthem pfizer moderna";

/// Census first names and surnames, commonest first, one a line, lower case.
pub const FIRST_NAMES: &str = include_str!("../../data/phi/first_names.txt");
pub const LAST_NAMES: &str = include_str!("../../data/phi/last_names.txt");

pub fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let lists: [(&'static str, Flags); 10] = [
            (FIRST_NAMES, Flags::FIRST_NAME),
            (LAST_NAMES, Flags::LAST_NAME),
            (include_str!("../../data/phi/cities.txt"), Flags::CITY),
            (include_str!("../../data/phi/drug_names.txt"), Flags::DRUG),
            (include_str!("../../data/phi/eponyms.txt"), Flags::EPONYM),
            (include_str!("../../data/phi/clinical_words.txt"), Flags::CLINICAL),
            (include_str!("../../data/phi/ambiguous_words.txt"), Flags::AMBIGUOUS),
            (include_str!("../../data/phi/english_words.txt"), Flags::ENGLISH),
            (include_str!("../../data/phi/safe_words.txt"), Flags::SAFE),
            (include_str!("../../data/phi/learned_safe_words.txt"), Flags::SAFE | Flags::COMMON),
        ];
        let mut words: FxHashMap<&'static str, Flags> = FxHashMap::default();
        words.reserve(360_000);
        let mut max_city_words = 1;
        for (text, flag) in lists {
            for word in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let entry = words.entry(word).or_default();
                *entry = *entry | flag;
                if flag == Flags::CITY {
                    max_city_words = max_city_words.max(word.split(' ').count());
                }
            }
        }
        for word in NEVER_NAMES.split_whitespace() {
            let entry = words.entry(word).or_default();
            *entry = *entry | Flags::NEVER_NAME | Flags::AMBIGUOUS;
        }
        Lexicon { words, max_city_words }
    })
}
