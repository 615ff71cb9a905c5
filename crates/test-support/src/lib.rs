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

/// A small deterministic generator (SplitMix64) for tests and benchmarks: seeded, so
/// a failure and a benchmark's input reproduce, and no dependency to build.
///
/// ```
/// let mut rng = test_support::Rng::new(42);
/// let x = rng.range(-180.0, 180.0);
/// assert!((-180.0..180.0).contains(&x));
/// assert!(rng.below(10) < 10);
/// assert_eq!(test_support::Rng::new(42).next_u64(), test_support::Rng::new(42).next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is irrelevant for tests).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `0..n`, as an index.
    pub fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    /// Uniform in `[0, 1)`.
    #[allow(clippy::cast_precision_loss)]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}
