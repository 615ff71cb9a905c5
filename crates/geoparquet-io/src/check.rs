//! Best practice: is a (valid) GeoParquet file good to publish?
//!
//! Each finding names the rule, says whether it passed and the threshold it
//! used. The rules follow the GeoParquet "distributing" guide and the checks
//! of geoparquet-io (`gpio check all`), with the thresholds below.

use std::path::Path;

use geoparquet_meta::GeoParquetMetadata;
use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::sort::{overlap_of, row_group_extents};

/// Rows per row group below which a row group is too small (unless the whole
/// file is smaller).
pub const CHECK_MIN_ROW_GROUP_ROWS: u64 = 10_000;
/// Rows per row group above which a row group is too large.
pub const CHECK_MAX_ROW_GROUP_ROWS: u64 = 200_000;
/// Files smaller than this pass the row-group byte-size rule.
pub const CHECK_SMALL_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Compressed row-group sizes in this range are optimal…
pub const CHECK_OPTIMAL_ROW_GROUP_BYTES: (u64, u64) = (64 * 1024 * 1024, 256 * 1024 * 1024);
/// …and in this range acceptable (a warning); outside it a failure.
pub const CHECK_ACCEPTABLE_ROW_GROUP_BYTES: (u64, u64) = (32 * 1024 * 1024, 512 * 1024 * 1024);
/// The mean overlap of consecutive row groups' boxes must stay below this.
pub const CHECK_MAX_OVERLAP: f64 = 0.3;

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Follows the practice.
    Pass,
    /// Acceptable, could be better.
    Warn,
    /// Does not follow the practice.
    Fail,
}

impl Status {
    /// `"pass"`, `"warn"` or `"fail"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One best-practice finding.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckItem {
    /// Stable rule name, e.g. `"compression"`.
    pub rule: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub message: String,
    /// The threshold or expectation used.
    pub threshold: String,
}

/// All findings for a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// One item per rule, in a fixed order.
    pub items: Vec<CheckItem>,
}

impl CheckReport {
    /// True when no rule failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.items.iter().all(|i| i.status != Status::Fail)
    }

    /// The item of a rule.
    pub fn item(&self, rule: &str) -> Option<&CheckItem> {
        self.items.iter().find(|i| i.rule == rule)
    }

    /// `{"passed": bool, "checks": [{"rule", "status", "message", "threshold"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "passed": self.passed(),
            "checks": self.items.iter().map(|i| json!({
                "rule": i.rule,
                "status": i.status.as_str(),
                "message": i.message,
                "threshold": i.threshold,
            })).collect::<Vec<_>>(),
        })
    }
}

fn item(rule: &'static str, status: Status, message: String, threshold: &str) -> CheckItem {
    CheckItem {
        rule,
        status,
        message,
        threshold: threshold.to_owned(),
    }
}

/// Checks a local file against the best practices. `Err` when the file is
/// not readable GeoParquet.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let report = geoparquet_io::check::check_file(path.as_ref())?;
/// assert_eq!(report.item("compression").unwrap().status, geoparquet_io::check::Status::Pass);
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn check_file(path: &Path) -> Result<CheckReport> {
    let footer = crate::read_footer(path)?;
    let metadata = footer.metadata.as_ref().ok_or_else(|| Error::NotParquet {
        path: path.to_path_buf(),
        message: "the footer could not be decoded".into(),
    })?;
    let meta = footer.geoparquet_metadata(path)?;
    let native_only = footer.facts.key_value("geo").is_none();
    let overlap = overlap_of(&row_group_extents(path)?);
    Ok(check_metadata(
        path,
        metadata,
        &meta,
        native_only,
        footer.file_size,
        overlap,
    ))
}

fn mib(b: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let v = b as f64 / 1024.0 / 1024.0;
    format!("{v:.1} MiB")
}

