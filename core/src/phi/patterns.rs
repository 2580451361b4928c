//! The pattern recognizers: one multi-pattern regex (a single lazy DFA over every rule) finds
//! candidates in one pass; a rule's checker then validates the candidate (check digits,
//! calendar ranges, number plans) before it counts.
//!
//! A rule's identifier is its `v` group when the pattern has one (the cue before it, like
//! "MRN:", stays in the text), else the whole match.

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;

use super::lexicon::{lexicon, Flags};
use super::tokens::{one_of, without_possessive};
use super::types::{Detector, PhiType, Span};

/// Checks a candidate: `text` is the whole input, `value` the identifier's byte range.
type Check = fn(text: &str, value: (usize, usize)) -> bool;

struct Rule {
    phi_type: PhiType,
    score: f32,
    pattern: String,
    check: Check,
}

const MONTHS: &str = "(?:[Jj]an(?:uary|\\.)?|JAN|[Ff]eb(?:ruary|\\.)?|FEB|[Mm]ar(?:ch|\\.)?|MAR|[Aa]pr(?:il|\\.)?|APR|May|MAY|[Jj]une?|JUNE?|[Jj]uly?|JULY?|[Aa]ug(?:ust|\\.)?|AUG|[Ss]ep(?:t(?:ember)?|\\.)?|SEPT?|[Oo]ct(?:ober|\\.)?|OCT|[Nn]ov(?:ember|\\.)?|NOV|[Dd]ec(?:ember|\\.)?|DEC)";
/// The characters of a URL (RFC 3986), less the brackets and quotes that usually end one in prose.
const URL_CHARS: &str = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]";
const STATE_NAMES: &str = "(?:Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming)";
/// The certainty of the catch-all for long numbers: the least of any rule.
const NUMBER_SCORE: f32 = 0.5;

/// Ordinal day numbers in words.
const ORDINALS: &str = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|thirtieth|thirty[- ]first";
/// A capitalised word of a street name, accented letters included.
const CAPWORD: &str = "[A-ZÀ-Ý][A-Za-zÀ-ÿ'.-]+";
/// Street suffixes (USPS Publication 28, the common ones) and their abbreviations, sorted.
const STREET_SUFFIXES: &[&str] = &[
    "Alley",
    "Annex",
    "Arcade",
    "Ave",
    "Avenue",
    "Bayou",
    "Beach",
    "Bend",
    "Bluff",
    "Bluffs",
    "Blvd",
    "Bottom",
    "Boulevard",
    "Branch",
    "Bridge",
    "Brook",
    "Brooks",
    "Burg",
    "Burgs",
    "Bypass",
    "Camp",
    "Canyon",
    "Cape",
    "Causeway",
    "Center",
    "Centers",
    "Cir",
    "Circle",
    "Circles",
    "Cliff",
    "Cliffs",
    "Close",
    "Club",
    "Common",
    "Commons",
    "Corner",
    "Corners",
    "Course",
    "Court",
    "Courts",
    "Cove",
    "Coves",
    "Creek",
    "Crescent",
    "Crest",
    "Crossing",
    "Crossroad",
    "Ct",
    "Curve",
    "Dale",
    "Dam",
    "Divide",
    "Dr",
    "Drive",
    "Drives",
    "Estate",
    "Estates",
    "Expressway",
    "Extension",
    "Extensions",
    "Fall",
    "Falls",
    "Ferry",
    "Field",
    "Fields",
    "Flat",
    "Flats",
    "Ford",
    "Fords",
    "Forest",
    "Forge",
    "Forges",
    "Fork",
    "Forks",
    "Fort",
    "Freeway",
    "Garden",
    "Gardens",
    "Gateway",
    "Glen",
    "Glens",
    "Green",
    "Greens",
    "Grove",
    "Groves",
    "Harbor",
    "Harbors",
    "Haven",
    "Heights",
    "Highway",
    "Hill",
    "Hills",
    "Hollow",
    "Hwy",
    "Inlet",
    "Island",
    "Islands",
    "Isle",
    "Junction",
    "Junctions",
    "Key",
    "Keys",
    "Knoll",
    "Knolls",
    "Lake",
    "Lakes",
    "Landing",
    "Lane",
    "Light",
    "Lights",
    "Ln",
    "Lock",
    "Locks",
    "Lodge",
    "Loop",
    "Mall",
    "Manor",
    "Manors",
    "Meadow",
    "Meadows",
    "Mews",
    "Mill",
    "Mills",
    "Mission",
    "Motorway",
    "Mount",
    "Mountain",
    "Mountains",
    "Neck",
    "Orchard",
    "Oval",
    "Overpass",
    "Park",
    "Parks",
    "Parkway",
    "Parkways",
    "Pass",
    "Passage",
    "Path",
    "Pike",
    "Pine",
    "Pines",
    "Pkwy",
    "Pl",
    "Place",
    "Plain",
    "Plains",
    "Plaza",
    "Point",
    "Points",
    "Port",
    "Ports",
    "Prairie",
    "Radial",
    "Ramp",
    "Ranch",
    "Rapid",
    "Rapids",
    "Rd",
    "Rest",
    "Ridge",
    "Ridges",
    "River",
    "Road",
    "Roads",
    "Route",
    "Row",
    "Run",
    "Shoal",
    "Shoals",
    "Shore",
    "Shores",
    "Skyway",
    "Spring",
    "Springs",
    "Spur",
    "Spurs",
    "Sq",
    "Square",
    "Squares",
    "St",
    "Station",
    "Stravenue",
    "Stream",
    "Street",
    "Streets",
    "Summit",
    "Ter",
    "Terrace",
    "Throughway",
    "Trace",
    "Track",
    "Trafficway",
    "Trail",
    "Trl",
    "Tunnel",
    "Turnpike",
    "Underpass",
    "Union",
    "Unions",
    "Valley",
    "Valleys",
    "Via",
    "Viaduct",
    "View",
    "Views",
    "Village",
    "Villages",
    "Ville",
    "Vista",
    "Walk",
    "Walks",
    "Wall",
    "Way",
    "Ways",
    "Well",
    "Wells",
];
const STATES: &str = "(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming)";

