//! `cargo xtask bench raquet`: GeoTIFF → RaQuet with `geoquet raquet from-geotiff`
//! beside raquet-io 0.9.0's `convert raster` on the same inputs and options (whole
//! processes through `bench/runner.py`: median wall time, peak RSS), and one-tile reads
//! (the criterion bench `crates/raquet/benches/tile.rs`), written to
//! `docs/src/benchmarks.md` between `<!-- bench-raquet:begin -->` and
//! `<!-- bench-raquet:end -->`.
//!
//! raquet-io needs GDAL's Python bindings, which pip cannot install: the suite builds
//! `target/venv-raquet` from the system Python with `--system-site-packages` (Debian's
//! `python3-gdal` 3.6 and its numpy 1.x) and the pins below; raquet-io runs through
//! `bench/raquet_io_run.py`, which supplies the `GDT_Int8` constant GDAL 3.6 lacks.
//! Without GDAL the raquet-io column says so and only our figures are measured.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::bench::{Sample, measure, update_doc_section};

const BEGIN: &str = "<!-- bench-raquet:begin -->";
const END: &str = "<!-- bench-raquet:end -->";
const VENV: &str = "target/venv-raquet";
const DATA: &str = "target/bench-data/raquet";
/// raquet-io and what it needs besides GDAL and numpy (pyarrow 19: the last line
/// that works with the numpy 1.x GDAL 3.6's bindings are built for).
const PINS: &[&str] = &[
    "click==8.3.1",
    "mercantile==1.2.1",
    "pyarrow==19.0.1",
    "quadbin==0.2.2",
];
const RAQUET_IO: &str = "raquet-io==0.9.0";

