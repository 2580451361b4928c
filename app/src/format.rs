//! Numbers and messages for people: money, shares, durations and server errors as the pages
//! print them.

/// A server function's error as a person reads it, without the framework's prefix.
pub fn error(e: &leptos::prelude::ServerFnError) -> String {
    let text = e.to_string();
    text.strip_prefix("error running server function: ").unwrap_or(&text).to_string()
}

/// Micro-dollars as dollars: cents when there are any, else the fraction of a cent exactly.
pub fn usd(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let micro = micro.unsigned_abs();
    if micro == 0 {
        return "$0".into();
    }
    if micro < 10_000 {
        let text = format!("{:.6}", micro as f64 / 1e6);
        return format!("{sign}${}", text.trim_end_matches('0'));
    }
    let cents = (micro + 5_000) / 10_000;
    format!("{sign}${}.{:02}", count((cents / 100) as i64), cents % 100)
}

/// A share from 0 to 1 as a percentage.
pub fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

/// Milliseconds for people: microseconds when under one.
pub fn duration(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms < 10_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A count with thousands separators.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(usd(0), "$0");
        assert_eq!(usd(285), "$0.000285");
        assert_eq!(usd(10_000), "$0.01");
        assert_eq!(usd(1_234_567_890), "$1,234.57");
        assert_eq!(usd(-2_500_000), "-$2.50");
    }

    #[test]
    fn counts_and_durations() {
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(999), "999");
        assert_eq!(duration(0.25), "250 µs");
        assert_eq!(duration(12.34), "12.3 ms");
        assert_eq!(percent(0.756), "75.6%");
    }
}
