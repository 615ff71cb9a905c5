//! `raquet validate`: every rule of the specification as data (a [`Report`] of
//! [`Finding`]s with stable [`Code`]s), never as errors.
//!
//! The model is GeoParquet's ([`geoparquet_io::meta::validate`]) with RaQuet's own codes:
//! [`Report`] is `geoparquet_io::meta::validate::Report<Code>`. [`validate`] returns a
//! [`Validation`]: the report beside the tile counts.
//!
//! ```
//! use raquet::validate::{Code, Finding, Report, RuleCode, Severity};
//!
//! let mut report = Report::default();
//! report.push(Finding::warning(Code::Unsorted, None, "data rows are not sorted by block"));
//! assert!(report.is_valid());
//! assert_eq!(Code::from_name("zoom_missing"), Some(Code::ZoomMissing));
//! assert_eq!(report.findings[0].severity, Severity::Warning);
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::{DataType, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use serde_json::{Value, json};

pub use geoparquet_io::meta::validate::{RuleCode, Severity};

use crate::cell::tile_from_cell;
use crate::metadata::{BandLayout, Compression, RAQUET_VERSION_KEY, TILE_STATISTICS_COLUMNS};
use crate::stats::RunningStats as Observed;
use crate::{BandType, Error, Metadata, Reader, Result};

geoparquet_io::meta::rule_codes! {
    /// A stable code of a RaQuet rule, as written in reports (`"zoom_missing"`, …).
    ///
    /// ```
    /// use raquet::validate::Code;
    ///
    /// assert_eq!(Code::BlobSize.as_str(), "blob_size");
    /// assert_eq!(Code::ZoomMissing.to_string(), "zoom_missing");
    /// ```
    pub enum Code {
        /// No `block` column, or not uint64/int64.
        BlockColumn => "block_column",
        /// No `metadata` column, or not a string.
        MetadataColumn => "metadata_column",
        /// No `raquet:version` footer key, or it differs from the metadata version.
        RaquetVersionKey => "raquet_version_key",
        /// No `block = 0` row with a metadata document.
        MetadataRowMissing => "metadata_row_missing",
        /// The metadata document cannot be parsed into the model.
        MetadataInvalid => "metadata_invalid",
        /// A band column is missing or has the wrong type.
        BandColumn => "band_column",
        /// More than one `block = 0` row.
        MetadataRowMultiple => "metadata_row_multiple",
        /// A binary column that is not a band of the metadata.
        ColumnNotInMetadata => "column_not_in_metadata",
        /// A `pixels` column beside band columns.
        PixelsAndBands => "pixels_and_bands",
        /// JPEG/WebP compression without the interleaved layout.
        LossyLayout => "lossy_layout",
        /// JPEG/WebP compression of bands other than uint8.
        LossyType => "lossy_type",
        /// A `block` that is not a valid Quadbin cell.
        InvalidBlock => "invalid_block",
        /// A tile outside `min_zoom..=max_zoom`.
        ZoomOutOfRange => "zoom_out_of_range",
        /// A block on more than one row (without a time dimension).
        DuplicateBlock => "duplicate_block",
        /// Data rows not sorted by `block`.
        Unsorted => "unsorted",
        /// A zoom between `min_zoom` and `max_zoom` without a tile.
        ZoomMissing => "zoom_missing",
        /// `tiling.num_blocks` differs from the tiles at `max_zoom`.
        NumBlocks => "num_blocks",
        /// A blob does not decode to the block's size.
        BlobSize => "blob_size",
        /// A blob does not decode.
        BlobDecode => "blob_decode",
        /// Every tile of a zoom is nodata.
        ZoomEmpty => "zoom_empty",
        /// Fewer than half the tiles of a zoom hold valid data.
        ZoomSparse => "zoom_sparse",
        /// More findings of a code than a report lists.
        Truncated => "truncated",
        /// A metadata field has the wrong JSON type or range.
        MetadataType => "metadata_type",
        /// The metadata has no `version`.
        VersionMissing => "version_missing",
        /// The metadata `version` is not a known one.
        VersionUnknown => "version_unknown",
        /// A field its version requires is missing.
        MetadataFieldMissing => "metadata_field_missing",
        /// `file_format` is missing or not `raquet`.
        FileFormat => "file_format",
        /// The legacy (pre-v0.3) metadata shape.
        LegacyMetadata => "legacy_metadata",
        /// `crs` is not EPSG:3857.
        Crs => "crs",
        /// `bounds_crs` is not EPSG:4326.
        BoundsCrs => "bounds_crs",
        /// `bounds` are not `[west, south, east, north]` in degrees.
        Bounds => "bounds",
        /// `tiling.scheme` is not `quadbin`.
        TilingScheme => "tiling_scheme",
        /// Blocks not square, or not a power of two divisible by 16.
        BlockSize => "block_size",
        /// `pixel_zoom` is not `max_zoom + log2(block_width)`.
        PixelZoom => "pixel_zoom",
        /// `bands` is empty.
        BandsEmpty => "bands_empty",
        /// Two bands share a name.
        BandNameDuplicate => "band_name_duplicate",
        /// A band lacks its statistics.
        StatisticsMissing => "statistics_missing",
        /// Per-tile statistics are unknown, missing or differ from the pixels.
        TileStatistics => "tile_statistics",
        /// A data row has a non-null `metadata`.
        MetadataNotNull => "metadata_not_null",
        /// Band statistics contradict themselves or the pixels.
        StatisticsInconsistent => "statistics_inconsistent",
        /// The pixels reach past the band statistics (approximate statistics).
        StatisticsApproximate => "statistics_approximate",
    }
}

/// A finding with a RaQuet [`Code`].
pub type Finding = geoparquet_io::meta::validate::Finding<Code>;

/// The findings of a RaQuet validation.
pub type Report = geoparquet_io::meta::validate::Report<Code>;

/// The outcome of [`validate`]: the findings and what was counted on the way.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Validation {
    /// Every finding, errors first.
    pub report: Report,
    /// Number of data rows (tiles) seen.
    pub tiles: usize,
    /// Tiles per zoom.
    pub tiles_per_zoom: BTreeMap<u8, usize>,
}