struct Job {
    name: &'static str,
    input: PathBuf,
    /// Options understood by both tools.
    args: &'static [&'static str],
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The raquet-io venv's python, creating the venv when the system Python has GDAL.
pub(crate) fn raquet_io_python(root: &Path) -> Option<PathBuf> {
    let py = root.join(VENV).join("bin/python");
    let ok = |p: &Path| {
        Command::new(p)
            .args(["-c", "import osgeo.gdal, raquet, pyarrow, mercantile"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if py.exists() && ok(&py) {
        return Some(py);
    }
    let system = Path::new("/usr/bin/python3");
    let has_gdal = Command::new(system)
        .args(["-c", "import osgeo.gdal"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_gdal {
        return None;
    }
    println!("==> creating {VENV} (system python3 with GDAL, {RAQUET_IO})");
    let venv = root.join(VENV);
    let st = Command::new(system)
        .args(["-m", "venv", "--system-site-packages"])
        .arg(&venv)
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    let pip = venv.join("bin/pip");
    let st = Command::new(&pip)
        .args(["install", "-q", "--no-deps", RAQUET_IO])
        .status()
        .ok()?;
    let st2 = Command::new(&pip)
        .args(["install", "-q"])
        .args(PINS)
        .status()
        .ok()?;
    (st.success() && st2.success() && ok(&py)).then_some(py)
}

fn sample_line(samples: &[Sample]) -> (f64, f64) {
    let wall = median(samples.iter().map(|s| s.wall).collect());
    let rss = samples.iter().map(|s| s.rss_mb).fold(0.0, f64::max);
    (wall, rss)
}

/// Runs the suite.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let no_docs = args.iter().any(|a| a == "--no-docs");
    let runs = if quick { 1 } else { 3 };
    let root = crate::project_root();
    let python = crate::interop::ensure_venv(&root)?;
    let runner = root.join("xtask/bench/runner.py");
    let geoquet = crate::bench::build_release("geoquet-cli", "--bin", "geoquet")?;
    let target = crate::target_dir(&root);
    let rio = raquet_io_python(&root);
    let shim = root.join("xtask/bench/raquet_io_run.py");
    let data = root.join(DATA);
    std::fs::create_dir_all(&data)?;

    let corpus = std::env::var_os("GEOQUET_TEST_DATA")
        .map_or_else(|| root.join("../shared/test-data"), PathBuf::from)
        .join("raquet");
    let mut jobs = Vec::new();
    if corpus.is_dir() {
        jobs.push(Job {
            name: "europe.tif 1024² RGBA uint8, 3857, cubicspline",
            input: corpus.join("upstream/europe.tif"),
            args: &["--resampling", "cubicspline"],
        });
        jobs.push(Job {
            name: "n37 DEM 329×354 int16, 4326, lower, cubicspline",
            input: corpus.join("upstream/n37_w123_1arc_v2.tif"),
            args: &["--zoom-strategy", "lower", "--resampling", "cubicspline"],
        });
        jobs.push(Job {
            name: "NLCD 470×672 uint8 palette, Albers, upper, near",
            input: corpus.join("upstream/Annual_NLCD_LndCov_2023_CU_C1V0.tif"),
            args: &["--zoom-strategy", "upper"],
        });
    }
    let generated = match &rio {
        Some(py) => {
            let out = Command::new(py)
                .arg(root.join("xtask/bench/raquet_gen.py"))
                .arg(&data)
                .output()
                .context("raquet_gen.py")?;
            if !out.status.success() {
                bail!("raquet_gen.py: {}", String::from_utf8_lossy(&out.stderr));
            }
            let v: Value = serde_json::from_slice(&out.stdout)?;
            v["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(PathBuf::from)
                .collect()
        }
        None => Vec::new(),
    };
    if !quick {
        for f in &generated {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with("dem_uint16_3857") {
                jobs.push(Job {
                    name: "DEM 4096² uint16, 3857 (seeded), near",
                    input: f.clone(),
                    args: &[],
                });
            } else if name.starts_with("temp_float32_utm") {
                jobs.push(Job {
                    name: "3000² float32, UTM 30N (seeded), NaN nodata, bilinear",
                    input: f.clone(),
                    args: &["--resampling", "bilinear"],
                });
            }
        }
    }
    if jobs.is_empty() {
        bail!("no inputs: neither the shared corpus nor GDAL for the seeded ones");
    }

    let mut table = String::from(
        "| input | geoquet | raquet-io 0.9.0 | speed-up | geoquet peak RSS | raquet-io peak RSS |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for job in &jobs {
        println!("==> {}", job.name);
        let out_ours = data.join("ours.parquet");
        let out_theirs = data.join("theirs.parquet");
        let mut cmd: Vec<OsString> = vec![
            geoquet.clone().into(),
            "raquet".into(),
            "from-geotiff".into(),
            job.input.clone().into(),
            out_ours.clone().into(),
            "-q".into(),
        ];
        cmd.extend(job.args.iter().map(OsString::from));
        let mut c: Vec<OsString> = Vec::new();
        if let Some(py) = &rio {
            c = vec![
                py.clone().into(),
                shim.clone().into(),
                "convert".into(),
                "raster".into(),
                job.input.clone().into(),
                out_theirs.clone().into(),
            ];
            c.extend(job.args.iter().map(OsString::from));
        }
        // The two tools in turn (ours, theirs, ours, ...), so that a change in the
        // machine's load hits both; the speed-up is the median of the paired ratios.
        let mut ours: Vec<Sample> = Vec::new();
        let mut theirs: Vec<Sample> = Vec::new();
        for _ in 0..runs {
            ours.push(measure(&python, &runner, &cmd)?);
            if rio.is_some() {
                let _ = std::fs::remove_file(&out_theirs);
                theirs.push(measure(&python, &runner, &c)?);
            }
        }
        let (ow, orss) = sample_line(&ours);
        let line = if theirs.is_empty() {
            format!(
                "| {} | {ow:.2} s | n/a (no GDAL) | – | {orss:.0} MB | – |\n",
                job.name
            )
        } else {
            let (tw, trss) = sample_line(&theirs);
            let speedup = median(
                ours.iter()
                    .zip(&theirs)
                    .map(|(o, t)| t.wall / o.wall)
                    .collect(),
            );
            format!(
                "| {} | {ow:.2} s | {tw:.2} s | {speedup:.1}× | {orss:.0} MB | {trss:.0} MB |\n",
                job.name
            )
        };
        print!("    {line}");
        table.push_str(&line);
    }

    println!("==> one-tile reads (cargo bench -p geoquet-raquet --bench tile)");
    let st = crate::cargo()
        .args([
            "bench",
            "-q",
            "-p",
            "geoquet-raquet",
            "--bench",
            "tile",
            "--",
            "--noplot",
        ])
        .status()?;
    if !st.success() {
        bail!("cargo bench failed");
    }
    let mut reads = String::from("| read (local file, already open) | median |\n|---|---:|\n");
    for (name, label) in [
        (
            "uint16_gzip",
            "one 256² uint16 tile, gzip (`A_uint16_3857_default`)",
        ),
        ("uint16_raw", "one 256² uint16 tile, no blob compression"),
        (
            "rgba_uint8_gzip",
            "one 256² 4-band uint8 tile, gzip (`europe_cubicspline`)",
        ),
        (
            "palette_gzip_63_rows",
            "one 256² uint8 palette tile of 63 rows (`nlcd_upper_near`)",
        ),
        (
            "open_uint16_gzip",
            "open: footer, `block` column, metadata row",
        ),
    ] {
        let est = target
            .join("criterion/raquet_tile")
            .join(name)
            .join("new/estimates.json");
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(&est).with_context(|| format!("reading {}", est.display()))?,
        )?;
        let ns = v["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let line = format!("| {label} | {:.3} ms |\n", ns / 1e6);
        print!("    {line}");
        reads.push_str(&line);
    }

    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    // Other work on the machine skews wall times (geoquet uses every core, raquet-io
    // mostly one): say how busy it was.
    let load = crate::bench::loadavg();
    let md = format!(
        "## RaQuet\n\n`cargo xtask bench raquet`{}: GeoTIFF → RaQuet, whole processes, median of {runs} run(s), \
         same input and options for both tools (geoquet's defaults are raquet-io's), the two run in turn; \
         the speed-up is the median of the paired ratios. \
         raquet-io 0.9.0 runs on GDAL 3.6.2 (Debian `python3-gdal`), pyarrow 19.0.1; \
         its peak RSS is the largest of its processes (it forks workers). Machine: {machine}, {cores} cores, \
         1/5/15-minute load average {load} at the end of the run.\n\n{table}\n\
         One-tile reads (criterion, `crates/raquet/benches/tile.rs`):\n\n{reads}",
        if quick { " --quick" } else { "" }
    );
    if !no_docs {
        update_doc_section(&root.join("docs/src/benchmarks.md"), BEGIN, END, &md)?;
        println!("==> docs/src/benchmarks.md updated");
    }
    Ok(())
}
