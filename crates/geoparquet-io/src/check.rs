//! Best practice: is a (valid) GeoParquet file good to publish?
//!
//! Each finding names the rule, says whether it passed and the threshold it
//! used. The rules follow the GeoParquet "distributing" guide and the checks
//! of geoparquet-io (`gpio check all`), with the thresholds below.

use std::path::Path;

use geoparquet_meta::GeoParquetMetadata;
use geoparquet_meta::validate::{Finding, Report, Severity};
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

geoparquet_meta::rule_codes! {
    /// The best-practice rules, in the order a report lists them.
    pub enum Rule {
        /// Geometry columns are ZSTD-compressed.
        Compression => "compression",
        /// Row groups hold 10 000 to 200 000 rows.
        RowGroupRows => "row_group_rows",
        /// Compressed row groups are 64-256 MiB (32-512 acceptable).
        RowGroupBytes => "row_group_bytes",
        /// GeoParquet 1.1.0 or later.
        Version => "version",
        /// A bbox covering, or native geospatial statistics.
        Covering => "covering",
        /// Every geometry column declares its bbox.
        Bbox => "bbox",
        /// Every geometry column lists its geometry types.
        GeometryTypes => "geometry_types",
        /// Consecutive row groups overlap little.
        SpatialOrder => "spatial_order",
        /// Statistics on every column chunk (WKB exempt).
        Statistics => "statistics",
        /// A page index on every column chunk.
        PageIndex => "page_index",
        /// The `.parquet` extension.
        Extension => "extension",
    }
}

impl Rule {
    /// The threshold or expectation the rule uses, as reports print it.
    ///
    /// ```
    /// use geoparquet_io::check::Rule;
    ///
    /// assert_eq!(Rule::Compression.threshold(), "ZSTD");
    /// ```
    pub fn threshold(self) -> String {
        match self {
            Rule::Compression => "ZSTD".into(),
            Rule::RowGroupRows => format!(
                "{CHECK_MIN_ROW_GROUP_ROWS}..={CHECK_MAX_ROW_GROUP_ROWS} rows per row group (files under {CHECK_MIN_ROW_GROUP_ROWS} rows: one row group)"
            ),
            Rule::RowGroupBytes => {
                "64-256 MiB per row group (32-512 MiB acceptable); files under 64 MiB pass".into()
            }
            Rule::Version => "1.1.0 or later".into(),
            Rule::Covering => "a bbox covering (1.1), or native geospatial statistics (2.0)".into(),
            Rule::Bbox => "a bbox per geometry column".into(),
            Rule::GeometryTypes => "a non-empty geometry_types".into(),
            Rule::SpatialOrder => {
                format!("mean overlap of consecutive row groups < {CHECK_MAX_OVERLAP}")
            }
            Rule::Statistics => "statistics on every column chunk (WKB columns exempt)".into(),
            Rule::PageIndex => {
                "an offset index on every column chunk, a column index on every non-WKB one".into()
            }
            Rule::Extension => "the .parquet extension (not .geoparquet)".into(),
        }
    }
}

/// The outcome of one rule: the [`Severity`] of its finding seen as pass, warn or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Follows the practice ([`Severity::Info`]).
    Pass,
    /// Acceptable, could be better ([`Severity::Warning`]).
    Warn,
    /// Does not follow the practice ([`Severity::Error`]).
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

    /// The status a finding of a check stands for.
    ///
    /// ```
    /// use geoparquet_io::check::{Rule, Status};
    /// use geoparquet_meta::validate::Finding;
    ///
    /// let f = Finding::warning(Rule::Extension, None, "file name x.geoparquet");
    /// assert_eq!(Status::of(&f), Status::Warn);
    /// ```
    pub fn of(finding: &Finding<Rule>) -> Status {
        match finding.severity {
            Severity::Error => Status::Fail,
            Severity::Warning => Status::Warn,
            Severity::Info => Status::Pass,
        }
    }

    fn severity(self) -> Severity {
        match self {
            Status::Pass => Severity::Info,
            Status::Warn => Severity::Warning,
            Status::Fail => Severity::Error,
        }
    }
}

