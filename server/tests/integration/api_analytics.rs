//! `GET /api/v1/analytics/overview` and `/trends`, read from the rollups.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(overview_and_trends_count_what_was_evaluated, domain_dashboards_follow_their_packs);

async fn overview_and_trends_count_what_was_evaluated(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let safe = "Up to 1000 mg every 6 hours, no more than 4 g a day. Ask your pharmacist.";
    let overdose = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";
    for output in [safe, safe, safe, overdose] {
        let created = app.post("/api/v1/traces", &trace_json(None, output)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    app.evaluate_all().await;

    let overview = app.get("/api/v1/analytics/overview").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text);
    let o = &overview.body;
    assert_eq!(o["total_traces"], 4);
    assert_eq!(o["pass_rate"], 0.75);
    assert_eq!(o["status_counts"], json!({"pass": 3, "fail": 1, "needs_review": 0, "error": 0}));
    assert!(o["p95_latency_ms"].as_f64().unwrap() > 0.0);
    let tiers: Vec<(i64, i64)> = o["tier_distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tier"].as_i64().unwrap(), t["traces"].as_i64().unwrap()))
        .collect();
    assert_eq!(tiers[..2], [(0, 4), (1, 4)], "every trace passes Tiers 0 and 1: {tiers:?}");
    assert_eq!(o["error_types"][0], json!({"code": "medication_overdose", "count": 1}));
    assert_eq!(o["avg_cost_per_trace"], 0, "Tiers 1 and 2 cost nothing");

    let healthcare = app.get("/api/v1/analytics/overview?domain=healthcare").await;
    assert_eq!(healthcare.body["total_traces"], 4);
    let trading = app.get("/api/v1/analytics/overview?domain=trading").await;
    assert_eq!(trading.body["total_traces"], 0);
    assert_eq!(trading.body["pass_rate"], json!(null));

    let (_, other_key) = app.other_org().await;
    let theirs = app.get_as(&other_key, "/api/v1/analytics/overview").await;
    assert_eq!(theirs.body["total_traces"], 0, "never another organization's");

    let trend = app.get("/api/v1/analytics/trends?metric=volume&bucket=hour").await;
    assert_eq!(trend.status, StatusCode::OK, "{}", trend.text);
    let total = &trend.body["series"][0];
    assert_eq!(total["name"], "total");
    let points = total["points"].as_array().unwrap();
    assert!(points.len() >= 24);
    assert_eq!(points.iter().map(|p| p[1].as_f64().unwrap()).sum::<f64>(), 4.0);
    let issues = app.get("/api/v1/analytics/trends?metric=issues&bucket=day").await;
    assert_eq!(issues.body["series"][0]["name"], "medication_overdose");
    let rate = app.get("/api/v1/analytics/trends?metric=pass_rate").await;
    let rates: Vec<f64> =
        rate.body["series"][0]["points"].as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect();
    assert_eq!(rates, [0.75], "hours without traces have no pass rate");
}

