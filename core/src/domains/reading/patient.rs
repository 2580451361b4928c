//! Who the patient is, as far as a question says: pregnant, and how old.
//!
//! Dosing rules are written for adults; the rules about contraindicated groups need to know
//! when the question is about a pregnancy, a baby or a child.

use std::sync::OnceLock;

use crate::domains::text::pattern;
use regex::Regex;

/// What a question says about the patient.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Patient {
    pub pregnant: bool,
    /// The youngest age the question gives, in years (a 3-month-old is 0.25).
    pub age_years: Option<f64>,
    /// The weight the question gives ("15 kg", "35 lb").
    pub weight_kg: Option<f64>,
}

/// A patient group a contraindication applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Population {
    Pregnancy,
    /// Younger than this many years.
    Under(f64),
}

impl Population {
    /// `pregnancy`, `under_12y` or `under_6m`.
    pub fn parse(s: &str) -> Option<Population> {
        if s == "pregnancy" {
            return Some(Population::Pregnancy);
        }
        let n = s.strip_prefix("under_")?;
        let (number, unit) = n.split_at(n.len().checked_sub(1)?);
        let number: f64 = number.parse().ok().filter(|x: &f64| *x > 0.0)?;
        match unit {
            "y" => Some(Population::Under(number)),
            "m" => Some(Population::Under(number / 12.0)),
            _ => None,
        }
    }

    pub fn includes(self, patient: &Patient) -> bool {
        match self {
            Population::Pregnancy => patient.pregnant,
            Population::Under(years) => patient.age_years.is_some_and(|age| age < years),
        }
    }

    /// How the issue names the group.
    pub fn describe(self) -> String {
        match self {
            Population::Pregnancy => "pregnancy".into(),
            Population::Under(y) if y < 1.0 => format!("babies under {} months", (y * 12.0).round()),
            Population::Under(y) => format!("children under {y}"),
        }
    }
}

impl Patient {
    /// Reads the patient's group from a question.
    pub fn from_question(text: &str) -> Patient {
        static PREGNANT: OnceLock<Regex> = OnceLock::new();
        static AGES: OnceLock<Regex> = OnceLock::new();
        static WORDS: OnceLock<Regex> = OnceLock::new();
        let pregnant = PREGNANT
            .get_or_init(|| {
                pattern(
                    r"(?i)\b(?:(?:i'?m|i\s+am|she'?s|she\s+is|while|currently|being|patient\s+is|who\s+is|now)\s+(?:\d+\s+(?:weeks?|months?)\s+)?pregnant|pregnant\s+(?:patient|woman|women|mother)|(?:weeks?|wks?)\s+pregnant|(?:got|became|just\s+found\s+out\s+(?:i'?m|i\s+am|she'?s|she\s+is))\s+pregnant|pregnancy|expecting\s+(?:a\s+baby|twins)|(?:first|second|third|1st|2nd|3rd)\s+trimester|\d+\s*(?:weeks?|wks?)\s+(?:gestation|along)|G\d+P\d+)",
                )
                .expect("pattern")
            })
            .is_match(text);
        let mut ages: Vec<f64> = AGES
            .get_or_init(|| {
                pattern(
                    r"(?i)\b(?P<n>\d{1,3}(?:\.\d)?)\s*-?\s*(?P<unit>years?|yrs?|months?|mos?|weeks?|wks?|days?)(?:\s*|-)old\b|\b(?P<yo>\d{1,3})\s*(?:yo|y/o|y\.o\.)|\b(?:aged?|age)\s+(?P<aged>\d{1,3})\b|\b(?P<sex_age>\d{1,3})\s?(?-i:[MF])\b|\b(?:is|turned|just|only)\s+(?P<since>\d{1,2})\s+(?P<since_unit>months?|weeks?|days?)\b|\bmy\s+(?P<my>\d{1,2})-(?:year|yr)\b|\b(?:son|daughter|child|kid|boy|girl|toddler|grandson|granddaughter|nephew|niece|brother|sister|he|she)\s+(?:is|'s|turned|just\s+turned)\s+(?P<bare>\d{1,2})(?:\s*(?:years?|yrs?|y)\b)?",
                )
                .expect("pattern")
            })
            .captures_iter(text)
            .filter_map(|c| {
                let whole = c.get(0)?;
                // "8 weeks pregnant" is the pregnancy's age; "2 months ago" is no age at all.
                let rest = text[whole.end()..].trim_start().to_ascii_lowercase();
                if ["pregnant", "along", "gestation", "postpartum", "ago"].iter().any(|w| rest.starts_with(w)) {
                    return None;
                }
                let number = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<f64>().ok());
                if let Some(n) = number("n") {
                    return Some(n * unit_in_years(c.name("unit").map_or("years", |m| m.as_str())));
                }
                if let Some(n) = number("since") {
                    return Some(n * unit_in_years(c.name("since_unit").map_or("months", |m| m.as_str())));
                }
                // "My son is 4, weighs 36 lbs": a bare number, unless a unit follows ("is 4 kg").
                if c.name("bare").is_some() {
                    let units = ["kg", "lb", "pound", "kilo", "mg", "mcg", "ml", "%", "degree", "°", "week", "wk", "month", "day", "hour", "ft", "'", "inch", "cm", "time"];
                    if units.iter().any(|u| rest.starts_with(u)) {
                        return None;
                    }
                }
                number("yo").or(number("aged")).or(number("sex_age")).or(number("my")).or(number("bare"))
            })
            .filter(|age| *age < 120.0)
            .collect();
        // Words for an age, where no number is given; a baby is the pregnancy's, in one.
        if ages.is_empty() {
            let words = WORDS.get_or_init(|| {
                pattern(
                    r"(?i)\b(newborn|neonate|infant|baby|toddler|preschooler|child|kid|teen|teenager|adolescent)s?\b",
                )
                .expect("pattern")
            });
            for m in words.captures_iter(text) {
                let word = m[1].to_ascii_lowercase();
                let after = &text[m.get(0).map_or(0, |g| g.end())..];
                // "baby aspirin" is a dose, not a patient.
                if word == "baby" && (pregnant || after.trim_start().to_ascii_lowercase().starts_with("aspirin")) {
                    continue;
                }
                ages.push(match word.as_str() {
                    "newborn" | "neonate" => 0.05,
                    "infant" | "baby" => 0.5,
                    "toddler" => 2.0,
                    "preschooler" => 4.0,
                    "child" | "kid" => 8.0,
                    _ => 15.0,
                });
            }
        }
        static WEIGHT: OnceLock<Regex> = OnceLock::new();
        let weight_kg = WEIGHT
            .get_or_init(|| {
                pattern(r"(?i)\b(\d{1,3}(?:\.\d+)?)\s*-?\s*(kg|kgs|kilos?|kilograms?|lbs?|pounds?)\b").expect("pattern")
            })
            .captures(text)
            .and_then(|c| {
                let n: f64 = c[1].parse().ok()?;
                let kg = if c[2].to_ascii_lowercase().starts_with('k') { n } else { n * 0.453_592 };
                (kg > 0.0 && kg < 250.0).then_some(kg)
            });
        Patient { pregnant, age_years: ages.into_iter().reduce(f64::min), weight_kg }
    }
}

