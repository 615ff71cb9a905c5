//! Spatial ordering at any size: sort a GeoParquet file by the Hilbert index
//! (or quadkey) of each geometry's bbox centre, or by a column, with an
//! external merge sort whose memory is capped.
//!
//! 1. Runs: input batches are buffered until a quarter of the memory cap is
//!    used, then ordered by key on a second thread (while the next run is
//!    read) and spilled to a temporary Arrow IPC file in small batches. A
//!    file that fits in one run is never spilled.
//! 2. Merge: the runs are read back one small batch each and merged by key
//!    into the GeoParquet writer (stable: equal keys keep input order). When
//!    there are more runs than the merge's share of the cap can hold a batch
//!    of, groups of runs are first merged into longer runs.
//!
//! The cap covers the data the sort holds (see [`SortOptions::memory`] for
//! how it is shared); the process needs a fixed overhead on top of it
//! ([`SORT_FIXED_OVERHEAD`]).
//!
//! The machinery is public as [`ExternalSorter`]: batches pushed with a key
//! per row come back in key order, within a memory cap (sliderule-export sorts
//! its exports with it). [`hilbert_with_bits`] is the workspace's one Hilbert curve.
//!
//! [`spatial_overlap`] measures how spatially compact the row groups of a
//! file are (the figure `sort` reports before and after).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BinaryArray, RecordBatch, UInt64Array, cast::AsArray, types::*,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geoparquet_meta::{BoundingBox, Crs, GeoParquetMetadata};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, Result};
use crate::reader::{ReadOptions, open_with, row_group_boxes};
use crate::wkb_column::wkb_values;
use crate::writer::{GeometryEncoding, TargetVersion, WriteSummary, WriterOptions, write_file};
use geoparquet_meta::geometry::wkb_info;

/// Default memory cap of [`sort_file`]: 256 MiB.
pub const DEFAULT_SORT_MEMORY: usize = 256 * 1024 * 1024;

/// The smallest memory cap [`sort_file`] works with; smaller caps are raised to it.
pub const MIN_SORT_MEMORY: usize = 4 * 1024 * 1024;

/// What a sort's process needs beyond [`SortOptions::memory`] for a file of a
/// few columns, measured as peak resident memory (`/usr/bin/time -v`) of
/// `geoquet sort` on a release build: the program, its threads, the Parquet
/// decoder's pages, and memory the allocator keeps after freeing it. Each
/// column adds about 2 MiB (compressor and page buffers of the two row groups
/// being encoded, the decompressor reading it). See docs/src/cli.md, `geoquet sort`.
pub const SORT_FIXED_OVERHEAD: usize = 64 * 1024 * 1024;

/// Bits per axis of the Hilbert and quadkey grids (a 2^31 x 2^31 grid: keys
/// fit in 62 bits).
pub const SORT_GRID_BITS: u32 = 31;

/// What to order rows by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// The Hilbert index of the bbox centre of the primary geometry, on a
    /// 2^31 grid over the file's extent.
    Hilbert,
    /// The quadkey (Z-order of Web Mercator tiles at zoom 31) of the bbox
    /// centre for geographic data; Z-order over the file's extent otherwise.
    Quadkey,
    /// The values of a column (numbers, strings, binary, booleans,
    /// timestamps and dates), nulls last.
    Column(String),
}

impl std::str::FromStr for SortKey {
    type Err = Error;

    /// Parses `hilbert`, `quadkey` or `column:NAME`.
    ///
    /// ```
    /// use geoparquet_io::sort::SortKey;
    /// assert_eq!("hilbert".parse::<SortKey>()?, SortKey::Hilbert);
    /// assert_eq!("column:name".parse::<SortKey>()?, SortKey::Column("name".into()));
    /// assert_eq!(SortKey::Quadkey.to_string().parse::<SortKey>()?, SortKey::Quadkey);
    /// assert!("zorder".parse::<SortKey>().is_err());
    /// # Ok::<(), geoparquet_io::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hilbert" => Ok(Self::Hilbert),
            "quadkey" => Ok(Self::Quadkey),
            _ => match s.strip_prefix("column:") {
                Some(c) if !c.is_empty() => Ok(Self::Column(c.to_owned())),
                _ => Err(Error::InvalidValue {
                    what: "sort key",
                    value: s.to_owned(),
                    expected: "hilbert, quadkey or column:NAME",
                }),
            },
        }
    }
}

impl std::fmt::Display for SortKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hilbert => f.write_str("hilbert"),
            Self::Quadkey => f.write_str("quadkey"),
            Self::Column(c) => write!(f, "column:{c}"),
        }
    }
}

/// Options of [`sort_file`].
///
/// ```
/// use geoparquet_io::sort::{SortKey, SortOptions};
///
/// let options = SortOptions::default()
///     .with_key(SortKey::Column("name".into()))
///     .with_memory(64 << 20)
///     .with_keep_input_format(false);
/// assert_eq!(options.memory, 64 << 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SortOptions {
    /// The order; default [`SortKey::Hilbert`].
    pub key: SortKey,
    /// Memory cap in bytes for the rows the sort holds; [`DEFAULT_SORT_MEMORY`]
    /// by default, at least [`MIN_SORT_MEMORY`]. While runs are made: a quarter
    /// for the run being filled, a quarter for the one being sorted and
    /// spilled, and batches of about a 64th; while they are merged: a quarter
    /// for one batch of each run, an eighth for each of the two row groups
    /// the writer encodes at once plus as much for their encoded pages. The
    /// output's row groups therefore hold at most an eighth of the cap (and
    /// at most the writer's own limits). The process needs about
    /// [`SORT_FIXED_OVERHEAD`] more.
    pub memory: usize,
    /// Where runs are spilled; default `None`, the system temporary directory.
    pub temp_dir: Option<PathBuf>,
    /// How the output is written; default [`WriterOptions::default`].
    pub writer: WriterOptions,
    /// Keep the input's GeoParquet version and geometry encoding (see
    /// [`input_format`]) instead of `writer.version` and `writer.encoding`:
    /// a sort does not change the version. True by default; set it to false
    /// to convert while sorting.
    pub keep_input_format: bool,
}

impl Default for SortOptions {
    fn default() -> Self {
        Self {
            key: SortKey::Hilbert,
            memory: DEFAULT_SORT_MEMORY,
            temp_dir: None,
            writer: WriterOptions::default(),
            keep_input_format: true,
        }
    }
}

impl SortOptions {
    /// The same options with another order.
    #[must_use]
    pub fn with_key(mut self, key: SortKey) -> Self {
        self.key = key;
        self
    }

    /// The same options with another memory cap.
    #[must_use]
    pub fn with_memory(mut self, memory: usize) -> Self {
        self.memory = memory;
        self
    }

    /// The same options with another directory for the runs (`None`: the system's).
    #[must_use]
    pub fn with_temp_dir(mut self, temp_dir: Option<PathBuf>) -> Self {
        self.temp_dir = temp_dir;
        self
    }

    /// The same options with other writer options.
    #[must_use]
    pub fn with_writer(mut self, writer: WriterOptions) -> Self {
        self.writer = writer;
        self
    }

    /// The same options, keeping the input's version and encoding or not.
    #[must_use]
    pub fn with_keep_input_format(mut self, keep_input_format: bool) -> Self {
        self.keep_input_format = keep_input_format;
        self
    }
}

