//! De-identification passes over the `phi` benchmark's corpus, for counting instructions: run
//! it under callgrind with 1 and with 3 passes, and half the difference is one pass with the
//! start-up (word lists, patterns, the lazy DFA's first states) taken out. Unlike a timing,
//! the count is the same on a busy machine.
//!
//!   cargo build --release -p aegis-core --features testing --example phi_passes
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/phi_passes notes 3
//!
//! Usage: `phi_passes [notes|labs] [PASSES]` (default `notes 3`).

use aegis_core::phi::{sample_notes, warm_up, Scanner};

fn main() {
    let mut args = std::env::args().skip(1);
    let corpus = match args.next().as_deref() {
        None | Some("notes") => sample_notes::notes(),
        Some("labs") => sample_notes::lab_lines(),
        Some(other) => {
            eprintln!("unknown corpus {other:?}: notes or labs");
            std::process::exit(2);
        }
    };
    let passes = match args.next().map(|p| p.parse::<usize>()) {
        None => 3,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("PASSES must be a positive whole number");
            std::process::exit(2);
        }
    };
    warm_up();
    let scanner = Scanner::default();
    let started = std::time::Instant::now();
    let found: usize = (0..passes).map(|_| corpus.iter().map(|t| scanner.scan(t).len()).sum::<usize>()).sum();
    let bytes = corpus.iter().map(String::len).sum::<usize>() * passes;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{passes} passes, {bytes} bytes, {found} identifiers, {:.1} MiB/s",
        bytes as f64 / seconds / (1 << 20) as f64
    );
}