fn rules() -> Vec<Rule> {
    use PhiType::*;
    let phone = r"(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}";
    let num_sep = r"\s*(?i-u:number|num|no\.?|#|id)?\s*[:#.]?\s*#?(?:(?i-u:is|was)\s+)?";
    vec![
        // Images first: an image link is a photograph, not just a URL.
        Rule { phi_type: Photo, score: 0.99, pattern: r"data:image/[A-Za-z+.-]+;base64,[A-Za-z0-9+/=]+".into(), check: any },
        Rule {
            phi_type: Photo,
            score: 0.9,
            pattern: format!(r"(?:https?://|www\.){URL_CHARS}+?\.(?i-u:jpe?g|png|gif|webp|heic|bmp|tiff?)(?:\?{URL_CHARS}*)?(?-u:\b)"),
            check: any,
        },
        Rule { phi_type: Email, score: 0.99, pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)".into(), check: any },
        Rule { phi_type: Url, score: 0.95, pattern: format!(r"(?:(?i-u:https?|ftp)://|www\.){URL_CHARS}+"), check: any },
        Rule { phi_type: Ip, score: 0.95, pattern: r"(?-u:\b)(?:\d{1,3}\.){3}\d{1,3}(?-u:\b)".into(), check: ipv4 },
        Rule {
            phi_type: Ip,
            score: 0.95,
            pattern: r"(?-u:\b)(?:[0-9A-Fa-f]{1,4}:){1,7}:?(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?(?-u:\b)".into(),
            check: ipv6,
        },
        Rule {
            phi_type: Ssn,
            score: 0.99,
            pattern: r"(?i-u:\b(?:ssn|social security(?: number| no\.?| #)?|ss#))\s*[:#]?\s*(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?-u:\b)".into(),
            check: any,
        },
        Rule { phi_type: Ssn, score: 0.95, pattern: r"(?-u:\b)\d{3}-\d{2}-\d{4}(?-u:\b)".into(), check: ssn },
        Rule { phi_type: Ssn, score: 0.85, pattern: r"(?-u:\b)\d{3} \d{2} \d{4}(?-u:\b)".into(), check: ssn },
        Rule {
            phi_type: Fax,
            score: 0.97,
            pattern: format!(r"(?:(?i-u:\b(?:fax|facsimile)){num_sep}|(?-u:\b)F:\s*)(?P<v>{phone})(?-u:\b)"),
            check: nanp,
        },
        Rule {
            phi_type: Phone,
            score: 0.9,
            pattern: format!(r"(?P<v>{phone})(?-u:\b)"),
            check: nanp,
        },
        Rule {
            phi_type: Phone,
            score: 0.9,
            pattern: r"(?i-u:\b(?:phone|tel|telephone|cell|mobile|call|contact|ph|pager|beeper)\b)\.?\s*[:#]?\s*(?P<v>\d{10}|\+\d{1,3}(?:[ .-]\d{1,4}){2,5})(?-u:\b)".into(),
            check: digits_8_plus,
        },
        Rule { phi_type: Phone, score: 0.85, pattern: r"\+(?:[2-9]\d{0,2})(?:[ .-]\d{1,4}){2,5}(?-u:\b)".into(), check: digits_8_plus },
        // Pagers and extensions are short: "pager 4-1234", "pgr #52231", "x4417".
        Rule {
            phi_type: Phone,
            score: 0.9,
            pattern: r"(?i-u:\b(?:pager|pgr|beeper|bleep|ext|extension|x))\.?\s*(?:#|no\.?|number)?\s*[:#]?\s*(?P<v>\d(?:[ -]?\d){2,11})(?-u:\b)".into(),
            check: any,
        },
        // "MR: 4417202" (the label alone means mitral regurgitation: a value with digits is a record).
        Rule {
            phi_type: Mrn,
            score: 0.9,
            pattern: r"(?-u:\b)(?:MR|Mr|mr)\s*[:#]\s*(?P<v>\d[A-Za-z0-9-]{3,16})(?-u:\b)".into(),
            check: has_digit,
        },
        // Medicare Beneficiary Identifier: distinctive enough without a cue.
        Rule {
            phi_type: HealthPlan,
            score: 0.97,
            pattern: r"(?-u:\b)[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}(?-u:\b)".into(),
            check: any,
        },
        Rule {
            phi_type: HealthPlan,
            score: 0.93,
            pattern: format!(r"(?i-u:\b(?:member|subscriber|beneficiary|policy|insurance|insurance plan|health plan|plan|group|medicaid|medicare|hicn|mbi|payer)){num_sep}(?P<v>[A-Za-z0-9][A-Za-z0-9-]{{4,24}})(?-u:\b)"),
            // Member numbers carry several digits; "policy: sac-portfolio-v2" is a trading
            // agent's policy, not a health plan.
            check: three_digits,
        },
        Rule {
            phi_type: Mrn,
            score: 0.97,
            pattern: format!(r"(?i-u:\b(?:mrn|mr#|mr no\.?|medical record(?: number| no\.?| #)?|med rec|chart|patient id|pt id|patient no\.?|hospital number|hospital no\.?|record number|record no\.?|encounter))(?:{num_sep}|-)(?P<v>(?:[A-Za-z]{{1,4}}-?)?\d[A-Za-z0-9-]{{3,16}})(?-u:\b)"),
            check: has_digit,
        },
        Rule {
            phi_type: Account,
            score: 0.93,
            pattern: format!(r"(?i-u:\b(?:account|acct|bank account|routing|billing account|invoice|claim)){num_sep}(?P<v>[A-Za-z0-9][A-Za-z0-9-]{{3,24}})(?-u:\b)"),
            check: has_digit,
        },
        // "a/c 00123456" is an account; "A/C 600x12" is a ventilator on assist-control.
        Rule {
            phi_type: Account,
            score: 0.9,
            pattern: format!(r"(?i-u:\ba/c){num_sep}(?P<v>\d[\d-]{{4,24}})(?-u:\b)"),
            check: any,
        },
        Rule { phi_type: Account, score: 0.95, pattern: r"(?-u:\b)(?:\d[ -]?){12,18}\d(?-u:\b)".into(), check: card },
        Rule {
            phi_type: Account,
            score: 0.95,
            pattern: r"(?-u:\b)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?-u:\b)".into(),
            check: iban,
        },
        Rule { phi_type: License, score: 0.95, pattern: r"(?-u:\b)[A-Za-z][A-Za-z9]\d{7}(?-u:\b)".into(), check: dea },
        Rule {
            phi_type: License,
            score: 0.97,
            pattern: format!(r"(?i-u:\bnpi){num_sep}(?P<v>\d{{10}})(?-u:\b)"),
            check: npi,
        },
        Rule {
            phi_type: Vehicle,
            score: 0.95,
            pattern: format!(r"(?i-u:\b(?:license plate|licence plate|plate|tag)){num_sep}(?P<v>[A-Z0-9][A-Z0-9 -]{{1,9}}[A-Z0-9])(?-u:\b)"),
            check: has_digit,
        },
        Rule {
            phi_type: License,
            score: 0.93,
            pattern: format!(r"(?i-u:\b(?:driver'?s license|drivers license|driver license|license|licence|lic\.?|dl|certificate|cert\.?|dea|board certification)){num_sep}(?P<v>[A-Za-z0-9][A-Za-z0-9-]{{4,19}})(?-u:\b)"),
            check: has_digit,
        },
        Rule {
            phi_type: Vehicle,
            score: 0.97,
            pattern: r"(?i-u:\bvin)\s*(?:number|no\.?|#)?\s*[:#]?\s*(?P<v>[A-HJ-NPR-Za-hj-npr-z0-9]{11,17})(?-u:\b)".into(),
            check: has_digit,
        },
        Rule { phi_type: Vehicle, score: 0.95, pattern: r"(?-u:\b)[A-HJ-NPR-Z0-9]{17}(?-u:\b)".into(), check: vin },
        Rule {
            phi_type: Device,
            score: 0.93,
            pattern: format!(r"(?i-u:\b(?:serial|s/n|sn|device|device identifier|udi|imei|implant|pacemaker|defibrillator|icd|pump|transmitter|sensor|receiver|meter|hearing aid|model/serial)(?: id| serial| number| no\.?| #)?){num_sep}(?P<v>[A-Za-z0-9][A-Za-z0-9-]{{3,39}})(?-u:\b)"),
            check: has_digit,
        },
        Rule { phi_type: Device, score: 0.95, pattern: r"\(01\)\d{14}(?:\(\d{2,4}\)[A-Za-z0-9]{1,20})*".into(), check: any },
        Rule {
            phi_type: Biometric,
            score: 0.9,
            pattern: r"(?i-u:\b(?:biometric(?: template| record)?|template)\s*(?:id|no\.?|#|number))\s*[:#]?\s*(?P<v>[A-Za-z]{0,4}-?\d[A-Za-z0-9-]{2,30})(?-u:\b)".into(),
            check: any,
        },
        // Other unique identifying codes with a cue: case, docket, ticket, reference numbers. The
        // cue is a whole word: "REFERRED" is no "ref", and a refused match hides what starts there.
        Rule {
            phi_type: Id,
            score: 0.9,
            pattern: format!(r"(?i-u:\b(?:case|docket|ticket|reference|ref|confirmation|tracking|employee|badge|student|passport|visa|alien|inmate|booking|participant|subject|study|specimen|sample|barcodes?|accession|tube|kit|requisition|authorization|auth|approval))(?-u:\b){num_sep}(?P<v>[A-Za-z]{{1,5}} [0-9][A-Za-z0-9-]{{2,30}}|[A-Za-z0-9][A-Za-z0-9-]{{3,30}})(?-u:\b)"),
            check: has_digit,
        },
        Rule {
            phi_type: Biometric,
            score: 0.9,
            pattern: r"(?i-u:\b(?:fingerprint|finger print|thumbprint|thumb print|retinal scan|retina scan|iris scan|iris template|voiceprint|voice print|voice sample|facial geometry|face geometry|facial recognition template|face template|palm print|palmprint|hand geometry|gait signature|dna profile))(?:\s+(?i-u:template|id|record|hash|sample|scan|image))?(?:\s*(?:no\.?|#|id)?\s*[:#]?\s*(?P<v>[A-Za-z]{0,4}-?\d[A-Za-z0-9-]{2,30}))?".into(),
            check: any,
        },
        // Dates: with a year in any common order, month names, and day/month with a cue.
        Rule {
            phi_type: Date,
            score: 0.95,
            pattern: r"(?-u:\b)(?:\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})|\d{4}[/-]\d{1,2}[/-]\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})(?-u:\b)".into(),
            check: numeric_date,
        },
        Rule {
            phi_type: Date,
            score: 0.95,
            pattern: format!(r"(?-u:\b){MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?(?-u:\b)|(?-u:\b)\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\.?(?:,?\s+\d{{4}})?(?-u:\b)|(?-u:\b){MONTHS}\.?,?\s+\d{{4}}(?-u:\b)"),
            check: day_in_range,
        },
        Rule {
            phi_type: Date,
            score: 0.9,
            pattern: r"(?i-u:\b(?:on|for|since|from|until|till|to|dated|date|seen|visit|admitted|admission|discharged|discharge|dob|d\.o\.b\.|birth|born|died|death|deceased|through|by|before|after|last|next|scheduled|appointment|appt|surgery|procedure|follow-up|followup|follow up|returned|presented|started|stopped|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun))\b\.?,?\s*[:.]?\s*(?:on\s+)?(?P<v>\d{1,2}/\d{1,2})(?-u:\b)".into(),
            check: month_day,
        },
        // Month and year: "03/2019", "3-2021".
        Rule {
            phi_type: Date,
            score: 0.85,
            pattern: r"(?-u:\b)(?:0?[1-9]|1[0-2])[/-](?:19|20)\d{2}(?-u:\b)".into(),
            check: not_in_a_longer_number,
        },
        // Month and day, or month and two-digit year ("CABG 1/78"), without a cue: less sure
        // ("1/2 tablet" is a dose, checked after).
        Rule {
            phi_type: Date,
            score: 0.6,
            pattern: r"(?-u:\b)(?:0?[1-9]|1[0-2])/(?:0?[1-9]|\d{2})(?-u:\b)".into(),
            check: bare_month_day,
        },
        // Dates in words written in lower case, as notes do: "may 16, 2015", "nov. 2016". Only
        // with a year, since "may" and "march" are everyday words.
        Rule {
            phi_type: Date,
            score: 0.85,
            pattern: r"(?i-u:\b(?:jan|january|feb|february|mar|march|apr|april|may|june?|july?|aug|august|sept?|september|oct|october|nov|november|dec|december))\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+(?:19|20)\d{2}(?-u:\b)".into(),
            check: any,
        },
        // A day by its ordinal: "it's the 11th.", "drawn on the 11th".
        Rule {
            phi_type: Date,
            score: 0.7,
            pattern: r"(?i-u:\bthe)\s+(?P<v>(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th))(?-u:\b)".into(),
            check: ordinal_day,
        },
        // Dates in words: "the third of March", "March twenty-first", "on the 3rd".
        Rule {
            phi_type: Date,
            score: 0.85,
            pattern: format!(r"(?i-u:\b(?:the\s+)?(?:{ORDINALS})(?:\s+(?:of|day\s+of))?\s+){MONTHS}(?:,?\s+\d{{4}})?(?-u:\b)|(?-u:\b){MONTHS}\s+(?i-u:(?:the\s+)?(?:{ORDINALS}))(?:,?\s+\d{{4}})?(?-u:\b)"),
            check: any,
        },
        Rule {
            phi_type: Date,
            score: 0.85,
            pattern: r"(?-u:\b)(?:(?i-u:last|this|next|on|since|before|after|over|at|by)\s+)?(?P<v>(?:Christmas|Thanksgiving|Easter|Halloween|Hanukkah|Passover|Ramadan|Diwali|Independence Day|Memorial Day|Labor Day|Valentine's Day|Mother's Day|Father's Day|New Year's(?: Day| Eve)?)(?: Eve| Day)?(?:,?\s+\d{4})?)(?-u:\b)".into(),
            check: any,
        },
        Rule {
            phi_type: Age,
            score: 0.93,
            pattern: r"(?-u:\b)(?P<v>9\d|1[0-2]\d)(?:\s*-?\s*(?i-u:years?|yrs?)[ -]*(?i-u:old)|-(?i-u:year|yr)-(?i-u:old)|\s*(?i-u:y/?o)(?-u:\b))".into(),
            check: any,
        },
        // A month alone is a date element too: "since August", "in early March".
        Rule {
            phi_type: Date,
            score: 0.85,
            pattern: r"(?i-u:\b(?:in|since|until|till|from|last|this|next|early|late|mid|during|by|through|before|after))(?:\s+(?i-u:early|late|mid))?\s+(?P<v>January|February|March|April|May|June|July|August|September|October|November|December)(?-u:\b)".into(),
            check: any,
        },
        Rule {
            phi_type: Age,
            score: 0.9,
            pattern: r"(?i-u:\b(?:i'm|i am|im|turned|turns|turning|she is|he is|she's|he's|patient is|who is))\s+(?P<v>9\d|1[0-2]\d)(?-u:\b)".into(),
            check: bare_age,
        },
        Rule {
            phi_type: Age,
            score: 0.93,
            pattern: r"(?i-u:\b(?:age|aged))\s*[:]?\s*(?P<v>9\d|1[0-2]\d)(?-u:\b)".into(),
            check: any,
        },
        // "Springfield, IL 62704": a city before a state and a ZIP, whatever the city.
        Rule {
            phi_type: Location,
            score: 0.93,
            pattern: format!(r"(?-u:\b)(?P<v>[A-Z][a-z'.]+(?:[ -](?:[A-Z][a-z'.]+|el|de|del|la|le|du))*),\s*{STATES}\.?,?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)(?-u:\b)"),
            check: any,
        },
        Rule {
            phi_type: Location,
            score: 0.93,
            pattern: r"(?-u:\b)[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\s(?:County|Parish|Borough)(?-u:\b)".into(),
            check: any,
        },
        Rule {
            phi_type: Zip,
            score: 0.95,
            pattern: format!(r",\s*{STATES}\.?,?\s+(?P<v>\d{{5}}(?:-\d{{4}})?)(?-u:\b)|(?-u:\b){STATE_NAMES},?\s+(?P<w>\d{{5}}(?:-\d{{4}})?)(?-u:\b)"),
            check: any,
        },
        Rule {
            phi_type: Zip,
            score: 0.95,
            pattern: r"(?i-u:\b(?:zip|zip code|zipcode|postal code|post code))\s*[:#]?\s*(?P<v>\d{5}(?:-\d{4})?)(?-u:\b)".into(),
            check: any,
        },
        Rule { phi_type: Zip, score: 0.85, pattern: r"(?-u:\b)\d{5}-\d{4}(?-u:\b)".into(), check: any },
        // Dutch postcodes, four digits and two letters: "2805MY", "Pippapad 3 2178 LK Nieuwkoop".
        // Before the street lines, which would otherwise claim the house number in front.
        Rule {
            phi_type: Zip,
            score: 0.8,
            // Capitals only: "1000 mg" on every lab line would each cost a rejected match.
            pattern: r"(?-u:\b)[1-9][0-9]{3} ?[A-Z]{2}(?-u:\b)".into(),
            check: dutch_postcode,
        },
        Rule {
            phi_type: Location,
            score: 0.9,
            // The suffix is checked in code (`street_line`): as an alternation of two hundred
            // words it made the automaton of every rule slower.
            // The number after "Suite" when the words took "Suite" for the street's last word; and
            // the town after a unit line ("Suite 831 Amberport"), see `town_after`.
            pattern: r"(?-u:\b)(?P<v>\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z0-9][A-Za-z0-9'-]*\.?\s+){0,3}[A-Z][A-Za-z]+\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|Flat|#)\.?\s*[A-Za-z0-9-]+|\s+#?\d{1,5}[A-Za-z]?)?)(?:[,\s]+(?P<town>[A-Z][a-z]+(?: [A-Z][a-z]+)?))?(?-u:\b)".into(),
            check: street_line,
        },
        // A name before a credential: "FILBERT BRIGHT, M.D.", "Ana Ruiz RN", "B. CLIFFORD MD",
        // "JON DEVAUX RRT".
        Rule {
            phi_type: Name,
            score: 0.85,
            pattern: r"(?-u:\b)(?P<v>(?:[A-Z]\. )?[A-Z][A-Za-z'-]+(?: [A-Z]\.?)?(?: [A-Z][A-Za-z'-]+){0,2}),? (?:M\.D\.|D\.O\.|R\.N\.|Ph\.D\.|(?:MD|DO|RN|NP|PA-C|PhD|MBBS|FNP-C|FNP|DNP|PharmD|DPM|DDS|LCSW|RRT|CRT|LPN|CRNA|RPh)(?-u:\b))".into(),
            check: credentialed,
        },
        // Dictation signatures: the author's initials and the typists' user names ("XGT:holmes").
        Rule {
            phi_type: Id,
            score: 0.8,
            pattern: r"(?m-u:^)[ \t]*(?P<v>[A-Z]{2,4}[:/][a-z]{2,12}(?:/[a-z]{2,12})*)[ \t]*(?m-u:$)".into(),
            check: any,
        },
        // A month and a two-digit year after a cue: "CABG in 3/80", "compared with 8/79".
        Rule {
            phi_type: Date,
            score: 0.8,
            pattern: r"(?i-u:\b(?:in|since|from|with|on|dated|until|of|by))\s+(?P<v>(?:0?[1-9]|1[0-2])/\d{2})(?-u:\b)".into(),
            check: month_and_short_year,
        },
        // Hospitals, clinics and other facilities: "St. Luke's Hospital", "UCLA Medical Center".
        Rule {
            phi_type: Location,
            score: 0.85,
            pattern: r"(?-u:\b)(?:(?:St|Mt)\.?\s+)?(?:[A-Z][A-Za-z'’&.-]*\s+){1,4}(?:(?i-u:hospital|hosp|memorial|regional|medical center|medical centre|med\.? ctr|med\.? center|health center|health centre|health system|clinic|infirmary|hospice|nursing home|rehabilitation center|rehab center|care center|surgical center|surgery center|medical group|physicians group|family practice|urgent care)|General|Health|Med)(?-u:\b)".into(),
            check: facility,
        },
        // The same in capitals, as note headers write them: "SILVER RIDGE EMERGENCY DEPT".
        Rule {
            phi_type: Location,
            score: 0.8,
            pattern: r"(?-u:\b)(?:[A-Z][A-Z'&.-]+ +){1,4}(?:HOSPITAL|HOSP|MEMORIAL|REGIONAL|MEDICAL CENTER|MEDICAL CENTRE|MED CTR|HEALTH CENTER|CLINIC|INFIRMARY|EMERGENCY DEPT|EMERGENCY DEPARTMENT|EMERGENCY ROOM)(?-u:\b)".into(),
            check: facility_in_capitals,
        },
        // A ward or building named after someone, with its floor, where a patient goes or comes
        // from: "TRANSFER TO QUARTERMAIN 2", "from quartermain 3".
        // Before the initials rule: a match it refuses ("TRANSFER TO" with "TO" for initials)
        // would hide this one, which starts at the same word.
        Rule {
            phi_type: Location,
            score: 0.75,
            pattern: r"(?i-u:\b(?:(?:transfer|transferred|transfered|tranfered|trans|tx|sent|admitted|back|go|went|return|returned)(?:\s+back)?\s+to|to|from))\s+(?P<v>[A-Za-z][A-Za-z]{3,})\s*\d{1,2}(?-u:\b)".into(),
            check: named_ward,
        },
        // An institution known by its initials: "seen at UCSF", "admitted to UPMC".
        Rule {
            phi_type: Location,
            score: 0.75,
            pattern: r"(?-u:\b)(?:(?i-u:at)|(?i-u:(?:admitted|admit|adm|transferred|transfered|tranfered|transferring|transfer|trans|tx|sent|referred|arrived|came|brought|returned|went|presented|flighted|medflight|discharged|dc'd|d/c'd|screened by|followed at)(?: in)?(?: to)?(?: the)?))\s+(?P<v>[A-Z]{2,6})(?-u:\b)".into(),
            check: institution_initials,
        },
        // The same in lower case, only after a transfer ("was transfered to gh"): after "at",
        // two lower-case letters are as likely shorthand.
        Rule {
            phi_type: Location,
            score: 0.7,
            pattern: r"(?-u:\b(?:admitted|transferred|transfered|tranfered|transfer|sent|referred|arrived|came|brought|returned|went|flighted|medflight|discharged)(?: in)?(?: to)?(?: the)?)\s+(?P<v>[a-z]{2,4})(?-u:\b)".into(),
            check: institution_initials,
        },
        // Hospitals named for a saint or a devotion, as notes write them without "Hospital":
        // "TO GO TO ST. MARY", "excepted at Holy Cross", "d/c'd to Sacred Heart".
        Rule {
            phi_type: Location,
            score: 0.75,
            pattern: r"(?i-u:\b(?:to|at|from)\s+)(?P<v>(?:St|ST|Saint|SAINT)\.?\s+[A-Z][A-Za-z'’]+(?:\s+(?i-u:hospital|hosp|medical center|memorial|rehab))?)(?-u:\b)".into(),
            check: saint,
        },
        Rule {
            phi_type: Location,
            score: 0.75,
            pattern: r"(?i-u:\b(?:sacred heart|holy cross|holy family|holy name|holy redeemer|good samaritan|good shepherd)(?:\s+(?:memorial|hospital|hosp|rehab|medical center))?\b)".into(),
            check: any,
        },
        // A rehabilitation centre or VA by its town or founder: "BALTIMORE REHAB".
        Rule {
            phi_type: Location,
            score: 0.7,
            pattern: r"(?-u:\b)(?P<v>[A-Z][A-Za-z]{3,})\s+(?:REHAB|Rehab|rehab|VA)(?-u:\b)".into(),
            check: named_rehab,
        },
        // Organizations by their legal form: employers and the like.
        Rule {
            phi_type: Location,
            score: 0.8,
            pattern: r"(?-u:\b)(?:[A-Z0-9][A-Za-z0-9'&.-]*\s+){1,5}(?:Inc|Corp|Corporation|Incorporated|LLC|L\.L\.C|Ltd|Limited|PLC|plc|LLP|GmbH|AG|SA|S\.A|SE|NV|N\.V|BV|B\.V|SpA|S\.p\.A|SARL|Co|Company|Holdings|Group|Partners|Co\.\s?Ltd|INC|CORP|CORPORATION|CO\.,?\s?LTD|GMBH)\.?(?-u:\b)".into(),
            check: organization,
        },
        // A legal form glued to the name: "CROOZInc.", "AnGesInc.".
        Rule {
            phi_type: Location,
            score: 0.7,
            pattern: r"(?-u:\b)[A-Z][A-Za-z]*[a-zA-Z]Inc\.?(?-u:\b)".into(),
            check: any,
        },
        // Apartment, suite and unit lines on their own.
        Rule {
            phi_type: Location,
            score: 0.8,
            pattern: r"(?-u:\b)(?P<v>(?:Apt|Apartment|Suite|Ste|Flat|Piso|Piano|Interior|Edif|Depto|Dpto|Puerta|apt|suite|piso)\.?\s*#?\s*\d{1,5}[A-Za-z]?)(?:[,\s]+(?P<town>[A-Z][a-z]+(?: [A-Z][a-z]+)?))?(?-u:\b)".into(),
            check: any,
        },
        // US military addresses: "PSC 6804, Box 0227", "Unit 7566 Box 8992", then "APO AE 51245".
        Rule {
            phi_type: Location,
            score: 0.9,
            pattern: r"(?-u:\b)(?:PSC|CMR|Unit|USNS|USS|USCGC)\s+\d{1,5},?\s+Box\s+\d{1,5}(?-u:\b)".into(),
            check: any,
        },
        Rule {
            phi_type: Location,
            score: 0.9,
            pattern: r"(?-u:\b)(?:APO|FPO|DPO)\s+(?:AA|AE|AP)(?:\s+\d{5})?(?-u:\b)".into(),
            check: any,
        },
        // Street lines elsewhere: "12 rue de la Paix", "Calle Mayor 3", "Hauptstraße 12", "Via Roma, 10".
        Rule {
            phi_type: Location,
            score: 0.85,
            pattern: format!(r"(?-u:\b)\d{{1,5}}(?:\s?(?:bis|ter|[A-Za-z]))?,?\s+(?:rue|avenue|boulevard|bd|chemin|allée|impasse|place|quai|route|cours)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*{CAPWORD}(?:\s+{CAPWORD}){{0,3}}|(?-u:\b)(?:Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Plaza|Camino|Carrera|Ronda|Via|Viale|Piazza|Piazzale|Corso|Vicolo|Largo|Rua|Travessa|Praça|Rodovia|Alameda|Estrada)\s+(?:(?:de|del|de la|do|da|dos|das|di|della|delle|dei)\s+)?{CAPWORD}(?:\s+(?:{CAPWORD}|de|del|la|do|da|di))*?,?\s*(?:n[º°o]\.?\s*)?\d{{1,5}}[A-Za-z]?(?-u:\b)|(?-u:\b)[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|gracht|plein|dijk|kade|singel|vej|gade|gatan|vägen)\s+\d{{1,5}}[a-z]?(?-u:\b)"),
            check: any,
        },
        // Postal codes of other countries: the UK and Canada (letters make them distinctive).
        Rule {
            phi_type: Zip,
            score: 0.85,
            pattern: r"(?-u:\b)(?:[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9])(?-u:\b)".into(),
            check: any,
        },
        Rule { phi_type: Location, score: 0.93, pattern: r"(?i-u:\bp\.?\s?o\.?\s+box\s+\d+)(?-u:\b)".into(), check: any },
        // Streets named without a number: "on Wabash Ave", "at Grand Ave and 5th St".
        Rule {
            phi_type: Location,
            score: 0.85,
            pattern: r"(?-u:\b)(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))(?: [A-Z][a-z]+){0,2} (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Parkway|Pkwy|Highway|Hwy|Court|Ct|Terrace|Circle|Square|Plaza)\.?(?-u:\b)".into(),
            check: street_name,
        },
        // Recall first: any other run of five or more digits (spaces, dashes, dots or slashes
        // between them) that is not a measured quantity is some identifier, typed by its context
        // (see `number_type`). It must stay last: every more specific rule goes before it.
        // The dictating clinician's code after the signature: "FILBERT BRIGHT, M.D.    FB59". Last
        // but one, so that any other rule matching there wins.
        Rule { phi_type: Id, score: 0.8, pattern: r"(?-u:\b)[A-Z]{2,4}\d{1,4}(?-u:\b)".into(), check: after_credential },
        Rule { phi_type: Id, score: NUMBER_SCORE, pattern: r"(?-u:\b)\+?\d(?:[ ./-]?\d){4,}(?:\s?(?i-u:x|ext\.?)\s?\d{1,5})?(?-u:\b)".into(), check: identifying_number },
    ]
    .into_iter()
    .map(|mut r| {
        // ASCII word boundaries, digits and spaces only: the lazy DFA cannot do Unicode
        // boundaries (it would fall back to a slower engine), and Unicode classes multiply its
        // states until its cache thrashes.
        r.pattern = r
            .pattern
            .replace("(?-u:\\b)", "\\b")
            .replace("\\b", "(?-u:\\b)")
            .replace("\\d", "[0-9]")
            .replace("\\s", "[\\t\\n\\r \\x0C]");
        r
    })
    .collect()
}

