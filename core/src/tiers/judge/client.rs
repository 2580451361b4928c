//! `LlmClient`: one client over reqwest for every provider, with timeouts, retries with
//! backoff on 429 and 5xx (honouring `retry-after`), and the token usage each call reports.

use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::config::{JudgeConfig, Provider};
use super::{anthropic, openai};

/// What a model is asked: one system prompt, one user message, and the JSON schema its answer
/// must follow.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    pub schema_name: &'static str,
    pub schema: serde_json::Value,
}

/// Tokens as the provider counted them. `prompt` includes `cached`; `completion` includes
/// `reasoning`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt: u64,
    pub completion: u64,
    /// Prompt tokens served from the provider's cache (cheaper).
    pub cached: u64,
    /// Prompt tokens written to the provider's cache (Anthropic charges extra for them).
    pub cache_write: u64,
    pub reasoning: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.prompt += o.prompt;
        self.completion += o.completion;
        self.cached += o.cached;
        self.cache_write += o.cache_write;
        self.reasoning += o.reasoning;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub model: String,
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The provider refused the request (bad key, bad model, bad request): retrying is useless.
    #[error("{provider} refused the request ({status}): {message}")]
    Refused { provider: &'static str, status: u16, message: String },
    /// Rate limits, overload, server errors or timeouts outlasted every retry.
    #[error("{provider} unavailable after {attempts} attempts: {message}")]
    Unavailable { provider: &'static str, attempts: u32, message: String },
    /// A 200 whose body is not the provider's documented shape.
    #[error("{provider} answered in an unexpected shape: {message}")]
    Protocol { provider: &'static str, message: String },
}

/// The provider's answer to one HTTP exchange.
pub(super) enum Reply {
    Done(Completion),
    Retry { message: String, after: Option<Duration> },
    Fail(LlmError),
}

#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    api_key: Option<String>,
    pub model: String,
    max_tokens: u32,
    max_retries: u32,
    json_schema: bool,
}

/// Longest pause between attempts, whatever `retry-after` says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl LlmClient {
    pub fn new(config: &JudgeConfig, provider: Provider) -> Result<LlmClient, LlmError> {
        // reqwest is built without a default crypto provider; ring is the one sqlx uses too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LlmError::Protocol { provider: provider.name(), message: e.to_string() })?;
        let base_url = config.base_url.clone().unwrap_or_else(|| provider.default_base_url().to_string());
        Ok(LlmClient {
            http,
            provider,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: config.api_key.as_ref().map(|k| k.0.clone()),
            model: config.model.clone(),
            max_tokens: config.max_tokens,
            max_retries: config.max_retries,
            json_schema: config.json_schema,
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Sends `request`, retrying what is worth retrying.
    pub async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reply = match self.provider {
                Provider::Anthropic => {
                    anthropic::send(
                        &self.http,
                        &self.base_url,
                        self.api_key.as_deref(),
                        &self.model,
                        self.max_tokens,
                        request,
                    )
                    .await
                }
                Provider::OpenAi | Provider::OpenAiCompatible => {
                    openai::send(
                        &self.http,
                        &self.base_url,
                        self.api_key.as_deref(),
                        &self.model,
                        self.max_tokens,
                        self.json_schema,
                        request,
                        self.provider.name(),
                    )
                    .await
                }
            };
            match reply {
                Reply::Done(c) => return Ok(c),
                Reply::Fail(e) => return Err(e),
                Reply::Retry { message, after } => {
                    if attempt > self.max_retries {
                        return Err(LlmError::Unavailable {
                            provider: self.provider.name(),
                            attempts: attempt,
                            message,
                        });
                    }
                    let pause = after.unwrap_or_else(|| backoff(attempt)).min(MAX_BACKOFF);
                    tracing::debug!(provider = self.provider.name(), attempt, ?pause, %message, "retrying the judge");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// 250 ms, 500 ms, 1 s, ... with jitter, so many workers do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250 << attempt.min(7));
    base.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
}

/// Classifies an HTTP failure: what may succeed later, and what never will.
fn failed(provider: &'static str, status: u16, retry_after: Option<&str>, message: String) -> Reply {
    let retryable = matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504 | 529);
    if retryable {
        let after = retry_after.and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s >= 0.0);
        Reply::Retry { message: format!("HTTP {status}: {message}"), after: after.map(Duration::from_secs_f64) }
    } else {
        Reply::Fail(LlmError::Refused { provider, status, message })
    }
}

/// Sends `call` and reads a 200's body as `T`. Anything else comes back as the `Reply` to give:
/// a retry or a failure, with the provider's own message (`error_message` reads it from its
/// error body, falling back to the raw body).
pub(super) async fn exchange<T: serde::de::DeserializeOwned>(
    provider: &'static str,
    call: reqwest::RequestBuilder,
    error_message: impl FnOnce(&str) -> Option<String>,
) -> Result<T, Reply> {
    let response = call.send().await.map_err(|e| transport(provider, e))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = response.text().await.map_err(|e| transport(provider, e))?;
    if status != 200 {
        let message = error_message(&text).unwrap_or(text);
        return Err(failed(provider, status, retry_after.as_deref(), message));
    }
    serde_json::from_str(&text).map_err(|e| Reply::Fail(LlmError::Protocol { provider, message: e.to_string() }))
}

/// A transport error: timeouts and broken connections may pass, anything else will not.
fn transport(provider: &'static str, e: reqwest::Error) -> Reply {
    if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
        Reply::Retry { message: e.to_string(), after: None }
    } else {
        Reply::Fail(LlmError::Protocol { provider, message: e.to_string() })
    }
}
