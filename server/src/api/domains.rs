//! `/domains`: the loaded domain packs, reloading them after an edit, and each organization's
//! switches for their modules (admin keys for changes).

use aegis_core::domains::DomainSet;
use aegis_core::model::OrgId;
use aegis_core::{Error, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, Org};
use super::error::ApiError;
use super::extract::JsonBody;
use crate::state::AppState;

/// Each pack's summary, with the modules `org` switched off.
async fn listing(state: &AppState, org: &OrgId, set: &DomainSet) -> Result<Response, ApiError> {
    let disabled = state.store.disabled_modules_of(org).await?;
    let items: Vec<_> = set
        .domains()
        .iter()
        .map(|d| {
            let off: Vec<String> =
                d.module_names().into_iter().filter(|m| disabled.contains(&format!("{}/{m}", d.name()))).collect();
            let mut item = serde_json::to_value(d.summary()).unwrap_or_default();
            item["disabled_modules"] = json!(off);
            item
        })
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// `GET /domains` → `{"items": [{"name", "title", "version", "aliases", "drugs", "rules",
/// "classifier", "judge", "disabled_modules"}]}`.
pub async fn list(State(state): State<AppState>, Org(org): Org) -> Result<Response, ApiError> {
    listing(&state, &org, &state.domains.current()).await
}

/// `POST /domains/reload`: reads the packs again. A broken pack is a 422 naming its file and
/// line, and the packs in use stay as they were.
pub async fn reload(State(state): State<AppState>, Admin(caller): Admin) -> Result<Response, ApiError> {
    match state.domains.reload() {
        Ok(set) => listing(&state, &caller.0.org_id, &set).await,
        Err(e @ Error::Pack { .. }) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_domain_pack", e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
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
    Admin(_): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if !state.config.allow_pack_uploads {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this installation does not accept new packs"));
    }
    let upload: Upload = parse(&body, "spec", "send {\"spec\": \"<the generator spec, as YAML>\"}")?;
    let domains = state.domains.clone();
    let outcome = tokio::task::spawn_blocking(move || aegis_core::domains::generate::add_pack(&domains, &upload.spec))
        .await
        .map_err(|e| Error::Internal(format!("pack generation panicked: {e}")))?;
    match outcome {
        Ok((name, generated)) => {
            let set = state.domains.current();
            let summary = set.route(&name).map(|d| d.summary());
            let body = json!({ "domain": summary, "generated": generated.report() });
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Err(e @ Error::Pack { .. }) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_domain_pack", e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
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
    Admin(caller): Admin,
    Path((domain, module)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let set = state.domains.current();
    let pack = set.route(&domain).ok_or_else(|| ApiError::not_found(format!("no domain pack {domain:?}")))?;
    if !pack.module_names().contains(&module) {
        return Err(ApiError::not_found(format!(
            "the {} pack has no module {module:?}; its modules are {}",
            pack.name(),
            pack.module_names().join(", ")
        )));
    }
    let switch: ModuleSwitch = parse(&body, "enabled", "send {\"enabled\": true} or {\"enabled\": false}")?;
    state.store.set_module_enabled(&caller.0.org_id, pack.name(), &module, switch.enabled, &caller.actor()).await?;
    Ok(Json(json!({ "domain": pack.name(), "module": module, "enabled": switch.enabled })).into_response())
}
