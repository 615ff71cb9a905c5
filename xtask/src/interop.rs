//! `cargo xtask interop`: cross-checks with the real Python clients.

pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("interop: not implemented yet")
}
