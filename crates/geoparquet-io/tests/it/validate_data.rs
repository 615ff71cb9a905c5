//! The data rules of [`geoparquet_io::validate`] over the shared corpus and
//! over files crafted to break one rule each.

use std::path::{Path, PathBuf};

use geoparquet_io::{ValidateOptions, validate};
use geoparquet_meta::validate::{Code, Report, Severity};
use serde_json::Value;

use crate::corpus::QUIRKS;

fn full(path: &Path) -> Report {
    validate(path, &ValidateOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parquet_files(sub: &str) -> Vec<PathBuf> {
    test_support::corpus(sub).map_or_else(Vec::new, |d| {
        test_support::files_with_suffix(&d, ".parquet")
    })
}

#[test]
fn every_bad_file_is_invalid_with_its_manifest_code() {
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
        let report = full(&dir.join(file));
        let found = report.findings.iter().any(|f| f.code.as_str() == expected);
        if !found || report.is_valid() {
            failures.push(format!(
                "{file}: expected {expected}, got {:?}",
                report.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_files_pass_every_data_rule_but_documented_quirks() {
    let Some(dir) = test_support::corpus("geoparquet/geoparquet-testing") else {
        return;
    };
    let mut files = parquet_files("geoparquet/geoparquet-testing/data");
    files.extend(parquet_files("geoparquet/geoparquet-testing/samples"));
    let mut failures = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
        let report = full(&f);
        let allowed: Vec<Code> = QUIRKS
            .iter()
            .filter(|(q, _)| *q == rel)
            .map(|(_, c)| *c)
            .collect();
        for finding in &report.findings {
            if finding.severity == Severity::Error && !allowed.contains(&finding.code) {
                failures.push(format!("{rel}: {finding}"));
            } else if finding.count.is_some() {
                println!("{rel}: {finding}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn other_valid_corpora_pass_every_data_rule() {
    let mut files = parquet_files("geoparquet/opengeospatial-geoparquet");
    files.extend(parquet_files("geoparquet/gpq/examples"));
    files.extend(parquet_files("geoarrow"));
    if test_support::test_data_dir().is_some() {
        assert!(files.len() > 100, "{} files", files.len());
    }
    let mut failures = Vec::new();
    for f in files {
        let report = full(&f);
        for finding in &report.findings {
            if finding.count.is_some() {
                failures.push(format!("{}: {finding}", f.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --- gpq's validator cases ----------------------------------------------------------

/// Writes the file a gpq validator case stands for: its GeoJSON features with
/// a WKB `geometry` column, and its `metadata` verbatim as the `geo` value.
fn write_gpq_case(input: &Value, path: &Path) {
    use geoparquet_io::geojson::{GeoJsonReader, ReadOptions};
    let data = serde_json::to_vec(&input["data"]).unwrap();
    let reader = GeoJsonReader::try_from_reader(data.as_slice(), ReadOptions::default()).unwrap();
    let schema = reader.schema();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let geo = match &input["metadata"] {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "geo".to_owned(),
            geo,
        )]))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// gpq's check numbers (1-20, its report order) that one of our findings
/// corresponds to; the table is in docs/src/validation.md.
fn gpq_checks(f: &geoparquet_meta::validate::Finding) -> Vec<u8> {
    let m = f.message.as_str();
    match f.code {
        Code::MetadataMissing => vec![1],
        Code::MetadataInvalidJson | Code::MetadataInvalidUtf8 | Code::MetadataDuplicateKey => {
            vec![2]
        }
        Code::VersionUnknown => vec![3],
        Code::WkbParseError => vec![17],
        Code::GeometryTypeMismatch | Code::ZmMismatch => vec![18],
        Code::OrientationMismatch => vec![19],
        Code::BboxMismatch => vec![20],
        Code::EncodingSpelling => vec![7],
        Code::BboxInvalid => vec![12],
        Code::GeometryColumnType => {
            if m.contains("repeated") {
                vec![16]
            } else if m.contains("BYTE_ARRAY") {
                vec![15]
            } else {
                vec![14]
            }
        }
        Code::SchemaValidationError => {
            let has = |k: &str| m.contains(k);
            if has("primary column") && has("not described") {
                vec![6]
            } else if has("\"primary_column\"") {
                vec![4, 6]
            } else if has("version") {
                vec![3]
            } else if has("encoding") {
                vec![7]
            } else if has("geometry type") || has("geometry_types") {
                vec![8]
            } else if has("crs") || has("PROJJSON") {
                vec![9]
            } else if has("orientation") {
                vec![10]
            } else if has("edges") {
                vec![11]
            } else if has("bbox") {
                vec![12]
            } else if has("epoch") {
                vec![13]
            } else if has("columns") {
                vec![5]
            } else if has("object") {
                vec![2]
            } else {
                vec![0]
            }
        }
        _ => vec![],
    }
}

/// Where gpq fails a check that we deliberately report once, under the rule
/// that is really broken (each with the reason).
const GPQ_DIVERGENCES: &[(&str, u8, &str)] = &[
    (
        "bad-encoding",
        17,
        "gpq also fails the data check because it cannot decode an unknown encoding; we report the encoding (check 7) and skip the data of that column",
    ),
    (
        "bad-bbox-length",
        20,
        "gpq fails the bbox data check because the bbox has 2 numbers; we report the malformed bbox (check 12) and do not test data against it",
    ),
    (
        "bad-orientation",
        19,
        "gpq fails the orientation data check for the unknown value; we report the value (check 10) and test rings only for \"counterclockwise\"",
    ),
    (
        "bad-geometry-types",
        18,
        "gpq fails the type data check because \"bogus\" is not \"Point\"; we report the unknown type name (check 8)",
    ),
];

#[test]
fn gpq_validator_cases_get_gpq_verdict_per_check() {
    let Some(dir) = test_support::corpus("geoparquet/gpq/validator-cases") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case_dir = entry.unwrap().path();
        let case = case_dir.file_name().unwrap().to_string_lossy().to_string();
        let input: Value =
            serde_json::from_str(&std::fs::read_to_string(case_dir.join("input.json")).unwrap())
                .unwrap();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case_dir.join("expected.json")).unwrap())
                .unwrap();
        let metadata_only = expected["metadataOnly"].as_bool().unwrap_or(false);
        let path = tmp.path().join(format!("{case}.parquet"));
        write_gpq_case(&input, &path);
        let report = validate(
            &path,
            &ValidateOptions {
                data: !metadata_only,
                ..ValidateOptions::default()
            },
        )
        .unwrap();
        let ours: std::collections::BTreeSet<u8> = report
            .with_severity(Severity::Error)
            .flat_map(gpq_checks)
            .collect();
        let mut theirs = std::collections::BTreeSet::new();
        let mut ran = std::collections::BTreeSet::new();
        for (i, check) in expected["checks"].as_array().unwrap().iter().enumerate() {
            let n = u8::try_from(i + 1).unwrap();
            if check["run"].as_bool() == Some(true) {
                ran.insert(n);
                if check["passed"].as_bool() == Some(false) {
                    theirs.insert(n);
                }
            }
        }
        cases += 1;
        for n in 1..=20u8 {
            let (we_fail, they_fail) = (ours.contains(&n), theirs.contains(&n));
            if !ran.contains(&n) && !we_fail {
                continue; // gpq did not run it and we found nothing there
            }
            if we_fail == they_fail
                || GPQ_DIVERGENCES
                    .iter()
                    .any(|(c, k, _)| *c == case && *k == n && they_fail && !we_fail)
            {
                continue;
            }
            failures.push(format!(
                "{case}: check {n}: gpq {} / we {} (our findings: {:?})",
                if they_fail { "fails" } else { "passes" },
                if we_fail { "fail" } else { "pass" },
                report
                    .findings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert_eq!(cases, 29);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// --- crafted files, one broken rule each ----------------------------------------------

mod crafted {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BinaryArray, Float64Array, RecordBatch, StructArray};
    use arrow_schema::{DataType, Field, Fields, Schema};
    use geoparquet_io::{ValidateOptions, validate};
    use geoparquet_meta::validate::{Code, Report, Severity};
    use serde_json::{Value, json};

    fn point(x: f64, y: f64) -> Vec<u8> {
        let mut v = vec![1u8, 1, 0, 0, 0];
        v.extend_from_slice(&x.to_le_bytes());
        v.extend_from_slice(&y.to_le_bytes());
        v
    }

    /// A polygon with one ring, little endian.
    fn polygon(ring: &[(f64, f64)]) -> Vec<u8> {
        let mut v = vec![1u8, 3, 0, 0, 0, 1, 0, 0, 0];
        v.extend_from_slice(&u32::try_from(ring.len()).unwrap().to_le_bytes());
        for (x, y) in ring {
            v.extend_from_slice(&x.to_le_bytes());
            v.extend_from_slice(&y.to_le_bytes());
        }
        v
    }

    fn write(columns: Vec<(&str, ArrayRef)>, geo: &Value) -> (tempfile::TempDir, Report) {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crafted.parquet");
        let props = parquet::file::properties::WriterProperties::builder()
            .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
                "geo".to_owned(),
                geo.to_string(),
            )]))
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema,
            Some(props),
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let report = validate(&path, &ValidateOptions::default()).unwrap();
        (dir, report)
    }

    fn wkb(values: Vec<Option<Vec<u8>>>) -> ArrayRef {
        Arc::new(BinaryArray::from(
            values.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
        ))
    }

    fn geo(column: Value) -> Value {
        json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}})
    }

    fn rows_of(report: &Report, code: Code) -> Vec<u64> {
        report
            .findings
            .iter()
            .filter(|f| f.code == code && f.count.is_some())
            .flat_map(|f| f.rows.clone())
            .collect()
    }

    fn covering(
        xmin: Vec<Option<f64>>,
        ymin: Vec<f64>,
        xmax: Vec<f64>,
        ymax: Vec<f64>,
        nulls: Option<Vec<bool>>,
    ) -> ArrayRef {
        let f = |n: &str| Arc::new(Field::new(n, DataType::Float64, true));
        let fields = Fields::from(vec![f("xmin"), f("ymin"), f("xmax"), f("ymax")]);
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(xmin)),
            Arc::new(Float64Array::from(ymin)),
            Arc::new(Float64Array::from(xmax)),
            Arc::new(Float64Array::from(ymax)),
        ];
        Arc::new(StructArray::new(fields, cols, nulls.map(Into::into)))
    }

    const COVERING: &str = r#"{"bbox": {"xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"], "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]}}"#;

    #[test]
    fn a_correct_covering_passes_and_a_wrong_row_is_named() {
        let g = wkb(vec![Some(point(1.0, 2.0)), Some(point(3.0, 4.0)), None]);
        let cov: Value = serde_json::from_str(COVERING).unwrap();
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"], "covering": cov}));
        let good = covering(
            vec![Some(1.0), Some(3.0), None],
            vec![2.0, 4.0, 0.0],
            vec![1.0, 3.0, 0.0],
            vec![2.0, 4.0, 0.0],
            Some(vec![true, true, false]),
        );
        let (_d, report) = write(vec![("geometry", g.clone()), ("bbox", good)], &meta);
        assert!(report.is_valid(), "{:?}", report.findings);
        assert!(!report.has(Code::CoveringMismatch), "{:?}", report.findings);
        // Row 1's box misses the point; row 2 has a box but no geometry.
        let bad = covering(
            vec![Some(1.0), Some(30.0), Some(5.0)],
            vec![2.0, 4.0, 5.0],
            vec![1.0, 30.0, 5.0],
            vec![2.0, 4.0, 5.0],
            None,
        );
        let (_d, report) = write(vec![("geometry", g), ("bbox", bad)], &meta);
        assert!(!report.is_valid());
        let mut rows = rows_of(&report, Code::CoveringMismatch);
        rows.sort_unstable();
        assert_eq!(rows, vec![1, 2], "{:?}", report.findings);
    }

    #[test]
    fn an_antimeridian_bbox_holds_points_on_both_sides_only() {
        let meta = geo(
            json!({"encoding": "WKB", "geometry_types": ["Point"], "bbox": [170.0, -10.0, -170.0, 10.0]}),
        );
        let g = wkb(vec![Some(point(175.0, 0.0)), Some(point(-175.0, 5.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(!report.has(Code::BboxMismatch), "{:?}", report.findings);
        let g = wkb(vec![Some(point(175.0, 0.0)), Some(point(0.0, 0.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert_eq!(rows_of(&report, Code::BboxMismatch), vec![1]);
    }

    #[test]
    fn orientation_is_checked_on_every_polygon() {
        let ccw = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)];
        let cw = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)];
        let meta = geo(
            json!({"encoding": "WKB", "geometry_types": ["Polygon"], "orientation": "counterclockwise"}),
        );
        let g = wkb(vec![
            Some(polygon(&ccw)),
            Some(polygon(&cw)),
            Some(polygon(&ccw)),
        ]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert_eq!(rows_of(&report, Code::OrientationMismatch), vec![1]);
        // Without the declaration, nothing is asserted.
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Polygon"]}));
        let g = wkb(vec![Some(polygon(&cw))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(report.is_valid(), "{:?}", report.findings);
    }

    #[test]
    fn projected_coordinates_under_the_default_crs_are_a_warning() {
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"]}));
        let g = wkb(vec![Some(point(500_000.0, 4_649_776.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(report.is_valid());
        let f = report
            .findings
            .iter()
            .find(|f| f.code == Code::CoordinatesOutOfRange)
            .expect("a finding");
        assert_eq!(f.severity, Severity::Warning);
        // With a projected CRS there is nothing to say.
        let meta = geo(
            json!({"encoding": "WKB", "geometry_types": ["Point"], "crs": geoparquet_meta::Crs::from_epsg(32631).unwrap().to_json()}),
        );
        let g = wkb(vec![Some(point(500_000.0, 4_649_776.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(
            !report.has(Code::CoordinatesOutOfRange),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn declared_types_absent_from_the_data_are_a_warning() {
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point", "LineString"]}));
        let g = wkb(vec![Some(point(1.0, 1.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(report.is_valid());
        assert!(report.has(Code::GeometryTypesNotPresent));
    }

    #[test]
    fn native_points_with_a_null_coordinate_break_the_layout() {
        let f = |n: &str| Arc::new(Field::new(n, DataType::Float64, true));
        let fields = Fields::from(vec![f("x"), f("y")]);
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), Some(3.0)])),
            Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)])),
        ];
        let points: ArrayRef = Arc::new(StructArray::new(fields, cols, None));
        let meta = geo(json!({"encoding": "point", "geometry_types": ["Point"]}));
        let (_d, report) = write(vec![("geometry", points)], &meta);
        assert_eq!(
            rows_of(&report, Code::NativeEncodingLayout),
            vec![1],
            "{:?}",
            report.findings
        );
        assert!(!report.is_valid());
    }

    #[test]
    fn row_numbers_are_file_rows_across_parallel_row_groups() {
        // 40 row groups of 1000 rows, validated on several threads; two bad
        // values deep in the file are reported with their file row numbers.
        let n = 40_000usize;
        let values: Vec<Option<Vec<u8>>> = (0..n)
            .map(|i| {
                let mut p = point(f64::from(u32::try_from(i % 360).unwrap()) - 180.0, 0.0);
                if i == 12_345 || i == 39_999 {
                    p.truncate(13);
                }
                Some(p)
            })
            .collect();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "geometry",
            DataType::Binary,
            true,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![wkb(values)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.parquet");
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"]}));
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
                "geo".to_owned(),
                meta.to_string(),
            )]))
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema,
            Some(props),
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        for threads in [1, 2, 4] {
            let report = validate(
                &path,
                &ValidateOptions {
                    threads,
                    ..ValidateOptions::default()
                },
            )
            .unwrap();
            assert_eq!(
                rows_of(&report, Code::WkbParseError),
                vec![12_345, 39_999],
                "{threads}"
            );
            let f = report
                .findings
                .iter()
                .find(|f| f.code == Code::WkbParseError)
                .unwrap();
            assert_eq!(f.count, Some(2));
        }
    }

    #[test]
    fn footer_only_skips_the_data_rules() {
        let meta = geo(
            json!({"encoding": "WKB", "geometry_types": ["Point"], "bbox": [0.0, 0.0, 1.0, 1.0]}),
        );
        let g = wkb(vec![Some(point(5.0, 5.0))]);
        let (dir, report) = write(vec![("geometry", g)], &meta);
        assert!(report.has(Code::BboxMismatch));
        let footer = validate(
            &dir.path().join("crafted.parquet"),
            &ValidateOptions {
                data: false,
                ..ValidateOptions::default()
            },
        )
        .unwrap();
        assert!(footer.is_valid(), "{:?}", footer.findings);
    }
}
