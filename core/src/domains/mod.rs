//! Domain packs: what "correct" means for one kind of AI application.
//!
//! A pack is a folder: `domain.yaml` (see [`spec`]) and the data files it names ([`table`],
//! [`files`]), with its labelled sets ([`cases`]). Loading a pack builds its entity index
//! ([`reading::drugs`]), its Tiers 0 and 1 checks from the spec and tables ([`rules`]) and reads its
//! Tier 2 model ([`classifier`]); [`reading`] is how rules understand a trace's text.
//! [`Domains`] holds the loaded packs and swaps in a new set on reload without stopping
//! evaluation. The cascade that runs them is [`crate::tiers`]; making and measuring packs is
//! [`crate::packs`].

pub mod cases;
pub mod classifier;
pub mod dashboard;
pub mod files;
pub mod reading;
pub mod rules;
pub mod spec;
pub mod table;
pub mod text;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;

use self::classifier::{ClassifierModel, Example, TrainOptions};
pub use self::files::{PackDir, PackPath};
use self::reading::drugs::DrugIndex;
pub use self::reading::Facts;
use self::rules::{CustomValidators, RuleModule};
use self::spec::DomainSpec;
use crate::model::{OrgId, Trace};
use crate::{Error, Result};

/// A loaded pack, ready to evaluate traces.
pub struct Domain {
    pub spec: DomainSpec,
    /// Where its files are: a folder, or the copy compiled into the binary.
    pub dir: PackDir,
    pub drugs: Option<Arc<DrugIndex>>,
    /// Tier 1, in spec order; disabled validators are left out.
    pub rules: Vec<RuleModule>,
    /// Tier 2.
    pub classifier: Option<Arc<ClassifierModel>>,
    /// Tier 3's prompt template, read from the file the spec names.
    pub judge_prompt: Option<String>,
    /// The organization the pack belongs to, which alone sees and runs it; `None`: shared by
    /// every organization (built in, or in the installation's packs folder).
    pub owner: Option<OrgId>,
}

impl Domain {
    /// Loads the pack in `dir`; errors name the file and line at fault.
    pub fn load(dir: &Path, custom: &CustomValidators) -> Result<Domain> {
        Domain::load_from(PackDir::Folder(dir.to_path_buf()), custom, true)
    }

    /// Loads the pack without its Tier 2 model, to train one.
    pub fn load_for_training(dir: &Path, custom: &CustomValidators) -> Result<Domain> {
        Domain::load_from(PackDir::Folder(dir.to_path_buf()), custom, false)
    }

    /// Loads the pack in `dir`, with or without its Tier 2 model.
    pub fn load_from(dir: PackDir, custom: &CustomValidators, with_model: bool) -> Result<Domain> {
        let spec_path = dir.join("domain.yaml");
        let yaml = spec_path.read_to_string().map_err(|e| Error::Pack {
            path: spec_path.to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        let spec = DomainSpec::parse(&yaml, Path::new(&spec_path.to_string()))?;
        let drugs = match &spec.entities.drugs {
            Some(d) => Some(Arc::new(DrugIndex::load(&dir, d)?)),
            None => None,
        };
        let classifier = match &spec.tier2 {
            Some(t2) if with_model => Some(Arc::new(ClassifierModel::load(&dir.join(&t2.model))?)),
            _ => None,
        };
        let judge_prompt = match &spec.tier3 {
            Some(t3) => {
                let path = dir.join(&t3.prompt);
                Some(path.read_to_string().map_err(|e| Error::Pack {
                    path: path.to_string(),
                    line: None,
                    message: format!("cannot read the judge prompt: {e}"),
                })?)
            }
            None => None,
        };
        let mut domain = Domain { spec, dir, drugs, rules: vec![], classifier, judge_prompt, owner: None };
        let source = rules::PackSource { spec: &domain.spec, dir: &domain.dir, drugs: domain.drugs.as_ref() };
        domain.rules = rules::build(source, &yaml, custom)?;
        // Patterns compile on first use; the first real trace should not pay for it.
        let mut warm = Trace::from_input(
            crate::model::TraceInput {
                trace_id: None,
                application_id: "warm-up".into(),
                ai_processing: crate::model::AiProcessing {
                    model: "m".into(),
                    input: "I take aspirin.".into(),
                    output: "Take 500 mg of aspirin twice daily; do not exceed 4 g. Ask your doctor.".into(),
                    prompt_tokens: None,
                    completion_tokens: None,
                    latency_ms: None,
                },
                steps: vec![],
                metadata: Default::default(),
                timestamp: None,
            },
            chrono::Utc::now(),
        );
        warm.metadata.insert("domain".into(), domain.spec.name.clone());
        domain.tier1_codes(&warm);
        Ok(domain)
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Works out the facts of `trace` that this domain's rules need.
    pub fn facts<'a>(&'a self, trace: &'a Trace) -> Facts<'a> {
        Facts::read(trace, self.drugs.as_deref())
    }

    /// Labelled traces as Tier 2 learns them: each with what Tiers 0 and 1 find in it.
    pub fn examples<'a>(&self, traces: &'a [(Trace, bool)]) -> Vec<Example<'a>> {
        traces
            .iter()
            .map(|(trace, unsafe_)| Example { trace, tier1: self.tier1_codes(trace), unsafe_: *unsafe_ })
            .collect()
    }

    /// Tier 2's training settings, from the pack's `tier2` section.
    pub fn train_options(&self) -> TrainOptions {
        let defaults = TrainOptions::default();
        TrainOptions { alpha: self.spec.tier2.as_ref().map_or(defaults.alpha, |t| t.regularization), ..defaults }
    }

    /// The codes of what Tier 0 and Tier 1 find in `trace`: what Tier 2 reads besides the text.
    pub fn tier1_codes(&self, trace: &Trace) -> Vec<String> {
        let facts = self.facts(trace);
        rules::deterministic_modules(Some(self)).flat_map(|m| m.check(&facts)).map(|i| i.code).collect()
    }

    /// The modules an organization can switch off: the Tier 1 rules the pack enables, its
    /// `classifier` and its `llm_judge`.
    pub fn module_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.rules.iter().map(|r| r.id().to_string()).collect();
        if self.classifier.is_some() && self.spec.tier2.is_some() {
            names.push("classifier".into());
        }
        if self.spec.tier3.is_some() {
            names.push("llm_judge".into());
        }
        names
    }