/// The compiled rules.
pub struct Patterns {
    /// Every rule at once, without capture groups: finds where and which.
    regex: Regex,
    /// Each rule alone, with its groups: run only over a match, to find its value.
    alone: Vec<Option<Regex>>,
    rules: Vec<Rule>,
    /// The last rule, the catch-all for long numbers, alone: tried where a more specific rule
    /// matched a number but its check refused it ("4111 1111 1111 1112" is no card, but still
    /// a number to replace).
    numbers: Regex,
}

impl Patterns {
    pub fn new() -> Patterns {
        let rules = rules();
        let regex = Regex::builder()
            .configure(
                Regex::config()
                    .nfa_size_limit(Some(64 << 20))
                    .hybrid_cache_capacity(128 << 20)
                    .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit),
            )
            .build_many(&rules.iter().map(|r| r.pattern.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("built-in PHI patterns must compile: {e}"));
        let alone = rules
            .iter()
            .map(|r| {
                r.pattern.contains("(?P<").then(|| {
                    Regex::new(&r.pattern).unwrap_or_else(|e| panic!("built-in PHI pattern must compile: {e}"))
                })
            })
            .collect();
        let last = rules.last().map_or("", |r| r.pattern.as_str());
        let numbers = Regex::new(last).unwrap_or_else(|e| panic!("built-in PHI pattern must compile: {e}"));
        Patterns { regex, alone, rules, numbers }
    }

