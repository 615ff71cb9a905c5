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
        if !crate::corpus::meets_manifest(file, expected, &report) {
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
    use geoquet_geojson::{GeoJsonReader, ReadOptions};
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
        let report =
            validate(&path, &ValidateOptions::default().with_data(!metadata_only)).unwrap();
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
            let report =
                validate(&path, &ValidateOptions::default().with_threads(threads)).unwrap();
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
            &ValidateOptions::default().with_data(false),
        )
        .unwrap();
        assert!(footer.is_valid(), "{:?}", footer.findings);
    }

    // --- issue 14, classes 9 to 13: files from the wider world ---------------------

    /// A line string, little endian.
    fn line(points: &[(f64, f64)]) -> Vec<u8> {
        let mut v = vec![1u8, 2, 0, 0, 0];
        v.extend_from_slice(&u32::try_from(points.len()).unwrap().to_le_bytes());
        for (x, y) in points {
            v.extend_from_slice(&x.to_le_bytes());
            v.extend_from_slice(&y.to_le_bytes());
        }
        v
    }

    fn covering32(rows: &[[f32; 4]]) -> ArrayRef {
        let f = |n: &str| Arc::new(Field::new(n, DataType::Float32, true));
        let fields = Fields::from(vec![f("xmin"), f("ymin"), f("xmax"), f("ymax")]);
        let col = |k: usize| -> ArrayRef {
            Arc::new(arrow_array::Float32Array::from(
                rows.iter().map(|r| r[k]).collect::<Vec<_>>(),
            ))
        };
        Arc::new(StructArray::new(
            fields,
            vec![col(0), col(1), col(2), col(3)],
            None,
        ))
    }

    fn covering_findings(report: &Report) -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.code == Code::CoveringMismatch)
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_covering_across_the_antimeridian_is_not_a_mismatch() {
        let cov: Value = serde_json::from_str(COVERING).unwrap();
        let meta =
            geo(json!({"encoding": "WKB", "geometry_types": ["LineString"], "covering": cov}));
        // A line from 175 E to 175 W across the antimeridian, boxed as
        // RFC 7946 says: west 175, east -175.
        let g = wkb(vec![
            Some(line(&[(175.0, -1.0), (-175.0, 1.0)])),
            Some(line(&[(175.0, -1.0), (-175.0, 1.0)])),
            Some(line(&[(175.0, -1.0), (-175.0, 1.0), (0.0, 0.0)])),
            Some(line(&[(1.0, 1.0), (2.0, 2.0)])),
        ]);
        let cov = covering(
            vec![Some(175.0), Some(170.0), Some(175.0), Some(2.0)],
            vec![-1.0, -1.0, -1.0, 1.0],
            vec![-175.0, -175.0, -175.0, 1.0],
            vec![1.0, 1.0, 1.0, 2.0],
            None,
        );
        let (_d, report) = write(vec![("geometry", g), ("bbox", cov)], &meta);
        // Row 0 is exact; row 1 is wider than needed (a warning); row 2 holds
        // a point in the gap (an error); row 3 wraps a line that does not
        // cross (it misses the line's points: an error).
        let f: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == Code::CoveringMismatch)
            .collect();
        let rows = |sev: Severity| -> Vec<u64> {
            f.iter()
                .filter(|x| x.severity == sev)
                .flat_map(|x| x.rows.clone())
                .collect()
        };
        assert_eq!(rows(Severity::Warning), vec![1], "{f:?}");
        assert_eq!(rows(Severity::Error), vec![2, 3], "{f:?}");
    }

    #[test]
    fn a_float32_covering_rounded_outward_by_one_step_is_exact() {
        let cov: Value = serde_json::from_str(COVERING).unwrap();
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"], "covering": cov}));
        let (x, y) = (0.1f64, -33.3f64);
        // The tightest float32 bounds, then one more step outward (what a
        // writer doing `nextafter` after a cast produces), then two.
        let (fx, fy) = (x as f32, y as f32);
        let down = |v: f64, f: f32| if f64::from(f) > v { f.next_down() } else { f };
        let up = |v: f64, f: f32| if f64::from(f) < v { f.next_up() } else { f };
        let tight = [down(x, fx), down(y, fy), up(x, fx), up(y, fy)];
        let one = [
            tight[0].next_down(),
            tight[1].next_down(),
            tight[2].next_up(),
            tight[3].next_up(),
        ];
        let two = [
            one[0].next_down(),
            one[1].next_down(),
            one[2].next_up(),
            one[3].next_up(),
        ];
        let rows = [tight, one, two];
        let g = wkb(vec![Some(point(x, y)); 3]);
        let (_d, report) = write(vec![("geometry", g), ("bbox", covering32(&rows))], &meta);
        let f: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == Code::CoveringMismatch)
            .collect();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].rows, vec![2]);
        // Rounded inward (to nearest, below the geometry's maximum): an error.
        let inward = [[tight[0], tight[1], tight[2].next_down(), tight[3]]];
        let g = wkb(vec![Some(point(x, y))]);
        let (_d, report) = write(vec![("geometry", g), ("bbox", covering32(&inward))], &meta);
        assert!(
            report.has_error(Code::CoveringMismatch),
            "{:?}",
            covering_findings(&report)
        );
    }

    #[test]
    fn a_float64_covering_one_step_wide_is_exact() {
        let cov: Value = serde_json::from_str(COVERING).unwrap();
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"], "covering": cov}));
        let (x, y) = (0.1f64, 0.2f64);
        let g = wkb(vec![Some(point(x, y)), Some(point(x, y))]);
        let cov = covering(
            vec![Some(x.next_down()), Some(x.next_down().next_down())],
            vec![y.next_down(), y],
            vec![x.next_up(), x],
            vec![y.next_up(), y],
            None,
        );
        let (_d, report) = write(vec![("geometry", g), ("bbox", cov)], &meta);
        let f: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == Code::CoveringMismatch)
            .collect();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].severity, f[0].rows.clone()),
            (Severity::Warning, vec![1])
        );
    }

    #[test]
    fn coordinates_a_hair_past_180_are_in_range() {
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"]}));
        let g = wkb(vec![
            Some(point(180.000_000_000_000_06, 0.0)),
            Some(point(-180.000_000_000_000_06, -90.000_000_000_000_01)),
        ]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(
            !report.has(Code::CoordinatesOutOfRange),
            "{:?}",
            report.findings
        );
        // Half a degree past is out of range, but not "projected data".
        let g = wkb(vec![Some(point(180.5, 0.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        let f = report
            .findings
            .iter()
            .find(|f| f.code == Code::CoordinatesOutOfRange)
            .expect("a finding");
        assert_eq!(f.severity, Severity::Warning);
        assert!(!f.message.contains("projected"), "{}", f.message);
    }

    #[test]
    fn epoch_without_a_crs_is_reported_once() {
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"], "epoch": 2020.0}));
        let g = wkb(vec![Some(point(1.0, 1.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        let epoch: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == Code::EpochUnsupported)
            .collect();
        assert_eq!(epoch.len(), 1, "{epoch:?}");
        assert_eq!(epoch[0].severity, Severity::Error);
    }

    #[test]
    fn a_legacy_0_1_file_validates_and_inspects() {
        let wkt = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]"#;
        let meta = json!({"schema_version": "0.1.0", "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "crs": wkt, "bbox": [1.0, 1.0, 3.0, 4.0]}}});
        let g = wkb(vec![Some(point(1.0, 1.0)), Some(point(3.0, 4.0))]);
        let (dir, report) = write(vec![("geometry", g.clone())], &meta);
        assert!(report.is_valid(), "{:?}", report.findings);
        let info = geoparquet_io::inspect(&dir.path().join("crafted.parquet")).unwrap();
        assert_eq!(info.metadata.version.as_str(), "0.1.0");
        assert_eq!(info.geometry_columns[0].metadata.crs.epsg(), Some(4326));
        assert_eq!(info.to_json()["geometry_columns"][0]["crs"]["kind"], "wkt");
        // The data rules still apply under the legacy rules.
        let g = wkb(vec![Some(point(10.0, 10.0))]);
        let (_d, report) = write(vec![("geometry", g)], &meta);
        assert!(
            report.has_error(Code::BboxMismatch),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn our_native_only_output_is_valid() {
        use geoparquet_io::writer::{TargetVersion, WriterOptions, write_file};
        let g = wkb(vec![Some(point(1.0, 2.0)), None, Some(point(3.0, 4.0))]);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "geometry",
            DataType::Binary,
            true,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![g]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("native.parquet");
        let options = WriterOptions::default().with_version(TargetVersion::NativeOnly);
        write_file(&path, schema, std::iter::once(Ok(batch)), None, &options).unwrap();
        let facts = geoparquet_io::read_footer(&path).unwrap().facts;
        assert!(facts.key_value("geo").is_none());
        let report = validate(&path, &ValidateOptions::default()).unwrap();
        assert!(report.is_valid(), "{:?}", report.findings);
        assert!(
            report
                .with_severity(Severity::Info)
                .any(|f| f.code == Code::MetadataMissing)
        );
        // inspect agrees.
        let info = geoparquet_io::inspect(&path).unwrap();
        assert_eq!(info.source, geoparquet_io::MetadataSource::NativeTypes);
    }

    #[test]
    fn corrupt_pages_are_an_error_naming_file_column_and_row_group() {
        let meta = geo(json!({"encoding": "WKB", "geometry_types": ["Point"]}));
        let g = wkb((0..100).map(|i| Some(point(f64::from(i), 0.0))).collect());
        let (dir, report) = write(vec![("geometry", g)], &meta);
        assert!(report.is_valid(), "{:?}", report.findings);
        let path = dir.path().join("crafted.parquet");
        let footer = geoparquet_io::read_footer(&path).unwrap();
        let offset = footer
            .metadata
            .unwrap()
            .row_group(0)
            .column(0)
            .data_page_offset();
        let mut bytes = std::fs::read(&path).unwrap();
        let start = usize::try_from(offset).unwrap();
        for b in &mut bytes[start..start + 24] {
            *b = 0xff;
        }
        std::fs::write(&path, &bytes).unwrap();
        match validate(&path, &ValidateOptions::default()) {
            Err(geoparquet_io::Error::CorruptData {
                path: p,
                column,
                row_group,
                ..
            }) => {
                assert_eq!(p, path);
                assert_eq!(column.as_deref(), Some("geometry"));
                assert_eq!(row_group, Some(0));
            }
            other => panic!("expected corrupt data, got {other:?}"),
        }
    }
}
