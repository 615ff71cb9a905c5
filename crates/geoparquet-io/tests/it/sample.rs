//! The committed quick-start sample is exactly what its generator writes.

#[allow(dead_code)]
mod generator {
    include!("../../examples/make_sample/sample_data.rs");
}

#[test]
fn committed_sample_matches_its_generator() {
    let committed = std::fs::read(test_support::fixture("test-data/sample.parquet")).unwrap();
    let fresh = generator::sample_bytes().unwrap();
    assert!(
        committed == fresh,
        "test-data/sample.parquet is stale: run `cargo run -p geoparquet-io --example make_sample`"
    );
}

#[test]
fn sample_is_valid_geoparquet() {
    let path = test_support::fixture("test-data/sample.parquet");
    let report = geoparquet_io::validate_footer(&path).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let info = geoparquet_io::inspect(&path).unwrap();
    assert_eq!(info.num_rows, 7);
    let col = &info.geometry_columns[0];
    assert_eq!(col.metadata.geometry_types, vec!["Point".parse().unwrap()]);
    assert_eq!(
        col.metadata.covering.as_ref().unwrap().bbox.column(),
        Some("bbox")
    );
}
