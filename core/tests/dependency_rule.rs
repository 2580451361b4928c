//! The dependency rule of `docs/ARCHITECTURE.md`, checked on the source: each module of the core
//! uses only modules of its own layer or the layers below. A `use` that breaks it fails here,
//! naming the file; the few known exceptions are listed with why, and the list can only shrink
//! (an exception that no longer occurs must be removed from it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. A module may use its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    // The types everything shares, and leaf helpers that use nothing else of Aegis.
    &["error", "model", "access", "auth", "secret", "totp"],
    // Rows in SQLite or PostgreSQL, nothing else.
    &["store"],
    // De-identification, sim-to-real transfer, quotas, metrics, the live feed.
    &["phi", "transfer", "limits", "telemetry", "live"],
    // Domain packs: their data, how their rules read a trace, the Tier 0-1 checks and the
    // Tier 2 model built from them.
    &["domains"],
    // The cascade that runs them, and the judge.
    &["tiers"],
    // The door, the workers, the deliveries, learning from reviews, making and measuring
    // packs, demo data.
    &["ingest", "pipeline", "sinks", "review", "packs", "seed"],
    // The one typed configuration, assembled from every part's section.
    &["config"],
    // The use cases the front ends call.
    &["service"],
    // Test support (compiled only for tests).
    &["testing"],
];

/// `(user, used, why)`: uses that break the rule, each with the reason it must for now. Empty:
/// keep it so, and remove an entry as soon as its use is gone (the test insists).
const KNOWN_EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The source of a file up to its inline test module (`#[cfg(test)] mod tests { ... }`, last
/// in a file by convention): tests may use anything. A `mod tests;` declaration names a
/// `tests.rs` file, which is skipped as a whole.
fn without_tests(source: &str) -> &str {
    let mut at = 0;
    while let Some(found) = source[at..].find("#[cfg(test)]\n") {
        let start = at + found;
        let next = source[start..].lines().nth(1).unwrap_or_default().trim();
        if next.contains("mod ") && next.ends_with('{') {
            return &source[..start];
        }
        at = start + 1;
    }
    source
}

/// The top-level modules of the crate a line of code names (`crate::store::Store`, and each
/// path in `crate::{store::Store, model::Trace}`).
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn module_uses() -> BTreeMap<(String, String), BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut uses: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".rs") || name == "tests.rs" || name == "lib.rs" {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let module = relative.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            if module == "testing" {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for line in without_tests(&source).lines() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for used in crate_paths(code) {
                    // `testing` is compiled only for tests, which may use anything.
                    if used != module && used != "testing" && layer_of(&used).is_some() {
                        uses.entry((module.clone(), used)).or_default().insert(relative.clone());
                    }
                }
            }
        }
    }
    uses
}

#[test]
fn every_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().trim_end_matches(".rs").to_string();
        if name != "lib" {
            assert!(
                layer_of(&name).is_some(),
                "core/src/{name} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md"
            );
        }
    }
}

#[test]
fn modules_use_only_their_layer_and_those_below() {
    let mut broken = Vec::new();
    let mut seen_exceptions = BTreeSet::new();
    for ((user, used), files) in module_uses() {
        let (Some(from), Some(to)) = (layer_of(&user), layer_of(&used)) else { continue };
        if to <= from {
            continue;
        }
        if KNOWN_EXCEPTIONS.iter().any(|(u, d, _)| *u == user && *d == used) {
            seen_exceptions.insert((user, used));
            continue;
        }
        broken.push(format!(
            "{user} uses {used} (a higher layer) in {}",
            files.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    assert!(broken.is_empty(), "the dependency rule is broken:\n{}", broken.join("\n"));
    for (user, used, _) in KNOWN_EXCEPTIONS {
        assert!(
            seen_exceptions.contains(&(user.to_string(), used.to_string())),
            "{user} no longer uses {used}: remove the exception from KNOWN_EXCEPTIONS and docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn the_store_uses_nothing_above_the_model() {
    for ((user, used), files) in module_uses() {
        if user == "store" {
            assert_eq!(layer_of(&used), Some(0), "the store uses {used} in {files:?}");
        }
    }
}
