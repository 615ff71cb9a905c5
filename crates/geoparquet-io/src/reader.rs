//! Reading GeoParquet: an extension trait on upstream
//! [`ArrowReaderBuilder`] (sync and async) whose builder methods carry the
//! features, and a convenient file reader composed of them.
//!
//! [`GeoParquetReaderExt`] adds to any upstream reader builder:
//! [`with_bbox_filter`](GeoParquetReaderExt::with_bbox_filter) (row groups and
//! pages pruned by [`bbox_plan`](GeoParquetReaderExt::bbox_plan), then the
//! exact row filter as an upstream `RowFilter`), and the projections
//! [`with_column_projection`](GeoParquetReaderExt::with_column_projection),
//! [`with_geometry_projection`](GeoParquetReaderExt::with_geometry_projection)
//! and [`without_covering_columns`](GeoParquetReaderExt::without_covering_columns).
//! [`open`]/[`open_with`] (local files) and [`open_async`] (any
//! `AsyncFileReader`; [`GeoParquetStream`] is a `futures::Stream`) compose
//! them, then turn native geometry columns into WKB tagged `geoarrow.wkb`.
//!
//! A bbox query prunes in four steps, each reported in [`ScanStats`]:
//! 1. the whole file, by the primary column's `geo` bbox;
//! 2. row groups, by the covering column's statistics, the Parquet
//!    `GeospatialStatistics` (wraparound-aware) or a native point column's
//!    x/y statistics;
//! 3. pages, by the covering column's page index;
//! 4. rows, by an exact test: the geometry itself must intersect the box
//!    (a covering box test runs first when there is a covering).
//!
//! Covering boxes may cross the antimeridian (`xmin > xmax`, GeoParquet 1.1
//! and RFC 7946 section 5): such a row covers `x >= xmin` and `x <= xmax`,
//! which the min/max statistics of the `xmin` and `xmax` columns do not
//! bound. Steps 2 and 3 therefore prune on X only where no row can wrap: the
//! file rules wrapping out ([`rows_may_wrap`]: a projected CRS, or a
//! non-wrapping `geo` bbox that stops short of ±180 or lies outside
//! longitudes), or the row group's statistics do (`max(xmin) <= min(xmax)`).
//! A row group holding only wrapping rows is pruned by its wrapping box.
//! When a local file leaves wrapping possible, the row groups that only this
//! possibility keeps (and, with a page index, those read anyway) have their
//! covering `xmin`/`xmax` columns read first; those without a wrapping row
//! then prune on longitude, row groups and pages, as before
//! ([`ScanStats::row_groups_probed`]). Streams (`open_async`) do not probe.
//! In step 4, a row whose box (its covering, else the file's bbox) wraps
//! while the geometry's planar box does not fit in it has its edges read the
//! short way across the antimeridian, as the writer of that box meant.

use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StructArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use geoparquet_meta::bbox::LON_LAT_TOLERANCE;
use geoparquet_meta::file::FileFacts;
use geoparquet_meta::{
    BoundingBox, Crs, Encoding, GEO_METADATA_KEY, GeoParquetMetadata, GeometryType,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowPredicate, ArrowPredicateFn, ArrowReaderBuilder, ArrowReaderOptions,
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowFilter, RowSelection,
};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::Statistics;

use crate::error::{Error, Result};
use crate::footer::facts_from_metadata;
use crate::native;
use crate::wkb_column::wkb_values;
use geoparquet_meta::geometry::{geometry_info, intersects_with_edges, parse_wkb};

/// Default rows per batch.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// Options of [`open_with`], [`open_async`] and `store::Location::open_with`.
///
/// ```
/// use geoparquet_io::meta::BoundingBox;
/// use geoparquet_io::reader::ReadOptions;
///
/// let options = ReadOptions::default()
///     .with_bbox(BoundingBox::new(-20.0, -40.0, 60.0, 60.0))
///     .with_columns(vec!["name".into(), "geometry".into()])
///     .with_batch_size(1024);
/// assert!(options.exact && !options.keep_covering);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Keep only rows whose primary geometry intersects this box
    /// (`xmin > xmax` crosses the antimeridian). Default: `None`, every row.
    pub bbox: Option<BoundingBox>,
    /// Root columns to read, by name (geometry columns are not added
    /// implicitly). Default: `None`, every column but the coverings.
    pub columns: Option<Vec<String>>,
    /// Rows per batch. Default: [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
    /// Test the geometry itself, not only its bbox. Default: `true`.
    pub exact: bool,
    /// Keep covering columns in the output. Default: `false` (they describe
    /// the stored file, a writer recomputes them).
    pub keep_covering: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            bbox: None,
            columns: None,
            batch_size: DEFAULT_BATCH_SIZE,
            exact: true,
            keep_covering: false,
        }
    }
}

impl ReadOptions {
    /// The same options keeping only rows that intersect `bbox` ([`bbox`](Self::bbox)).
    #[must_use]
    pub fn with_bbox(mut self, bbox: BoundingBox) -> Self {
        self.bbox = Some(bbox);
        self
    }

    /// The same options reading only these root [`columns`](Self::columns).
    #[must_use]
    pub fn with_columns(mut self, columns: Vec<String>) -> Self {
        self.columns = Some(columns);
        self
    }

    /// The same options with another [`batch_size`](Self::batch_size).
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// The same options with another [`exact`](Self::exact).
    #[must_use]
    pub fn with_exact(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    /// The same options with another [`keep_covering`](Self::keep_covering).
    #[must_use]
    pub fn with_keep_covering(mut self, keep_covering: bool) -> Self {
        self.keep_covering = keep_covering;
        self
    }
}

/// What a scan skipped and read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Row groups in the file.
    pub row_groups_total: usize,
    /// Row groups left after pruning.
    pub row_groups_read: usize,
    /// Compressed bytes of all row groups.
    pub bytes_total: u64,
    /// Compressed bytes of pruned row groups.
    pub bytes_skipped: u64,
    /// Rows in the file.
    pub rows_total: u64,
    /// Rows skipped by the page index (within read row groups).
    pub rows_skipped_by_pages: u64,
    /// Rows returned so far.
    pub rows_returned: u64,
    /// Row groups whose covering `xmin`/`xmax` columns were read (local files
    /// only) to prove that none of their rows crosses the antimeridian, so that
    /// longitude could prune them (see the module documentation).
    pub row_groups_probed: usize,
}

/// Which source pruned row groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoxSource<'a> {
    /// `may_wrap`: rows may hold covering boxes crossing the antimeridian.
    Covering {
        column: &'a str,
        may_wrap: bool,
    },
    GeoStats {
        leaf: usize,
    },
    NativeXy {
        x: usize,
        y: usize,
    },
    None,
}