/// The version and encoding that rewrite a file in its own format: a file
/// without a `geo` key but with Parquet GEOMETRY/GEOGRAPHY columns is
/// [`TargetVersion::NativeOnly`]; 2.0 (and its pre-releases or later 2.x) is
/// 2.0; 1.1 (and later 1.x) is 1.1; 1.0 and the pre-1.0 versions, which this
/// crate does not write, are 1.0, the nearest. The encoding is GeoArrow when
/// the primary column is stored natively in a 1.1 file, else WKB.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::sort::input_format;
/// use geoparquet_io::writer::{GeometryEncoding, TargetVersion};
///
/// let footer = geoparquet_io::read_footer(path.as_ref())?;
/// let (version, encoding) = input_format(&footer.facts);
/// assert_eq!(encoding, GeometryEncoding::Wkb);
/// # let _ = version;
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn input_format(facts: &geoparquet_meta::file::FileFacts) -> (TargetVersion, GeometryEncoding) {
    let meta = match facts.geo_metadata() {
        Some(Ok(meta)) => meta,
        Some(Err(_)) => return (TargetVersion::default(), GeometryEncoding::Wkb),
        None if facts.native_columns().next().is_some() => {
            return (TargetVersion::NativeOnly, GeometryEncoding::Wkb);
        }
        None => return (TargetVersion::default(), GeometryEncoding::Wkb),
    };
    let rules = meta.version.rules().unwrap_or(meta.version.clone());
    let version = if rules.is_v2() {
        TargetVersion::V2_0
    } else if rules.is_v1_0() || rules.is_legacy() {
        TargetVersion::V1_0
    } else {
        TargetVersion::V1_1
    };
    let native = meta
        .columns
        .get(&meta.primary_column)
        .is_some_and(|c| matches!(c.encoding, geoparquet_meta::Encoding::Native(_)));
    let encoding = if native && version == TargetVersion::V1_1 {
        GeometryEncoding::GeoArrow
    } else {
        GeometryEncoding::Wkb
    };
    (version, encoding)
}

/// What [`sort_file`] did.
#[derive(Debug, Clone)]
pub struct SortSummary {
    /// The writer's summary.
    pub written: WriteSummary,
    /// Sorted runs spilled to disk (0 when the input fit in memory).
    pub runs: usize,
    /// Row-group overlap of the input (see [`spatial_overlap`]).
    pub overlap_before: Option<f64>,
    /// Row-group overlap of the output.
    pub overlap_after: Option<f64>,
}

/// Sorts `input` into `output` (written atomically), with memory capped by
/// `options.memory`.
///
/// ```
/// # let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// use geoparquet_io::sort::{sort_file, SortOptions};
///
/// let dir = tempfile::tempdir()?;
/// let output = dir.path().join("sorted.parquet");
/// let summary = sort_file(input.as_ref(), &output, &SortOptions::default())?;
/// assert_eq!(summary.written.rows, 7);
/// assert!(geoparquet_io::validate_footer(&output)?.is_valid());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sort_file(input: &Path, output: &Path, options: &SortOptions) -> Result<SortSummary> {
    // A directory, device or FIFO at the output is refused before any work.
    let _ = crate::output::check_destination(output)?;
    let footer = crate::read_footer(input)?;
    let meta = footer.geoparquet_metadata(input)?;
    let primary = meta.primary_column.clone();
    let overlap_before = spatial_overlap(input)?;
    let keyer = Keyer::new(input, &meta, &options.key)?;

    let budget = Budget::new(options.memory, row_bytes_estimate(&footer));
    let batch_rows = budget.batch_rows;
    let reader = open_with(
        input,
        ReadOptions::default()
            .with_batch_size(batch_rows)
            // The covering gives each row's box without decoding its WKB; it
            // is dropped before writing (the writer computes its own).
            .with_keep_covering(true),
    )?;
    let input_meta = reader.metadata().clone();
    let full_schema = reader.schema();
    let covering = input_meta
        .columns
        .get(&primary)
        .and_then(|c| c.covering.as_ref())
        .and_then(|c| c.bbox.column())
        .map(str::to_owned);
    let covering_cols: Vec<String> = input_meta
        .columns
        .values()
        .filter_map(|c| {
            c.covering
                .as_ref()
                .and_then(|c| c.bbox.column())
                .map(str::to_owned)
        })
        .collect();
    let keep: Vec<usize> = full_schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !covering_cols.contains(f.name()))
        .map(|(i, _)| i)
        .collect();
    let schema = Arc::new(full_schema.project(&keep)?);
    // Decoding runs on its own thread, ahead of the key computation.
    let mut reader = crate::workers::prefetch("sort: decode", reader, 2);
    let temp_dir = options.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    let mut sorter = ExternalSorter::with_budget(schema.clone(), options.memory, budget)
        .with_temp_dir(temp_dir.clone());
    while let Some(batch) = reader.next().transpose()?.transpose()? {
        let keys = keyer.keys(&batch, &primary, covering.as_deref())?;
        sorter.push(batch.project(&keep)?, keys)?;
    }
    let spilled = sorter.runs();
    let (sorted, budget) = sorter.finish_with_budget()?;
    let mut writer = options.writer.clone();
    if options.keep_input_format {
        let (version, encoding) = input_format(&footer.facts);
        writer.version = version;
        writer.encoding = encoding;
    }
    // The writer encodes two row groups at once and keeps their input batches
    // until they are written: each is cut at an eighth of the cap, in bytes
    // (the writer measures encoded bytes) and in rows (input bytes).
    writer.row_group_bytes = writer.row_group_bytes.min(budget.row_group_bytes);
    writer.row_group_rows = writer
        .row_group_rows
        .min((budget.row_group_bytes / budget.row_bytes.max(1)).max(1));
    let written = if spilled == 0 {
        // Sorted chunks are made as the writer takes them: the run is not copied whole.
        write_file(output, schema, sorted, Some(&input_meta), &writer)?
    } else {
        // The merge runs on its own thread, ahead of the writer's encoder.
        let merge = crate::workers::prefetch("sort: merge", sorted, 2)
            .map(|r| r.map_err(Error::from).and_then(|b| b));
        write_file(output, schema, merge, Some(&input_meta), &writer)?
    };
    let overlap_after = spatial_overlap(output)?;
    Ok(SortSummary {
        written,
        runs: spilled,
        overlap_before,
        overlap_after,
    })
}

// --- keys ----------------------------------------------------------------------------

/// The sort keys of one batch's rows, one per row, for [`ExternalSorter`]:
/// unsigned integers, or byte strings compared bytewise. All batches of one
/// sort have keys of the same kind.
///
/// ```
/// use geoparquet_io::sort::RowKeys;
/// let keys = RowKeys::from(vec![3u64, 1, 2]);
/// assert_eq!(keys, RowKeys::U64(vec![3, 1, 2]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowKeys {
    /// Integer keys, in ascending order.
    U64(Vec<u64>),
    /// Byte-string keys, in bytewise (lexicographic) order.
    Bytes(Vec<Vec<u8>>),
}

impl From<Vec<u64>> for RowKeys {
    fn from(keys: Vec<u64>) -> Self {
        Self::U64(keys)
    }
}

impl From<Vec<Vec<u8>>> for RowKeys {
    fn from(keys: Vec<Vec<u8>>) -> Self {
        Self::Bytes(keys)
    }
}

impl RowKeys {
    fn memory(&self) -> usize {
        match self {
            RowKeys::U64(v) => v.len() * 8,
            RowKeys::Bytes(v) => v.iter().map(|b| b.len() + 24).sum(),
        }
    }