impl Validation {
    /// Whether there is no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.report.is_valid()
    }

    /// `{"valid", "tiles", "tiles_per_zoom": {"zoom": n}, "findings": [...]}`.
    ///
    /// ```
    /// use raquet::validate::Validation;
    ///
    /// let v = Validation::default();
    /// assert_eq!(v.to_json()["valid"], true);
    /// assert_eq!(v.to_json()["findings"].as_array().map(Vec::len), Some(0));
    /// ```
    pub fn to_json(&self) -> Value {
        let per_zoom: serde_json::Map<String, Value> = self
            .tiles_per_zoom
            .iter()
            .map(|(z, n)| (z.to_string(), json!(n)))
            .collect();
        json!({
            "valid": self.is_valid(),
            "tiles": self.tiles,
            "tiles_per_zoom": per_zoom,
            "findings": self.report.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Largest number of findings of one code kept in a report (the rest are counted).
const MAX_PER_CODE: usize = 20;

/// The report being written, and how many findings of each capped code were met.
#[derive(Default)]
struct Findings {
    report: Report,
    counts: BTreeMap<Code, usize>,
}

impl Findings {
    fn error(&mut self, code: Code, message: impl Into<String>) {
        self.report.push(Finding::error(code, None, message));
    }

    fn warning(&mut self, code: Code, message: impl Into<String>) {
        self.report.push(Finding::warning(code, None, message));
    }

    /// A finding of a per-tile rule: at most [`MAX_PER_CODE`] of one code are kept.
    fn capped(&mut self, severity: Severity, code: Code, message: String) {
        let n = self.counts.entry(code).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_CODE {
            self.report
                .push(Finding::new(code, severity, None, message));
        }
    }

    fn is_valid(&self) -> bool {
        self.report.is_valid()
    }

    /// The report as it stands (an early stop: not sorted).
    fn stop(self) -> Validation {
        Validation {
            report: self.report,
            ..Validation::default()
        }
    }

    /// Counts the findings left out, puts errors first.
    fn finish(mut self) -> Report {
        for (code, n) in std::mem::take(&mut self.counts) {
            if n > MAX_PER_CODE {
                self.warning(
                    Code::Truncated,
                    format!("{} more `{code}` findings not listed", n - MAX_PER_CODE),
                );
            }
        }
        self.report.findings.sort_by_key(|f| f.severity);
        self.report
    }
}

/// Validates a RaQuet file against every rule of spec v0.5.0 (and the legacy shape).
///
/// `Err` only when the file cannot be read as Parquet at all; every rule broken is a
/// [`Finding`].
///
/// ```no_run
/// let v = raquet::validate("raster.parquet")?;
/// for f in &v.report.findings {
///     println!("{} {}: {}", f.severity, f.code, f.message);
/// }
/// println!("{} tiles", v.tiles);
/// # Ok::<(), raquet::Error>(())
/// ```
pub fn validate(path: impl AsRef<Path>) -> Result<Validation> {
    let path = path.as_ref();
    let mut out = Findings::default();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let arrow = crate::reader::load_metadata(&file, ArrowReaderOptions::new())?;
    let schema = arrow.schema().clone();
    check_key_columns(&schema, &mut out);
    let version_kv = footer_version(&arrow);
    if version_kv.is_none() {
        out.warning(
            Code::RaquetVersionKey,
            format!("no `{RAQUET_VERSION_KEY}` key/value in the Parquet footer"),
        );
    }
    if !out.is_valid() {
        return Ok(out.stop());
    }
    let Some(reader) = open_reader(path, &mut out)? else {
        return Ok(out.stop());
    };
    let meta = reader.metadata().clone();
    let raw: Value = serde_json::from_str(reader.metadata_json()).unwrap_or(Value::Null);

    check_document(&raw, &meta, &mut out);
    check_footer_version(version_kv.as_deref(), &meta, &mut out);
    check_metadata_rows(&reader, &mut out);
    check_band_columns(&schema, &meta, &mut out);
    check_lossy(&meta, &mut out);
    let (tiles, tiles_per_zoom) = check_blocks(&reader, &schema, &meta, &mut out);
    check_zooms(&meta, &tiles_per_zoom, &mut out);
    check_metadata_nulls(&reader, &mut out)?;
    let observed = check_tiles(&reader, &meta, &mut out)?;
    check_statistics(&meta, &observed, &mut out);
    Ok(Validation {
        report: out.finish(),
        tiles,
        tiles_per_zoom,
    })
}

/// `block` is uint64 or int64, `metadata` a string.
fn check_key_columns(schema: &Schema, out: &mut Findings) {
    match schema
        .field_with_name("block")
        .map(|f| f.data_type().clone())
    {
        Err(_) => out.error(Code::BlockColumn, "no `block` column"),
        Ok(DataType::UInt64 | DataType::Int64) => {}
        Ok(t) => out.error(
            Code::BlockColumn,
            format!("`block` must be uint64 or int64, found {t}"),
        ),
    }
    match schema
        .field_with_name("metadata")
        .map(|f| f.data_type().clone())
    {
        Err(_) => out.error(Code::MetadataColumn, "no `metadata` column"),
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {}
        Ok(t) => out.error(
            Code::MetadataColumn,
            format!("`metadata` must be a string, found {t}"),
        ),
    }
}

/// The `raquet:version` footer key's value.
fn footer_version(arrow: &ArrowReaderMetadata) -> Option<String> {
    arrow
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == RAQUET_VERSION_KEY))
        .and_then(|k| k.value.clone())
}

/// Opens the reader; the errors that are rules broken become findings (`None`: stop).
fn open_reader(path: &Path, out: &mut Findings) -> Result<Option<Reader>> {
    match Reader::open(path) {
        Ok(r) => Ok(Some(r)),
        Err(Error::MissingMetadata) => {
            out.error(
                Code::MetadataRowMissing,
                "no row with block = 0 and a non-null metadata document",
            );
            Ok(None)
        }
        Err(Error::Metadata(m)) => {
            out.error(Code::MetadataInvalid, m.to_string());
            // Every wrongly typed field, not only the first the parser met.
            if let Some(raw) = raw_metadata(path)? {
                check_types(&raw, out);
            }
            out.report
                .findings
                .dedup_by(|a, b| a.code == b.code && a.message == b.message);
            Ok(None)
        }
        Err(Error::Column { column, message }) => {
            out.error(Code::BandColumn, format!("column `{column}`: {message}"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The footer key agrees with the metadata version.
fn check_footer_version(footer: Option<&str>, meta: &Metadata, out: &mut Findings) {
    if let (Some(kv), Some(v)) = (footer, &meta.version)
        && kv != v
    {
        out.warning(
            Code::RaquetVersionKey,
            format!("footer `{RAQUET_VERSION_KEY}` = {kv} but metadata version = {v}"),
        );
    }
}

/// One metadata row (several only in partitioned datasets).
fn check_metadata_rows(reader: &Reader, out: &mut Findings) {
    if reader.metadata_rows().len() > 1 {
        out.warning(
            Code::MetadataRowMultiple,
            format!(
                "{} rows with block = 0 (only partitioned datasets may have several)",
                reader.metadata_rows().len()
            ),
        );
    }
}

/// Binary columns against the bands of the layout.
fn check_band_columns(schema: &Schema, meta: &Metadata, out: &mut Findings) {
    let binary: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.data_type(),
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
            )
        })
        .map(|f| f.name().clone())
        .collect();
    let names: HashSet<&str> = meta.bands.iter().map(|b| b.name.as_str()).collect();
    match meta.band_layout {
        BandLayout::Sequential => {
            for c in &binary {
                if !names.contains(c.as_str()) && c != "pixels" {
                    out.warning(
                        Code::ColumnNotInMetadata,
                        format!("binary column `{c}` is not a band in the metadata"),
                    );
                }
            }
            if binary.iter().any(|c| c == "pixels") {
                out.warning(
                    Code::PixelsAndBands,
                    "a `pixels` column beside a sequential layout",
                );
            }
        }
        BandLayout::Interleaved => {
            if binary.iter().any(|c| names.contains(c.as_str())) {
                out.warning(
                    Code::PixelsAndBands,
                    "band columns beside the interleaved `pixels` column",
                );
            }
        }
    }
}

/// JPEG and WebP hold interleaved uint8 bands only.
fn check_lossy(meta: &Metadata, out: &mut Findings) {
    if matches!(meta.compression, Compression::Jpeg | Compression::Webp) {
        if meta.band_layout != BandLayout::Interleaved {
            out.error(
                Code::LossyLayout,
                "jpeg/webp compression requires the interleaved layout",
            );
        }
        if meta.bands.iter().any(|b| b.band_type != BandType::Uint8) {
            out.error(
                Code::LossyType,
                "jpeg/webp compression requires uint8 bands",
            );
        }
    }
}

/// Cells, zooms, duplicates and order of the data rows; the tiles and tiles per zoom.
fn check_blocks(
    reader: &Reader,
    schema: &Schema,
    meta: &Metadata,
    out: &mut Findings,
) -> (usize, BTreeMap<u8, usize>) {
    let t = &meta.tiling;
    let mut per_zoom = BTreeMap::new();
    let mut seen = HashSet::new();
    let has_time = schema.field_with_name("time_cf").is_ok();
    let mut prev = 0u64;
    let mut unsorted = false;
    for &block in reader.blocks() {
        match tile_from_cell(block) {
            None => out.capped(
                Severity::Error,
                Code::InvalidBlock,
                format!("block {block} ({block:#018x}) is not a valid Quadbin cell"),
            ),
            Some((z, x, y)) => {
                *per_zoom.entry(z).or_insert(0) += 1;
                if z < t.min_zoom || z > t.max_zoom {
                    out.capped(
                        Severity::Error,
                        Code::ZoomOutOfRange,
                        format!(
                            "block {block} is tile {z}/{x}/{y}, outside zooms {}..={}",
                            t.min_zoom, t.max_zoom
                        ),
                    );
                }
            }
        }
        if !seen.insert(block) && !has_time {
            out.capped(
                Severity::Error,
                Code::DuplicateBlock,
                format!("block {block} appears more than once"),
            );
        }
        if block < prev {
            unsorted = true;
        }
        prev = block;
    }
    if unsorted {
        out.warning(Code::Unsorted, "data rows are not sorted by block");
    }
    (reader.blocks().len(), per_zoom)
}

/// Every zoom of the pyramid holds tiles; `num_blocks` counts the native ones.
fn check_zooms(meta: &Metadata, per_zoom: &BTreeMap<u8, usize>, out: &mut Findings) {
    let t = &meta.tiling;
    for z in t.min_zoom..=t.max_zoom {
        if !per_zoom.contains_key(&z) {
            out.error(
                Code::ZoomMissing,
                format!(
                    "no tile at zoom {z} (overviews must cover every zoom from min_zoom to max_zoom)"
                ),
            );
        }
    }
    let native = per_zoom.get(&t.max_zoom).copied().unwrap_or(0) as u64;
    if t.num_blocks != native {
        let msg = format!(
            "tiling.num_blocks = {} but the file has {native} tiles at max_zoom {}",
            t.num_blocks, t.max_zoom
        );
        if meta.legacy {
            out.warning(Code::NumBlocks, msg);
        } else {
            out.error(Code::NumBlocks, msg);
        }
    }
}

/// Decodes every blob to the block size, compares per-tile statistics, counts the
/// tiles with valid data per zoom; returns the statistics of the native-zoom pixels.
fn check_tiles(reader: &Reader, meta: &Metadata, out: &mut Findings) -> Result<Vec<Observed>> {
    let max_zoom = meta.tiling.max_zoom;
    let mut observed: Vec<Observed> = vec![Observed::default(); meta.bands.len()];
    let mut valid_per_zoom: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
    let tile_stats = read_tile_stats(reader, out)?;
    for tile in reader.tiles()? {
        let tile = match tile {
            Ok(t) => t,
            Err(e) => {
                out.capped(Severity::Error, blob_code(&e), e.to_string());
                continue;
            }
        };
        let mut tile_has_valid = false;
        for b in 0..tile.bands.len() {
            let ts = tile_band_stats(&tile, b);
            if ts.count > 0 {
                tile_has_valid = true;
            }
            if tile.z == max_zoom
                && let Some(o) = observed.get_mut(b)
            {
                o.merge(&ts);
            }
            if let Some(stats) = tile_stats.get(&(tile.block().unwrap_or(0), b)) {
                compare_tile_stats(stats, &ts, &tile, &meta.bands[b].name, out);
            }
        }
        let e = valid_per_zoom.entry(tile.z).or_insert((0, 0));
        e.0 += 1;
        if tile_has_valid {
            e.1 += 1;
        }
    }
    for (z, (all, valid)) in &valid_per_zoom {
        if *valid == 0 {
            out.warning(Code::ZoomEmpty, format!("every tile at zoom {z} is nodata"));
        } else if valid * 2 < *all {
            out.warning(
                Code::ZoomSparse,
                format!("only {valid} of {all} tiles at zoom {z} hold valid data"),
            );
        }
    }
    Ok(observed)
}

/// The code of a tile that does not read: a blob of the wrong size or one that does
/// not decode.
fn blob_code(e: &Error) -> Code {
    match e {
        Error::Blob { .. } if e.to_string().contains("bytes") => Code::BlobSize,
        _ => Code::BlobDecode,
    }
}

/// Statistics of the finite valid pixels of one band of a tile.
fn tile_band_stats(tile: &crate::Tile, b: usize) -> Observed {
    let n = tile.width as usize * tile.height as usize;
    let mut ts = Observed::default();
    for i in 0..n {
        if let Some(v) = tile.value(
            b,
            (i / tile.width as usize) as u32,
            (i % tile.width as usize) as u32,
        ) && v.is_finite()
        {
            ts.add(v);
        }
    }
    ts
}

/// The first non-null `metadata` of a `block = 0` row, parsed as JSON (`None` when
/// there is none or it is not JSON), for the type checks when the model refuses it.
fn raw_metadata(path: &Path) -> Result<Option<Value>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let schema = b.schema().clone();
    let (Ok(bidx), Ok(midx)) = (schema.index_of("block"), schema.index_of("metadata")) else {
        return Ok(None);
    };
    let mask = ProjectionMask::roots(b.parquet_schema(), [bidx, midx]);
    // The projected batch holds the two columns in file order.
    let (bcol, mcol) = if bidx < midx { (0, 1) } else { (1, 0) };
    for batch in crate::reader::Guarded::new(b.with_projection(mask).build()?) {
        let batch = batch?;
        let blocks = batch.column(bcol);
        let meta = batch.column(mcol);
        for i in 0..batch.num_rows() {
            let is_meta = match blocks.data_type() {
                DataType::UInt64 => {
                    blocks
                        .as_primitive::<arrow_array::types::UInt64Type>()
                        .value(i)
                        == 0
                }
                DataType::Int64 => blocks.as_primitive::<Int64Type>().value(i) == 0,
                _ => false,
            };
            if !is_meta || meta.is_null(i) {
                continue;
            }
            let text = match meta.data_type() {
                DataType::Utf8 => meta.as_string::<i32>().value(i),
                DataType::LargeUtf8 => meta.as_string::<i64>().value(i),
                DataType::Utf8View => meta.as_string_view().value(i),
                _ => return Ok(None),
            };
            return Ok(serde_json::from_str(text).ok());
        }
    }
    Ok(None)
}

/// What a metadata field must hold.
#[derive(Clone, Copy)]
enum Kind {
    /// A whole number ≥ 0.
    Count,
    /// A whole number ≥ 1.
    Positive,
    /// A zoom, 0..=26.
    Zoom,
    /// A pixel zoom, 0..=26 + log2(65536).
    PixelZoom,
    /// A string.
    Text,
}

impl Kind {
    /// Whether `v` is of this kind.
    fn accepts(self, v: &Value) -> bool {
        let whole = v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        });
        match self {
            Kind::Text => v.is_string(),
            Kind::Count => whole.is_some(),
            Kind::Positive => whole.is_some_and(|n| n >= 1),
            Kind::Zoom => whole.is_some_and(|n| n <= 26),
            Kind::PixelZoom => whole.is_some_and(|n| n <= 26 + 16),
        }
    }

    /// What the field must be, for messages.
    fn describe(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Count => "a whole number >= 0",
            Kind::Positive => "a whole number >= 1",
            Kind::Zoom => "a zoom (a whole number in 0..=26)",
            Kind::PixelZoom => "a pixel zoom (a whole number in 0..=42)",
        }
    }
}