/// GeoParquet additions to the upstream reader builders
/// ([`ParquetRecordBatchReaderBuilder`] and, with feature `async`,
/// `ParquetRecordBatchStreamBuilder`): the file's metadata, the bbox plan and
/// builder methods that compose like the upstream ones.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::meta::BoundingBox;
/// use geoparquet_io::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
/// use geoparquet_io::reader::GeoParquetReaderExt;
///
/// let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path)?)?;
/// let meta = builder.geoparquet_metadata()?.expect("a GeoParquet file");
/// let reader = builder
///     .with_bbox_filter(&meta, BoundingBox::new(-20.0, -40.0, 60.0, 60.0))
///     .with_column_projection(&["name"])?
///     .build()?;
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<usize, _>>()?;
/// assert_eq!(rows, 2); // Paris, Nairobi
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait GeoParquetReaderExt: Sized {
    /// The file's GeoParquet metadata: the `geo` key, else metadata
    /// synthesised from native GEOMETRY/GEOGRAPHY columns; `None` if neither.
    fn geoparquet_metadata(&self) -> Result<Option<GeoParquetMetadata>>;

    /// Row groups (and, with the page index loaded, rows) that may hold
    /// geometries of `column` intersecting `bbox`.
    fn bbox_plan(&self, meta: &GeoParquetMetadata, column: &str, bbox: &BoundingBox) -> ScanPlan;

    /// Reads only the row groups and rows of `plan` (from
    /// [`bbox_plan`](Self::bbox_plan)).
    #[must_use]
    fn with_scan_plan(self, plan: ScanPlan) -> Self;

    /// Sets the row filter (replacing any other): rows whose primary geometry
    /// may intersect `bbox`, by its covering box when there is one and, when
    /// `exact`, by the geometry itself. The filtered columns are decoded once
    /// for the filter; only the rows it keeps are decoded for the output.
    #[must_use]
    fn with_intersecting_row_filter(
        self,
        meta: &GeoParquetMetadata,
        bbox: BoundingBox,
        exact: bool,
    ) -> Self;

    /// Keeps only rows whose primary geometry intersects `bbox`: the
    /// [`bbox_plan`](Self::bbox_plan) of the primary column
    /// ([`with_scan_plan`](Self::with_scan_plan)) and the exact
    /// [`with_intersecting_row_filter`](Self::with_intersecting_row_filter).
    /// Load the page index (`ArrowReaderOptions::with_page_index_policy`) to prune pages.
    #[must_use]
    fn with_bbox_filter(self, meta: &GeoParquetMetadata, bbox: BoundingBox) -> Self;

    /// Reads only the named root columns (in the file's order); a name that
    /// is not a root column is [`Error::NoSuchColumn`]. Sets the projection,
    /// as upstream `with_projection` does.
    fn with_column_projection<S: AsRef<str>>(self, columns: &[S]) -> Result<Self>;

    /// Reads only the geometry columns of `meta`.
    #[must_use]
    fn with_geometry_projection(self, meta: &GeoParquetMetadata) -> Self;

    /// Reads every root column but the covering columns of `meta` (they
    /// describe the stored file; a writer recomputes them).
    #[must_use]
    fn without_covering_columns(self, meta: &GeoParquetMetadata) -> Self;
}

/// The result of pruning.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPlan {
    /// Row groups to read.
    pub row_groups: Vec<usize>,
    /// Rows to read within them (from the page index), if it pruned anything.
    pub selection: Option<RowSelection>,
    /// Counts.
    pub stats: ScanStats,
}

fn facts_meta(metadata: &ParquetMetaData) -> (FileFacts, Result<Option<GeoParquetMetadata>>) {
    let facts = facts_from_metadata(metadata);
    let meta = facts.geoparquet_metadata().transpose();
    (
        facts,
        meta.map_err(|source| Error::Meta {
            path: "<parquet>".into(),
            source,
        }),
    )
}

impl<T> GeoParquetReaderExt for ArrowReaderBuilder<T> {
    fn geoparquet_metadata(&self) -> Result<Option<GeoParquetMetadata>> {
        facts_meta(self.metadata()).1
    }

    fn bbox_plan(&self, meta: &GeoParquetMetadata, column: &str, bbox: &BoundingBox) -> ScanPlan {
        plan(self.metadata(), meta, column, bbox, &[])
    }

    fn with_scan_plan(self, plan: ScanPlan) -> Self {
        let builder = self.with_row_groups(plan.row_groups);
        match plan.selection {
            Some(selection) => builder.with_row_selection(selection),
            None => builder,
        }
    }

    fn with_intersecting_row_filter(
        self,
        meta: &GeoParquetMetadata,
        bbox: BoundingBox,
        exact: bool,
    ) -> Self {
        let predicates = intersecting_predicates(&self, meta, bbox, exact);
        if predicates.is_empty() {
            self
        } else {
            self.with_row_filter(RowFilter::new(predicates))
        }
    }

    fn with_bbox_filter(self, meta: &GeoParquetMetadata, bbox: BoundingBox) -> Self {
        let plan = self.bbox_plan(meta, &meta.primary_column, &bbox);
        self.with_scan_plan(plan)
            .with_intersecting_row_filter(meta, bbox, true)
    }

    fn with_column_projection<S: AsRef<str>>(self, columns: &[S]) -> Result<Self> {
        let roots = named_roots(self.schema(), columns)?;
        let mask = ProjectionMask::roots(self.parquet_schema(), roots);
        Ok(self.with_projection(mask))
    }

    fn with_geometry_projection(self, meta: &GeoParquetMetadata) -> Self {
        let roots: Vec<usize> = (0..self.schema().fields().len())
            .filter(|&i| {
                self.schema()
                    .fields()
                    .get(i)
                    .is_some_and(|f| meta.columns.contains_key(f.name()))
            })
            .collect();
        let mask = ProjectionMask::roots(self.parquet_schema(), roots);
        self.with_projection(mask)
    }

    fn without_covering_columns(self, meta: &GeoParquetMetadata) -> Self {
        let roots = non_covering_roots(self.schema(), meta);
        let mask = ProjectionMask::roots(self.parquet_schema(), roots);
        self.with_projection(mask)
    }
}

/// The indices of the named root columns, sorted, without repeats.
fn named_roots<S: AsRef<str>>(schema: &Schema, columns: &[S]) -> Result<Vec<usize>> {
    let mut roots = Vec::with_capacity(columns.len());
    for c in columns {
        let c = c.as_ref();
        let i = schema
            .fields()
            .iter()
            .position(|f| f.name() == c)
            .ok_or_else(|| Error::NoSuchColumn {
                column: c.to_owned(),
                available: schema.fields().iter().map(|f| f.name().clone()).collect(),
            })?;
        roots.push(i);
    }
    roots.sort_unstable();
    roots.dedup();
    Ok(roots)
}

/// The names of the covering columns of `meta`.
fn covering_names(meta: &GeoParquetMetadata) -> Vec<&str> {
    meta.columns
        .values()
        .filter_map(|c| c.covering.as_ref().and_then(|cv| cv.bbox.column()))
        .collect()
}

/// The indices of every root column but the coverings.
fn non_covering_roots(schema: &Schema, meta: &GeoParquetMetadata) -> Vec<usize> {
    let covering = covering_names(meta);
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !covering.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect()
}

fn leaf_index(metadata: &ParquetMetaData, path: &[&str]) -> Option<usize> {
    metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| {
            c.path()
                .parts()
                .iter()
                .map(String::as_str)
                .eq(path.iter().copied())
        })
}

fn stat_range(s: Option<&Statistics>) -> Option<(f64, f64)> {
    match s? {
        Statistics::Double(v) => Some((*v.min_opt()?, *v.max_opt()?)),
        Statistics::Float(v) => Some((f64::from(*v.min_opt()?), f64::from(*v.max_opt()?))),
        _ => None,
    }
}

fn covering_leaves(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
) -> Option<[usize; 4]> {
    let cov = &meta.columns.get(column)?.covering.as_ref()?.bbox;
    let idx = |p: &Vec<String>| -> Option<usize> {
        let parts: Vec<&str> = p.iter().map(String::as_str).collect();
        leaf_index(metadata, &parts)
    };
    Some([
        idx(&cov.xmin)?,
        idx(&cov.ymin)?,
        idx(&cov.xmax)?,
        idx(&cov.ymax)?,
    ])
}

