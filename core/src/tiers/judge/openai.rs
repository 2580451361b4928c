//! OpenAI's Chat Completions wire format, also spoken by OpenAI-compatible servers (vLLM,
//! llama.cpp, Ollama): `POST {base}/chat/completions`.

use serde::Deserialize;
use serde_json::json;

use super::client::{exchange, ChatRequest, Completion, LlmError, Reply, Usage};

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    model: String,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

/// `{"error": {"message", "type", "code"}}`
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

/// Reasoning models accept only their default temperature.
fn takes_temperature(model: &str) -> bool {
    !(model.starts_with('o') || model.starts_with("gpt-5"))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn send(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
    max_tokens: u32,
    json_schema: bool,
    request: &ChatRequest,
    provider: &'static str,
) -> Reply {
    let mut body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
    });
    // OpenAI renamed the limit; compatible servers still read the old name.
    let limit_key = if provider == "openai" { "max_completion_tokens" } else { "max_tokens" };
    body[limit_key] = json!(max_tokens);
    if takes_temperature(model) {
        body["temperature"] = json!(0);
    }
    if json_schema {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": true},
        });
    }
    let mut call = http.post(format!("{base_url}/chat/completions")).json(&body);
    if let Some(key) = api_key {
        call = call.bearer_auth(key);
    }
    let parsed: Response =
        match exchange(provider, call, |body| serde_json::from_str::<ErrorBody>(body).ok().map(|b| b.error.message))
            .await
        {
            Ok(p) => p,
            Err(reply) => return reply,
        };
    let Some(choice) = parsed.choices.into_iter().next() else {
        return Reply::Fail(LlmError::Protocol { provider, message: "no choices".into() });
    };
    let usage = parsed.usage.map_or(Usage::default(), |u| Usage {
        prompt: u.prompt_tokens,
        completion: u.completion_tokens,
        cached: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
        cache_write: 0,
        reasoning: u.completion_tokens_details.map_or(0, |d| d.reasoning_tokens),
    });
    match (choice.message.content, choice.message.refusal) {
        (_, Some(refusal)) => {
            Reply::Fail(LlmError::Protocol { provider, message: format!("the model refused: {refusal}") })
        }
        (Some(text), None) => Reply::Done(Completion { text, model: parsed.model, usage }),
        (None, None) => Reply::Fail(LlmError::Protocol { provider, message: "an empty message".into() }),
    }
}
