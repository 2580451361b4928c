//! What a judge call costs: the provider's reported token usage times a price table, in
//! integer micro-dollars.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::Usage;

/// Prices of one model in micro-dollars per million tokens ($2.50 per million = 2_500_000).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPrice {
    pub input: i64,
    pub output: i64,
    /// Prompt tokens read from the provider's cache.
    pub cached_input: i64,
    /// Prompt tokens written to the cache (Anthropic).
    pub cache_write: i64,
}

/// Published list prices, per million tokens, of common judge models. The configuration adds
/// to and overrides these; a model in neither costs nothing (a local server).
const DEFAULTS: &[(&str, ModelPrice)] = &[
    ("gpt-4o-mini", ModelPrice { input: 150_000, output: 600_000, cached_input: 75_000, cache_write: 0 }),
    ("gpt-4o", ModelPrice { input: 2_500_000, output: 10_000_000, cached_input: 1_250_000, cache_write: 0 }),
    ("gpt-4.1-nano", ModelPrice { input: 100_000, output: 400_000, cached_input: 25_000, cache_write: 0 }),
    ("gpt-4.1-mini", ModelPrice { input: 400_000, output: 1_600_000, cached_input: 100_000, cache_write: 0 }),
    ("gpt-4.1", ModelPrice { input: 2_000_000, output: 8_000_000, cached_input: 500_000, cache_write: 0 }),
    ("o4-mini", ModelPrice { input: 1_100_000, output: 4_400_000, cached_input: 275_000, cache_write: 0 }),
    (
        "claude-3-5-haiku",
        ModelPrice { input: 800_000, output: 4_000_000, cached_input: 80_000, cache_write: 1_000_000 },
    ),
    (
        "claude-haiku-4",
        ModelPrice { input: 1_000_000, output: 5_000_000, cached_input: 100_000, cache_write: 1_250_000 },
    ),
    (
        "claude-sonnet-4",
        ModelPrice { input: 3_000_000, output: 15_000_000, cached_input: 300_000, cache_write: 3_750_000 },
    ),
    (
        "claude-3-7-sonnet",
        ModelPrice { input: 3_000_000, output: 15_000_000, cached_input: 300_000, cache_write: 3_750_000 },
    ),
    (
        "claude-opus-4",
        ModelPrice { input: 15_000_000, output: 75_000_000, cached_input: 1_500_000, cache_write: 18_750_000 },
    ),
];

#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    pub fn new(overrides: &BTreeMap<String, ModelPrice>) -> PriceTable {
        let mut prices: BTreeMap<String, ModelPrice> = DEFAULTS.iter().map(|(m, p)| (m.to_string(), *p)).collect();
        prices.extend(overrides.iter().map(|(m, p)| (m.clone(), *p)));
        PriceTable { prices }
    }

    /// The price of `model`: an exact entry, else the longest entry it starts with
    /// (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`).
    pub fn price(&self, model: &str) -> Option<ModelPrice> {
        self.prices.get(model).copied().or_else(|| {
            self.prices
                .iter()
                .filter(|(m, _)| model.starts_with(m.as_str()))
                .max_by_key(|(m, _)| m.len())
                .map(|(_, p)| *p)
        })
    }

    /// Cost of one call in micro-dollars, rounded to the nearest.
    pub fn cost(&self, model: &str, usage: &Usage) -> i64 {
        let Some(p) = self.price(model) else { return 0 };
        let fresh = usage.prompt.saturating_sub(usage.cached + usage.cache_write);
        let total: i128 = fresh as i128 * p.input as i128
            + usage.cached as i128 * p.cached_input as i128
            + usage.cache_write as i128 * p.cache_write as i128
            + usage.completion as i128 * p.output as i128;
        ((total + 500_000) / 1_000_000) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_usage_and_prices_to_the_micro_dollar() {
        let table = PriceTable::new(&BTreeMap::new());
        // 1,000 fresh prompt tokens at $2.50/M + 500 completion at $10/M = 2,500 + 5,000 µ$.
        let u = Usage { prompt: 1_000, completion: 500, ..Usage::default() };
        assert_eq!(table.cost("gpt-4o-2024-08-06", &u), 7_500);
        // Cached tokens are billed at the cached rate.
        let u = Usage { prompt: 1_000, cached: 800, completion: 0, ..Usage::default() };
        assert_eq!(table.cost("gpt-4o", &u), 500 + 1_000);
        assert_eq!(table.cost("gpt-4o-mini", &Usage { prompt: 3, ..Usage::default() }), 0, "0.45 µ$ rounds down");
        assert_eq!(table.cost("gpt-4o-mini", &Usage { prompt: 4, ..Usage::default() }), 1, "0.6 µ$ rounds up");
        assert_eq!(table.cost("llama3.1:8b", &u), 0, "local models are free unless priced");
        let custom = PriceTable::new(
            &[("llama3.1:8b".to_string(), ModelPrice { input: 1_000_000, ..ModelPrice::default() })].into(),
        );
        assert_eq!(custom.cost("llama3.1:8b", &Usage { prompt: 2_000, ..Usage::default() }), 2_000);
    }
}