    /// Every validated identifier in `text`, in order, not overlapping.
    pub fn scan(&self, text: &str, out: &mut Vec<Span>) {
        // Capture slots are made for a rule when it first matches: most texts match few rules.
        let mut caps: Vec<Option<Captures>> = Vec::new();
        let first = out.len();
        // Numbers a specific rule matched and refused, for the catch-all if nothing else takes them.
        let mut refused: Vec<Span> = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let Some(m) = self.regex.search(&regex_automata::Input::new(text).range(at..)) else { break };
            let index = m.pattern().as_usize();
            let rule = &self.rules[index];
            // The value inside the match: its `v` (or `w`) group, else the whole match.
            let (mut zip, mut town, mut resume) = (None, None, m.end());
            if caps.is_empty() {
                caps.resize_with(self.alone.len(), || None);
            }
            let value = match &self.alone[index] {
                Some(alone) => {
                    let c = caps[index].get_or_insert_with(|| alone.create_captures());
                    let input = regex_automata::Input::new(&text[..m.end()])
                        .range(m.start()..)
                        .anchored(regex_automata::Anchored::Yes);
                    alone.search_captures(&input, c);
                    zip = c.get_group_by_name("zip").map(|s| (s.start, s.end));
                    town = c.get_group_by_name("town").map(|s| (s.start, s.end));
                    if let Some(t) = town.filter(|&t| !town_after(text, t)) {
                        // Not a town: the words after the street line are for the other rules.
                        town = None;
                        resume = t.0;
                    }
                    c.get_group_by_name("v").or_else(|| c.get_group_by_name("w")).map(|s| (s.start, s.end))
                }
                None => None,
            }
            .unwrap_or((m.start(), m.end()));
            let value = trim_trailing_punctuation(text, value);
            let accepted = value.1 > value.0 && (rule.check)(text, value);
            if !accepted && index + 1 < self.rules.len() {
                let input = regex_automata::Input::new(text).range(value.0..).anchored(regex_automata::Anchored::Yes);
                if let Some(n) = self.numbers.find(input).filter(|n| identifying_number(text, (n.start(), n.end()))) {
                    let t = number_type(text, (n.start(), n.end()));
                    refused.push(Span::new(n.start(), n.end(), t, NUMBER_SCORE, Detector::NumberShape));
                }
            }
            if accepted {
                let phi_type = match rule.phi_type {
                    PhiType::Phone if fax_context(text, value.0) => PhiType::Fax,
                    PhiType::Id if index + 1 == self.rules.len() => number_type(text, value),
                    t => t,
                };
                let detector = if index + 1 == self.rules.len() { Detector::NumberShape } else { Detector::Pattern };
                out.push(Span::new(value.0, value.1, phi_type, rule.score, detector));
                if let Some(town) = town {
                    out.push(Span::new(town.0, town.1, PhiType::Location, rule.score, Detector::Pattern));
                }
                if let Some(zip) = zip {
                    out.push(Span::new(zip.0, zip.1, PhiType::Zip, rule.score, Detector::Pattern));
                }
            }
            // After an accepted match, go on from its end. A rejected one may hide a real
            // identifier that starts inside it ("DOB 03/14" rejected as a day and month because
            // "/1962" follows): look again one character further on.
            at = if accepted && resume > m.start() { resume } else { next_char(text, m.start()) };
        }
        for number in refused {
            // The whole number, in place of the catch-all's look at its tail.
            let inside = |s: &Span| s.score == NUMBER_SCORE && s.start >= number.start && s.end <= number.end;
            let kept: Vec<Span> = out.drain(first..).filter(|s| !inside(s)).collect();
            out.extend(kept);
            if !out[first..].iter().any(|s| s.overlaps(&number)) {
                let at = out[first..].partition_point(|s| s.start < number.start) + first;
                out.insert(at, number);
            }
        }
    }
}

impl Default for Patterns {
    fn default() -> Self {
        Patterns::new()
    }
}

/// What a number that only its length gave away is, from the words just before it and its shape:
/// "call 07700 900123" is a phone, "zip code is 87213" a ZIP, "+44 20 7946 0958" a phone.
fn number_type(text: &str, (s, e): (usize, usize)) -> PhiType {
    let before = sentence_before(text, s, &['.', '\n', ';', '?', '!']).to_ascii_lowercase();
    // At most 40 bytes: a plain walk beats setting up a substring search for each cue.
    let mentions = |w: &str| before.as_bytes().windows(w.len()).any(|at| at == w.as_bytes());
    let cue = |words: &[&str]| words.iter().any(|w| mentions(w));
    let v = &text[s..e];
    let digit_count = digits(v).count();
    if cue(&["fax"]) {
        PhiType::Fax
    } else if cue(&[
        "phone",
        "call",
        "tel",
        "mobile",
        "cell",
        "ring",
        "text me",
        "reach",
        "desk",
        "office",
        "pager",
        "contact",
        "number is",
    ]) || (v.starts_with('+') && digit_count >= 8)
        || (v.starts_with('0') && (10..=13).contains(&digit_count) && v.contains([' ', '-', '.']))
    {
        PhiType::Phone
    } else if cue(&["zip", "postal", "postcode", "post code"]) && (4..=10).contains(&digit_count) {
        PhiType::Zip
    } else {
        PhiType::Id
    }
}

/// A number is a fax number when "fax" comes shortly before it in the same sentence
/// ("Fax records to 617-555-0142", "the pharmacy faxes to ...").
fn fax_context(text: &str, start: usize) -> bool {
    let sentence = sentence_before(text, start, &['.', '\n', ';']);
    let lower = sentence.to_ascii_lowercase();
    lower.contains("fax") || lower.contains("facsimile") || sentence.trim_end().ends_with("F:")
}

/// Up to 40 bytes before `start`, from the last of `ends` on: the words that say what a number is.
fn sentence_before<'a>(text: &'a str, start: usize, ends: &[char]) -> &'a str {
    let mut from = start.saturating_sub(40);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = &text[from..start];
    before.rsplit(ends).next().unwrap_or(before)
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(text.len(), |c| at + c.len_utf8())
}

