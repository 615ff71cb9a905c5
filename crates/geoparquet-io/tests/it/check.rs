//! `check` finds what a file lacks; `fix_file` repairs every finding.

use geoparquet_io::check::{FixOptions, Rule, Status, check_file, fix_file, status, to_json};
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
    assert!(!report.is_valid());
    for rule in [
        Rule::Compression,
        Rule::RowGroupRows,
        Rule::Covering,
        Rule::SpatialOrder,
    ] {
        assert_eq!(
            status(&report, rule),
            Some(Status::Fail),
            "{rule}: {:?}",
            report.findings
        );
    }
    for rule in [
        Rule::Bbox,
        Rule::GeometryTypes,
        Rule::Statistics,
        Rule::PageIndex,
        Rule::Extension,
    ] {
        assert_eq!(status(&report, rule), Some(Status::Pass), "{rule}");
    }
    assert_eq!(
        report.findings.len(),
        Rule::ALL.len(),
        "one finding per rule"
    );
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
    for f in &summary.after.findings {
        assert_eq!(Status::of(f), Status::Pass, "{f:?}");
    }
    assert!(
        geoparquet_io::validate(&fixed, &Default::default())
            .unwrap()
            .is_valid()
    );
    // The JSON form carries each rule with its threshold.
    let json = to_json(&summary.before);
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
    assert_eq!(status(&report, Rule::Extension), Some(Status::Warn));
    assert!(report.is_valid());
}
