#![doc = include_str!("../README.md")]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the corpus lives.
pub const TEST_DATA_ENV: &str = "GEOQUET_TEST_DATA";

/// The workspace root (the folder with the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/test-support -> workspace root
    here.ancestors()
        .nth(2)
        .map_or_else(|| here.to_path_buf(), Path::to_path_buf)
}

/// The shared conformance corpus: `$GEOQUET_TEST_DATA`, else
/// `../shared/test-data` from the workspace root; `None` when it is not there.
pub fn test_data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os(TEST_DATA_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => workspace_root().join("..").join("shared").join("test-data"),
    };
    dir.is_dir().then_some(dir)
}

/// A folder of the corpus, or `None` after printing that the calling test
/// skips because the corpus (or that folder) is absent.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let Some(root) = test_data_dir() else {
        println!(
            "SKIP: conformance corpus not found (set {TEST_DATA_ENV} or put shared/test-data beside the workspace); skipping {sub}"
        );
        return None;
    };
    let dir = root.join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        println!("SKIP: {} does not exist; skipping", dir.display());
        None
    }
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A path relative to the workspace root, for committed fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    workspace_root().join(rel)
}
