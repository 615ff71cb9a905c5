//! File validation: the footer rules, then the data rules over every row.
//!
//! The data pass reads only the geometry columns and their covering columns,
//! one row group per worker thread at a time (memory is bounded by a few row
//! groups, whatever the file size), and checks for each row:
//!
//! | rule | code |
//! |---|---|
//! | the value is ISO WKB (no EWKB flags or SRID, not truncated, valid type byte, nothing after the end) | `wkb_parse_error` |
//! | its type and dimension are listed in `geometry_types` (when not empty) | `geometry_type_mismatch`, `zm_mismatch` |
//! | every listed type occurs (the list is narrow) | `geometry_types_not_present` (warning) |
//! | it lies in the column's `bbox` (antimeridian-aware, Z too) | `bbox_mismatch` |
//! | a covering box that wraps (`xmin > xmax`) only under a `bbox` that reaches both -180 and 180 (wraps too, or spans the full range) | `bbox_mismatch` |
//! | rings follow `orientation` when declared | `orientation_mismatch` |
//! | native encodings: no null below the geometry | `native_encoding_layout` |
//! | the covering box is null exactly where the geometry is, and equals the geometry's box | `covering_mismatch` |
//! | it lies in its row group's GeospatialStatistics box, its type in the listed types | `stats_mismatch` |
//! | GEOGRAPHY (error) or a geographic CRS (warning): longitude in [-180, 180], latitude in [-90, 90], up to [`LON_LAT_TOLERANCE`](geoparquet_meta::bbox::LON_LAT_TOLERANCE) | `coordinates_out_of_range` |
//!
//! A covering box may cross the antimeridian (`xmin > xmax`); float32 and
//! float64 coverings may be one step of their type wider than the geometry.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StructArray};
use arrow_schema::DataType;
use geo_traits::{
    CoordTrait, GeometryCollectionTrait, GeometryTrait, GeometryType as GT, LineStringTrait,
    MultiLineStringTrait, MultiPointTrait, MultiPolygonTrait, PointTrait, PolygonTrait,
};
use geoparquet_meta::validate::{Code, Finding, Report, Severity, validate_file};
use geoparquet_meta::{
    BoundingBox, Crs, Encoding, GeoParquetMetadata, GeometryType, GeometryTypeAndDimension,
    Orientation,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::ParquetMetaData;

use crate::error::{Error, Result};
use crate::footer::read_footer;
use crate::wkb_column::wkb_values;
use geoparquet_meta::geometry::{geometry_info, parse_wkb};

/// Validates what a file's footer says: the `geo` key (presence, UTF-8,
/// JSON, the version's schema, metadata rules) and its agreement with the
/// Parquet schema, logical types and geospatial statistics. Data checks
/// (decoding every geometry) are not run here: see [`validate`].
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

/// Default number of offending rows listed per finding.
pub const DEFAULT_EXAMPLE_ROWS: usize = 5;

/// Options of [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Run the data rules (read every geometry); `false` checks the footer only.
    pub data: bool,
    /// How many offending rows each data finding lists.
    pub example_rows: usize,
    /// Worker threads for the data pass; 0 = one per core.
    pub threads: usize,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            data: true,
            example_rows: DEFAULT_EXAMPLE_ROWS,
            threads: 0,
        }
    }
}

impl ValidateOptions {
    /// Run the data rules (default true); false checks the footer only.
    ///
    /// ```
    /// let options = geoparquet_io::ValidateOptions::default().with_data(false).with_threads(2);
    /// assert!(!options.data);
    /// assert_eq!(options.threads, 2);
    /// ```
    #[must_use]
    pub fn with_data(mut self, data: bool) -> Self {
        self.data = data;
        self
    }

    /// How many offending rows each data finding lists (default [`DEFAULT_EXAMPLE_ROWS`]).
    #[must_use]
    pub fn with_example_rows(mut self, rows: usize) -> Self {
        self.example_rows = rows;
        self
    }

    /// Worker threads for the data pass (default 0: one per core).
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
}

/// Validates a local file completely: the footer rules of [`validate_footer`],
/// then every data rule (see the module documentation) over every row,
/// row groups in parallel.
///
/// `Err` only when the file cannot be read as Parquet (or a data page cannot
/// be decoded); everything the specification forbids is a finding.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::{validate, ValidateOptions};
///
/// let report = validate(path.as_ref(), &ValidateOptions::default())?;
/// assert!(report.is_valid(), "{:?}", report.findings);
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn validate(path: &Path, options: &ValidateOptions) -> Result<Report> {
    let footer = read_footer(path)?;
    let mut report = validate_file(&footer.facts);
    if !options.data {
        return Ok(report);
    }
    let Some(metadata) = footer.metadata.as_ref() else {
        return Ok(report);
    };
    let Some(plan) = DataPlan::new(&footer.facts, metadata) else {
        return Ok(report);
    };
    if plan.columns.is_empty() {
        return Ok(report);
    }
    let acc = run_local(path, metadata, &plan, options)?;
    acc.into_findings(&plan, &mut report);
    Ok(report)
}

// --- the plan -----------------------------------------------------------------------

/// What to check in one geometry column.
#[derive(Debug, Clone)]
struct ColumnPlan {
    name: String,
    /// Index among the root fields of the Parquet schema.
    root: usize,
    /// The native encoding's geometry type (`None` = WKB).
    native: Option<GeometryType>,
    /// Declared types (empty = unknown, not checked).
    declared: Vec<GeometryTypeAndDimension>,
    bbox: Option<BoundingBox>,
    ccw: bool,
    /// Non-planar edges: longitudes unwrapped for ring orientation.
    wrap_edges: bool,
    /// GEOGRAPHY logical type: coordinates must be in range (error).
    geography: bool,
    /// A geographic CRS on a planar column: out-of-range coordinates are a warning.
    geographic_crs: bool,
    covering: Option<CoveringPlan>,
    /// Leaf index of the column in the Parquet schema (WKB columns), for the
    /// row groups' geospatial statistics.
    leaf: Option<usize>,
}

