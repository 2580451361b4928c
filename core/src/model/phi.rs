//! The vocabulary of de-identification the store and the dashboard share.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The identifier categories of the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)),
/// with a few split where telling them apart helps a reviewer (ZIP from street, fax from phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhiType {
    /// (A) Names.
    Name,
    /// (B) Street addresses, cities, counties and other subdivisions smaller than a state.
    Location,
    /// (B) ZIP codes.
    Zip,
    /// (C) All elements of dates except the year.
    Date,
    /// (C) Ages over 89.
    Age,
    /// (D) Telephone numbers.
    Phone,
    /// (E) Fax numbers.
    Fax,
    /// (F) Email addresses.
    Email,
    /// (G) Social Security numbers.
    Ssn,
    /// (H) Medical record numbers.
    Mrn,
    /// (I) Health plan beneficiary numbers.
    HealthPlan,
    /// (J) Account numbers, card numbers, IBANs.
    Account,
    /// (K) Certificate and license numbers (NPI, DEA, driver's licenses).
    License,
    /// (L) Vehicle identifiers: VINs and plates.
    Vehicle,
    /// (M) Device identifiers and serial numbers.
    Device,
    /// (N) URLs.
    Url,
    /// (O) IP addresses.
    Ip,
    /// (P) Biometric identifiers.
    Biometric,
    /// (Q) Full-face photographs: embedded images and image links.
    Photo,
    /// (R) Any other unique identifying code: the organization's own patterns and deny-list.
    Id,
}

impl PhiType {
    pub const ALL: [PhiType; 20] = [
        PhiType::Name,
        PhiType::Location,
        PhiType::Zip,
        PhiType::Date,
        PhiType::Age,
        PhiType::Phone,
        PhiType::Fax,
        PhiType::Email,
        PhiType::Ssn,
        PhiType::Mrn,
        PhiType::HealthPlan,
        PhiType::Account,
        PhiType::License,
        PhiType::Vehicle,
        PhiType::Device,
        PhiType::Url,
        PhiType::Ip,
        PhiType::Biometric,
        PhiType::Photo,
        PhiType::Id,
    ];

    /// The name used in tokens and JSON: `NAME`, `HEALTH_PLAN`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhiType::Name => "NAME",
            PhiType::Location => "LOCATION",
            PhiType::Zip => "ZIP",
            PhiType::Date => "DATE",
            PhiType::Age => "AGE",
            PhiType::Phone => "PHONE",
            PhiType::Fax => "FAX",
            PhiType::Email => "EMAIL",
            PhiType::Ssn => "SSN",
            PhiType::Mrn => "MRN",
            PhiType::HealthPlan => "HEALTH_PLAN",
            PhiType::Account => "ACCOUNT",
            PhiType::License => "LICENSE",
            PhiType::Vehicle => "VEHICLE",
            PhiType::Device => "DEVICE",
            PhiType::Url => "URL",
            PhiType::Ip => "IP",
            PhiType::Biometric => "BIOMETRIC",
            PhiType::Photo => "PHOTO",
            PhiType::Id => "ID",
        }
    }

    pub fn parse(s: &str) -> Option<PhiType> {
        PhiType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for PhiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sealed original: nonce and ciphertext (with its tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}
