#![doc = include_str!("../README.md")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// The environment variable CI services set (`CI=true`); under it a missing corpus
/// fails the test instead of skipping it.
pub const CI_ENV: &str = "CI";

/// How many times this test binary skipped for want of the corpus (see [`corpus`]).
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Whether the tests run under CI: `CI` is set to anything but empty, `0` or `false`
/// (any case). There a missing corpus is a failure, not a skip.
///
/// ```
/// // Whatever the environment says, the answer is a plain bool.
/// let strict: bool = test_support::in_ci();
/// assert_eq!(strict, test_support::in_ci());
/// ```
pub fn in_ci() -> bool {
    std::env::var(CI_ENV).is_ok_and(|v| means_ci(&v))
}

/// Whether a value of `CI` says CI: anything but empty, `0` or `false`.
fn means_ci(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
}

/// Where the corpus is looked for: `$GEOQUET_TEST_DATA`, else `../shared/test-data`
/// from the workspace root (whether or not it exists).
///
/// ```
/// let dir = test_support::test_data_location();
/// assert!(dir.ends_with("test-data") || std::env::var_os("GEOQUET_TEST_DATA").is_some());
/// ```
pub fn test_data_location() -> PathBuf {
    match std::env::var_os(TEST_DATA_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => workspace_root().join("..").join("shared").join("test-data"),
    }
}

/// The shared conformance corpus ([`test_data_location`]), or `None` when it is not
/// there. A test that returns early on `None` therefore skips; to make that skip
/// visible, and a failure under CI, the `None` case is reported: without
/// CI it prints a `SKIP` line to standard error and counts it, under CI
/// ([`in_ci`]) it panics naming `GEOQUET_TEST_DATA` and the folder.
///
/// ```
/// // With the corpus present this is its folder; without it (and outside CI) None.
/// if let Some(dir) = test_support::test_data_dir() {
///     assert!(dir.is_dir());
/// }
/// ```
pub fn test_data_dir() -> Option<PathBuf> {
    let dir = test_data_location();
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(&dir, "", in_ci());
        None
    }
}

/// A folder (or file) of the corpus, `sub` relative to its root. When the corpus or
/// that folder is absent: `None` after a visible, counted `SKIP` line on standard
/// error; under CI ([`in_ci`]) a panic naming `GEOQUET_TEST_DATA` and the folder, so
/// that a CI run without the corpus cannot pass by skipping.
///
/// ```
/// if let Some(dir) = test_support::corpus("geoparquet/metadata-cases") {
///     assert!(dir.is_dir());
/// }
/// ```
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let root = test_data_dir()?;
    let dir = root.join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        missing(&dir, sub, in_ci());
        None
    }
}

/// How many corpus skips this test binary has made so far (each [`corpus`] or
/// [`test_data_dir`] call that found nothing outside CI).
///
/// ```
/// let before = test_support::skipped();
/// assert!(test_support::skipped() >= before);
/// ```
pub fn skipped() -> usize {
    SKIPPED.load(Ordering::Relaxed)
}

/// The one place a missing corpus is reported: a panic under CI, else a counted skip
/// written straight to the process' standard error, past libtest's capture, so that
/// it shows in every `cargo test` run (not only with `--nocapture`).
fn missing(dir: &Path, sub: &str, ci: bool) {
    let what = if sub.is_empty() {
        format!("the conformance corpus {}", dir.display())
    } else {
        format!("corpus folder {sub} ({})", dir.display())
    };
    assert!(
        !ci,
        "{what} does not exist, and {CI_ENV} is set: a CI run needs the corpus (set {TEST_DATA_ENV} to its folder, or put shared/test-data beside the workspace)"
    );
    let n = SKIPPED.fetch_add(1, Ordering::Relaxed) + 1;
    // A failed write to stderr leaves nothing to report it to.
    let _ = writeln!(
        std::io::stderr(),
        "SKIP #{n}: {what} does not exist (set {TEST_DATA_ENV} or put shared/test-data beside the workspace; with {CI_ENV}=true this fails)"
    );
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
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_values() {
        for v in ["true", "1", "yes", "TRUE"] {
            assert!(means_ci(v), "{v}");
        }
        for v in ["", " ", "0", "false", "False"] {
            assert!(!means_ci(v), "{v:?}");
        }
    }

    #[test]
    fn a_missing_folder_is_a_counted_skip_outside_ci() {
        let before = skipped();
        missing(Path::new("/nowhere/raquet"), "raquet", false);
        assert!(skipped() > before);
    }

    #[test]
    fn a_missing_folder_fails_under_ci() {
        let caught = std::panic::catch_unwind(|| {
            missing(Path::new("/nowhere/raquet"), "raquet", true);
        });
        let payload = caught.expect_err("no panic under CI");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.starts_with(
                "corpus folder raquet (/nowhere/raquet) does not exist, and CI is set"
            ) && message.contains("GEOQUET_TEST_DATA"),
            "{message}"
        );
    }
}
