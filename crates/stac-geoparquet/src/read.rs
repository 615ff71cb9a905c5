//! stac-geoparquet to Items: ours, Python stac-geoparquet's, rustac's and the
//! legacy layouts; with STAC API-like search and row-group pruning.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use geoparquet_io::meta::{BoundingBox, Encoding, GeoParquetMetadata};
use geoparquet_io::reader::GeoParquetReaderExt;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;
use serde_json::{Map, Value};

use crate::datetime;
use crate::decode::{DecodeOptions, items};
use crate::error::{DatetimeProblem, Error, Result};
use crate::patches::{FooterPatches, PATCHES_METADATA_KEY, RowMap};
use crate::write::{LAYOUT_METADATA_KEY, STAC_GEOPARQUET_METADATA_KEY};

/// Rows decoded into items at a time.
const DECODE_ROWS: usize = 32;

/// Default rows per batch when reading.
pub const DEFAULT_READ_BATCH_ROWS: usize = 4_096;

/// The STAC metadata of a file, from whichever key it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StacMetadata {
    /// The key it was found under: `stac-geoparquet`, `stac:collection`,
    /// `stac_geoparquet:version`, `stac:geoparquet_version`; `None` (pre-1.0
    /// files with no STAC key).
    pub key: Option<String>,
    /// The stac-geoparquet version, when stated.
    pub version: Option<String>,
    /// Collections by id (`collections`, the deprecated `collection`, or the
    /// `stac:collection` key).
    pub collections: Map<String, Value>,
    /// Whether the file was written by this crate (lossless conventions).
    pub lossless: bool,
}

fn kv(meta: &ParquetMetaData, key: &str) -> Option<String> {
    meta.file_metadata()
        .key_value_metadata()?
        .iter()
        .find(|k| k.key == key)
        .and_then(|k| k.value.clone())
}

fn add_collection(map: &mut Map<String, Value>, c: Value) {
    let id = c.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    map.insert(id, c);
}

/// Reads the STAC metadata of a footer (every historical key).
pub(crate) fn stac_metadata(meta: &ParquetMetaData, schema: &Schema) -> StacMetadata {
    let get = |k: &str| kv(meta, k).or_else(|| schema.metadata().get(k).cloned());
    let mut out = StacMetadata {
        lossless: get(LAYOUT_METADATA_KEY).is_some(),
        ..StacMetadata::default()
    };
    if let Some(text) = get(STAC_GEOPARQUET_METADATA_KEY) {
        out.key = Some(STAC_GEOPARQUET_METADATA_KEY.into());
        if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
            out.version = o.get("version").and_then(Value::as_str).map(str::to_owned);
            if let Some(Value::Object(cs)) = o.get("collections") {
                out.collections.extend(cs.clone());
            }
            if let Some(c @ Value::Object(_)) = o.get("collection") {
                add_collection(&mut out.collections, c.clone());
            }
        }
    } else if let Some(text) = get("stac:collection") {
        out.key = Some("stac:collection".into());
        if let Ok(c @ Value::Object(_)) = serde_json::from_str::<Value>(&text) {
            add_collection(&mut out.collections, c);
        }
    } else {
        for k in ["stac_geoparquet:version", "stac:geoparquet_version"] {
            if let Some(v) = get(k) {
                out.key = Some(k.into());
                out.version = Some(v.trim_matches('"').to_owned());
                break;
            }
        }
    }
    out
}