/// Top-level fields of every shape.
const TOP_FIELDS: [(&str, Kind); 4] = [
    ("width", Kind::Count),
    ("height", Kind::Count),
    ("crs", Kind::Text),
    ("bounds_crs", Kind::Text),
];

/// Fields of the `tiling` object (v0.3 and later).
const TILING_FIELDS: [(&str, Kind); 7] = [
    ("scheme", Kind::Text),
    ("block_width", Kind::Positive),
    ("block_height", Kind::Positive),
    ("min_zoom", Kind::Zoom),
    ("max_zoom", Kind::Zoom),
    ("pixel_zoom", Kind::PixelZoom),
    ("num_blocks", Kind::Count),
];

/// Top-level tiling fields of the legacy shape (no `tiling` object).
const LEGACY_TILING_FIELDS: [(&str, Kind); 7] = [
    ("block_width", Kind::Positive),
    ("block_height", Kind::Positive),
    ("minresolution", Kind::Zoom),
    ("maxresolution", Kind::Zoom),
    ("block_resolution", Kind::Zoom),
    ("pixel_resolution", Kind::PixelZoom),
    ("num_blocks", Kind::Count),
];

/// The JSON type and range of every field the spec gives one (present fields only:
/// missing ones are reported by the presence rules).
fn check_types(raw: &Value, out: &mut Findings) {
    let Some(obj) = raw.as_object() else {
        out.error(
            Code::MetadataInvalid,
            "the metadata document is not a JSON object",
        );
        return;
    };
    let tiling = obj.get("tiling");
    if tiling.is_some_and(|t| !t.is_object()) {
        out.error(Code::MetadataType, "`tiling` must be an object");
    }
    let mut fields: Vec<(String, Option<&Value>, Kind)> = TOP_FIELDS
        .iter()
        .map(|&(k, kind)| (k.to_string(), obj.get(k), kind))
        .collect();
    match tiling {
        Some(t) => fields.extend(
            TILING_FIELDS
                .iter()
                .map(|&(k, kind)| (format!("tiling.{k}"), t.get(k), kind)),
        ),
        None => fields.extend(
            LEGACY_TILING_FIELDS
                .iter()
                .map(|&(k, kind)| (k.to_string(), obj.get(k), kind)),
        ),
    }
    for (name, v, kind) in fields {
        if let Some(v) = v.filter(|v| !v.is_null())
            && !kind.accepts(v)
        {
            out.error(
                Code::MetadataType,
                format!("`{name}` = {v} must be {}", kind.describe()),
            );
        }
    }
    match obj.get("bounds") {
        None => {}
        Some(Value::Array(a)) if a.len() == 4 && a.iter().all(Value::is_number) => {}
        Some(b) => out.error(
            Code::MetadataType,
            format!("`bounds` = {b} must be an array of 4 numbers"),
        ),
    }
    match obj.get("compression") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(c) => out.error(
            Code::MetadataType,
            format!("`compression` = {c} must be a string or null"),
        ),
    }
    match obj.get("bands") {
        None => {}
        Some(Value::Array(bands)) => {
            for (i, b) in bands.iter().enumerate() {
                check_band_types(i, b, out);
            }
        }
        Some(b) => out.error(
            Code::MetadataType,
            format!("`bands` = {b} must be an array"),
        ),
    }
}

