//! Who may do what: the one permission table both front ends consult.
//!
//! Dashboard users have a [`Role`]; API keys have a scope ([`ApiKeyRole`]). Every REST endpoint
//! and every dashboard server function names the [`Capability`] it needs, and [`allows`] answers
//! from [`PERMISSIONS`]. Nothing else decides.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::OrgId;

/// What a dashboard user may do in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything an admin may, and managing owners; an organization keeps at least one.
    Owner,
    /// Runs the installation for the organization: packs, PHI policy, keys, users, integrations.
    Admin,
    /// Reviews answers and resolves alerts; reads everything else.
    Reviewer,
    /// Reads traces, evaluations, analytics and reviews; changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Reviewer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What an API key may do: `admin` manages the organization's setup, `ingest` sends traces and
/// reads their results, `read` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyRole {
    Admin,
    Ingest,
    Read,
}

impl ApiKeyRole {
    pub const ALL: [ApiKeyRole; 3] = [ApiKeyRole::Admin, ApiKeyRole::Ingest, ApiKeyRole::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyRole::Admin => "admin",
            ApiKeyRole::Ingest => "ingest",
            ApiKeyRole::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<ApiKeyRole> {
        ApiKeyRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A user's role or a key's scope: a column of [`PERMISSIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grantee {
    User(Role),
    Key(ApiKeyRole),
}

impl Grantee {
    pub const ALL: [Grantee; 7] = [
        Grantee::User(Role::Owner),
        Grantee::User(Role::Admin),
        Grantee::User(Role::Reviewer),
        Grantee::User(Role::Viewer),
        Grantee::Key(ApiKeyRole::Admin),
        Grantee::Key(ApiKeyRole::Ingest),
        Grantee::Key(ApiKeyRole::Read),
    ];

    /// "a viewer", "an ingest key": for messages.
    pub fn described(self) -> String {
        let (name, noun) = match self {
            Grantee::User(role) => (role.as_str(), ""),
            Grantee::Key(scope) => (scope.as_str(), " key"),
        };
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {name}{noun}")
    }
}

/// Something a caller can ask for. Each REST endpoint and server function needs exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    SendTraces,
    ReadTraces,
    ScanText,
    ReadPhiPolicy,
    ManagePhiPolicy,
    Reidentify,
    ReadAudit,
    ReadAnalytics,
    ReadDomains,
    ManageDomains,
    ReadIntegrations,
    ManageIntegrations,
    ReadAlerts,
    ResolveAlerts,
    RecordOutcomes,
    Predict,
    ReadModels,
    TrainModels,
    ReadReviews,
    Review,
    ManageKeys,
    ManageUsers,
    /// Making someone an owner, or changing or removing an owner.
    ManageOwners,
}

impl Capability {
    pub fn as_str(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

use ApiKeyRole as K;
use Capability as C;
use Role as R;

const OWNER: Grantee = Grantee::User(R::Owner);
const ADMIN: Grantee = Grantee::User(R::Admin);
const REVIEWER: Grantee = Grantee::User(R::Reviewer);
const VIEWER: Grantee = Grantee::User(R::Viewer);
const ADMIN_KEY: Grantee = Grantee::Key(K::Admin);
const INGEST_KEY: Grantee = Grantee::Key(K::Ingest);
const READ_KEY: Grantee = Grantee::Key(K::Read);

/// Capability × grantee → allowed: who is listed may, nobody else. Keys never manage keys or
/// users; re-identification and the audit log stay with owners and admins (HIPAA's minimum
/// necessary); webhook endpoints and their delivery logs are read only by those who may change
/// them, while alert channels and rules are shown to everyone who reads alerts, secrets masked.
pub const PERMISSIONS: &[(Capability, &[Grantee])] = &[
    (C::SendTraces, &[OWNER, ADMIN, ADMIN_KEY, INGEST_KEY]),
    (C::ReadTraces, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, INGEST_KEY, READ_KEY]),
    (C::ScanText, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, INGEST_KEY, READ_KEY]),
    (C::ReadPhiPolicy, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, READ_KEY]),
    (C::ManagePhiPolicy, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::Reidentify, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ReadAudit, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ReadAnalytics, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, READ_KEY]),
    (C::ReadDomains, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, INGEST_KEY, READ_KEY]),
    (C::ManageDomains, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ReadIntegrations, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ManageIntegrations, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ReadAlerts, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, READ_KEY]),
    (C::ResolveAlerts, &[OWNER, ADMIN, REVIEWER, ADMIN_KEY]),
    (C::RecordOutcomes, &[OWNER, ADMIN, ADMIN_KEY, INGEST_KEY]),
    (C::Predict, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, INGEST_KEY, READ_KEY]),
    (C::ReadModels, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, READ_KEY]),
    (C::TrainModels, &[OWNER, ADMIN, ADMIN_KEY]),
    (C::ReadReviews, &[OWNER, ADMIN, REVIEWER, VIEWER, ADMIN_KEY, READ_KEY]),
    (C::Review, &[OWNER, ADMIN, REVIEWER, ADMIN_KEY]),
    (C::ManageKeys, &[OWNER, ADMIN]),
    (C::ManageUsers, &[OWNER, ADMIN]),
    (C::ManageOwners, &[OWNER]),
];

/// Whether `grantee` may use `capability`. A capability without a row allows nobody.
pub fn allows(grantee: Grantee, capability: Capability) -> bool {
    PERMISSIONS.iter().any(|(c, grantees)| *c == capability && grantees.contains(&grantee))
}

/// Who is calling, once authenticated: the organization, the user or key, and its grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org_id: OrgId,
    pub id: ActorId,
    pub grantee: Grantee,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorId {
    User(Uuid),
    Key(Uuid),
}

impl Actor {
    /// `Ok` if the table allows it; otherwise the refusal, naming what was needed.
    pub fn require(&self, capability: Capability) -> Result<(), Forbidden> {
        if allows(self.grantee, capability) {
            Ok(())
        } else {
            Err(Forbidden { capability, grantee: self.grantee })
        }
    }

    /// How the actor appears in the audit log: `user:<id>` or `api_key:<id>`.
    pub fn audit_name(&self) -> String {
        match self.id {
            ActorId::User(id) => format!("user:{id}"),
            ActorId::Key(id) => format!("api_key:{id}"),
        }
    }
}

/// A refusal: who asked, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden {
    pub capability: Capability,
    pub grantee: Grantee,
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who: Vec<String> = PERMISSIONS
            .iter()
            .find(|(c, _)| *c == self.capability)
            .map(|(_, grantees)| grantees.iter().map(|g| g.described()).collect())
            .unwrap_or_default();
        let holders = match who.split_last() {
            None => "nobody".to_string(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        };
        write!(
            f,
            "{} may not do this: it needs the `{}` permission, which {holders} has",
            capitalized(&self.grantee.described()),
            self.capability.as_str(),
        )
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_has_exactly_one_row() {
        let all: Vec<Capability> = PERMISSIONS.iter().map(|(c, _)| *c).collect();
        for (i, c) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(c), "{c:?} has two rows");
        }
        // A new variant without a row fails to compile here first.
        for c in all {
            match c {
                C::SendTraces
                | C::ReadTraces
                | C::ScanText
                | C::ReadPhiPolicy
                | C::ManagePhiPolicy
                | C::Reidentify
                | C::ReadAudit
                | C::ReadAnalytics
                | C::ReadDomains
                | C::ManageDomains
                | C::ReadIntegrations
                | C::ManageIntegrations
                | C::ReadAlerts
                | C::ResolveAlerts
                | C::RecordOutcomes
                | C::Predict
                | C::ReadModels
                | C::TrainModels
                | C::ReadReviews
                | C::Review
                | C::ManageKeys
                | C::ManageUsers
                | C::ManageOwners => {}
            }
        }
        assert_eq!(PERMISSIONS.len(), 23);
    }

    #[test]
    fn the_roles_nest_and_keys_never_manage_people() {
        for (capability, _) in PERMISSIONS {
            let allowed = |r: Role| allows(Grantee::User(r), *capability);
            assert!(!allowed(R::Viewer) || allowed(R::Reviewer), "{capability:?}");
            assert!(!allowed(R::Reviewer) || allowed(R::Admin), "{capability:?}");
            assert!(!allowed(R::Admin) || allowed(R::Owner), "{capability:?}");
            assert!(!allows(READ_KEY, *capability) || allows(ADMIN_KEY, *capability), "{capability:?}");
        }
        for key in ApiKeyRole::ALL {
            for c in [C::ManageKeys, C::ManageUsers, C::ManageOwners] {
                assert!(!allows(Grantee::Key(key), c));
            }
        }
    }

    /// `docs/ARCHITECTURE.md` shows the table; this keeps it the table.
    #[test]
    fn the_documented_table_is_this_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ARCHITECTURE.md")).unwrap();
        let start = doc.find("<!-- permissions:start -->").expect("start marker");
        let end = doc.find("<!-- permissions:end -->").expect("end marker");
        let rows: Vec<String> = PERMISSIONS
            .iter()
            .map(|(capability, _)| {
                let marks: Vec<&str> =
                    Grantee::ALL.iter().map(|g| if allows(*g, *capability) { " ✓ " } else { "  " }).collect();
                format!("| {} |{}|", capability.as_str(), marks.join("|"))
            })
            .collect();
        let documented: Vec<&str> =
            doc[start..end].lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Capability")).collect();
        assert_eq!(documented, rows, "docs/ARCHITECTURE.md's permission table differs from PERMISSIONS");
    }

    #[test]
    fn a_refusal_says_who_may() {
        let actor = Actor { org_id: OrgId(Uuid::nil()), id: ActorId::User(Uuid::nil()), grantee: VIEWER };
        assert!(actor.require(C::ReadTraces).is_ok());
        let refused = actor.require(C::ManagePhiPolicy).unwrap_err().to_string();
        assert_eq!(
            refused,
            "A viewer may not do this: it needs the `manage_phi_policy` permission, which an owner, an admin or an admin key has"
        );
        assert_eq!(Grantee::Key(K::Ingest).described(), "an ingest key");
        assert_eq!(Role::parse("reviewer"), Some(R::Reviewer));
        assert_eq!(ApiKeyRole::parse("read"), Some(K::Read));
        assert_eq!(Role::parse("root"), None);
    }
}
