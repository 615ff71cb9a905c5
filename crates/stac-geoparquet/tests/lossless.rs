//! The lossless contract: JSON → Parquet → JSON gives equal JSON values (key
//! order aside) for every fixture of the shared corpus.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use stac_geoparquet::{Source, WriterOptions, read_items, write_parquet};

/// The items of a JSON fixture, the way a STAC reader sees them.
fn expected_items(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "ndjson") {
        return text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    match v {
        Value::Array(a) => a,
        Value::Object(ref o)
            if o.get("type") == Some(&Value::String("FeatureCollection".into())) =>
        {
            o["features"].as_array().unwrap().clone()
        }
        other => vec![other],
    }
}

fn is_item_fixture(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "ndjson") {
        return true;
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    !matches!(
        v.get("type").and_then(Value::as_str),
        Some("Collection" | "Catalog")
    ) && v.get("version").is_none()
}

fn fixtures() -> Option<Vec<PathBuf>> {
    let root = test_support::corpus("stac")?;
    let mut out = Vec::new();
    for dir in [
        "stac-spec",
        "stac-geoparquet-py",
        "rustac",
        "rustac-py",
        "synthetic-edge-cases",
    ] {
        for suffix in [".json", ".ndjson"] {
            for p in test_support::files_with_suffix(&root.join(dir), suffix) {
                if is_item_fixture(&p) {
                    out.push(p);
                }
            }
        }
    }
    Some(out)
}

/// Writes and reads back; the differences as text (empty when equal).
fn round_trip(path: &Path, options: &WriterOptions) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    if let Err(e) = write_parquet(&[Source::Path(path.to_path_buf())], &out, options) {
        return format!("{}: write failed: {e}", path.display());
    }
    let got = match read_items(&out) {
        Ok(items) => items,
        Err(e) => return format!("{}: read failed: {e}", path.display()),
    };
    let want = expected_items(path);
    if got.len() != want.len() {
        return format!(
            "{}: {} items, expected {}",
            path.display(),
            got.len(),
            want.len()
        );
    }
    let mut diffs = String::new();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            diffs.push_str(&format!(
                "{} item {i}:\n  got  {}\n  want {}\n",
                path.display(),
                g,
                w
            ));
        }
    }
    diffs
}

#[test]
fn every_fixture_round_trips_exactly() {
    let Some(files) = fixtures() else { return };
    assert!(files.len() > 60, "{} fixtures", files.len());
    let mut failures = String::new();
    for f in &files {
        failures.push_str(&round_trip(f, &WriterOptions::default()));
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn small_batches_and_row_groups_round_trip_too() {
    let Some(files) = fixtures() else { return };
    let mut options = WriterOptions::default().with_row_group_rows(2);
    options.batch_rows = 3;
    let mut failures = String::new();
    for f in &files {
        failures.push_str(&round_trip(f, &options));
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_fixture_as_ndjson_round_trips_exactly() {
    // NDJSON takes the cheap first-pass parser: it must decide the same.
    let Some(files) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = String::new();
    for f in &files {
        let items = expected_items(f);
        let nd = dir.path().join("items.ndjson");
        let text: String = items.iter().map(|i| format!("{i}\n")).collect();
        std::fs::write(&nd, text).unwrap();
        let out = dir.path().join("out.parquet");
        match write_parquet(&[Source::Path(nd)], &out, &WriterOptions::default()) {
            Ok(_) => match read_items(&out) {
                Ok(got) if got == items => {}
                Ok(_) => failures.push_str(&format!("{}: differs\n", f.display())),
                Err(e) => failures.push_str(&format!("{}: {e}\n", f.display())),
            },
            Err(e) => failures.push_str(&format!("{}: {e}\n", f.display())),
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
