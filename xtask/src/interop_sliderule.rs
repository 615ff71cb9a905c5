//! `cargo xtask interop`: the sliderule cross-checks.
//!
//! 1. Seeded ATL06 and ATL03 records (NDJSON) are exported by
//!    `geoquet sliderule export` as GeoParquet and Parquet, with AWS
//!    credentials in the `output` parameters and in the echoed request.
//! 2. `sliderule_client.py` opens each file through the `sliderule` client's
//!    own `procoutputfile` (4.20 line, offline): the columns must be the
//!    reference order without `time`, which must be the index; the `sliderule`
//!    and `recordinfo` attrs must be there; no secret may appear in any byte.
//! 3. A framed stream (`--stream`, with checksum) is decoded by the client's
//!    native record parser fed in odd-sized chunks: the rebuilt file must be
//!    byte-identical to ours and the checksum the byte sum.
//! 4. `sliderule_s3.py` runs uploads against a local moto S3 server with IAM
//!    enforcement and a role allowed only `s3:PutObject` (see that script).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::interop::{Ctx, Row, Verdict, row, run_python, verdict};

const KEY_ID: &str = "AKIAINTEROPSECRETKEYID";
const SECRET: &str = "interopSECRETaccessKEYwJalrXUtnFEMIK7MDENG";
const TOKEN: &str = "interopSESSIONtokenIQoJb3JpZ2luX2VjEXAMPLE";

/// Reference column orders (`../shared/reference/sliderule.md` §4).
const ATL06_GEO: &[&str] = &[
    "dh_fit_dx",
    "n_fit_photons",
    "extent_id",
    "x_atc",
    "spot",
    "gt",
    "segment_id",
    "rgt",
    "pflags",
    "cycle",
    "w_surface_window_final",
    "y_atc",
    "h_mean",
    "rms_misfit",
    "h_sigma",
    "region",
    "time",
    "geometry",
];
const ATL06_PLAIN: &[&str] = &[
    "dh_fit_dx",
    "n_fit_photons",
    "longitude",
    "extent_id",
    "x_atc",
    "latitude",
    "spot",
    "gt",
    "segment_id",
    "rgt",
    "pflags",
    "cycle",
    "w_surface_window_final",
    "y_atc",
    "h_mean",
    "rms_misfit",
    "h_sigma",
    "region",
    "time",
];
const ATL03_GEO: &[&str] = &[
    "extent_id",
    "time",
    "x_atc",
    "landcover",
    "y_atc",
    "atl03_cnf",
    "atl08_class",
    "snowcover",
    "quality_ph",
    "yapc_score",
    "relief",
    "height",
    "cycle",
    "pair",
    "sc_orient",
    "rgt",
    "track",
    "background_rate",
    "segment_id",
    "segment_dist",
    "solar_elevation",
    "region",
    "geometry",
];
const ATL03_PLAIN: &[&str] = &[
    "extent_id",
    "time",
    "longitude",
    "x_atc",
    "landcover",
    "y_atc",
    "atl03_cnf",
    "atl08_class",
    "snowcover",
    "quality_ph",
    "yapc_score",
    "relief",
    "latitude",
    "height",
    "cycle",
    "pair",
    "sc_orient",
    "rgt",
    "track",
    "background_rate",
    "segment_id",
    "segment_dist",
    "solar_elevation",
    "region",
];

/// Seeded ATL06 rows as NDJSON.
fn atl06_ndjson(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let _ = writeln!(
            s,
            r#"{{"extent_id": {}, "segment_id": {}, "n_fit_photons": {}, "pflags": 0, "rgt": 1160, "cycle": 2, "region": 3, "spot": {}, "gt": {}, "delta_time": {}, "latitude": {}, "longitude": {}, "h_mean": {}, "dh_fit_dx": 0.0125, "x_atc": {}, "y_atc": 3200.5, "w_surface_window_final": 3.0, "rms_misfit": 0.21, "h_sigma": 0.031}}"#,
            0x4880_0023_8000_0002u64 + (u64::from(i) << 2),
            500_000 + i,
            10 + i % 50,
            1 + i % 6,
            10 * (1 + i % 6),
            37_791_646.894_008_58 + f64::from(i) * 0.002_8,
            72.823_381 + f64::from(i) * 1e-4,
            -26.200_447 - f64::from(i) * 2e-5,
            1000.0 + f64::from(i % 97),
            8_091_000.0 + f64::from(i) * 20.0,
        );
    }
    s
}

