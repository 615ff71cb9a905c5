//! Workspace automation for geoquet (`cargo xtask <command>`).
//!
//! - `ci`: exactly what `.ci/run` runs, with a timing table.
//! - `tidy`: manifest and architecture rules (also a `#[test]`).
//! - `fixtures`: regenerates the committed sample files.
//! - `docs [--check]`: the generated pages of the book (CLI reference, compatibility matrix).
//! - `release prepare X.Y.Z | check | publish [--execute]`: see `RELEASING.md`.

#![allow(clippy::print_stdout)]

mod bench;
mod bench_check;
mod bench_raquet;
mod bench_sliderule;
mod bench_stac;
mod ci;
mod docs;
mod interop;
mod interop_quadbin;
mod interop_raquet;
mod interop_sliderule;
mod interop_stac;
mod interop_stores;
mod release;
mod tidy;
mod tidy_conventions;

use std::path::PathBuf;
use std::process::Command;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("tidy") => {
            let problems = tidy::check(&project_root())?;
            if problems.is_empty() {
                println!("tidy: ok");
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("tidy: {p}");
                }
                anyhow::bail!("{} tidy problem(s)", problems.len())
            }
        }
        Some("interop") => interop::run(&args[1..]),
        Some("docs") => docs::run(&args[1..]),
        Some("release") => release::run(&args[1..]),
        // The domain suites: `cargo xtask bench stac|raquet|sliderule [options]`.
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("stac") => bench_stac::run(&args[2..]),
            Some("raquet") => bench_raquet::run(&args[2..]),
            Some("sliderule") => bench_sliderule::run(&args[2..]),
            Some("check") => bench_check::run(&args[2..]),
            _ => bench::run(&args[1..]),
        },
        Some("fixtures") => {
            let status = cargo()
                .args([
                    "run",
                    "-q",
                    "-p",
                    "geoparquet-io",
                    "--example",
                    "make_sample",
                ])
                .status()?;
            anyhow::ensure!(status.success(), "make_sample failed");
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci [--skip-deny]|tidy|interop|bench [stac|raquet|sliderule] [--quick]|fixtures|docs [--check]|release prepare X.Y.Z|release check|release publish [--execute]>"
            );
            std::process::exit(2);
        }
    }
}

/// The workspace root.
pub(crate) fn project_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent()
        .map_or(dir.clone(), std::path::Path::to_path_buf)
}

/// The cargo target directory of the workspace at `root` (`CARGO_TARGET_DIR`
/// honoured).
pub(crate) fn target_dir(root: &std::path::Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// `cargo` as cargo itself was invoked (respects the toolchain file).
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(project_root());
    c
}