/// The JSON types of `bands[i]`.
fn check_band_types(i: usize, b: &Value, out: &mut Findings) {
    let Some(o) = b.as_object() else {
        out.error(Code::MetadataType, format!("bands[{i}] must be an object"));
        return;
    };
    for k in ["name", "type"] {
        if o.get(k).is_some_and(|v| !v.is_string()) {
            out.error(
                Code::MetadataType,
                format!("bands[{i}].{k} must be a string"),
            );
        }
    }
    let nodata_ok = match o.get("nodata") {
        None | Some(Value::Null | Value::Number(_)) => true,
        Some(Value::String(s)) => {
            matches!(s.trim(), "NaN" | "Infinity" | "-Infinity") || s.trim().parse::<f64>().is_ok()
        }
        Some(_) => false,
    };
    if !nodata_ok {
        out.error(
            Code::MetadataType,
            format!(
                "bands[{i}].nodata = {} must be a number, a numeric string, \"NaN\", \"Infinity\", \"-Infinity\" or null",
                o.get("nodata").unwrap_or(&Value::Null)
            ),
        );
    }
}

/// Versions this crate knows.
const KNOWN_VERSIONS: [&str; 5] = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"];

/// Top-level fields v0.3 and later require.
const REQUIRED_FIELDS: [&str; 8] = [
    "width",
    "height",
    "crs",
    "bounds",
    "bounds_crs",
    "tiling",
    "compression",
    "bands",
];