#[derive(Debug, Clone)]
struct CoveringPlan {
    column: String,
    root: usize,
    /// Field names of xmin, ymin, xmax, ymax.
    xy: [String; 4],
    /// Field names of zmin, zmax.
    z: Option<[String; 2]>,
}

#[derive(Debug, Clone)]
struct DataPlan {
    columns: Vec<ColumnPlan>,
}

fn last_name(path: &[String]) -> Option<String> {
    if path.len() == 2 {
        path.get(1).cloned()
    } else {
        None
    }
}

impl DataPlan {
    /// `None` when the metadata is unusable (the footer findings say why).
    fn new(
        facts: &geoparquet_meta::validate::FileFacts,
        metadata: &ParquetMetaData,
    ) -> Option<Self> {
        let (meta, synthesized): (GeoParquetMetadata, bool) = match facts.geo_metadata() {
            Some(Ok(m)) => (m, false),
            Some(Err(_)) => return None,
            None => (facts.synthesize_metadata()?.ok()?, true),
        };
        let descr = metadata.file_metadata().schema_descr();
        let roots = descr.root_schema().get_fields();
        let root_of = |name: &str| roots.iter().position(|f| f.name() == name);
        let mut columns = Vec::new();
        for (name, col) in &meta.columns {
            let Some(root) = root_of(name) else { continue };
            let native = match &col.encoding {
                Encoding::Wkb => None,
                Encoding::Native(t) => Some(*t),
                _ => continue,
            };
            let facts_col = facts.column(name);
            let logical = facts_col.and_then(|c| c.native.as_ref());
            let geography = matches!(
                logical,
                Some(geoparquet_meta::file::NativeGeoType::Geography { .. })
            );
            let crs_geographic = match &col.crs {
                Crs::Default => true,
                Crs::Unknown => false,
                other => other.is_crs84_equivalent() || other.is_geographic() == Some(true),
            };
            let covering = col.covering.as_ref().and_then(|cv| {
                let b = &cv.bbox;
                let column = b.column()?.to_owned();
                let croot = root_of(&column)?;
                let xy = [
                    last_name(&b.xmin)?,
                    last_name(&b.ymin)?,
                    last_name(&b.xmax)?,
                    last_name(&b.ymax)?,
                ];
                let z = match (&b.zmin, &b.zmax) {
                    (Some(z0), Some(z1)) => Some([last_name(z0)?, last_name(z1)?]),
                    _ => None,
                };
                Some(CoveringPlan {
                    column,
                    root: croot,
                    xy,
                    z,
                })
            });
            let leaf = descr
                .columns()
                .iter()
                .position(|c| c.path().parts() == [name.clone()]);
            columns.push(ColumnPlan {
                name: name.clone(),
                root,
                native,
                declared: if synthesized {
                    Vec::new()
                } else {
                    col.geometry_types.clone()
                },
                bbox: col.bbox.filter(BoundingBox::is_usable),
                ccw: matches!(col.orientation, Some(Orientation::Counterclockwise)),
                wrap_edges: col.effective_edges() != geoparquet_meta::Edges::Planar,
                geography,
                geographic_crs: !geography && crs_geographic,
                covering,
                leaf,
            });
        }
        Some(Self { columns })
    }

    fn projection_roots(&self) -> Vec<usize> {
        let mut roots: Vec<usize> = self
            .columns
            .iter()
            .flat_map(|c| std::iter::once(c.root).chain(c.covering.as_ref().map(|cv| cv.root)))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        roots
    }
}

// --- accumulation --------------------------------------------------------------------

/// Offending rows of one rule: how many, the first few, and a description of
/// the first.
#[derive(Debug, Clone, Default)]
struct Rows {
    count: u64,
    first: Vec<u64>,
    message: Option<(u64, String)>,
    /// Union of the offending geometries' boxes (for bbox rules).
    extent: Option<BoundingBox>,
}

impl Rows {
    fn add(&mut self, row: u64, keep: usize, message: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < keep {
            self.first.push(row);
        } else if let Some(slot) = self.first.iter_mut().max()
            && row < *slot
        {
            *slot = row;
        }
        if self.message.as_ref().is_none_or(|(r, _)| row < *r) {
            self.message = Some((row, message()));
        }
    }

    fn add_box(&mut self, b: &BoundingBox) {
        self.extent = Some(match &self.extent {
            Some(e) => BoundingBox::new(
                e.xmin.min(b.xmin),
                e.ymin.min(b.ymin),
                e.xmax.max(b.xmax),
                e.ymax.max(b.ymax),
            ),
            None => BoundingBox::new(b.xmin, b.ymin, b.xmax, b.ymax),
        });
    }

    fn merge(&mut self, other: Rows, keep: usize) {
        self.count += other.count;
        self.first.extend(other.first);
        self.first.sort_unstable();
        self.first.dedup();
        self.first.truncate(keep);
        if let Some((r, m)) = other.message
            && self.message.as_ref().is_none_or(|(mine, _)| r < *mine)
        {
            self.message = Some((r, m));
        }
        if let Some(b) = other.extent {
            self.add_box(&b);
        }
    }

    fn sorted_rows(&self) -> Vec<u64> {
        let mut v = self.first.clone();
        v.sort_unstable();
        v
    }
}

