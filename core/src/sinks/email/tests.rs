use super::*;
use crate::sinks::alerts::tests::alert;

#[test]
fn email_has_text_and_html_bodies_with_the_link() {
    let (text, html) = bodies(&alert(2), EventType::AlertTriggered);
    assert!(text.contains("Open in Aegis: https://aegis.example/traces/1"));
    assert!(text.contains("2 more identical alerts"));
    assert!(html.contains("href=\"https://aegis.example/traces/1\""));
    assert!(html.contains("&gt; 4000 mg &amp; more"), "escaped");
    assert!(check_recipients(&["a@b.example".into()]).is_ok());
    assert_eq!(check_recipients(&["a@b.example".into(), "nope".into()]).unwrap_err().field, "to[1]");
    assert_eq!(check_recipients(&[]).unwrap_err().field, "to");
}