/// A STAC API `datetime` filter: an instant, or an interval whose ends may be
/// open, in nanoseconds since 1970-01-01T00:00:00Z.
///
/// Parsed from an RFC 3339 instant, or an interval `start/end` with `..` (or
/// nothing) for an open end (`a/b`, `../b`, `a/..`). A full date (`2020-01-01`)
/// stands for the whole day: its first instant as a start, its last as an end
/// (and as an instant). It prints as `start/end` in UTC (`..` for an open end),
/// which parses back to the same interval.
///
/// ```
/// use stac_geoparquet::DatetimeInterval;
///
/// let day: DatetimeInterval = "2020-01-01".parse()?;
/// assert_eq!(day.to_string(), "2020-01-01T00:00:00Z/2020-01-01T23:59:59.999999999Z");
/// assert_eq!(day.to_string().parse::<DatetimeInterval>()?, day);
///
/// let open: DatetimeInterval = "2020-01-01T05:00:00+05:00/..".parse()?;
/// assert_eq!(open.start, Some(1_577_836_800_000_000_000));
/// assert_eq!(open.end, None);
/// assert_eq!(open.to_string(), "2020-01-01T00:00:00Z/..");
///
/// assert!("2021-01-01T00:00:00Z/2020-01-01T00:00:00Z".parse::<DatetimeInterval>().is_err());
/// assert!("../..".parse::<DatetimeInterval>().is_err());
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatetimeInterval {
    /// The first instant (`None`: open).
    pub start: Option<i128>,
    /// The last instant (`None`: open).
    pub end: Option<i128>,
}

impl std::str::FromStr for DatetimeInterval {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        const DAY: i128 = 86_400 * 1_000_000_000;
        let bad = |problem: DatetimeProblem| Error::InvalidDatetime {
            text: text.to_owned(),
            problem,
        };
        // An end: `None` when open; `end` picks the last instant of a date.
        let one = |s: &str, end: bool| -> Result<Option<i128>> {
            let s = s.trim();
            if s.is_empty() || s == ".." {
                return Ok(None);
            }
            if let Some(p) = datetime::parse(s) {
                return Ok(Some(p.nanos));
            }
            match datetime::parse(&format!("{s}T00:00:00Z")) {
                Some(p) if s.len() == 10 => Ok(Some(if end { p.nanos + DAY - 1 } else { p.nanos })),
                _ => Err(bad(DatetimeProblem::NotRfc3339 { end: s.to_owned() })),
            }
        };
        let (start, end) = match text.split_once('/') {
            Some((a, b)) => {
                if b.contains('/') {
                    return Err(bad(DatetimeProblem::MoreThanTwoEnds));
                }
                let (lo, hi) = (one(a, false)?, one(b, true)?);
                if lo.is_none() && hi.is_none() {
                    return Err(bad(DatetimeProblem::BothEndsOpen));
                }
                (lo, hi)
            }
            None => {
                let (lo, hi) = (one(text, false)?, one(text, true)?);
                if lo.is_none() {
                    return Err(bad(DatetimeProblem::Empty));
                }
                (lo, hi)
            }
        };
        if let (Some(a), Some(b)) = (start, end)
            && a > b
        {
            return Err(bad(DatetimeProblem::StartAfterEnd));
        }
        Ok(DatetimeInterval { start, end })
    }
}

impl std::fmt::Display for DatetimeInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |e: Option<i128>| e.map_or_else(|| "..".to_owned(), |n| datetime::format(n, 0));
        write!(f, "{}/{}", end(self.start), end(self.end))
    }
}

impl DatetimeInterval {
    /// Whether `[start, end]` (nanoseconds; an item's interval) meets this one.
    fn meets(&self, start: i128, end: i128) -> bool {
        !(self.start.is_some_and(|lo| end < lo) || self.end.is_some_and(|hi| start > hi))
    }
}

/// A search like a STAC API item search: every filter set must match.
///
/// ```
/// use stac_geoparquet::Search;
///
/// let search = Search::default()
///     .with_bbox([0.0, 40.0, 10.0, 50.0])
///     .with_datetime("2020-01-01T00:00:00Z/..".parse()?)
///     .with_limit(10);
/// let item = serde_json::json!({
///     "type": "Feature", "id": "a", "bbox": [1.0, 45.0, 2.0, 46.0],
///     "properties": {"datetime": "2021-06-01T00:00:00Z"},
/// });
/// assert!(search.matches(&item));
/// assert!(!search.clone().with_ids(vec!["b".into()]).matches(&item));
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Search {
    /// Items whose bbox intersects this `[xmin, ymin, xmax, ymax]` (xmin >
    /// xmax crosses the antimeridian). Default: `None` (any).
    pub bbox: Option<[f64; 4]>,
    /// Items whose datetime (or start/end interval) meets this interval.
    /// Default: `None` (any).
    pub datetime: Option<DatetimeInterval>,
    /// Items of these collections. Default: empty (any).
    pub collections: Vec<String>,
    /// Items with these ids. Default: empty (any).
    pub ids: Vec<String>,
    /// At most this many items. Default: `None` (all).
    pub limit: Option<usize>,
}