fn unit_in_years(unit: &str) -> f64 {
    match unit.to_ascii_lowercase().chars().next() {
        Some('m') => 1.0 / 12.0,
        Some('w') => 7.0 / 365.0,
        Some('d') => 1.0 / 365.0,
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(text: &str) -> Option<f64> {
        Patient::from_question(text).age_years
    }

    #[test]
    fn ages_are_read_in_the_ways_people_write_them() {
        assert_eq!(age("My 3-month-old has a cough."), Some(0.25));
        assert_eq!(age("my 6 year old has the flu"), Some(6.0));
        assert_eq!(age("72F on apixaban, can she take naproxen?"), Some(72.0));
        assert_eq!(age("Patient aged 10 with otitis"), Some(10.0));
        assert_eq!(age("I'm 35 and my 4-year-old has a fever"), Some(4.0));
        assert_eq!(age("My baby is 9 months and teething"), Some(0.75));
        assert_eq!(age("My toddler has a runny nose"), Some(2.0));
        assert_eq!(age("Is baby aspirin OK for my heart?"), None);
        assert_eq!(age("I take 40 mg of fluoxetine"), None);
        let child = Patient::from_question("My 3 year old is 15 kg and has a fever.");
        assert_eq!((child.age_years, child.weight_kg), (Some(3.0), Some(15.0)));
        assert_eq!(Patient::from_question("She weighs 44 lbs").weight_kg.map(|w| w.round()), Some(20.0));
        assert_eq!(age("My daughter is 3, about 30 lbs, with an earache"), Some(3.0));
        assert_eq!(age("my son is 7 yrs and coughing"), Some(7.0));
        assert_eq!(age("My son is 20 kg"), None, "a weight, not an age");
    }

    #[test]
    fn pregnancy_is_read_from_the_question() {
        assert!(Patient::from_question("I'm 8 weeks pregnant. Can I keep taking isotretinoin?").pregnant);
        assert!(Patient::from_question("Third trimester, bad back pain").pregnant);
        assert!(Patient::from_question("Is it safe for the baby? I'm pregnant").pregnant);
        assert_eq!(Patient::from_question("I'm pregnant, is it safe for the baby?").age_years, None);
        assert!(!Patient::from_question("I take lisinopril").pregnant);
        assert!(Patient::from_question("31 wks pregnant with a migraine").pregnant);
        assert!(Patient::from_question("I stopped my acne pills when I got pregnant").pregnant);
    }

    #[test]
    fn populations_parse_and_match() {
        let baby = Patient { pregnant: false, age_years: Some(0.25), weight_kg: None };
        assert!(Population::parse("under_1y").unwrap().includes(&baby));
        assert!(Population::parse("under_6m").unwrap().includes(&baby));
        assert!(!Population::parse("pregnancy").unwrap().includes(&baby));
        assert_eq!(Population::parse("under_x"), None);
        assert_eq!(Population::parse("adults"), None);
    }
}
