//! Each organization's de-identification policy: which identifier types to scrub, its own
//! recognizers, allow- and deny-lists, and whether to use realistic surrogates.

use serde::{Deserialize, Serialize};

use super::types::PhiType;
use crate::FieldError;

const MAX_CUSTOM: usize = 50;
const MAX_LIST: usize = 10_000;
const MAX_TERM_CHARS: usize = 200;
/// Bound on a compiled custom pattern, so one policy cannot exhaust memory.
pub const CUSTOM_PATTERN_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhiPolicy {
    /// Identifier types to scrub. All of them unless narrowed.
    pub types: Vec<PhiType>,
    /// The organization's own formats (its MRNs, employee ids...).
    pub custom: Vec<CustomRecognizer>,
    /// Terms never scrubbed, matched whole and case-insensitively ("Mass General").
    pub allow: Vec<String>,
    /// Terms always scrubbed, wherever they appear (type `ID`).
    pub deny: Vec<String>,
    /// Replace identifiers with realistic stand-ins (names, phone numbers) instead of tokens, so
    /// that one that slips through hides among fakes. The default; organizations created before
    /// it was were pinned to tokens (migration 0015).
    pub surrogates: bool,
    /// Shift each patient's dates by a per-patient offset that keeps intervals, instead of
    /// tokenizing them. Not Safe Harbor: for expert-determination set-ups only.
    pub date_shift: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRecognizer {
    pub name: String,
    /// A regular expression (Rust syntax, linear time: no look-around or back-references).
    pub pattern: String,
    #[serde(rename = "type", default = "default_custom_type")]
    pub phi_type: PhiType,
}

fn default_custom_type() -> PhiType {
    PhiType::Id
}

impl Default for PhiPolicy {
    fn default() -> Self {
        PhiPolicy {
            types: PhiType::ALL.to_vec(),
            custom: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            surrogates: true,
            date_shift: false,
        }
    }
}

impl PhiPolicy {
    pub fn scrubs(&self, t: PhiType) -> bool {
        self.types.contains(&t)
    }

    /// Checks what serde cannot: sizes, and that every custom pattern compiles.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.custom.len() > MAX_CUSTOM {
            return Err(FieldError::new("custom", format!("at most {MAX_CUSTOM} custom recognizers")));
        }
        for (i, c) in self.custom.iter().enumerate() {
            if c.name.trim().is_empty() || c.name.chars().count() > 100 {
                return Err(FieldError::new(format!("custom[{i}].name"), "must be 1 to 100 characters"));
            }
            if c.pattern.is_empty() {
                return Err(FieldError::new(format!("custom[{i}].pattern"), "must not be empty"));
            }
            regex::RegexBuilder::new(&c.pattern)
                .size_limit(CUSTOM_PATTERN_SIZE_LIMIT)
                .build()
                .map_err(|e| FieldError::new(format!("custom[{i}].pattern"), format!("is not a valid pattern: {e}")))?;
            if regex::Regex::new(&c.pattern).is_ok_and(|r| r.is_match("")) {
                return Err(FieldError::new(format!("custom[{i}].pattern"), "must not match empty text"));
            }
        }
        for (field, list) in [("allow", &self.allow), ("deny", &self.deny)] {
            if list.len() > MAX_LIST {
                return Err(FieldError::new(field, format!("at most {MAX_LIST} terms")));
            }
            for (i, term) in list.iter().enumerate() {
                if term.trim().is_empty() || term.chars().count() > MAX_TERM_CHARS {
                    return Err(FieldError::new(format!("{field}[{i}]"), "terms must be 1 to 200 characters"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scrubs_everything() {
        let p = PhiPolicy::default();
        assert!(PhiType::ALL.iter().all(|t| p.scrubs(*t)));
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn bad_custom_patterns_are_named() {
        let mut p = PhiPolicy::default();
        p.custom.push(CustomRecognizer { name: "mrn".into(), pattern: "MRN-(\\d{6}".into(), phi_type: PhiType::Mrn });
        assert_eq!(p.validate().unwrap_err().field, "custom[0].pattern");
        p.custom[0].pattern = "x*".into();
        assert_eq!(p.validate().unwrap_err().field, "custom[0].pattern");
        p.custom[0].pattern = "RCH-\\d{6}".into();
        assert_eq!(p.validate(), Ok(()));
        p.deny.push(" ".into());
        assert_eq!(p.validate().unwrap_err().field, "deny[0]");
    }
}