impl Search {
    /// The same search with another [`bbox`](Self::bbox).
    #[must_use]
    pub fn with_bbox(mut self, bbox: [f64; 4]) -> Self {
        self.bbox = Some(bbox);
        self
    }

    /// The same search with another [`datetime`](Self::datetime).
    #[must_use]
    pub fn with_datetime(mut self, datetime: DatetimeInterval) -> Self {
        self.datetime = Some(datetime);
        self
    }

    /// The same search with other [`collections`](Self::collections).
    #[must_use]
    pub fn with_collections(mut self, collections: Vec<String>) -> Self {
        self.collections = collections;
        self
    }

    /// The same search with other [`ids`](Self::ids).
    #[must_use]
    pub fn with_ids(mut self, ids: Vec<String>) -> Self {
        self.ids = ids;
        self
    }

    /// The same search with another [`limit`](Self::limit).
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    fn is_empty(&self) -> bool {
        self.bbox.is_none()
            && self.datetime.is_none()
            && self.collections.is_empty()
            && self.ids.is_empty()
    }

    /// Does this item match (all filters but the limit)?
    pub fn matches(&self, item: &Value) -> bool {
        if !self.ids.is_empty()
            && !item
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| self.ids.iter().any(|x| x == id))
        {
            return false;
        }
        if !self.collections.is_empty()
            && !item
                .get("collection")
                .and_then(Value::as_str)
                .is_some_and(|c| self.collections.iter().any(|x| x == c))
        {
            return false;
        }
        if let Some(q) = self.bbox {
            let Some(b) = item_bbox(item) else {
                return false;
            };
            let q = BoundingBox::new(q[0], q[1], q[2], q[3]);
            if !b.intersects(&q) {
                return false;
            }
        }
        if let Some(interval) = self.datetime {
            let props = item.get("properties");
            let get = |k: &str| {
                props
                    .and_then(|p| p.get(k))
                    .and_then(Value::as_str)
                    .and_then(datetime::parse)
                    .map(|p| p.nanos)
            };
            let dt = get("datetime");
            let (Some(start), Some(end)) =
                (get("start_datetime").or(dt), get("end_datetime").or(dt))
            else {
                return false;
            };
            if !interval.meets(start, end) {
                return false;
            }
        }
        true
    }
}

/// An item's bbox, or its geometry's box when it has none.
fn item_bbox(item: &Value) -> Option<BoundingBox> {
    let Some(b) = item.get("bbox").and_then(Value::as_array) else {
        let g = crate::geom::bbox_of(item.get("geometry")?)?;
        return Some(BoundingBox::new(g[0], g[1], g[2], g[3]));
    };
    let f: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
    match f.len() {
        4 => Some(BoundingBox::new(f[0], f[1], f[2], f[3])),
        6 => Some(BoundingBox::new(f[0], f[1], f[3], f[4])),
        _ => None,
    }
}

/// Options of [`open_with`] and [`write_ndjson`].
///
/// ```
/// use stac_geoparquet::{ReadOptions, Search};
///
/// let options = ReadOptions::default()
///     .with_batch_rows(1_024)
///     .with_search(Search::default().with_limit(5));
/// assert_eq!(options.search.limit, Some(5));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Rows per batch read from the file. Default: [`DEFAULT_READ_BATCH_ROWS`].
    pub batch_rows: usize,
    /// Filters (with pruning of row groups by their statistics). Default:
    /// none (every item).
    pub search: Search,
}

impl ReadOptions {
    /// The same options with another [`batch_rows`](Self::batch_rows).
    #[must_use]
    pub fn with_batch_rows(mut self, batch_rows: usize) -> Self {
        self.batch_rows = batch_rows;
        self
    }

