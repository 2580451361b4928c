//! Consistent pseudonyms: the same value in the same organization always becomes the same
//! token, `[NAME_3f9a1c2b7d4e]` (a keyed HMAC of the type and the normalised value), so that
//! reviewers and analytics can follow "the same patient" without knowing who. With the
//! `surrogates` policy, realistic stand-ins of the same shape instead.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::sync::OnceLock;

use super::dates;
use super::lexicon::{lexicon, Flags, FIRST_NAMES, LAST_NAMES};
use super::types::PhiType;

/// Hex digits of the HMAC in a token: 48 bits, so that an organization with a million
/// distinct names still almost surely has no two sharing a token.
const TOKEN_HEX: usize = 12;

/// Stand-in names: the commonest census first names and surnames that are not also everyday
/// words, drugs, clinical terms or places, so that a stand-in reads as a name ("hiding in plain
/// sight") and two people rarely share one: 1,000 × 5,000 full names, 5,000 lone surnames.
struct StandInNames {
    first: Vec<String>,
    last: Vec<String>,
}

const STAND_IN_FIRST: usize = 1_000;
const STAND_IN_LAST: usize = 5_000;

fn stand_in_names() -> &'static StandInNames {
    static NAMES: OnceLock<StandInNames> = OnceLock::new();
    NAMES.get_or_init(|| {
        let lex = lexicon();
        let plain = Flags::ENGLISH
            | Flags::AMBIGUOUS
            | Flags::DRUG
            | Flags::CLINICAL
            | Flags::SAFE
            | Flags::NEVER_NAME
            | Flags::CITY
            | Flags::EPONYM;
        let pick = |list: &str, n: usize| -> Vec<String> {
            list.lines()
                .map(str::trim)
                .filter(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_lowercase()) && !lex.flags(w).has(plain))
                .take(n)
                .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                .collect()
        };
        StandInNames { first: pick(FIRST_NAMES, STAND_IN_FIRST), last: pick(LAST_NAMES, STAND_IN_LAST) }
    })
}

const SURROGATE_STREETS: &[&str] = &["Alder", "Beacon", "Crescent", "Dover", "Fenwick", "Glenwood", "Harrow", "Linden"];
const SURROGATE_CITIES: &[&str] =
    &["Riverton", "Fairview", "Greenfield", "Oakdale", "Milford", "Ashland", "Clinton", "Salem"];

/// Which part of a full name a lone mention is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    First,
    Last,
}

/// Makes pseudonyms for one organization.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
    surrogates: bool,
    date_shift: bool,
}

impl Pseudonymizer {
    pub fn new(key: [u8; 32], surrogates: bool, date_shift: bool) -> Pseudonymizer {
        Pseudonymizer { key, surrogates, date_shift }
    }

