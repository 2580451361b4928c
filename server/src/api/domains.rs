//! `/domains`: the loaded domain packs, reloading them after an edit, new packs from a spec, and
//! each organization's switches for their modules. The rules are `service::domains`'.

use aegis_core::service::domains::{self, PackView};
use aegis_core::{Error, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::JsonBody;
use crate::state::AppState;

/// `{"items": [...]}`: each pack's summary with the modules switched off.
fn listing(packs: Vec<PackView>) -> Response {
    let items: Vec<_> = packs
        .into_iter()
        .map(|view| {
            let mut item = serde_json::to_value(view.pack.summary()).unwrap_or_default();
            item["disabled_modules"] = json!(view.disabled);
            item
        })
        .collect();
    Json(json!({ "items": items })).into_response()
}

/// `GET /domains` → `{"items": [{"name", "title", "version", "aliases", "drugs", "rules",
/// "classifier", "judge", "disabled_modules"}]}`.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let packs = domains::packs(&state.store, &state.domains.current(), &caller.as_actor()).await?;
    Ok(listing(packs))
}

/// `POST /domains/reload`: reads the packs again. A broken pack is a 422 naming its file and
/// line, and the packs in use stay as they were.
pub async fn reload(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let actor = caller.as_actor();
    let set = domains::reload(&state.domains, &actor).await?;
    Ok(listing(domains::packs(&state.store, &set, &actor).await?))
}

/// A one-field body: bad JSON is 400; JSON of the wrong shape is 422 naming `field`.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], field: &str, hint: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::from(Error::Malformed(e.to_string()))
        }
        _ => ApiError::invalid(FieldError::new(field, hint)),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    spec: String,
}

/// `POST /domains` `{"spec": "<generator spec YAML>"}` (admin): generates a pack (tables, judge
/// prompt, seed set, trained Tier 2 model) and starts using it. `201` with the pack and what
/// was generated; a bad spec is `422` naming its line, an existing name `409`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let upload: Upload = parse(&body, "spec", "send {\"spec\": \"<the generator spec, as YAML>\"}")?;
    let (pack, generated) =
        domains::add_pack(&state.store, &state.config, &state.domains, &caller.as_actor(), upload.spec).await?;
    let body = json!({ "domain": pack.summary(), "generated": generated.report() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleSwitch {
    enabled: bool,
}

/// `PUT /domains/{domain}/modules/{module}` `{"enabled": bool}`: switches one module (a Tier 1
/// rule, `classifier`, `llm_judge`) on or off for the caller's organization, from its next
/// evaluation on. Audited.
pub async fn set_module(
    State(state): State<AppState>,
    caller: Caller,
    Path((domain, module)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let switch: ModuleSwitch = parse(&body, "enabled", "send {\"enabled\": true} or {\"enabled\": false}")?;
    let name =
        domains::switch_module(&state.store, &state.domains, &caller.as_actor(), &domain, &module, switch.enabled)
            .await?;
    Ok(Json(json!({ "domain": name, "module": module, "enabled": switch.enabled })).into_response())
}
