//! `cargo xtask interop`: the raquet cross-checks. Files we write with
//! `geoquet raquet from-geotiff` (from the corpus' synthetic GeoTIFFs) are read by
//! pyarrow + gzip + numpy, quadbin-py and DuckDB (`interop/raquet_read_ours.py`),
//! and the reference converter's committed outputs (raquet-io 0.9.0) are read and
//! validated by `geoquet raquet`. raquet-io itself needs GDAL's Python bindings,
//! which have no wheels on PyPI, so it is not in `requirements.txt`. GDAL (Debian
//! `gdal-bin`, `python3-gdal`, installed with apt-get in CI when missing) writes GeoTIFFs
//! in every layout, and the values it reads are compared with ours
//! (`interop/raquet_gdal_layouts.py`); then the benchmark's venv (`target/venv-raquet`:
//! the system python with GDAL plus raquet-io, made here when missing) runs raquet-io's
//! validator and GeoTIFF exporter on our files. Without GDAL those rows are skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::interop::{Ctx, Row, Verdict, row, run_python};

/// The shared corpus folder, if present.
fn corpus(root: &Path) -> Option<PathBuf> {
    let base = match std::env::var_os("GEOQUET_TEST_DATA") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => root.join("..").join("shared").join("test-data"),
    };
    let dir = base.join("raquet");
    dir.is_dir().then_some(dir)
}

