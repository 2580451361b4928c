//! De-identification throughput on clinical text, one core.
//!
//! Three corpora:
//! - `notes`: history-and-physical style notes of about 4 KB, identifiers in the header, the
//!   social history and the signature (about one per 250 characters), narrative in between.
//! - `labs`: lab and vitals lines, all numbers and abbreviations, hardly any identifiers.
//! - `dense`: the labelled evaluation set, short texts with an identifier every ~50
//!   characters: the worst case, far denser than real notes.
//!
//! `phi_scan` is the recognizers alone; `phi_both_passes` adds the independent second pass over
//! what they left, as ingest runs them.
//!
//! Run: `cargo bench -p aegis-core --features testing --bench phi`

use aegis_core::phi::eval::parse_jsonl;
use aegis_core::phi::sample_notes;
use aegis_core::phi::{warm_up, Scanner};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn throughput(c: &mut Criterion) {
    warm_up();
    let scanner = Scanner::default();
    let dense: Vec<String> = parse_jsonl(include_str!("../data/phi/eval.jsonl"))
        .expect("the evaluation set parses")
        .into_iter()
        .map(|t| t.text)
        .collect();
    let notes = sample_notes::notes();
    let labs = sample_notes::lab_lines();
    for (name, corpus) in [("notes", &notes), ("labs", &labs), ("dense", &dense)] {
        let bytes: usize = corpus.iter().map(String::len).sum();
        let mut group = c.benchmark_group("phi_scan");
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(20);
        group.bench_function(name, |b| {
            b.iter(|| corpus.iter().map(|t| scanner.scan(t).len()).sum::<usize>());
        });
        group.finish();
        let mut group = c.benchmark_group("phi_both_passes");
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(20);
        group.bench_function(name, |b| {
            b.iter(|| corpus.iter().map(|t| scanner.scan_both_passes(t, &[]).len()).sum::<usize>());
        });
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
