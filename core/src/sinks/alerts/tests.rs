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

fn alert(grouped: u64) -> Alert {
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

#[test]
fn slack_messages_are_blocks_with_a_fallback_and_escaped_text() {
    let m = slack::message(&alert(3), EventType::AlertTriggered);
    assert_eq!(m["text"], "Critical medication_overdose in healthcare: acetaminophen 6000 mg/day > 4000 mg & more");
    let section = m["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(section.contains("&gt; 4000 mg &amp; more"), "{section}");
    assert!(section.contains("3 more identical alerts"));
    assert!(m["blocks"][2]["fields"][2]["text"].as_str().unwrap().contains("Overdoses &lt;all&gt;"));
    let resolved = slack::message(&alert(0), EventType::AlertResolved);
    assert!(resolved["blocks"][0]["text"]["text"].as_str().unwrap().starts_with(":white_check_mark: Resolved: "));
}

#[test]
fn pagerduty_events_follow_the_events_api_v2() {
    let a = alert(1);
    let trigger = pagerduty::event(&a, EventType::AlertTriggered, "key", "https://aegis.example");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "aegis/ar_1/healthcare/medication_overdose");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["component"], "healthcare");
    assert_eq!(trigger["payload"]["class"], "medication_overdose");
    assert!(trigger["payload"]["summary"].as_str().unwrap().ends_with("(+1 grouped)"));
    let resolve = pagerduty::event(&a, EventType::AlertResolved, "key", "https://aegis.example");
    assert_eq!(
        resolve,
        serde_json::json!({"routing_key": "key", "event_action": "resolve", "dedup_key": trigger["dedup_key"]})
    );
}

#[test]
fn email_has_text_and_html_bodies_with_the_link() {
    let (text, html) = email::bodies(&alert(2), EventType::AlertTriggered);
    assert!(text.contains("Open in Aegis: https://aegis.example/traces/1"));
    assert!(text.contains("2 more identical alerts"));
    assert!(html.contains("href=\"https://aegis.example/traces/1\""));
    assert!(html.contains("&gt; 4000 mg &amp; more"), "escaped");
    assert!(email::check_recipients(&["a@b.example".into()]).is_ok());
    assert_eq!(email::check_recipients(&["a@b.example".into(), "nope".into()]).unwrap_err().field, "to[1]");
    assert_eq!(email::check_recipients(&[]).unwrap_err().field, "to");
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
