//! Anthropic's Messages API: `POST {base}/v1/messages`.

use serde::Deserialize;
use serde_json::json;

use super::client::{exchange, ChatRequest, Completion, LlmError, Reply, Usage};

const PROVIDER: &str = "anthropic";
const API_VERSION: &str = "2023-06-01";

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    model: String,
    content: Vec<Block>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
}

/// `{"type": "error", "error": {"type", "message"}}`
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

pub(super) async fn send(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
    max_tokens: u32,
    request: &ChatRequest,
) -> Reply {
    // The Messages API has no response schema: the schema goes into the system prompt.
    let system = format!(
        "{}\n\nReply with one JSON object and nothing else, matching this JSON schema:\n{}",
        request.system, request.schema
    );
    let body = json!({
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 0,
        "system": system,
        "messages": [{"role": "user", "content": request.user}],
    });
    let mut call = http.post(format!("{base_url}/v1/messages")).header("anthropic-version", API_VERSION).json(&body);
    if let Some(key) = api_key {
        call = call.header("x-api-key", key);
    }
    let error_message = |body: &str| {
        serde_json::from_str::<ErrorBody>(body).ok().map(|b| format!("{}: {}", b.error.kind, b.error.message))
    };
    let parsed: Response = match exchange(PROVIDER, call, error_message).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let text: String = parsed.content.into_iter().filter(|b| b.kind == "text").filter_map(|b| b.text).collect();
    if text.is_empty() {
        return Reply::Fail(LlmError::Protocol { provider: PROVIDER, message: "no text block".into() });
    }
    let usage = parsed.usage.map_or(Usage::default(), |u| {
        let cached = u.cache_read_input_tokens.unwrap_or(0);
        let cache_write = u.cache_creation_input_tokens.unwrap_or(0);
        // Anthropic's input_tokens leaves the cached and cache-written tokens out.
        Usage {
            prompt: u.input_tokens + cached + cache_write,
            completion: u.output_tokens,
            cached,
            cache_write,
            reasoning: 0,
        }
    });
    Reply::Done(Completion { text, model: parsed.model, usage })
}
