//! Reading the dates the recognizers find, to give equal dates equal pseudonyms and to shift
//! them when a policy asks for it.

use chrono::{Datelike, Duration, NaiveDate};

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as written: the parts it has, and how it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub year: Option<i32>,
    pub month: u32,
    pub day: Option<u32>,
    style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// 03/14/1962, 3/14/62, 03-14-1962, 3/14
    MonthFirst { sep: char, two_digit_year: bool },
    /// 1962-03-14
    Iso,
    /// March 14, 1962 / 14 March 1962 / March 1962
    Words,
}

/// Reads a date in the forms the recognizers accept; `None` for anything else
/// ("last Christmas").
pub fn parse(s: &str) -> Option<Written> {
    let s = s.trim();
    let numbers: Vec<&str> = s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).collect();
    let month_word = MONTHS.iter().position(|m| {
        s.split(|c: char| !c.is_ascii_alphabetic()).any(|w| w.len() >= 3 && w.to_ascii_lowercase().starts_with(m))
    });
    if let Some(m) = month_word {
        let month = m as u32 + 1;
        let mut day = None;
        let mut year = None;
        for n in &numbers {
            let v: i32 = n.parse().ok()?;
            if n.len() == 4 {
                year = Some(v);
            } else if (1..=31).contains(&v) {
                day = Some(v as u32);
            }
        }
        return Some(Written { year, month, day, style: Style::Words });
    }
    let sep = s.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let n: Vec<i32> = numbers.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match n.as_slice() {
        [y, m, d] if numbers[0].len() == 4 => {
            Some(Written { year: Some(*y), month: *m as u32, day: Some(*d as u32), style: Style::Iso })
        }
        [a, b, y] => {
            let (month, day) = if *a > 12 { (*b, *a) } else { (*a, *b) };
            let two = numbers[2].len() == 2;
            let year = if two {
                if *y > 30 {
                    1900 + y
                } else {
                    2000 + y
                }
            } else {
                *y
            };
            Some(Written {
                year: Some(year),
                month: month as u32,
                day: Some(day as u32),
                style: Style::MonthFirst { sep, two_digit_year: two },
            })
        }
        [m, d] => Some(Written {
            year: None,
            month: *m as u32,
            day: Some(*d as u32),
            style: Style::MonthFirst { sep, two_digit_year: false },
        }),
        _ => None,
    }
    .filter(|w| (1..=12).contains(&w.month) && w.day.is_none_or(|d| (1..=31).contains(&d)))
}

impl Written {
    /// The same calendar day however it was written: "1962-03-14", or "--03-14" without a year.
    pub fn canonical(&self) -> String {
        match (self.year, self.day) {
            (Some(y), Some(d)) => format!("{y:04}-{:02}-{d:02}", self.month),
            (Some(y), None) => format!("{y:04}-{:02}", self.month),
            (None, Some(d)) => format!("--{:02}-{d:02}", self.month),
            (None, None) => format!("--{:02}", self.month),
        }
    }

    /// The date moved by `days`, written the way it came. Dates without a day or a year are
    /// shifted within a leap year, which keeps their intervals.
    pub fn shifted(&self, days: i64) -> Option<String> {
        let year = self.year.unwrap_or(2000);
        let date = NaiveDate::from_ymd_opt(year, self.month, self.day.unwrap_or(15))?;
        let moved = date.checked_add_signed(Duration::days(days))?;
        let (y, m, d) = (moved.year(), moved.month(), moved.day());
        Some(match self.style {
            Style::Iso => format!("{y:04}-{m:02}-{d:02}"),
            Style::MonthFirst { sep, two_digit_year } => match self.year {
                Some(_) if two_digit_year => format!("{m}{sep}{d}{sep}{:02}", y % 100),
                Some(_) => format!("{m:02}{sep}{d:02}{sep}{y}"),
                None => format!("{m}{sep}{d}"),
            },
            Style::Words => {
                let name = MONTH_NAMES[m as usize - 1];
                match (self.year, self.day) {
                    (Some(_), Some(_)) => format!("{name} {d}, {y}"),
                    (Some(_), None) => format!("{name} {y}"),
                    (None, _) => format!("{name} {d}"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_days_read_equal() {
        let same = ["03/14/1962", "3/14/62", "1962-03-14", "March 14, 1962", "14 Mar 1962", "Mar. 14th, 1962"];
        for s in same {
            assert_eq!(parse(s).map(|d| d.canonical()), Some("1962-03-14".to_string()), "{s}");
        }
        assert_eq!(parse("3/14").unwrap().canonical(), "--03-14");
        assert_eq!(parse("March 2019").unwrap().canonical(), "2019-03");
        assert_eq!(parse("last Christmas"), None);
        assert_eq!(parse("13/45/2020"), None);
    }

    #[test]
    fn shifting_keeps_the_style_and_the_interval() {
        assert_eq!(parse("03/14/1962").unwrap().shifted(10).unwrap(), "03/24/1962");
        assert_eq!(parse("1962-03-14").unwrap().shifted(-14).unwrap(), "1962-02-28");
        assert_eq!(parse("March 14, 1962").unwrap().shifted(31).unwrap(), "April 14, 1962");
        assert_eq!(parse("3/14").unwrap().shifted(1).unwrap(), "3/15");
    }
}
