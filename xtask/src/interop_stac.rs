//! `cargo xtask interop`: the stac cross-checks (files we write read by the
//! Python clients, files they write read by us).
//!
//! `xtask/interop/stac_check.py` does the work over every item fixture of the
//! shared corpus (`stac-spec`, `stac-geoparquet-py`, `rustac`, `rustac-py`):
//! our files read by Python stac-geoparquet (`stac_table_to_items`), rustac
//! (`rustac.read`) and GeoPandas; files written by Python stac-geoparquet and
//! rustac read by us; each compared with the JSON source modulo the client's
//! documented losses (reference §5). Failures the clients are documented to
//! have (null geometry, naive datetimes) are reported as known, with the
//! fixtures they concern. A generated set of items as they come from the wider
//! world (no bbox, a bbox that misses its geometry, open rings, a property of
//! conflicting types, a foreign member) is written by us and read by each
//! client: no property the items did not have, bboxes that hold their
//! geometries, closed rings, the JSON column marked JSON.

use std::path::PathBuf;

use serde_json::Value;

use crate::interop::{Ctx, Row, Verdict, row, run_python};

/// The shared corpus' STAC folder: `$GEOQUET_TEST_DATA/stac`, else
/// `../shared/test-data/stac` beside the workspace.
fn corpus(root: &std::path::Path) -> PathBuf {
    match std::env::var_os("GEOQUET_TEST_DATA") {
        Some(v) if !v.is_empty() => PathBuf::from(v).join("stac"),
        _ => root.join("../shared/test-data/stac"),
    }
}

/// Runs the stac cross-checks, one [`Row`] per check.
pub(crate) fn checks(ctx: &Ctx<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let stac = corpus(ctx.root);
    if !stac.is_dir() {
        rows.push(row(
            "stac: corpus cross-checks",
            "stac-geoparquet, rustac, GeoPandas",
            Verdict::Skipped(format!("{} not found", stac.display())),
        ));
        return Ok(());
    }
    let out = ctx.out.join("stac");
    let script = ctx.root.join("xtask/interop/stac_check.py");
    let result = run_python(
        ctx.python,
        &script,
        &[
            ctx.geoquet.into(),
            stac.clone().into_os_string(),
            out.into_os_string(),
        ],
    )?;
    let py = format!(
        "stac-geoparquet {}",
        result["versions"]["stac-geoparquet"]
            .as_str()
            .unwrap_or("?")
    );
    let rs = format!(
        "rustac {}",
        result["versions"]["rustac"].as_str().unwrap_or("?")
    );
    let fixtures = result["fixtures"].as_u64().unwrap_or(0);
    println!("    {fixtures} item fixtures, {py}, {rs}");
    let table: [(&str, &str, String); 10] = [
        (
            "ours_lossless",
            "stac to-parquet then to-ndjson = the JSON (exact)",
            "geoquet".into(),
        ),
        (
            "py_reads_ours",
            "stac: our files read by stac_table_to_items",
            py.clone(),
        ),
        (
            "rustac_reads_ours",
            "stac: our files read by rustac.read",
            rs.clone(),
        ),
        (
            "geopandas_reads_ours",
            "stac: our files read as GeoParquet (rows, CRS, bounds)",
            "GeoPandas".into(),
        ),
        (
            "we_read_py",
            "stac: files written by stac-geoparquet, read by us",
            py.clone(),
        ),
        (
            "we_read_rustac",
            "stac: files written by rustac.write, read by us",
            rs.clone(),
        ),
        (
            "generated_lossless",
            "stac: items without bbox, open rings, conflicting types: to-parquet then to-ndjson (exact)",
            "geoquet".into(),
        ),
        (
            "generated_py",
            "stac: those items read by stac_table_to_items (no extra property, bbox holds geometry, closed rings, JSON column)",
            py,
        ),
        (
            "generated_rustac",
            "stac: those items read by rustac.read (no extra property, bbox holds geometry, closed rings)",
            rs,
        ),
        (
            "generated_geopandas",
            "stac: those items read by GeoPandas (valid geometries, bounds)",
            "GeoPandas".into(),
        ),
    ];
    for (key, check, client) in table {
        let c = &result["checks"][key];
        let list = |k: &str| -> Vec<String> {
            c[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (ok, failures, known) = (
            c["ok"].as_u64().unwrap_or(0),
            list("failures"),
            list("known"),
        );
        let verdict = if !failures.is_empty() {
            Verdict::Failed(format!(
                "{} of {} fixtures: {}",
                failures.len(),
                ok as usize + failures.len() + known.len(),
                failures.join("; ")
            ))
        } else if ok == 0 {
            Verdict::Failed("no fixture was checked".into())
        } else if known.is_empty() {
            Verdict::Ok(Some(format!("{ok} fixtures")))
        } else {
            Verdict::Known(format!(
                "{ok} fixtures ok; documented client limits or writer rules on {}: {}",
                known.len(),
                known.join("; ")
            ))
        };
        rows.push(row(check, client, verdict));
    }
    Ok(())
}
