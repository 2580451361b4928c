//! Server functions: the dashboard's only way to reach the core. Each checks the session
//! cookie and reads nothing outside the user's organization.

pub mod models;
pub mod reviews;
pub mod sinks;

use aegis_core::model::{Evaluation, Page, Trace, TraceSummary};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub email: String,
    pub organization: String,
    /// `owner`, `admin`, `reviewer` or `viewer`: pages offer only what the role may do.
    pub role: aegis_core::access::Role,
}

impl SignedInUser {
    /// Whether this user's role has `capability` (the server checks again; this hides controls).
    pub fn may(&self, capability: aegis_core::access::Capability) -> bool {
        aegis_core::access::allows(aegis_core::access::Grantee::User(self.role), capability)
    }
}

/// A trace with its evaluation, when there is one yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceWithEvaluation {
    pub trace: Trace,
    pub evaluation: Option<Evaluation>,
    /// Experts' reviews, oldest first.
    pub reviews: Vec<aegis_core::model::Review>,
    /// What de-identification put into the trace (tokens or realistic stand-ins), to mark.
    #[serde(default)]
    pub replaced: Vec<String>,
}

/// Traces shown per page of the table.
pub const PAGE_SIZE: u32 = 50;

#[server]
pub async fn current_user() -> Result<Option<SignedInUser>, ServerFnError> {
    Ok(crate::session::user().await?.map(|u| SignedInUser { email: u.email, organization: u.org_name, role: u.role }))
}

/// How the sign-in page knows to show the code field: the refusals start with these.
pub const ASK_FOR_CODE: &str = "Two-factor sign-in is on for this account.";
pub const WRONG_CODE: &str = "That code is not right.";

/// `POST /api/login` (form: `email`, `password`, and `code` when two-factor sign-in is on): a
/// stable address, for scripts too.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, code: Option<String>) -> Result<(), ServerFnError> {
    crate::session::login(&email, &password, code.as_deref()).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn logout() -> Result<(), ServerFnError> {
    crate::session::logout().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// What the Traces page filters by: the URL's parameters, each optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceFilters {
    pub q: Option<String>,
    pub status: Option<String>,
    pub domain: Option<String>,
    pub severity: Option<String>,
    pub application: Option<String>,
    /// `YYYY-MM-DD`, UTC; `to` includes its whole day.
    pub from: Option<String>,
    pub to: Option<String>,
    /// `oldest` for oldest first; newest first otherwise.
    pub sort: Option<String>,
    pub cursor: Option<String>,
}

/// A page of the organization's traces, newest first: filtered, and searched by words of the
/// (de-identified) input and output. The filters travel as JSON: a URL-encoded body cannot
/// carry a nested struct.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn list_traces(filters: TraceFilters) -> Result<Page<TraceSummary>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let TraceFilters { q, status, domain, severity, application, from, to, sort, cursor } = filters;
    let pairs = [
        ("q", q),
        ("status", status),
        ("domain", domain),
        ("severity", severity),
        ("application", application),
        ("from", from),
        ("to", to),
        ("sort", sort),
        ("cursor", cursor),
    ];
    let mut query = aegis_core::service::traces::list_query(
        pairs.iter().filter_map(|(name, value)| Some((*name, value.as_deref()?))),
    )
    .map_err(crate::session::invalid)?;
    query.limit = PAGE_SIZE;
    aegis_core::service::traces::list_summaries(&store, &crate::session::actor(&user), &query)
        .await
        .map_err(crate::session::user_error)
}

/// One trace in full, with its evaluation.
#[server]
pub async fn trace_detail(trace_id: uuid::Uuid) -> Result<TraceWithEvaluation, ServerFnError> {
    use aegis_core::service::traces;
    let (user, store) = crate::session::require_user().await?;
    let actor = crate::session::actor(&user);
    let trace = traces::get(&store, &actor, trace_id).await.map_err(crate::session::user_error)?;
    let evaluation = traces::evaluation(&store, &actor, trace_id).await.map_err(crate::session::user_error)?;
    let reviews = store.reviews_of(&user.org_id, trace_id).await.map_err(crate::session::internal)?;
    let replaced = store.trace_replacements(&user.org_id, trace_id).await.map_err(crate::session::internal)?;
    Ok(TraceWithEvaluation { trace, evaluation, reviews, replaced })
}