/// Rules whose offending rows are counted, per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    Wkb,
    Bbox,
    BboxWrap,
    Orientation,
    NativeNulls,
    CoveringNull,
    CoveringNaNForNull,
    CoveringOutside,
    CoveringLoose,
    StatsBox,
    StatsType,
    GeographyRange,
    CrsRange,
}

#[derive(Debug, Clone, Default)]
struct ColumnAcc {
    /// Types present, with their rows.
    types: BTreeMap<GeometryTypeAndDimension, Rows>,
    rules: BTreeMap<Rule, Rows>,
    rows: u64,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    columns: Vec<ColumnAcc>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Self {
            columns: vec![ColumnAcc::default(); n],
        }
    }

    fn merge(&mut self, other: Acc, keep: usize) {
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            mine.rows += theirs.rows;
            for (t, rows) in theirs.types {
                mine.types.entry(t).or_default().merge(rows, keep);
            }
            for (r, rows) in theirs.rules {
                mine.rules.entry(r).or_default().merge(rows, keep);
            }
        }
    }

    fn into_findings(self, plan: &DataPlan, report: &mut Report) {
        for (col, acc) in plan.columns.iter().zip(self.columns) {
            findings_for(col, acc, report);
        }
    }
}

fn fmt_box(b: &BoundingBox) -> String {
    format!("[{}, {}, {}, {}]", b.xmin, b.ymin, b.xmax, b.ymax)
}

fn findings_for(col: &ColumnPlan, acc: ColumnAcc, report: &mut Report) {
    let name = Some(col.name.as_str());
    let push = |report: &mut Report, code, severity, rows: &Rows, message: String| {
        let detail = rows
            .message
            .as_ref()
            .map(|(r, m)| format!("; row {r}: {m}"))
            .unwrap_or_default();
        report.findings.push(
            Finding::new(code, severity, name, format!("{message}{detail}"))
                .with_rows(rows.count, rows.sorted_rows()),
        );
    };
    let rule = |r: Rule| acc.rules.get(&r).filter(|x| x.count > 0);
    if let Some(rows) = rule(Rule::Wkb) {
        push(
            report,
            Code::WkbParseError,
            Severity::Error,
            rows,
            "values are not valid ISO WKB".into(),
        );
    }
    if let Some(rows) = rule(Rule::NativeNulls) {
        push(
            report,
            Code::NativeEncodingLayout,
            Severity::Error,
            rows,
            "null values below the geometry level of a native encoding (only whole geometries may be null)".into(),
        );
    }
    // geometry_types against the data.
    if !col.declared.is_empty() {
        let declared: BTreeSet<_> = col.declared.iter().copied().collect();
        for (t, rows) in &acc.types {
            if declared.contains(t) {
                continue;
            }
            let same_base = declared.iter().any(|d| d.geometry_type == t.geometry_type);
            let listed: Vec<String> = col.declared.iter().map(ToString::to_string).collect();
            let (code, what) = if same_base {
                (Code::ZmMismatch, "dimension")
            } else {
                (Code::GeometryTypeMismatch, "type")
            };
            report.findings.push(
                Finding::error(
                    code,
                    name,
                    format!("rows hold \"{t}\", a {what} geometry_types {listed:?} does not list"),
                )
                .with_rows(rows.count, rows.sorted_rows()),
            );
        }
        if acc.rows > 0 && rule(Rule::Wkb).is_none() {
            let absent: Vec<String> = col
                .declared
                .iter()
                .filter(|d| !acc.types.contains_key(d))
                .map(ToString::to_string)
                .collect();
            if !absent.is_empty() {
                report.findings.push(Finding::warning(
                    Code::GeometryTypesNotPresent,
                    name,
                    format!("geometry_types lists {absent:?}, which no row holds"),
                ));
            }
        }
    }
    if let (Some(rows), Some(b)) = (rule(Rule::Bbox), col.bbox.as_ref()) {
        let ext = rows
            .extent
            .as_ref()
            .map(|e| format!(" (they span {})", fmt_box(e)))
            .unwrap_or_default();
        push(
            report,
            Code::BboxMismatch,
            Severity::Error,
            rows,
            format!(
                "geometries lie outside the metadata bbox {}{ext}",
                fmt_box(b)
            ),
        );
    }
    if let (Some(rows), Some(b)) = (rule(Rule::BboxWrap), col.bbox.as_ref()) {
        push(
            report,
            Code::BboxMismatch,
            Severity::Error,
            rows,
            format!(
                "covering boxes cross the antimeridian (xmin > xmax) but the metadata bbox {} \
                 neither wraps nor spans longitudes -180 to 180 (readers trusting it skip these rows)",
                fmt_box(b)
            ),
        );
    }
    if let Some(rows) = rule(Rule::Orientation) {
        push(
            report,
            Code::OrientationMismatch,
            Severity::Error,
            rows,
            "orientation is \"counterclockwise\" but rings are wound the other way".into(),
        );
    }
    let cov = col.covering.as_ref().map_or("", |c| c.column.as_str());
    if let Some(rows) = rule(Rule::CoveringNull) {
        push(
            report,
            Code::CoveringMismatch,
            Severity::Error,
            rows,
            format!(
                "the covering column \"{cov}\" is null where the geometry is not, or the reverse"
            ),
        );
    }
    if let Some(rows) = rule(Rule::CoveringNaNForNull) {
        push(
            report,
            Code::CoveringMismatch,
            Severity::Warning,
            rows,
            format!("the covering column \"{cov}\" holds a NaN box (not null) for null geometries"),
        );
    }
    if let Some(rows) = rule(Rule::CoveringOutside) {
        push(
            report,
            Code::CoveringMismatch,
            Severity::Error,
            rows,
            format!("the covering box in \"{cov}\" does not contain the geometry"),
        );
    }
    if let Some(rows) = rule(Rule::CoveringLoose) {
        push(
            report,
            Code::CoveringMismatch,
            Severity::Warning,
            rows,
            format!("the covering box in \"{cov}\" is larger than the geometry's box"),
        );
    }
    if let Some(rows) = rule(Rule::StatsBox) {
        push(
            report,
            Code::StatsMismatch,
            Severity::Error,
            rows,
            "geometries lie outside their row group's GeospatialStatistics box".into(),
        );
    }
    if let Some(rows) = rule(Rule::StatsType) {
        push(
            report,
            Code::StatsMismatch,
            Severity::Error,
            rows,
            "geometry types missing from their row group's GeospatialStatistics types".into(),
        );
    }
    if let Some(rows) = rule(Rule::GeographyRange) {
        push(
            report,
            Code::CoordinatesOutOfRange,
            Severity::Error,
            rows,
            "GEOGRAPHY coordinates outside longitude [-180, 180] / latitude [-90, 90]".into(),
        );
    }
    if let Some(rows) = rule(Rule::CrsRange) {
        // Far outside the range (beyond a full turn) looks like metres.
        let hint = match &rows.extent {
            Some(e)
                if [e.xmin, e.xmax].iter().any(|x| x.abs() > 360.0)
                    || [e.ymin, e.ymax].iter().any(|y| y.abs() > 180.0) =>
            {
                " (projected data with a missing crs?)"
            }
            _ => "",
        };
        push(
            report,
            Code::CoordinatesOutOfRange,
            Severity::Warning,
            rows,
            format!(
                "coordinates outside longitude [-180, 180] / latitude [-90, 90] of the geographic CRS{hint}"
            ),
        );
    }
}