fn box_source<'a>(
    metadata: &ParquetMetaData,
    meta: &'a GeoParquetMetadata,
    column: &'a str,
) -> BoxSource<'a> {
    if let Some(cov) = meta.columns.get(column).and_then(|c| c.covering.as_ref())
        && covering_leaves(metadata, meta, column).is_some()
        && let Some(c) = cov.bbox.column()
    {
        return BoxSource::Covering {
            column: c,
            may_wrap: rows_may_wrap(meta, column) || file_bbox_contradicted(metadata, meta, column),
        };
    }
    if let Some(leaf) = leaf_index(metadata, &[column]) {
        let has_geo_stats = metadata.row_groups().iter().any(|rg| {
            rg.columns()
                .get(leaf)
                .is_some_and(|c| c.geo_statistics().is_some())
        });
        if has_geo_stats {
            return BoxSource::GeoStats { leaf };
        }
    }
    if let Some(col) = meta.columns.get(column)
        && col.encoding == Encoding::Native(GeometryType::Point)
        && let (Some(x), Some(y)) = (
            leaf_index(metadata, &[column, "x"]),
            leaf_index(metadata, &[column, "y"]),
        )
    {
        return BoxSource::NativeXy { x, y };
    }
    BoxSource::None
}

/// Whether rows of `column` may have covering boxes that cross the
/// antimeridian (`xmin > xmax`). Only longitudes wrap: not when the CRS is
/// known not to be geographic, nor when the column's `geo` bbox does not wrap
/// and either stops short of ±180 (a wrapping row reaches both) or, for a CRS
/// of unknown kind, lies outside the longitude/latitude range. A wrapping
/// bbox, or none, leaves wrapping rows possible.
///
/// ```
/// use geoparquet_io::reader::rows_may_wrap;
/// use geoparquet_io::meta::{BoundingBox, GeoParquetMetadata};
///
/// let mut meta = GeoParquetMetadata::from_json_str(
///     r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#,
/// )?;
/// assert!(rows_may_wrap(&meta, "geometry")); // no bbox
/// let col = meta.columns.get_mut("geometry").unwrap();
/// col.bbox = Some(BoundingBox::new(-10.0, 35.0, 30.0, 60.0));
/// assert!(!rows_may_wrap(&meta, "geometry")); // Europe: no row reaches ±180
/// let col = meta.columns.get_mut("geometry").unwrap();
/// col.bbox = Some(BoundingBox::new(170.0, -20.0, -170.0, 20.0));
/// assert!(rows_may_wrap(&meta, "geometry")); // the file itself wraps
/// # Ok::<(), geoparquet_io::meta::Error>(())
/// ```
pub fn rows_may_wrap(meta: &GeoParquetMetadata, column: &str) -> bool {
    let Some(col) = meta.columns.get(column) else {
        return true;
    };
    let geographic = col.crs.is_geographic();
    if geographic == Some(false) {
        return false;
    }
    match col.bbox {
        Some(b) if b.is_usable() && !b.wraps() => {
            let edge = 180.0 - LON_LAT_TOLERANCE;
            let short_of_antimeridian = b.xmin > -edge || b.xmax < edge;
            let not_longitudes = geographic.is_none() && !b.is_within_lon_lat();
            !(short_of_antimeridian || not_longitudes)
        }
        _ => true,
    }
}

/// Whether the column's non-wrapping `geo` bbox, which does not span ±180,
/// is contradicted by a row group whose covering statistics say that every
/// row in it wraps (`min(xmin) > max(xmax)`): a bbox computed from the
/// planar coordinates beside coverings following RFC 7946. Such a bbox
/// neither rules wrapping rows out nor prunes the file.
fn file_bbox_contradicted(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
) -> bool {
    let Some(b) = meta.columns.get(column).and_then(|c| c.bbox) else {
        return false;
    };
    let edge = 180.0 - LON_LAT_TOLERANCE;
    if !b.is_usable() || b.wraps() || (b.xmin <= -edge && b.xmax >= edge) {
        return false;
    }
    let Some([x0, _, x1, _]) = covering_leaves(metadata, meta, column) else {
        return false;
    };
    metadata.row_groups().iter().any(|rg| {
        let r = |leaf: usize| stat_range(rg.columns().get(leaf)?.statistics());
        matches!((r(x0), r(x1)), (Some((min_xmin, _)), Some((_, max_xmax))) if min_xmin > max_xmax)
    })
}

/// The box of row group `rg` from `source`, `None` when unknown.
fn row_group_box(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
    source: BoxSource<'_>,
    rg: usize,
) -> Option<BoundingBox> {
    let rgm = metadata.row_groups().get(rg)?;
    match source {
        BoxSource::Covering { may_wrap, .. } => {
            let [x0, y0, x1, y1] = covering_leaves(metadata, meta, column)?;
            let r = |leaf: usize| stat_range(rgm.columns().get(leaf)?.statistics());
            let (xmin, max_xmin) = r(x0)?;
            let (ymin, _) = r(y0)?;
            let (min_xmax, xmax) = r(x1)?;
            let (_, ymax) = r(y1)?;
            // An ordinary row has xmin <= xmax, so `xmin > xmax` here means
            // that every row wraps: the wrapping box holds them all. With
            // ordinary rows beside possibly wrapping ones, X is unbounded.
            if may_wrap && max_xmin > min_xmax && xmin <= xmax {
                return Some(BoundingBox::new(
                    f64::NEG_INFINITY,
                    ymin,
                    f64::INFINITY,
                    ymax,
                ));
            }
            Some(BoundingBox::new(xmin, ymin, xmax, ymax))
        }
        BoxSource::GeoStats { leaf } => {
            let b = rgm.columns().get(leaf)?.geo_statistics()?.bounding_box()?;
            Some(BoundingBox::new(
                b.get_xmin(),
                b.get_ymin(),
                b.get_xmax(),
                b.get_ymax(),
            ))
        }
        BoxSource::NativeXy { x, y } => {
            let (xmin, xmax) = stat_range(rgm.columns().get(x)?.statistics())?;
            let (ymin, ymax) = stat_range(rgm.columns().get(y)?.statistics())?;
            Some(BoundingBox::new(xmin, ymin, xmax, ymax))
        }
        BoxSource::None => None,
    }
}