/// The time range of the Overview and Analytics pages, as the URL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeRange {
    Day,
    Week,
    Month,
    Quarter,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [TimeRange::Day, TimeRange::Week, TimeRange::Month, TimeRange::Quarter];

    /// From the URL: `24h`, `7d`, `30d`, `90d`; anything else is the last 24 hours.
    pub fn parse(s: Option<&str>) -> TimeRange {
        TimeRange::ALL.into_iter().find(|r| Some(r.param()) == s).unwrap_or(TimeRange::Day)
    }

    pub fn param(self) -> &'static str {
        match self {
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
            TimeRange::Month => "30d",
            TimeRange::Quarter => "90d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeRange::Day => "Last 24 hours",
            TimeRange::Week => "Last 7 days",
            TimeRange::Month => "Last 30 days",
            TimeRange::Quarter => "Last 90 days",
        }
    }

    /// `(from, to, bucket)` ending now: hourly points up to a week, daily beyond.
    pub fn bounds(
        self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, aegis_core::model::Bucket) {
        use aegis_core::model::Bucket;
        let (span, bucket) = match self {
            TimeRange::Day => (chrono::Duration::hours(24), Bucket::Hour),
            TimeRange::Week => (chrono::Duration::days(7), Bucket::Hour),
            TimeRange::Month => (chrono::Duration::days(30), Bucket::Day),
            TimeRange::Quarter => (chrono::Duration::days(90), Bucket::Day),
        };
        (now - span, now, bucket)
    }

    /// The analytics query for this range ending now, with its bucket.
    #[cfg(feature = "ssr")]
    pub fn query(
        self,
        domain: Option<String>,
        metric: aegis_core::model::Metric,
    ) -> Result<aegis_core::service::analytics::AnalyticsQuery, aegis_core::FieldError> {
        let (from, to, bucket) = self.bounds(chrono::Utc::now());
        aegis_core::service::analytics::AnalyticsQuery::new(from, to, domain, bucket, metric)
    }
}

/// What the Overview page shows for a range and an optional domain.
#[server]
pub async fn overview(range: TimeRange, domain: Option<String>) -> Result<aegis_core::model::Overview, ServerFnError> {
    use aegis_core::service::analytics;
    let (user, store) = crate::session::require_user().await?;
    let q = range.query(domain, aegis_core::model::Metric::Volume).map_err(crate::session::invalid)?;
    analytics::overview(&store, &crate::session::actor(&user), &q).await.map_err(crate::session::user_error)
}

/// One chart of the Analytics page, as SVG drawn on the server with plotters.
#[server]
pub async fn chart(
    metric: aegis_core::model::Metric,
    range: TimeRange,
    domain: Option<String>,
) -> Result<String, ServerFnError> {
    use aegis_core::service::analytics;
    let (user, store) = crate::session::require_user().await?;
    let q = range.query(domain, metric).map_err(crate::session::invalid)?;
    let trend =
        analytics::trend(&store, &crate::session::actor(&user), &q).await.map_err(crate::session::user_error)?;
    crate::charts::render(&trend).map_err(|e| {
        tracing::error!(error = %e, "chart failed");
        ServerFnError::new("This chart could not be drawn.")
    })
}

/// An API key as the Settings page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyListing {
    pub id: uuid::Uuid,
    pub name: String,
    pub prefix: String,
    pub role: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[server]
pub async fn list_api_keys() -> Result<Vec<KeyListing>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let keys = store.list_api_keys(&user.org_id).await.map_err(crate::session::internal)?;
    Ok(keys
        .into_iter()
        .map(|k| KeyListing {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: k.role.as_str().to_string(),
            created_at: k.created_at,
        })
        .collect())
}