    fn len(&self) -> usize {
        match self {
            RowKeys::U64(v) => v.len(),
            RowKeys::Bytes(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Key {
        match self {
            RowKeys::U64(v) => Key::U64(v.get(i).copied().unwrap_or(u64::MAX)),
            RowKeys::Bytes(v) => Key::Bytes(v.get(i).cloned().unwrap_or_else(|| vec![2])),
        }
    }

    fn to_array(&self) -> ArrayRef {
        match self {
            RowKeys::U64(v) => Arc::new(UInt64Array::from(v.clone())),
            RowKeys::Bytes(v) => Arc::new(BinaryArray::from_iter_values(v.iter())),
        }
    }

    fn from_array(a: &dyn Array) -> Option<Self> {
        if let Some(u) = a.as_primitive_opt::<UInt64Type>() {
            return Some(RowKeys::U64(u.values().to_vec()));
        }
        let b = a.as_binary_opt::<i32>()?;
        Some(RowKeys::Bytes(
            b.iter().map(|v| v.unwrap_or(&[2]).to_vec()).collect(),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    U64(u64),
    Bytes(Vec<u8>),
}

/// Computes keys for batches.
struct Keyer {
    key: SortKey,
    /// The extent keys are normalised over.
    extent: BoundingBox,
    geographic: bool,
}

impl Keyer {
    fn new(input: &Path, meta: &GeoParquetMetadata, key: &SortKey) -> Result<Self> {
        let col = meta.columns.get(&meta.primary_column);
        let geographic = col.is_some_and(|c| match &c.crs {
            Crs::Default => true,
            Crs::Unknown => false,
            other => other.is_crs84_equivalent() || other.is_geographic() == Some(true),
        });
        let extent = match col.and_then(|c| c.bbox) {
            Some(b) if b.is_usable() && !b.wraps() => b,
            _ if matches!(key, SortKey::Column(_)) => BoundingBox::new(0.0, 0.0, 1.0, 1.0),
            _ => scan_extent(input, meta)?,
        };
        Ok(Self {
            key: key.clone(),
            extent,
            geographic,
        })
    }

    fn keys(&self, batch: &RecordBatch, primary: &str, covering: Option<&str>) -> Result<RowKeys> {
        match &self.key {
            SortKey::Column(name) => {
                let a = batch
                    .column_by_name(name)
                    .ok_or_else(|| no_such_column(batch, name))?;
                column_keys(a.as_ref(), name)
            }
            k => {
                let a = batch
                    .column_by_name(primary)
                    .ok_or_else(|| no_such_column(batch, primary))?;
                let values = wkb_values(a.as_ref())?;
                let boxes = covering
                    .and_then(|c| batch.column_by_name(c))
                    .and_then(|c| covering_arrays(c.as_ref()));
                let mut out = Vec::with_capacity(values.len());
                for i in 0..values.len() {
                    let centre = match (values.value(i), &boxes) {
                        (None, _) => None,
                        (Some(_), Some((valid, [x0, y0, x1, y1])))
                            if valid.as_ref().is_none_or(|v| v.is_valid(i)) =>
                        {
                            let c = (
                                (x0.value(i) + x1.value(i)) / 2.0,
                                (y0.value(i) + y1.value(i)) / 2.0,
                            );
                            (!c.0.is_nan() && !c.1.is_nan()).then_some(c)
                        }
                        (Some(bytes), _) => wkb_info(bytes)
                            .ok()
                            .and_then(|info| info.bbox)
                            .map(|b| ((b.xmin + b.xmax) / 2.0, (b.ymin + b.ymax) / 2.0)),
                    };
                    out.push(match centre {
                        None => u64::MAX,
                        Some((x, y)) if *k == SortKey::Quadkey && self.geographic => {
                            quadkey_key(x, y)
                        }
                        Some((x, y)) => {
                            let (gx, gy) = self.grid(x, y);
                            if *k == SortKey::Quadkey {
                                morton(gx, gy)
                            } else {
                                hilbert(gx, gy)
                            }
                        }
                    });
                }
                Ok(RowKeys::U64(out))
            }
        }
    }

    /// Grid cell of a point over the extent.
    fn grid(&self, x: f64, y: f64) -> (u64, u64) {
        let n = (1u64 << SORT_GRID_BITS) as f64;
        let cell = |v: f64, lo: f64, hi: f64| -> u64 {
            let span = hi - lo;
            let t = if span > 0.0 { (v - lo) / span } else { 0.0 };
            (t.clamp(0.0, 1.0) * (n - 1.0)) as u64
        };
        (
            cell(x, self.extent.xmin, self.extent.xmax),
            cell(y, self.extent.ymin, self.extent.ymax),
        )
    }
}

/// A column the sort needs is not in the batches read.
fn no_such_column(batch: &RecordBatch, name: &str) -> Error {
    Error::NoSuchColumn {
        column: name.to_owned(),
        available: batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    }
}

/// The covering struct's validity and xmin, ymin, xmax, ymax as f64 arrays.
type CoveringArrays = (
    Option<arrow_buffer::NullBuffer>,
    [arrow_array::Float64Array; 4],
);

fn covering_arrays(a: &dyn Array) -> Option<CoveringArrays> {
    let s = a.as_struct_opt()?;
    let get = |name: &str| -> Option<arrow_array::Float64Array> {
        let c = s.column_by_name(name)?;
        if let Some(f) = c.as_primitive_opt::<Float32Type>() {
            return Some(f.unary(f64::from));
        }
        c.as_primitive_opt::<Float64Type>().cloned()
    };
    Some((
        s.nulls().cloned(),
        [get("xmin")?, get("ymin")?, get("xmax")?, get("ymax")?],
    ))
}

/// The extent of the primary column, from statistics or a pass over the data.
fn scan_extent(input: &Path, meta: &GeoParquetMetadata) -> Result<BoundingBox> {
    let footer = crate::read_footer(input)?;
    if let Some(md) = footer.metadata.as_ref()
        && let Some(boxes) = row_group_boxes(md, meta, &meta.primary_column)
        && boxes.iter().all(Option::is_some)
    {
        let mut e = BoundingBox::empty();
        for b in boxes.into_iter().flatten() {
            e.expand_xy(b.xmin, b.ymin);
            e.expand_xy(b.xmax, b.ymax);
        }
        if e.is_usable() {
            return Ok(e);
        }
    }
    let mut e = BoundingBox::empty();
    let options = ReadOptions::default().with_columns(vec![meta.primary_column.clone()]);
    for batch in open_with(input, options)? {
        let batch = batch?;
        let Some(a) = batch.column_by_name(&meta.primary_column) else {
            continue;
        };
        let values = wkb_values(a.as_ref())?;
        for i in 0..values.len() {
            if let Some(b) = values.value(i).and_then(|v| wkb_info(v).ok()?.bbox) {
                e.expand_xy(b.xmin, b.ymin);
                e.expand_xy(b.xmax, b.ymax);
            }
        }
    }
    if e.is_usable() {
        Ok(e)
    } else {
        Ok(BoundingBox::new(0.0, 0.0, 1.0, 1.0))
    }
}

/// Order-preserving byte keys for a column; nulls sort last.
fn column_keys(a: &dyn Array, name: &str) -> Result<RowKeys> {
    fn u64_of_i64(v: i64) -> u64 {
        (v as u64) ^ (1 << 63)
    }
    fn u64_of_f64(v: f64) -> u64 {
        let b = v.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    }
    let n = a.len();
    let ints = |f: &dyn Fn(usize) -> u64| -> RowKeys {
        RowKeys::U64(
            (0..n)
                .map(|i| if a.is_null(i) { u64::MAX } else { f(i) })
                .collect(),
        )
    };
    macro_rules! signed {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            return Ok(ints(&|i| u64_of_i64(i64::from(p.value(i)))));
        }};
    }
    macro_rules! unsigned {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            return Ok(ints(&|i| u64::from(p.value(i))));
        }};
    }
    match a.data_type() {
        DataType::Int8 => signed!(Int8Type),
        DataType::Int16 => signed!(Int16Type),
        DataType::Int32 => signed!(Int32Type),
        DataType::Int64 => signed!(Int64Type),
        DataType::Date32 => signed!(Date32Type),
        DataType::Date64 => signed!(Date64Type),
        DataType::Timestamp(unit, _) => {
            let p: Vec<i64> = match unit {
                arrow_schema::TimeUnit::Second => {
                    a.as_primitive::<TimestampSecondType>().values().to_vec()
                }
                arrow_schema::TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .values()
                    .to_vec(),
                arrow_schema::TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec(),
                arrow_schema::TimeUnit::Nanosecond => a
                    .as_primitive::<TimestampNanosecondType>()
                    .values()
                    .to_vec(),
            };
            Ok(ints(&|i| u64_of_i64(p[i])))
        }
        DataType::UInt8 => unsigned!(UInt8Type),
        DataType::UInt16 => unsigned!(UInt16Type),
        DataType::UInt32 => unsigned!(UInt32Type),
        DataType::UInt64 => {
            // u64::MAX would tie with nulls: keep full order with bytes.
            let p = a.as_primitive::<UInt64Type>();
            Ok(RowKeys::Bytes(
                (0..n)
                    .map(|i| {
                        if a.is_null(i) {
                            vec![1]
                        } else {
                            let mut k = vec![0];
                            k.extend_from_slice(&p.value(i).to_be_bytes());
                            k
                        }
                    })
                    .collect(),
            ))
        }
        DataType::Float32 => {
            let p = a.as_primitive::<Float32Type>();
            Ok(ints(&|i| u64_of_f64(f64::from(p.value(i)))))
        }
        DataType::Float64 => {
            let p = a.as_primitive::<Float64Type>();
            Ok(ints(&|i| u64_of_f64(p.value(i))))
        }
        DataType::Boolean => {
            let b = a.as_boolean();
            Ok(ints(&|i| u64::from(b.value(i))))
        }
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => {
            let cast = arrow_select_binary(a);
            Ok(RowKeys::Bytes(
                (0..n)
                    .map(|i| match cast(i) {
                        None => vec![1],
                        Some(v) => {
                            let mut k = Vec::with_capacity(v.len() + 1);
                            k.push(0);
                            k.extend_from_slice(v);
                            k
                        }
                    })
                    .collect(),
            ))
        }
        other => Err(Error::UnsortableColumn {
            column: name.to_owned(),
            data_type: other.to_string(),
        }),
    }
}

/// Byte view of a string or binary array.
fn arrow_select_binary<'a>(a: &'a dyn Array) -> Box<dyn Fn(usize) -> Option<&'a [u8]> + 'a> {
    if let Some(s) = a.as_string_opt::<i32>() {
        return Box::new(move |i| s.is_valid(i).then(|| s.value(i).as_bytes()));
    }
    if let Some(s) = a.as_string_opt::<i64>() {
        return Box::new(move |i| s.is_valid(i).then(|| s.value(i).as_bytes()));
    }
    if let Some(s) = a.as_string_view_opt() {
        return Box::new(move |i| s.is_valid(i).then(|| s.value(i).as_bytes()));
    }
    if let Some(b) = a.as_binary_opt::<i32>() {
        return Box::new(move |i| b.is_valid(i).then(|| b.value(i)));
    }
    if let Some(b) = a.as_binary_opt::<i64>() {
        return Box::new(move |i| b.is_valid(i).then(|| b.value(i)));
    }
    if let Some(b) = a.as_binary_view_opt() {
        return Box::new(move |i| b.is_valid(i).then(|| b.value(i)));
    }
    Box::new(|_| None)
}

/// The Hilbert index of cell (x, y) on the 2^[`SORT_GRID_BITS`] grid:
/// [`hilbert_with_bits`] with [`SORT_GRID_BITS`].
///
/// ```
/// use geoparquet_io::sort::hilbert;
/// // The curve starts at the origin and its first four cells form a U.
/// let n = 1u64 << 31;
/// assert_eq!(hilbert(0, 0), 0);
/// assert!(hilbert(0, 0) < hilbert(0, 1) || hilbert(0, 0) < hilbert(1, 0));
/// assert_eq!(hilbert(n - 1, 0), (n * n) - 1);
/// ```
#[must_use]
pub fn hilbert(x: u64, y: u64) -> u64 {
    hilbert_with_bits(x, y, SORT_GRID_BITS)
}

/// The Hilbert index of cell (x, y) on a 2^`bits` × 2^`bits` grid (`bits` at
/// most 32; larger values are taken as 32): the curve starts at (0, 0) and ends
/// at (2^`bits` − 1, 0). Coordinates beyond the grid are clamped to its edge.
///
/// The curves of different `bits` differ in orientation, not only resolution:
/// compare keys made with the same `bits` only.
///
/// ```
/// use geoparquet_io::sort::hilbert_with_bits;
/// // A 2 x 2 grid: (0, 0), (0, 1), (1, 1), (1, 0).
/// let order: Vec<u64> = [(0, 0), (0, 1), (1, 1), (1, 0)]
///     .iter()
///     .map(|&(x, y)| hilbert_with_bits(x, y, 1))
///     .collect();
/// assert_eq!(order, vec![0, 1, 2, 3]);
/// assert_eq!(hilbert_with_bits(65_535, 0, 16), (1u64 << 32) - 1);
/// ```
#[must_use]
pub fn hilbert_with_bits(x: u64, y: u64, bits: u32) -> u64 {
    let bits = bits.min(32);
    let n: u64 = 1 << bits;
    let (mut x, mut y) = (x.min(n - 1), y.min(n - 1));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d = d.wrapping_add((s * s).wrapping_mul((3 * rx) ^ ry));
        // Rotate the quadrant.
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// Bit interleaving (Z-order): y bits in the odd positions, x in the even.
///
/// ```
/// use geoparquet_io::sort::morton;
/// assert_eq!(morton(1, 0), 1);
/// assert_eq!(morton(0, 1), 2);
/// assert_eq!(morton(3, 3), 15);
/// ```
pub fn morton(x: u64, y: u64) -> u64 {
    let spread = |mut v: u64| {
        v &= 0xFFFF_FFFF;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    };
    spread(x) | (spread(y) << 1)
}

/// The quadkey of a longitude/latitude as a number: the Web Mercator tile at
/// zoom [`SORT_GRID_BITS`] (latitude clamped to ±85.0511), digits
/// `x_bit + 2 * y_bit` from the top level down, so that numeric order is
/// quadkey order.
///
/// ```
/// use geoparquet_io::sort::quadkey_key;
/// // North-west before north-east before south-west before south-east.
/// let nw = quadkey_key(-90.0, 45.0);
/// let ne = quadkey_key(90.0, 45.0);
/// let sw = quadkey_key(-90.0, -45.0);
/// let se = quadkey_key(90.0, -45.0);
/// assert!(nw < ne && ne < sw && sw < se);
/// ```
pub fn quadkey_key(lon: f64, lat: f64) -> u64 {
    let n = (1u64 << SORT_GRID_BITS) as f64;
    let lat = lat
        .clamp(-85.051_128_779_806_59, 85.051_128_779_806_59)
        .to_radians();
    let x = ((lon.clamp(-180.0, 180.0) + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    let (x, y) = (x.clamp(0.0, n - 1.0) as u64, y.clamp(0.0, n - 1.0) as u64);
    morton(x, y)
}

// --- runs and merge ------------------------------------------------------------------

/// Bytes a row costs while a run is sorted: the (key, batch, row) triples,
/// then the (batch, row) order.
const ORDER_BYTES: usize = 32;

/// How [`SortOptions::memory`] is shared (see there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    /// Bytes of a run (rows, keys and sort index) before it is spilled.
    run_bytes: usize,
    /// Bytes of one spilled batch: the merge holds one per run.
    spill_batch_bytes: usize,
    /// Runs merged at once.
    fan_in: usize,
    /// Rows of a batch read from the input or made by the merge.
    batch_rows: usize,
    /// Bytes of an output row group.
    row_group_bytes: usize,
    /// The estimated bytes of a row in memory.
    row_bytes: usize,
}

impl Budget {
    fn new(memory: usize, row_bytes: usize) -> Self {
        let m = memory.max(MIN_SORT_MEMORY);
        let row_bytes = row_bytes.max(1);
        // A 64th of the cap per batch; two are read ahead and one is in use,
        // at both ends of the sort.
        let batch_rows = ((m / 64) / row_bytes).clamp(1, 8192);
        // The merge's quarter holds one spilled batch per run: 64 runs at once.
        let spill_batch_bytes = (m / 4 / 64).max(16 * 1024);
        Self {
            run_bytes: m / 4,
            spill_batch_bytes,
            fan_in: (m / 4 / spill_batch_bytes).max(2),
            batch_rows,
            row_group_bytes: m / 8,
            row_bytes,
        }
    }

    /// Rows per spilled batch for rows of `row_bytes` (measured on the run).
    fn spill_rows(&self, row_bytes: usize) -> usize {
        (self.spill_batch_bytes / row_bytes.max(1)).clamp(1, 8192)
    }
}

/// The bytes of a row once decoded, from the footer: the row groups'
/// uncompressed sizes over their rows (at least 1).
fn row_bytes_estimate(footer: &crate::Footer) -> usize {
    let Some(meta) = &footer.metadata else {
        return 1;
    };
    let (bytes, rows) = meta.row_groups().iter().fold((0u64, 0u64), |(b, r), rg| {
        (
            b.saturating_add(u64::try_from(rg.total_byte_size()).unwrap_or(0)),
            r.saturating_add(u64::try_from(rg.num_rows()).unwrap_or(0)),
        )
    });
    usize::try_from(bytes / rows.max(1))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// The (batch, row) order of buffered batches by key: stable, equal keys
/// keep input order.
fn sort_order(parts: &[(RecordBatch, RowKeys)]) -> Vec<(usize, usize)> {
    // (key, batch, row) sorted as a whole: equal keys keep input order, so
    // the unstable sort is deterministic and stable in effect.
    match parts.first().map(|p| &p.1) {
        Some(RowKeys::U64(_)) => {
            let mut keyed: Vec<(u64, u32, u32)> = Vec::new();
            for (b, (_, k)) in parts.iter().enumerate() {
                if let RowKeys::U64(v) = k {
                    keyed.extend(v.iter().enumerate().map(|(r, key)| {
                        (
                            *key,
                            u32::try_from(b).unwrap_or(u32::MAX),
                            u32::try_from(r).unwrap_or(u32::MAX),
                        )
                    }));
                }
            }
            keyed.sort_unstable();
            keyed
                .into_iter()
                .map(|(_, b, r)| (b as usize, r as usize))
                .collect()
        }
        _ => {
            let mut order: Vec<(usize, usize)> = parts
                .iter()
                .enumerate()
                .flat_map(|(b, (_, k))| (0..k.len()).map(move |r| (b, r)))
                .collect();
            order.sort_by_cached_key(|&(b, r)| (parts[b].1.get(r), b, r));
            order
        }
    }
}

/// One sorted chunk of `parts`: the rows `chunk` names, and their keys.
fn sorted_chunk(
    parts: &[(RecordBatch, RowKeys)],
    batches: &[&RecordBatch],
    chunk: &[(usize, usize)],
) -> Result<(RecordBatch, RowKeys)> {
    let batch = arrow_select::interleave::interleave_record_batch(batches, chunk)?;
    let keys = match parts.first().map(|p| &p.1) {
        Some(RowKeys::U64(_)) => RowKeys::U64(
            chunk
                .iter()
                .map(|&(b, r)| match &parts[b].1 {
                    RowKeys::U64(v) => v[r],
                    RowKeys::Bytes(_) => u64::MAX,
                })
                .collect(),
        ),
        _ => RowKeys::Bytes(
            chunk
                .iter()
                .map(|&(b, r)| match parts[b].1.get(r) {
                    Key::Bytes(v) => v,
                    Key::U64(v) => v.to_be_bytes().to_vec(),
                })
                .collect(),
        ),
    };
    Ok((batch, keys))
}

/// Calls `f` with consecutive sorted chunks of at most `rows` rows (and their keys).
fn for_sorted(
    parts: &[(RecordBatch, RowKeys)],
    rows: usize,
    mut f: impl FnMut(RecordBatch, RowKeys) -> Result<()>,
) -> Result<()> {
    let order = sort_order(parts);
    let batches: Vec<&RecordBatch> = parts.iter().map(|(b, _)| b).collect();
    for chunk in order.chunks(rows.max(1)) {
        let (batch, keys) = sorted_chunk(parts, &batches, chunk)?;
        f(batch, keys)?;
    }
    Ok(())
}

/// The buffered batches of a sort that fits in one run, as sorted batches of
/// at most `rows` rows made one at a time.
struct SortedChunks {
    parts: Vec<(RecordBatch, RowKeys)>,
    order: Vec<(usize, usize)>,
    next: usize,
    rows: usize,
}

impl SortedChunks {
    fn new(parts: Vec<(RecordBatch, RowKeys)>, rows: usize) -> Self {
        let order = sort_order(&parts);
        Self {
            parts,
            order,
            next: 0,
            rows: rows.max(1),
        }
    }
}

impl Iterator for SortedChunks {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = self.order.len().min(self.next + self.rows);
        let chunk = self.order.get(self.next..end).filter(|c| !c.is_empty())?;
        self.next = end;
        let batches: Vec<&RecordBatch> = self.parts.iter().map(|(b, _)| b).collect();
        Some(sorted_chunk(&self.parts, &batches, chunk).map(|(b, _)| b))
    }
}

/// The name of the key column in spilled runs.
const KEY_COLUMN: &str = "__geoquet_sort_key";

/// A run file being written: Arrow IPC, the rows plus their key column.
struct RunWriter {
    writer: arrow_ipc::writer::FileWriter<std::io::BufWriter<File>>,
    schema: SchemaRef,
}

impl RunWriter {
    fn new(schema: &SchemaRef, keys: &RowKeys, file: File) -> Result<Self> {
        let key_type = keys.to_array().data_type().clone();
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(KEY_COLUMN, key_type, false)));
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let writer =
            arrow_ipc::writer::FileWriter::try_new(std::io::BufWriter::new(file), &schema)?;
        Ok(Self { writer, schema })
    }

    fn write(&mut self, batch: &RecordBatch, keys: &RowKeys) -> Result<()> {
        let mut cols = batch.columns().to_vec();
        cols.push(keys.to_array());
        self.writer
            .write(&RecordBatch::try_new(self.schema.clone(), cols)?)?;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.writer.finish()?;
        Ok(())
    }
}

/// Writes one sorted run (with its key column) to `file` as an Arrow IPC
/// file of batches of `rows` rows: no encoding or compression, the merge
/// reads it back batch by batch.
fn spill_run(
    parts: Vec<(RecordBatch, RowKeys)>,
    schema: &SchemaRef,
    file: File,
    rows: usize,
) -> Result<()> {
    let Some(first) = parts.first() else {
        return Ok(());
    };
    let mut w = RunWriter::new(schema, &first.1, file)?;
    for_sorted(&parts, rows, |batch, keys| w.write(&batch, &keys))?;
    drop(parts);
    w.finish()
}

/// Merges groups of [`Budget::fan_in`] runs into longer runs until no more
/// than that many are left, so that the final merge holds one batch of
/// each within its share of the cap.
fn merge_passes(
    mut runs: Vec<File>,
    schema: &SchemaRef,
    budget: &Budget,
    temp_dir: &Path,
) -> Result<Vec<File>> {
    let fan_in = budget.fan_in.max(2);
    while runs.len() > fan_in {
        let mut next = Vec::with_capacity(runs.len().div_ceil(fan_in));
        let mut rest = runs.into_iter();
        loop {
            let group: Vec<File> = rest.by_ref().take(fan_in).collect();
            if group.len() <= 1 {
                next.extend(group);
                break;
            }
            let out = crate::output::scratch_file(Some(temp_dir))?;
            let file = out.try_clone().map_err(|source| Error::TempDir {
                dir: temp_dir.to_path_buf(),
                source,
            })?;
            let merged = (|| -> Result<()> {
                // Merged batches are as small as spilled ones: the next pass
                // holds one of each run too.
                let rows = budget.spill_rows(budget.row_bytes);
                let mut merge = Merge::new(&group, schema, rows)?.with_keys();
                let mut writer: Option<RunWriter> = None;
                while let Some((batch, keys)) = merge.next_with_keys()? {
                    let w = match &mut writer {
                        Some(w) => w,
                        None => writer.insert(RunWriter::new(
                            schema,
                            &keys,
                            file.try_clone().map_err(|source| Error::TempDir {
                                dir: temp_dir.to_path_buf(),
                                source,
                            })?,
                        )?),
                    };
                    w.write(&batch, &keys)?;
                }
                writer.map_or(Ok(()), RunWriter::finish)
            })();
            merged.map_err(|e| scratch_error(e, temp_dir))?;
            drop(group);
            next.push(out);
        }
        runs = next;
    }
    Ok(runs)
}

/// An external merge sort of record batches by a key per row, with its memory
/// capped: the sort [`sort_file`] runs, for any batches of one schema.
///
/// Pushed batches are buffered until a quarter of the cap is used; the run is
/// then ordered by key on a worker thread (while the next one is buffered) and
/// spilled to an unnamed temporary Arrow IPC file
/// ([`crate::output::scratch_file`]: nothing is left behind, whatever ends the
/// process). [`ExternalSorter::finish`] merges the runs (first in passes of at
/// most 64 when there are more than the merge's share of the cap can hold a
/// batch of) and hands back the rows in key order, stable: rows with equal keys
/// keep the order they were pushed in. Rows that fit in one run are never
/// spilled. The cap is shared as [`SortOptions::memory`] describes.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch, cast::AsArray, types::Int64Type};
/// use arrow_schema::{DataType, Field, Schema};
/// use geoparquet_io::sort::{ExternalSorter, MIN_SORT_MEMORY, RowKeys};
///
/// let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
/// let mut sorter = ExternalSorter::new(schema.clone(), MIN_SORT_MEMORY).with_batch_rows(2);
/// for ids in [vec![5i64, 3], vec![4, 1, 2]] {
///     let keys: Vec<u64> = ids.iter().map(|&i| i as u64 % 3).collect();
///     let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(ids))])?;
///     sorter.push(batch, RowKeys::from(keys))?;
/// }
/// let mut ids = Vec::new();
/// for batch in sorter.finish()? {
///     let batch = batch?;
///     assert!(batch.num_rows() <= 2);
///     ids.extend(batch.column(0).as_primitive::<Int64Type>().values().iter().copied());
/// }
/// // Keys 0 (3), 1 (4, 1), 2 (5, 2): ties in the order pushed.
/// assert_eq!(ids, vec![3, 4, 1, 5, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExternalSorter {
    schema: SchemaRef,
    memory: usize,
    budget: Budget,
    temp_dir: PathBuf,
    /// Rows of the sorted batches handed back; `None`: the budget's.
    batch_rows: Option<usize>,
    /// Spilled runs, in the order they were made.
    runs: Vec<File>,
    pending: Vec<(RecordBatch, RowKeys)>,
    pending_bytes: usize,
    pending_rows: usize,
    /// Whether the keys are bytes (`None` before the first batch).
    bytes_keys: Option<bool>,
    spiller: Option<Spiller>,
}

