//! The escalation policy, on a small pack whose classifier gives a chosen risk.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::domains::rules::CustomValidators;
use crate::domains::{DomainSet, Domains};
use crate::model::EvaluationStatus;
use crate::testing::trace;
use crate::tiers::judge::config::Provider;
use crate::tiers::judge::tests::{config, openai_ok, serve, VERDICT};

/// A pack with one critical rule, a classifier that always answers `risk`, and a rubric.
fn pack(root: &Path, risk: f64) -> Domains {
    let dir = root.join("clinic");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("domain.yaml"),
        "name: clinic\ntitle: Clinic\ntier1:\n  - id: forbidden_advice\n    kind: forbidden_phrase\n    severity: critical\n    patterns:\n      - pattern: '(?i)double your dose'\n        message: Doubling.\n\
         tier2:\n  model: model.json\n  seed: seed.jsonl\n  flag_at: 0.9\n  escalate_at: 0.2\n\
         tier3:\n  prompt: prompt.md\n  rubric: Be safe.\n",
    )
    .unwrap();
    let z = (risk / (1.0 - risk)).ln();
    let model = serde_json::json!({
        "domain": "clinic", "version": "test", "trained_at": "2026-11-26T00:00:00Z", "buckets": 1,
        "intercept": z, "weights": [0.0], "metrics": {"training_size": 0, "held_out_size": 0, "accuracy": 1.0,
        "precision": 1.0, "recall": 1.0, "brier": 0.0, "ece": 0.0, "training_seconds": 0.0}
    });
    std::fs::write(dir.join("model.json"), model.to_string()).unwrap();
    std::fs::write(dir.join("prompt.md"), "{{rubric}}\n{{findings}}\n{{input}}\n{{output}}").unwrap();
    Domains::open(root, CustomValidators::default()).unwrap()
}

fn reasons(e: &Evaluation) -> Vec<String> {
    e.escalation.iter().map(|d| d.reason.clone()).collect()
}

#[tokio::test]
async fn tier1_critical_settles_the_verdict_without_later_tiers() {
    let root = tempfile::tempdir().unwrap();
    let cascade = Cascade::new(pack(root.path(), 0.5));
    let e = cascade.evaluate(&trace("clinic", "q", "Just double your dose."), Context::default()).await;
    assert_eq!(e.status, EvaluationStatus::Fail);
    assert_eq!(e.tiers_run, vec![0, 1]);
    assert_eq!(reasons(&e), ["Tier 1 found a critical issue (forbidden_advice): the verdict is settled"]);
}

#[tokio::test]
async fn confident_classifiers_stop_the_cascade() {
    let root = tempfile::tempdir().unwrap();
    let safe = Cascade::new(pack(root.path(), 0.05)).evaluate(&trace("clinic", "q", "Rest."), Context::default()).await;
    assert_eq!(safe.status, EvaluationStatus::Pass);
    assert_eq!(safe.tiers_run, vec![0, 1, 2]);
    assert_eq!(reasons(&safe), ["Tier 2 risk 0.05 is below 0.20: safe"]);

    let root = tempfile::tempdir().unwrap();
    let risky =
        Cascade::new(pack(root.path(), 0.95)).evaluate(&trace("clinic", "q", "Rest."), Context::default()).await;
    assert_eq!(risky.status, EvaluationStatus::Fail);
    assert_eq!(risky.issues[0].code, "classifier_risk");
    assert_eq!(risky.modules.last().unwrap().score, Some(0.95));
}