/// The findings of a check: one per [`Rule`], in [`Rule::ALL`] order; passes are
/// [`Severity::Info`], so [`Report::is_valid`] says whether the file passed.
pub type CheckReport = Report<Rule>;

/// The status of `rule` in `report` (`None` if the report has no finding for it).
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::check::{Rule, Status, check_file, status};
///
/// let report = check_file(path.as_ref())?;
/// assert_eq!(status(&report, Rule::Compression), Some(Status::Pass));
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn status(report: &CheckReport, rule: Rule) -> Option<Status> {
    report
        .findings
        .iter()
        .find(|f| f.code == rule)
        .map(Status::of)
}

/// `{"passed": bool, "checks": [{"rule", "status", "message", "threshold"}]}`.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let report = geoparquet_io::check::check_file(path.as_ref())?;
/// let json = geoparquet_io::check::to_json(&report);
/// assert_eq!(json["checks"][0]["rule"], "compression");
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn to_json(report: &CheckReport) -> Value {
    json!({
        "passed": report.is_valid(),
        "checks": report.findings.iter().map(|f| json!({
            "rule": f.code.as_str(),
            "status": Status::of(f).as_str(),
            "message": f.message,
            "threshold": f.code.threshold(),
        })).collect::<Vec<_>>(),
    })
}

/// Checks a local file against the best practices. `Err` when the file is
/// not readable GeoParquet.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::check::{Rule, Status, check_file, status};
///
/// let report = check_file(path.as_ref())?;
/// assert_eq!(status(&report, Rule::Compression), Some(Status::Pass));
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
    Ok(check_metadata(&Facts {
        path,
        metadata,
        meta: &meta,
        native_only,
        file_size: footer.file_size,
        overlap,
    }))
}

fn mib(b: u64) -> String {
    let v = b as f64 / 1024.0 / 1024.0;
    format!("{v:.1} MiB")
}

/// What the rules look at.
struct Facts<'a> {
    path: &'a Path,
    metadata: &'a ParquetMetaData,
    meta: &'a GeoParquetMetadata,
    native_only: bool,
    file_size: u64,
    overlap: Option<f64>,
}

impl Facts<'_> {
    /// The leaf columns of root column `name`.
    fn leaves_of(&self, name: &str) -> Vec<usize> {
        self.metadata
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.path().parts().first().is_some_and(|p| p == name))
            .map(|(i, _)| i)
            .collect()
    }

    /// Every value but the last (which may be smaller), or the only one.
    fn body(values: &[u64]) -> (u64, u64) {
        let body = match values {
            [rest @ .., _] if !rest.is_empty() => rest,
            all => all,
        };
        (
            body.iter().copied().min().unwrap_or(0),
            body.iter().copied().max().unwrap_or(0),
        )
    }
}

/// One rule's verdict and what it saw.
type Verdict = (Status, String);

