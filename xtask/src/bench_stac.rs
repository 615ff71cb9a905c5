//! `cargo xtask bench stac`: STAC Items to stac-geoparquet and back, ours
//! (`geoquet stac`) beside Python stac-geoparquet 0.8.3 (two-pass
//! `parse_stac_ndjson_to_parquet`; `stac_table_to_ndjson(pq.read_table)`)
//! and rustac 0.9.18 (`rustac translate`), the way the reference measured
//! them (§8): whole processes through `bench/runner.py` (wall time, peak
//! RSS), on the same seeded data — the stac-spec v1.1.0 extended item cycled
//! with unique ids, random µs datetimes, cloud cover and footprints
//! (`bench/stac_gen.py`; 100,000 items ≈ 374 MB NDJSON at scale 1).
//! Then the streaming check: our peak RSS on the input and on ten times the
//! input (ten hard links of the same file, read in turn).
//! The table goes to `docs/src/benchmarks.md` between
//! `<!-- bench-stac:begin -->` and `<!-- bench-stac:end -->`.
//!
//! Options: `--scale S` (default 1: 100,000 items), `--runs N` (rounds per
//! job, default 3 for ours and 1 for the references, which take minutes),
//! `--quick` (scale 0.05, one round, docs untouched), `--no-docs`,
//! `--no-refs` (ours only).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::bench::{Sample, measure, update_doc_section};

const BEGIN: &str = "<!-- bench-stac:begin -->";
const END: &str = "<!-- bench-stac:end -->";
const DATA: &str = "target/bench-data/stac";
const FULL_ITEMS: f64 = 100_000.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

struct Measured {
    wall: f64,
    rss: f64,
}

fn run_n(
    python: &Path,
    runner: &Path,
    cmd: &[OsString],
    runs: usize,
    label: &str,
) -> anyhow::Result<Measured> {
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for i in 0..runs.max(1) {
        let Sample { wall, rss_mb, .. } =
            measure(python, runner, cmd).with_context(|| format!("{label} (run {})", i + 1))?;
        println!("    {label}: {wall:.2} s, {rss_mb:.0} MB");
        walls.push(wall);
        rss.push(rss_mb);
    }
    Ok(Measured {
        wall: median(walls),
        rss: rss.into_iter().fold(0.0, f64::max),
    })
}

fn os(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|s| s.as_ref().to_os_string()).collect()
}