// --- the data pass -------------------------------------------------------------------

/// A row group's geospatial statistics for one column.
#[derive(Debug, Clone, Default)]
struct RgStats {
    bbox: Option<BoundingBox>,
    types: Option<BTreeSet<u32>>,
}

fn rg_stats(metadata: &ParquetMetaData, rg: usize, leaf: Option<usize>) -> RgStats {
    let Some(chunk) = leaf.and_then(|l| metadata.row_group(rg).columns().get(l)) else {
        return RgStats::default();
    };
    let Some(gs) = chunk.geo_statistics() else {
        return RgStats::default();
    };
    let bbox = gs.bounding_box().map(|b| {
        let mut bb = BoundingBox::new(b.get_xmin(), b.get_ymin(), b.get_xmax(), b.get_ymax());
        if let (Some(z0), Some(z1)) = (b.get_zmin(), b.get_zmax())
            && !z0.is_nan()
            && !z1.is_nan()
        {
            bb = bb.with_z(z0, z1);
        }
        bb
    });
    let types = gs
        .geospatial_types()
        .filter(|t| !t.is_empty())
        .map(|t| t.iter().filter_map(|v| u32::try_from(*v).ok()).collect());
    RgStats {
        bbox: bbox.filter(BoundingBox::is_usable),
        types,
    }
}

fn run_local(
    path: &Path,
    metadata: &ParquetMetaData,
    plan: &DataPlan,
    options: &ValidateOptions,
) -> Result<Acc> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let arrow_meta = match ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()) {
        Ok(m) => m,
        // A damaged or foreign ARROW:schema: decode from the Parquet schema alone.
        Err(_) => ArrowReaderMetadata::load(
            &file,
            ArrowReaderOptions::new().with_skip_arrow_metadata(true),
        )
        .map_err(|e| Error::NotParquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?,
    };
    let mask = ProjectionMask::roots(
        arrow_meta.metadata().file_metadata().schema_descr(),
        plan.projection_roots(),
    );
    let n = metadata.num_row_groups();
    let mut first_rows = Vec::with_capacity(n);
    let mut acc_rows = 0u64;
    for rg in metadata.row_groups() {
        first_rows.push(acc_rows);
        acc_rows += u64::try_from(rg.num_rows()).unwrap_or(0);
    }
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    } else {
        options.threads
    }
    .clamp(1, n.max(1));
    let keep = options.example_rows.max(1);
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Acc::new(plan.columns.len()));
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    crate::workers::scope(|s| -> Result<()> {
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            handles.push(s.spawn("validate: row groups", || {
                let mut local = Acc::new(plan.columns.len());
                let result = (|| -> Result<()> {
                    loop {
                        let rg = next.fetch_add(1, Ordering::Relaxed);
                        if rg >= n {
                            return Ok(());
                        }
                        if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                            return Ok(());
                        }
                        let stats: Vec<RgStats> = plan
                            .columns
                            .iter()
                            .map(|c| rg_stats(metadata, rg, c.leaf))
                            .collect();
                        // A file of its own: clones of one handle share the
                        // seek position, which parallel readers would race on.
                        let file = File::open(path).map_err(io)?;
                        // The decoder fails (or panics) on damaged pages: the
                        // file has corrupt data, named with its column and row group.
                        let corrupt = |message: String| {
                            corrupt_in(path, &arrow_meta, &plan.projection_roots(), rg, message)
                        };
                        let built = crate::corrupt::catch_panic(|| {
                            ParquetRecordBatchReaderBuilder::new_with_metadata(
                                file,
                                arrow_meta.clone(),
                            )
                            .with_projection(mask.clone())
                            .with_row_groups(vec![rg])
                            .with_batch_size(crate::reader::DEFAULT_BATCH_SIZE)
                            .build()
                        });
                        let mut reader = match built {
                            Ok(Ok(r)) => r,
                            Ok(Err(e)) => return Err(corrupt(e.to_string())),
                            Err(panic) => return Err(corrupt(decoder_panic(&panic.message))),
                        };
                        let mut row = first_rows.get(rg).copied().unwrap_or(0);
                        loop {
                            let batch = match crate::corrupt::catch_panic(|| reader.next()) {
                                Ok(None) => break,
                                Ok(Some(Ok(b))) => b,
                                Ok(Some(Err(e))) => return Err(corrupt(e.to_string())),
                                Err(panic) => return Err(corrupt(decoder_panic(&panic.message))),
                            };
                            check_batch(plan, &batch, row, &stats, keep, &mut local);
                            row += batch.num_rows() as u64;
                        }
                    }
                })();
                match result {
                    Ok(()) => {
                        if let Ok(mut t) = total.lock() {
                            t.merge(local, keep);
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            }));
        }
        for h in handles {
            h.join()?;
        }
        Ok(())
    })??;
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    total.into_inner().map_err(|_| Error::Internal {
        invariant: "the validation totals are not poisoned once every worker has been joined",
    })
}

