//! Hashed n-gram features: word unigrams and bigrams plus character 3- and 4-grams of each
//! word, counted into a fixed number of buckets and L2-normalised.
//!
//! Numbers become their order of magnitude (`500` → `#3`), so "500 mg" and "650 mg" look alike
//! and "5000 mg" does not. A trajectory's steps are rendered as `key=value` words first.
//!
//! Tier 2 runs after Tier 1 and reads its findings (`t1_medication_overdose`, or `t1_clean`):
//! the classifier learns what the rules leave open instead of re-learning the rules, so a
//! dose the rules found safe is not second-guessed from its digits.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use serde_json::Value;

use crate::model::Trace;

/// A sparse feature vector: (bucket, weight), buckets ascending and distinct.
pub type Features = Vec<(u32, f32)>;

/// The text of a trace the classifier reads, with the codes of Tier 1's findings.
pub fn trace_text(trace: &Trace, tier1: &[&str]) -> String {
    let ai = &trace.ai_processing;
    let mut text = String::with_capacity(ai.input.len() + ai.output.len() + 64);
    if tier1.is_empty() {
        text.push_str("t1_clean ");
    }
    for code in tier1 {
        text.push_str("t1_");
        text.push_str(code);
        text.push(' ');
    }
    // Input and output words are kept apart: "sertraline" asked about is not "sertraline" advised.
    for w in words(&ai.input) {
        text.push_str("in_");
        text.push_str(&w);
        text.push(' ');
    }
    text.push_str(&ai.output);
    for step in &trace.steps {
        text.push_str(" step ");
        text.push_str(&step.kind);
        for value in [&step.input, &step.output].into_iter().flatten() {
            render(value, "", &mut text);
        }
        if let Some(r) = step.reward {
            text.push_str(if r < 0.0 { " reward=neg" } else { " reward=pos" });
            text.push_str(&format!(" reward_mag={}", magnitude(r.abs())));
        }
    }
    text
}

fn render(value: &Value, key: &str, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                render(v, k, out);
            }
        }
        Value::Array(items) => items.iter().take(32).for_each(|v| render(v, key, out)),
        Value::Number(n) => {
            out.push_str(&format!(" {key}={}", n.as_f64().map(|x| magnitude(x.abs())).unwrap_or_default()));
        }
        Value::String(s) => out.push_str(&format!(" {key}={}", s.to_lowercase().replace(' ', "_"))),
        Value::Bool(b) => out.push_str(&format!(" {key}={b}")),
        Value::Null => out.push_str(&format!(" {key}=none")),
    }
}

/// `#3` for 100..999: numbers as orders of magnitude.
fn magnitude(x: f64) -> String {
    if x < 1.0 {
        "#0".into()
    } else {
        format!("#{}", x.log10().floor() as i64 + 1)
    }
}

/// Lower-case words, numbers replaced by their magnitude.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_' || c == '=' || c == '#' || c == '\''))
        .map(|w| w.trim_matches(|c| c == '.' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let number = w.replace(',', "");
            match number.parse::<f64>() {
                Ok(x) if x.is_finite() => magnitude(x.abs()),
                _ => w.to_lowercase(),
            }
        })
}

fn bucket(parts: &[&str], salt: u8, buckets: u32) -> u32 {
    let mut h = FxHasher::default();
    h.write_u8(salt);
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    (h.finish() % buckets as u64) as u32
}

/// The feature vector of `text`.
pub fn featurize(text: &str, buckets: u32) -> Features {
    let mut counts: Vec<(u32, f32)> = Vec::with_capacity(text.len());
    let words: Vec<String> = words(text).collect();
    for (i, w) in words.iter().enumerate() {
        counts.push((bucket(&[w], 1, buckets), 1.0));
        if let Some(next) = words.get(i + 1) {
            counts.push((bucket(&[w, next], 2, buckets), 1.0));
        }
        let padded: Vec<char> = format!("<{w}>").chars().collect();
        for n in [3, 4] {
            for gram in padded.windows(n) {
                let s: String = gram.iter().collect();
                counts.push((bucket(&[&s], 3, buckets), 0.5));
            }
        }
    }
    counts.sort_unstable_by_key(|(b, _)| *b);
    let mut features: Features = Vec::with_capacity(counts.len());
    for (b, w) in counts {
        match features.last_mut() {
            Some((last, acc)) if *last == b => *acc += w,
            _ => features.push((b, w)),
        }
    }
    // Sub-linear counts, then unit length: long answers do not outweigh short ones.
    for (_, w) in features.iter_mut() {
        *w = 1.0 + w.ln();
    }
    let norm = features.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        features.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_sparse_sorted_and_unit_length() {
        let f = featurize("Take 500 mg every 6 hours. Take 650 mg!", 4096);
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        let norm: f32 = f.iter().map(|(_, w)| w * w).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(featurize("500 mg", 4096), featurize("650 mg", 4096), "same magnitude, same features");
        assert_ne!(featurize("500 mg", 4096), featurize("5000 mg", 4096));
    }

    #[test]
    fn trajectories_become_words() {
        let t = crate::testing::trace_with_steps(
            &[],
            vec![(
                serde_json::json!({"symbol": "GME", "side": "buy", "quantity": 5000, "stop_loss": null}),
                serde_json::json!({}),
                Some(-20.0),
            )],
        );
        let text = trace_text(&t, &["restricted_symbols"]);
        assert!(
            text.contains("symbol=gme") && text.contains("quantity=#4") && text.contains("stop_loss=none"),
            "{text}"
        );
        assert!(text.contains("reward=neg") && text.starts_with("t1_restricted_symbols "), "{text}");
    }
}