    /// The same options with another [`search`](Self::search).
    #[must_use]
    pub fn with_search(mut self, search: Search) -> Self {
        self.search = search;
        self
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_rows: DEFAULT_READ_BATCH_ROWS,
            search: Search::default(),
        }
    }
}

/// The items of `rows` of `batch` (whose first row is row `first_row` of `file`)
/// that match `search`; a decoding error names the file and row.
fn decode_rows(
    batch: &RecordBatch,
    decode: &DecodeOptions,
    search: &Search,
    file: &Path,
    first_row: u64,
    rows: std::ops::Range<usize>,
) -> Result<Vec<Value>> {
    let start = rows.start as u64;
    let mut items = items(batch, decode, rows, first_row).map_err(|message| Error::Decode {
        path: file.to_path_buf(),
        row: first_row + start,
        message,
    })?;
    if !search.is_empty() {
        items.retain(|i| search.matches(i));
    }
    Ok(items)
}

/// Items of a stac-geoparquet file, one at a time (a batch is decoded at once),
/// from [`open`] or [`open_with`].
///
/// ```
/// # use stac_geoparquet::{Source, WriterOptions, write_parquet};
/// # let dir = tempfile::tempdir()?;
/// # let input = dir.path().join("items.ndjson");
/// # std::fs::write(&input, r#"{"type":"Feature","stac_version":"1.1.0","id":"a","geometry":null,"properties":{"datetime":null},"links":[],"assets":{}}"#)?;
/// # let path = dir.path().join("items.parquet");
/// # write_parquet(&[Source::Path(input)], &path, &WriterOptions::default())?;
/// let reader = stac_geoparquet::open(&path)?;
/// assert!(reader.metadata().lossless, "written by this crate");
/// assert_eq!(reader.row_groups(), (1, 1));
/// let items: Vec<serde_json::Value> = reader.collect::<Result<_, _>>()?;
/// assert_eq!(items[0]["id"], "a");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ItemReader {
    /// Batches read, decompressed and prepared on a thread of their own.
    inner: geoparquet_io::workers::Prefetch<Result<RecordBatch>>,
    decode: DecodeOptions,
    file: PathBuf,
    metadata: StacMetadata,
    search: Search,
    pending: VecDeque<Value>,
    /// The batch being decoded, and the next row of it.
    current: Option<(RecordBatch, usize)>,
    returned: usize,
    row_groups_total: usize,
    row_groups_read: usize,
    row: u64,
}

impl std::fmt::Debug for ItemReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemReader")
            .field("file", &self.file)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl ItemReader {
    /// The file's STAC metadata.
    pub fn metadata(&self) -> &StacMetadata {
        &self.metadata
    }

    /// Row groups in the file, and row groups left to read after pruning.
    pub fn row_groups(&self) -> (usize, usize) {
        (self.row_groups_total, self.row_groups_read)
    }
}

