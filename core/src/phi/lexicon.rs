//! The word lists behind the name and place recognizers, built once from the files in
//! `core/data/phi/` (see `scripts/phi/build_lexicons.py` for their sources and licences), and
//! merged into one map so that each word costs one lookup.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};

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
    /// A name or place that is also an everyday word ("May", "Will", "Mobile", "Brown"), or a
    /// clinical one ([`Flags::HOMOGRAPH`]).
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
    /// A name or place on our lists that clinicians write as a word (`learned_homographs.txt`:
    /// "Foley", "OSH"); also [`Flags::AMBIGUOUS`]. A place only with a state after it.
    pub const HOMOGRAPH: Flags = Flags(1 << 11);

    pub fn bits(self) -> u16 {
        self.0
    }

    pub fn has(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::Sub for Flags {
    type Output = Flags;
    /// `self` without `other`'s flags.
    fn sub(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

pub struct Lexicon {
    /// Words of up to [`PACKED_BYTES`] bytes, nearly all of them, by [`packed`] key: the table
    /// holds the key inline, so a look-up follows no pointer and compares no bytes.
    short: FxHashMap<u128, Flags>,
    /// The few longer words and phrases.
    long: FxHashMap<&'static str, Flags>,
    /// Longest city name in words, to bound the look-ahead.
    pub max_city_words: usize,
}

impl Lexicon {
    pub fn flags(&self, lower: &str) -> Flags {
        let found = match packed(lower.as_bytes()) {
            Some(key) => self.short.get(&key),
            None => self.long.get(lower),
        };
        found.copied().unwrap_or_default()
    }

    /// Whether `lower`, a word no list holds, reads as a misspelling: six letters or more, one
    /// edit from an everyday, clinical or drug word ("tolerting", "ventelated"), or two such
    /// words run together ("patientintubated", "startedweaning"). Shorter words have too many
    /// neighbours: "risma" is a name, not "prisma".
    pub fn misspelling(&self, lower: &str) -> bool {
        let known = Flags::ENGLISH | Flags::SAFE | Flags::CLINICAL | Flags::DRUG;
        let n = lower.len();
        if n < 6 || !lower.bytes().all(|b| b.is_ascii_lowercase()) {
            return false;
        }
        let run_together =
            n >= 8 && (3..=n - 3).any(|k| self.flags(&lower[..k]).has(known) && self.flags(&lower[k..]).has(known));
        run_together || self.one_edit_from(lower, known)
    }

    /// Whether a word one edit from `lower` (a letter left out, added, changed, or two swapped)
    /// has one of `wanted`: "tolerting", "fetanyl" are misspellings, not names. For ASCII words
    /// in lower case, and a few hundred look-ups a word: only for words already suspected.
    fn one_edit_from(&self, lower: &str, wanted: Flags) -> bool {
        let word = lower.as_bytes();
        if word.len() >= PACKED_BYTES || !word.iter().all(u8::is_ascii_lowercase) {
            return false;
        }
        let hit = |candidate: &[u8]| packed(candidate).and_then(|k| self.short.get(&k)).is_some_and(|f| f.has(wanted));
        let mut buf = [0u8; PACKED_BYTES];
        let n = word.len();
        for i in 0..n {
            // Left out.
            buf[..i].copy_from_slice(&word[..i]);
            buf[i..n - 1].copy_from_slice(&word[i + 1..]);
            if hit(&buf[..n - 1]) {
                return true;
            }
            // Swapped with the next.
            if i + 1 < n && word[i] != word[i + 1] {
                buf[..n].copy_from_slice(word);
                buf.swap(i, i + 1);
                if hit(&buf[..n]) {
                    return true;
                }
            }
            // Changed.
            buf[..n].copy_from_slice(word);
            for c in b'a'..=b'z' {
                if c != word[i] {
                    buf[i] = c;
                    if hit(&buf[..n]) {
                        return true;
                    }
                }
            }
        }
        // Added.
        for i in 0..=n {
            buf[..i].copy_from_slice(&word[..i]);
            buf[i + 1..=n].copy_from_slice(&word[i..]);
            for c in b'a'..=b'z' {
                buf[i] = c;
                if hit(&buf[..=n]) {
                    return true;
                }
            }
        }
        false
    }

    fn add(&mut self, word: &'static str, flag: Flags) {
        let entry = match packed(word.as_bytes()) {
            Some(key) => self.short.entry(key).or_default(),
            None => self.long.entry(word).or_default(),
        };
        *entry = *entry | flag;
    }
}

/// The longest word [`packed`] takes: the sixteenth byte holds the length.
pub const PACKED_BYTES: usize = 15;

/// `word` and its length as one integer, for words of up to [`PACKED_BYTES`] bytes: the key of
/// the look-ups made for every word of a text (see [`WordSet`]).
pub fn packed(word: &[u8]) -> Option<u128> {
    if word.len() > PACKED_BYTES {
        return None;
    }
    let mut key = [0u8; 16];
    key[..word.len()].copy_from_slice(word);
    key[15] = word.len() as u8;
    Some(u128::from_le_bytes(key))
}

/// [`packed`] of an ASCII `word` in lower case, `None` if it is longer or not ASCII. The
/// capitals are lowered eight at a time (SWAR): this runs for every word of a text.
fn packed_ascii_lower(word: &[u8]) -> Option<u128> {
    const ONES: u128 = u128::from_le_bytes([1; 16]);
    // The length byte is at most 15: below 'A', so never taken for a capital.
    let x = packed(word)?;
    if x & (ONES * 0x80) != 0 {
        return None;
    }
    // A byte's top bit after adding is set where it is at least 'A', and where it is above
    // 'Z'; no byte carries into the next, as every byte is below 0x80.
    let from_a = x + ONES * (0x80 - b'A' as u128);
    let above_z = x + ONES * (0x80 - b'Z' as u128 - 1);
    let capitals = from_a & !above_z & (ONES * 0x80);
    Some(x | capitals >> 2)
}

/// A set of words looked up ignoring ASCII case without allocating: for cue lists checked
/// against every word of a text.
pub struct WordSet {
    /// By a word's first letter (its low five bits, either case), the lengths of the short
    /// words that start with it, as bits: most words of a text are turned away by this alone.
    lengths: [u16; 32],
    short: FxHashSet<u128>,
    /// Words longer than [`PACKED_BYTES`], lower case: rare in cue lists.
    long: Vec<String>,
}

impl WordSet {
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> WordSet {
        let mut set = WordSet { lengths: [0; 32], short: FxHashSet::default(), long: Vec::new() };
        for word in words {
            let lower = word.to_ascii_lowercase();
            let Some(key) = packed(lower.as_bytes()) else {
                set.long.push(lower);
                continue;
            };
            if let Some(&first) = lower.as_bytes().first() {
                set.lengths[usize::from(first & 31)] |= 1 << lower.len();
            }
            set.short.insert(key);
        }
        set
    }

    pub fn contains_ignoring_case(&self, word: &str) -> bool {
        let bytes = word.as_bytes();
        if let Some(&first) = bytes.first() {
            if bytes.len() <= PACKED_BYTES && self.lengths[usize::from(first & 31)] & (1 << bytes.len()) == 0 {
                return false;
            }
        }
        if let Some(key) = packed_ascii_lower(bytes) {
            return self.short.contains(&key);
        }
        // Longer, or not ASCII: rare, the slow way.
        let lower = word.to_ascii_lowercase();
        match packed(lower.as_bytes()) {
            Some(key) => self.short.contains(&key),
            None => self.long.contains(&lower),
        }
    }
}

/// Capitalised words that are never a person's name in clinical and chat text, though some are
/// surnames in the census: nationalities, languages, religions, holidays, institutions.
const NEVER_NAMES: &str = "american english french spanish german italian chinese japanese korean indian african \\
    european asian hispanic latino latina caucasian christian catholic jewish muslim hindu buddhist \\
    cantonese mandarin portuguese russian vietnamese haitian creole arabic tagalog polish greek \\
    hebrew farsi persian somali amharic hindi urdu bengali punjabi \\
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
        let lists: [(&'static str, Flags); 11] = [
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
            // Names that clinicians write as words ("Foley", "Levo"): names only in context.
            (include_str!("../../data/phi/learned_homographs.txt"), Flags::AMBIGUOUS | Flags::HOMOGRAPH),
        ];
        let mut lexicon = Lexicon { short: FxHashMap::default(), long: FxHashMap::default(), max_city_words: 1 };
        lexicon.short.reserve(360_000);
        for (text, flag) in lists {
            for word in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                lexicon.add(word, flag);
                if flag == Flags::CITY {
                    lexicon.max_city_words = lexicon.max_city_words.max(word.split(' ').count());
                }
            }
        }
        for word in NEVER_NAMES.split_whitespace() {
            lexicon.add(word, Flags::NEVER_NAME | Flags::AMBIGUOUS);
        }
        lexicon
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_are_one_edit_from_a_known_word() {
        let lex = lexicon();
        let everyday = Flags::ENGLISH | Flags::SAFE | Flags::CLINICAL | Flags::DRUG;
        // Left out, swapped, changed, added.
        for word in ["tolerting", "recieved", "abdomin", "breathinng", "seadation"] {
            assert!(lex.one_edit_from(word, everyday), "{word}");
        }
        for word in ["oluwaseun", "xqzvprt", "Tolerting", "tolérting"] {
            assert!(!lex.one_edit_from(word, everyday), "{word}");
        }
        for word in ["tolerting", "patientintubated", "startedweaning"] {
            assert!(lex.misspelling(word), "{word}");
        }
        // Too short to tell, or no known word near.
        for word in ["risma", "oluwaseun", "oyelaran"] {
            assert!(!lex.misspelling(word), "{word}");
        }
    }

    #[test]
    fn capitals_are_lowered_eight_at_a_time_exactly_as_one_by_one() {
        let every_ascii: Vec<u8> = (0u8..0x80).collect();
        for word in
            every_ascii.chunks(PACKED_BYTES).chain(every_ascii.chunks(7)).chain([b"".as_slice(), b"O'Brien-SMITH"])
        {
            assert_eq!(packed_ascii_lower(word), packed(&word.to_ascii_lowercase()), "{word:?}");
        }
        assert_eq!(packed_ascii_lower("Zoë".as_bytes()), None, "not ASCII");
        assert_eq!(packed_ascii_lower(b"abcdefghijklmnop"), None, "too long");
    }

    #[test]
    fn a_word_set_ignores_case_at_any_length() {
        let set = WordSet::new(["dr", "i'm", "granddaughters-in-law"]);
        for found in ["DR", "Dr", "I'M", "Granddaughters-In-Law"] {
            assert!(set.contains_ignoring_case(found), "{found}");
        }
        for missing in ["d", "drs", "I’m", "granddaughter", "Dr."] {
            assert!(!set.contains_ignoring_case(missing), "{missing}");
        }
    }

    #[test]
    fn long_words_and_phrases_are_found_like_short_ones() {
        let lex = lexicon();
        assert!(lex.flags("maria").has(Flags::FIRST_NAME));
        assert!(lex.flags("nontender").has(Flags::SAFE));
        let long_city =
            include_str!("../../data/phi/cities.txt").lines().map(str::trim).find(|c| c.len() > PACKED_BYTES);
        let long_city = long_city.expect("some city name is longer than a packed key");
        assert!(lex.flags(long_city).has(Flags::CITY), "{long_city}");
        assert_eq!(lex.flags("qqqqqqqqqqqqqqqqqqqq"), Flags::NONE);
    }
}