/// Runs the suite.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let no_docs = quick || args.iter().any(|a| a == "--no-docs");
    let refs = !args.iter().any(|a| a == "--no-refs");
    let value = |name: &str| -> Option<&String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let scale: f64 = match value("--scale") {
        Some(s) => s.parse().context("--scale")?,
        None if quick => 0.05,
        None => 1.0,
    };
    let runs: usize = match value("--runs") {
        Some(s) => s.parse().context("--runs")?,
        None if quick => 1,
        None => 3,
    };
    let n = ((FULL_ITEMS * scale).round() as u64).max(10);
    let root = crate::project_root();
    let python = crate::interop::ensure_venv(&root)?;
    let runner = root.join("xtask/bench/runner.py");
    let geoquet = crate::bench::build_release("geoquet-cli", "--bin", "geoquet")?;
    let rustac = python.with_file_name("rustac");
    let data = root.join(DATA);
    std::fs::create_dir_all(&data)?;
    let corpus = std::env::var_os("GEOQUET_TEST_DATA")
        .map_or_else(|| root.join("../shared/test-data"), PathBuf::from)
        .join("stac");
    let template = corpus.join("stac-spec/v1.1.0/extended-item.json");
    if !template.exists() {
        bail!("{} not found (the shared corpus)", template.display());
    }
    let input = data.join(format!("items-{n}.ndjson"));
    if !input.exists() {
        println!("==> generating {n} items");
        let out = std::process::Command::new(&python)
            .arg(root.join("xtask/bench/stac_gen.py"))
            .arg(&template)
            .arg(&input)
            .arg(n.to_string())
            .arg("42")
            .output()
            .context("stac_gen.py")?;
        if !out.status.success() {
            bail!("stac_gen.py: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let mb = std::fs::metadata(&input)?.len() as f64 / 1e6;
    println!("==> {n} items, {mb:.0} MB NDJSON");
    let ours_pq = data.join("ours.parquet");
    let ours_nd = data.join("ours-back.ndjson");
    let py_pq = data.join("py.parquet");
    let py_nd = data.join("py-back.ndjson");
    let rs_pq = data.join("rustac.parquet");
    let rs_nd = data.join("rustac-back.ndjson");
    let py_script = root.join("xtask/bench/stac_py.py");

    println!("==> NDJSON -> stac-geoparquet");
    let ours_w = run_n(
        &python,
        &runner,
        &os(&[&geoquet, &"-q", &"stac", &"to-parquet", &input, &ours_pq]),
        runs,
        "geoquet",
    )?;
    let (py_w, rs_w) = if refs {
        (
            Some(run_n(
                &python,
                &runner,
                &os(&[&python, &py_script, &"write", &input, &py_pq]),
                1,
                "stac-geoparquet",
            )?),
            Some(run_n(
                &python,
                &runner,
                &os(&[&rustac, &"translate", &input, &rs_pq]),
                1,
                "rustac",
            )?),
        )
    } else {
        (None, None)
    };
    println!("==> stac-geoparquet -> NDJSON");
    let ours_r = run_n(
        &python,
        &runner,
        &os(&[&geoquet, &"-q", &"stac", &"to-ndjson", &ours_pq, &ours_nd]),
        runs,
        "geoquet",
    )?;
    let (py_r, rs_r) = if refs {
        (
            Some(run_n(
                &python,
                &runner,
                &os(&[&python, &py_script, &"read", &py_pq, &py_nd]),
                1,
                "stac-geoparquet",
            )?),
            Some(run_n(
                &python,
                &runner,
                &os(&[&rustac, &"translate", &rs_pq, &rs_nd]),
                1,
                "rustac",
            )?),
        )
    } else {
        (None, None)
    };
    println!("==> streaming: the input once and ten times");
    let mut ten: Vec<OsString> = os(&[&geoquet, &"-q", &"stac", &"to-parquet"]);
    for i in 0..10 {
        let link = data.join(format!("link-{i}-items-{n}.ndjson"));
        if !link.exists() {
            std::fs::hard_link(&input, &link)
                .with_context(|| format!("hard link {}", link.display()))?;
        }
        ten.push(link.into_os_string());
    }
    let ten_pq = data.join("ours-10x.parquet");
    ten.push(ten_pq.clone().into_os_string());
    let ten_w = run_n(&python, &runner, &ten, 1, "geoquet 10x")?;
    let _ = std::fs::remove_file(&ten_pq);
    let size = |p: &Path| std::fs::metadata(p).map_or(f64::NAN, |m| m.len() as f64 / 1e6);

    let mut md = String::new();
    let full = (scale - 1.0).abs() < f64::EPSILON;
    let load = crate::bench::loadavg();
    writeln!(md, "## STAC (stac-geoparquet, `cargo xtask bench stac`)\n")?;
    writeln!(
        md,
        "STAC Items ⇄ stac-geoparquet, {n} generated items ({mb:.0} MB NDJSON: the stac-spec v1.1.0 extended item cycled with unique ids, random µs datetimes, cloud cover and footprints, seed 42{}), whole processes, wall time (median of {runs} for geoquet, one run for the references) and peak RSS, on this machine (2 vCPU, shared: 1/5/15-minute load average {load} when the table was written).\n",
        if full {
            ""
        } else {
            "; a reduced scale, see below"
        }
    )?;
    writeln!(
        md,
        "| operation | geoquet | stac-geoparquet 0.8.3 | rustac 0.9.18 |"
    )?;
    writeln!(md, "|---|---|---|---|")?;
    let cell = |m: &Option<Measured>| {
        m.as_ref().map_or("not run".to_owned(), |m| {
            format!("{:.1} s, {:.0} MB", m.wall, m.rss)
        })
    };
    writeln!(
        md,
        "| NDJSON → Parquet | {:.1} s, {:.0} MB, {:.1} MB out | {}, {:.1} MB out | {}, {:.1} MB out |",
        ours_w.wall,
        ours_w.rss,
        size(&ours_pq),
        cell(&py_w),
        size(&py_pq),
        cell(&rs_w),
        size(&rs_pq)
    )?;
    writeln!(
        md,
        "| Parquet → NDJSON | {:.1} s, {:.0} MB | {} | {} |",
        ours_r.wall,
        ours_r.rss,
        cell(&py_r),
        cell(&rs_r)
    )?;
    writeln!(
        md,
        "| NDJSON → Parquet, 10× the input ({} items) | {:.1} s, {:.0} MB | | |\n",
        n * 10,
        ten_w.wall,
        ten_w.rss
    )?;
    let t_write = 8.0 * scale;
    writeln!(
        md,
        "Targets (issue 5, at 100,000 items): write ≤ 8 s{} — {}; peak ≤ 400 MB — {} ({:.0} MB); peak flat at 10× — {} ({:.0} → {:.0} MB); read ≥ 3× faster than rustac — {}.",
        if full {
            String::new()
        } else {
            format!(" (scaled: ≤ {t_write:.1} s)")
        },
        if ours_w.wall <= t_write {
            "met"
        } else {
            "missed"
        },
        if ours_w.rss <= 400.0 { "met" } else { "missed" },
        ours_w.rss,
        if ten_w.rss <= ours_w.rss * 1.25 {
            "met"
        } else {
            "missed"
        },
        ours_w.rss,
        ten_w.rss,
        match &rs_r {
            Some(r) => format!(
                "{} ({:.1}×)",
                if r.wall >= 3.0 * ours_r.wall {
                    "met"
                } else {
                    "missed"
                },
                r.wall / ours_r.wall
            ),
            None => "not measured".into(),
        }
    )?;
    let report = data.join("report.md");
    std::fs::write(&report, &md)?;
    println!("\n{md}\nreport: {}", report.display());
    if !no_docs {
        update_doc_section(&root.join("docs/src/benchmarks.md"), BEGIN, END, &md)?;
        println!("docs/src/benchmarks.md updated");
    }
    Ok(())
}