fn prepare(
    native: &[(String, geoparquet_io::meta::GeometryType)],
    batch: RecordBatch,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = Vec::with_capacity(schema.fields().len());
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        if let Some((_, t)) = native.iter().find(|(n, _)| n == f.name()) {
            let wkb = geoparquet_io::native::to_wkb(c.as_ref(), *t, f.name())?;
            fields.push(Field::new(f.name(), DataType::Binary, true));
            cols.push(Arc::new(wkb));
            continue;
        }
        if let DataType::Dictionary(_, value) = f.data_type() {
            let c = arrow_cast::cast(c.as_ref(), value)?;
            fields.push(
                Field::new(f.name(), value.as_ref().clone(), true)
                    .with_metadata(f.metadata().clone()),
            );
            cols.push(c);
            continue;
        }
        fields.push(f.as_ref().clone());
        cols.push(c.clone());
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

impl Iterator for ItemReader {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        loop {
            if self.search.limit.is_some_and(|l| self.returned >= l) {
                return None;
            }
            if let Some(v) = self.pending.pop_front() {
                self.returned += 1;
                return Some(Ok(v));
            }
            if let Some((batch, next)) = &mut self.current
                && *next < batch.num_rows()
            {
                // A few rows at a time: short-lived values, recycled memory.
                let end = (*next + DECODE_ROWS).min(batch.num_rows());
                let range = *next..end;
                *next = end;
                // Arrays of a damaged page can break arrow's assertions while decoding.
                let decoded = geoparquet_io::corrupt::catch_panic(|| {
                    decode_rows(
                        batch,
                        &self.decode,
                        &self.search,
                        &self.file,
                        self.row,
                        range,
                    )
                })
                .unwrap_or_else(|panic| {
                    Err(Error::CorruptData {
                        path: self.file.clone(),
                        message: format!("the decoder failed on damaged data: {panic}"),
                    })
                });
                match decoded {
                    Ok(items) => self.pending.extend(items),
                    Err(e) => return Some(Err(e)),
                }
                continue;
            }
            if let Some((batch, _)) = self.current.take() {
                self.row += batch.num_rows() as u64;
            }
            match self.inner.next()? {
                Ok(Ok(b)) => self.current = Some((b, 0)),
                Ok(Err(e)) => return Some(Err(e)),
                Err(panic) => return Some(Err(panic.into())),
            }
        }
    }
}

/// What a row group's statistics say of a timestamp column.
#[derive(Clone, Copy)]
enum Span {
    /// Nothing known (no column, no statistics).
    Unknown,
    /// Every value is null.
    Empty,
    /// Values lie in `[min, max]` (nanoseconds).
    Range(i128, i128),
}

fn ts_stats(meta: &ParquetMetaData, schema: &Schema, name: &str, rg: usize) -> Span {
    let Ok(field) = schema.field_with_name(name) else {
        return Span::Empty;
    };
    let DataType::Timestamp(unit, _) = field.data_type() else {
        return Span::Unknown;
    };
    let scale: i128 = match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    };
    let group = meta.row_group(rg);
    let Some(col) = group
        .columns()
        .iter()
        .find(|c| c.column_path().parts() == [name.to_owned()])
    else {
        return Span::Unknown;
    };
    match col.statistics() {
        Some(Statistics::Int64(s)) => match (s.min_opt(), s.max_opt()) {
            (Some(lo), Some(hi)) => Span::Range(i128::from(*lo) * scale, i128::from(*hi) * scale),
            _ if s.null_count_opt() == u64::try_from(group.num_rows()).ok() => Span::Empty,
            _ => Span::Unknown,
        },
        _ => Span::Unknown,
    }
}

fn string_stats(meta: &ParquetMetaData, name: &str, rg: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    let group = meta.row_group(rg);
    let col = group
        .columns()
        .iter()
        .find(|c| c.column_path().parts() == [name.to_owned()])?;
    match col.statistics()? {
        Statistics::ByteArray(s) if s.min_is_exact() && s.max_is_exact() => {
            Some((s.min_opt()?.data().to_vec(), s.max_opt()?.data().to_vec()))
        }
        _ => None,
    }
}

/// Can row group `rg` hold a match? (Unknown: yes.)
fn keep_group(meta: &ParquetMetaData, schema: &Schema, search: &Search, rg: usize) -> bool {
    if let Some(interval) = search.datetime {
        let spans = [
            ts_stats(meta, schema, "datetime", rg),
            ts_stats(meta, schema, "start_datetime", rg),
            ts_stats(meta, schema, "end_datetime", rg),
        ];
        // Every row's interval lies within the union of what the three
        // columns hold (an item has datetime, or start and end).
        if !spans.iter().any(|s| matches!(s, Span::Unknown)) {
            let ranges: Vec<(i128, i128)> = spans
                .iter()
                .filter_map(|s| match s {
                    Span::Range(a, b) => Some((*a, *b)),
                    _ => None,
                })
                .collect();
            let min = ranges.iter().map(|r| r.0).min();
            let max = ranges.iter().map(|r| r.1).max();
            if let (Some(min), Some(max)) = (min, max)
                && !interval.meets(min, max)
            {
                return false;
            }
        }
    }
    for (name, wanted) in [("id", &search.ids), ("collection", &search.collections)] {
        if wanted.is_empty() {
            continue;
        }
        if let Some((min, max)) = string_stats(meta, name, rg)
            && !wanted
                .iter()
                .any(|w| w.as_bytes() >= min.as_slice() && w.as_bytes() <= max.as_slice())
        {
            return false;
        }
    }
    true
}

