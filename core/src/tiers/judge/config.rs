//! The judge's settings: which provider serves which model, how it is called, and what it may
//! cost. The judge owns them; the installation's `Config` holds one under `judge`.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The LLM judge (Tier 3). With no `provider`, Tier 3 is off and traces that need it go to
/// human review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JudgeConfig {
    pub provider: Option<Provider>,
    /// [default: the provider's public API]; set it for a local or proxied server.
    pub base_url: Option<String>,
    /// `AEGIS_JUDGE__API_KEY`; local servers need none.
    pub api_key: Option<Secret>,
    pub model: String,
    pub timeout_secs: u64,
    /// Retries after a 429, a 5xx or a timeout, with exponential backoff.
    pub max_retries: u32,
    pub max_tokens: u32,
    /// Ask OpenAI-style servers for a JSON-schema response format; turn off for servers that
    /// do not support it (the prompt still asks for JSON).
    pub json_schema: bool,
    /// Most one organization spends on the judge per UTC day, in micro-dollars. Past it,
    /// traces that would go to the judge go to human review.
    pub daily_budget_micro_usd: i64,
    /// Judge calls in flight per worker.
    pub concurrency: usize,
    /// Prices per model, in micro-dollars per million tokens; they add to and override the
    /// built-in list prices.
    pub prices: std::collections::BTreeMap<String, super::prices::ModelPrice>,
}

/// Who serves the judge model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    #[serde(rename = "openai")]
    OpenAi,
    Anthropic,
    /// Any server with OpenAI's chat completions API: Ollama, vLLM, llama.cpp.
    #[serde(rename = "openai_compatible")]
    OpenAiCompatible,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::OpenAiCompatible => "openai_compatible",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::OpenAiCompatible => "http://127.0.0.1:11434/v1",
        }
    }
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            provider: None,
            base_url: None,
            api_key: None,
            model: "gpt-4o-mini".into(),
            timeout_secs: 30,
            max_retries: 3,
            max_tokens: 800,
            json_schema: true,
            daily_budget_micro_usd: 10_000_000,
            concurrency: 8,
            prices: Default::default(),
        }
    }
}
