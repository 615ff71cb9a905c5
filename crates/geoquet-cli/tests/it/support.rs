//! What every CLI test shares: running the `geoquet` binary, reading what it printed,
//! and the small inputs several test files write.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `geoquet` binary as a command, run from the workspace root (so that
/// `test-data/…` paths resolve); callers add arguments, environment and pipes.
pub(crate) fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_geoquet"));
    c.current_dir(test_support::workspace_root());
    c
}

/// Runs `geoquet ARGS` from the workspace root, standard input empty.
pub(crate) fn geoquet(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// Runs `geoquet ARGS` in `dir`, standard input empty.
pub(crate) fn geoquet_in(dir: &Path, args: &[&str]) -> Output {
    command().args(args).current_dir(dir).output().unwrap()
}

/// The exit code (-1 when a signal ended the process).
pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Standard error as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output parsed as one JSON document.
pub(crate) fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// A path as an argument.
pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The committed sample GeoParquet file (7 points, 1.1 with a covering).
pub(crate) fn sample() -> PathBuf {
    test_support::workspace_root().join("test-data/sample.parquet")
}

/// The command failed the CLI's way: one line on standard error starting `error: `,
/// no panic and no backtrace.
pub(crate) fn assert_one_line_error(o: &Output) {
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

/// The `i`th line of an ATL06 NDJSON export: distinct extents, segments, times and
/// latitudes.
pub(crate) fn atl06_line(i: u32) -> String {
    format!(
        r#"{{"extent_id": {eid}, "segment_id": {seg}, "n_fit_photons": 40, "pflags": 0, "rgt": 1160, "cycle": 2, "region": 3, "spot": 5, "gt": 10, "delta_time": {dt}, "latitude": {lat}, "longitude": -26.2, "h_mean": 1234.5, "dh_fit_dx": 0.01, "x_atc": 8000000.0, "y_atc": 3200.5, "w_surface_window_final": 3.0, "rms_misfit": 0.2, "h_sigma": 0.03}}"#,
        eid = 0x4880_0023_8000_0002u64 + (u64::from(i) << 2),
        seg = 500_000 + i,
        dt = 37_791_646.0 + f64::from(i) * 0.1,
        lat = 72.8 + f64::from(i) * 0.001,
    )
}