/// `wrap_free`: row groups whose data showed no wrapping covering.
fn plan(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
    bbox: &BoundingBox,
    wrap_free: &[usize],
) -> ScanPlan {
    let n = metadata.num_row_groups();
    let sizes: Vec<u64> = metadata
        .row_groups()
        .iter()
        .map(|rg| u64::try_from(rg.compressed_size()).unwrap_or(0))
        .collect();
    let mut stats = ScanStats {
        row_groups_total: n,
        bytes_total: sizes.iter().sum(),
        rows_total: u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0),
        ..ScanStats::default()
    };
    let file_box = meta.columns.get(column).and_then(|c| c.bbox);
    let file_misses = file_box.is_some_and(|b| b.is_usable() && !b.intersects(bbox))
        && !file_bbox_contradicted(metadata, meta, column);
    let file_source = box_source(metadata, meta, column);
    let source = |rg: usize| match file_source {
        BoxSource::Covering { column, .. } if wrap_free.contains(&rg) => BoxSource::Covering {
            column,
            may_wrap: false,
        },
        other => other,
    };
    let row_groups: Vec<usize> = (0..n)
        .filter(|&rg| {
            !file_misses
                && row_group_box(metadata, meta, column, source(rg), rg)
                    .is_none_or(|b| b.intersects(bbox))
        })
        .collect();
    stats.row_groups_read = row_groups.len();
    stats.bytes_skipped = (0..n)
        .filter(|rg| !row_groups.contains(rg))
        .map(|rg| sizes.get(rg).copied().unwrap_or(0))
        .sum();
    let selection = if let BoxSource::Covering { may_wrap, .. } = file_source {
        // X pages prune only in row groups that cannot hold wrapping rows.
        let x_prunable: Vec<bool> = row_groups
            .iter()
            .map(
                |&rg| match row_group_box(metadata, meta, column, source(rg), rg) {
                    Some(b) => !b.wraps() && b.xmin.is_finite() && b.xmax.is_finite(),
                    None => !may_wrap || wrap_free.contains(&rg),
                },
            )
            .collect();
        page_selection(metadata, meta, column, bbox, &row_groups, &x_prunable)
    } else {
        None
    };
    if let Some(sel) = &selection {
        let rows_in_groups: usize = row_groups
            .iter()
            .filter_map(|rg| metadata.row_groups().get(*rg))
            .map(|rg| usize::try_from(rg.num_rows()).unwrap_or(0))
            .sum();
        stats.rows_skipped_by_pages = (rows_in_groups.saturating_sub(sel.row_count())) as u64;
    }
    ScanPlan {
        row_groups,
        selection,
        stats,
    }
}

/// A covering leaf and the test its page min/max must pass for the page to be read.
type PageTest = (usize, Box<dyn Fn(f64, f64) -> bool>);

fn page_minmax(index: &ColumnIndexMetaData, page: usize) -> Option<(f64, f64)> {
    // A damaged index (no statistics: `NONE`, or fewer pages than the offset
    // index) prunes nothing; upstream's accessors panic on both.
    let has = |pages: u64| u64::try_from(page).is_ok_and(|p| p < pages);
    match index {
        ColumnIndexMetaData::DOUBLE(i) if has(i.num_pages()) && !i.is_null_page(page) => {
            Some((*i.min_values().get(page)?, *i.max_values().get(page)?))
        }
        ColumnIndexMetaData::FLOAT(i) if has(i.num_pages()) && !i.is_null_page(page) => Some((
            f64::from(*i.min_values().get(page)?),
            f64::from(*i.max_values().get(page)?),
        )),
        _ => None,
    }
}

/// Row ranges (relative to the selected row groups, concatenated) whose
/// covering pages may match; `None` when there is no page index. The X tests
/// apply only to row groups whose `x_prunable` is true (no wrapping rows: the
/// per-column page tests assume `xmin <= xmax` in every row).
fn page_selection(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
    bbox: &BoundingBox,
    row_groups: &[usize],
    x_prunable: &[bool],
) -> Option<RowSelection> {
    let column_index = metadata.column_index()?;
    let offset_index = metadata.offset_index()?;
    let [x0, y0, x1, y1] = covering_leaves(metadata, meta, column)?;
    // Per leaf, the page test and whether it is an X test; X is skipped for
    // queries crossing the antimeridian.
    let mut tests: Vec<(PageTest, bool)> = vec![
        (
            (
                y0,
                Box::new({
                    let q = bbox.ymax;
                    move |min, _| min <= q
                }),
            ),
            false,
        ),
        (
            (
                y1,
                Box::new({
                    let q = bbox.ymin;
                    move |_, max| max >= q
                }),
            ),
            false,
        ),
    ];
    if !bbox.wraps() && x_prunable.contains(&true) {
        let (qx0, qx1) = (bbox.xmin, bbox.xmax);
        tests.push(((x0, Box::new(move |min, _| min <= qx1)), true));
        tests.push(((x1, Box::new(move |_, max| max >= qx0)), true));
    }
    let mut total: Option<RowSelection> = None;
    for ((leaf, test), is_x) in &tests {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut base = 0usize;
        for (i, &rg) in row_groups.iter().enumerate() {
            let rg_rows = usize::try_from(metadata.row_groups().get(rg)?.num_rows()).ok()?;
            if *is_x && !x_prunable.get(i).copied().unwrap_or(false) {
                if rg_rows > 0 {
                    ranges.push(base..base + rg_rows);
                }
                base += rg_rows;
                continue;
            }
            let ci = column_index.get(rg)?.get(*leaf)?;
            let oi = offset_index.get(rg)?.get(*leaf)?;
            let locs = oi.page_locations();
            for (p, loc) in locs.iter().enumerate() {
                let start = usize::try_from(loc.first_row_index).ok()?;
                let end = match locs.get(p + 1) {
                    Some(next) => usize::try_from(next.first_row_index).ok()?,
                    None => rg_rows,
                };
                let keep = page_minmax(ci, p)
                    .is_none_or(|(min, max)| test(min, max) || min.is_nan() || max.is_nan());
                if keep && end > start {
                    ranges.push(base + start..base + end);
                }
            }
            base += rg_rows;
        }
        let sel = RowSelection::from_consecutive_ranges(ranges.into_iter(), base);
        total = Some(match total {
            Some(t) => t.intersection(&sel),
            None => sel,
        });
    }
    total
}

/// Turns native columns into WKB and tags geometry columns as `geoarrow.wkb`
/// with their CRS; drops the `geo` key from the schema metadata.
#[derive(Debug, Clone)]
struct OutputShape {
    schema: SchemaRef,
    /// (output index, native encoding type if the stored column is native)
    geometry: Vec<(usize, Option<GeometryType>, String)>,
}

fn extension_metadata(col: &geoparquet_meta::GeoParquetColumnMetadata) -> String {
    let mut m = serde_json::Map::new();
    match &col.crs {
        Crs::Default => {
            m.insert("crs".into(), serde_json::Value::String("OGC:CRS84".into()));
        }
        Crs::Unknown => {}
        other => {
            if let Some(v) = other.to_json() {
                m.insert("crs".into(), v);
            }
        }
    }
    let edges = col.effective_edges();
    if edges.is_non_planar() {
        m.insert(
            "edges".into(),
            serde_json::Value::String(edges.as_str().to_owned()),
        );
    }
    serde_json::Value::Object(m).to_string()
}

fn output_shape(schema: &Schema, meta: &GeoParquetMetadata) -> OutputShape {
    let mut geometry = Vec::new();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match meta.columns.get(f.name()) {
            Some(col) => {
                let native = match &col.encoding {
                    Encoding::Native(t)
                        if !matches!(
                            f.data_type(),
                            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                        ) =>
                    {
                        Some(*t)
                    }
                    _ => None,
                };
                geometry.push((i, native, f.name().clone()));
                let dt = if native.is_some() {
                    DataType::Binary
                } else {
                    f.data_type().clone()
                };
                let mut md = f.metadata().clone();
                md.insert("ARROW:extension:name".into(), "geoarrow.wkb".into());
                md.insert("ARROW:extension:metadata".into(), extension_metadata(col));
                Field::new(f.name(), dt, f.is_nullable()).with_metadata(md)
            }
            None => f.as_ref().clone(),
        })
        .collect();
    let mut md = schema.metadata().clone();
    md.remove(GEO_METADATA_KEY);
    OutputShape {
        schema: Arc::new(Schema::new_with_metadata(fields, md)),
        geometry,
    }
}