/// `tiling` fields v0.3 and later require.
const REQUIRED_TILING_FIELDS: [&str; 7] = [
    "scheme",
    "block_width",
    "block_height",
    "min_zoom",
    "max_zoom",
    "pixel_zoom",
    "num_blocks",
];

/// The rules over the metadata document, in order.
const DOCUMENT_RULES: [fn(&Value, &Metadata, &mut Findings); 6] = [
    |raw, _, out| check_types(raw, out),
    check_version,
    check_crs_and_bounds,
    check_tiling,
    check_bands,
    check_tile_statistics_columns,
];

fn check_document(raw: &Value, meta: &Metadata, out: &mut Findings) {
    for rule in DOCUMENT_RULES {
        rule(raw, meta, out);
    }
}

/// `version` is present and known; what a modern version requires is there.
fn check_version(raw: &Value, meta: &Metadata, out: &mut Findings) {
    match &meta.version {
        None => out.error(Code::VersionMissing, "the metadata has no `version`"),
        Some(v) if !KNOWN_VERSIONS.contains(&v.as_str()) => {
            out.warning(Code::VersionUnknown, format!("unknown version `{v}`"));
        }
        Some(v) if !matches!(v.as_str(), "0.1.0" | "0.2.0") => check_required(raw, v, out),
        Some(v) => {
            if meta.legacy {
                out.warning(Code::LegacyMetadata, format!("legacy v{v} metadata shape"));
            }
        }
    }
    if meta.version.is_none() && meta.legacy {
        out.warning(Code::LegacyMetadata, "legacy (pre-v0.3) metadata shape");
    }
}

