//! Times in requests.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};

use crate::FieldError;

/// A time as a request gives it: an RFC 3339 timestamp, or a date (`2026-11-26`, its midnight
/// UTC). Years are 1 to 9999, so that a range computed from it (a day later, a month
/// earlier) stays within what the clock can represent.
pub fn parse(field: &str, value: &str) -> Result<DateTime<Utc>, FieldError> {
    read(field, value).map(|(t, _)| t)
}

/// The end of a range: a date alone includes its whole day ("to 2026-11-26" ends at the next
/// midnight); a timestamp is taken as it is.
pub fn parse_end(field: &str, value: &str) -> Result<DateTime<Utc>, FieldError> {
    let (t, date_only) = read(field, value)?;
    Ok(if date_only { t + chrono::Duration::days(1) } else { t })
}

/// The time, and whether it was a date alone.
fn read(field: &str, value: &str) -> Result<(DateTime<Utc>, bool), FieldError> {
    let bad = || {
        FieldError::new(
            field,
            "must be an RFC 3339 timestamp such as 2026-11-26T09:30:00Z, or a date such as 2026-11-26",
        )
    };
    let value = value.trim();
    let (parsed, date_only) = match DateTime::parse_from_rfc3339(value) {
        Ok(t) => (t.with_timezone(&Utc), false),
        Err(_) => {
            let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
            (day.and_time(NaiveTime::MIN).and_utc(), true)
        }
    };
    if !(1..=9999).contains(&parsed.year()) || value.starts_with(['+', '-']) {
        return Err(FieldError::new(field, "must be a time between the years 1 and 9999"));
    }
    Ok((parsed, date_only))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_dates_within_the_clock() {
        assert_eq!(parse("from", "2026-11-26").unwrap().to_rfc3339(), "2026-11-26T00:00:00+00:00");
        assert_eq!(parse("from", "2026-11-26T09:30:00+02:00").unwrap().to_rfc3339(), "2026-11-26T07:30:00+00:00");
        assert_eq!(parse_end("to", "2026-11-26").unwrap().to_rfc3339(), "2026-11-27T00:00:00+00:00");
        assert_eq!(parse_end("to", "2026-11-26T09:30:00Z").unwrap().to_rfc3339(), "2026-11-26T09:30:00+00:00");
        for far in ["+262143-12-31", "-262144-01-01", "+10000-01-01", "0000-01-01"] {
            assert_eq!(parse_end("to", far).unwrap_err().field, "to", "{far}");
        }
        assert_eq!(parse("from", "yesterday").unwrap_err().field, "from");
        assert!(parse_end("to", "9999-12-31").is_ok(), "the last day still has a next midnight");
    }
}
