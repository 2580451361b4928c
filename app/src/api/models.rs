//! Server functions of the Models page: thin adapters over `aegis_core::service::models`, which
//! the API uses too.

use aegis_core::model::RegisteredModel;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::session::{actor, require_user, user_error},
    aegis_core::service::models,
};

#[server]
pub async fn list_models() -> Result<Vec<RegisteredModel>, ServerFnError> {
    let (user, store) = require_user().await?;
    models::list(&store, &actor(&user), None).await.map_err(user_error)
}

/// Retrains a domain's Tier 2 model now; returns what happened, in words.
#[server]
pub async fn retrain_model(domain: String) -> Result<String, ServerFnError> {
    let (user, store) = require_user().await?;
    let domains = crate::session::domains()?;
    let r = models::retrain(&store, &domains, &actor(&user), &domain).await.map_err(user_error)?;
    Ok(format!("Version {}: {}.", r.model.version, r.model.note))
}

#[server]
pub async fn promote_model(id: String) -> Result<(), ServerFnError> {
    let (user, store) = require_user().await?;
    models::promote(&store, &actor(&user), &id).await.map(drop).map_err(user_error)
}