impl std::fmt::Debug for ExternalSorter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalSorter")
            .field("memory", &self.memory)
            .field("temp_dir", &self.temp_dir)
            .field("runs", &self.runs.len())
            .field("pending_rows", &self.pending_rows)
            .finish_non_exhaustive()
    }
}

impl ExternalSorter {
    /// A sorter of batches of `schema` holding at most about `memory` bytes
    /// (at least [`MIN_SORT_MEMORY`]), spilling to the system temporary directory.
    #[must_use]
    pub fn new(schema: SchemaRef, memory: usize) -> Self {
        Self::with_budget(schema, memory, Budget::new(memory, 1))
    }

    fn with_budget(schema: SchemaRef, memory: usize, budget: Budget) -> Self {
        Self {
            schema,
            memory,
            budget,
            temp_dir: std::env::temp_dir(),
            batch_rows: None,
            runs: Vec::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            pending_rows: 0,
            bytes_keys: None,
            spiller: None,
        }
    }

    /// The same sorter spilling its runs to `dir`.
    #[must_use]
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = dir.into();
        self
    }

    /// The same sorter handing back sorted batches of `rows` rows (the last one
    /// may be shorter); by default a 64th of the cap's worth, at most 8192 rows.
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = Some(rows.max(1));
        self
    }

    /// Runs spilled so far (0 while everything fits in memory).
    #[must_use]
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Adds a batch and its keys, one per row; spills a run when the buffered
    /// rows reach their share of the cap.
    ///
    /// Keys of another count than the batch's rows, or of another kind than the
    /// previous batches' ([`RowKeys::U64`] or [`RowKeys::Bytes`]), are an
    /// [`Error::SortKeysMismatch`].
    pub fn push(&mut self, batch: RecordBatch, keys: RowKeys) -> Result<()> {
        let mismatch = |problem| Error::SortKeysMismatch {
            problem,
            rows: batch.num_rows(),
            keys: keys.len(),
        };
        if keys.len() != batch.num_rows() {
            return Err(mismatch("one key per row"));
        }
        let bytes = matches!(keys, RowKeys::Bytes(_));
        if *self.bytes_keys.get_or_insert(bytes) != bytes {
            return Err(mismatch(
                "keys of one kind (integers or bytes) for every batch",
            ));
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        // The rows, their keys, and the sort's index of them (32 bytes a row).
        self.pending_bytes +=
            batch.get_array_memory_size() + keys.memory() + ORDER_BYTES * batch.num_rows();
        self.pending_rows += batch.num_rows();
        self.pending.push((batch, keys));
        if self.pending_bytes >= self.budget.run_bytes {
            self.spill()?;
        }
        Ok(())
    }

    /// The footer's (or caller's) estimate of a row's size, corrected by what was buffered.
    fn measure_rows(&mut self) {
        self.budget.row_bytes = self
            .budget
            .row_bytes
            .max((self.pending_bytes / self.pending_rows.max(1)).saturating_sub(ORDER_BYTES));
    }

    /// Hands the buffered rows to the spilling thread as one run.
    fn spill(&mut self) -> Result<()> {
        self.measure_rows();
        let run = crate::output::scratch_file(Some(&self.temp_dir))?;
        // The thread writes through its own handle on the temporary file: should
        // the file be removed first (an error here), nothing is left behind.
        let file = run.try_clone().map_err(|source| Error::TempDir {
            dir: self.temp_dir.clone(),
            source,
        })?;
        let rows = self
            .budget
            .spill_rows(self.pending_bytes / self.pending_rows.max(1));
        let parts = std::mem::take(&mut self.pending);
        let (schema, dir) = (&self.schema, &self.temp_dir);
        self.spiller
            .get_or_insert_with(|| Spiller::new(schema.clone(), dir.clone()))
            .send(SpillJob { parts, file, rows })?;
        self.pending_bytes = 0;
        self.pending_rows = 0;
        self.runs.push(run);
        Ok(())
    }

    /// Ends the input: the rows in key order, as batches of the sorter's schema.
    pub fn finish(self) -> Result<SortedBatches> {
        Ok(self.finish_with_budget()?.0)
    }

    /// [`ExternalSorter::finish`], with the budget as corrected by the rows seen.
    fn finish_with_budget(mut self) -> Result<(SortedBatches, Budget)> {
        let rows = self.batch_rows.unwrap_or(self.budget.batch_rows);
        let schema = self.schema.clone();
        if self.runs.is_empty() {
            self.measure_rows();
            let parts = std::mem::take(&mut self.pending);
            let sorted = Sorted::Memory(SortedChunks::new(parts, rows));
            return Ok((SortedBatches { sorted, schema }, self.budget));
        }
        if !self.pending.is_empty() {
            self.spill()?;
        }
        if let Some(mut spiller) = self.spiller.take() {
            spiller.wait()?;
        }
        // More runs than the merge can hold a batch of each: merge groups first.
        let runs = merge_passes(
            std::mem::take(&mut self.runs),
            &schema,
            &self.budget,
            &self.temp_dir,
        )?;
        let merge =
            Merge::new(&runs, &schema, rows).map_err(|e| scratch_error(e, &self.temp_dir))?;
        let sorted = Sorted::Merge(Box::new(merge));
        Ok((SortedBatches { sorted, schema }, self.budget))
    }
}