fn decoder_panic(panic: &str) -> String {
    format!("the Parquet decoder failed: {panic}")
}

/// The error for a row group whose geometry (or covering) data cannot be
/// decoded: [`Error::CorruptData`] naming the file, the row group and the
/// first leaf column of those read that fails on its own.
fn corrupt_in(
    path: &Path,
    meta: &ArrowReaderMetadata,
    roots: &[usize],
    rg: usize,
    message: String,
) -> Error {
    let schema = meta.metadata().file_metadata().schema_descr();
    let decodes = |leaf: usize| {
        let Ok(file) = File::open(path) else {
            return true;
        };
        let outcome = crate::corrupt::catch_panic(|| {
            let Ok(reader) = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                .with_projection(ProjectionMask::leaves(schema, [leaf]))
                .with_row_groups(vec![rg])
                .build()
            else {
                return false;
            };
            reader.into_iter().all(|b| b.is_ok())
        });
        matches!(outcome, Ok(true))
    };
    let column = (0..schema.num_columns())
        .filter(|leaf| roots.contains(&schema.get_column_root_idx(*leaf)))
        .find(|leaf| !decodes(*leaf))
        .map(|leaf| schema.column(leaf).path().string());
    Error::CorruptData {
        path: path.to_path_buf(),
        column,
        row_group: Some(rg),
        message,
    }
}

/// Checks one batch: `first_row` is the file row of its first row.
fn check_batch(
    plan: &DataPlan,
    batch: &RecordBatch,
    first_row: u64,
    stats: &[RgStats],
    keep: usize,
    acc: &mut Acc,
) {
    for (i, col) in plan.columns.iter().enumerate() {
        let (Some(array), Some(cacc)) = (batch.column_by_name(&col.name), acc.columns.get_mut(i))
        else {
            continue;
        };
        let stats = stats.get(i).cloned().unwrap_or_default();
        let covering = col.covering.as_ref().and_then(|cv| {
            batch
                .column_by_name(&cv.column)
                .and_then(|a| CoveringValues::new(a, cv))
        });
        check_column(col, array, covering.as_ref(), &stats, first_row, keep, cacc);
    }
}

/// A covering column's values as f64, remembering whether they were f32.
struct CoveringValues {
    array: StructArray,
    xy: [Float64Array; 4],
    z: Option<[Float64Array; 2]>,
    f32: bool,
}

impl CoveringValues {
    fn new(array: &ArrayRef, plan: &CoveringPlan) -> Option<Self> {
        let s = array.as_any().downcast_ref::<StructArray>()?.clone();
        let mut f32 = false;
        let mut get = |name: &str| -> Option<Float64Array> {
            let child = s.column_by_name(name)?;
            if child.data_type() == &DataType::Float32 {
                f32 = true;
            }
            if let Some(a) = child.as_any().downcast_ref::<arrow_array::Float32Array>() {
                return Some(a.unary(f64::from));
            }
            child.as_any().downcast_ref::<Float64Array>().cloned()
        };
        let xy = [
            get(&plan.xy[0])?,
            get(&plan.xy[1])?,
            get(&plan.xy[2])?,
            get(&plan.xy[3])?,
        ];
        let z = match &plan.z {
            Some([z0, z1]) => Some([get(z0)?, get(z1)?]),
            None => None,
        };
        Some(Self {
            array: s,
            xy,
            z,
            f32,
        })
    }

    fn is_null(&self, i: usize) -> bool {
        self.array.is_null(i)
    }

    fn all_nan(&self, i: usize) -> bool {
        self.xy.iter().all(|a| a.is_null(i) || a.value(i).is_nan())
    }

    /// Whether row `i`'s box crosses the antimeridian (`xmin > xmax`, neither
    /// null nor NaN).
    fn wraps(&self, i: usize) -> bool {
        let [x0, _, x1, _] = &self.xy;
        !x0.is_null(i) && !x1.is_null(i) && x0.value(i) > x1.value(i)
    }
}

/// Whether a column's `geo` bbox reaches both -180 and 180 in longitude (it
/// wraps, or spans the full range up to [`LON_LAT_TOLERANCE`]), as it must
/// when a row's covering box wraps: otherwise readers that prune on it (see
/// [`crate::reader::rows_may_wrap`]) skip such rows.
///
/// [`LON_LAT_TOLERANCE`]: geoparquet_meta::bbox::LON_LAT_TOLERANCE
fn reaches_antimeridian(b: &BoundingBox) -> bool {
    let edge = 180.0 - geoparquet_meta::bbox::LON_LAT_TOLERANCE;
    b.wraps() || (b.xmin <= -edge && b.xmax >= edge)
}

/// The largest f32 not above `v`, as f64 (outward rounding of a minimum).
fn down32(v: f64) -> f64 {
    let f = v as f32;
    if f64::from(f) > v {
        f64::from(f.next_down())
    } else {
        f64::from(f)
    }
}