/// Creates a key and returns its secret: the only time anyone sees it.
#[server]
pub async fn create_api_key(name: String, role: String) -> Result<String, ServerFnError> {
    use aegis_core::store::ApiKeyRole;
    let (user, store) = crate::session::require_user().await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServerFnError::new("Give the key a name of 1 to 100 characters."));
    }
    let role = ApiKeyRole::parse(&role).ok_or_else(|| ServerFnError::new("Choose ingest, read or admin."))?;
    let key = store
        .create_api_key(&user.org_id, name, role, &crate::session::actor(&user).audit_name())
        .await
        .map_err(crate::session::internal)?;
    Ok(key.plaintext)
}

#[server]
pub async fn revoke_api_key(id: uuid::Uuid) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    if !store
        .revoke_api_key(&user.org_id, id, &crate::session::actor(&user).audit_name())
        .await
        .map_err(crate::session::internal)?
    {
        return Err(ServerFnError::new("This key does not exist or was already revoked."));
    }
    Ok(())
}

/// A domain pack as the Domains page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainView {
    pub name: String,
    pub title: String,
    pub description: String,
    pub version: u32,
    pub aliases: Vec<String>,
    /// Built into Aegis, or added to this installation's packs folder.
    pub built_in: bool,
    /// Uploaded by this organization, for it alone.
    pub own: bool,
    /// Drug names the pack recognizes (healthcare).
    pub drugs: usize,
    pub rules: Vec<RuleView>,
    /// Tier 2: the model version and the risks at which it flags and escalates.
    pub classifier: Option<(String, f64, f64)>,
    /// Tier 3: the judge's rubric.
    pub rubric: Option<String>,
    /// The cascade stops at this severity and escalates from that one.
    pub stop_at: aegis_core::model::Severity,
    pub escalate_at: aegis_core::model::Severity,
    pub review_when_judge_unavailable: bool,
    /// Whether this organization runs the classifier and the judge.
    pub classifier_on: bool,
    pub judge_on: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    pub id: String,
    pub description: String,
    pub severity: aegis_core::model::Severity,
    /// On in the pack's spec; a rule off there cannot be switched on per organization.
    pub in_pack: bool,
    /// On for this organization.
    pub enabled: bool,
}

/// The loaded domain packs, their modules and thresholds.
#[server]
pub async fn domain_packs() -> Result<Vec<DomainView>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let set = crate::session::domains()?.current();
    let packs = aegis_core::service::domains::packs(&store, &set, &crate::session::actor(&user))
        .await
        .map_err(crate::session::user_error)?;
    Ok(packs
        .into_iter()
        .map(|view| {
            let d = &view.pack;
            let spec = &d.spec;
            DomainView {
                name: spec.name.clone(),
                title: spec.title.clone(),
                description: spec.description.clone(),
                version: spec.version,
                aliases: spec.aliases.clone(),
                built_in: d.dir.folder().is_none(),
                own: d.owner.is_some(),
                drugs: d.drugs.as_ref().map_or(0, |x| x.drug_count()),
                rules: spec
                    .tier1
                    .iter()
                    .map(|v| RuleView {
                        id: v.id.clone(),
                        description: v.description.clone(),
                        severity: v.severity,
                        in_pack: v.enabled,
                        enabled: v.enabled && view.is_on(&v.id),
                    })
                    .collect(),
                classifier: spec.tier2.as_ref().map(|t| {
                    let version =
                        d.classifier.as_ref().map(|m| m.version.clone()).unwrap_or_else(|| "not trained".into());
                    (version, t.flag_at, t.escalate_at)
                }),
                rubric: spec.tier3.as_ref().map(|t| t.rubric.clone()),
                stop_at: spec.escalation.stop_at,
                escalate_at: spec.escalation.escalate_at,
                review_when_judge_unavailable: spec.escalation.review_when_judge_unavailable,
                classifier_on: view.is_on("classifier"),
                judge_on: view.is_on("llm_judge"),
            }
        })
        .collect())
}

/// Switches a module of a pack on or off for the organization, from its next evaluation on.
#[server]
pub async fn switch_module(domain: String, module: String, enabled: bool) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let domains = crate::session::domains()?;
    aegis_core::service::domains::switch_module(
        &store,
        &domains,
        &crate::session::actor(&user),
        &domain,
        &module,
        enabled,
    )
    .await
    .map(drop)
    .map_err(crate::session::user_error)
}

