//! Reading what other writers wrote: the reference outputs of Python
//! stac-geoparquet 0.8.3 and rustac 0.9.18 (compared with their JSON sources
//! modulo each writer's documented losses), and the legacy files.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use stac_geoparquet::{open, read_items};

#[derive(Clone, Copy, PartialEq)]
enum Writer {
    Python,
    Rustac,
}

fn datetime_key(s: &str, writer: Writer) -> Option<String> {
    // Instants, truncated to what the writer keeps (µs for Python, ms for rustac).
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' {
        return None;
    }
    let nanos = s.parse::<stac_geoparquet::DatetimeInterval>().ok()?.start?;
    let unit: i128 = if writer == Writer::Rustac {
        1_000_000
    } else {
        1_000
    };
    Some(format!("t{}", nanos.div_euclid(unit)))
}

/// Removes nulls, turns numbers into floats and datetimes into instants,
/// geometries into their type family and XY coordinates, and what else the
/// writer is documented to change (reference §5).
fn normalize(v: &Value, writer: Writer, key: &str) -> Value {
    match v {
        Value::Object(o) => {
            if key == "geometry" || key == "proj:geometry" {
                return normalize_geometry(v);
            }
            let mut out = Map::new();
            for (k, x) in o {
                if x.is_null() {
                    continue;
                }
                if k == "stac_version" && writer == Writer::Rustac {
                    continue;
                }
                if k == "stac_extensions" && x.as_array().is_some_and(Vec::is_empty) {
                    continue;
                }
                if key == "geometry" && k == "bbox" {
                    continue;
                }
                out.insert(k.clone(), normalize(x, writer, k));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, writer, key)).collect()),
        Value::Number(n) => n.as_f64().map_or(Value::Null, |f| serde_json::json!(f)),
        Value::String(s) => datetime_key(s, writer).map_or_else(|| v.clone(), Value::String),
        other => other.clone(),
    }
}

fn xy(v: &Value, out: &mut Vec<(f64, f64)>) {
    if let Some(a) = v.as_array() {
        if a.first().is_some_and(Value::is_number) {
            out.push((
                a[0].as_f64().unwrap_or(0.0),
                a.get(1).and_then(Value::as_f64).unwrap_or(0.0),
            ));
        } else {
            for x in a {
                xy(x, out);
            }
        }
    }
}

fn normalize_geometry(v: &Value) -> Value {
    let t = v.get("type").and_then(Value::as_str).unwrap_or("");
    let mut pts = Vec::new();
    xy(v.get("coordinates").unwrap_or(&Value::Null), &mut pts);
    serde_json::json!({"family": t.trim_start_matches("Multi"), "xy": pts})
}

fn source_items(corpus: &Path, name: &str) -> Option<Vec<Value>> {
    let stem = name.strip_suffix(".parquet")?;
    let rel = stem.replace("__", "/");
    let path = [".json", ".ndjson"]
        .iter()
        .map(|e| corpus.join(format!("{rel}{e}")))
        .find(|p| p.exists())?;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    Some(match v {
        Value::Array(a) => a,
        Value::Object(ref o)
            if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") =>
        {
            o["features"].as_array()?.clone()
        }
        other => vec![other],
    })
}