impl OutputShape {
    /// Converts a decoded batch and counts its rows.
    fn finish<E>(
        &self,
        batch: std::result::Result<RecordBatch, E>,
        stats: &mut ScanStats,
    ) -> Result<RecordBatch>
    where
        Error: From<E>,
    {
        let out = batch.map_err(Error::from).and_then(|b| self.convert(b));
        if let Ok(b) = &out {
            stats.rows_returned += b.num_rows() as u64;
        }
        out
    }

    fn convert(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
        for (i, native, name) in &self.geometry {
            if let (Some(t), Some(c)) = (native, cols.get(*i)) {
                let wkb = native::to_wkb(c.as_ref(), *t, name)?;
                cols[*i] = Arc::new(wkb);
            }
        }
        Ok(RecordBatch::try_new(self.schema.clone(), cols)?)
    }
}

/// A GeoParquet file being read: batches with geometry as WKB.
pub struct GeoParquetReader {
    inner: ParquetRecordBatchReader,
    shape: OutputShape,
    metadata: GeoParquetMetadata,
    stats: ScanStats,
    /// The file, for errors.
    path: std::path::PathBuf,
}

impl std::fmt::Debug for GeoParquetReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoParquetReader")
            .field("schema", &self.shape.schema)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl GeoParquetReader {
    /// The file's GeoParquet metadata (covering entries of dropped covering columns removed).
    pub fn metadata(&self) -> &GeoParquetMetadata {
        &self.metadata
    }

    /// Pruning and row counts so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }
}

impl Iterator for GeoParquetReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        // The decoder panics on some damaged pages: a corrupt-data error, not a crash.
        let batch = match crate::corrupt::catch_panic(|| self.inner.next()) {
            Ok(batch) => batch?,
            Err(panic) => Err(ArrowError::ExternalError(
                format!("the Parquet decoder failed: {panic}").into(),
            )),
        };
        let batch = batch.map_err(|e| decode_error(&self.path, e));
        Some(self.shape.finish(batch, &mut self.stats))
    }
}

impl GeoParquetReader {
    /// The schema of the batches returned.
    pub fn schema(&self) -> SchemaRef {
        self.shape.schema.clone()
    }

    /// The same batches as an arrow [`RecordBatchReader`](arrow_array::RecordBatchReader)
    /// (errors as `ArrowError::ExternalError` holding this crate's [`Error`]), for
    /// APIs that take one (arrow IPC, FFI streams, DataFusion).
    ///
    /// ```
    /// use geoparquet_io::arrow_array::RecordBatchReader;
    ///
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
    /// let reader = geoparquet_io::reader::open(path)?.into_record_batch_reader();
    /// assert!(reader.schema().field_with_name("geometry").is_ok());
    /// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<usize, _>>()?;
    /// assert_eq!(rows, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_record_batch_reader(self) -> impl arrow_array::RecordBatchReader + Send {
        let schema = self.schema();
        arrow_array::RecordBatchIterator::new(self.map(|b| b.map_err(ArrowError::from)), schema)
    }
}

/// The covering's four columns as f64, resolved once per batch.
fn covering_columns(array: &StructArray) -> Option<[arrow_array::Float64Array; 4]> {
    let get = |name: &str| -> Option<arrow_array::Float64Array> {
        let c = array.column_by_name(name)?;
        match c.data_type() {
            DataType::Float64 => Some(c.as_primitive::<Float64Type>().clone()),
            DataType::Float32 => Some(
                c.as_primitive::<Float32Type>()
                    .unary::<_, Float64Type>(f64::from),
            ),
            _ => None,
        }
    };
    Some([get("xmin")?, get("ymin")?, get("xmax")?, get("ymax")?])
}

/// Row `row` of the covering's four columns, `None` when null or not a number.
fn covering_row(c: &[arrow_array::Float64Array; 4], row: usize) -> Option<BoundingBox> {
    let v =
        |a: &arrow_array::Float64Array| (row < a.len() && a.is_valid(row)).then(|| a.value(row));
    let b = BoundingBox::new(v(&c[0])?, v(&c[1])?, v(&c[2])?, v(&c[3])?);
    b.is_usable().then_some(b)
}

/// Whether a planar-edged geometry whose box `hint` crosses the antimeridian
/// must have its edges read the short way across it: the box wraps and the
/// geometry's planar extent does not fit in it (a line from 175 to -175
/// inside the box [175, -175] goes through 180, not through 0).
fn edges_cross_antimeridian<G: geo_traits::GeometryTrait<T = f64>>(
    g: &G,
    hint: &BoundingBox,
) -> bool {
    if !hint.wraps() {
        return false;
    }
    match geometry_info(g).bbox {
        Some(b) => !hint.contains(&BoundingBox::new(b.xmin, b.ymin, b.xmax, b.ymax)),
        None => false,
    }
}

/// Per row: may the covering box meet the query? Unknown (null, NaN,
/// unreadable) counts as yes, so only the exact test decides.
fn covering_filter(array: &StructArray, bbox: &BoundingBox) -> BooleanArray {
    let Some([x0, y0, x1, y1]) = covering_columns(array) else {
        return BooleanArray::from(vec![true; array.len()]);
    };
    (0..array.len())
        .map(|row| {
            if array.is_null(row) {
                return Some(false);
            }
            if [&x0, &y0, &x1, &y1].iter().any(|c| c.is_null(row)) {
                return Some(true);
            }
            let b = BoundingBox::new(x0.value(row), y0.value(row), x1.value(row), y1.value(row));
            Some(b.intersects(bbox))
        })
        .collect()
}

/// An error building an upstream reader: ours (from a row filter, which the
/// sync reader runs while it is built) as they are, the others as parquet's.
fn build_error(e: parquet::errors::ParquetError) -> Error {
    match e {
        parquet::errors::ParquetError::External(b) => match b.downcast::<ArrowError>() {
            Ok(arrow) => match *arrow {
                ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
                    Ok(ours) => *ours,
                    Err(other) => Error::Parquet(parquet::errors::ParquetError::External(
                        Box::new(ArrowError::ExternalError(other)),
                    )),
                },
                other => Error::Parquet(parquet::errors::ParquetError::External(Box::new(other))),
            },
            Err(other) => Error::Parquet(parquet::errors::ParquetError::External(other)),
        },
        other => Error::Parquet(other),
    }
}

/// An error of the upstream decoder: ours (from a row filter) as they are,
/// the decoder's as corrupt data in `path`.
fn decode_error(path: &Path, e: ArrowError) -> Error {
    match e {
        ArrowError::ExternalError(b) if b.is::<Error>() => match b.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::Arrow(ArrowError::ExternalError(other)),
        },
        other => Error::CorruptData {
            path: path.to_path_buf(),
            column: None,
            row_group: None,
            message: other.to_string(),
        },
    }
}

/// The geometry types present in each geometry column, found by reading the
/// geometry columns of the whole file (for files whose metadata does not list them).
pub fn scan_geometry_types(
    path: &Path,
) -> Result<
    std::collections::BTreeMap<
        String,
        std::collections::BTreeSet<geoparquet_meta::GeometryTypeAndDimension>,
    >,