/// The sorted rows of an [`ExternalSorter`], batch by batch: an iterator of
/// `Result<RecordBatch>`.
pub struct SortedBatches {
    sorted: Sorted,
    schema: SchemaRef,
}

enum Sorted {
    /// Everything fitted in memory.
    Memory(SortedChunks),
    /// A merge of spilled runs.
    Merge(Box<Merge>),
}

impl SortedBatches {
    /// The schema of the batches.
    #[must_use]
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl std::fmt::Debug for SortedBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = match &self.sorted {
            Sorted::Memory(_) => "memory",
            Sorted::Merge(_) => "spilled runs",
        };
        f.debug_struct("SortedBatches")
            .field("from", &from)
            .finish_non_exhaustive()
    }
}

impl Iterator for SortedBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.sorted {
            Sorted::Memory(chunks) => chunks.next(),
            Sorted::Merge(merge) => merge.next(),
        }
    }
}

/// One run for the spilling thread.
struct SpillJob {
    parts: Vec<(RecordBatch, RowKeys)>,
    file: File,
    rows: usize,
}

/// The worker thread that sorts and spills runs, one at a time, while the next
/// run is buffered (a [`crate::workers::prefetch`] of the jobs' results). Dropped,
/// it waits for the run being spilled, so that no thread outlives the sort.
struct Spiller {
    jobs: Option<std::sync::mpsc::SyncSender<SpillJob>>,
    results: crate::workers::Prefetch<Result<()>>,
    /// A job was sent whose result was not taken yet.
    busy: bool,
}

