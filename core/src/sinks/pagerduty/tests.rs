use super::*;
use crate::sinks::alerts::tests::alert;

#[test]
fn pagerduty_events_follow_the_events_api_v2() {
    let a = alert(1);
    let trigger = event(&a, EventType::AlertTriggered, "key", "https://aegis.example");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "aegis/ar_1/healthcare/medication_overdose");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["component"], "healthcare");
    assert_eq!(trigger["payload"]["class"], "medication_overdose");
    assert!(trigger["payload"]["summary"].as_str().unwrap().ends_with("(+1 grouped)"));
    let resolve = event(&a, EventType::AlertResolved, "key", "https://aegis.example");
    assert_eq!(
        resolve,
        serde_json::json!({"routing_key": "key", "event_action": "resolve", "dedup_key": trigger["dedup_key"]})
    );
}