> {
    let footer = crate::read_footer(path)?;
    let meta = footer.geoparquet_metadata(path)?;
    let options = ReadOptions::default().with_columns(meta.columns.keys().cloned().collect());
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<_>> =
        std::collections::BTreeMap::new();
    let mut row = 0u64;
    for batch in open_with(path, options)? {
        let batch = batch?;
        for name in meta.columns.keys() {
            let Some(col) = batch.column_by_name(name) else {
                continue;
            };
            let values = wkb_values(col.as_ref())?;
            let set = out.entry(name.clone()).or_default();
            for i in 0..values.len() {
                if let Some(bytes) = values.value(i) {
                    let info = geoparquet_meta::geometry::wkb_info(bytes).map_err(|e| {
                        Error::InvalidWkb {
                            column: name.clone(),
                            row: row + i as u64,
                            message: e.to_string(),
                        }
                    })?;
                    set.insert(info.type_and_dimension);
                }
            }
        }
        row += batch.num_rows() as u64;
    }
    Ok(out)
}

/// Opens a local GeoParquet file for reading: every row and every column
/// but the coverings, geometry as WKB ([`open_with`] with the default options).
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let reader = geoparquet_io::reader::open(path)?;
/// assert_eq!(reader.metadata().primary_column, "geometry");
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<usize, _>>()?;
/// assert_eq!(rows, 7);
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<GeoParquetReader> {
    open_with(path, ReadOptions::default())
}

/// Opens a local GeoParquet file for reading with `options`: the extension's
/// builder methods composed ([`GeoParquetReaderExt`]), plus, for a bbox over
/// coverings that may cross the antimeridian, the probe of the module
/// documentation. Damaged footers and pages are errors naming `path`.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::reader::{open_with, ReadOptions};
/// use geoparquet_io::meta::BoundingBox;
///
/// // Cities in Europe and Africa only.
/// let options = ReadOptions::default().with_bbox(BoundingBox::new(-20.0, -40.0, 60.0, 60.0));
/// let reader = open_with(path, options)?;
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<usize, _>>()?;
/// assert_eq!(rows, 2); // Paris, Nairobi
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn open_with(path: impl AsRef<Path>, options: ReadOptions) -> Result<GeoParquetReader> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader_options = ArrowReaderOptions::new()
        .with_page_index_policy(PageIndexPolicy::from(options.bbox.is_some()));
    // A damaged footer can make the decoder panic: not a readable Parquet file.
    let builder = crate::corrupt::catch_panic(|| {
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, reader_options)
    })
    .map_err(|panic| Error::NotParquet {
        path: path.to_path_buf(),
        message: format!("the Parquet decoder failed: {panic}"),
    })?
    .map_err(|e| Error::NotParquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let meta = required_metadata(builder.metadata(), &path.display().to_string())?;
    let wrap_free = match &options.bbox {
        Some(bbox) => wrap_free_row_groups(path, builder.metadata(), &meta, bbox),
        None => Vec::new(),
    };
    let mut composed = compose(builder, meta, &options, &wrap_free)?;
    composed.stats.row_groups_probed = wrap_free.len();
    Ok(GeoParquetReader {
        // The sync reader runs the row filter while it is built.
        inner: composed.builder.build().map_err(build_error)?,
        shape: composed.shape,
        metadata: composed.metadata,
        stats: composed.stats,
        path: path.to_path_buf(),
    })
}

/// The row groups of a local file that only the possibility of rows crossing
/// the antimeridian keeps from being pruned on longitude (their statistics'
/// plain box misses `bbox`, the wrap-aware one does not; with a page index,
/// also those read anyway, whose pages may prune), and whose covering
/// `xmin`/`xmax` columns, read here (two numeric columns, a small share of a
/// row group), show that no row wraps. Anything unreadable proves nothing.
fn wrap_free_row_groups(
    path: &Path,
    metadata: &Arc<ParquetMetaData>,
    meta: &GeoParquetMetadata,
    bbox: &BoundingBox,
) -> Vec<usize> {
    let column = meta.primary_column.as_str();
    let source = box_source(metadata, meta, column);
    let BoxSource::Covering {
        column: cov,
        may_wrap: true,
    } = source
    else {
        return Vec::new();
    };
    let plain = BoxSource::Covering {
        column: cov,
        may_wrap: false,
    };
    // With a page index, a row group kept either way is probed too: its
    // pages then prune on longitude.
    let pages = metadata.column_index().is_some() && !bbox.wraps();
    let candidates = (0..metadata.num_row_groups()).filter(|&rg| {
        let wide = row_group_box(metadata, meta, column, source, rg);
        let narrow = row_group_box(metadata, meta, column, plain, rg);
        matches!((wide, narrow), (Some(w), Some(n)) if w.intersects(bbox) && (pages || !n.intersects(bbox)))
    });
    let Some([x0, _, x1, _]) = covering_leaves(metadata, meta, column) else {
        return Vec::new();
    };
    // The names of the two fields inside the covering struct.
    let Some((xmin_name, xmax_name)) = meta
        .columns
        .get(column)
        .and_then(|c| c.covering.as_ref())
        .and_then(|c| Some((c.bbox.xmin.last()?.clone(), c.bbox.xmax.last()?.clone())))
    else {
        return Vec::new();
    };
    let Ok(reader_meta) = parquet::arrow::arrow_reader::ArrowReaderMetadata::try_new(
        metadata.clone(),
        ArrowReaderOptions::new(),
    ) else {
        return Vec::new();
    };
    let no_row_wraps = |rg: usize| -> Option<bool> {
        let file = File::open(path).ok()?;
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, reader_meta.clone());
        let mask = ProjectionMask::leaves(builder.parquet_schema(), [x0, x1]);
        let reader = builder
            .with_projection(mask)
            .with_row_groups(vec![rg])
            .build()
            .ok()?;
        for batch in reader {
            let batch = batch.ok()?;
            let st = batch.columns().first()?.as_struct_opt()?;
            let get = |name: &str| -> Option<arrow_array::Float64Array> {
                let c = st.column_by_name(name)?;
                match c.data_type() {
                    DataType::Float64 => Some(c.as_primitive::<Float64Type>().clone()),
                    DataType::Float32 => Some(
                        c.as_primitive::<Float32Type>()
                            .unary::<_, Float64Type>(f64::from),
                    ),
                    _ => None,
                }
            };
            let (xmin, xmax) = (get(&xmin_name)?, get(&xmax_name)?);
            let wraps = (0..st.len())
                .any(|r| xmin.is_valid(r) && xmax.is_valid(r) && xmin.value(r) > xmax.value(r));
            if wraps {
                return Some(false);
            }
        }
        Some(true)
    };
    candidates
        .filter(|&rg| {
            crate::corrupt::catch_panic(|| no_row_wraps(rg))
                .ok()
                .flatten()
                .unwrap_or(false)
        })
        .collect()
}

/// The metadata of a builder's file, or the typed error naming `name`.
fn required_metadata(metadata: &ParquetMetaData, name: &str) -> Result<GeoParquetMetadata> {
    let path = std::path::PathBuf::from(name);
    let (_, meta) = facts_meta(metadata);
    meta.map_err(|e| match e {
        Error::Meta { source, .. } => Error::Meta {
            path: path.clone(),
            source,
        },
        other => other,
    })?
    .ok_or(Error::NotGeoParquet { path })
}

/// A GeoParquet file read asynchronously: batches with geometry as WKB.
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct GeoParquetStream<T> {
    inner: parquet::arrow::async_reader::ParquetRecordBatchStream<T>,
    shape: OutputShape,
    metadata: GeoParquetMetadata,
    stats: ScanStats,
    /// The name given to [`open_async`], for errors.
    name: std::path::PathBuf,
}

#[cfg(feature = "async")]
impl<T> std::fmt::Debug for GeoParquetStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoParquetStream")
            .field("schema", &self.shape.schema)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "async")]