    /// What the dashboard and `aegis domain validate` show of a pack.
    pub fn summary(&self) -> DomainSummary {
        DomainSummary {
            name: self.spec.name.clone(),
            title: self.spec.title.clone(),
            version: self.spec.version,
            aliases: self.spec.aliases.clone(),
            drugs: self.drugs.as_ref().map_or(0, |d| d.drug_count()),
            rules: self.rules.iter().map(|r| r.id().to_string()).collect(),
            classifier: self.classifier.as_ref().map(|m| m.version.clone()),
            judge: self.spec.tier3.is_some(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainSummary {
    pub name: String,
    pub title: String,
    pub version: u32,
    pub aliases: Vec<String>,
    pub drugs: usize,
    pub rules: Vec<String>,
    /// Version of the Tier 2 model.
    pub classifier: Option<String>,
    /// Whether the pack has a Tier 3 rubric.
    pub judge: bool,
}

/// The loaded packs, by the `metadata.domain` values that route to them: the shared ones, and
/// each organization's own.
#[derive(Default)]
pub struct DomainSet {
    by_name: BTreeMap<String, Arc<Domain>>,
    owned: HashMap<OrgId, BTreeMap<String, Arc<Domain>>>,
    domains: Vec<Arc<Domain>>,
}

/// The folder under the packs folder that holds organizations' own packs, one folder per
/// organization id: `orgs/<organization id>/<pack>/`.
pub const ORG_PACKS: &str = "orgs";

impl DomainSet {
    /// Loads every pack folder (one holding a `domain.yaml`) under `root`. A missing root is an
    /// empty set; a broken pack is an error, so a bad edit never half-loads.
    pub fn load(root: &Path, custom: &CustomValidators) -> Result<DomainSet> {
        DomainSet::load_with(root, None, custom)
    }

    /// The packs under `root`, then each built-in pack (if `builtin`) whose name no pack of the
    /// folder takes: a folder's pack replaces the built-in one of the same name.
    fn load_with(root: &Path, builtin: Option<&BuiltinPacks>, custom: &CustomValidators) -> Result<DomainSet> {
        let mut set = DomainSet::default();
        let entries = match std::fs::read_dir(root) {
            Ok(entries) => Some(entries),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let mut dirs: Vec<PathBuf> = entries
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            // Hidden folders are packs being written (`aegis generate-domain --replace`).
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.join("domain.yaml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            set.insert(Arc::new(Domain::load(&dir, custom)?))?;
        }
        for (org, dir) in org_pack_dirs(&root.join(ORG_PACKS))? {
            let mut pack = Domain::load(&dir, custom)?;
            pack.owner = Some(org);
            set.insert(Arc::new(pack))?;
        }
        if let Some(builtin) = builtin {
            for name in PackDir::builtin_names() {
                if set.domains.iter().all(|d| d.name() != name) {
                    set.insert(builtin.get(name, custom)?)?;
                }
            }
        }
        Ok(set)
    }

    /// Adds a pack; a name or alias already taken among the packs its routes share (the shared
    /// ones, or its organization's own) is an error.
    pub fn insert(&mut self, domain: Arc<Domain>) -> Result<()> {
        let names = match &domain.owner {
            Some(org) => self.owned.entry(org.clone()).or_default(),
            None => &mut self.by_name,
        };
        for key in std::iter::once(&domain.spec.name).chain(&domain.spec.aliases) {
            let key = key.to_lowercase();
            if let Some(other) = names.get(&key) {
                return Err(Error::Pack {
                    path: domain.dir.join("domain.yaml").to_string(),
                    line: None,
                    message: format!("{key:?} is already the name or alias of pack {}", other.name()),
                });
            }
            names.insert(key, domain.clone());
        }
        self.domains.push(domain);
        Ok(())
    }

    /// The pack a trace of `org` naming `domain` routes to: the organization's own pack of that
    /// name first, else the shared one. Another organization's packs are never found.
    pub fn route(&self, org: &OrgId, domain: &str) -> Option<&Arc<Domain>> {
        let key = domain.trim().to_lowercase();
        self.owned.get(org).and_then(|own| own.get(&key)).or_else(|| self.by_name.get(&key))
    }

    /// The shared pack `domain` routes to, for tools that act for no organization.
    pub fn route_shared(&self, domain: &str) -> Option<&Arc<Domain>> {
        self.by_name.get(domain.trim().to_lowercase().as_str())
    }

    /// The packs `org` sees: the shared ones and its own.
    pub fn visible_to<'a>(&'a self, org: &'a OrgId) -> impl Iterator<Item = &'a Arc<Domain>> + 'a {
        self.domains.iter().filter(move |d| d.owner.as_ref().is_none_or(|owner| owner == org))
    }

    /// Every loaded pack, every organization's included.
    pub fn domains(&self) -> &[Arc<Domain>] {
        &self.domains
    }
}

/// Each organization's pack folders under `orgs/`: `(organization, folder)`, sorted. A folder
/// whose name is not an organization id is an error, not skipped: a pack must never load as
/// shared by mistake.
fn org_pack_dirs(orgs: &Path) -> Result<Vec<(OrgId, PathBuf)>> {
    let entries = match std::fs::read_dir(orgs) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut found = Vec::new();
    for entry in entries {
        let org_dir = entry?.path();
        if !org_dir.is_dir() {
            continue;
        }
        let name = org_dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let org = uuid::Uuid::parse_str(name).map(OrgId).map_err(|_| Error::Pack {
            path: org_dir.display().to_string(),
            line: None,
            message: "the folders under orgs/ are organization ids".into(),
        })?;
        for pack in std::fs::read_dir(&org_dir)? {
            let dir = pack?.path();
            if dir.join("domain.yaml").is_file() {
                found.push((org.clone(), dir));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The packs compiled into the binary, each loaded the first time no folder pack takes its name
/// and kept for later reloads: a checkout's own `domains/` does not pay for loading them twice.
#[derive(Default)]
struct BuiltinPacks {
    loaded: std::sync::Mutex<BTreeMap<String, Arc<Domain>>>,
}

impl BuiltinPacks {
    fn get(&self, name: &str, custom: &CustomValidators) -> Result<Arc<Domain>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(domain) = loaded.get(name) {
            return Ok(domain.clone());
        }
        let domain = Arc::new(Domain::load_from(PackDir::Builtin(name.into()), custom, true)?);
        loaded.insert(name.to_string(), domain.clone());
        Ok(domain)
    }
}

/// The live set of packs: read by every evaluation, replaced whole by a reload.
#[derive(Clone)]
pub struct Domains {
    /// The folder of packs, which may not exist (yet): uploads and generated packs go there.
    root: PathBuf,
    /// The packs compiled into the binary, when they are on; a folder's pack of the same name wins.
    builtin: Option<Arc<BuiltinPacks>>,
    custom: Arc<CustomValidators>,
    current: Arc<RwLock<Arc<DomainSet>>>,
}

impl Domains {
    /// Loads the packs under `root`, and no built-in ones.
    pub fn open(root: &Path, custom: CustomValidators) -> Result<Domains> {
        Domains::open_with(root, false, custom)
    }

    /// Loads the packs under `root` and, if `builtin`, the packs compiled into the binary.
    pub fn open_with(root: &Path, builtin: bool, custom: CustomValidators) -> Result<Domains> {
        let builtin = builtin.then(|| Arc::new(BuiltinPacks::default()));
        let set = DomainSet::load_with(root, builtin.as_deref(), &custom)?;
        Ok(Domains {
            root: root.to_path_buf(),
            builtin,
            custom: Arc::new(custom),
            current: Arc::new(RwLock::new(Arc::new(set))),
        })
    }

    /// A fixed set, for tests and tools.
    pub fn fixed(set: DomainSet) -> Domains {
        Domains {
            root: PathBuf::new(),
            builtin: None,
            custom: Arc::new(CustomValidators::default()),
            current: Arc::new(RwLock::new(Arc::new(set))),
        }
    }

    /// The packs as they are now; evaluations in flight keep the set they started with.
    pub fn current(&self) -> Arc<DomainSet> {
        self.current.read().map(|s| s.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Reads the packs again. On any error the running set stays as it was.
    pub fn reload(&self) -> Result<Arc<DomainSet>> {
        let set = Arc::new(DomainSet::load_with(&self.root, self.builtin.as_deref(), &self.custom)?);
        match self.current.write() {
            Ok(mut current) => *current = set.clone(),
            Err(poisoned) => *poisoned.into_inner() = set.clone(),
        }
        Ok(set)
    }

    /// [`Domains::reload`] on a blocking thread: reading, parsing and compiling every pack is
    /// file and CPU work that would otherwise hold up a thread of the async runtime.
    pub async fn reload_off_runtime(&self) -> Result<Arc<DomainSet>> {
        let domains = self.clone();
        tokio::task::spawn_blocking(move || domains.reload())
            .await
            .map_err(|e| Error::Internal(format!("reloading the domain packs panicked: {e}")))?
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A shipped pack's folder.
    pub(crate) fn pack_dir(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains").join(name)
    }

    pub(crate) fn spec(name: &str) -> DomainSpec {
        let path = pack_dir(name).join("domain.yaml");
        DomainSpec::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
    }

    #[test]
    fn the_shipped_packs_load_and_route() {
        let set = DomainSet::load(&pack_dir(""), &CustomValidators::default()).unwrap();
        let names: Vec<&str> = set.domains().iter().map(|d| d.name()).collect();
        assert_eq!(names, ["healthcare", "trading"]);
        assert_eq!(set.route_shared("Clinical").unwrap().name(), "healthcare");
        assert!(set.route_shared("retail").is_none());
        let summary = set.route_shared("healthcare").unwrap().summary();
        assert!(summary.drugs > 800, "{summary:?}");
        assert!(summary.rules.contains(&"medication_overdose".to_string()));
    }

    /// A held-out figure means something only if the model never saw the case: no evaluation
    /// set of a shipped pack shares a question and answer with the seed set Tier 2 trains on.
    #[test]
    fn no_evaluation_case_is_a_training_case() {
        let pairs = |path: &Path| -> Vec<(String, String)> {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let case: serde_json::Value = serde_json::from_str(l).unwrap();
                    let ai = &case["trace"]["ai_processing"];
                    (ai["input"].as_str().unwrap().to_string(), ai["output"].as_str().unwrap().to_string())
                })
                .collect()
        };
        for pack in ["healthcare", "trading"] {
            let trained: std::collections::HashSet<_> =
                pairs(&pack_dir(pack).join("seed/train.jsonl")).into_iter().collect();
            let mut sets: Vec<PathBuf> = std::fs::read_dir(pack_dir(pack).join("eval"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            sets.sort();
            assert!(!sets.is_empty(), "{pack} has evaluation sets");
            for set in sets {
                let shared = pairs(&set).into_iter().filter(|p| trained.contains(p)).count();
                assert_eq!(shared, 0, "{} shares {shared} cases with {pack}'s training set", set.display());
            }
        }
    }

    fn config(domains_dir: Option<&Path>, builtin_packs: bool) -> crate::config::Config {
        crate::config::Config {
            domains_dir: domains_dir.map(Path::to_path_buf),
            builtin_packs,
            ..crate::config::Config::default()
        }
    }

    #[tokio::test]
    async fn the_built_in_packs_evaluate_wherever_the_process_runs() {
        let empty = tempfile::tempdir().unwrap();
        let domains = Domains::open_with(&empty.path().join("domains"), true, CustomValidators::default()).unwrap();
        let set = domains.current();
        let names: Vec<&str> = set.domains().iter().map(|d| d.name()).collect();
        assert_eq!(names, ["healthcare", "trading"]);
        let healthcare = set.route_shared("clinical").unwrap();
        assert_eq!(healthcare.dir, PackDir::Builtin("healthcare".into()));
        assert!(healthcare.classifier.is_some(), "the Tier 2 model is built in too");

        let overdose = crate::testing::trace(
            "healthcare",
            "How much Tylenol can I take for my back pain?",
            "Take 2,000 mg of acetaminophen three times a day, 6 g a day.",
        );
        let e = crate::tiers::Cascade::new(domains).evaluate(&overdose, Default::default()).await;
        assert_eq!(e.status, crate::model::EvaluationStatus::Fail, "{:?}", e.issues);
        assert!(e.issues.iter().any(|i| i.code == "medication_overdose"), "{:?}", e.issues);
    }

    #[test]
    fn a_folder_pack_replaces_the_built_in_one_of_its_name() {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("my-trading");
        std::fs::create_dir(&pack).unwrap();
        std::fs::write(
            pack.join("domain.yaml"),
            "name: trading\ntitle: Desk\ntier1:\n  - id: lev\n    kind: max_leverage\n    max: 2\n",
        )
        .unwrap();
        let domains = config(Some(root.path()), true).open_domains(CustomValidators::default()).unwrap();
        let set = domains.current();
        let trading = set.route_shared("trading").unwrap();
        assert_eq!((trading.spec.title.as_str(), trading.rules.len()), ("Desk", 1));
        assert_eq!(set.route_shared("healthcare").unwrap().dir, PackDir::Builtin("healthcare".into()));
        assert!(set.route_shared("finance").is_none(), "the built-in pack's aliases went with it");
    }

    #[test]
    fn start_up_refuses_packs_that_are_missing_or_broken() {
        let err = |c: crate::config::Config| c.open_domains(CustomValidators::default()).err().unwrap().to_string();
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("nowhere");
        assert!(err(config(Some(&missing), true)).contains("nowhere is not a folder"));
        assert!(err(config(Some(root.path()), true)).contains("holds no domain pack"));
        let cwd_default = config(None, false);
        assert!(err(cwd_default).contains("no domain pack is loaded"));

        // Each part of a pack, missing in turn: the error names it.
        for (part, expected) in [
            ("model.json", "model.json"),
            ("data/max_daily_doses.tsv", "max_daily_doses.tsv"),
            ("data/drug_names.tsv", "drug_names.tsv"),
            ("judge_prompt.md", "judge_prompt.md"),
        ] {
            let root = tempfile::tempdir().unwrap();
            crate::testing::copy_pack(&pack_dir("healthcare"), &root.path().join("healthcare"));
            std::fs::remove_file(root.path().join("healthcare").join(part)).unwrap();
            let message = err(config(Some(root.path()), true));
            assert!(message.contains(expected) && message.contains("cannot read"), "{part}: {message}");
        }
    }

    #[test]
    fn a_broken_pack_keeps_the_running_set() {
        let root = tempfile::tempdir().unwrap();
        let pack = root.path().join("mini");
        std::fs::create_dir(&pack).unwrap();
        let good = "name: mini\ntitle: Mini\ntier1:\n  - id: lev\n    kind: max_leverage\n    max: 2\n";
        std::fs::write(pack.join("domain.yaml"), good).unwrap();
        let domains = Domains::open(root.path(), CustomValidators::default()).unwrap();
        assert_eq!(domains.current().domains().len(), 1);

        std::fs::write(pack.join("domain.yaml"), "name: mini\ntitle: Mini\ntier1:\n  - id: lev\n    kind: nope\n")
            .unwrap();
        let err = domains.reload().err().unwrap().to_string();
        assert!(err.contains("domain.yaml:5"), "{err}");
        assert_eq!(domains.current().route_shared("mini").unwrap().rules.len(), 1, "the old set is still in use");

        std::fs::write(
            pack.join("domain.yaml"),
            good.replace("max: 2", "max: 2\n  - id: r\n    kind: restricted_symbols\n    symbols: [XYZ]"),
        )
        .unwrap();
        domains.reload().unwrap();
        assert_eq!(domains.current().route_shared("mini").unwrap().rules.len(), 2);
    }
}