#[allow(clippy::too_many_lines)]
fn check_metadata(
    path: &Path,
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    native_only: bool,
    file_size: u64,
    overlap: Option<f64>,
) -> CheckReport {
    let mut items = Vec::new();
    let descr = metadata.file_metadata().schema_descr();
    let geo_leaf = |name: &str| -> Vec<usize> {
        descr
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.path().parts().first().is_some_and(|p| p == name))
            .map(|(i, _)| i)
            .collect()
    };

    // Compression of the geometry columns.
    let mut codecs: Vec<String> = Vec::new();
    for name in meta.columns.keys() {
        for leaf in geo_leaf(name) {
            for rg in metadata.row_groups() {
                if let Some(c) = rg.columns().get(leaf) {
                    let codec = c.compression();
                    if !matches!(codec, Compression::ZSTD(_)) {
                        let s = codec.to_string();
                        if !codecs.contains(&s) {
                            codecs.push(s);
                        }
                    }
                }
            }
        }
    }
    items.push(if codecs.is_empty() {
        item(
            "compression",
            Status::Pass,
            "geometry columns are ZSTD-compressed".into(),
            "ZSTD",
        )
    } else {
        item(
            "compression",
            Status::Fail,
            format!(
                "geometry columns use {} compression instead of ZSTD",
                codecs.join(", ")
            ),
            "ZSTD",
        )
    });

    // Row-group sizes (the last row group may be smaller).
    let rgs = metadata.row_groups();
    let total_rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    let counts: Vec<u64> = rgs
        .iter()
        .map(|r| u64::try_from(r.num_rows()).unwrap_or(0))
        .collect();
    let body = if counts.len() > 1 {
        &counts[..counts.len() - 1]
    } else {
        &counts[..]
    };
    let threshold = format!(
        "{CHECK_MIN_ROW_GROUP_ROWS}..={CHECK_MAX_ROW_GROUP_ROWS} rows per row group (files under {CHECK_MIN_ROW_GROUP_ROWS} rows: one row group)"
    );
    let (lo, hi) = (
        body.iter().copied().min().unwrap_or(0),
        body.iter().copied().max().unwrap_or(0),
    );
    let rows_status = if total_rows < CHECK_MIN_ROW_GROUP_ROWS {
        if counts.len() <= 1 {
            Status::Pass
        } else {
            Status::Warn
        }
    } else if lo >= CHECK_MIN_ROW_GROUP_ROWS && hi <= CHECK_MAX_ROW_GROUP_ROWS {
        Status::Pass
    } else if lo < 2_000 || hi > 1_000_000 {
        Status::Fail
    } else {
        Status::Warn
    };
    items.push(item(
        "row_group_rows",
        rows_status,
        format!(
            "{} row group(s) of {lo}..={hi} rows ({total_rows} rows)",
            counts.len()
        ),
        &threshold,
    ));
    let sizes: Vec<u64> = rgs
        .iter()
        .map(|r| u64::try_from(r.compressed_size()).unwrap_or(0))
        .collect();
    let sbody = if sizes.len() > 1 {
        &sizes[..sizes.len() - 1]
    } else {
        &sizes[..]
    };
    let (slo, shi) = (
        sbody.iter().copied().min().unwrap_or(0),
        sbody.iter().copied().max().unwrap_or(0),
    );
    let in_range = |r: (u64, u64)| slo >= r.0 && shi <= r.1;
    let bytes_status =
        if file_size < CHECK_SMALL_FILE_BYTES || in_range(CHECK_OPTIMAL_ROW_GROUP_BYTES) {
            Status::Pass
        } else if in_range(CHECK_ACCEPTABLE_ROW_GROUP_BYTES) {
            Status::Warn
        } else {
            Status::Fail
        };
    items.push(item(
        "row_group_bytes",
        bytes_status,
        format!(
            "compressed row groups of {}..={} (file {})",
            mib(slo),
            mib(shi),
            mib(file_size)
        ),
        "64-256 MiB per row group (32-512 MiB acceptable); files under 64 MiB pass",
    ));

    // Version, covering and bbox metadata.
    let version = meta.version.clone();
    let is_2 = native_only || version.is_v2();
    let old = !is_2 && !version.supports_covering();
    items.push(if old {
        item(
            "version",
            Status::Warn,
            format!("GeoParquet {version} is outdated"),
            "1.1.0 or later",
        )
    } else {
        item(
            "version",
            Status::Pass,
            if native_only {
                "native GEOMETRY/GEOGRAPHY columns (no geo key)".into()
            } else {
                format!("GeoParquet {version}")
            },
            "1.1.0 or later",
        )
    });
    let primary = meta.columns.get(&meta.primary_column);
    let has_covering = primary.is_some_and(|c| c.covering.is_some());
    let has_native_stats = metadata.row_groups().iter().all(|rg| {
        geo_leaf(&meta.primary_column).into_iter().any(|l| {
            rg.columns()
                .get(l)
                .is_some_and(|c| c.geo_statistics().is_some())
        })
    }) && metadata.num_row_groups() > 0;
    items.push(if has_covering {
        item(
            "covering",
            Status::Pass,
            "the primary column has a bbox covering".into(),
            "a bbox covering (1.1), or native geospatial statistics (2.0)",
        )
    } else if is_2 && has_native_stats {
        item(
            "covering",
            Status::Pass,
            "native GeospatialStatistics in every row group".into(),
            "a bbox covering (1.1), or native geospatial statistics (2.0)",
        )
    } else {
        item(
            "covering",
            Status::Fail,
            "no bbox covering column: readers cannot skip row groups by location".into(),
            "a bbox covering (1.1), or native geospatial statistics (2.0)",
        )
    });
    let no_bbox: Vec<&str> = meta
        .columns
        .iter()
        .filter(|(_, c)| c.bbox.is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    items.push(if no_bbox.is_empty() || native_only {
        item(
            "bbox",
            Status::Pass,
            "every geometry column declares its bbox".into(),
            "a bbox per geometry column",
        )
    } else {
        item(
            "bbox",
            Status::Fail,
            format!("no bbox in the metadata of {no_bbox:?}"),
            "a bbox per geometry column",
        )
    });
    let unknown_types: Vec<&str> = meta
        .columns
        .iter()
        .filter(|(_, c)| c.geometry_types.is_empty())
        .map(|(k, _)| k.as_str())
        .collect();
    items.push(if unknown_types.is_empty() {
        item(
            "geometry_types",
            Status::Pass,
            "every geometry column lists its geometry types".into(),
            "a non-empty geometry_types",
        )
    } else {
        item(
            "geometry_types",
            Status::Warn,
            format!("geometry_types is empty (unknown) for {unknown_types:?}"),
            "a non-empty geometry_types",
        )
    });

    // Spatial order.
    items.push(match overlap {
        None => item(
            "spatial_order",
            Status::Pass,
            "one row group: nothing to order".into(),
            &format!("mean overlap of consecutive row groups < {CHECK_MAX_OVERLAP}"),
        ),
        Some(o) if o < CHECK_MAX_OVERLAP => item(
            "spatial_order",
            Status::Pass,
            format!("consecutive row groups overlap {o:.3}"),
            &format!("mean overlap of consecutive row groups < {CHECK_MAX_OVERLAP}"),
        ),
        Some(o) => item(
            "spatial_order",
            Status::Fail,
            format!("consecutive row groups overlap {o:.3}: the rows are not spatially ordered"),
            &format!("mean overlap of consecutive row groups < {CHECK_MAX_OVERLAP}"),
        ),
    });

    // Statistics and page index.
    let leaves = descr.num_columns();
    let mut without_stats = 0usize;
    let mut without_index = 0usize;
    // WKB geometry columns have no meaningful min/max (their sort order is
    // undefined); their boxes come from the covering or GeospatialStatistics.
    let geometry_leaves: Vec<usize> = meta.columns.keys().flat_map(|n| geo_leaf(n)).collect();
    for rg in metadata.row_groups() {
        for (leaf, c) in rg.columns().iter().enumerate() {
            if c.statistics().is_none()
                && c.geo_statistics().is_none()
                && !(geometry_leaves.contains(&leaf)
                    && c.column_descr().physical_type() == parquet::basic::Type::BYTE_ARRAY)
            {
                without_stats += 1;
            }
            let wkb = geometry_leaves.contains(&leaf)
                && c.column_descr().physical_type() == parquet::basic::Type::BYTE_ARRAY;
            if c.offset_index_offset().is_none() || (c.column_index_offset().is_none() && !wkb) {
                without_index += 1;
            }
        }
    }
    let chunks = leaves * metadata.num_row_groups();
    items.push(if without_stats == 0 {
        item(
            "statistics",
            Status::Pass,
            format!("all {chunks} column chunks have statistics (WKB columns exempt)"),
            "statistics on every column chunk (WKB columns exempt)",
        )
    } else {
        item(
            "statistics",
            Status::Fail,
            format!("{without_stats} of {chunks} column chunks have no statistics"),
            "statistics on every column chunk (WKB columns exempt)",
        )
    });
    items.push(if without_index == 0 {
        item(
            "page_index",
            Status::Pass,
            format!("all {chunks} column chunks have a page index"),
            "an offset index on every column chunk, a column index on every non-WKB one",
        )
    } else {
        item(
            "page_index",
            Status::Warn,
            format!("{without_index} of {chunks} column chunks have no page index"),
            "an offset index on every column chunk, a column index on every non-WKB one",
        )
    });
    let ext_ok = path.extension().is_some_and(|e| e == "parquet");
    items.push(item(
        "extension",
        if ext_ok { Status::Pass } else { Status::Warn },
        format!(
            "file name {}",
            path.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        ),
        "the .parquet extension (not .geoparquet)",
    ));
    CheckReport { items }
}