/// The smallest f32 not below `v`, as f64.
fn up32(v: f64) -> f64 {
    let f = v as f32;
    if f64::from(f) < v {
        f64::from(f.next_up())
    } else {
        f64::from(f)
    }
}

/// How a covering value compares with the geometry's exact bound.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    Exact,
    Loose,
    Outside,
}

/// Compares a covering bound with the exact bound of the geometry. A bound
/// that contains the geometry is exact when it is the tightest value of its
/// type (f64: the bound itself; f32: the bound rounded outward) or one step
/// of that type further out: writers that round outward by one step to be
/// safe (`nextafter` after a cast) are right, not loose.
#[inline]
fn fit(cov: f64, exact: f64, is_min: bool, f32: bool) -> Fit {
    // Fast path, the common case: the covering holds the bound itself (or,
    // for float32, its outward rounding). Both are within the one-step slack
    // of `fit_slack`, so this decides exactly as the full test does.
    if cov == exact || (f32 && cov == if is_min { down32(exact) } else { up32(exact) }) {
        return Fit::Exact;
    }
    fit_slack(cov, exact, is_min, f32)
}

/// [`fit`] past its fast path: containment, then the one-step slack.
#[inline(never)]
fn fit_slack(cov: f64, exact: f64, is_min: bool, f32: bool) -> Fit {
    if cov.is_nan() {
        return Fit::Outside;
    }
    let contains = if is_min { cov <= exact } else { cov >= exact };
    if !contains {
        return Fit::Outside;
    }
    let slack = match (f32, is_min) {
        (false, true) => exact.next_down(),
        (false, false) => exact.next_up(),
        (true, true) => f64::from((down32(exact) as f32).next_down()),
        (true, false) => f64::from((up32(exact) as f32).next_up()),
    };
    let tight_enough = if is_min { cov >= slack } else { cov <= slack };
    if tight_enough { Fit::Exact } else { Fit::Loose }
}

/// How a row's covering box fits the geometry on X and Y. A covering whose
/// `xmin` is greater than its `xmax` crosses the antimeridian (RFC 7946
/// section 5, which the 1.1 specification allows): it covers `x >= xmin OR
/// x <= xmax`. The geometry fits it when every vertex lies in one of the two
/// parts and every segment joining the two parts does so across the
/// antimeridian (the shorter way round is more than 180 degrees of
/// longitude away from the gap); it is exact when `xmin` is the westernmost
/// longitude east of the gap and `xmax` the easternmost west of it.
fn covering_xy_fit<G: GeometryTrait<T = f64>>(
    cov: &CoveringValues,
    i: usize,
    gb: &BoundingBox,
    geom: &G,
) -> Fit {
    // No allocation per row: the four values read in place.
    let value = |a: &Float64Array| if a.is_null(i) { f64::NAN } else { a.value(i) };
    let [x0, y0, x1, y1] = [
        value(&cov.xy[0]),
        value(&cov.xy[1]),
        value(&cov.xy[2]),
        value(&cov.xy[3]),
    ];
    let y = fit(y0, gb.ymin, true, cov.f32).max(fit(y1, gb.ymax, false, cov.f32));
    // The common case, a plain box (`xmin <= xmax`, or a NaN bound): cheap
    // comparisons only; the segment-aware walk is for wrapping boxes.
    if x0.is_nan() || x1.is_nan() || x0 <= x1 {
        return y.max(fit(x0, gb.xmin, true, cov.f32).max(fit(x1, gb.xmax, false, cov.f32)));
    }
    let (mut east_min, mut west_max, mut outside) = (f64::INFINITY, f64::NEG_INFINITY, false);
    // Which part of the wrapped box a longitude is in: east of xmin (true),
    // west of xmax (false), or in the gap (None).
    let part = |x: f64| {
        if x >= x0 {
            Some(true)
        } else if x <= x1 {
            Some(false)
        } else {
            None
        }
    };
    for_each_x_path(geom, &mut |xs: &[f64]| {
        let mut previous: Option<(f64, bool)> = None;
        for &x in xs.iter().filter(|x| !x.is_nan()) {
            let Some(east) = part(x) else {
                outside = true;
                return;
            };
            if east {
                east_min = east_min.min(x);
            } else {
                west_max = west_max.max(x);
            }
            if let Some((px, peast)) = previous
                && peast != east
                && (x - px).abs() <= 180.0
            {
                outside = true; // the segment crosses the gap, not the antimeridian
                return;
            }
            previous = Some((x, east));
        }
    });
    if outside {
        return Fit::Outside;
    }
    if east_min.is_infinite() || west_max.is_infinite() {
        // All on one side: a plain box would have done.
        return y.max(Fit::Loose);
    }
    y.max(fit(x0, east_min, true, cov.f32))
        .max(fit(x1, west_max, false, cov.f32))
}