    fn mac(&self, parts: &[&str]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("any key length"));
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0]);
        }
        mac.finalize().into_bytes().into()
    }

    /// `[TYPE_xxxxxxxxxxxx]`: equal for equal values of a type, whatever their spelling.
    pub fn token(&self, t: PhiType, value: &str) -> String {
        let digest = self.mac(&["token", t.as_str(), &normalize(t, value)]);
        format!("[{}_{}]", t.as_str(), &hex::encode(digest)[..TOKEN_HEX])
    }

    /// Days to move one patient's dates by: never zero, within half a year either way.
    pub fn date_offset(&self, patient: &str) -> i64 {
        let d = self.mac(&["date-shift", &normalize(PhiType::Name, patient)]);
        let n = u16::from_le_bytes([d[0], d[1]]) as i64 % 364;
        if n < 182 {
            n - 182
        } else {
            n - 181
        }
    }

    /// What replaces `value`: a shifted date, a surrogate, or a token.
    pub fn replacement(&self, t: PhiType, value: &str, date_offset: Option<i64>) -> String {
        self.replacement_or(t, value, date_offset).unwrap_or_else(|| self.token(t, value))
    }

    /// What replaces `value` and its token, the HMAC computed once: the two are the same
    /// string unless a date is shifted or a stand-in is used.
    pub fn replacement_and_token(&self, t: PhiType, value: &str, date_offset: Option<i64>) -> (String, String) {
        let token = self.token(t, value);
        (self.replacement_or(t, value, date_offset).unwrap_or_else(|| token.clone()), token)
    }

    /// A shifted date or a stand-in, where the policy asks for one.
    fn replacement_or(&self, t: PhiType, value: &str, date_offset: Option<i64>) -> Option<String> {
        if t == PhiType::Date && self.date_shift {
            if let Some(shifted) = date_offset.and_then(|days| dates::parse(value)?.shifted(days)) {
                return Some(shifted);
            }
        }
        self.surrogates.then(|| self.surrogate(t, value)).flatten()
    }

    /// What replaces a lone mention of `part` of the full name `full`, and the full name's token:
    /// with surrogates, that part of the full name's stand-in ("Ellery" for "Ms. Miller" when
    /// "Maria Miller" became "Avery Ellery"); otherwise the token itself.
    pub fn name_part(&self, full: &str, part: NamePart) -> (String, String) {
        let token = self.token(PhiType::Name, full);
        let Some(stand_in) = self.surrogates.then(|| self.surrogate(PhiType::Name, full)).flatten() else {
            return (token.clone(), token);
        };
        // "Ellery, Avery" or "Avery Ellery".
        let (first, last) = match stand_in.split_once(", ") {
            Some((last, first)) => (first, last),
            None => stand_in.split_once(' ').unwrap_or((&stand_in, &stand_in)),
        };
        (if part == NamePart::First { first } else { last }.to_string(), token)
    }

    /// A stand-in that gives nothing of the original away: one that happens to equal it (a
    /// fictional 555-01xx number drawn onto itself, a surname that is also on the stand-in list)
    /// is not used, and the token takes its place.
    fn surrogate(&self, t: PhiType, value: &str) -> Option<String> {
        let stand_in = self.drawn_stand_in(t, value)?;
        let shares_a_word = || {
            let words = |s: &str| {
                s.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() > 1).map(str::to_lowercase).collect::<Vec<_>>()
            };
            let original = words(value);
            words(&stand_in).iter().any(|w| original.contains(w))
        };
        let gives_away = normalize(t, &stand_in) == normalize(t, value) || (t == PhiType::Name && shares_a_word());
        (!gives_away).then_some(stand_in)
    }

    fn drawn_stand_in(&self, t: PhiType, value: &str) -> Option<String> {
        let d = self.mac(&["surrogate", t.as_str(), &normalize(t, value)]);
        let pick = |list: &[&'static str], i: usize| list[d[i] as usize % list.len()];
        let names = stand_in_names();
        let index = |k: usize, n: usize| u32::from_le_bytes([d[k], d[k + 1], d[k + 2], d[k + 3]]) as usize % n.max(1);
        let first = || names.first.get(index(9, names.first.len())).map_or("Avery", String::as_str);
        let last = || names.last.get(index(13, names.last.len())).map_or("Ashford", String::as_str);
        Some(match t {
            PhiType::Name => {
                let words = value.split_whitespace().count();
                if value.contains(',') {
                    format!("{}, {}", last(), first())
                } else if words == 1 {
                    last().to_string()
                } else {
                    format!("{} {}", first(), last())
                }
            }
            // 555-0100 to 555-0199 are reserved for fiction in the North American plan.
            PhiType::Phone | PhiType::Fax => {
                format!("({}) 555-01{:02}", 200 + u16::from_le_bytes([d[2], d[3]]) % 800, d[4] % 100)
            }
            PhiType::Email => format!("{}.{}@example.org", first(), last()).to_lowercase(),
            // Area numbers 900-999 are never issued.
            PhiType::Ssn => {
                format!("9{:02}-{:02}-{:04}", d[5] % 100, 1 + d[6] % 99, 1 + u16::from_le_bytes([d[7], d[8]]) % 9999)
            }
            PhiType::Location if value.starts_with(|c: char| c.is_ascii_digit()) => {
                format!("{} {} Street", 100 + u16::from_le_bytes([d[2], d[3]]) % 9000, pick(SURROGATE_STREETS, 4))
            }
            PhiType::Location => pick(SURROGATE_CITIES, 4).to_string(),
            PhiType::Age => "90+".to_string(),
            PhiType::Zip
            | PhiType::Mrn
            | PhiType::HealthPlan
            | PhiType::Account
            | PhiType::License
            | PhiType::Vehicle
            | PhiType::Device
            | PhiType::Id => same_shape(value, &d),
            _ => return None,
        })
    }
}

/// Letters for letters and digits for digits, keeping the punctuation: "MRN-004821" keeps
/// looking like an MRN.
fn same_shape(value: &str, seed: &[u8; 32]) -> String {
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let r = seed[i % 32].wrapping_add((i / 32) as u8 * 31);
            if c.is_ascii_digit() {
                char::from(b'0' + r % 10)
            } else if c.is_ascii_uppercase() {
                char::from(b'A' + r % 26)
            } else if c.is_ascii_lowercase() {
                char::from(b'a' + r % 26)
            } else {
                c
            }
        })
        .collect()
}