/// Options of [`fix_file`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FixOptions {
    /// Write this GeoParquet version (default: the input's when it is 1.1 or
    /// later, else 1.1).
    pub version: Option<crate::writer::TargetVersion>,
    /// Memory cap of the spatial sort ([`crate::sort::DEFAULT_SORT_MEMORY`] when `None`).
    pub memory: Option<usize>,
}

impl FixOptions {
    /// Write this GeoParquet version (default: the input's when 1.1 or later, else 1.1).
    ///
    /// ```
    /// use geoparquet_io::check::FixOptions;
    /// use geoparquet_io::writer::TargetVersion;
    ///
    /// let options = FixOptions::default().with_version(TargetVersion::V2_0).with_memory(64 << 20);
    /// assert_eq!(options.memory, Some(64 << 20));
    /// ```
    #[must_use]
    pub fn with_version(mut self, version: crate::writer::TargetVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Memory cap of the spatial sort (default [`crate::sort::DEFAULT_SORT_MEMORY`]).
    #[must_use]
    pub fn with_memory(mut self, bytes: usize) -> Self {
        self.memory = Some(bytes);
        self
    }
}

/// What [`fix_file`] did.
#[derive(Debug, Clone)]
pub struct FixSummary {
    /// The input's findings.
    pub before: CheckReport,
    /// The output's findings.
    pub after: CheckReport,
    /// Whether the rows were re-ordered (Hilbert) to fix the spatial order.
    pub sorted: bool,
    /// Rows written.
    pub rows: u64,
    /// What the writer normalised or dropped from the input's metadata.
    pub warnings: Vec<String>,
}

/// Rewrites `input` into `output` (atomically) so that every best-practice
/// rule passes: ZSTD, row groups sized by the writer's defaults, a bbox
/// covering (1.1) or native statistics (2.0), bbox and geometry types in the
/// metadata, statistics and page index, and a Hilbert sort when the rows are
/// not spatially ordered (otherwise their order is kept).
///
/// ```
/// # let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::check::{fix_file, FixOptions};
///
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("fixed.parquet");
/// let summary = fix_file(input.as_ref(), &out, &FixOptions::default())?;
/// assert!(summary.after.passed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fix_file(input: &Path, output: &Path, options: &FixOptions) -> Result<FixSummary> {
    use crate::writer::{TargetVersion, WriterOptions};
    let before = check_file(input)?;
    let footer = crate::read_footer(input)?;
    let input_version = footer
        .facts
        .geo_metadata()
        .and_then(std::result::Result::ok)
        .map(|m| m.version);
    let version = options.version.unwrap_or(match input_version {
        Some(v) if v.is_v2() => TargetVersion::V2_0,
        None if footer.facts.native_columns().next().is_some() => TargetVersion::V2_0,
        _ => TargetVersion::V1_1,
    });
    let writer = WriterOptions::default().with_version(version);
    let needs_sort = before
        .item("spatial_order")
        .is_some_and(|i| i.status == Status::Fail);
    let written = if needs_sort {
        let sort = crate::sort::SortOptions {
            writer,
            memory: options.memory.unwrap_or(crate::sort::DEFAULT_SORT_MEMORY),
            // The version chosen above, not the input's.
            keep_input_format: false,
            ..crate::sort::SortOptions::default()
        };
        crate::sort::sort_file(input, output, &sort)?.written
    } else {
        let reader = crate::reader::open(input)?;
        let (schema, meta) = (reader.schema(), reader.metadata().clone());
        crate::writer::write_file(output, schema, reader, Some(&meta), &writer)?
    };
    let after = check_file(output)?;
    Ok(FixSummary {
        before,
        after,
        sorted: needs_sort,
        rows: written.rows,
        warnings: written.warnings,
    })
}