/// Calls `f` with the X coordinates of each vertex sequence of a geometry:
/// each point, line string and ring.
fn for_each_x_path<G: GeometryTrait<T = f64>>(g: &G, f: &mut dyn FnMut(&[f64])) {
    fn line<L: LineStringTrait<T = f64>>(l: &L, f: &mut dyn FnMut(&[f64])) {
        let xs: Vec<f64> = l.coords().map(|c| c.x()).collect();
        f(&xs);
    }
    fn polygon<P: PolygonTrait<T = f64>>(p: &P, f: &mut dyn FnMut(&[f64])) {
        if let Some(e) = p.exterior() {
            line(&e, f);
        }
        for r in p.interiors() {
            line(&r, f);
        }
    }
    match g.as_type() {
        GT::Point(p) => {
            if let Some(c) = p.coord() {
                f(&[c.x()]);
            }
        }
        GT::LineString(l) => line(l, f),
        GT::Polygon(p) => polygon(p, f),
        GT::MultiPoint(mp) => {
            for p in mp.points() {
                if let Some(c) = p.coord() {
                    f(&[c.x()]);
                }
            }
        }
        GT::MultiLineString(ml) => {
            for l in ml.line_strings() {
                line(&l, f);
            }
        }
        GT::MultiPolygon(mp) => {
            for p in mp.polygons() {
                polygon(&p, f);
            }
        }
        GT::GeometryCollection(gc) => {
            for c in gc.geometries() {
                for_each_x_path(&c, f);
            }
        }
        // Not in WKB: every vertex on its own.
        _ => geoparquet_meta::geometry::for_each_xy(g, &mut |x, _| f(&[x])),
    }
}
fn check_column(
    col: &ColumnPlan,
    array: &ArrayRef,
    covering: Option<&CoveringValues>,
    stats: &RgStats,
    first_row: u64,
    keep: usize,
    acc: &mut ColumnAcc,
) {
    acc.rows += array.len() as u64;
    // Native: no nulls below the geometry, then WKB for the value checks.
    let converted;
    let values = match col.native {
        Some(t) => {
            let bad = native_nulls_below(array.as_ref());
            if !bad.is_empty() {
                let rows = acc.rules.entry(Rule::NativeNulls).or_default();
                for r in bad {
                    rows.add(first_row + r, keep, || {
                        "a coordinate or a part is null".into()
                    });
                }
                return;
            }
            match crate::native::to_wkb(array.as_ref(), t, &col.name) {
                Ok(b) => {
                    converted = b;
                    crate::wkb_column::WkbColumn::Binary(&converted)
                }
                Err(e) => {
                    acc.rules
                        .entry(Rule::NativeNulls)
                        .or_default()
                        .add(first_row, keep, || e.to_string());
                    return;
                }
            }
        }
        None => match wkb_values(array.as_ref()) {
            Ok(v) => v,
            Err(e) => {
                acc.rules
                    .entry(Rule::Wkb)
                    .or_default()
                    .add(first_row, keep, || e.to_string());
                return;
            }
        },
    };
    for i in 0..values.len() {
        let row = first_row + i as u64;
        let value = values.value(i);
        if let Some(cov) = covering {
            match (value.is_some(), cov.is_null(i)) {
                (true, true) => {
                    acc.rules
                        .entry(Rule::CoveringNull)
                        .or_default()
                        .add(row, keep, || "geometry present, covering null".into())
                }
                (false, false) => {
                    let r = if cov.all_nan(i) {
                        Rule::CoveringNaNForNull
                    } else {
                        Rule::CoveringNull
                    };
                    acc.rules
                        .entry(r)
                        .or_default()
                        .add(row, keep, || "geometry null, covering not null".into());
                }
                _ => {}
            }
        }
        let Some(bytes) = value else { continue };
        let geom = match parse_wkb(bytes) {
            Ok(g) => g,
            Err(m) => {
                acc.rules
                    .entry(Rule::Wkb)
                    .or_default()
                    .add(row, keep, || m.to_string());
                continue;
            }
        };
        let info = geometry_info(&geom);
        let t = info.type_and_dimension;
        let trows = acc.types.entry(t).or_default();
        trows.add(row, keep, String::new);
        if let Some(types) = &stats.types
            && !types.contains(&t.wkb_code())
        {
            acc.rules
                .entry(Rule::StatsType)
                .or_default()
                .add(row, keep, || {
                    format!("\"{t}\" (code {}) is not in {types:?}", t.wkb_code())
                });
        }
        if col.ccw && !orientation_ok(&geom, col.wrap_edges) {
            acc.rules
                .entry(Rule::Orientation)
                .or_default()
                .add(row, keep, || {
                    format!(
                        "a \"{t}\" ring is wound clockwise as exterior or counterclockwise as hole"
                    )
                });
        }
        let Some(gb) = info.bbox else {
            continue; // empty geometry: no coordinates to check
        };
        if let Some(declared) = &col.bbox
            && !inside(declared, &gb, &geom)
        {
            let rows = acc.rules.entry(Rule::Bbox).or_default();
            rows.add(row, keep, || format!("its box is {}", fmt_box(&gb)));
            rows.add_box(&gb);
        }
        if let Some(sb) = &stats.bbox
            && !inside(sb, &gb, &geom)
        {
            acc.rules
                .entry(Rule::StatsBox)
                .or_default()
                .add(row, keep, || {
                    format!("its box {} is not in {}", fmt_box(&gb), fmt_box(sb))
                });
        }
        if (col.geography || col.geographic_crs) && !gb.is_within_lon_lat() {
            let r = if col.geography {
                Rule::GeographyRange
            } else {
                Rule::CrsRange
            };
            let rows = acc.rules.entry(r).or_default();
            rows.add(row, keep, || format!("its box is {}", fmt_box(&gb)));
            rows.add_box(&gb);
        }
        if let Some(cov) = covering
            && !cov.is_null(i)
        {
            if let Some(b) = &col.bbox
                && cov.wraps(i)
                && !reaches_antimeridian(b)
            {
                acc.rules
                    .entry(Rule::BboxWrap)
                    .or_default()
                    .add(row, keep, || {
                        let v: Vec<String> =
                            cov.xy.iter().map(|a| a.value(i).to_string()).collect();
                        format!("covering [{}]", v.join(", "))
                    });
            }
            let mut worst = covering_xy_fit(cov, i, &gb, &geom);
            if let (Some(zc), Some((z0, z1))) = (&cov.z, gb.z()) {
                for (k, (a, e)) in zc.iter().zip([z0, z1]).enumerate() {
                    let v = if a.is_null(i) { f64::NAN } else { a.value(i) };
                    let f = if v.is_nan() {
                        Fit::Outside
                    } else {
                        fit(v, e, k == 0, cov.f32)
                    };
                    worst = worst.max(f);
                }
            }
            let covbox = || {
                let v: Vec<String> = cov
                    .xy
                    .iter()
                    .map(|a| {
                        if a.is_null(i) {
                            "null".into()
                        } else {
                            a.value(i).to_string()
                        }
                    })
                    .collect();
                format!("covering [{}] vs geometry {}", v.join(", "), fmt_box(&gb))
            };
            match worst {
                Fit::Exact => {}
                Fit::Loose => acc
                    .rules
                    .entry(Rule::CoveringLoose)
                    .or_default()
                    .add(row, keep, covbox),
                Fit::Outside => acc
                    .rules
                    .entry(Rule::CoveringOutside)
                    .or_default()
                    .add(row, keep, covbox),
            }
        }
    }
}