/// The form two spellings of one value share: "Garcia, Maria" and "maria  garcia";
/// "(617) 555-0142" and "617.555.0142"; "03/14/1962" and "March 14, 1962".
pub fn normalize(t: PhiType, value: &str) -> String {
    let alnum_upper = || value.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect::<String>();
    match t {
        PhiType::Name => {
            let cleaned: String =
                value.chars().map(|c| if c.is_alphabetic() || c == '-' || c == ',' { c } else { ' ' }).collect();
            let lower = cleaned.to_lowercase();
            let (first, rest) = match lower.split_once(',') {
                Some((last, first)) => (first.trim().to_string(), last.trim().to_string()),
                None => (String::new(), lower),
            };
            let titles = ["mr", "mrs", "ms", "mx", "dr", "miss", "prof"];
            format!("{first} {rest}").split_whitespace().filter(|w| !titles.contains(w)).collect::<Vec<_>>().join(" ")
        }
        PhiType::Phone | PhiType::Fax => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            match digits.strip_prefix('1') {
                Some(rest) if digits.len() == 11 => rest.to_string(),
                _ => digits,
            }
        }
        PhiType::Date => dates::parse(value).map(|d| d.canonical()).unwrap_or_else(|| value.trim().to_lowercase()),
        PhiType::Email | PhiType::Url | PhiType::Ip | PhiType::Photo => value.trim().to_lowercase(),
        PhiType::Location | PhiType::Biometric => value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
        _ => alnum_upper(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new([7; 32], false, false)
    }

    #[test]
    fn tokens_are_consistent_across_spellings_and_distinct_across_values() {
        let p = p();
        let t = p.token(PhiType::Name, "Maria Garcia");
        assert!(t.starts_with("[NAME_") && t.len() == "[NAME_]".len() + TOKEN_HEX, "{t}");
        assert_eq!(t, p.token(PhiType::Name, "Garcia, Maria"));
        assert_eq!(t, p.token(PhiType::Name, "Mrs. Maria  Garcia"));
        assert_ne!(t, p.token(PhiType::Name, "Mario Garcia"));
        assert_eq!(p.token(PhiType::Phone, "(617) 555-0142"), p.token(PhiType::Phone, "+1 617.555.0142"));
        assert_eq!(p.token(PhiType::Date, "03/14/1962"), p.token(PhiType::Date, "March 14, 1962"));
        assert_ne!(
            p.token(PhiType::Name, "Maria Garcia"),
            Pseudonymizer::new([8; 32], false, false).token(PhiType::Name, "Maria Garcia"),
            "per-organization keys"
        );
    }

    #[test]
    fn surrogates_look_real_and_stay_consistent() {
        let p = Pseudonymizer::new([7; 32], true, false);
        let name = p.replacement(PhiType::Name, "Maria Garcia", None);
        assert_eq!(name.split(' ').count(), 2);
        assert_eq!(name, p.replacement(PhiType::Name, "maria garcia", None));
        assert!(p.replacement(PhiType::Phone, "617-555-0142", None).contains("555-01"));
        assert!(p.replacement(PhiType::Ssn, "123-45-6789", None).starts_with('9'));
        let mrn = p.replacement(PhiType::Mrn, "MRN-004821", None);
        assert_eq!(mrn.len(), 10);
        assert_eq!(&mrn[3..4], "-");
        assert!(p.replacement(PhiType::Url, "https://x.example", None).starts_with("[URL_"));
    }

    #[test]
    fn a_stand_in_never_gives_the_original_away() {
        // Eight stand-in cities: a city on the list is drawn onto itself one time in eight.
        let mut drawn_onto_itself = 0;
        for key in 0..64u8 {
            let p = Pseudonymizer::new([key; 32], true, false);
            for city in SURROGATE_CITIES {
                drawn_onto_itself += usize::from(p.drawn_stand_in(PhiType::Location, city).as_deref() == Some(*city));
                assert!(!p.replacement(PhiType::Location, city, None).contains(city), "{city} stood in for itself");
            }
            for surname in stand_in_names().last.iter().take(40) {
                let full = format!("Maria {surname}");
                assert!(!p.replacement(PhiType::Name, surname, None).contains(surname.as_str()), "{surname}");
                assert!(!p.replacement(PhiType::Name, &full, None).contains(surname.as_str()), "{full}");
            }
        }
        assert!(drawn_onto_itself > 0, "the draw collides now and then, so the guard is exercised");
    }

    #[test]
    fn date_shifting_keeps_intervals_for_one_patient() {
        let p = Pseudonymizer::new([7; 32], false, true);
        let offset = p.date_offset("Maria Garcia");
        assert_ne!(offset, 0);
        assert!(offset.abs() <= 182);
        assert_eq!(offset, p.date_offset("Garcia, Maria"));
        let admit = dates::parse(&p.replacement(PhiType::Date, "03/01/2025", Some(offset))).unwrap();
        let discharge = dates::parse(&p.replacement(PhiType::Date, "03/11/2025", Some(offset))).unwrap();
        let day = |w: dates::Written| chrono::NaiveDate::parse_from_str(&w.canonical(), "%Y-%m-%d").unwrap();
        assert_eq!((day(discharge) - day(admit)).num_days(), 10);
        assert!(p.replacement(PhiType::Date, "last Christmas", Some(offset)).starts_with("[DATE_"));
    }
}