/// A URL at the end of a sentence does not own the full stop.
fn trim_trailing_punctuation(text: &str, (start, mut end): (usize, usize)) -> (usize, usize) {
    while end > start && matches!(text.as_bytes()[end - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        end -= 1;
    }
    (start, end)
}

fn digits(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0'))
}

/// A Dutch postcode, not a dose or a year ("1000 MG", "5000IU", "2000 AD"): glued it is
/// distinctive; with a space, it needs a house number before it, a town after it, or
/// "postcode"/"zip code" before it.
fn dutch_postcode(text: &str, (s, e): (usize, usize)) -> bool {
    const NOT_POSTCODES: &[&str] = &[
        "mg", "ml", "iu", "kg", "cm", "mm", "km", "hr", "am", "pm", "lb", "oz", "dl", "gm", "ms", "mu", "ng", "ug",
        "cc", "in", "ft", "yd", "mi", "hz", "kb", "mb", "gb", "tb", "bp", "rr", "st", "nd", "rd", "th", "ad", "bc",
        "ce", "us", "to", "of", "at", "on", "or", "is", "be", "by", "no", "so", "as", "an", "it", "we", "he", "me",
        "my", "up", "do", "go", "ok", "sa", "sd", "ss", "mo", "yo", "wk", "yr", "pt", "dr", "er", "ed", "iv", "im",
        "sc", "po",
    ];
    let value = &text[s..e];
    if one_of(&value[value.len() - 2..], NOT_POSTCODES) {
        return false;
    }
    if !value.contains(' ') {
        return true;
    }
    let before = text[..s].trim_end_matches(' ');
    let house_number = before.len() < s
        && before.rsplit(' ').next().is_some_and(|w| {
            let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit())
        });
    let town_after = text[e..].strip_prefix(' ').is_some_and(|r| r.starts_with(|c: char| c.is_uppercase()));
    // Only the end of the text before is compared: lower-casing all of it cost a copy per match.
    let ends_with = |cue: &str| {
        before.len() >= cue.len()
            && before.is_char_boundary(before.len() - cue.len())
            && before[before.len() - cue.len()..].eq_ignore_ascii_case(cue)
    };
    house_number || town_after || ends_with("code is") || ends_with("postcode")
}

fn any(_: &str, _: (usize, usize)) -> bool {
    true
}

fn has_digit(text: &str, (s, e): (usize, usize)) -> bool {
    text[s..e].bytes().any(|b| b.is_ascii_digit())
}

fn three_digits(text: &str, (s, e): (usize, usize)) -> bool {
    digits(&text[s..e]).count() >= 3
}

fn digits_8_plus(text: &str, (s, e): (usize, usize)) -> bool {
    digits(&text[s..e]).count() >= 8
}

fn ipv4(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    // "1.2.3.4" in "version 1.2.3.4" is a version, not an address.
    v.parse::<std::net::Ipv4Addr>().is_ok() && !text[..s].trim_end().to_ascii_lowercase().ends_with("version")
}

fn ipv6(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    v.contains(':') && v.parse::<std::net::Ipv6Addr>().is_ok()
}

/// SSNs are never area 000, 666 or 9xx, group 00 or serial 0000.
fn ssn(text: &str, (s, e): (usize, usize)) -> bool {
    let d: Vec<u32> = digits(&text[s..e]).collect();
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// North American numbers: area code and exchange start with 2-9. Numbers whose digits are
/// followed by a unit ("120-130-1500 mg") are measurements.
fn nanp(text: &str, (s, e): (usize, usize)) -> bool {
    if text[..s].chars().next_back().is_some_and(|c| c.is_alphanumeric()) {
        return false;
    }
    let d: Vec<u32> = digits(&text[s..e]).collect();
    let local = if d.len() == 11 { &d[1..] } else { &d[..] };
    local.len() == 10 && local[0] >= 2 && local[3] >= 2 && !followed_by_unit(text, e)
}

fn luhn(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 {
                    x * 2 - 9
                } else {
                    x * 2
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Payment cards: 13 to 19 digits, a known network prefix, and a valid Luhn check digit.
fn card(text: &str, (s, e): (usize, usize)) -> bool {
    let d: Vec<u32> = digits(&text[s..e]).collect();
    (13..=19).contains(&d.len()) && matches!(d[0], 2..=6) && luhn(&d)
}

/// IBANs: the check digits make the whole number 1 modulo 97.
fn iban(text: &str, (s, e): (usize, usize)) -> bool {
    let v: String = text[s..e].chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&v.len()) {
        return false;
    }
    let rearranged = v[4..].chars().chain(v[..4].chars());
    let mut remainder: u64 = 0;
    for c in rearranged {
        let n = match c.to_digit(36) {
            Some(n) => n as u64,
            None => return false,
        };
        remainder = if n < 10 { (remainder * 10 + n) % 97 } else { (remainder * 100 + n) % 97 };
    }
    remainder == 1
}

/// DEA registration numbers: two letters and seven digits with a weighted check digit.
fn dea(text: &str, (s, e): (usize, usize)) -> bool {
    let d: Vec<u32> = digits(&text[s + 2..e]).collect();
    if d.len() != 7 {
        return false;
    }
    let sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
    sum % 10 == d[6] && text.as_bytes()[s].is_ascii_alphabetic()
}

/// NPIs: ten digits whose Luhn check includes the 80840 prefix.
fn npi(text: &str, (s, e): (usize, usize)) -> bool {
    let mut d = vec![8, 0, 8, 4, 0];
    d.extend(digits(&text[s..e]));
    d.len() == 15 && luhn(&d)
}

/// VINs: 17 characters without I, O or Q, mixing letters and digits, with the check digit in
/// position 9 (North American VINs; others carry a cue and match the cued rule).
fn vin(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text.as_bytes()[s..e];
    if !v.iter().any(u8::is_ascii_digit) || !v.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'N' => u32::from(c - b'J') + 1,
            b'P' => 7,
            b'R'..=b'Z' => u32::from(c - b'R') + 2,
            _ => 0,
        }
    };
    let sum: u32 = v.iter().zip(WEIGHTS).map(|(&c, w)| value(c) * w).sum();
    let check = if sum % 11 == 10 { b'X' } else { b'0' + (sum % 11) as u8 };
    v[8] == check
}

/// A bare age ("I'm 94") is not a measurement ("he is 95/60", "she's 98% on room air").
fn bare_age(text: &str, (_, e): (usize, usize)) -> bool {
    let rest = text[e..].trim_start();
    !rest.starts_with(['/', '%', '.', ',']) || rest.starts_with(", ") || rest.starts_with(". ") || rest.is_empty()
}

/// "12 Juniper Crossing": a number, then words of which one after the first is a street suffix.
/// After an apartment or suite line comes the town ("Suite 218 Hernandezhaven"), unless the words
/// are everyday English ("Suite 410 Please call"). After a street line without one, the words may
/// be anything ("12 Elm Street Then"): the places pass judges those.
fn town_after(text: &str, (s, e): (usize, usize)) -> bool {
    let mut before = text[..s].trim_end_matches([',', ' ', '\t']).rsplit([' ', '\t', ',']).filter(|w| !w.is_empty());
    let (number, unit) = (before.next().unwrap_or_default(), before.next().unwrap_or_default());
    let unit = unit.trim_end_matches('.').trim_start_matches('#');
    let after_unit = number.bytes().any(|b| b.is_ascii_digit())
        && [
            "Apt",
            "Apartment",
            "Suite",
            "Ste",
            "Unit",
            "Room",
            "Rm",
            "Flat",
            "Piso",
            "Piano",
            "Interior",
            "Edif",
            "Depto",
            "Dpto",
            "Puerta",
            "",
        ]
        .contains(&unit)
        && (!unit.is_empty() || number.starts_with('#'));
    if !after_unit {
        return false;
    }
    let lex = lexicon();
    text[s..e].split(' ').all(|w| {
        let flags = lex.flags(&w.to_lowercase());
        flags.has(Flags::CITY) || !flags.has(Flags::ENGLISH)
    })
}

fn street_line(text: &str, (s, e): (usize, usize)) -> bool {
    let line = text[s..e].split(',').next().unwrap_or_default();
    line.split_whitespace().skip(2).any(|w| STREET_SUFFIXES.binary_search(&w.trim_end_matches('.')).is_ok())
}

/// "Grand Ave" is a street; "Dr Smith" and "St Mary's" are a doctor and a saint.
fn street_name(text: &str, (s, e): (usize, usize)) -> bool {
    let found = &text[s..e];
    let last = found.trim_end_matches('.').rsplit(' ').next().unwrap_or_default();
    let next_capital = text[e..].trim_start_matches(['.', ' ']).starts_with(|c: char| c.is_ascii_uppercase());
    let first = found.split(' ').next().unwrap_or_default();
    // Words that start phrases in notes, not street names ("Follow Up Dr", "Seen By Dr").
    let not_a_street_name = ["The", "By", "With", "To", "From", "Per", "Call", "Seen", "See", "Ask"].contains(&first);
    let title_before_a_name = matches!(last, "Dr" | "St") && next_capital;
    !(not_a_street_name || title_before_a_name)
}

fn followed_by_unit(text: &str, end: usize) -> bool {
    let rest = text[end..].trim_start();
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
    matches!(
        word.as_str(),
        "mg" | "mcg"
            | "g"
            | "ml"
            | "l"
            | "units"
            | "unit"
            | "iu"
            | "meq"
            | "mmol"
            | "tab"
            | "tabs"
            | "tablet"
            | "tablets"
            | "cap"
            | "caps"
            | "capsule"
            | "capsules"
            | "dose"
            | "doses"
            | "puff"
            | "puffs"
            | "drops"
            | "mmhg"
            | "cups"
            | "cup"
            | "strength"
            | "of"
            | "kg"
            | "lb"
            | "lbs"
            | "cm"
            | "mm"
            | "km"
            | "ng"
            | "pg"
            | "copies"
            | "cells"
            | "ul"
            | "mcl"
            | "kcal"
            | "calories"
            | "steps"
            | "bpm"
            | "usd"
            | "dollars"
            | "eur"
            | "euros"
    )
}

/// Numeric dates with a year: a real calendar day, month first or day first.
fn numeric_date(text: &str, (s, e): (usize, usize)) -> bool {
    let parts: Vec<u32> = text[s..e].split(['/', '-', '.']).filter_map(|p| p.parse().ok()).collect();
    if parts.len() != 3 {
        return false;
    }
    let (a, b) = if parts[0] > 999 { (parts[1], parts[2]) } else { (parts[0], parts[1]) };
    let valid = |m: u32, d: u32| (1..=12).contains(&m) && (1..=31).contains(&d);
    (valid(a, b) || valid(b, a)) && !followed_by_unit(text, e)
}

/// The words before "Clinic" or "Hospital" name one, unless they describe a department or a
/// kind of place ("Cardiology Clinic", "the Hospital").
fn facility(text: &str, (s, e): (usize, usize)) -> bool {
    let words: Vec<&str> = text[s..e].split_whitespace().collect();
    let generic = [
        "The",
        "A",
        "An",
        "Our",
        "Your",
        "His",
        "Her",
        "Their",
        "This",
        "That",
        "Follow",
        "Plan",
        "See",
        "Call",
        "In",
        "For",
        "At",
        "On",
        "To",
        "Public",
        "Mental",
        "Global",
        "Population",
        "Occupational",
        "Home",
        "Behavioral",
    ];
    let departments = [
        "Cardiology",
        "Oncology",
        "Neurology",
        "Pediatric",
        "Pediatrics",
        "Emergency",
        "Adult",
        "Dermatology",
        "Orthopedic",
        "Orthopedics",
        "Psychiatry",
        "Psychiatric",
        "Urology",
        "Nephrology",
        "Rheumatology",
        "Endocrinology",
        "Pulmonary",
        "Gastroenterology",
        "Surgical",
        "Surgery",
        "Primary",
        "Care",
        "Family",
        "Walk-in",
        "Urgent",
        "Anticoagulation",
        "Diabetes",
        "Pain",
        "Sleep",
        "Wound",
        "Travel",
        "Eye",
        "Dental",
        "Women's",
        "Children's",
        "Mental",
        "Health",
        "Community",
        "Teaching",
        "Veterans",
        "Local",
        "Outpatient",
        "Inpatient",
        "Specialty",
    ];
    let named = words[..words.len().saturating_sub(1)]
        .iter()
        .any(|w| !generic.contains(w) && !departments.contains(&w.trim_end_matches(['.', ','])));
    named
}

