use chrono::Utc;
use uuid::Uuid;

use super::*;
use crate::model::{Severity, TopIssue};

fn rule() -> AlertRule {
    AlertRule {
        id: "ar_1".into(),
        name: "Overdoses".into(),
        min_severity: Severity::High,
        domains: vec!["healthcare".into()],
        issue_types: vec![],
        channels: vec![],
        cooldown_secs: 300,
        enabled: true,
        created_at: Utc::now(),
    }
}

fn issue(code: &str, severity: Severity) -> Issue {
    Issue { code: code.into(), module: "m".into(), severity, message: "msg".into(), evidence: None, subject: None }
}

/// An alert as the channels' tests format it.
pub(crate) fn alert(grouped: u64) -> Alert {
    Alert {
        id: "al_1".into(),
        rule_id: "ar_1".into(),
        rule_name: "Overdoses <all>".into(),
        group_key: group_key(Some("healthcare"), "medication_overdose"),
        trace_id: Uuid::nil(),
        domain: Some("healthcare".into()),
        issue_type: "medication_overdose".into(),
        severity: Severity::Critical,
        summary: "acetaminophen 6000 mg/day > 4000 mg & more".into(),
        grouped,
        status: AlertStatus::Triggered,
        url: "https://aegis.example/traces/1".into(),
        created_at: Utc::now(),
        resolved_at: None,
    }
}

#[test]
fn a_rule_picks_the_worst_issue_that_passes_its_filters() {
    let issues = [
        issue("missing_disclaimer", Severity::Low),
        issue("medication_overdose", Severity::Critical),
        issue("drug_interaction", Severity::High),
    ];
    let mut r = rule();
    assert_eq!(matching_issue(&r, Some("healthcare"), &issues).unwrap().code, "medication_overdose");
    assert!(matching_issue(&r, Some("trading"), &issues).is_none(), "another domain");
    assert!(matching_issue(&r, None, &issues).is_none());
    r.issue_types = vec!["drug_interaction".into()];
    assert_eq!(matching_issue(&r, Some("healthcare"), &issues).unwrap().code, "drug_interaction");
    r.min_severity = Severity::Critical;
    assert!(matching_issue(&r, Some("healthcare"), &issues).is_none(), "below the rule's severity");
    r = rule();
    r.enabled = false;
    assert!(matching_issue(&r, Some("healthcare"), &issues).is_none());
    let _ = TopIssue { code: String::new(), severity: Severity::Low, message: String::new() };
}

/// A trace whose pack is not loaded reaches the rules written for its domain, at their default
/// severity: nobody learns of a missing pack from a dashboard they are not looking at.
#[tokio::test]
async fn traces_not_evaluated_for_their_domain_trigger_the_domains_rules() {
    let cascade = crate::tiers::Cascade::default();
    let trace = crate::testing::trace("healthcare", "Max Tylenol?", "Take 6 g a day.");
    let evaluation = cascade.evaluate(&trace, crate::tiers::Context::default()).await;
    let found = matching_issue(&rule(), evaluation.domain.as_deref(), &evaluation.issues).expect("the rule matches");
    assert_eq!((found.code.as_str(), found.severity), ("unknown_domain", Severity::High));
}