/// The organization's de-identification policy, as the Settings page edits it. Custom
/// recognizers are managed through `PUT /api/v1/phi/policy` and kept as they are here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhiSettings {
    /// Every identifier type Aegis knows (`NAME`, `HEALTH_PLAN`, ...).
    pub available: Vec<String>,
    /// The ones scrubbed.
    pub types: Vec<String>,
    pub surrogates: bool,
    pub date_shift: bool,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// Names of the organization's own recognizers.
    pub custom: Vec<String>,
}

#[server]
pub async fn load_phi_settings() -> Result<PhiSettings, ServerFnError> {
    use aegis_core::phi::PhiType;
    let (user, _) = crate::session::require_user().await?;
    let actor = crate::session::actor(&user);
    let policy =
        aegis_core::service::phi::policy(&crate::session::phi()?, &actor).await.map_err(crate::session::user_error)?;
    Ok(PhiSettings {
        available: PhiType::ALL.iter().map(|t| t.as_str().to_string()).collect(),
        types: policy.types.iter().map(|t| t.as_str().to_string()).collect(),
        surrogates: policy.surrogates,
        date_shift: policy.date_shift,
        allow: policy.allow,
        deny: policy.deny,
        custom: policy.custom.into_iter().map(|c| c.name).collect(),
    })
}

/// Saves the policy; it applies to traces received from now on, and the change is audited.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn save_phi_settings(settings: PhiSettings) -> Result<(), ServerFnError> {
    use aegis_core::phi::PhiType;
    use aegis_core::service::phi as rules;
    let (user, _) = crate::session::require_user().await?;
    let (phi, actor) = (crate::session::phi()?, crate::session::actor(&user));
    let mut policy = rules::policy(&phi, &actor).await.map_err(crate::session::user_error)?;
    policy.types = settings
        .types
        .iter()
        .map(|t| PhiType::parse(t).ok_or_else(|| ServerFnError::new(format!("unknown identifier type {t:?}"))))
        .collect::<Result<_, _>>()?;
    let clean =
        |terms: Vec<String>| terms.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    policy.surrogates = settings.surrogates;
    policy.date_shift = settings.date_shift;
    policy.allow = clean(settings.allow);
    policy.deny = clean(settings.deny);
    rules::set_policy(&phi, &actor, policy).await.map_err(crate::session::user_error)
}

/// A domain's dashboard for a range.
#[server]
pub async fn domain_dashboard(
    domain: String,
    range: TimeRange,
) -> Result<aegis_core::model::DomainDashboard, ServerFnError> {
    use aegis_core::service::analytics;
    let (user, store) = crate::session::require_user().await?;
    let domains = crate::session::domains()?;
    let q = range.query(None, aegis_core::model::Metric::Volume).map_err(crate::session::invalid)?;
    analytics::domain_dashboard(&store, &domains, &crate::session::actor(&user), &domain, &q)
        .await
        .map_err(crate::session::user_error)
}

/// Whom an invitation or reset link is for, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkDetails {
    pub email: String,
    pub organization: String,
    pub role: aegis_core::access::Role,
}

/// A dashboard user, as the Settings page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserListing {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: aegis_core::access::Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[server]
pub async fn list_users() -> Result<Vec<UserListing>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let users = store.list_users(&user.org_id).await.map_err(crate::session::internal)?;
    Ok(users
        .into_iter()
        .map(|u| UserListing { id: u.id, email: u.email, role: u.role, created_at: u.created_at })
        .collect())
}

/// Invites a colleague by email, with a one-time link to choose their password.
#[server]
pub async fn invite_user(email: String, role: String) -> Result<String, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let role = grantable_role(&user, &role)?;
    let config = crate::session::config()?;
    let actor = crate::session::actor(&user);
    match aegis_core::service::users::invite(&store, &config, &actor, &email, role).await {
        Ok(sent) => Ok(format!(
            "Invitation sent to {} as {}; the link works until {} UTC.",
            sent.email,
            sent.role.as_str(),
            sent.expires_at.format("%Y-%m-%d %H:%M")
        )),
        Err(e) => Err(crate::session::user_error(e)),
    }
}

