//! Server functions of the Models page: the registry, retraining and promotion.

use aegis_core::model::RegisteredModel;
use leptos::prelude::*;

#[server]
pub async fn list_models() -> Result<Vec<RegisteredModel>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    store.registered_models(&user.org_id, None).await.map_err(crate::session::internal)
}

/// Retrains a domain's Tier 2 model now; returns what happened, in words.
#[server]
pub async fn retrain_model(domain: String) -> Result<String, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let set = crate::session::domains()?.current();
    let pack = set
        .route(&domain)
        .filter(|p| p.classifier.is_some())
        .cloned()
        .ok_or_else(|| ServerFnError::new(format!("There is no pack {domain:?} with a Tier 2 model.")))?;
    let r = aegis_core::review::retrain::retrain(&store, pack, &user.org_id, |_| {})
        .await
        .map_err(crate::session::internal)?;
    Ok(format!("Version {}: {}.", r.model.version, r.model.note))
}

#[server]
pub async fn promote_model(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    match store.promote_model(&user.org_id, &id, &format!("user:{}", user.email)).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ServerFnError::new("This model no longer exists.")),
        Err(e) => Err(crate::session::internal(e)),
    }
}