/// Seeded ATL03 photon rows (extents of 5–17 photons) as NDJSON.
fn atl03_ndjson(extents: u32) -> String {
    let mut s = String::new();
    let mut t = 0u32;
    for e in 0..extents {
        for j in 0..(5 + e % 13) {
            t += 1;
            let _ = writeln!(
                s,
                r#"{{"extent_id": {}, "region": 3, "track": {}, "pair": {}, "sc_orient": 1, "rgt": 1160, "cycle": 2, "segment_id": {}, "segment_dist": {}, "background_rate": 4321.5, "solar_elevation": -3.25, "delta_time": {}, "latitude": {}, "longitude": {}, "x_atc": {}, "y_atc": 12.5, "height": {}, "relief": 0.0, "landcover": 255, "snowcover": 255, "atl08_class": 4, "atl03_cnf": {}, "quality_ph": 0, "yapc_score": {}}}"#,
                0x4880_0023_8000_0000u64 + (u64::from(e) << 2),
                1 + e % 3,
                e % 2,
                600_000 + e,
                8_000_000.0 + f64::from(e) * 20.0,
                37_791_646.0 + f64::from(t) * 1e-4,
                72.8 + f64::from(t) * 1e-6,
                -26.2 - f64::from(e) * 1e-5,
                f64::from(j) * 0.7 - 10.0,
                100.0 + f64::from(j),
                i32::try_from(j % 7).unwrap_or(0) - 2,
                (j * 37) % 300,
            );
        }
    }
    s
}

fn output_json(path: &Path, format: &str, extra: &str) -> String {
    format!(
        r#"{{"path": "{}", "format": "{format}", "open_on_complete": true{extra}, "credentials": {{"aws_access_key_id": "{KEY_ID}", "aws_secret_access_key": "{SECRET}", "aws_session_token": "{TOKEN}", "expiration": "2030-01-01T00:00:00Z"}}}}"#,
        path.display()
    )
}

fn request_json() -> String {
    format!(
        r#"{{"poly": [{{"lon": -26.3, "lat": 72.7}}, {{"lon": -26.1, "lat": 72.7}}, {{"lon": -26.1, "lat": 72.9}}, {{"lon": -26.3, "lat": 72.7}}], "output": {{"credentials": {{"accessKeyId": "{KEY_ID}", "secretAccessKey": "{SECRET}", "sessionToken": "{TOKEN}"}}}}}}"#
    )
}