/// Right after a credential ("M.D.", "MD") on the same line.
fn after_credential(text: &str, (s, _): (usize, usize)) -> bool {
    let before = text[..s].trim_end_matches([' ', '\t']);
    before.len() < s && (before.ends_with("M.D.") || before.ends_with(" MD") || before.ends_with(",MD"))
}

/// A facility in capitals, judged as [`facility`] judges it in title case.
fn facility_in_capitals(text: &str, (s, e): (usize, usize)) -> bool {
    let titled: String = text[s..e]
        .split(' ')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_string() + &chars.as_str().to_lowercase()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    facility(&titled, (0, titled.len()))
}

/// A saint's name after "St": "TO ST. MARY", not "SR TO ST WITH PVCS" (sinus tachycardia).
fn saint(text: &str, (s, e): (usize, usize)) -> bool {
    let Some(name) = text[s..e].split_whitespace().nth(1) else { return false };
    let f = lexicon().flags(&without_possessive(name).to_lowercase());
    let everyday = Flags::ENGLISH | Flags::CLINICAL | Flags::DRUG | Flags::COMMON;
    name.len() >= 3 && (f.has(Flags::FIRST_NAME | Flags::LAST_NAME) || !f.has(everyday))
}

/// A legal form after capitalised words: "Kavango Resources PLC", not "the Inc." alone.
fn organization(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    let first = v.split_whitespace().next().unwrap_or_default();
    !["The", "A", "An", "Our", "Your", "This"].contains(&first) || v.split_whitespace().count() > 2
}

/// Wards, services, tests, times and words that follow "at" or "transferred to" and are no
/// institution ("at ICU", "at CT", "TRANSFERRED TO CCU").
const NOT_PLACES: &[&str] = &[
    "ICU", "CCU", "MICU", "SICU", "NICU", "PICU", "PACU", "CVICU", "ED", "ER", "OR", "ENT", "EMS", "ICN", "LTAC",
    "SNF", "ALF", "LTC", "REHAB", "HOME", "BID", "TID", "QID", "PRN", "QHS", "NPO", "CT", "MRI", "EKG", "ECG", "EEG",
    "EMG", "PFT", "CXR", "TEE", "TTE", "UTC", "EST", "PST", "CST", "MST", "EDT", "PDT", "NOON", "MDT", "DNR", "DNI",
    "HIV", "COPD", "CHF", "CKD", "ESRD", "AKI", "DKA", "ACS", "CVA", "TIA", "MVA", "ADHD", "PTSD",
    // wards, rooms, services and times that notes send patients to
    "EW", "IR", "OSH", "CSRU", "CRU", "TSICU", "CVU", "CMU", "HD", "MD", "RN", "NP", "PA", "PT", "OT", "GI", "EP", "US",
    "XR", "CATH", "LAB", "FLOOR", "AM", "PM", "HS", "MN", "NOC", "IV", "PO", "SQ", "IM", "PR", "SL", "RX", "CPR",
    "ETT", "NGT", "OGT", "BP", "HR", "RR", "DR", "VNA", "ACU", "SDU", "PCU", "CDU", "ECU", "NSICU", "BMT", "OB", "LD",
    "PEDS", "NURSERY", "MED", "SURG", "TELE", "STEP", "WARD", "ROOM", "HOSP", "ADM", "TCU", "LTACH", "NH", "ECF",
    "ACF", "HH", "THE", "A", "AN", "IN", "ON", "TO", "HIS", "HER", "BED", "CHAIR", "BSC", "OOB", "IP", "ID", "PIN",
    "URL", "PH", "VA", "UK", "USA", "EU",
];

/// Initials after "at" or a transfer that name a hospital: not a ward or a test, and in notes
/// written in capitals not an everyday word ("AT REST", "AT RISK").
fn institution_initials(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    // Shorthand clinicians write every day ("AT KVO", "AT BS", "AT MIDNOC") names no institution;
    // in lower case ("to gh") no clinical or drug word either ("to ct", "to neo").
    let everyday = Flags::ENGLISH | Flags::AMBIGUOUS | Flags::COMMON;
    let lower_case = v.bytes().all(|b| b.is_ascii_lowercase());
    let clinical = Flags::CLINICAL | Flags::DRUG | Flags::NEVER_NAME;
    !one_of(v, NOT_PLACES)
        && !lexicon().flags(&v.to_ascii_lowercase()).has(if lower_case { everyday | clinical } else { everyday })
}

/// A building or ward named after someone, with its floor: "TRANSFER TO QUARTERMAIN 2", not
/// "transfer to floor 5" or "to MICU 6".
fn named_ward(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    let everyday = Flags::ENGLISH | Flags::AMBIGUOUS | Flags::CLINICAL | Flags::DRUG | Flags::SAFE | Flags::NEVER_NAME;
    !one_of(v, NOT_PLACES) && !lexicon().flags(&v.to_lowercase()).has(everyday)
}

/// A rehabilitation centre or VA by its town or founder: "BALTIMORE REHAB", "KIMBROUGH REHAB",
/// not "CARDIAC REHAB" or "ACUTE REHAB": a town, or a name as [`named_ward`] takes it.
fn named_rehab(text: &str, (s, e): (usize, usize)) -> bool {
    lexicon().flags(&text[s..e].to_lowercase()).has(Flags::CITY) || named_ward(text, (s, e))
}

/// Capitalised words before a credential, not a phrase like "The MD" or "Call MD".
fn credentialed(text: &str, (s, e): (usize, usize)) -> bool {
    let first = text[s..e].split(' ').next().unwrap_or_default();
    // Notes in capitals put words of a sentence before a credential: "REVIEWED WITH RN AND MD".
    const NOT_IN_A_NAME: &[&str] = &[
        "with",
        "and",
        "or",
        "to",
        "per",
        "by",
        "the",
        "of",
        "for",
        "from",
        "at",
        "in",
        "on",
        "aware",
        "notified",
        "called",
        "paged",
        "reviewed",
        "discussed",
        "spoke",
        "told",
        "informed",
        "updated",
        "seen",
        "see",
        "by",
    ];
    !["The", "A", "An", "Your", "Our", "Call", "See", "Per", "Ask", "Page", "Notify", "Contact", "Attending"]
        .contains(&first)
        && !text[s..e].split([' ', ',']).any(|w| one_of(w, NOT_IN_A_NAME))
}

/// "3/80" is March 1980 when nothing but punctuation follows: "3/10 patients" is a ratio.
fn month_and_short_year(text: &str, (_, e): (usize, usize)) -> bool {
    let rest = text[e..].trim_start_matches(' ');
    !rest.starts_with(|c: char| c.is_alphanumeric() || c == '/' || c == '%') || rest.is_empty()
}

/// Not the middle of a longer number ("12/2019" inside "3/12/2019" is the full date's). A dash
/// or a slash joins figures only: "9/7-ADMITTED", "3/16->", "LA-10/3" stand alone.
fn not_in_a_longer_number(text: &str, (s, e): (usize, usize)) -> bool {
    let b = text.as_bytes();
    let digit = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit);
    let joined_before = match s.checked_sub(1).map(|i| b[i]) {
        Some(b'0'..=b'9') => true,
        Some(b'/' | b'-' | b'.') => digit(s.checked_sub(2)),
        _ => false,
    };
    let joined_after = match b.get(e) {
        Some(b'0'..=b'9') => true,
        Some(b'/' | b'-') => digit(Some(e + 1)),
        _ => false,
    };
    !joined_before && !joined_after
}

/// "3/14" alone: a date unless it is part of a longer number, a dose ("1/2 tablet"), a score or
/// a ratio ("4/5 strength", "2/3 of", "3/10 pain").
/// Whether a score or a setting is what the figures at `s` give: "5/5 strength", "PS 10/5",
/// "PEEP/PS 5/10", and a few words on, "PSV down to 5/5", "CPAP .5% 5/5", "bi-pap of 10/5",
/// "discomfort #4/10".
fn rated_before(text: &str, s: usize) -> bool {
    const RATED: &[&str] = &[
        "pain",
        "score",
        "rated",
        "grade",
        "strength",
        "bp",
        "power",
        "motor",
        "reflexes",
        "apgar",
        "apgars",
        "peep",
        "ps",
        "psv",
        "cpap",
        "bipap",
        "bi-pap",
        "ipap",
        "epap",
        "vent",
        "simv",
        "imv",
        "settings",
        "ie",
        "i:e",
        "sbp",
        "abp",
        "nbp",
        "cuff",
        "map",
        "pap",
        "paps",
        "pas",
        "pa",
        "art",
        "ratio",
        "tv",
        "cp",
        "discomfort",
    ];
    // Words that may stand between the setting and its figures; a figure may too (".5%").
    // Not "on" or "at": "developed CP on 10/23" is a date.
    const BETWEEN: &[&str] = &["to", "of", "down", "up", "back", "now", "changed", "weaned", "increased"];
    for w in text[..s].rsplit([' ', '\n', '(', '/', '#', ',', ':']).filter(|w| !w.is_empty()).take(4) {
        if one_of(w, RATED) {
            return true;
        }
        if !(one_of(w, BETWEEN) || w.bytes().any(|b| b.is_ascii_digit())) {
            return false;
        }
    }
    false
}

fn bare_month_day(text: &str, (s, e): (usize, usize)) -> bool {
    let rated = rated_before(text, s);
    // Halves, thirds, quarters and eighths are amounts ("D5 1/2 NS", "3/4 of the tray").
    let fraction = text[s..e].split_once('/').is_some_and(|(n, d)| {
        n.parse::<u8>().ok().zip(d.parse::<u8>().ok()).is_some_and(|(n, d)| [2, 3, 4, 8].contains(&d) && n < d)
    });
    if rated || fraction {
        return false;
    }
    let rest = text[e..].trim_start();
    // A word right after is a count of something ("3/10 patients", "2/3 of"), unless it is one
    // that follows dates ("on 4/22 at noon", "4/22 and 4/29").
    let next: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
    let after_dates = [
        "at", "and", "or", "to", "through", "thru", "until", "till", "when", "was", "were", "is", "he", "she", "they",
        "we", "i", "the", "in", "for", "with", "by", "am", "pm",
    ];
    // Counts follow as "of" or a measure ("2/3 of", "5/5 strength", "3/10 pain") or a plural
    // ("3/10 patients"); any other word is the start of what happened on the day ("7/22 FOUND BY
    // HUSBAND", "10/13 CARDIAC CATH").
    let counted = [
        "of", "out", "strength", "power", "motor", "pain", "scale", "score", "ratio", "split", "dilution", "times",
        "x", "tab", "tablet", "cap", "capsule", "dose", "pill", "cup", "teaspoon", "tsp", "tbsp", "inch", "mile",
        "day", "week", "hour", "minute", "point", "pt", "person", "patient", "time", "cp", "str",
    ];
    let plural = next.len() > 3 && next.ends_with('s') && !next.ends_with("ss");
    let ratio_word =
        !next.is_empty() && !after_dates.contains(&next.as_str()) && (counted.contains(&next.as_str()) || plural);
    not_in_a_longer_number(text, (s, e)) && !followed_by_unit(text, e) && !ratio_word && !text[e..].starts_with('%')
}

