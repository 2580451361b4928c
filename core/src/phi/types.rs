//! What the recognizers find.

use serde::{Deserialize, Serialize};

pub use crate::model::PhiType;

/// Which recognizer found an identifier: what `aegis phi eval --by-detector` measures, and what
/// the scan endpoint reports so a user can see why something was replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// The organization's own deny-list and patterns.
    Organization,
    /// Shape rules for structured identifiers: dates, phones, addresses, record numbers, cards.
    #[default]
    Pattern,
    /// Any other long number that is not a measured quantity.
    NumberShape,
    /// Names from the census and name lists, with their cue words.
    NameList,
    /// Capitalised words on no list of safe words (English, drugs, clinical terms).
    SafeWords,
    /// A first name and a surname written in lower case.
    LowerCaseName,
    /// Places from GeoNames.
    Place,
    /// An age over 89 set off beside a name.
    Age,
    /// The statistical token tagger: names and places by their context (`phi/tagger.rs`).
    Tagger,
    /// The independent second pass over de-identified text, just before it is stored.
    SecondPass,
}

impl Detector {
    pub const ALL: [Detector; 10] = [
        Detector::Organization,
        Detector::Pattern,
        Detector::NumberShape,
        Detector::NameList,
        Detector::SafeWords,
        Detector::LowerCaseName,
        Detector::Place,
        Detector::Age,
        Detector::Tagger,
        Detector::SecondPass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Organization => "organization",
            Detector::Pattern => "pattern",
            Detector::NumberShape => "number_shape",
            Detector::NameList => "name_list",
            Detector::SafeWords => "safe_words",
            Detector::LowerCaseName => "lower_case_name",
            Detector::Place => "place",
            Detector::Age => "age",
            Detector::Tagger => "tagger",
            Detector::SecondPass => "second_pass",
        }
    }
}

/// One identifier found in a text. `start` and `end` count Unicode code points, as the API
/// reports them; [`Span`] is the byte-offset form used inside the scanner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    #[serde(rename = "type")]
    pub phi_type: PhiType,
    pub score: f32,
    #[serde(default)]
    pub detector: Detector,
}

/// A found identifier in byte offsets of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub phi_type: PhiType,
    pub score: f32,
    pub detector: Detector,
}

impl Span {
    pub fn new(start: usize, end: usize, phi_type: PhiType, score: f32, detector: Detector) -> Span {
        Span { start, end, phi_type, score, detector }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in PhiType::ALL {
            assert_eq!(PhiType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(PhiType::parse("health_plan"), Some(PhiType::HealthPlan));
    }
}