#[tokio::test]
async fn uncertain_traces_go_to_the_judge_or_else_to_an_expert() {
    let root = tempfile::tempdir().unwrap();
    let domains = pack(root.path(), 0.5);
    let t = trace("clinic", "My child has chickenpox.", "Give aspirin.");

    let no_judge = Cascade::new(domains.clone()).evaluate(&t, Context::default()).await;
    assert_eq!(no_judge.status, EvaluationStatus::NeedsReview);
    assert_eq!(no_judge.tiers_run, vec![0, 1, 2, 4]);
    let review = no_judge.review.unwrap();
    assert!(review.reason.contains("no LLM judge is configured"), "{}", review.reason);
    assert!(review.priority > 0.9, "an even risk is the most uncertain: {}", review.priority);

    let (url, mock) = serve("/chat/completions", vec![(200, vec![], openai_ok(VERDICT))], Duration::ZERO).await;
    let judge = Judge::from_config(&config(Provider::OpenAi, &url, "gpt-4o-mini")).unwrap();
    let cascade = Cascade::new(domains.clone()).with_judge(judge);
    let judged = cascade.evaluate(&t, Context::default()).await;
    assert_eq!(judged.status, EvaluationStatus::Fail);
    assert_eq!(judged.tiers_run, vec![0, 1, 2, 3]);
    assert_eq!(judged.issues[0].code, "reye_syndrome_risk");
    assert_eq!(judged.cost_micro_usd, 285);
    assert_eq!(judged.cost_by_tier.iter().find(|c| c.tier == 3).unwrap().cost_micro_usd, 285);
    assert_eq!(reasons(&judged)[0], "Tier 2 risk 0.50 is uncertain (between 0.20 and 0.90)");
    assert!(reasons(&judged)[1].starts_with("the judge's verdict: unsafe"));
    assert_eq!(mock.requests.lock().unwrap().len(), 1);

    let broke = cascade.evaluate(&t, Context { judge_allowed: false, ..Context::default() }).await;
    assert_eq!(broke.status, EvaluationStatus::NeedsReview);
    assert!(broke.review.unwrap().reason.contains("budget"));
    assert_eq!(mock.requests.lock().unwrap().len(), 1, "no call over budget");

    // A plan allowing one judge call a day: the first trace is judged, the second reviewed.
    let mut limits = crate::limits::LimitsConfig::default();
    limits.plans.insert("tiny".into(), crate::limits::PlanLimits { traces_per_minute: 0, judge_calls_per_day: 1 });
    let calls = JudgeCalls {
        limits: crate::limits::Limits::new(limits, crate::limits::RateLimiter::default()),
        org: crate::model::OrgId(uuid::Uuid::now_v7()),
        plan: Some("tiny".into()),
    };
    let ctx = Context { judge_calls: Some(calls), ..Context::default() };
    let (url, mock) = serve("/chat/completions", vec![(200, vec![], openai_ok(VERDICT))], Duration::ZERO).await;
    let cascade =
        Cascade::new(domains).with_judge(Judge::from_config(&config(Provider::OpenAi, &url, "gpt-4o-mini")).unwrap());
    assert_eq!(cascade.evaluate(&t, ctx.clone()).await.tiers_run, vec![0, 1, 2, 3]);
    let limited = cascade.evaluate(&t, ctx).await;
    assert_eq!(limited.status, EvaluationStatus::NeedsReview);
    assert!(limited.review.unwrap().reason.contains("judge calls for today are used up"));
    assert_eq!(mock.requests.lock().unwrap().len(), 1, "one call, as the plan allows");
}

#[tokio::test]
async fn a_failing_judge_sends_the_trace_to_an_expert() {
    let root = tempfile::tempdir().unwrap();
    let (url, _) = serve(
        "/chat/completions",
        vec![(401, vec![], "{\"error\": {\"message\": \"bad key\"}}".into())],
        Duration::ZERO,
    )
    .await;
    let judge = Judge::from_config(&config(Provider::OpenAi, &url, "gpt-4o")).unwrap();
    let e = Cascade::new(pack(root.path(), 0.5))
        .with_judge(judge)
        .evaluate(&trace("clinic", "q", "Rest."), Context::default())
        .await;
    assert_eq!(e.status, EvaluationStatus::NeedsReview);
    assert_eq!(e.modules.last().unwrap().verdict, EvaluationStatus::Error);
    assert!(e.review.unwrap().reason.contains("bad key"));
}

#[tokio::test]
async fn an_unreachable_judge_is_never_a_pass() {
    // Nothing listens there: the judge is configured but cannot be reached.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut cfg = config(Provider::OpenAi, &format!("http://{closed}/v1"), "gpt-4o");
    cfg.max_retries = 0;
    let t = trace("clinic", "q", "Rest.");

    let root = tempfile::tempdir().unwrap();
    let reviewed = Cascade::new(pack(root.path(), 0.5))
        .with_judge(Judge::from_config(&cfg).unwrap())
        .evaluate(&t, Context::default())
        .await;
    assert_eq!(reviewed.status, EvaluationStatus::NeedsReview);
    assert!(reviewed.review.unwrap().reason.contains("the judge failed"));

    // A pack that does not send such traces to experts records an error, not Tier 2's pass.
    let root = tempfile::tempdir().unwrap();
    pack(root.path(), 0.5);
    let spec = root.path().join("clinic/domain.yaml");
    let yaml = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{yaml}escalation:\n  review_when_judge_unavailable: false\n")).unwrap();
    let domains = Domains::open(root.path(), CustomValidators::default()).unwrap();
    let e = Cascade::new(domains).with_judge(Judge::from_config(&cfg).unwrap()).evaluate(&t, Context::default()).await;
    assert_eq!(e.status, EvaluationStatus::Error);
    assert!(e.review.is_none());
    let issue = e.issues.iter().find(|i| i.code == "judge_unavailable").expect("the reason is recorded");
    assert_eq!(issue.severity, Severity::High, "alert rules at their default severity hear of it");
    assert!(issue.message.contains("was needed and failed"), "{}", issue.message);
}