impl Spiller {
    fn new(schema: SchemaRef, dir: PathBuf) -> Self {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<SpillJob>(1);
        let work = queue.into_iter().map(move |job| {
            spill_run(job.parts, &schema, job.file, job.rows).map_err(|e| scratch_error(e, &dir))
        });
        Self {
            jobs: Some(jobs),
            results: crate::workers::prefetch("sort: spill a run", work, 1),
            busy: false,
        }
    }

    /// Waits for the run being spilled, if one is, and returns its result.
    fn wait(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.busy) {
            return Ok(());
        }
        match self.results.next() {
            Some(Ok(spilled)) => spilled,
            Some(Err(panic)) => Err(panic.into()),
            None => Err(Error::Internal {
                invariant: "the spilling thread reports every run",
            }),
        }
    }

    /// Waits for the previous run, then hands over the next.
    fn send(&mut self, job: SpillJob) -> Result<()> {
        self.wait()?;
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        if let Some(Ok(())) = sent {
            self.busy = true;
            return Ok(());
        }
        // The thread is gone: its panic says why.
        self.jobs = None;
        match self.results.next() {
            Some(Err(panic)) => Err(panic.into()),
            _ => Err(Error::Internal {
                invariant: "the spilling thread takes every run",
            }),
        }
    }
}

