use super::*;
use crate::sinks::alerts::tests::alert;

#[test]
fn slack_messages_are_blocks_with_a_fallback_and_escaped_text() {
    let m = message(&alert(3), EventType::AlertTriggered);
    assert_eq!(m["text"], "Critical medication_overdose in healthcare: acetaminophen 6000 mg/day > 4000 mg & more");
    let section = m["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(section.contains("&gt; 4000 mg &amp; more"), "{section}");
    assert!(section.contains("3 more identical alerts"));
    assert!(m["blocks"][2]["fields"][2]["text"].as_str().unwrap().contains("Overdoses &lt;all&gt;"));
    let resolved = message(&alert(0), EventType::AlertResolved);
    assert!(resolved["blocks"][0]["text"]["text"].as_str().unwrap().starts_with(":white_check_mark: Resolved: "));
}