/// The fields version `v` (v0.3 or later) requires, and `file_format`.
fn check_required(raw: &Value, v: &str, out: &mut Findings) {
    let has = |k: &str| raw.as_object().is_some_and(|o| o.contains_key(k));
    for k in REQUIRED_FIELDS {
        if !has(k) {
            out.error(
                Code::MetadataFieldMissing,
                format!("version {v} requires `{k}`"),
            );
        }
    }
    if let Some(t) = raw.get("tiling") {
        for k in REQUIRED_TILING_FIELDS {
            if t.get(k).is_none() {
                out.error(
                    Code::MetadataFieldMissing,
                    format!("version {v} requires `tiling.{k}`"),
                );
            }
        }
    }
    match raw.get("file_format").and_then(Value::as_str) {
        Some("raquet") => {}
        Some(other) => out.error(
            Code::FileFormat,
            format!("file_format is `{other}`, must be `raquet`"),
        ),
        None => out.warning(Code::FileFormat, "no `file_format`"),
    }
}

/// Web Mercator pixels, bounds in degrees.
fn check_crs_and_bounds(_: &Value, meta: &Metadata, out: &mut Findings) {
    if meta.crs != "EPSG:3857" {
        out.error(
            Code::Crs,
            format!("crs is `{}`, must be EPSG:3857", meta.crs),
        );
    }
    if meta.bounds_crs != "EPSG:4326" {
        out.error(
            Code::BoundsCrs,
            format!("bounds_crs is `{}`, must be EPSG:4326", meta.bounds_crs),
        );
    }
    // West > east is a box across the antimeridian (as RFC 7946 and STAC write it).
    let [w, s, e, n] = meta.bounds;
    if !(s <= n && w >= -180.0 && e <= 180.0 && s >= -90.0 && n <= 90.0) {
        out.error(
            Code::Bounds,
            format!(
                "bounds {:?} are not [west, south, east, north] in degrees",
                meta.bounds
            ),
        );
    }
}

