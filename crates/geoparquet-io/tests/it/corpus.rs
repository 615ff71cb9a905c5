//! Footers of the whole shared corpus: read without panics, `geo` values
//! round-trip, the validator's footer checks agree with the official manifest
//! and the good files, native CRS forms and statistics are understood.

use std::path::{Path, PathBuf};

use geoparquet_io::{read_footer, validate_footer};
use geoparquet_meta::validate::{Code, Severity};
use geoparquet_meta::{Crs, GeoParquetMetadata};
use serde_json::Value;

fn parquet_files(sub: &str) -> Vec<PathBuf> {
    test_support::corpus(sub).map_or_else(Vec::new, |d| {
        test_support::files_with_suffix(&d, ".parquet")
    })
}

#[test]
fn every_corpus_footer_reads_and_geo_round_trips() {
    let Some(root) = test_support::test_data_dir() else {
        println!("SKIP: no corpus");
        return;
    };
    let files = test_support::files_with_suffix(&root, ".parquet");
    assert!(files.len() > 300, "{}", files.len());
    let (mut with_geo, mut round_tripped) = (0, 0);
    for f in &files {
        let footer = match read_footer(f) {
            Ok(footer) => footer,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        let Some(text) = footer.facts.key_value("geo") else {
            continue;
        };
        with_geo += 1;
        let Ok(original) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if let Ok(meta) = GeoParquetMetadata::from_json(&original) {
            assert_eq!(meta.to_json(), original, "{}", f.display());
            round_tripped += 1;
        }
        // Inspection and validation never fail on a readable footer.
        validate_footer(f).unwrap();
    }
    println!(
        "{} files, {with_geo} with geo, {round_tripped} geo values round-tripped",
        files.len()
    );
    assert!(round_tripped > 200);
}

/// Bad files whose defect only shows in the geometry values themselves:
/// found by the data validator, not by footer checks.
const DATA_LEVEL: [&str; 4] = [
    "orientation-ccw-declared-rings-cw.parquet",
    "wkb-truncated.parquet",
    "wkb-with-srid-prefix.parquet",
    "wkb-wrong-type-byte.parquet",
];

/// Bad files the manifest calls invalid that are valid by a later rule: a
/// file with Parquet GEOMETRY/GEOGRAPHY columns and no `geo` key is a
/// Parquet-native geospatial file, which GeoParquet 2.0 readers accept. It
/// gets the manifest's code at info severity.
pub(crate) const NATIVE_ONLY: [&str; 1] = ["missing-geo-metadata.parquet"];

/// Whether a report meets the manifest's expectation for `file`.
pub(crate) fn meets_manifest(
    file: &str,
    expected: &str,
    report: &geoparquet_meta::validate::Report,
) -> bool {
    let found = report.findings.iter().any(|f| f.code.as_str() == expected);
    if NATIVE_ONLY.contains(&file) {
        return report
            .with_severity(Severity::Info)
            .any(|f| f.code.as_str() == expected)
            && report.is_valid();
    }
    found && !report.is_valid()
}

#[test]
fn bad_data_manifest_codes_found_from_footers() {
    let Some(dir) = test_support::corpus("geoparquet/geoparquet-testing/bad_data") else {
        return;
    };
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let manifest = manifest.as_object().unwrap();
    assert_eq!(manifest.len(), 22);
    let mut failures = Vec::new();
    for (file, entry) in manifest {
        let expected = entry["expected_failure"].as_str().unwrap();
        let report = validate_footer(&dir.join(file)).unwrap();
        if DATA_LEVEL.contains(&file.as_str()) {
            println!(
                "data-level check needed for {file} ({expected}); footer findings: {:?}",
                report.findings
            );
            continue;
        }
        if !meets_manifest(file, expected, &report) {
            failures.push(format!(
                "{file}: expected {expected}, got {:?}",
                report.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Good files that break a rule of the specification as written: each is a
/// documented corpus quirk (docs/src/validation.md), with the code it gets.
pub(crate) const QUIRKS: [(&str, Code); 13] = [
    (
        "data/zm/linestring-xym-native-geometry.parquet",
        Code::ZmMismatch,
    ),
    (
        "data/zm/linestring-xyz-native-geometry.parquet",
        Code::ZmMismatch,
    ),
    (
        "data/zm/linestring-xyzm-native-geometry.parquet",
        Code::ZmMismatch,
    ),
    ("data/crs/crs-epsg-3857.parquet", Code::CrsMismatch),
    ("data/epoch/epoch-itrf2014-2020.parquet", Code::CrsMismatch),
    ("data/epoch/epoch-itrf2014-2024.parquet", Code::CrsMismatch),
    (
        "data/multi_geometry/two-geom-columns-different-crs.parquet",
        Code::CrsMismatch,
    ),
    ("samples/us-states.parquet", Code::CrsMismatch),
    ("samples/australia-gnss-stations.parquet", Code::CrsMismatch),
    (
        "samples/australia-gnss-stations-2024.parquet",
        Code::CrsMismatch,
    ),
    ("data/edges/edges-spherical.parquet", Code::EdgesMismatch),
    ("samples/buildings-3d.parquet", Code::LogicalTypeMissing),
    (
        "samples/bathymetry-contours.parquet",
        Code::LogicalTypeMissing,
    ),
];

#[test]
fn good_files_have_no_errors_but_documented_quirks() {
    let Some(dir) = test_support::corpus("geoparquet/geoparquet-testing") else {
        return;
    };
    let mut files = parquet_files("geoparquet/geoparquet-testing/data");
    files.extend(parquet_files("geoparquet/geoparquet-testing/samples"));
    assert_eq!(files.len(), 43);
    let mut failures = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
        let report = validate_footer(&f).unwrap();
        let allowed: Vec<Code> = QUIRKS
            .iter()
            .filter(|(q, _)| *q == rel)
            .map(|(_, c)| *c)
            .collect();
        for finding in report.with_severity(Severity::Error) {
            if !allowed.contains(&finding.code) {
                failures.push(format!("{rel}: {finding}"));
            }
        }
        for code in &allowed {
            if !report.has_error(*code) {
                failures.push(format!(
                    "{rel}: the documented quirk {code} is no longer reported"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Files of the other corpora that break the 1.1 rule "the covering
/// struct's fields are ordered xmin, ymin, xmax, ymax": the specification's
/// own 1.1 example and gpq's copy of it (fields xmax, xmin, ymax, ymin).
pub(crate) const COVERING_ORDER: [&str; 2] = [
    "opengeospatial-geoparquet/v1.1.0/examples/example.parquet",
    "gpq/examples/example-v1.1.0-covering.parquet",
];

#[test]
fn other_valid_corpora_have_valid_footers() {
    let Some(root) = test_support::corpus("geoparquet") else {
        return;
    };
    let mut files = parquet_files("geoparquet/opengeospatial-geoparquet");
    files.extend(parquet_files("geoparquet/gpq/examples"));
    assert!(files.len() >= 19);
    let mut quirks = 0;
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let report = validate_footer(&f).unwrap();
        if COVERING_ORDER.contains(&rel.as_str()) {
            quirks += 1;
            let errors: Vec<_> = report.with_severity(Severity::Error).collect();
            assert!(
                !errors.is_empty() && errors.iter().all(|e| e.code == Code::CoveringInvalid),
                "{rel}: {:?}",
                report.findings
            );
            continue;
        }
        assert!(report.is_valid(), "{}: {:?}", f.display(), report.findings);
    }
    assert_eq!(quirks, COVERING_ORDER.len());
}

fn synthesised(path: &Path) -> GeoParquetMetadata {
    read_footer(path)
        .unwrap()
        .facts
        .synthesize_metadata()
        .unwrap()
        .unwrap()
}

#[test]
fn native_crs_forms_resolve() {
    let Some(dir) = test_support::corpus("geoparquet/parquet-testing-geospatial") else {
        return;
    };
    let crs_of = |f: &str| synthesised(&dir.join(f)).primary().unwrap().crs.clone();
    assert_eq!(crs_of("crs-default.parquet"), Crs::Default);
    assert_eq!(crs_of("crs-srid.parquet").epsg(), Some(5070));
    let resolved = crs_of("crs-projjson.parquet");
    assert_eq!(resolved.epsg(), Some(5070));
    assert!(
        resolved.projjson().is_some(),
        "projjson:KEY must resolve to the PROJJSON object"
    );
    let inline = crs_of("crs-arbitrary-value.parquet");
    assert!(inline.projjson().is_some());
    assert_eq!(inline.name().as_deref(), Some("NAD83 / Conus Albers"));
    let geog = synthesised(&dir.join("crs-geography.parquet"));
    assert_eq!(
        geog.primary().unwrap().effective_edges().as_str(),
        "spherical"
    );
    // Statistics: exact types and box from the footer.
    let srid = synthesised(&dir.join("crs-srid.parquet"));
    let col = srid.primary().unwrap();
    assert_eq!(col.geometry_types, vec!["Polygon".parse().unwrap()]);
    let b = col.bbox.unwrap();
    assert!((b.xmin - -1246468.628).abs() < 0.01 && (b.ymax - 2538743.259).abs() < 0.01);
}

#[test]
fn wraparound_statistics_are_counted() {
    let Some(dir) = test_support::corpus("geoparquet/parquet-testing-geospatial") else {
        return;
    };
    for (file, wrapping, rows) in [
        ("geography-points.parquet", 2, 50),
        ("geography-lines.parquet", 3, 50),
        ("geography-polygons.parquet", 6, 50),
    ] {
        let facts = read_footer(&dir.join(file)).unwrap().facts;
        let stats = facts
            .column("geography")
            .or_else(|| facts.native_columns().next())
            .unwrap()
            .geo_stats
            .clone()
            .unwrap();
        assert_eq!(stats.row_groups, rows, "{file}");
        assert_eq!(stats.wrapping_row_groups, wrapping, "{file}");
    }
    let nan = read_footer(&dir.join("geospatial-with-nan.parquet"))
        .unwrap()
        .facts;
    let stats = nan
        .native_columns()
        .next()
        .unwrap()
        .geo_stats
        .clone()
        .unwrap();
    assert_eq!(
        stats.types.iter().copied().collect::<Vec<_>>(),
        vec![3001, 3002]
    );
    let b = stats.bbox.unwrap();
    assert_eq!((b.xmin, b.xmax, b.ymin, b.ymax), (10.0, 130.0, 20.0, 140.0));
    assert_eq!(b.z(), Some((30.0, 150.0)));
    assert_eq!(b.m(), Some((40.0, 160.0)));
}

#[test]
fn unreadable_inputs_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let not_parquet = dir.path().join("x.parquet");
    std::fs::write(&not_parquet, b"hello, not parquet").unwrap();
    assert!(matches!(
        read_footer(&not_parquet),
        Err(geoparquet_io::Error::NotParquet { .. })
    ));
    let empty = dir.path().join("empty.parquet");
    std::fs::write(&empty, b"").unwrap();
    assert!(read_footer(&empty).is_err());
    let truncated = dir.path().join("t.parquet");
    let sample = std::fs::read(test_support::fixture("test-data/sample.parquet")).unwrap();
    std::fs::write(&truncated, &sample[..sample.len() / 2]).unwrap();
    assert!(read_footer(&truncated).is_err());
    assert!(matches!(
        read_footer(&dir.path().join("missing.parquet")),
        Err(geoparquet_io::Error::Io { .. })
    ));
    assert!(read_footer(dir.path()).is_err());
}