/// "the 11th" is a day when no noun follows ("the 11th rib", "the 5th percentile").
fn ordinal_day(text: &str, (_, e): (usize, usize)) -> bool {
    let rest = text[e..].trim_start_matches(' ');
    !rest.starts_with(|c: char| c.is_alphanumeric()) || rest.starts_with("of ")
}

/// A long number that identifies rather than measures: not followed by a unit, not money, not
/// a decimal quantity, not a range of years.
fn identifying_number(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    let digit_count = digits(v).count();
    if digit_count < 5 || followed_by_unit(text, e) {
        return false;
    }
    let before = text[..s].trim_end();
    if before.ends_with(['$', '€', '£', '¥']) || text[e..].starts_with('%') {
        return false;
    }
    let dots = v.matches('.').count();
    if dots == 1 && !v.contains([' ', '-', '/']) {
        return false;
    }
    let parts: Vec<&str> = v.split(['-', '/', ' ']).collect();
    // Two short numbers are a reading or a range ("154/65", "300-400", "2019-2021"), not a code.
    if parts.len() == 2 && parts.iter().all(|p| p.len() <= 4) {
        return false;
    }
    // Judged whole: after a refused match the scan looks again inside it ("31/49/88/26" of
    // "7.31/49/88/26").
    if measured_readings(&text[run_start(text, s)..e]) {
        return false;
    }
    // Codes that name a product, a procedure or a diagnosis, not a person.
    let cue = before.rsplit([' ', '\n', '(', ':', '#']).find(|w| !w.is_empty()).unwrap_or_default();
    !["ndc", "cpt", "hcpcs", "icd", "icd-10", "icd-9", "loinc", "snomed", "rxnorm", "rxcui", "lot", "batch", "upc"]
        .iter()
        .any(|c| cue.eq_ignore_ascii_case(c))
}

/// Where the run of digits and separators that `at` is inside of begins.
fn run_start(text: &str, mut at: usize) -> usize {
    let b = text.as_bytes();
    while at > 0 {
        let joined = at >= 2 && matches!(b[at - 1], b'.' | b'/' | b'-') && b[at - 2].is_ascii_digit();
        if b[at - 1].is_ascii_digit() {
            at -= 1;
        } else if joined {
            at -= 2;
        } else {
            break;
        }
    }
    at
}

/// Readings charted together, as clinical notes write vital signs, blood gases and pressures:
/// "120-130/70", "110-120/40-50", "7.44/55/57/39/10", "CO/CI/SVR 5.5/2.5/450", "7.38-33-169".
/// Every part is a number of at most three digits (a decimal, or an ascending range); and a
/// part shows it is measured: a decimal, a range, or a value of 100 or more, which no day,
/// month or two-digit year is. Phones, dates and codes have a part of four digits or more
/// ("201/324/1423", "3/14/1962"), or only small parts ("6/30-7/2", "55-45-51").
fn measured_readings(v: &str) -> bool {
    fn value(p: &str) -> Option<f32> {
        let (int, frac) = p.split_once('.').unwrap_or((p, "0"));
        let short = |d: &str, max: usize| !d.is_empty() && d.len() <= max && d.bytes().all(|b| b.is_ascii_digit());
        (short(int, 3) && short(frac, 3)).then(|| p.parse().ok()).flatten()
    }
    if !v.contains('/') {
        // "7.38-33-169": readings joined by dashes, one of them a decimal.
        let parts: Option<Vec<f32>> = v.split('-').map(value).collect();
        return parts.is_some_and(|p| p.len() >= 3) && v.contains('.');
    }
    let mut measured = false;
    for part in v.split('/') {
        // Between slashes, a dash joins a range.
        let values: Option<Vec<f32>> = part.split('-').map(value).collect();
        match values.as_deref() {
            Some(&[x]) => measured |= x >= 100.0 || part.contains('.'),
            Some(&[lo, hi]) if lo < hi => measured = true,
            _ => return false,
        }
    }
    measured
}

/// "March 45" is not a date.
fn day_in_range(text: &str, (s, e): (usize, usize)) -> bool {
    let v = &text[s..e];
    let numbers: Vec<u32> =
        v.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
    numbers.iter().all(|&n| (1..=31).contains(&n) || (1000..=2999).contains(&n))
}