/// What an invitation or reset link is for, for its page; an error when it is spent or expired.
#[server]
pub async fn pending_link(kind: aegis_core::model::LinkKind, token: String) -> Result<LinkDetails, ServerFnError> {
    let store = crate::session::store()?;
    match store.pending_link(kind, &token).await.map_err(crate::session::internal)? {
        Some(link) => Ok(LinkDetails { email: link.email, organization: link.org_name, role: link.role }),
        None => Err(ServerFnError::new("This link has been used or has expired. Ask for a new one.")),
    }
}

/// Joins the organization through an invitation, and signs in.
#[server]
pub async fn accept_invite(token: String, password: String) -> Result<(), ServerFnError> {
    let store = crate::session::store()?;
    let user = match store.accept_invite(&token, &password).await {
        Ok(user) => user,
        Err(aegis_core::Error::NotFound(_)) => {
            return Err(ServerFnError::new("This invitation has been used or has expired. Ask for a new one."))
        }
        Err(e) => return Err(crate::session::user_error(e)),
    };
    crate::session::start_session(&store, user.id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Emails a reset link if the address has an account; answers the same either way.
#[server]
pub async fn request_password_reset(email: String) -> Result<(), ServerFnError> {
    let store = crate::session::store()?;
    let config = crate::session::config()?;
    aegis_core::service::users::request_password_reset(&store, &config, &email)
        .await
        .map_err(crate::session::user_error)
}

/// Sets a new password through a reset link; every session of the account ends, and this
/// browser is signed in.
#[server]
pub async fn reset_password(token: String, password: String) -> Result<(), ServerFnError> {
    let store = crate::session::store()?;
    let user = match store.reset_password(&token, &password).await {
        Ok(user) => user,
        Err(aegis_core::Error::NotFound(_)) => {
            return Err(ServerFnError::new("This reset link has been used or has expired. Ask for a new one."))
        }
        Err(e) => return Err(crate::session::user_error(e)),
    };
    crate::session::start_session(&store, user.id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Whether the signed-in user has two-factor sign-in on.
#[server]
pub async fn totp_status() -> Result<bool, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let user = crate::session::account(&store, &user).await?;
    aegis_core::service::users::has_totp(&store, &user).await.map_err(crate::session::internal)
}

/// Starts turning two-factor sign-in on: the secret and its `otpauth://` URI.
#[server]
pub async fn start_totp() -> Result<(String, String), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let user = crate::session::account(&store, &user).await?;
    let phi = crate::session::phi()?;
    let enrolment =
        aegis_core::service::users::start_totp(&store, &phi, &user).await.map_err(crate::session::internal)?;
    Ok((enrolment.secret, enrolment.uri))
}

/// Turns two-factor sign-in on with the first code from the app.
#[server]
pub async fn confirm_totp(code: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let user = crate::session::account(&store, &user).await?;
    let phi = crate::session::phi()?;
    let now = chrono::Utc::now().timestamp();
    aegis_core::service::users::confirm_totp(&store, &phi, &user, &code, now).await.map_err(crate::session::user_error)
}

/// Turns two-factor sign-in off, with a current code.
#[server]
pub async fn disable_totp(code: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let user = crate::session::account(&store, &user).await?;
    let phi = crate::session::phi()?;
    let now = chrono::Utc::now().timestamp();
    aegis_core::service::users::disable_totp(&store, &phi, &user, &code, now).await.map_err(crate::session::user_error)
}

/// The signed-in user's own sessions, newest first.
#[server]
pub async fn my_sessions() -> Result<Vec<aegis_core::model::SessionInfo>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let current = crate::session::current_token().await;
    store.list_sessions(user.user_id, current.as_deref()).await.map_err(crate::session::internal)
}

/// Ends one of the signed-in user's sessions (a lost laptop, a shared computer).
#[server]
pub async fn revoke_session(id: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    match store.revoke_session(user.user_id, &id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ServerFnError::new("This session has already ended.")),
        Err(aegis_core::Error::Invalid(e)) => Err(crate::session::invalid(e)),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// Ends every session of the signed-in user but this one.
#[server]
pub async fn sign_out_elsewhere() -> Result<u64, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let token = crate::session::current_token().await.ok_or_else(|| ServerFnError::new("No session."))?;
    store.revoke_other_sessions(user.user_id, &token).await.map_err(crate::session::internal)
}

/// A role from a form; making an owner needs the `manage_owners` permission.
#[cfg(feature = "ssr")]
fn grantable_role(
    user: &aegis_core::store::SessionUser,
    role: &str,
) -> Result<aegis_core::access::Role, ServerFnError> {
    use aegis_core::access::Role;
    let role = Role::parse(role).ok_or_else(|| ServerFnError::new("role: must be owner, admin, reviewer or viewer"))?;
    if role == Role::Owner {
        crate::session::actor(user)
            .require(aegis_core::access::Capability::ManageOwners)
            .map_err(crate::session::refused)?;
    }
    Ok(role)
}

/// Adds a user to the organization with a role, and a password they sign in with (and should
/// change).
#[server]
pub async fn add_user(email: String, password: String, role: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let role = grantable_role(&user, &role)?;
    match store.create_user(&user.org_id, &email, &password, role, &crate::session::actor(&user).audit_name()).await {
        Ok(_) => Ok(()),
        Err(aegis_core::Error::Invalid(e)) => Err(crate::session::invalid(e)),
        Err(aegis_core::Error::Conflict(m)) => Err(ServerFnError::new(m)),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// The owner's and admins' say over an existing user: changing an owner, or making one, is for
/// owners; the organization keeps at least one owner.
#[cfg(feature = "ssr")]
async fn target_user(
    user: &aegis_core::store::SessionUser,
    store: &aegis_core::store::Store,
    id: uuid::Uuid,
) -> Result<aegis_core::store::User, ServerFnError> {
    let target = store
        .get_user(&user.org_id, id)
        .await
        .map_err(crate::session::internal)?
        .ok_or_else(|| ServerFnError::new("This user is not in your organization."))?;
    if target.role == aegis_core::access::Role::Owner {
        crate::session::actor(user)
            .require(aegis_core::access::Capability::ManageOwners)
            .map_err(crate::session::refused)?;
    }
    Ok(target)
}

#[server]
pub async fn change_user_role(id: uuid::Uuid, role: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    target_user(&user, &store, id).await?;
    let role = grantable_role(&user, &role)?;
    match store.set_user_role(&user.org_id, id, role, &crate::session::actor(&user).audit_name()).await {
        Ok(_) => Ok(()),
        Err(aegis_core::Error::Conflict(m)) => Err(ServerFnError::new(m)),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// Removes a user from the organization and ends their sessions.
#[server]
pub async fn remove_user(id: uuid::Uuid) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    target_user(&user, &store, id).await?;
    match store.remove_user(&user.org_id, id, &crate::session::actor(&user).audit_name()).await {
        Ok(_) => Ok(()),
        Err(aegis_core::Error::Conflict(m)) => Err(ServerFnError::new(m)),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// Generates a pack from a spec (YAML) and starts using it; returns what was generated.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn upload_pack(spec: String) -> Result<String, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let (config, domains) = (crate::session::config()?, crate::session::domains()?);
    let (pack, generated) =
        aegis_core::service::domains::add_pack(&store, &config, &domains, &crate::session::actor(&user), spec)
            .await
            .map_err(crate::session::user_error)?;
    Ok(format!("The {} pack is running.\n{}", pack.name(), generated.report()))
}

/// The Overview's cost section: spend in the range by domain and tier, in micro-dollars.
#[server]
pub async fn cost_report(range: TimeRange) -> Result<aegis_core::model::CostReport, ServerFnError> {
    use aegis_core::model::CostKey;
    use aegis_core::service::costs::{self, CostQuery};
    let (user, store) = crate::session::require_user().await?;
    let (from, to, _) = range.bounds(chrono::Utc::now());
    let q = CostQuery::new(from, to, vec![CostKey::Domain, CostKey::Tier]).map_err(crate::session::invalid)?;
    costs::report(&store, &crate::session::actor(&user), &q).await.map_err(crate::session::user_error)
}
