//! Where a pack's files come from: a folder on disk, or the built-in packs compiled into the
//! binary (see `build.rs`), so that the shipped packs are there wherever `aegis` runs.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// The built-in packs' files: (path under `domains/`, contents).
static BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));

/// A pack's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackDir {
    Folder(PathBuf),
    /// A pack compiled into the binary, by name.
    Builtin(String),
}

/// One file of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackPath {
    Folder(PathBuf),
    /// The file's path under the built-in `domains/`, `/`-separated.
    Builtin(String),
}

impl PackDir {
    /// The names of the packs compiled into the binary.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().filter_map(|(path, _)| path.strip_suffix("/domain.yaml")).filter(|n| !n.contains('/')).collect()
    }

    /// The built-in files whose path under `domains/` starts with `prefix`
    /// (`healthcare/seed/handwritten/`), in path order.
    pub fn builtin_files(prefix: &str) -> Vec<PackPath> {
        BUILTIN
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(path, _)| PackPath::Builtin(path.to_string()))
            .collect()
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PackPath {
        match self {
            PackDir::Folder(dir) => PackPath::Folder(dir.join(rel)),
            PackDir::Builtin(name) => PackPath::Builtin(normalize(&Path::new(name).join(rel))),
        }
    }

    /// The folder on disk, for a pack that has one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            PackDir::Folder(dir) => Some(dir),
            PackDir::Builtin(_) => None,
        }
    }
}

impl PackPath {
    pub fn read_to_string(&self) -> std::io::Result<String> {
        match self {
            PackPath::Folder(path) => std::fs::read_to_string(path),
            PackPath::Builtin(key) => {
                BUILTIN.iter().find(|(path, _)| path == key).map(|(_, text)| text.to_string()).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "not among the built-in pack files")
                })
            }
        }
    }
}

impl From<&Path> for PackPath {
    fn from(path: &Path) -> PackPath {
        PackPath::Folder(path.to_path_buf())
    }
}

impl fmt::Display for PackDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackDir::Folder(dir) => write!(f, "{}", dir.display()),
            PackDir::Builtin(name) => write!(f, "<built-in>/{name}"),
        }
    }
}

impl fmt::Display for PackPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackPath::Folder(path) => write!(f, "{}", path.display()),
            PackPath::Builtin(key) => write!(f, "<built-in>/{key}"),
        }
    }
}

/// `a/./b/../c` as `a/c`, `/`-separated, as the built-in files are keyed.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_packs_are_built_in_without_their_evaluation_sets() {
        assert_eq!(PackDir::builtin_names(), ["healthcare", "trading"]);
        let pack = PackDir::Builtin("healthcare".into());
        let yaml = pack.join("domain.yaml").read_to_string().unwrap();
        assert!(yaml.contains("name: healthcare"));
        let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains/healthcare/data/max_daily_doses.tsv");
        assert_eq!(
            pack.join("data/max_daily_doses.tsv").read_to_string().unwrap(),
            std::fs::read_to_string(on_disk).unwrap()
        );
        assert_eq!(pack.join("./data/../data/classes.tsv"), PackPath::Builtin("healthcare/data/classes.tsv".into()));
        assert!(pack.join("eval/eval.jsonl").read_to_string().is_err());
        let missing = pack.join("data/nope.tsv");
        assert_eq!(missing.read_to_string().unwrap_err().kind(), std::io::ErrorKind::NotFound);
        assert_eq!(missing.to_string(), "<built-in>/healthcare/data/nope.tsv");
    }
}
