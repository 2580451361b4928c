//! Tier 0: is the trace itself sound enough to judge?

use chrono::Duration;

use super::Module;
use crate::domains::Facts;
use crate::model::{Evidence, Issue, Severity};

/// Structural checks that need no domain knowledge.
pub struct WellFormed;

/// Clock skew tolerated between the client and us before a timestamp counts as "future".
const MAX_CLOCK_SKEW_MINUTES: i64 = 5;

impl Module for WellFormed {
    fn name(&self) -> &str {
        "well_formed"
    }

    fn tier(&self) -> u8 {
        0
    }

    fn check(&self, facts: &Facts<'_>) -> Vec<Issue> {
        let trace = facts.trace;
        let mut issues = Vec::new();
        let mut issue = |code: &str, severity, message: String, field: &str| {
            issues.push(Issue {
                code: code.into(),
                module: self.name().into(),
                severity,
                message,
                evidence: Some(Evidence { field: field.into(), start: None, end: None, text: None }),
                subject: None,
            })
        };
        let ai = &trace.ai_processing;
        if ai.output.trim().is_empty() {
            issue("empty_output", Severity::High, "The model returned an empty answer.".into(), "ai_processing.output");
        }
        if ai.input.trim().is_empty() {
            issue(
                "empty_input",
                Severity::Medium,
                "The trace has no input to judge the answer against.".into(),
                "ai_processing.input",
            );
        }
        if ai.output.contains('\u{FFFD}') {
            issue(
                "encoding_damage",
                Severity::Low,
                "The answer contains U+FFFD replacement characters: text was damaged in transit.".into(),
                "ai_processing.output",
            );
        }
        match (ai.completion_tokens, ai.output.trim().is_empty()) {
            (Some(0), false) => issue(
                "token_count_mismatch",
                Severity::Low,
                "completion_tokens is 0 but the answer is not empty.".into(),
                "ai_processing.completion_tokens",
            ),
            (Some(n), true) if n > 0 => issue(
                "token_count_mismatch",
                Severity::Low,
                format!("completion_tokens is {n} but the answer is empty."),
                "ai_processing.completion_tokens",
            ),
            _ => {}
        }
        for (i, step) in trace.steps.iter().enumerate() {
            if let (Some(start), Some(end)) = (step.started_at, step.ended_at) {
                if end < start {
                    issue(
                        "step_time_reversed",
                        Severity::Medium,
                        format!("Step {i} ends ({end}) before it starts ({start})."),
                        &format!("steps[{i}].ended_at"),
                    );
                }
            }
        }
        if trace.timestamp > trace.received_at + Duration::minutes(MAX_CLOCK_SKEW_MINUTES) {
            issue(
                "timestamp_in_future",
                Severity::Low,
                format!("The trace is dated {}, after it was received.", trace.timestamp),
                "timestamp",
            );
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EvaluationStatus, Step, Trace};
    use crate::tiers::{Cascade, Context};
    use chrono::Utc;

    fn trace(output: &str) -> Trace {
        crate::testing::trace("", "What is the max daily dose of acetaminophen?", output)
    }

    fn codes(t: &Trace) -> Vec<String> {
        WellFormed.check(&Facts::bare(t)).into_iter().map(|i| i.code).collect()
    }

    #[tokio::test]
    async fn a_sound_trace_passes() {
        let e = Cascade::default().evaluate(&trace("4 g per day for healthy adults."), Context::default()).await;
        assert_eq!(e.status, EvaluationStatus::Pass);
        assert_eq!(e.severity, Severity::None);
        assert_eq!(e.tiers_run, vec![0]);
        assert_eq!(e.modules.len(), 1);
        assert_eq!(e.modules[0].name, "well_formed");
        assert!(e.issues.is_empty());
    }

    #[tokio::test]
    async fn an_empty_answer_fails() {
        let t = trace("   ");
        assert_eq!(codes(&t), vec!["empty_output", "token_count_mismatch"]);
        let e = Cascade::default().evaluate(&t, Context::default()).await;
        assert_eq!(e.status, EvaluationStatus::Fail);
        assert_eq!(e.severity, Severity::High);
    }

    #[tokio::test]
    async fn reversed_steps_need_review() {
        let mut t = trace("fine");
        let now = Utc::now();
        t.steps.push(Step {
            kind: "tool".into(),
            name: None,
            input: None,
            output: None,
            reward: None,
            started_at: Some(now),
            ended_at: Some(now - Duration::seconds(3)),
        });
        let e = Cascade::default().evaluate(&t, Context::default()).await;
        assert_eq!(e.status, EvaluationStatus::NeedsReview);
        assert_eq!(e.issues[0].evidence.as_ref().unwrap().field, "steps[0].ended_at");
    }

    #[tokio::test]
    async fn future_timestamps_and_damaged_text_are_noted() {
        let mut t = trace("dose \u{FFFD}\u{FFFD}");
        t.timestamp = t.received_at + Duration::hours(2);
        assert_eq!(codes(&t), vec!["encoding_damage", "timestamp_in_future"]);
        assert_eq!(Cascade::default().evaluate(&t, Context::default()).await.status, EvaluationStatus::Pass);
    }
}
