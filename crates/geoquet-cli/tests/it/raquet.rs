//! `geoquet raquet …` end to end: conversion, info, tiles, PNG, values, GeoTIFF,
//! validation and exit codes.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{code, geoquet, json, s};

fn corpus() -> Option<PathBuf> {
    test_support::corpus("raquet")
}

#[test]
fn convert_inspect_tile_validate() {
    let Some(dir) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a.parquet");
    let src = dir.join("generated/synthetic_uint16_3857.tif");
    let o = geoquet(&[
        "raquet",
        "from-geotiff",
        s(&src),
        s(&out),
        "--tile-stats",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let doc = json(&o);
    assert_eq!(doc["min_zoom"], 6);
    assert_eq!(doc["max_zoom"], 8);
    assert_eq!(doc["empty_tiles_skipped"], 1);
    assert_eq!(doc["metadata"]["tile_statistics"], true);

    let o = geoquet(&["raquet", "info", s(&out), "--json"]);
    assert_eq!(code(&o), 0);
    let doc = json(&o);
    assert_eq!(doc["version"], "0.5.0");
    assert_eq!(doc["tiles_per_zoom"]["8"], 5);
    assert_eq!(doc["metadata"]["bands"][0]["STATISTICS_MAXIMUM"], 65535);

    let o = geoquet(&["raquet", "info", s(&out)]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("zooms 6..=8"), "{text}");

    let png = tmp.path().join("t.png");
    let o = geoquet(&[
        "raquet",
        "tile",
        s(&out),
        "8/130/86",
        "--png",
        s(&png),
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    let doc = json(&o);
    assert_eq!(doc["bands"][0]["valid"], 64936);
    assert_eq!(doc["bands"][0]["max"], 65535.0);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");

    // Outside the zoom range: served from the nearest zoom.
    let o = geoquet(&["raquet", "tile", s(&out), "9/260/172", "--json"]);
    assert_eq!(json(&o)["source_zoom"], 8);
    // Absent tile: exit 1.
    let o = geoquet(&["raquet", "tile", s(&out), "8/0/0"]);
    assert_eq!(code(&o), 1);

    let o = geoquet(&["raquet", "validate", s(&out), "--json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["valid"], true);

    let tif = tmp.path().join("back.tif");
    let o = geoquet(&["raquet", "to-geotiff", s(&out), s(&tif), "--json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&o)["width"], 768);
}

#[test]
fn values_at_points() {
    let Some(dir) = corpus() else { return };
    let f = dir.join("generated/C_float32_4326_default.parquet");
    let o = geoquet(&["raquet", "value", s(&f), "-3.7038", "40.4168", "--json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let doc = json(&o);
    assert_eq!(doc["present"], true);
    assert!(doc["values"]["band_1"].is_number());
    let o = geoquet(&["raquet", "value", s(&f), "100", "10"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn validate_exit_codes() {
    let Some(dir) = corpus() else { return };
    // Legacy example without `version`: invalid (1), like the reference validator says.
    let o = geoquet(&[
        "raquet",
        "validate",
        s(&dir.join("upstream/example_data.parquet")),
        "--json",
    ]);
    assert_eq!(code(&o), 1);
    let doc = json(&o);
    assert_eq!(doc["valid"], false);
    // The document's shape: these keys in this order, each finding three keys.
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&doc),
        ["file", "valid", "tiles", "tiles_per_zoom", "findings"]
    );
    assert!(doc["tiles"].as_u64().unwrap() > 0);
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(keys(f), ["code", "severity", "message"]);
        assert!(
            f["severity"] == "error" || f["severity"] == "warning",
            "{f}"
        );
    }
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "version_missing")
    );
    // Not a Parquet file: unreadable (2), one line on stderr.
    let o = geoquet(&["raquet", "validate", s(&dir.join("SOURCES.md"))]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    // Every reference output validates.
    for name in [
        "A_uint16_3857_default.parquet",
        "nlcd_upper_near.parquet",
        "B_rgb_3857_interleaved_webp.parquet",
    ] {
        let o = geoquet(&["raquet", "validate", s(&dir.join("generated").join(name))]);
        assert_eq!(
            code(&o),
            0,
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

#[test]
fn bad_arguments_are_exit_2() {
    let Some(dir) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let src = dir.join("generated/synthetic_rgb_3857.tif");
    let out = tmp.path().join("x.parquet");
    let o = geoquet(&[
        "raquet",
        "from-geotiff",
        s(&src),
        s(&out),
        "--block-size",
        "100",
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("block size"));
    assert!(!out.exists());
    let o = geoquet(&[
        "raquet",
        "from-geotiff",
        s(&tmp.path().join("missing.tif")),
        s(&out),
    ]);
    assert_eq!(code(&o), 2);
    let o = geoquet(&[
        "raquet",
        "tile",
        s(&dir.join("generated/A_uint16_3857_default.parquet")),
        "8/130",
    ]);
    assert_eq!(code(&o), 2);
    let o = geoquet(&[
        "raquet",
        "from-geotiff",
        s(&src),
        s(&out),
        "--resampling",
        "lanczos",
    ]);
    assert_eq!(code(&o), 2);
}

#[test]
fn options_reach_the_file() {
    let Some(dir) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("i.parquet");
    let src = dir.join("generated/synthetic_int16x2_3857.tif");
    let o = geoquet(&[
        "raquet",
        "from-geotiff",
        s(&src),
        s(&out),
        "--layout",
        "interleaved",
        "--compression",
        "none",
        "--overviews",
        "none",
        "--keep-empty",
        "--histogram",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let m = &json(&o)["metadata"];
    assert_eq!(m["band_layout"], "interleaved");
    assert_eq!(m["compression"], Value::Null);
    assert_eq!(m["tiling"]["min_zoom"], m["tiling"]["max_zoom"]);
    let h = &m["bands"][0]["histogram"];
    assert_eq!(
        h["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>(),
        65536
    );
    let o = geoquet(&["raquet", "tile", s(&out), "10/520/350", "--json"]);
    assert_eq!(json(&o)["bands"][1]["max"], 32767.0);
}

/// Issue 14, class 23: errors are one line on stderr naming the file; a point or
/// tile without data is reported there too, not on stdout.
#[test]
fn errors_are_one_line_on_stderr_with_the_file() {
    let Some(dir) = corpus() else { return };
    let not_raquet = test_support::corpus("geoparquet/geoparquet-testing/data/crs")
        .map(|d| d.join("crs-default.parquet"));
    let mut cases: Vec<(Vec<String>, PathBuf)> = Vec::new();
    let sources = dir.join("SOURCES.md");
    for sub in ["info", "validate"] {
        cases.push((
            vec!["raquet".into(), sub.into(), s(&sources).into()],
            sources.clone(),
        ));
    }
    if let Some(f) = &not_raquet {
        // (`validate` reads it: a Parquet file without RaQuet columns is invalid, 1.)
        cases.push((vec!["raquet".into(), "info".into(), s(f).into()], f.clone()));
        let args = ["raquet", "value", s(f), "1", "2"];
        cases.push((args.iter().map(|a| a.to_string()).collect(), f.clone()));
    }
    for (args, file) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = geoquet(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{a:?}: {err}");
        assert!(
            err.starts_with("error: ")
                && err.trim_end().lines().count() == 1
                && err.contains(s(file)),
            "{a:?}: {err}"
        );
    }
    // No tile at the point: nothing on stdout, one line on stderr, exit 1.
    let f = dir.join("generated/C_float32_4326_default.parquet");
    let o = geoquet(&["raquet", "value", s(&f), "100", "10"]);
    assert_eq!(code(&o), 1);
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim_end().lines().count() == 1 && err.contains(s(&f)) && err.contains("no tile"),
        "{err}"
    );
    let o = geoquet(&["raquet", "tile", s(&f), "10/0/0"]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains(s(&f)));
    // A malformed tile argument names the file it was meant for.
    let o = geoquet(&["raquet", "tile", s(&f), "10/0"]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(s(&f)) && err.contains("Z/X/Y"), "{err}");
}
