//! Compiles the built-in domain packs (`../domains/*/` with a `domain.yaml`) into the binary,
//! so that `aegis` evaluates with them wherever it runs: a service, a container or a pod has
//! no checkout to read them from. Evaluation sets (`eval/`) stay out: nothing reads them at
//! run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../domains");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&root) {
        let mut packs: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.join("domain.yaml").is_file()).collect();
        packs.sort();
        for pack in packs {
            collect(&pack, &mut files);
        }
    }
    files.sort();

    let mut out = String::from("&[\n");
    for file in &files {
        let rel = file.strip_prefix(&root).expect("collected under root");
        let key: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let absolute = std::fs::canonicalize(file).expect("a file just listed");
        writeln!(out, "    ({:?}, include_str!({:?})),", key.join("/"), absolute.display().to_string())
            .expect("writing to a String");
        println!("cargo:rerun-if-changed={}", file.display());
    }
    out.push_str("]\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_packs.rs");
    std::fs::write(dest, out).expect("writing the built-in pack list");
}

/// Every file of a pack but its evaluation sets.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "eval") {
                continue;
            }
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
