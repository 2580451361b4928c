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
    Ok(crate::session::user().await?.map(|u| SignedInUser { email: u.email, organization: u.org_name }))
}

/// `POST /api/login` (form: `email`, `password`): a stable address, for scripts too.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), ServerFnError> {
    crate::session::login(&email, &password).await?;
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
    use aegis_core::model::{Severity, TraceStatus};
    use aegis_core::store::ListQuery;

    let (user, store) = crate::session::require_user().await?;
    let TraceFilters { q, status, domain, severity, application, from, to, sort, cursor } = filters;
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let status = match nonempty(status) {
        Some(s) => Some(TraceStatus::parse(&s).ok_or_else(|| ServerFnError::new(format!("unknown status {s:?}")))?),
        None => None,
    };
    let severity = match nonempty(severity) {
        Some(s) => Some(Severity::parse(&s).ok_or_else(|| ServerFnError::new(format!("unknown severity {s:?}")))?),
        None => None,
    };
    // Dates from the page's date pickers: a day, UTC; `to` includes its whole day.
    let day = |v: Option<String>, field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ServerFnError> {
        match nonempty(v) {
            Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map(|d| Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
                .map_err(|_| ServerFnError::new(format!("{field} must be a date such as 2026-11-26"))),
            None => Ok(None),
        }
    };
    let query = ListQuery {
        limit: PAGE_SIZE,
        cursor: nonempty(cursor),
        domain: nonempty(domain),
        status,
        severity,
        application: nonempty(application),
        q: nonempty(q).map(|q| q.chars().take(500).collect()),
        from: day(from, "from")?,
        to: day(to, "to")?.map(|t| t + chrono::Duration::days(1)),
        oldest_first: sort.as_deref() == Some("oldest"),
    };
    store.list_trace_summaries(&user.org_id, &query).await.map_err(crate::session::internal)
}

/// One trace in full, with its evaluation.
#[server]
pub async fn trace_detail(trace_id: uuid::Uuid) -> Result<TraceWithEvaluation, ServerFnError> {
    use aegis_core::store::EvaluationLookup;

    let (user, store) = crate::session::require_user().await?;
    let trace = store
        .get_trace(&user.org_id, trace_id)
        .await
        .map_err(crate::session::internal)?
        .ok_or_else(|| ServerFnError::new("This trace does not exist in your organization."))?;
    let evaluation = match store.get_evaluation(&user.org_id, trace_id).await.map_err(crate::session::internal)? {
        EvaluationLookup::Done(e) => Some(*e),
        EvaluationLookup::Pending | EvaluationLookup::NotFound => None,
    };
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
}

/// What the Overview page shows for a range and an optional domain.
#[server]
pub async fn overview(range: TimeRange, domain: Option<String>) -> Result<aegis_core::model::Overview, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let (from, to, _) = range.bounds(chrono::Utc::now());
    let domain = domain.filter(|d| !d.is_empty());
    store.overview(&user.org_id, from, to, domain.as_deref()).await.map_err(crate::session::internal)
}

