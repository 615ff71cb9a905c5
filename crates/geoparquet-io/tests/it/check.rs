//! `check` finds what a file lacks; `fix_file` repairs every finding.

use geoparquet_io::check::{FixOptions, Status, check_file, fix_file};
use geoparquet_io::reader::open;
use geoparquet_io::writer::{WriterOptions, write_file};
use parquet::basic::Compression;

#[test]
fn a_poor_file_fails_and_the_fixed_file_passes_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("random.parquet");
    crate::sort::random_points(&good, 30_000);
    // Rewrite it the way a careless writer would: snappy, no covering,
    // tiny row groups, random order.
    let poor = dir.path().join("poor.parquet");
    let reader = open(&good).unwrap();
    let (schema, meta) = (reader.schema(), reader.metadata().clone());
    let careless = WriterOptions::default()
        .with_compression(Compression::SNAPPY)
        .with_row_group_rows(1000)
        .with_covering(None);
    write_file(&poor, schema, reader, Some(&meta), &careless).unwrap();
    let report = check_file(&poor).unwrap();
    assert!(!report.passed());
    for rule in ["compression", "row_group_rows", "covering", "spatial_order"] {
        assert_eq!(
            report.item(rule).unwrap().status,
            Status::Fail,
            "{rule}: {:?}",
            report.item(rule)
        );
    }
    for rule in [
        "bbox",
        "geometry_types",
        "statistics",
        "page_index",
        "extension",
    ] {
        assert_eq!(report.item(rule).unwrap().status, Status::Pass, "{rule}");
    }
    let fixed = dir.path().join("fixed.parquet");
    let summary = fix_file(
        &poor,
        &fixed,
        // Row groups hold at most an eighth of the sort's cap: a cap this
        // size keeps them above the rule's 10000 rows.
        &FixOptions::default().with_memory(64 << 20),
    )
    .unwrap();
    assert!(summary.sorted);
    assert_eq!(summary.rows, 30_000);
    for i in &summary.after.items {
        assert_eq!(i.status, Status::Pass, "{i:?}");
    }
    assert!(
        geoparquet_io::validate(&fixed, &Default::default())
            .unwrap()
            .is_valid()
    );
    // The JSON form carries each rule with its threshold.
    let json = summary.before.to_json();
    assert_eq!(json["passed"], false);
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["threshold"].is_string())
    );
}

#[test]
fn a_wrong_extension_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("points.geoparquet");
    crate::sort::random_points(&f, 100);
    let report = check_file(&f).unwrap();
    assert_eq!(report.item("extension").unwrap().status, Status::Warn);
    assert!(report.passed());
}