impl Drop for Spiller {
    fn drop(&mut self) {
        // No more jobs: the thread ends after the current one; draining joins it.
        self.jobs = None;
        for _ in self.results.by_ref() {}
    }
}

/// An I/O error on a run file is the temporary directory's (full or unwritable), not the
/// input's: say so.
fn scratch_error(e: Error, dir: &Path) -> Error {
    match e {
        Error::Arrow(arrow_schema::ArrowError::IoError(_, source)) => Error::TempDir {
            dir: dir.to_path_buf(),
            source,
        },
        Error::Io { source, .. } => Error::TempDir {
            dir: dir.to_path_buf(),
            source,
        },
        e => e,
    }
}

/// One run being merged.
struct RunCursor {
    reader: arrow_ipc::reader::FileReader<std::io::BufReader<File>>,
    /// Index of the current batch in `Merge::batches`.
    slot: usize,
    keys: RowKeys,
    pos: usize,
}

/// K-way merge of sorted runs, as an iterator of batches.
struct Merge {
    runs: Vec<RunCursor>,
    heap: BinaryHeap<std::cmp::Reverse<(Key, usize)>>,
    batches: Vec<RecordBatch>,
    rows: usize,
    schema: SchemaRef,
    /// Whether [`Merge::next_with_keys`] returns the keys (for a merge pass).
    keep_keys: bool,
}

impl Merge {
    fn new(runs: &[File], schema: &SchemaRef, rows: usize) -> Result<Self> {
        let mut m = Self {
            runs: Vec::new(),
            heap: BinaryHeap::new(),
            batches: Vec::new(),
            rows,
            schema: schema.clone(),
            keep_keys: false,
        };
        for (i, run) in runs.iter().enumerate() {
            // The spilling thread's handle shared this one's position: start over.
            let mut file = run.try_clone().map_err(|source| Error::Io {
                path: PathBuf::new(),
                source,
            })?;
            let _ = file.seek(SeekFrom::Start(0)).map_err(|source| Error::Io {
                path: PathBuf::new(),
                source,
            })?;
            let reader =
                arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)?;
            m.runs.push(RunCursor {
                reader,
                slot: 0,
                keys: RowKeys::U64(Vec::new()),
                pos: 0,
            });
            if m.advance(i)? {
                let k = m.runs[i].keys.get(0);
                m.heap.push(std::cmp::Reverse((k, i)));
            }
        }
        Ok(m)
    }

    /// Loads run `i`'s next batch; false when the run is exhausted.
    fn advance(&mut self, i: usize) -> Result<bool> {
        let Some(run) = self.runs.get_mut(i) else {
            return Ok(false);
        };
        let Some(batch) = run.reader.next().transpose()? else {
            return Ok(false);
        };
        let n = batch.num_columns();
        let key_col = batch.column(n - 1);
        run.keys = RowKeys::from_array(key_col.as_ref()).ok_or(Error::Internal {
            invariant: "a spilled run keeps its key column",
        })?;
        run.pos = 0;
        let data = RecordBatch::try_new(self.schema.clone(), batch.columns()[..n - 1].to_vec())?;
        self.batches.push(data);
        run.slot = self.batches.len() - 1;
        Ok(true)
    }

    /// The same merge, returning each batch's keys too.
    fn with_keys(mut self) -> Self {
        self.keep_keys = true;
        self
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        Ok(self.next_with_keys()?.map(|(b, _)| b))
    }

    /// The next merged batch, with its keys when [`Merge::with_keys`] was asked
    /// (else empty keys).
    fn next_with_keys(&mut self) -> Result<Option<(RecordBatch, RowKeys)>> {
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(self.rows);
        let mut keys: Vec<Key> = Vec::new();
        while picks.len() < self.rows {
            let Some(std::cmp::Reverse((key, i))) = self.heap.pop() else {
                break;
            };
            let (slot, pos) = (self.runs[i].slot, self.runs[i].pos);
            picks.push((slot, pos));
            if self.keep_keys {
                keys.push(key);
            }
            self.runs[i].pos += 1;
            let more = if self.runs[i].pos < self.runs[i].keys.len() {
                true
            } else {
                self.advance(i)?
            };
            if more {
                let k = self.runs[i].keys.get(self.runs[i].pos);
                self.heap.push(std::cmp::Reverse((k, i)));
            }
        }
        if picks.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&RecordBatch> = self.batches.iter().collect();
        let out = arrow_select::interleave::interleave_record_batch(&refs, &picks)?;
        // Keep only the batches runs still point at.
        let mut kept: Vec<RecordBatch> = Vec::new();
        for run in &mut self.runs {
            if let Some(b) = self.batches.get(run.slot) {
                kept.push(b.clone());
                run.slot = kept.len() - 1;
            }
        }
        self.batches = kept;
        let keys = match keys.first() {
            Some(Key::Bytes(_)) => RowKeys::Bytes(
                keys.into_iter()
                    .map(|k| match k {
                        Key::Bytes(v) => v,
                        Key::U64(v) => v.to_be_bytes().to_vec(),
                    })
                    .collect(),
            ),
            _ => RowKeys::U64(
                keys.into_iter()
                    .map(|k| match k {
                        Key::U64(v) => v,
                        Key::Bytes(_) => u64::MAX,
                    })
                    .collect(),
            ),
        };
        Ok(Some((out, keys)))
    }
}