/// Opens a stac-geoparquet file (ours, Python stac-geoparquet's, rustac's,
/// or a legacy layout) for reading items, with the default [`ReadOptions`].
///
/// ```no_run
/// for item in stac_geoparquet::open("items.parquet")? {
///     println!("{}", item?["id"]);
/// }
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<ItemReader> {
    open_with(path, ReadOptions::default())
}

/// [`open`] with options: a [`Search`] (row groups are skipped by their
/// statistics, then each item is tested) and the batch size.
///
/// ```no_run
/// use stac_geoparquet::{ReadOptions, Search, open_with};
///
/// let search = Search::default().with_ids(vec!["a".into()]);
/// for item in open_with("items.parquet", ReadOptions::default().with_search(search))? {
///     println!("{}", item?["id"]);
/// }
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
pub fn open_with(path: impl AsRef<Path>, options: ReadOptions) -> Result<ItemReader> {
    let path = path.as_ref();
    let name = path.to_path_buf();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // A damaged `ARROW:schema` key can trip upstream's IPC schema decoder into a
    // panic (arrow-ipc `convert.rs`: an integer 8390720 bits wide): an error here.
    let builder = geoparquet_io::corrupt::catch_panic(|| {
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, ArrowReaderOptions::new())
    })
    .unwrap_or_else(|panic| {
        Err(parquet::errors::ParquetError::General(format!(
            "the footer cannot be decoded: {panic}"
        )))
    })
    .map_err(|source| Error::NotParquet {
        path: name.clone(),
        source,
    })?;
    let schema = builder.schema().clone();
    let meta = builder.metadata().clone();
    let stac = stac_metadata(&meta, &schema);
    let geo: Option<GeoParquetMetadata> = builder.geoparquet_metadata().ok().flatten();
    let native: Vec<(String, geoparquet_io::meta::GeometryType)> = geo
        .as_ref()
        .map(|g| {
            g.columns
                .iter()
                .filter_map(|(n, c)| match &c.encoding {
                    Encoding::Native(t) => Some((n.clone(), *t)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let total = meta.num_row_groups();
    let mut groups: Vec<usize> = (0..total).collect();
    let search = &options.search;
    if let (Some(q), Some(g)) = (search.bbox, geo.as_ref()) {
        let plan = builder.bbox_plan(
            g,
            &g.primary_column,
            &BoundingBox::new(q[0], q[1], q[2], q[3]),
        );
        groups.retain(|rg| plan.row_groups.contains(rg));
    }
    groups.retain(|rg| keep_group(&meta, &schema, search, *rg));
    let layout = kv(&meta, LAYOUT_METADATA_KEY)
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .unwrap_or(Value::Null);
    let empty_assets = layout
        .get("empty_assets")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let explicit_nulls: Vec<String> = layout
        .get("explicit_nulls")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let patches = match kv(&meta, PATCHES_METADATA_KEY) {
        Some(text) if stac.lossless => {
            let p = FooterPatches::decode(&text).map_err(|reason| Error::BadPatches {
                path: name.clone(),
                reason,
            })?;
            let rows: Vec<u64> = meta
                .row_groups()
                .iter()
                .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
                .collect();
            Some(Arc::new((p, RowMap::new(&rows, &groups))))
        }
        _ => None,
    };
    let read = groups.len();
    let batches = builder
        .with_row_groups(groups)
        .with_batch_size(options.batch_rows.max(1))
        .build()?;
    // Damaged pages: the decoder's error (or panic: its arithmetic trusts the page
    // headers) names the file, and the batches end there (upstream may fail again on
    // every call).
    let mut batches = batches;
    let mut failed = false;
    let file = name.clone();
    let prepared = std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let next = geoparquet_io::corrupt::catch_panic(|| {
            batches
                .next()
                .map(|b| b.map_err(Error::from).and_then(|b| prepare(&native, b)))
        })
        .unwrap_or_else(|panic| {
            Some(Err(Error::CorruptData {
                path: file.clone(),
                message: format!("the decoder failed on damaged data: {panic}"),
            }))
        });
        match next {
            Some(Err(Error::ParquetLib(e))) => {
                failed = true;
                Some(Err(Error::CorruptData {
                    path: file.clone(),
                    message: e.to_string(),
                }))
            }
            Some(Err(Error::Arrow(e))) => {
                failed = true;
                Some(Err(Error::CorruptData {
                    path: file.clone(),
                    message: e.to_string(),
                }))
            }
            Some(Err(e)) => {
                failed = true;
                Some(Err(e))
            }
            other => other,
        }
    });
    let inner = geoparquet_io::workers::prefetch("stac: read", prepared, 2);
    Ok(ItemReader {
        inner,
        decode: DecodeOptions {
            ours: stac.lossless,
            empty_assets,
            explicit_nulls,
            patches,
        },
        file: name,
        metadata: stac,
        search: options.search,
        pending: VecDeque::new(),
        current: None,
        returned: 0,
        row_groups_total: total,
        row_groups_read: read,
        row: 0,
    })
}

/// Every item of a file, in memory (for small files and tests).
pub fn read_items(path: impl AsRef<Path>) -> Result<Vec<Value>> {
    open(path)?.collect()
}

/// Which members of an item to keep, like the STAC API `fields` extension:
/// `include` paths (dotted, e.g. `properties.datetime`; `id` and `type` always
/// kept) then `exclude` paths removed.
///
/// Parsed from a comma-separated list where a path to exclude starts with `-`
/// (and one to include may start with `+`); it prints in the same form
/// (includes first), which parses back to the same selection.
///
/// ```
/// use stac_geoparquet::Fields;
///
/// let fields: Fields = "properties.x, -assets".parse()?;
/// assert_eq!(fields.include, ["properties.x"]);
/// assert_eq!(fields.exclude, ["assets"]);
/// assert_eq!(fields.to_string(), "properties.x,-assets");
///
/// let mut item = serde_json::json!({"type": "Feature", "id": "a", "assets": {}, "properties": {"datetime": null, "x": 1}});
/// fields.select(&mut item);
/// assert_eq!(item, serde_json::json!({"type": "Feature", "id": "a", "properties": {"x": 1}}));
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// Paths to keep (all members when empty).
    pub include: Vec<String>,
    /// Paths to remove, after the includes.
    pub exclude: Vec<String>,
}

impl std::str::FromStr for Fields {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let mut fields = Fields::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (list, path) = match part.strip_prefix('-') {
                Some(path) => (&mut fields.exclude, path),
                None => (&mut fields.include, part.strip_prefix('+').unwrap_or(part)),
            };
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(Error::InvalidFields {
                    text: text.to_owned(),
                    part: part.to_owned(),
                });
            }
            list.push(path.to_owned());
        }
        Ok(fields)
    }
}