/// Quadbin tiling of square power-of-two blocks, and a consistent pixel zoom.
fn check_tiling(_: &Value, meta: &Metadata, out: &mut Findings) {
    let t = &meta.tiling;
    if t.scheme != "quadbin" {
        out.error(
            Code::TilingScheme,
            format!("tiling.scheme is `{}`, must be quadbin", t.scheme),
        );
    }
    if t.block_width != t.block_height {
        out.error(
            Code::BlockSize,
            format!(
                "blocks must be square, found {}x{}",
                t.block_width, t.block_height
            ),
        );
    }
    if !t.block_width.is_multiple_of(16) || !t.block_width.is_power_of_two() {
        out.error(
            Code::BlockSize,
            format!(
                "block size {} must be divisible by 16 and a power of two",
                t.block_width
            ),
        );
    }
    let expected_pz = u32::from(t.max_zoom) + t.block_width.max(1).ilog2();
    if u32::from(t.pixel_zoom) != expected_pz {
        let msg = format!(
            "pixel_zoom {} != max_zoom {} + log2(block_width {}) = {expected_pz}",
            t.pixel_zoom, t.max_zoom, t.block_width
        );
        if meta.legacy {
            out.warning(Code::PixelZoom, msg);
        } else {
            out.error(Code::PixelZoom, msg);
        }
    }
}

/// Bands exist, have distinct names and statistics.
fn check_bands(_: &Value, meta: &Metadata, out: &mut Findings) {
    if meta.bands.is_empty() {
        out.error(Code::BandsEmpty, "`bands` is empty");
    }
    let mut names = HashSet::new();
    for b in &meta.bands {
        if !names.insert(b.name.as_str()) {
            out.error(
                Code::BandNameDuplicate,
                format!("band name `{}` appears twice", b.name),
            );
        }
        let st = &b.statistics;
        if st.minimum.is_none() || st.maximum.is_none() || st.mean.is_none() || st.stddev.is_none()
        {
            out.warning(
                Code::StatisticsMissing,
                format!(
                    "band `{}` lacks STATISTICS_MINIMUM/MAXIMUM/MEAN/STDDEV",
                    b.name
                ),
            );
        }
    }
}

/// Per-tile statistics name only known statistics.
fn check_tile_statistics_columns(_: &Value, meta: &Metadata, out: &mut Findings) {
    if meta.tile_statistics
        && meta
            .tile_statistics_columns
            .iter()
            .any(|c| !TILE_STATISTICS_COLUMNS.contains(&c.as_str()))
    {
        out.error(
            Code::TileStatistics,
            format!(
                "unknown per-tile statistics in {:?}",
                meta.tile_statistics_columns
            ),
        );
    }
}