fn geoquet(ctx: &Ctx<'_>, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(ctx.geoquet)
        .args(args)
        .output()
        .context("running geoquet")?;
    if !out.status.success() {
        bail!(
            "geoquet {} failed: {}",
            args.get(..2).map(|a| a.join(" ")).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Runs the sliderule cross-checks, one [`Row`] per check.
pub(crate) fn checks(ctx: &Ctx<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let dir = ctx.out.join("sliderule");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let client_ok = Command::new(ctx.python)
        .args(["-c", "import sliderule"])
        .output()
        .is_ok_and(|o| o.status.success());
    let atl06 = dir.join("atl06.ndjson");
    let atl03 = dir.join("atl03.ndjson");
    std::fs::write(&atl06, atl06_ndjson(500))?;
    std::fs::write(&atl03, atl03_ndjson(120))?;
    let request = request_json();
    let mut files = Vec::new();
    for (rec, input, format, expected) in [
        ("atl06", &atl06, "geoparquet", ATL06_GEO),
        ("atl06", &atl06, "parquet", ATL06_PLAIN),
        ("atl03", &atl03, "geoparquet", ATL03_GEO),
        ("atl03", &atl03, "parquet", ATL03_PLAIN),
    ] {
        let name = format!("{rec}_{format}");
        let path = dir.join(format!("{name}.parquet"));
        let spec = output_json(&path, format, "");
        geoquet(
            ctx,
            &[
                "sliderule",
                "export",
                "--record",
                rec,
                "--input",
                &input.to_string_lossy(),
                "--output-json",
                &spec,
                "--request-json",
                &request,
                "-q",
            ],
        )?;
        files.push((name, path, format, expected));
    }
    // A framed stream with checksum, and our own decoding of it.
    let stream_name = "stream_atl06.parquet";
    let framed = dir.join("stream.bin");
    let spec = format!(
        r#"{{"path": "{stream_name}", "format": "geoparquet", "with_checksum": true, "credentials": {{"aws_secret_access_key": "{SECRET}"}}}}"#
    );
    geoquet(
        ctx,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            &atl06.to_string_lossy(),
            "--output-json",
            &spec,
            "--stream",
            &framed.to_string_lossy(),
            "-q",
        ],
    )?;
    let ours = dir.join("ours_decoded.parquet");
    geoquet(
        ctx,
        &[
            "sliderule",
            "decode-stream",
            &framed.to_string_lossy(),
            &ours.to_string_lossy(),
            "-q",
        ],
    )?;
    if !client_ok {
        rows.push(row(
            "sliderule: procoutputfile / stream decoder",
            "sliderule",
            Verdict::Skipped("the sliderule package is not installed in the venv".into()),
        ));
    } else {
        let client_dir = dir.join("client");
        std::fs::create_dir_all(&client_dir)?;
        let manifest = json!({
            "secrets": [KEY_ID, SECRET, TOKEN],
            "files": files.iter().map(|(name, path, format, _)| json!({
                "name": name, "path": path, "format": format,
            })).collect::<Vec<_>>(),
            "stream": {
                "framed": framed, "name": stream_name, "expected": ours,
                "dir": client_dir, "chunk": 7777,
            },
        });
        let manifest_path = dir.join("manifest.json");
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
        let script = ctx.root.join("xtask/interop/sliderule_client.py");
        let result = run_python(ctx.python, &script, &[OsString::from(&manifest_path)])?;
        let client = format!(
            "sliderule {}",
            result["versions"]["sliderule"].as_str().unwrap_or("?")
        );
        for (name, _, format, expected) in &files {
            let got = &result["files"][name.as_str()];
            rows.push(row(
                format!("sliderule.procoutputfile on our {name}"),
                &client,
                verdict(file_check(got, format, expected)),
            ));
            rows.push(row(
                format!("sliderule: no credential in any byte of {name}"),
                &client,
                verdict(secret_check(got)),
            ));
        }
        rows.push(row(
            "sliderule Session native decoder rebuilds our arrowrec stream",
            &client,
            verdict(stream_check(&result["stream"])),
        ));
    }
    let s3 = ctx.root.join("xtask/interop/sliderule_s3.py");
    match run_python(
        ctx.python,
        &s3,
        &[
            OsString::from(ctx.geoquet),
            OsString::from(&atl06),
            OsString::from(&dir),
        ],
    ) {
        Ok(v) => {
            for case in v["cases"].as_array().cloned().unwrap_or_default() {
                let name = case["name"].as_str().unwrap_or("?").to_owned();
                let verdict = if case["ok"].as_bool() == Some(true) {
                    Verdict::Ok(case["note"].as_str().map(str::to_owned))
                } else {
                    Verdict::Failed(case["why"].as_str().unwrap_or("?").to_owned())
                };
                rows.push(row(format!("sliderule S3: {name}"), "moto server", verdict));
            }
        }
        Err(e) => rows.push(row(
            "sliderule S3 uploads",
            "moto server",
            Verdict::Failed(format!("{e:#}")),
        )),
    }
    Ok(())
}

fn file_check(got: &Value, format: &str, expected: &[&str]) -> anyhow::Result<String> {
    let want_type = if format == "geoparquet" {
        "GeoDataFrame"
    } else {
        "DataFrame"
    };
    if got["type"] != want_type {
        bail!("returned {}, expected {want_type}", got["type"]);
    }
    if got["index"] != "time"
        || !got["index_dtype"]
            .as_str()
            .unwrap_or("")
            .starts_with("datetime64[ns")
    {
        bail!(
            "index {} ({}), expected time (datetime64[ns])",
            got["index"],
            got["index_dtype"]
        );
    }
    let cols: Vec<&str> = got["columns"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let want: Vec<&str> = expected.iter().copied().filter(|c| *c != "time").collect();
    if cols != want {
        bail!("columns {cols:?}, expected {want:?}");
    }
    let attrs = got["attrs"].to_string();
    if !attrs.contains("\"sliderule\"") || !attrs.contains("\"recordinfo\"") {
        bail!("attrs {attrs}, expected sliderule and recordinfo");
    }
    let ri = &got["recordinfo"];
    if ri["time"] != "time"
        || ri["x"] != "longitude"
        || ri["y"] != "latitude"
        || ri["as_geo"] != (format == "geoparquet")
    {
        bail!("recordinfo {ri}");
    }
    if got["credentials_echo"] != json!({}) {
        bail!(
            "the echoed request has credentials {}",
            got["credentials_echo"]
        );
    }
    if format == "geoparquet"
        && !got["crs"].as_str().unwrap_or("").contains("CRS84")
        && !got["crs"].as_str().unwrap_or("").contains("4326")
    {
        bail!("CRS {}", got["crs"]);
    }
    Ok(format!(
        "{} rows, {} columns, index time",
        got["rows"],
        cols.len()
    ))
}

fn secret_check(got: &Value) -> anyhow::Result<String> {
    if got["secret_found"] != false {
        bail!("a credential string appears in the file");
    }
    Ok("key id, secret and token absent".into())
}

fn stream_check(got: &Value) -> anyhow::Result<String> {
    if got["identical"] != true {
        bail!(
            "the client's rebuilt file differs from ours ({} bytes)",
            got["rebuilt_bytes"]
        );
    }
    let sums: Vec<u64> = got["checksums"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if sums != [got["byte_sum"].as_u64().unwrap_or(u64::MAX)] {
        bail!(
            "arrowrec.eof checksums {sums:?}, byte sum {}",
            got["byte_sum"]
        );
    }
    if got["open_files_left"] != 0 {
        bail!("the client left a file open");
    }
    Ok(format!(
        "{} bytes identical, checksum matches",
        got["rebuilt_bytes"]
    ))
}