/// Whether a geometry with box `gb` lies in `b` (antimeridian-aware: when the
/// box wraps and the geometry's plain box does not fit, each coordinate is tested).
fn inside<G: GeometryTrait<T = f64>>(b: &BoundingBox, gb: &BoundingBox, geom: &G) -> bool {
    if b.contains(gb) {
        return true;
    }
    if !b.wraps() {
        return false;
    }
    // Z (when both know it) must still fit.
    if let (Some((bz0, bz1)), Some((z0, z1))) = (b.z(), gb.z())
        && (z0 < bz0 || z1 > bz1)
    {
        return false;
    }
    let mut ok = true;
    geoparquet_meta::geometry::for_each_xy(geom, &mut |x, y| {
        if ok && !b.contains_xy(x, y) {
            ok = false;
        }
    });
    ok
}

/// Rows (batch-relative) where a native array holds a null below the
/// geometry level.
fn native_nulls_below(array: &dyn Array) -> Vec<u64> {
    let n = array.len();
    let mut owner: Vec<u32> = (0..n)
        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        .collect();
    let mut need: Vec<bool> = (0..n).map(|i| array.is_valid(i)).collect();
    let mut bad: BTreeSet<u32> = BTreeSet::new();
    let mut node: ArrayRef = array.slice(0, n);
    let mut top = true;
    loop {
        if !top {
            for (i, needed) in need.iter().enumerate() {
                if *needed && node.is_null(i) {
                    bad.insert(owner[i]);
                }
            }
        }
        top = false;
        let offsets: Vec<usize>;
        let child: ArrayRef;
        match node.data_type() {
            DataType::List(_) | DataType::LargeList(_) => {
                let parts = list_parts::<i32>(&node).or_else(|| list_parts::<i64>(&node));
                let Some((o, c)) = parts else { break };
                offsets = o;
                child = c;
            }
            DataType::Struct(_) => {
                if let Some(s) = node.as_any().downcast_ref::<StructArray>() {
                    for c in s.columns() {
                        for (i, needed) in need.iter().enumerate() {
                            if *needed && node.is_valid(i) && c.is_null(i) {
                                bad.insert(owner[i]);
                            }
                        }
                    }
                }
                break;
            }
            _ => break,
        }
        let mut child_owner = vec![u32::MAX; child.len()];
        let mut child_need = vec![false; child.len()];
        for i in 0..node.len() {
            let (Some(&a), Some(&b)) = (offsets.get(i), offsets.get(i + 1)) else {
                continue;
            };
            let keep = need[i] && node.is_valid(i);
            for j in a..b.min(child.len()) {
                child_owner[j] = owner[i];
                child_need[j] = keep;
            }
        }
        owner = child_owner;
        need = child_need;
        node = child;
    }
    bad.into_iter().map(u64::from).collect()
}

/// Signed area (shoelace), positive for counterclockwise rings.
fn ring_area<R: LineStringTrait<T = f64>>(ring: &R, wrap: bool) -> f64 {
    let mut pts: Vec<(f64, f64)> = ring.coords().map(|c| (c.x(), c.y())).collect();
    if wrap {
        geoparquet_meta::geometry::unwrap_longitudes(&mut pts);
    }
    let mut s = 0.0;
    for w in pts.windows(2) {
        s += w[0].0 * w[1].1 - w[1].0 * w[0].1;
    }
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        s += last.0 * first.1 - first.0 * last.1;
    }
    s / 2.0
}

fn polygon_ok<P: PolygonTrait<T = f64>>(p: &P, wrap: bool) -> bool {
    if let Some(ext) = p.exterior()
        && ring_area(&ext, wrap) < 0.0
    {
        return false;
    }
    p.interiors().all(|r| ring_area(&r, wrap) <= 0.0)
}

/// Exterior rings counterclockwise, interior rings clockwise (degenerate
/// rings with zero area pass).
fn orientation_ok<G: GeometryTrait<T = f64>>(g: &G, wrap: bool) -> bool {
    match g.as_type() {
        GT::Polygon(p) => polygon_ok(p, wrap),
        GT::MultiPolygon(mp) => mp.polygons().all(|p| polygon_ok(&p, wrap)),
        GT::GeometryCollection(gc) => gc.geometries().all(|c| orientation_ok(&c, wrap)),
        _ => true,
    }
}

/// The offsets (as `usize`) and values of a list array with `O` offsets.
fn list_parts<O: arrow_array::OffsetSizeTrait>(node: &ArrayRef) -> Option<(Vec<usize>, ArrayRef)> {
    let list = node
        .as_any()
        .downcast_ref::<arrow_array::GenericListArray<O>>()?;
    let offsets = list
        .offsets()
        .iter()
        .map(|o| o.to_usize().unwrap_or(0))
        .collect();
    Some((offsets, list.values().clone()))
}