impl std::fmt::Display for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = self
            .include
            .iter()
            .map(|p| p.to_owned())
            .chain(self.exclude.iter().map(|p| format!("-{p}")));
        for (i, p) in parts.enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&p)?;
        }
        Ok(())
    }
}

impl Fields {
    /// Keeps the [`include`](Self::include) paths of `item` (when there are
    /// any), then removes the [`exclude`](Self::exclude) paths.
    pub fn select(&self, item: &mut Value) {
        if !self.include.is_empty()
            && let Value::Object(o) = item
        {
            let mut kept = Map::new();
            for k in ["type", "id"] {
                if let Some(v) = o.get(k) {
                    kept.insert(k.to_owned(), v.clone());
                }
            }
            for path in &self.include {
                let parts: Vec<&str> = path.split('.').collect();
                copy_path(o, &mut kept, &parts);
            }
            *o = kept;
        }
        for path in &self.exclude {
            let parts: Vec<&str> = path.split('.').collect();
            remove_path(item, &parts);
        }
    }
}

fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let Some(v) = from.get(*first) else {
        return;
    };
    if rest.is_empty() {
        to.insert((*first).to_owned(), v.clone());
        return;
    }
    if let Value::Object(inner) = v {
        let entry = to
            .entry((*first).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(t) = entry {
            copy_path(inner, t, rest);
        }
    }
}

