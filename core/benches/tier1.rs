//! Tier 1 latency per trace: the deterministic validators of the shipped packs, with the facts
//! they share (drug mentions, dose statements, the trajectory) worked out once per trace.
//!
//! Besides criterion's timings of typical and worst-case traces, the bench times every trace
//! of both evaluation sets one by one and prints the percentiles (the target: p99
//! under 1 ms).
//!
//! Run: `cargo bench -p aegis-core --bench tier1`

use std::path::Path;
use std::time::{Duration, Instant};

use aegis_core::domains::cases::parse_jsonl;
use aegis_core::domains::rules::CustomValidators;
use aegis_core::domains::rules::Module;
use aegis_core::domains::{Domain, DomainSet};
use aegis_core::model::Trace;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn packs() -> DomainSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains");
    DomainSet::load(&root, &CustomValidators::default()).expect("the shipped packs load")
}

fn eval_traces(pack: &str, file: &str) -> Vec<Trace> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../domains/{pack}/eval/{file}"));
    let text = std::fs::read_to_string(path).expect("evaluation set");
    parse_jsonl(&text).expect("valid").into_iter().map(|c| Trace::from_input(c.trace, Utc::now())).collect()
}

/// Everything Tier 1 does for one trace: the shared facts, then every validator.
fn tier1(domain: &Domain, trace: &Trace) -> usize {
    let facts = domain.facts(trace);
    domain.rules.iter().map(|r| r.check(&facts).len()).sum()
}

/// A long answer naming many drugs, doses and schedules: the worst case for healthcare.
fn long_answer() -> Trace {
    let mut t = Trace::from_input(
        serde_json::from_value(json!({
            "application_id": "a", "ai_processing": {"model": "m", "input": "", "output": ""},
            "metadata": {"domain": "healthcare"}
        }))
        .expect("trace"),
        Utc::now(),
    );
    t.ai_processing.input =
        "I take sertraline 100 mg, warfarin 5 mg, lisinopril 20 mg and metformin 1000 mg twice daily. \
        I also use nitroglycerin as needed. What can I take for back pain and trouble sleeping?"
            .into();
    let paragraph = "For pain, acetaminophen 650 mg every 6 hours is reasonable; do not exceed 3 g a day. \
        Avoid ibuprofen and naproxen with warfarin: they raise the bleeding risk. \
        For sleep, melatonin 3 mg at bedtime or trazodone 50 mg at bedtime may help. \
        Keep taking metformin 1000 mg twice a day with meals and lisinopril 20 mg once daily. \
        Do not take sildenafil while you use nitroglycerin. ";
    t.ai_processing.output = format!("{}Please review this plan with your doctor or pharmacist.", paragraph.repeat(8));
    t
}

/// A 500-step trading episode.
fn long_episode() -> Trace {
    let steps: Vec<_> = (0..500)
        .map(|i| {
            let side = if i % 2 == 0 { "buy" } else { "sell" };
            json!({"kind": "action", "input": {"price": 100.0 + i as f64 * 0.01},
                   "output": {"symbol": "AAPL", "side": side, "quantity": 10 + i % 7, "price": 100.0 + i as f64 * 0.013, "stop_loss": 95.0},
                   "reward": if i % 3 == 0 { -12.5 } else { 8.0 }})
        })
        .collect();
    let input = json!({
        "application_id": "rl", "ai_processing": {"model": "ppo", "input": "episode", "output": "done"},
        "steps": steps, "metadata": {"domain": "trading", "initial_equity": "1000000"}
    });
    Trace::from_input(serde_json::from_value(input).expect("trace"), Utc::now())
}

fn percentiles(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "{label:<22} {:>6} runs  p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
        times.len(),
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1e6)
    );
}

fn bench(c: &mut Criterion) {
    let set = packs();
    let healthcare = set.route_shared("healthcare").expect("healthcare pack");
    let trading = set.route_shared("trading").expect("trading pack");
    let clinical = eval_traces("healthcare", "eval.jsonl");
    let templated = eval_traces("healthcare", "templated.jsonl");
    let episodes = eval_traces("trading", "eval.jsonl");

    // Every evaluation-set trace, one at a time, 20 rounds: the per-trace distribution.
    for (label, domain, traces) in [
        ("healthcare eval set", healthcare, &clinical),
        ("healthcare templated", healthcare, &templated),
        ("trading eval set", trading, &episodes),
    ] {
        let mut times = Vec::new();
        for _ in 0..20 {
            for t in traces.iter() {
                let started = Instant::now();
                std::hint::black_box(tier1(domain, t));
                times.push(started.elapsed());
            }
        }
        percentiles(label, times);
    }

    let long = long_answer();
    let episode = long_episode();
    let mut group = c.benchmark_group("tier1");
    group.bench_function("healthcare_eval_set_mean", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % clinical.len();
            tier1(healthcare, &clinical[i])
        })
    });
    group.bench_function("healthcare_long_answer_4kb", |b| b.iter(|| tier1(healthcare, &long)));
    group.bench_function("trading_eval_set_mean", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % episodes.len();
            tier1(trading, &episodes[i])
        })
    });
    group.bench_function("trading_500_steps", |b| b.iter(|| tier1(trading, &episode)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
