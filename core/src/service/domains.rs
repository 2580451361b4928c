//! Domain packs: the loaded packs as an organization sees them, its module switches, reloading
//! the packs, and new packs generated from a spec. Built-in and installation packs are shared
//! and read-only; a pack an organization adds belongs to it alone.

use std::sync::Arc;

use crate::access::{Actor, Capability};
use crate::config::Config;
use crate::domains::{Domain, DomainSet, Domains};
use crate::packs::generate::Generated;
use crate::store::Store;
use crate::{Error, Result};

/// A loaded pack and the modules the organization switched off in it.
pub struct PackView {
    pub pack: Arc<Domain>,
    pub disabled: Vec<String>,
}

impl PackView {
    /// Whether `module` runs for the organization (not whether the pack's spec enables it).
    pub fn is_on(&self, module: &str) -> bool {
        !self.disabled.iter().any(|m| m == module)
    }
}

/// The packs of `set` the actor's organization sees (the shared ones and its own), each with
/// the modules it switched off.
pub async fn packs(store: &Store, set: &DomainSet, actor: &Actor) -> Result<Vec<PackView>> {
    actor.require(Capability::ReadDomains)?;
    let disabled = store.disabled_modules_of(&actor.org_id).await?;
    Ok(set
        .visible_to(&actor.org_id)
        .map(|pack| {
            let off = pack
                .module_names()
                .into_iter()
                .filter(|m| disabled.contains(&format!("{}/{m}", pack.name())))
                .collect();
            PackView { pack: pack.clone(), disabled: off }
        })
        .collect())
}

/// Reads every pack again; a broken one is an [`Error::Pack`] naming its file and line, and the
/// packs in use stay as they were.
pub async fn reload(domains: &Domains, actor: &Actor) -> Result<Arc<DomainSet>> {
    actor.require(Capability::ManageDomains)?;
    domains.reload_off_runtime().await
}

/// Switches one module of a pack (a Tier 1 rule, `classifier`, `llm_judge`) on or off for the
/// actor's organization, from its next evaluation on; audited. Returns the pack's name (the
/// request may name it by an alias).
pub async fn switch_module(
    store: &Store,
    domains: &Domains,
    actor: &Actor,
    domain: &str,
    module: &str,
    enabled: bool,
) -> Result<String> {
    actor.require(Capability::ManageDomains)?;
    let set = domains.current();
    let pack = set.route(&actor.org_id, domain).ok_or_else(|| Error::NotFound(format!("no domain pack {domain:?}")))?;
    let modules = pack.module_names();
    if !modules.iter().any(|m| m == module) {
        return Err(Error::NotFound(format!(
            "the {} pack has no module {module:?}; its modules are {}",
            pack.name(),
            modules.join(", ")
        )));
    }
    store.set_module_enabled(&actor.org_id, pack.name(), module, enabled, &actor.audit_name()).await?;
    Ok(pack.name().to_string())
}

/// Whether packs may be added: as configured, or by default while the installation holds a
/// single organization.
async fn uploads_allowed(store: &Store, config: &Config) -> Result<bool> {
    match config.allow_pack_uploads {
        Some(allowed) => Ok(allowed),
        None => Ok(store.count_organizations().await? <= 1),
    }
}

/// Generates a pack (tables, judge prompt, seed set, trained Tier 2 model) from a generator spec
/// in YAML and starts using it for the actor's organization alone. Generating trains a model: it
/// runs on a blocking thread.
pub async fn add_pack(
    store: &Store,
    config: &Config,
    domains: &Domains,
    actor: &Actor,
    spec: String,
) -> Result<(Arc<Domain>, Generated)> {
    actor.require(Capability::ManageDomains)?;
    if !uploads_allowed(store, config).await? {
        return Err(Error::TurnedOff(
            "this installation does not accept new packs: it serves several organizations (its operator can set \
             allow_pack_uploads)"
                .into(),
        ));
    }
    let (generating, org) = (domains.clone(), actor.org_id.clone());
    let (name, generated) =
        tokio::task::spawn_blocking(move || crate::packs::generate::add_pack(&generating, &org, &spec))
            .await
            .map_err(|e| Error::Internal(format!("pack generation panicked: {e}")))??;
    let set = domains.current();
    let pack = set.route(&actor.org_id, &name).cloned().ok_or_else(|| Error::Internal(format!("{name} vanished")))?;
    Ok((pack, generated))
}