fn remove_path(v: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let Value::Object(o) = v else {
        return;
    };
    if rest.is_empty() {
        o.shift_remove(*first);
    } else if let Some(inner) = o.get_mut(*first) {
        remove_path(inner, rest);
    }
}

/// Writes the items of a file as NDJSON (one item per line) to `out`, and
/// returns how many. Parquet pages are read and decompressed on a second
/// thread while this one decodes items and writes JSON; `progress` is called with the items written so far.
///
/// ```no_run
/// use stac_geoparquet::{ReadOptions, write_ndjson};
///
/// let n = write_ndjson("items.parquet", ReadOptions::default(), std::io::stdout().lock(), None)?;
/// eprintln!("{n} items");
/// # Ok::<(), stac_geoparquet::Error>(())
/// ```
pub fn write_ndjson<W: std::io::Write>(
    path: impl AsRef<Path>,
    options: ReadOptions,
    out: W,
    mut progress: Option<&mut dyn FnMut(u64)>,
) -> Result<u64> {
    let reader = open_with(path, options)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let io = |e| Error::io("<output>", e);
    let mut n = 0u64;
    if reader.search.limit.is_some() {
        for item in reader {
            serde_json::to_writer(&mut out, &item?).map_err(|e| io(e.into()))?;
            std::io::Write::write_all(&mut out, b"\n").map_err(io)?;
            n += 1;
            if n.is_multiple_of(8192)
                && let Some(p) = progress.as_mut()
            {
                p(n);
            }
        }
        if let Some(p) = progress.as_mut() {
            p(n);
        }
    } else {
        n = parallel_ndjson(reader, &mut out, &mut progress)?;
    }
    std::io::Write::flush(&mut out).map_err(io)?;
    Ok(n)
}

/// Two workers, each decoding whole batches into NDJSON bytes (values are
/// made and freed on one thread); this thread writes the bytes in order.
/// Batches are read and decompressed on the reader's own thread.
fn parallel_ndjson<W: std::io::Write>(
    reader: ItemReader,
    out: &mut W,
    progress: &mut Option<&mut dyn FnMut(u64)>,
) -> Result<u64> {
    let ItemReader {
        inner,
        decode,
        search,
        file,
        ..
    } = reader;
    // Each batch with the file row of its first row.
    let mut first_row = 0u64;
    let batches = inner.map(move |batch| -> Result<(u64, RecordBatch)> {
        let batch = batch??;
        let at = first_row;
        first_row += batch.num_rows() as u64;
        Ok((at, batch))
    });
    let work = |input: Result<(u64, RecordBatch)>| -> Result<(Vec<u8>, u64)> {
        let (first_row, batch) = input?;
        let mut buf = Vec::with_capacity(1 << 20);
        let mut count = 0u64;
        let mut row = 0;
        while row < batch.num_rows() {
            let end = (row + DECODE_ROWS).min(batch.num_rows());
            for item in decode_rows(&batch, &decode, &search, &file, first_row, row..end)? {
                serde_json::to_writer(&mut buf, &item).map_err(|_| Error::Internal {
                    what: "an item could not be written as JSON",
                })?;
                buf.push(b'\n');
                count += 1;
            }
            row = end;
        }
        Ok((buf, count))
    };
    let mut n = 0u64;
    geoparquet_io::workers::map_ordered("stac: items to NDJSON", 2, 4, batches, work, |done| {
        let (buf, count) = done?;
        out.write_all(&buf).map_err(|e| Error::io("<output>", e))?;
        n += count;
        if let Some(p) = progress.as_mut() {
            p(n);
        }
        Ok::<(), Error>(())
    })?;
    Ok(n)
}
