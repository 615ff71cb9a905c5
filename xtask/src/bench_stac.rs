//! `cargo xtask bench stac`: the stac benchmark suite (ours beside the reference
//! tools, whole processes, medians and peak RSS), written to
//! `docs/src/benchmarks.md` between its own markers.

/// Runs the suite.
pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("bench stac: not written yet")
}
