//! Every `metadata-cases` document: our verdict equals the one in its file
//! name, and parse → serialise gives an equal JSON value.

use geoparquet_meta::GeoParquetMetadata;
use geoparquet_meta::validate::validate_geo_json;
use serde_json::Value;

fn cases() -> Vec<(std::path::PathBuf, Value)> {
    let Some(dir) = test_support::corpus("geoparquet/metadata-cases") else {
        return Vec::new();
    };
    test_support::files_with_suffix(&dir, ".json")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            (p, v)
        })
        .collect()
}

#[test]
fn verdicts_match_file_names() {
    let cases = cases();
    let mut failures = Vec::new();
    for (path, doc) in &cases {
        let name = path.file_name().unwrap().to_string_lossy();
        let expect_valid = name.starts_with("metadata_valid_");
        assert!(
            expect_valid || name.starts_with("metadata_invalid_"),
            "{name}"
        );
        let report = validate_geo_json(&doc["geo"]);
        if report.is_valid() != expect_valid {
            failures.push(format!(
                "{}: expected valid={expect_valid}, findings {:?}",
                path.display(),
                report.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if !cases.is_empty() {
        assert_eq!(cases.len(), 105, "the corpus has 58 + 47 cases");
    }
}

#[test]
fn parsable_cases_round_trip() {
    let mut parsed = 0;
    for (path, doc) in cases() {
        let geo = &doc["geo"];
        let Ok(meta) = GeoParquetMetadata::from_json(geo) else {
            continue;
        };
        parsed += 1;
        assert_eq!(&meta.to_json(), geo, "{}", path.display());
        // Through text as well.
        let again = GeoParquetMetadata::from_json_str(&meta.to_json_string()).unwrap();
        assert_eq!(again.to_json(), *geo, "{}", path.display());
    }
    println!("{parsed} documents parsed and round-tripped");
}

#[test]
fn every_valid_case_parses() {
    for (path, doc) in cases() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("metadata_valid_") {
            GeoParquetMetadata::from_json(&doc["geo"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn spec_example_metadata_documents() {
    let Some(dir) = test_support::corpus("geoparquet/opengeospatial-geoparquet") else {
        return;
    };
    let files = test_support::files_with_suffix(&dir, ".json");
    assert!(!files.is_empty());
    for p in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let geo = v.get("geo").cloned().unwrap_or(v);
        let meta =
            GeoParquetMetadata::from_json(&geo).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(meta.to_json(), geo, "{}", p.display());
        let report = validate_geo_json(&geo);
        assert!(report.is_valid(), "{}: {:?}", p.display(), report.findings);
    }
}