impl Iterator for Merge {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

// --- spatial overlap -----------------------------------------------------------------

/// How much consecutive row groups overlap, from 0 (disjoint boxes: spatially
/// ordered) to 1 (every row group spans the same area: random order): the mean
/// over consecutive pairs of their boxes' intersection over union (for
/// degenerate boxes, 1 when they touch, else 0). Row-group boxes come
/// from the footer statistics (covering, GeospatialStatistics, native x/y)
/// or, without them, from a pass over the primary geometry column. `None`
/// for files with fewer than two row groups.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let overlap = geoparquet_io::sort::spatial_overlap(path.as_ref())?;
/// assert_eq!(overlap, None); // one row group
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn spatial_overlap(path: &Path) -> Result<Option<f64>> {
    let boxes = row_group_extents(path)?;
    Ok(overlap_of(&boxes))
}

/// Each row group's box of the primary geometry column.
pub fn row_group_extents(path: &Path) -> Result<Vec<Option<BoundingBox>>> {
    let footer = crate::read_footer(path)?;
    let Some(md) = footer.metadata.as_ref() else {
        return Ok(Vec::new());
    };
    let Some(Ok(meta)) = footer.facts.geoparquet_metadata() else {
        return Ok(Vec::new());
    };
    if md.num_row_groups() < 2 {
        return Ok(vec![None; md.num_row_groups()]);
    }
    if let Some(b) = row_group_boxes(md, &meta, &meta.primary_column)
        && b.iter().all(Option::is_some)
    {
        return Ok(b);
    }
    // From the data, one row group at a time.
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::NotParquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let descr = builder.metadata().file_metadata().schema_descr_ptr();
    let Some(root) = descr
        .root_schema()
        .get_fields()
        .iter()
        .position(|f| f.name() == meta.primary_column)
    else {
        return Ok(Vec::new());
    };
    let mask = parquet::arrow::ProjectionMask::roots(&descr, [root]);
    // The leaf of a WKB column is the column itself; a native one has several.
    let leaf = (0..descr.num_columns())
        .any(|l| descr.column(l).path().parts() == [meta.primary_column.clone()])
        .then(|| meta.primary_column.clone());
    // The decoder fails (or panics) on damaged pages: corrupt data in this file.
    let corrupt = |rg: usize, message: String| Error::CorruptData {
        path: path.to_path_buf(),
        column: leaf.clone(),
        row_group: Some(rg),
        message,
    };
    let mut out = Vec::new();
    for rg in 0..md.num_row_groups() {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let built = crate::corrupt::catch_panic(|| {
            ParquetRecordBatchReaderBuilder::try_new(file)?
                .with_projection(mask.clone())
                .with_row_groups(vec![rg])
                .build()
        });
        let mut reader = match built {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(corrupt(rg, e.to_string())),
            Err(panic) => return Err(corrupt(rg, format!("the Parquet decoder failed: {panic}"))),
        };
        let mut e = BoundingBox::empty();
        loop {
            let batch = match crate::corrupt::catch_panic(|| reader.next()) {
                Ok(None) => break,
                Ok(Some(Ok(b))) => b,
                Ok(Some(Err(e))) => return Err(corrupt(rg, e.to_string())),
                Err(panic) => {
                    return Err(corrupt(rg, format!("the Parquet decoder failed: {panic}")));
                }
            };
            let a = batch.column(0);
            let native = meta
                .columns
                .get(&meta.primary_column)
                .and_then(|c| match c.encoding {
                    geoparquet_meta::Encoding::Native(t) => Some(t),
                    _ => None,
                });
            let bin;
            let values = match native {
                Some(t) => {
                    bin = crate::native::to_wkb(a.as_ref(), t, &meta.primary_column)?;
                    crate::wkb_column::WkbColumn::Binary(&bin)
                }
                None => wkb_values(a.as_ref())?,
            };
            for i in 0..values.len() {
                if let Some(b) = values.value(i).and_then(|v| wkb_info(v).ok()?.bbox) {
                    e.expand_xy(b.xmin, b.ymin);
                    e.expand_xy(b.xmax, b.ymax);
                }
            }
        }
        out.push(e.is_usable().then_some(e));
    }
    Ok(out)
}

/// The overlap figure of a sequence of row-group boxes (see [`spatial_overlap`]).
///
/// ```
/// use geoparquet_io::meta::BoundingBox;
/// use geoparquet_io::sort::overlap_of;
///
/// let a = Some(BoundingBox::new(0.0, 0.0, 1.0, 1.0));
/// let b = Some(BoundingBox::new(1.0, 0.0, 2.0, 1.0));
/// assert_eq!(overlap_of(&[a, b]), Some(0.0)); // touching edges, no area shared
/// assert_eq!(overlap_of(&[a, a]), Some(1.0));
/// ```
pub fn overlap_of(boxes: &[Option<BoundingBox>]) -> Option<f64> {
    if boxes.len() < 2 {
        return None;
    }
    let mut sum = 0.0;
    let mut n = 0usize;
    for w in boxes.windows(2) {
        let (Some(a), Some(b)) = (w[0], w[1]) else {
            continue;
        };
        let ix = (a.xmax.min(b.xmax) - a.xmin.max(b.xmin)).max(0.0);
        let iy = (a.ymax.min(b.ymax) - a.ymin.max(b.ymin)).max(0.0);
        let area = |b: &BoundingBox| (b.xmax - b.xmin) * (b.ymax - b.ymin);
        let inter = ix * iy;
        let union = area(&a) + area(&b) - inter;
        let touches = a.xmax >= b.xmin && b.xmax >= a.xmin && a.ymax >= b.ymin && b.ymax >= a.ymin;
        sum += if union > 0.0 {
            (inter / union).clamp(0.0, 1.0)
        } else if touches {
            1.0
        } else {
            0.0
        };
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;

    /// Every share of the cap added up stays within it, in both phases, for
    /// small and wide rows.
    #[test]
    fn the_budget_adds_up_to_the_cap() {
        for memory in [0, 1 << 20, 4 << 20, 16 << 20, 100 << 20, 256 << 20, 4 << 30] {
            for row_bytes in [1, 40, 125, 1000, 100_000, 50 << 20] {
                let b = Budget::new(memory, row_bytes);
                let m = memory.max(MIN_SORT_MEMORY);
                // A batch is at most a 64th of the cap unless one row is bigger.
                let batch = b.batch_rows * row_bytes;
                assert!(batch <= (m / 64).max(row_bytes), "{memory} {row_bytes}");
                // Runs: the one filling, the one spilling, three batches.
                assert!(2 * b.run_bytes + 3 * (m / 64) <= m);
                // Merge: a spilled batch of each run merged at once, two row
                // groups with their encoded pages, three batches.
                let spill = b.spill_rows(row_bytes) * row_bytes;
                assert!(spill <= b.spill_batch_bytes.max(row_bytes));
                assert!(
                    b.fan_in * b.spill_batch_bytes + 4 * b.row_group_bytes + 3 * (m / 64) <= m,
                    "{memory} {row_bytes}: {b:?}"
                );
                assert!(b.fan_in >= 2);
            }
        }
    }

    fn run_of(keys: &[u64], first_id: i64, dir: &Path) -> File {
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(
                first_id..first_id + keys.len() as i64,
            ))],
        )
        .unwrap();
        let file = crate::output::scratch_file(Some(dir)).unwrap();
        spill_run(
            vec![(batch, RowKeys::U64(keys.to_vec()))],
            &schema,
            file.try_clone().unwrap(),
            3,
        )
        .unwrap();
        file
    }

    /// More runs than the fan-in: merged in passes, the result is the same
    /// stable order as one merge of all of them.
    #[test]
    fn merge_passes_keep_the_order_of_one_merge() {
        let dir = tempfile::tempdir().unwrap();
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        // Eleven runs of sorted keys with many ties across runs.
        let mut expected: Vec<(u64, i64)> = Vec::new();
        let mut runs = Vec::new();
        for r in 0..11u64 {
            let keys: Vec<u64> = (0..(5 + r)).map(|i| (i * (r % 3 + 1)) % 9).collect();
            let mut keys = keys;
            keys.sort_unstable();
            let first = (r * 100) as i64;
            expected.extend(keys.iter().enumerate().map(|(i, k)| (*k, first + i as i64)));
            runs.push(run_of(&keys, first, dir.path()));
        }
        // Stable: equal keys in run order, then row order.
        expected.sort_by_key(|&(k, _)| k);
        let budget = Budget {
            fan_in: 3,
            ..Budget::new(MIN_SORT_MEMORY, 8)
        };
        let runs = merge_passes(runs, &schema, &budget, dir.path()).unwrap();
        assert!(runs.len() <= 3, "{} runs left", runs.len());
        let mut got = Vec::new();
        for batch in Merge::new(&runs, &schema, 4).unwrap() {
            let batch = batch.unwrap();
            let ids = batch.column(0).as_primitive::<Int64Type>();
            got.extend(ids.values().iter().copied());
        }
        let want: Vec<i64> = expected.iter().map(|&(_, id)| id).collect();
        assert_eq!(got, want);
    }
}