fn geoquet(exe: &Path, args: &[&str]) -> anyhow::Result<(i32, Value)> {
    let out = Command::new(exe)
        .args(args)
        .output()
        .with_context(|| format!("running geoquet {args:?}"))?;
    let code = out.status.code().unwrap_or(-1);
    if code == 2 {
        bail!(
            "geoquet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v = if out.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    Ok((code, v))
}

/// Runs the raquet cross-checks, one [`Row`] per check.
pub(crate) fn checks(ctx: &Ctx<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let Some(dir) = corpus(ctx.root) else {
        rows.push(row(
            "raquet (all checks)",
            "-",
            Verdict::Skipped("shared test-data/raquet not found".into()),
        ));
        return Ok(());
    };
    let out = ctx.out.join("raquet");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let generated = dir.join("generated");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let jobs: [(&str, &str, &[&str]); 4] = [
        ("synthetic_uint16_3857.tif", "A_uint16.parquet", &[]),
        (
            "synthetic_uint16_3857.tif",
            "A_uint16_tilestats.parquet",
            &["--tile-stats", "--keep-empty"],
        ),
        ("synthetic_rgb_3857.tif", "B_rgb.parquet", &[]),
        (
            "synthetic_int16x2_3857.tif",
            "D_int16x2_interleaved.parquet",
            &["--layout", "interleaved", "--overviews", "none"],
        ),
    ];
    for (src, dst, extra) in jobs {
        let (i, o) = (s(&generated.join(src)), s(&out.join(dst)));
        let mut args = vec!["raquet", "from-geotiff", i.as_str(), o.as_str(), "--json"];
        args.extend_from_slice(extra);
        let _ = geoquet(ctx.geoquet, &args)?;
    }
    let script = ctx.root.join("xtask/interop/raquet_read_ours.py");
    let doc = run_python(ctx.python, &script, &[out.clone().into_os_string()])?;
    for c in doc["checks"].as_array().into_iter().flatten() {
        let note = c["note"].as_str().unwrap_or("").to_string();
        let verdict = if c["ok"].as_bool() == Some(true) {
            Verdict::Ok(Some(note))
        } else {
            Verdict::Failed(note)
        };
        rows.push(row(
            c["name"].as_str().unwrap_or("?"),
            c["client"].as_str().unwrap_or("?"),
            verdict,
        ));
    }

    // Their files, read and validated by us.
    let mut valid = 0;
    let mut problems = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&generated)
        .with_context(|| format!("listing {}", generated.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    for f in &files {
        let (code, v) = geoquet(ctx.geoquet, &["raquet", "validate", &s(f), "--json"])?;
        if code == 0 && v["valid"] == Value::Bool(true) {
            valid += 1;
        } else {
            problems.push(format!("{}: {}", f.display(), v["findings"]));
        }
    }
    rows.push(row(
        "geoquet raquet validate on raquet-io outputs",
        "raquet-io 0.9.0 (committed outputs)",
        if problems.is_empty() {
            Verdict::Ok(Some(format!("{valid} files valid")))
        } else {
            Verdict::Failed(problems.join("; "))
        },
    ));
    // Their tiles, read by us: the byte-interleaved int16 file decodes to the source.
    let d = s(&generated.join("D_int16x2_3857_interleaved_gzip.parquet"));
    let (_, v) = geoquet(
        ctx.geoquet,
        &[
            "raquet",
            "tile",
            &d,
            "10/520/350",
            "--byte-interleaved",
            "--json",
        ],
    )?;
    let (lo, hi) = (v["bands"][0]["min"].as_f64(), v["bands"][0]["max"].as_f64());
    rows.push(row(
        "geoquet raquet tile on raquet-io's byte-interleaved int16",
        "raquet-io 0.9.0 (committed outputs)",
        if lo == Some(-32768.0) && hi == Some(32767.0) {
            Verdict::Ok(Some(
                "decoded with --byte-interleaved: full int16 range as in the source".into(),
            ))
        } else {
            Verdict::Failed(format!("band_1 min/max {lo:?}/{hi:?}"))
        },
    ));
    let legacy = s(&dir.join("upstream/example_data.parquet"));
    let (code, v) = geoquet(ctx.geoquet, &["raquet", "validate", &legacy, "--json"])?;
    let says_version = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["code"] == "version_missing");
    rows.push(row(
        "geoquet raquet validate on the upstream example (legacy, no version)",
        "raquet-io 0.9.0 validate (documented verdict)",
        if code == 1 && says_version {
            Verdict::Known(
                "INVALID for the missing `version`, as raquet-io's validator says; it still reads"
                    .into(),
            )
        } else {
            Verdict::Failed(format!("exit {code}, findings {}", v["findings"]))
        },
    ));
    // GDAL first: in CI it installs python3-gdal, which raquet-io's venv is built on.
    gdal_layouts(ctx, &dir, &out, rows)?;
    raquet_io_reads_ours(ctx, &out, rows)?;
    Ok(())
}

/// GDAL's Python bindings, from the system python (Debian `python3-gdal`; no PyPI wheels).
fn gdal_python() -> Option<PathBuf> {
    ["/usr/bin/python3", "python3"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| {
            Command::new(p)
                .args(["-c", "import osgeo.gdal, numpy"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Installs GDAL with apt-get where CI runs (as root, Debian's registry reachable) and it
/// is missing; elsewhere nothing is installed.
fn install_gdal() -> Option<String> {
    if std::env::var_os("CI").is_none() {
        return Some("not installed outside CI: apt-get install gdal-bin python3-gdal".into());
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                if o.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
                }
            })
    };
    let install = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "gdal-bin",
        "python3-gdal",
    ];
    apt(&install)
        .or_else(|_| apt(&["update", "-q"]).and_then(|()| apt(&install)))
        .err()
        .map(|e| format!("apt-get install gdal-bin python3-gdal failed: {e}"))
}

/// GDAL writes seeded rasters in every layout it has (compressions, predictors, tiles and
/// strips, band/pixel interleaving, BigTIFF, JPEG YCbCr, WebP); we convert each and compare
/// the pixel values GDAL reads with ours (`interop/raquet_gdal_layouts.py`). The NAIP tile
/// of issue 14 is compared as it is.
fn gdal_layouts(ctx: &Ctx<'_>, dir: &Path, out: &Path, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    const CHECK: &str = "GeoTIFF layouts written by GDAL, read by us";
    let python = match gdal_python() {
        Some(p) => p,
        None => {
            let why = install_gdal();
            match (gdal_python(), why) {
                (Some(p), _) => p,
                (None, why) => {
                    rows.push(row(
                        CHECK,
                        "GDAL",
                        Verdict::Skipped(why.unwrap_or_else(|| {
                            "GDAL's Python bindings still missing after apt-get".into()
                        })),
                    ));
                    return Ok(());
                }
            }
        }
    };
    let script = ctx.root.join("xtask/interop/raquet_gdal_layouts.py");
    let mut args = vec![
        ctx.geoquet.as_os_str().to_owned(),
        out.join("gdal_layouts").into_os_string(),
    ];
    let naip = dir.join("third-party/naip_m_3607824_se_17_1_20160620_sub.tif");
    if naip.exists() {
        args.push(naip.into_os_string());
    }
    let doc = run_python(&python, &script, &args)?;
    for c in doc["checks"].as_array().into_iter().flatten() {
        let note = c["note"].as_str().unwrap_or("").to_string();
        let verdict = match c["ok"].as_bool() {
            Some(true) => Verdict::Ok(Some(note)),
            Some(false) => Verdict::Failed(note),
            None => Verdict::Skipped(note),
        };
        rows.push(row(
            c["name"].as_str().unwrap_or("?"),
            c["client"].as_str().unwrap_or("GDAL"),
            verdict,
        ));
    }
    Ok(())
}

/// raquet-io 0.9.0 validates and exports our files, from the bench venv
/// (`target/venv-raquet`, made here when the system python has GDAL: CI installs it).
fn raquet_io_reads_ours(ctx: &Ctx<'_>, out: &Path, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    const CLIENT: &str = "raquet-io 0.9.0";
    let shim = ctx.root.join("xtask/bench/raquet_io_run.py");
    let python = crate::bench_raquet::raquet_io_python(ctx.root);
    let Some(python) = python else {
        let why = "needs GDAL's Python bindings (python3-gdal; no PyPI wheels), installed by this step in CI";
        rows.push(row(
            "raquet-io validate on our files",
            CLIENT,
            Verdict::Skipped(why.into()),
        ));
        rows.push(row(
            "raquet-io export geotiff of our file",
            CLIENT,
            Verdict::Skipped(why.into()),
        ));
        return Ok(());
    };
    let run = |args: &[&std::ffi::OsStr]| Command::new(&python).arg(&shim).args(args).output();
    let mut valid = Vec::new();
    let mut problems = Vec::new();
    for name in [
        "A_uint16.parquet",
        "A_uint16_tilestats.parquet",
        "B_rgb.parquet",
    ] {
        let f = out.join(name);
        let o = run(&["validate".as_ref(), f.as_os_str(), "--json".as_ref()])
            .context("running raquet-io validate")?;
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        if v["is_valid"] == Value::Bool(true) {
            valid.push(name);
        } else {
            problems.push(format!("{name}: {}", v["errors"]));
        }
    }
    rows.push(row(
        "raquet-io validate on our files (sequential layout)",
        CLIENT,
        if problems.is_empty() {
            Verdict::Ok(Some(format!("{} valid", valid.join(", "))))
        } else {
            Verdict::Failed(problems.join("; "))
        },
    ));
    let f = out.join("D_int16x2_interleaved.parquet");
    let o = run(&["validate".as_ref(), f.as_os_str(), "--json".as_ref()])
        .context("running raquet-io validate")?;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let expected_false = v["errors"].as_array().is_some_and(|e| {
        e.iter().all(|m| {
            m.as_str()
                .is_some_and(|m| m.contains("defined in metadata but not in table"))
        })
    });
    rows.push(row(
        "raquet-io validate on our interleaved file",
        CLIENT,
        if v["is_valid"] == Value::Bool(true) {
            Verdict::Ok(None)
        } else if expected_false {
            Verdict::Known("its validator expects band_N columns with band_layout interleaved and rejects its own interleaved output the same way".into())
        } else {
            Verdict::Failed(format!("{}", v["errors"]))
        },
    ));
    // raquet-io exports our file to GeoTIFF; we convert that back: same native tile.
    let a = out.join("A_uint16.parquet");
    let tif = out.join("A_uint16_by_raquet_io.tif");
    let back = out.join("A_uint16_back.parquet");
    let o = run(&[
        "export".as_ref(),
        "geotiff".as_ref(),
        a.as_os_str(),
        tif.as_os_str(),
    ])
    .context("running raquet-io export")?;
    let verdict = if !o.status.success() {
        Verdict::Failed(
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_string(),
        )
    } else {
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let _ = geoquet(
            ctx.geoquet,
            &[
                "raquet",
                "from-geotiff",
                &s(&tif),
                &s(&back),
                "--overviews",
                "none",
                "--json",
            ],
        )?;
        let (_, ours) = geoquet(
            ctx.geoquet,
            &["raquet", "tile", &s(&a), "8/130/86", "--json"],
        )?;
        let (_, again) = geoquet(
            ctx.geoquet,
            &["raquet", "tile", &s(&back), "8/130/86", "--json"],
        )?;
        if ours["bands"] == again["bands"] && ours["present"] == Value::Bool(true) {
            Verdict::Ok(Some(format!(
                "tile 8/130/86 identical after the round trip ({} valid pixels)",
                ours["bands"][0]["valid"]
            )))
        } else {
            Verdict::Failed(format!(
                "ours {} vs after raquet-io {}",
                ours["bands"], again["bands"]
            ))
        }
    };
    rows.push(row(
        "raquet-io export geotiff of our file, read back by us",
        CLIENT,
        verdict,
    ));
    Ok(())
}