#[tokio::test]
async fn bad_queries_name_the_field() {
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    for (query, field) in [
        ("/api/v1/analytics/trends?metric=vibes", "metric"),
        ("/api/v1/analytics/trends?bucket=week", "bucket"),
        ("/api/v1/analytics/overview?from=yesterday", "from"),
        ("/api/v1/analytics/overview?from=2026-11-26&to=2026-11-01", "from"),
        ("/api/v1/analytics/trends?from=2026-01-01&to=2026-11-01", "bucket"),
    ] {
        let reply = app.get(query).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{query}");
    }
    insta::assert_json_snapshot!("bad_metric", app.get("/api/v1/analytics/trends?metric=vibes").await.body);
    let anonymous = app.get_as("nope", "/api/v1/analytics/overview").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn domain_dashboards_follow_their_packs(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let clinical = |output: &str, specialty: &str| {
        json!({
            "application_id": "triage-bot",
            "ai_processing": {"model": "gpt-4o", "input": "I take warfarin daily.", "output": output},
            "metadata": {"domain": "healthcare", "specialty": specialty}
        })
        .to_string()
    };
    for (output, specialty) in [
        ("For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor.", "primary_care"),
        ("Ibuprofen 400 mg three times a day is fine. Ask your pharmacist.", "cardiology"),
        ("Up to 1000 mg of acetaminophen every 6 hours, no more than 4 g a day. Ask your pharmacist.", "cardiology"),
    ] {
        let created = app.post("/api/v1/traces", &clinical(output, specialty)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    app.evaluate_all().await;

    let board = app.get("/api/v1/analytics/domains/healthcare").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text);
    assert_eq!(board.body["overview"]["total_traces"], 3);
    let panel = |title: &str| {
        board.body["panels"].as_array().unwrap().iter().find(|p| p["title"] == title).cloned().unwrap_or_default()
    };
    let drugs = panel("Medication errors by drug");
    assert_eq!(drugs["rows"][0]["value"], "acetaminophen", "{drugs}");
    assert_eq!(drugs["rows"][0]["traces"], 1);
    // Pairs as the thesaurus grades them: warfarin with the NSAID, and with acetaminophen
    // taken regularly (ANSM: INR to be monitored).
    let pairs = panel("Drug interactions");
    let pairs: Vec<(String, i64)> = pairs["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["value"].as_str().unwrap().to_string(), r["traces"].as_i64().unwrap()))
        .collect();
    assert!(pairs.contains(&("ibuprofen + warfarin".to_string(), 1)), "{pairs:?}");
    let specialties = panel("By specialty");
    assert_eq!(specialties["rows"][0]["value"], "cardiology");
    assert_eq!(specialties["rows"][0]["traces"], 2);
    assert_eq!(specialties["rows"][1]["value"], "primary_care");
    assert_eq!(specialties["rows"][1]["flagged"], 1, "the overdose");

    let trading = app.get("/api/v1/analytics/domains/trading").await;
    assert_eq!(trading.body["overview"]["total_traces"], 0);
    assert_eq!(trading.body["panels"][0]["title"], "PnL distribution");
    assert_eq!(app.get("/api/v1/analytics/domains/retail").await.status, StatusCode::NOT_FOUND);
}

/// Spend reported by `/costs` equals the sum of the recorded module runs, to the micro-dollar,
/// however it is grouped.
#[tokio::test]
async fn costs_reconcile_with_the_module_runs() {
    use aegis_core::model::{ModuleResult, TierCost};
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    for i in 0..7 {
        let created = app.post("/api/v1/traces", &trace_json(None, &format!("Answer {i}. Ask your pharmacist."))).await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    // Evaluations as the cascade records them, with judge calls of uneven prices.
    let jobs = app.store.claim_jobs("test", 100, std::time::Duration::from_secs(60)).await.unwrap();
    let done: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let mut e = aegis_core::tiers::Cascade::failed(job.trace_id, 1, "x");
            e.domain = Some(if i % 2 == 0 { "healthcare" } else { "trading" }.into());
            e.modules = (1..=3u8)
                .map(|tier| ModuleResult {
                    name: format!("m{tier}"),
                    tier,
                    verdict: aegis_core::model::EvaluationStatus::Pass,
                    score: None,
                    issues_found: 0,
                    latency_ms: 1.0,
                    cost_micro_usd: if tier == 3 { 1_337 * (i as i64 + 1) + 1 } else { 0 },
                    note: None,
                })
                .collect();
            e.cost_by_tier =
                e.modules.iter().map(|m| TierCost { tier: m.tier, cost_micro_usd: m.cost_micro_usd }).collect();
            e.cost_micro_usd = e.modules.iter().map(|m| m.cost_micro_usd).sum();
            (job, e)
        })
        .collect();
    aegis_core::pipeline::record(&app.store, &aegis_core::testing::test_links(), &done).await.unwrap();

    let mut module_sum = 0;
    let traces = app.get("/api/v1/traces?limit=100").await;
    for t in traces.body["items"].as_array().unwrap() {
        let e = app.get(&format!("/api/v1/evaluations/{}", t["trace_id"].as_str().unwrap())).await;
        module_sum +=
            e.body["modules"].as_array().unwrap().iter().map(|m| m["cost_micro_usd"].as_i64().unwrap()).sum::<i64>();
    }
    assert!(module_sum > 0);
    for group_by in ["", "tier", "day", "domain", "tier,day,domain", "hour,tier"] {
        let report = app.get(&format!("/api/v1/costs?group_by={group_by}")).await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text);
        assert_eq!(report.body["total_micro_usd"], module_sum, "group_by={group_by}");
        let groups: i64 =
            report.body["groups"].as_array().unwrap().iter().map(|g| g["micro_usd"].as_i64().unwrap()).sum();
        assert_eq!(groups, module_sum, "group_by={group_by}");
    }
    let by_domain = app.get("/api/v1/costs?group_by=domain,tier").await;
    let trading: i64 = by_domain.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["domain"] == "trading")
        .map(|g| g["micro_usd"].as_i64().unwrap())
        .sum();
    let expected: i64 =
        done.iter().filter(|(_, e)| e.domain.as_deref() == Some("trading")).map(|(_, e)| e.cost_micro_usd).sum();
    assert_eq!(trading, expected);
    let bad = app.get("/api/v1/costs?group_by=planet").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], "group_by");
}