fn check_folder(folder: &str, writer: Writer) {
    let Some(corpus) = test_support::corpus("stac") else {
        return;
    };
    let dir = corpus.join("reference-outputs").join(folder);
    let files = test_support::files_with_suffix(&dir, ".parquet");
    assert!(files.len() >= 33, "{} files in {folder}", files.len());
    let mut failures = String::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let got = read_items(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let want = source_items(&corpus, &name).unwrap_or_else(|| panic!("no source for {name}"));
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let (g, w) = (normalize(g, writer, ""), normalize(w, writer, ""));
            if g != w {
                failures.push_str(&format!("{name} item {i}:\n  got  {g}\n  want {w}\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn reads_python_stac_geoparquet_outputs() {
    check_folder("stac-geoparquet-py-0.8.3", Writer::Python);
}

#[test]
fn reads_rustac_outputs() {
    check_folder("rustac-py-0.9.18", Writer::Rustac);
}

fn sane(item: &Value, file: &Path) {
    let ctx = file.display();
    assert_eq!(item["type"], "Feature", "{ctx}");
    assert!(item["id"].is_string(), "{ctx}: {item}");
    assert!(item["geometry"]["type"].is_string(), "{ctx}");
    let bbox = item["bbox"]
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: no bbox"));
    assert!(bbox.len() == 4 || bbox.len() == 6, "{ctx}");
    assert!(bbox.iter().all(Value::is_number), "{ctx}");
    let dt = &item["properties"]["datetime"];
    assert!(dt.is_string() || dt.is_null(), "{ctx}");
    if let Some(s) = dt.as_str() {
        assert!(s.ends_with('Z') && s.contains('T'), "{ctx}: {s}");
    }
    assert!(item["links"].is_array(), "{ctx}");
    assert!(item["assets"].is_object(), "{ctx}");
}

fn legacy(name: &str) -> Option<PathBuf> {
    test_support::corpus("stac").map(|c| c.join(name))
}

#[test]
fn reads_legacy_and_historical_files() {
    let cases: [(&str, usize, Option<&str>); 7] = [
        ("stac-geoparquet-py/naip.parquet", 5, None),
        ("rustac/opr-one.parquet", 1, None),
        ("rustac/100-landsat-items.parquet", 100, None),
        ("rustac/100-sentinel-2-items.parquet", 100, None),
        ("rustac/1000-sentinel-2-items.parquet", 1000, None),
        ("rustac/extended-item.parquet", 1, None),
        (
            "rustac/sentinel-1-global-mosaics.parquet",
            4,
            Some("stac-geoparquet"),
        ),
    ];
    for (name, count, key) in cases {
        let Some(path) = legacy(name) else { return };
        let reader = open(&path).unwrap();
        assert_eq!(reader.metadata().key.as_deref(), key, "{name}");
        assert!(!reader.metadata().lossless);
        let items: Vec<Value> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(items.len(), count, "{name}");
        for i in &items {
            sane(i, &path);
        }
    }
    // Legacy list bbox and timestamp[us] without time zone.
    let Some(naip) = legacy("stac-geoparquet-py/naip.parquet") else {
        return;
    };
    let items = read_items(&naip).unwrap();
    assert_eq!(items[0]["id"], "ok_m_3409901_nw_14_1_20100425");
    assert_eq!(items[0]["properties"]["datetime"], "2010-04-25T00:00:00Z");
    // links: list<null> comes back as empty lists; bbox fields in any order.
    let Some(opr) = legacy("rustac/opr-one.parquet") else {
        return;
    };
    let item = &read_items(&opr).unwrap()[0];
    assert_eq!(item["links"], serde_json::json!([]));
    assert_eq!(item["geometry"]["type"], "LineString");
    let b: Vec<f64> = item["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(b[0] <= b[2] && b[1] <= b[3], "{b:?}");
    // The rustac extended item against its JSON source.
    let Some(ext) = legacy("rustac/extended-item.parquet") else {
        return;
    };
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(legacy("stac-spec/v1.0.0/extended-item.json").unwrap()).unwrap(),
    )
    .unwrap();
    let got = &read_items(&ext).unwrap()[0];
    assert_eq!(
        normalize(got, Writer::Rustac, ""),
        normalize(&json, Writer::Rustac, "")
    );
}

#[test]
fn historical_metadata_keys_and_collections() {
    let Some(dir) = test_support::corpus("stac/reference-outputs/stac-geoparquet-py-0.8.3") else {
        return;
    };
    let r = open(dir.join("stac-spec__v1.1.0__simple-item.parquet")).unwrap();
    assert_eq!(r.metadata().key.as_deref(), Some("stac-geoparquet"));
    assert_eq!(r.metadata().version.as_deref(), Some("1.0.0"));
}