impl<T> GeoParquetStream<T>
where
    T: parquet::arrow::async_reader::AsyncFileReader + Unpin + Send + 'static,
{
    /// The next batch, `None` at the end (`futures::StreamExt::next`,
    /// without importing the trait).
    pub async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        std::future::poll_fn(|cx| futures::Stream::poll_next(std::pin::Pin::new(&mut *self), cx))
            .await
    }

    /// The file's GeoParquet metadata (as for [`GeoParquetReader::metadata`]).
    pub fn metadata(&self) -> &GeoParquetMetadata {
        &self.metadata
    }

    /// Pruning and row counts so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// The schema of the batches returned.
    pub fn schema(&self) -> SchemaRef {
        self.shape.schema.clone()
    }
}

/// Batches with geometry as WKB; after an error the stream may end.
#[cfg(feature = "async")]
impl<T> futures::Stream for GeoParquetStream<T>
where
    T: parquet::arrow::async_reader::AsyncFileReader + Unpin + Send + 'static,
{
    type Item = Result<RecordBatch>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use futures::StreamExt;
        use std::task::Poll;
        let this = self.get_mut();
        // The decoder panics on some damaged pages: a corrupt-data error, not a crash.
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            this.inner.poll_next_unpin(cx)
        }));
        let batch = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(None)) => return Poll::Ready(None),
            Ok(Poll::Ready(Some(batch))) => batch.map_err(|e| decode_error(&this.name, e.into())),
            Err(panic) => Err(Error::CorruptData {
                path: this.name.clone(),
                column: None,
                row_group: None,
                message: format!(
                    "the Parquet decoder failed: {}",
                    crate::workers::panic_message(&*panic)
                ),
            }),
        };
        Poll::Ready(Some(this.shape.finish(batch, &mut this.stats)))
    }
}

/// Opens any parquet [`AsyncFileReader`](parquet::arrow::async_reader::AsyncFileReader)
/// (an object store, a file, memory) for reading, with the same pruning and
/// filters as [`open_with`] (without its antimeridian probe). `name` is used
/// in errors. The result is a `futures::Stream` of batches.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use futures::TryStreamExt;
/// use geoparquet_io::reader::{open_async, ReadOptions};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let file = tokio::fs::File::open(path).await?;
/// let stream = open_async(file, "sample.parquet", ReadOptions::default()).await?;
/// let rows = stream.try_fold(0, |n, b| async move { Ok(n + b.num_rows()) }).await?;
/// assert_eq!(rows, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub async fn open_async<T>(
    input: T,
    name: &str,
    options: ReadOptions,
) -> Result<GeoParquetStream<T>>
where
    T: parquet::arrow::async_reader::AsyncFileReader + Unpin + Send + 'static,
{
    let reader_options = ArrowReaderOptions::new()
        .with_page_index_policy(PageIndexPolicy::from(options.bbox.is_some()));
    let builder = parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder::new_with_options(
        input,
        reader_options,
    )
    .await
    .map_err(|e| Error::NotParquet {
        path: name.into(),
        message: e.to_string(),
    })?;
    let meta = required_metadata(builder.metadata(), name)?;
    let composed = compose(builder, meta, &options, &[])?;
    Ok(GeoParquetStream {
        inner: composed.builder.build().map_err(build_error)?,
        shape: composed.shape,
        metadata: composed.metadata,
        stats: composed.stats,
        name: name.into(),
    })
}

/// What [`open_with`] and [`open_async`] build besides the upstream reader.
struct Composed<T> {
    builder: ArrowReaderBuilder<T>,
    shape: OutputShape,
    /// The metadata of what is returned.
    metadata: GeoParquetMetadata,
    stats: ScanStats,
}

/// The options as a composition of the extension's builder methods (sync or
/// async), and the shape and metadata of what they return. `wrap_free`:
/// row groups a probe showed to hold no wrapping covering.
fn compose<T>(
    builder: ArrowReaderBuilder<T>,
    mut meta: GeoParquetMetadata,
    options: &ReadOptions,
    wrap_free: &[usize],
) -> Result<Composed<T>> {
    let roots = match &options.columns {
        Some(columns) => named_roots(builder.schema(), columns)?,
        None if options.keep_covering => (0..builder.schema().fields().len()).collect(),
        None => non_covering_roots(builder.schema(), &meta),
    };
    let projected = Arc::new(builder.schema().project(&roots)?);
    let mut stats = whole_file_stats(builder.metadata());
    let mut builder = builder.with_batch_size(options.batch_size.max(1));
    if let Some(bbox) = options.bbox {
        let p = plan(
            builder.metadata(),
            &meta,
            &meta.primary_column,
            &bbox,
            wrap_free,
        );
        stats = p.stats;
        builder =
            builder
                .with_scan_plan(p)
                .with_intersecting_row_filter(&meta, bbox, options.exact);
    }
    let builder = match &options.columns {
        Some(columns) => builder.with_column_projection(columns)?,
        None if options.keep_covering => builder,
        None => builder.without_covering_columns(&meta),
    };
    // Metadata of what is returned: drop columns and coverings not read.
    meta.columns
        .retain(|name, _| projected.field_with_name(name).is_ok());
    for col in meta.columns.values_mut() {
        if col
            .covering
            .as_ref()
            .and_then(|c| c.bbox.column())
            .is_some_and(|c| projected.field_with_name(c).is_err())
        {
            col.covering = None;
        }
    }
    if !meta.columns.contains_key(&meta.primary_column)
        && let Some(first) = meta.columns.keys().next()
    {
        meta.primary_column = first.clone();
    }
    let shape = output_shape(&projected, &meta);
    Ok(Composed {
        builder,
        shape,
        metadata: meta,
        stats,
    })
}

/// The counts of a scan that prunes nothing.
fn whole_file_stats(metadata: &ParquetMetaData) -> ScanStats {
    ScanStats {
        row_groups_total: metadata.num_row_groups(),
        row_groups_read: metadata.num_row_groups(),
        rows_total: u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0),
        bytes_total: metadata
            .row_groups()
            .iter()
            .map(|rg| u64::try_from(rg.compressed_size()).unwrap_or(0))
            .sum(),
        ..ScanStats::default()
    }
}

