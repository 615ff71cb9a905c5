//! `cargo xtask bench sliderule`: exporting seeded ATL03 photons to
//! GeoParquet with `sliderule-export` beside writing the same Arrow columns
//! (geometry included) with a plain `ArrowWriter`, whole processes
//! (`crates/sliderule-export/examples/atl03_bench.rs`, release build), medians
//! of alternating runs and peak RSS, written to `docs/src/benchmarks.md`
//! between its own markers.
//!
//! Options: `--rows N` (default 10,000,000), `--runs N` (default 3).

use std::ffi::OsString;
use std::fmt::Write as _;

use anyhow::{Context, bail};

use crate::bench::{Sample, measure, update_doc_section};
use crate::project_root;

const BEGIN: &str = "<!-- bench-sliderule:begin -->";
const END: &str = "<!-- bench-sliderule:end -->";

/// The variants: mode of the example, and what the table calls it.
const VARIANTS: &[(&str, &str)] = &[
    ("plain", "plain `ArrowWriter`, same columns (baseline)"),
    ("ours", "sliderule-export GeoParquet (`geo` 1.1 with bbox)"),
    ("ours-compat", "sliderule-export `--compat sliderule-4.20`"),
    (
        "ours-sorted",
        "sliderule-export GeoParquet, `--sort hilbert` (runs spilled and merged)",
    ),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the suite.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let mut rows: u64 = 10_000_000;
    let mut runs: usize = 3;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rows" => rows = it.next().context("--rows N")?.parse()?,
            "--runs" => runs = it.next().context("--runs N")?.parse::<usize>()?.max(1),
            other => bail!("bench sliderule: unknown option {other} (--rows N, --runs N)"),
        }
    }
    let root = project_root();
    let python = crate::interop::ensure_venv(&root)?;
    let runner = root.join("xtask/bench/runner.py");
    let exe = crate::bench::build_release("sliderule-export", "--example", "atl03_bench")?;
    let data = root.join("target/bench-data/sliderule");
    std::fs::create_dir_all(&data)?;
    let mut samples: Vec<Vec<Sample>> = VARIANTS.iter().map(|_| Vec::new()).collect();
    let mut sizes = vec![0u64; VARIANTS.len()];
    for round in 0..runs {
        for (i, (mode, _)) in VARIANTS.iter().enumerate() {
            let out = data.join(format!("{mode}.parquet"));
            let cmd: Vec<OsString> = vec![
                exe.clone().into(),
                (*mode).into(),
                rows.to_string().into(),
                out.clone().into(),
            ];
            let s = measure(&python, &runner, &cmd)?;
            println!(
                "  run {} {mode}: {:.2} s, {:.0} MB",
                round + 1,
                s.wall,
                s.rss_mb
            );
            sizes[i] = std::fs::metadata(&out).map_or(0, |m| m.len());
            samples[i].push(s);
        }
    }
    let base = median(samples[0].iter().map(|s| s.wall).collect());
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## SlideRule export (`cargo xtask bench sliderule`)\n\n{rows} ATL03 photon rows (seeded extents of 1–200 photons, flattened, 23 columns with a WKB `geometry`), Snappy, one row group per 645,277 rows; generation included in every variant. Median of {runs} alternating runs; peak RSS of the whole process.\n"
    );
    let _ = writeln!(
        md,
        "| variant | wall (s) | vs plain | peak RSS (MB) | file (MB) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for (i, (_, label)) in VARIANTS.iter().enumerate() {
        let wall = median(samples[i].iter().map(|s| s.wall).collect());
        let rss = samples[i].iter().map(|s| s.rss_mb).fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "| {label} | {wall:.2} | {:.2}x | {rss:.0} | {:.1} |",
            wall / base,
            sizes[i] as f64 / 1e6
        );
    }
    let _ = writeln!(
        md,
        "\nTarget (issue 7): at most 1.3x the plain writer's time and under 400 MB peak memory."
    );
    update_doc_section(&root.join("docs/src/benchmarks.md"), BEGIN, END, &md)?;
    println!("{md}");
    Ok(())
}
