//! Writes `test-data/sample.parquet`, the small GeoParquet 1.1 file the README's
//! quick start inspects: seven cities as WKB points with a covering bbox column,
//! ZSTD-compressed, with exact `geometry_types` and `bbox`.
//!
//! Run from the workspace root: `cargo run -p geoparquet-io --example make_sample`.
//! A test regenerates it and checks that the committed bytes are identical.

#![allow(clippy::print_stdout)]

mod sample_data;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-data/sample.parquet");
    let tmp = root.with_extension("parquet.tmp");
    std::fs::write(&tmp, sample_data::sample_bytes()?)?;
    std::fs::rename(&tmp, &root)?;
    println!("wrote {}", root.display());
    Ok(())
}