fn check_metadata_nulls(reader: &Reader, out: &mut Findings) -> Result<()> {
    let schema = reader.schema();
    let idx = schema.index_of("metadata")?;
    let bidx = schema.index_of("block")?;
    let file = File::open(reader.path()).map_err(|e| Error::io(reader.path(), e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let mask = ProjectionMask::roots(b.parquet_schema(), [bidx, idx]);
    let mut bad = 0usize;
    for batch in crate::reader::Guarded::new(b.with_projection(mask).build()?) {
        let batch = batch?;
        let blocks = batch.column(0);
        let m = batch.column(1);
        for i in 0..batch.num_rows() {
            let is_meta = match blocks.data_type() {
                DataType::UInt64 => {
                    blocks
                        .as_primitive::<arrow_array::types::UInt64Type>()
                        .value(i)
                        == 0
                }
                _ => blocks.as_primitive::<Int64Type>().value(i) == 0,
            };
            if !is_meta && !m.is_null(i) {
                bad += 1;
            }
        }
    }
    if bad > 0 {
        out.error(
            Code::MetadataNotNull,
            format!("{bad} data rows have a non-null `metadata`"),
        );
    }
    Ok(())
}

type TileStats = HashMap<(u64, usize), [Option<f64>; 6]>;

fn read_tile_stats(reader: &Reader, out: &mut Findings) -> Result<TileStats> {
    let meta = reader.metadata();
    let schema = reader.schema();
    let mut found = HashMap::new();
    if !meta.tile_statistics {
        return Ok(found);
    }
    let mut roots = vec![schema.index_of("block")?];
    let mut cols = Vec::new();
    for (b, band) in meta.bands.iter().enumerate() {
        for (s, stat) in TILE_STATISTICS_COLUMNS.iter().enumerate() {
            if !meta.tile_statistics_columns.iter().any(|c| c == stat) {
                continue;
            }
            let name = format!("{}_{stat}", band.name);
            match schema.index_of(&name) {
                Ok(i) => {
                    roots.push(i);
                    cols.push((b, s));
                }
                Err(_) => out.error(
                    Code::TileStatistics,
                    format!("metadata declares per-tile `{stat}` but column `{name}` is missing"),
                ),
            }
        }
    }
    let file = File::open(reader.path()).map_err(|e| Error::io(reader.path(), e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    for batch in crate::reader::Guarded::new(builder.with_projection(mask).build()?) {
        let batch = batch?;
        let blocks = batch.column(0);
        for i in 0..batch.num_rows() {
            let block = match blocks.data_type() {
                DataType::UInt64 => blocks
                    .as_primitive::<arrow_array::types::UInt64Type>()
                    .value(i),
                _ => blocks.as_primitive::<Int64Type>().value(i) as u64,
            };
            if block == 0 {
                continue;
            }
            for (k, (b, s)) in cols.iter().enumerate() {
                let col = batch.column(k + 1);
                let v = if col.is_null(i) {
                    None
                } else {
                    match col.data_type() {
                        DataType::Int64 => Some(col.as_primitive::<Int64Type>().value(i) as f64),
                        DataType::Float64 => Some(col.as_primitive::<Float64Type>().value(i)),
                        _ => None,
                    }
                };
                found.entry((block, *b)).or_insert([None; 6])[*s] = v;
            }
        }
    }
    Ok(found)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn compare_tile_stats(
    stats: &[Option<f64>; 6],
    ts: &Observed,
    tile: &crate::Tile,
    band: &str,
    out: &mut Findings,
) {
    let expect = if ts.count == 0 {
        [None; 6]
    } else {
        [
            Some(ts.count as f64),
            Some(ts.min),
            Some(ts.max),
            Some(ts.sum),
            Some(ts.mean),
            Some(ts.stddev()),
        ]
    };
    for (k, name) in TILE_STATISTICS_COLUMNS.iter().enumerate() {
        let ok = match (stats[k], expect[k]) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                close(a, b) || (k == 5 && (a - b).abs() <= 1e-6 * ts.mean.abs().max(1.0))
            }
            (None, Some(_)) | (Some(_), None) => {
                // NULL statistics on an all-nodata tile or a stored 0 count both pass.
                k == 0 && stats[k].unwrap_or(0.0) == 0.0 && ts.count == 0
            }
        };
        if !ok {
            out.capped(
                Severity::Error,
                Code::TileStatistics,
                format!(
                    "tile {}/{}/{} column `{band}_{name}` = {:?} but the pixels give {:?}",
                    tile.z, tile.x, tile.y, stats[k], expect[k]
                ),
            );
        }
    }
}

fn check_statistics(meta: &Metadata, observed: &[Observed], out: &mut Findings) {
    for (band, obs) in meta.bands.iter().zip(observed) {
        let s = &band.statistics;
        if let (Some(min), Some(max)) = (s.minimum, s.maximum) {
            if min > max {
                out.error(
                    Code::StatisticsInconsistent,
                    format!(
                        "band `{}`: STATISTICS_MINIMUM {min} > STATISTICS_MAXIMUM {max}",
                        band.name
                    ),
                );
            }
            if let Some(mean) = s.mean
                && (mean < min - 1e-9 * min.abs().max(1.0)
                    || mean > max + 1e-9 * max.abs().max(1.0))
            {
                out.error(
                    Code::StatisticsInconsistent,
                    format!(
                        "band `{}`: STATISTICS_MEAN {mean} is outside [{min}, {max}]",
                        band.name
                    ),
                );
            }
            if obs.count > 0 && (min > obs.max || max < obs.min) {
                out.error(Code::StatisticsInconsistent,
                    format!("band `{}`: STATISTICS [{min}, {max}] do not overlap the native-zoom pixels [{}, {}]", band.name, obs.min, obs.max),
                );
            } else if obs.count > 0 && (obs.min < min || obs.max > max) {
                out.warning(Code::StatisticsApproximate,
                    format!("band `{}`: native-zoom pixels span [{}, {}], STATISTICS say [{min}, {max}] (approximate statistics)", band.name, obs.min, obs.max),
                );
            }
        }
        if s.stddev.is_some_and(|v| v < 0.0) {
            out.error(
                Code::StatisticsInconsistent,
                format!("band `{}`: negative STATISTICS_STDDEV", band.name),
            );
        }
        if s.valid_percent.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
            out.error(
                Code::StatisticsInconsistent,
                format!(
                    "band `{}`: STATISTICS_VALID_PERCENT outside 0..100",
                    band.name
                ),
            );
        }
        if obs.count == 0 && s.minimum.is_some() && !meta.legacy {
            out.warning(
                Code::StatisticsInconsistent,
                format!(
                    "band `{}` has statistics but no valid pixel at max_zoom",
                    band.name
                ),
            );
        }
    }
}