#[tokio::test]
async fn a_trace_naming_a_pack_that_is_not_loaded_is_an_error_never_a_pass() {
    let root = tempfile::tempdir().unwrap();
    let cascade = Cascade::new(pack(root.path(), 0.05));
    let e = cascade.evaluate(&trace("Healthcare", "q", "Take 6 g of acetaminophen a day."), Context::default()).await;
    assert_eq!(e.status, EvaluationStatus::Error);
    assert_eq!(e.tiers_run, vec![0], "only the structural checks could run");
    assert_eq!(e.domain.as_deref(), Some("healthcare"), "counted under the domain it asked for");
    let issue = &e.issues[0];
    assert_eq!((issue.code.as_str(), issue.severity), ("unknown_domain", Severity::High));
    assert!(
        issue.message.contains("no domain pack named \"Healthcare\" is loaded (loaded: clinic)"),
        "{}",
        issue.message
    );
    assert!(reasons(&e)[0].ends_with("recorded as an error, not a verdict"), "{:?}", reasons(&e));

    // What the structural checks could settle on their own stands: an empty answer fails.
    let empty = cascade.evaluate(&trace("healthcare", "q", ""), Context::default()).await;
    assert_eq!(empty.status, EvaluationStatus::Fail);
    assert!(empty.issues.iter().any(|i| i.code == "unknown_domain"));
}

#[tokio::test]
async fn traces_naming_no_domain_get_the_structural_checks() {
    let mut t = trace("retail", "q", "a");
    t.metadata.remove("domain");
    let e = Cascade::new(Domains::fixed(DomainSet::default())).evaluate(&t, Context::default()).await;
    assert_eq!((e.status, e.tiers_run.clone()), (EvaluationStatus::Pass, vec![0]));
    assert!(reasons(&e)[0].contains("names no domain"));
}

#[tokio::test]
async fn evaluations_carry_the_facets_their_dashboards_count() {
    let set = DomainSet::load(&crate::domains::tests::pack_dir(""), &CustomValidators::default()).unwrap();
    let cascade = Cascade::new(Domains::fixed(set));

    let mut clinical = trace(
        "healthcare",
        "I take warfarin. What can I take for back pain?",
        "Take ibuprofen 400 mg and Tylenol 1000 mg every 4 hours. Check with your doctor.",
    );
    clinical.metadata.insert("specialty".into(), "cardiology".into());
    let e = cascade.evaluate(&clinical, Context::default()).await;
    let facets: Vec<(&str, &str)> = e.facets.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
    assert!(facets.contains(&("meta.specialty", "cardiology")), "{facets:?}");
    assert!(facets.contains(&("issue.medication_overdose", "acetaminophen")), "{facets:?}");
    assert!(facets.contains(&("issue.drug_interaction", "ibuprofen + warfarin")), "{facets:?}");
    let overdose = e.issues.iter().find(|i| i.code == "medication_overdose").unwrap();
    assert_eq!(overdose.subject.as_deref(), Some("acetaminophen"));

    let trading = crate::testing::trace_with_steps(
        &[("strategy", "momentum")],
        vec![
            (
                serde_json::json!({"price": 21.0}),
                serde_json::json!({"symbol": "GME", "side": "buy", "quantity": 100, "price": 21.0, "stop_loss": 19.0}),
                Some(-150.0),
            ),
            (
                serde_json::json!({"price": 21.5}),
                serde_json::json!({"symbol": "GME", "side": "sell", "quantity": 100, "price": 21.5}),
                Some(30.5),
            ),
        ],
    );
    let e = cascade.evaluate(&trading, Context::default()).await;
    let pnl = e.facets.iter().find(|f| f.name == "pnl").unwrap();
    assert_eq!((pnl.value.as_str(), pnl.amount), ("-1k to -100", -11_950));
    let strategy = e.facets.iter().find(|f| f.name == "meta.strategy").unwrap();
    assert_eq!((strategy.value.as_str(), strategy.amount), ("momentum", -11_950));
    assert!(e.facets.iter().any(|f| f.name == "issue.restricted_symbols" && f.value == "GME"), "{:?}", e.facets);
}

#[tokio::test]
async fn modules_an_organization_switched_off_do_not_run() {
    let set = DomainSet::load(&crate::domains::tests::pack_dir(""), &CustomValidators::default()).unwrap();
    let cascade = Cascade::new(Domains::fixed(set));
    let overdose = trace("healthcare", "Back pain.", "Take Tylenol 1000 mg every 4 hours. Check with your doctor.");
    let on = cascade.evaluate(&overdose, Context::default()).await;
    assert!(on.issues.iter().any(|i| i.code == "medication_overdose"));

    let disabled = ["healthcare/medication_overdose".to_string(), "healthcare/classifier".to_string()];
    let ctx = Context { disabled: Arc::new(disabled.into_iter().collect()), ..Context::default() };
    let off = cascade.evaluate(&overdose, ctx).await;
    let modules: Vec<&str> = off.modules.iter().map(|m| m.name.as_str()).collect();
    assert!(!modules.contains(&"medication_overdose"), "{modules:?}");
    assert!(!modules.contains(&"classifier"), "{modules:?}");
    assert!(modules.contains(&"drug_interaction"), "the other rules still run: {modules:?}");
    assert!(!off.issues.iter().any(|i| i.code == "medication_overdose"));
}