/// The predicates of [`GeoParquetReaderExt::with_intersecting_row_filter`]:
/// the covering box test (when the primary column has a covering), then the
/// exact test of the geometry (when `exact`).
fn intersecting_predicates<T>(
    builder: &ArrowReaderBuilder<T>,
    meta: &GeoParquetMetadata,
    bbox: BoundingBox,
    exact: bool,
) -> Vec<Box<dyn ArrowPredicate>> {
    let names: Vec<&str> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let parquet_schema = builder.parquet_schema();
    let primary = meta.primary_column.as_str();
    let column_meta = meta.columns.get(primary);
    let covering = column_meta
        .and_then(|c| c.covering.as_ref())
        .and_then(|c| c.bbox.column())
        .and_then(|cov| Some((cov.to_owned(), names.iter().position(|n| *n == cov)?)));
    let mut predicates: Vec<Box<dyn ArrowPredicate>> = Vec::new();
    if let Some((_, i)) = &covering {
        let mask = ProjectionMask::roots(parquet_schema, [*i]);
        predicates.push(Box::new(ArrowPredicateFn::new(
            mask,
            move |batch: RecordBatch| {
                let Some(col) = batch.columns().first() else {
                    return Ok(BooleanArray::from(vec![true; batch.num_rows()]));
                };
                let Some(st) = col.as_struct_opt() else {
                    return Ok(BooleanArray::from(vec![true; batch.num_rows()]));
                };
                Ok(covering_filter(st, &bbox))
            },
        )));
    }
    let Some(i) = names.iter().position(|n| *n == primary).filter(|_| exact) else {
        return predicates;
    };
    let native = match column_meta.map(|c| &c.encoding) {
        Some(Encoding::Native(t)) => Some(*t),
        _ => None,
    };
    let column = primary.to_owned();
    let wrap_edges = column_meta.is_some_and(|c| c.effective_edges().is_non_planar());
    // Where rows may wrap, the box that tells whether they do: each row's
    // covering (read again, for the rows left), else the file's.
    let hints = if !wrap_edges
        && (rows_may_wrap(meta, primary)
            || file_bbox_contradicted(builder.metadata(), meta, primary))
    {
        Some((column_meta.and_then(|c| c.bbox), covering))
    } else {
        None
    };
    let mut roots = vec![i];
    if let Some((_, Some((_, ci)))) = &hints {
        roots.push(*ci);
    }
    let mask = ProjectionMask::roots(parquet_schema, roots);
    predicates.push(Box::new(ArrowPredicateFn::new(
        mask,
        move |batch: RecordBatch| {
            let Some(col) = batch
                .column_by_name(&column)
                .or_else(|| batch.columns().first())
            else {
                return Ok(BooleanArray::from(vec![true; batch.num_rows()]));
            };
            let (file_box, row_boxes) = match &hints {
                Some((file_box, cov)) => (
                    *file_box,
                    cov.as_ref()
                        .and_then(|(name, _)| batch.column_by_name(name))
                        .and_then(|c| c.as_struct_opt())
                        .and_then(covering_columns),
                ),
                None => (None, None),
            };
            let converted;
            let wkb_array: &dyn Array = match native {
                Some(t)
                    if !matches!(
                        col.data_type(),
                        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                    ) =>
                {
                    converted = native::to_wkb(col.as_ref(), t, &column)?;
                    &converted
                }
                _ => col.as_ref(),
            };
            let values = wkb_values(wkb_array)?;
            let mut out = Vec::with_capacity(values.len());
            for row in 0..values.len() {
                out.push(Some(match values.value(row) {
                    None => false,
                    Some(bytes) => match parse_wkb(bytes) {
                        Ok(g) => {
                            let hint = row_boxes
                                .as_ref()
                                .and_then(|c| covering_row(c, row))
                                .or(file_box);
                            let wrap = wrap_edges
                                || hint.is_some_and(|h| edges_cross_antimeridian(&g, &h));
                            intersects_with_edges(&g, &bbox, wrap)
                        }
                        Err(e) => {
                            return Err(ArrowError::from(Error::InvalidWkb {
                                column: column.clone(),
                                row: row as u64,
                                message: e.to_string(),
                            }));
                        }
                    },
                }));
            }
            Ok(BooleanArray::from(out))
        },
    )));
    predicates
}

/// Each row group's box for `column` from the footer alone: the covering
/// column's statistics, else the GeospatialStatistics, else the native point
/// x/y statistics. `None` when the footer has none of these; an element is
/// `None` when that row group lacks the statistics.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let footer = geoparquet_io::read_footer(path.as_ref())?;
/// let meta = footer.facts.geo_metadata().unwrap().unwrap();
/// let boxes = geoparquet_io::reader::row_group_boxes(footer.metadata.as_ref().unwrap(), &meta, "geometry");
/// assert!(boxes.is_some_and(|b| b.iter().all(Option::is_some)));
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn row_group_boxes(
    metadata: &ParquetMetaData,
    meta: &GeoParquetMetadata,
    column: &str,
) -> Option<Vec<Option<BoundingBox>>> {
    let source = box_source(metadata, meta, column);
    if source == BoxSource::None {
        return None;
    }
    Some(
        (0..metadata.num_row_groups())
            .map(|rg| row_group_box(metadata, meta, column, source, rg))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::writer::{TargetVersion, WriterOptions, write_file};
    use arrow_array::BinaryArray;

    /// Parquet `GeospatialStatistics` boxes may wrap (`xmin > xmax`, Parquet
    /// spec): a wrapping row-group box is kept for queries on either side of
    /// 180 and for wrapping queries, and pruned for the others.
    #[test]
    fn wrapping_geospatial_statistics_prune_by_their_two_sides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("geo-stats.parquet");
        let wkb = |x: f64, y: f64| {
            let mut v = vec![1u8, 1, 0, 0, 0];
            v.extend_from_slice(&x.to_le_bytes());
            v.extend_from_slice(&y.to_le_bytes());
            v
        };
        let pts: Vec<Vec<u8>> = (0..30).map(|i| wkb(f64::from(i), 0.0)).collect();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "geometry",
            DataType::Binary,
            true,
        )]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(BinaryArray::from_iter_values(
                pts.iter().map(Vec::as_slice),
            ))],
        )
        .unwrap();
        let mut options = WriterOptions::default().with_version(TargetVersion::V2_0);
        options.row_group_rows = 10;
        options.covering = Some(None);
        write_file(&path, schema, std::iter::once(Ok(batch)), None, &options).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let md = builder.metadata().as_ref().clone();
        let mut meta = facts_meta(&md).1.unwrap().unwrap();
        // The writer's own stats, replaced by boxes other writers may write.
        let boxes = [
            (170.0, -10.0, -170.0, 10.0),
            (0.0, -10.0, 10.0, 10.0),
            (-50.0, 40.0, -40.0, 50.0),
        ];
        let mut b = md.into_builder();
        let groups = b.take_row_groups();
        assert_eq!(groups.len(), 3);
        let groups = groups
            .into_iter()
            .zip(boxes)
            .map(|(rg, (x0, y0, x1, y1))| {
                let cols = rg
                    .columns()
                    .iter()
                    .map(|c| {
                        let stats = parquet::geospatial::statistics::GeospatialStatistics::new(
                            Some(parquet::geospatial::bounding_box::BoundingBox::new(
                                x0, x1, y0, y1,
                            )),
                            None,
                        );
                        c.clone()
                            .into_builder()
                            .set_geo_statistics(Box::new(stats))
                            .build()
                            .unwrap()
                    })
                    .collect();
                rg.into_builder().set_column_metadata(cols).build().unwrap()
            })
            .collect();
        let md = b.set_row_groups(groups).build();
        // No file bbox: the row groups alone decide.
        meta.columns.get_mut("geometry").unwrap().bbox = None;
        assert!(matches!(
            box_source(&md, &meta, "geometry"),
            BoxSource::GeoStats { .. }
        ));
        for (q, expected) in [
            (BoundingBox::new(175.0, -5.0, 179.0, 5.0), vec![0]),
            (BoundingBox::new(-179.0, -5.0, -175.0, 5.0), vec![0]),
            (BoundingBox::new(179.0, -5.0, -179.0, 5.0), vec![0]),
            (BoundingBox::new(5.0, -5.0, 6.0, 5.0), vec![1]),
            (BoundingBox::new(100.0, -5.0, 110.0, 5.0), vec![]),
            (BoundingBox::new(160.0, -60.0, -30.0, 60.0), vec![0, 2]),
        ] {
            assert_eq!(
                plan(&md, &meta, "geometry", &q, &[]).row_groups,
                expected,
                "{q:?}"
            );
        }
    }
}