/// How one rule reaches its verdict.
type RuleFn = fn(&Facts<'_>) -> Verdict;

/// The rules, in report order.
const RULES: [(Rule, RuleFn); 11] = [
    (Rule::Compression, compression),
    (Rule::RowGroupRows, row_group_rows),
    (Rule::RowGroupBytes, row_group_bytes),
    (Rule::Version, version),
    (Rule::Covering, covering),
    (Rule::Bbox, bbox),
    (Rule::GeometryTypes, geometry_types),
    (Rule::SpatialOrder, spatial_order),
    (Rule::Statistics, statistics),
    (Rule::PageIndex, page_index),
    (Rule::Extension, extension),
];

fn check_metadata(facts: &Facts<'_>) -> CheckReport {
    Report {
        findings: RULES
            .iter()
            .map(|(rule, verdict)| {
                let (status, message) = verdict(facts);
                Finding::new(*rule, status.severity(), None, message)
            })
            .collect(),
    }
}

fn compression(f: &Facts<'_>) -> Verdict {
    let mut codecs: Vec<String> = Vec::new();
    for name in f.meta.columns.keys() {
        for leaf in f.leaves_of(name) {
            for rg in f.metadata.row_groups() {
                if let Some(c) = rg.columns().get(leaf) {
                    let codec = c.compression();
                    if !matches!(codec, Compression::ZSTD(_))
                        && !codecs.contains(&codec.to_string())
                    {
                        codecs.push(codec.to_string());
                    }
                }
            }
        }
    }
    if codecs.is_empty() {
        (Status::Pass, "geometry columns are ZSTD-compressed".into())
    } else {
        (
            Status::Fail,
            format!(
                "geometry columns use {} compression instead of ZSTD",
                codecs.join(", ")
            ),
        )
    }
}

fn row_group_rows(f: &Facts<'_>) -> Verdict {
    let total_rows = u64::try_from(f.metadata.file_metadata().num_rows()).unwrap_or(0);
    let counts: Vec<u64> = f
        .metadata
        .row_groups()
        .iter()
        .map(|r| u64::try_from(r.num_rows()).unwrap_or(0))
        .collect();
    let (lo, hi) = Facts::body(&counts);
    let status = if total_rows < CHECK_MIN_ROW_GROUP_ROWS {
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
    (
        status,
        format!(
            "{} row group(s) of {lo}..={hi} rows ({total_rows} rows)",
            counts.len()
        ),
    )
}

fn row_group_bytes(f: &Facts<'_>) -> Verdict {
    let sizes: Vec<u64> = f
        .metadata
        .row_groups()
        .iter()
        .map(|r| u64::try_from(r.compressed_size()).unwrap_or(0))
        .collect();
    let (lo, hi) = Facts::body(&sizes);
    let in_range = |r: (u64, u64)| lo >= r.0 && hi <= r.1;
    let status = if f.file_size < CHECK_SMALL_FILE_BYTES || in_range(CHECK_OPTIMAL_ROW_GROUP_BYTES)
    {
        Status::Pass
    } else if in_range(CHECK_ACCEPTABLE_ROW_GROUP_BYTES) {
        Status::Warn
    } else {
        Status::Fail
    };
    (
        status,
        format!(
            "compressed row groups of {}..={} (file {})",
            mib(lo),
            mib(hi),
            mib(f.file_size)
        ),
    )
}

/// GeoParquet 2.0, or native geospatial types without a `geo` key.
fn is_v2(f: &Facts<'_>) -> bool {
    f.native_only || f.meta.version.is_v2()
}

fn version(f: &Facts<'_>) -> Verdict {
    let version = &f.meta.version;
    if !is_v2(f) && !version.supports_covering() {
        (Status::Warn, format!("GeoParquet {version} is outdated"))
    } else if f.native_only {
        (
            Status::Pass,
            "native GEOMETRY/GEOGRAPHY columns (no geo key)".into(),
        )
    } else {
        (Status::Pass, format!("GeoParquet {version}"))
    }
}

fn covering(f: &Facts<'_>) -> Verdict {
    let primary = f.meta.columns.get(&f.meta.primary_column);
    let native_stats = f.metadata.num_row_groups() > 0
        && f.metadata.row_groups().iter().all(|rg| {
            f.leaves_of(&f.meta.primary_column).into_iter().any(|l| {
                rg.columns()
                    .get(l)
                    .is_some_and(|c| c.geo_statistics().is_some())
            })
        });
    if primary.is_some_and(|c| c.covering.is_some()) {
        (
            Status::Pass,
            "the primary column has a bbox covering".into(),
        )
    } else if is_v2(f) && native_stats {
        (
            Status::Pass,
            "native GeospatialStatistics in every row group".into(),
        )
    } else {
        (
            Status::Fail,
            "no bbox covering column: readers cannot skip row groups by location".into(),
        )
    }
}

fn bbox(f: &Facts<'_>) -> Verdict {
    let missing: Vec<&str> = f
        .meta
        .columns
        .iter()
        .filter(|(_, c)| c.bbox.is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    if missing.is_empty() || f.native_only {
        (
            Status::Pass,
            "every geometry column declares its bbox".into(),
        )
    } else {
        (
            Status::Fail,
            format!("no bbox in the metadata of {missing:?}"),
        )
    }
}

fn geometry_types(f: &Facts<'_>) -> Verdict {
    let unknown: Vec<&str> = f
        .meta
        .columns
        .iter()
        .filter(|(_, c)| c.geometry_types.is_empty())
        .map(|(k, _)| k.as_str())
        .collect();
    if unknown.is_empty() {
        (
            Status::Pass,
            "every geometry column lists its geometry types".into(),
        )
    } else {
        (
            Status::Warn,
            format!("geometry_types is empty (unknown) for {unknown:?}"),
        )
    }
}

fn spatial_order(f: &Facts<'_>) -> Verdict {
    match f.overlap {
        None => (Status::Pass, "one row group: nothing to order".into()),
        Some(o) if o < CHECK_MAX_OVERLAP => (
            Status::Pass,
            format!("consecutive row groups overlap {o:.3}"),
        ),
        Some(o) => (
            Status::Fail,
            format!("consecutive row groups overlap {o:.3}: the rows are not spatially ordered"),
        ),
    }
}

/// Column chunks without statistics and without a page index, of how many.
///
/// WKB geometry columns have no meaningful min/max (their sort order is
/// undefined); their boxes come from the covering or GeospatialStatistics, so
/// they need neither statistics nor a column index.
fn chunk_counts(f: &Facts<'_>) -> (usize, usize, usize) {
    let geometry_leaves: Vec<usize> = f.meta.columns.keys().flat_map(|n| f.leaves_of(n)).collect();
    let (mut without_stats, mut without_index) = (0, 0);
    for rg in f.metadata.row_groups() {
        for (leaf, c) in rg.columns().iter().enumerate() {
            let wkb = geometry_leaves.contains(&leaf)
                && c.column_descr().physical_type() == parquet::basic::Type::BYTE_ARRAY;
            if c.statistics().is_none() && c.geo_statistics().is_none() && !wkb {
                without_stats += 1;
            }
            if c.offset_index_offset().is_none() || (c.column_index_offset().is_none() && !wkb) {
                without_index += 1;
            }
        }
    }
    let chunks =
        f.metadata.file_metadata().schema_descr().num_columns() * f.metadata.num_row_groups();
    (without_stats, without_index, chunks)
}

fn statistics(f: &Facts<'_>) -> Verdict {
    match chunk_counts(f) {
        (0, _, chunks) => (
            Status::Pass,
            format!("all {chunks} column chunks have statistics (WKB columns exempt)"),
        ),
        (n, _, chunks) => (
            Status::Fail,
            format!("{n} of {chunks} column chunks have no statistics"),
        ),
    }
}

fn page_index(f: &Facts<'_>) -> Verdict {
    match chunk_counts(f) {
        (_, 0, chunks) => (
            Status::Pass,
            format!("all {chunks} column chunks have a page index"),
        ),
        (_, n, chunks) => (
            Status::Warn,
            format!("{n} of {chunks} column chunks have no page index"),
        ),
    }
}

fn extension(f: &Facts<'_>) -> Verdict {
    let ok = f.path.extension().is_some_and(|e| e == "parquet");
    (
        if ok { Status::Pass } else { Status::Warn },
        format!(
            "file name {}",
            f.path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        ),
    )
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
/// assert!(summary.after.is_valid());
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
    let needs_sort = status(&before, Rule::SpatialOrder) == Some(Status::Fail);
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