/// Day and month without a year, after a cue word: "seen on 3/14". "1/2 tablet" is a dose.
fn month_day(text: &str, (s, e): (usize, usize)) -> bool {
    // "3/14/1962" is a full date, for the full-date rule.
    let rest = &text.as_bytes()[e..];
    if rest.len() >= 2 && matches!(rest[0], b'/' | b'-') && rest[1].is_ascii_digit() {
        return false;
    }
    let mut parts = text[s..e].split('/').filter_map(|p| p.parse::<u32>().ok());
    let (Some(m), Some(d)) = (parts.next(), parts.next()) else { return false };
    (1..=12).contains(&m) && (1..=31).contains(&d) && !followed_by_unit(text, e) && !rated_before(text, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PhiType, &str)> {
        let mut out = Vec::new();
        Patterns::new().scan(text, &mut out);
        out.into_iter().map(|s| (s.phi_type, &text[s.start..s.end])).collect()
    }

    #[test]
    fn contact_details() {
        assert_eq!(
            found("Call (617) 555-0199 or 617.555.0123."),
            vec![(PhiType::Phone, "(617) 555-0199"), (PhiType::Phone, "617.555.0123")]
        );
        assert_eq!(found("Fax: 617-555-0142"), vec![(PhiType::Fax, "617-555-0142")]);
        assert_eq!(found("mail j.doe+1@mail.example.org now"), vec![(PhiType::Email, "j.doe+1@mail.example.org")]);
        assert_eq!(
            found("see https://portal.example.com/p/123."),
            vec![(PhiType::Url, "https://portal.example.com/p/123")]
        );
        assert_eq!(
            found("from 10.0.12.7 and fe80::1ff:fe23:4567:890a"),
            vec![(PhiType::Ip, "10.0.12.7"), (PhiType::Ip, "fe80::1ff:fe23:4567:890a")]
        );
        assert_eq!(
            found("photo https://x.example/img/face.JPG?w=2"),
            vec![(PhiType::Photo, "https://x.example/img/face.JPG?w=2")]
        );
    }

    #[test]
    fn numbers_with_check_digits() {
        assert_eq!(found("SSN 123-45-6789"), vec![(PhiType::Ssn, "123-45-6789")]);
        let never_issued = found("000-12-3456 and 900-12-3456");
        assert!(
            never_issued.iter().all(|(t, _)| *t == PhiType::Id),
            "never-issued SSNs are no SSNs, though still numbers to replace: {never_issued:?}"
        );
        assert_eq!(found("card 4111 1111 1111 1111"), vec![(PhiType::Account, "4111 1111 1111 1111")]);
        assert_eq!(found("card 4111 1111 1111 1112"), vec![(PhiType::Id, "4111 1111 1111 1112")], "bad Luhn: no card");
        assert_eq!(found("IBAN GB82 WEST 1234 5698 7654 32"), vec![(PhiType::Account, "GB82 WEST 1234 5698 7654 32")]);
        assert_eq!(found("DEA AB1234563"), vec![(PhiType::License, "AB1234563")]);
        assert_eq!(found("NPI: 1234567893"), vec![(PhiType::License, "1234567893")]);
        assert_eq!(found("car 1HGCM82633A004352"), vec![(PhiType::Vehicle, "1HGCM82633A004352")]);
        assert_eq!(found("MBI 1EG4-TE5-MK73"), vec![(PhiType::HealthPlan, "1EG4-TE5-MK73")]);
    }

    #[test]
    fn readings_charted_together_are_not_identifiers() {
        for reading in [
            "bp 95-130/60-70 on neo",
            "pressures 140-150/60's overnight",
            "gas 7.31/49/88/26/-1 on the vent",
            "hemodynamics 6.1/2.8/616 this am",
            "settings 30/700/10 AC",
            "PA 54/18-70/21 after blood",
            "ABG 7.45-47-99-34-7 today",
        ] {
            assert_eq!(found(reading), vec![], "{reading}");
        }
        // Still numbers to replace: a part of four digits, or only day- and month-sized parts.
        assert_eq!(found("wife (201/324/1423) called"), vec![(PhiType::Id, "201/324/1423")]);
        assert_eq!(found("on the vent 6/30-7/2 then"), vec![(PhiType::Id, "6/30-7/2")]);
        assert_eq!(found("code 55-45-51-7 given"), vec![(PhiType::Id, "55-45-51-7")]);
    }

    #[test]
    fn cued_identifiers() {
        assert_eq!(found("MRN: 00482913"), vec![(PhiType::Mrn, "00482913")]);
        assert_eq!(found("MRN-4471210"), vec![(PhiType::Mrn, "4471210")]);
        assert_eq!(found("Member ID XJH449210331"), vec![(PhiType::HealthPlan, "XJH449210331")]);
        assert_eq!(found("acct # 99812-441"), vec![(PhiType::Account, "99812-441")]);
        assert_eq!(found("pacemaker serial PJN-4482211"), vec![(PhiType::Device, "PJN-4482211")]);
        assert_eq!(found("license plate 7ABC123"), vec![(PhiType::Vehicle, "7ABC123")]);
        assert_eq!(found("driver's license D1234-5678"), vec![(PhiType::License, "D1234-5678")]);
        assert_eq!(found("fingerprint template FP-88213 on file"), vec![(PhiType::Biometric, "FP-88213")]);
        assert_eq!(found("retinal scan on file"), vec![(PhiType::Biometric, "retinal scan")]);
    }

    #[test]
    fn nursing_note_dates_and_hospitals() {
        use PhiType::{Date, Location};
        assert_eq!(found("HPI: 7/22 FOUND BY HUSBAND ON FLOOR"), vec![(Date, "7/22")]);
        assert_eq!(found("MI, CABG 1/78 c/b sternal wound infection"), vec![(Date, "1/78")]);
        assert_eq!(found("pt's birthday is tomorrow, may 16, 2015. plan:"), vec![(Date, "may 16, 2015")]);
        assert_eq!(found("drawn from A-line on the 11th. One set"), vec![(Date, "11th")]);
        assert_eq!(found("REFERRED TO GH. ARRIVED 2130"), vec![(Location, "GH")]);
        assert_eq!(found("was tranfered to GH for further care"), vec![(Location, "GH")]);
        assert_eq!(found("will go to Sacred Heart Memorial tomorrow"), vec![(Location, "Sacred Heart Memorial")]);
        assert_eq!(found("PT SENT TO ED AT GH. PT WAS SOMEWHAT"), vec![(Location, "GH")]);
        assert_eq!(found("PLAN: TRANSFER TO QUARTERMAIN 2 IN AM."), vec![(Location, "QUARTERMAIN")]);
        assert_eq!(found("male transferred to ccu from kingsley 3 for a swan"), vec![(Location, "kingsley")]);
        assert_eq!(found("she was sent to gh for eval"), vec![(Location, "gh")]);
        assert_eq!(found("CHF. 9/7-ADMITTED TO CCU. 3/16-> CABG"), vec![(Date, "9/7"), (Date, "3/16")]);
        assert_eq!(found("TO GO TO ST. MARY ON TUESDAY"), vec![(Location, "ST. MARY")]);
        assert_eq!(found("has been excepted at Holy Cross, awaiting"), vec![(Location, "Holy Cross")]);
        assert_eq!(found("SCREENED BY BALTIMORE REHAB TODAY"), vec![(Location, "BALTIMORE")]);
        assert_eq!(found("developed chest pain on 10/23, brought in"), vec![(Date, "10/23")]);
        assert_eq!(found("wire to a/c 00123456 today"), vec![(PhiType::Account, "00123456")]);
        for text in [
            "vent changed to CPAP .5% 5/5 overnight",
            "PSV weaned down to 5/5 this am",
            "c/o back discomfort #4/10, medicated",
            "SETTINGS 40%, PEEP/PS 5/10, sats ok",
            "on A/C 600x12 with PEEP 5",
            "SR TO ST WITH PVCS",
            "NS AT KVO, DOSE GIVEN AT MIDNOC",
            "MAE, 5/5 strength in all extremities",
            "weaned to PS 10/5 overnight",
            "D5 1/2 NS at 75cc/hr",
            "3/10 patients responded",
            "transferred to CCU. Sent to OR at 0800",
            "fracture of the 11th rib",
            "PT AT REST, AT RISK FOR FALLS",
            "transfer to floor 5 today; back to MICU 6 if worse",
            "sent to ct for a scan, went to bed at 2200, transferred to micu",
            "moved from bed 3 to chair; levo from 10 to 5; to neo 2 mcg",
            "discharged to CARDIAC REHAB",
            "no further episodes; referred him to the clinic",
            "Remote monitor at IP 10.0.0.1",
        ] {
            assert!(found(text).iter().all(|(t, _)| !matches!(t, Date | Location)), "{text:?} -> {:?}", found(text));
        }
        assert!(found("CARE PLAN REVIEWED WITH RN AND MD").is_empty());
    }

    #[test]
    fn dates_ages_and_places() {
        assert_eq!(found("DOB 03/14/1962"), vec![(PhiType::Date, "03/14/1962")]);
        assert_eq!(
            found("on March 14th, 2021 and 2021-03-14"),
            vec![(PhiType::Date, "March 14th, 2021"), (PhiType::Date, "2021-03-14")]
        );
        assert_eq!(found("admitted 14 Jan 2024"), vec![(PhiType::Date, "14 Jan 2024")]);
        assert_eq!(found("seen on 3/14 for pain"), vec![(PhiType::Date, "3/14")]);
        assert_eq!(found("a 92-year-old man, age 95"), vec![(PhiType::Age, "92"), (PhiType::Age, "95")]);
        assert!(found("a 45-year-old man").is_empty());
        assert_eq!(
            found("12 Elm Street, Apt 4B, Boston, MA 02115"),
            vec![(PhiType::Location, "12 Elm Street, Apt 4B"), (PhiType::Location, "Boston"), (PhiType::Zip, "02115")]
        );
    }

    #[test]
    fn identifiers_in_the_shapes_notes_write_them() {
        assert_eq!(found("SSN 412 55 9083 on file"), vec![(PhiType::Ssn, "412 55 9083")]);
        assert_eq!(found("MR: 7738410"), vec![(PhiType::Mrn, "7738410")]);
        assert_eq!(found("page me at pager 4-1187"), vec![(PhiType::Phone, "4-1187")]);
        assert_eq!(found("last colonoscopy 06/2019"), vec![(PhiType::Date, "06/2019")]);
        assert_eq!(found("labs drawn 4/22, repeat in a week"), vec![(PhiType::Date, "4/22")]);
        assert_eq!(found("born on the fourth of July"), vec![(PhiType::Date, "the fourth of July")]);
        assert_eq!(
            found("Study subject 20917 and claim 77120-44"),
            vec![(PhiType::Id, "20917"), (PhiType::Account, "77120-44")]
        );
        assert_eq!(found("ring 0161 496 0733 after six"), vec![(PhiType::Phone, "0161 496 0733")]);
        assert_eq!(found("lives at 8 Juniper Crossing"), vec![(PhiType::Location, "8 Juniper Crossing")]);
        assert_eq!(found("moved to 14 rue des Lilas"), vec![(PhiType::Location, "14 rue des Lilas")]);
        assert_eq!(found("wohnt Lindenstraße 22 in"), vec![(PhiType::Location, "Lindenstraße 22")]);
        assert_eq!(found("en Calle de Alcalá 125"), vec![(PhiType::Location, "Calle de Alcalá 125")]);
        assert_eq!(found("postcode SW1A 2AA and K1A 0B1"), vec![(PhiType::Zip, "SW1A 2AA"), (PhiType::Zip, "K1A 0B1")]);
        assert_eq!(found("Suite 410"), vec![(PhiType::Location, "Suite 410")]);
        // Spanish and Mexican unit lines: floor, interior, building, flat, door.
        assert_eq!(found("Pippapad 3 2178 LK Nieuwkoop"), vec![(PhiType::Zip, "2178 LK")]);
        assert!(found("Victoriasingel 84 9869NH Achlum").contains(&(PhiType::Zip, "9869NH")));
        assert_eq!(found("My zip code is 1285 PL"), vec![(PhiType::Zip, "1285 PL")]);
        for dose in ["Give 1000 MG Tylenol", "vitamin D 5000IU daily", "take 2 1000 mg tablets", "in 2000 AD Rome"] {
            assert!(found(dose).iter().all(|(t, _)| *t != PhiType::Zip), "{dose}: {:?}", found(dose));
        }
        for unit in ["Edif. 465", "Piso 6", "Interior 893", "Depto. 12B", "Piano 8", "apt. 153", "suite 046"] {
            assert_eq!(found(unit), vec![(PhiType::Location, unit)]);
        }
        assert_eq!(found("Suite 410 Please call"), vec![(PhiType::Location, "Suite 410")]);
        assert_eq!(
            found("at 2751 Tolland Drive Suite 831 Wexcombe, KS"),
            vec![(PhiType::Location, "2751 Tolland Drive Suite 831"), (PhiType::Location, "Wexcombe")]
        );
        assert_eq!(
            found("Apt. 026, Harrowgate Falls"),
            vec![(PhiType::Location, "Apt. 026"), (PhiType::Location, "Harrowgate Falls")]
        );
        assert_eq!(
            found("send it to PSC 6804, Box 0227 APO AE 51245"),
            vec![(PhiType::Location, "PSC 6804, Box 0227"), (PhiType::Location, "APO AE 51245")]
        );
        assert_eq!(found("Dictated by: FILBERT BRIGHT, M.D."), vec![(PhiType::Name, "FILBERT BRIGHT")]);
        assert_eq!(found("EARLIER -> B. CLIFFORD MD AWARE"), vec![(PhiType::Name, "B. CLIFFORD")]);
        assert_eq!(found("WHEEZES. JON DEVAUX RRT"), vec![(PhiType::Name, "JON DEVAUX")]);
        assert_eq!(found("XGT:holmes\nDD: 04/07/69"), vec![(PhiType::Id, "XGT:holmes"), (PhiType::Date, "04/07/69")]);
        assert_eq!(found("s/p CABG x 4 in 3/80. Seen"), vec![(PhiType::Date, "3/80")]);
        assert!(found("effective in 3/10 patients").is_empty());
        assert_eq!(found("admitted to St. Luke's Hospital"), vec![(PhiType::Location, "St. Luke's Hospital")]);
        assert!(found("Follow up in Cardiology Clinic").is_empty());
        assert_eq!(found("worked at Kavango Resources PLC"), vec![(PhiType::Location, "Kavango Resources PLC")]);
        // In capitals too; not "LTD" or "LIMITED" alone, which notes use for long-term
        // disability and a limited range.
        assert_eq!(found("I work for SANKYO FRONTIER CO.LTD."), vec![(PhiType::Location, "SANKYO FRONTIER CO.LTD")]);
        assert_eq!(found("The CROOZInc. office"), vec![(PhiType::Location, "CROOZInc")]);
        assert!(found("Zinc 220 mg daily; zinc oxide").is_empty());
        assert_eq!(
            found("SILVER RIDGE EMERGENCY DEPT VISIT"),
            vec![(PhiType::Location, "SILVER RIDGE EMERGENCY DEPT")]
        );
        assert!(found("ADULT EMERGENCY DEPT VISIT").is_empty());
        assert_eq!(
            found("FILBERT BRIGHT, M.D.    FB59 "),
            vec![(PhiType::Name, "FILBERT BRIGHT"), (PhiType::Id, "FB59")]
        );
        assert_eq!(found("at HAGIHARA INDUSTRIES INC. since"), vec![(PhiType::Location, "HAGIHARA INDUSTRIES INC")]);
        assert!(found("OFF WORK ON LTD. RANGE OF MOTION LIMITED.").is_empty());
    }

    #[test]
    fn hard_negatives_stay_clean() {
        for text in [
            "BP 120/80, HR 72, take 1/2 tablet twice daily",
            "Norco 5/325 mg every 6 hours; INR 2.3; K 4.1",
            "acetaminophen 500 mg q6h, max 4000 mg/day",
            "WBC 7.2, Hgb 13.1, Plt 250, glucose 104 mg/dL",
            "walked 300-400 feet; pain 7/10; 3/4 of the dose",
            "version 1.2.3.4 of the model",
            "Order 5 tablets, refill x2, in 2019 the guideline changed",
            "platelets 150000 cells, 25000 units of heparin, weight 10250 g, cost $12500",
            "between 2019-2021 the trial ran; 0.00025 mg/kg; 12345.5 steps",
            "power 4/5 in the left arm, 2/3 of patients, Apgar 8/9",
            "CPT 99213, NDC 0071-0155-23, ICD-10 E11.9, lot 3X45B2",
        ] {
            assert!(found(text).is_empty(), "{text:?} -> {:?}", found(text));
        }
    }
}
