//! File validation entry points.

use std::path::Path;

use geoparquet_meta::validate::{Report, validate_file};

use crate::error::Result;
use crate::footer::read_footer;

/// Validates what a file's footer says: the `geo` key (presence, UTF-8,
/// JSON, the version's schema, metadata rules) and its agreement with the
/// Parquet schema, logical types and geospatial statistics. Data checks
/// (decoding every geometry) are not run here.
///
/// `Err` only when the file cannot be read as Parquet at all; a broken `geo`
/// value is a finding.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let report = geoparquet_io::validate_footer(path.as_ref())?;
/// assert!(report.is_valid());
/// for finding in &report.findings {
///     println!("{finding}");
/// }
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn validate_footer(path: &Path) -> Result<Report> {
    let footer = read_footer(path)?;
    Ok(validate_file(&footer.facts))
}