/// One chart of the Analytics page, as SVG drawn on the server with plotters.
#[server]
pub async fn chart(
    metric: aegis_core::model::Metric,
    range: TimeRange,
    domain: Option<String>,
) -> Result<String, ServerFnError> {
    use aegis_core::model::Trend;
    let (user, store) = crate::session::require_user().await?;
    let (from, to, bucket) = range.bounds(chrono::Utc::now());
    let domain = domain.filter(|d| !d.is_empty());
    let points =
        store.trend(&user.org_id, from, to, domain.as_deref(), bucket).await.map_err(crate::session::internal)?;
    crate::charts::render(&Trend::of(metric, bucket, from, to, &points)).map_err(|e| {
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
    let role = ApiKeyRole::parse(&role).ok_or_else(|| ServerFnError::new("Choose ingest or admin."))?;
    let key = store.create_api_key(&user.org_id, name, role).await.map_err(crate::session::internal)?;
    Ok(key.plaintext)
}

#[server]
pub async fn revoke_api_key(id: uuid::Uuid) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    if !store.revoke_api_key(&user.org_id, id).await.map_err(crate::session::internal)? {
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
    let domains = crate::session::domains()?;
    let set = domains.current();
    let org = user.org_id;
    let disabled = store.disabled_modules_of(&org).await.map_err(crate::session::internal)?;
    let on = |domain: &str, module: &str| !disabled.contains(&format!("{domain}/{module}"));
    Ok(set
        .domains()
        .iter()
        .map(|d| {
            let spec = &d.spec;
            DomainView {
                name: spec.name.clone(),
                title: spec.title.clone(),
                description: spec.description.clone(),
                version: spec.version,
                aliases: spec.aliases.clone(),
                built_in: d.dir.folder().is_none(),
                drugs: d.drugs.as_ref().map_or(0, |x| x.drug_count()),
                rules: spec
                    .tier1
                    .iter()
                    .map(|v| RuleView {
                        id: v.id.clone(),
                        description: v.description.clone(),
                        severity: v.severity,
                        in_pack: v.enabled,
                        enabled: v.enabled && on(&spec.name, &v.id),
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
                classifier_on: on(&spec.name, "classifier"),
                judge_on: on(&spec.name, "llm_judge"),
            }
        })
        .collect())
}

/// Switches a module of a pack on or off for the organization, from its next evaluation on.
#[server]
pub async fn switch_module(domain: String, module: String, enabled: bool) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let domains = crate::session::domains()?;
    let set = domains.current();
    let pack = set.route(&domain).ok_or_else(|| ServerFnError::new(format!("There is no domain pack {domain:?}.")))?;
    if !pack.module_names().contains(&module) {
        return Err(ServerFnError::new(format!("The {} pack has no module {module:?}.", pack.name())));
    }
    store
        .set_module_enabled(&user.org_id, pack.name(), &module, enabled, &format!("user:{}", user.email))
        .await
        .map_err(crate::session::internal)
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
    let policy = crate::session::phi()?.policy(&user.org_id).await.map_err(crate::session::internal)?;
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
    let (user, _) = crate::session::require_user().await?;
    let phi = crate::session::phi()?;
    let mut policy = phi.policy(&user.org_id).await.map_err(crate::session::internal)?;
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
    match phi.set_policy(&user.org_id, policy, &format!("user:{}", user.email)).await {
        Ok(()) => Ok(()),
        Err(aegis_core::Error::Invalid(e)) => Err(ServerFnError::new(format!("{}: {}", e.field, e.message))),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// A domain's dashboard for a range.
#[server]
pub async fn domain_dashboard(
    domain: String,
    range: TimeRange,
) -> Result<aegis_core::model::DomainDashboard, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let domains = crate::session::domains()?;
    let set = domains.current();
    let pack = set.route(&domain).ok_or_else(|| ServerFnError::new(format!("There is no domain pack {domain:?}.")))?;
    let (from, to, _) = range.bounds(chrono::Utc::now());
    aegis_core::domains::dashboard::dashboard(&store, &user.org_id, pack, from, to)
        .await
        .map_err(crate::session::internal)
}

/// A dashboard user, as the Settings page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserListing {
    pub email: String,
    pub role: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[server]
pub async fn list_users() -> Result<Vec<UserListing>, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let users = store.list_users(&user.org_id).await.map_err(crate::session::internal)?;
    Ok(users.into_iter().map(|u| UserListing { email: u.email, role: u.role, created_at: u.created_at }).collect())
}

/// Adds a user to the organization, with a password they sign in with (and should change).
#[server]
pub async fn add_user(email: String, password: String) -> Result<(), ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    match store.create_user(&user.org_id, &email, &password).await {
        Ok(_) => Ok(()),
        Err(aegis_core::Error::Invalid(e)) => Err(crate::session::invalid(e)),
        Err(aegis_core::Error::Conflict(m)) => Err(ServerFnError::new(m)),
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// Generates a pack from a spec (YAML) and starts using it; returns what was generated.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn upload_pack(spec: String) -> Result<String, ServerFnError> {
    crate::session::require_user().await?;
    let config = crate::session::config()?;
    if !config.allow_pack_uploads {
        return Err(ServerFnError::new("This installation does not accept new packs."));
    }
    let domains = crate::session::domains()?;
    let outcome = tokio::task::spawn_blocking(move || aegis_core::domains::generate::add_pack(&domains, &spec))
        .await
        .map_err(|_| ServerFnError::new("Generating the pack failed."))?;
    match outcome {
        Ok((name, generated)) => Ok(format!("The {name} pack is running.\n{}", generated.report())),
        Err(e @ (aegis_core::Error::Pack { .. } | aegis_core::Error::Invalid(_) | aegis_core::Error::Conflict(_))) => {
            Err(ServerFnError::new(e.to_string()))
        }
        Err(e) => Err(crate::session::internal(e)),
    }
}

/// The Overview's cost section: spend in the range by domain and tier, in micro-dollars.
#[server]
pub async fn cost_report(range: TimeRange) -> Result<aegis_core::model::CostReport, ServerFnError> {
    use aegis_core::model::CostKey;
    let (user, store) = crate::session::require_user().await?;
    let (from, to, _) = range.bounds(chrono::Utc::now());
    store.costs(&user.org_id, from, to, &[CostKey::Domain, CostKey::Tier]).await.map_err(crate::session::internal)
}
