//! `raquet validate`: every rule of the specification as data (a [`Report`] of
//! [`Finding`]s with stable codes), never as errors.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use serde_json::Value;

use crate::cell::tile_from_cell;
use crate::metadata::{BandLayout, Compression, RAQUET_VERSION_KEY, TILE_STATISTICS_COLUMNS};
use crate::stats::RunningStats as Observed;
use crate::{BandType, Error, Reader, Result};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file breaks a MUST of the specification.
    Error,
    /// The file breaks a SHOULD, or something is suspicious.
    Warning,
}

/// One rule a file breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// A stable code (`zoom_missing`, `blob_size`, …).
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and where (column, block, zoom).
    pub message: String,
}

/// The outcome of [`validate`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
    /// Number of data rows (tiles) seen.
    pub tiles: usize,
    /// Tiles per zoom.
    pub tiles_per_zoom: BTreeMap<u8, usize>,
}

impl Report {
    /// Whether there is no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings with a code.
    pub fn with_code(&self, code: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.code == code).collect()
    }

    fn error(&mut self, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            code,
            severity: Severity::Error,
            message: message.into(),
        });
    }

    fn warning(&mut self, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            code,
            severity: Severity::Warning,
            message: message.into(),
        });
    }
}

/// Largest number of findings of one code kept in a report (the rest are counted).
const MAX_PER_CODE: usize = 20;

/// Validates a RaQuet file against every rule of spec v0.5.0 (and the legacy shape).
///
/// `Err` only when the file cannot be read as Parquet at all; every rule broken is a
/// [`Finding`].
///
/// ```no_run
/// let report = raquet::validate("raster.parquet")?;
/// for f in &report.findings {
///     println!("{:?} {}: {}", f.severity, f.code, f.message);
/// }
/// # Ok::<(), raquet::Error>(())
/// ```
pub fn validate(path: impl AsRef<Path>) -> Result<Report> {
    let path = path.as_ref();
    let mut report = Report::default();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let arrow = crate::reader::load_metadata(&file, ArrowReaderOptions::new())?;
    let schema = arrow.schema().clone();

    // Columns.
    match schema
        .field_with_name("block")
        .map(|f| f.data_type().clone())
    {
        Err(_) => report.error("block_column", "no `block` column"),
        Ok(DataType::UInt64 | DataType::Int64) => {}
        Ok(t) => report.error(
            "block_column",
            format!("`block` must be uint64 or int64, found {t}"),
        ),
    }
    match schema
        .field_with_name("metadata")
        .map(|f| f.data_type().clone())
    {
        Err(_) => report.error("metadata_column", "no `metadata` column"),
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {}
        Ok(t) => report.error(
            "metadata_column",
            format!("`metadata` must be a string, found {t}"),
        ),
    }
    let kv = arrow.metadata().file_metadata().key_value_metadata();
    let version_kv = kv
        .and_then(|kv| kv.iter().find(|k| k.key == RAQUET_VERSION_KEY))
        .and_then(|k| k.value.clone());
    if version_kv.is_none() {
        report.warning(
            "raquet_version_key",
            format!("no `{RAQUET_VERSION_KEY}` key/value in the Parquet footer"),
        );
    }
    if !report.is_valid() {
        return Ok(report);
    }

    let reader = match Reader::open(path) {
        Ok(r) => r,
        Err(Error::MissingMetadata) => {
            report.error(
                "metadata_row_missing",
                "no row with block = 0 and a non-null metadata document",
            );
            return Ok(report);
        }
        Err(Error::Metadata(m)) => {
            report.error("metadata_invalid", m);
            // Every wrongly typed field, not only the first the parser met.
            if let Some(raw) = raw_metadata(path)? {
                check_types(&raw, &mut report);
            }
            report
                .findings
                .dedup_by(|a, b| a.code == b.code && a.message == b.message);
            return Ok(report);
        }
        Err(Error::Column { column, message }) => {
            report.error("band_column", format!("column `{column}`: {message}"));
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let meta = reader.metadata().clone();
    let raw: Value = serde_json::from_str(reader.metadata_json()).unwrap_or(Value::Null);

    // The metadata document itself.
    check_document(&raw, &meta, &mut report);
    if let (Some(kv), Some(v)) = (&version_kv, &meta.version)
        && kv != v
    {
        report.warning(
            "raquet_version_key",
            format!("footer `{RAQUET_VERSION_KEY}` = {kv} but metadata version = {v}"),
        );
    }
    if reader.metadata_rows().len() > 1 {
        report.warning(
            "metadata_row_multiple",
            format!(
                "{} rows with block = 0 (only partitioned datasets may have several)",
                reader.metadata_rows().len()
            ),
        );
    }

    // Columns against the bands.
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
                    report.warning(
                        "column_not_in_metadata",
                        format!("binary column `{c}` is not a band in the metadata"),
                    );
                }
            }
            if binary.iter().any(|c| c == "pixels") {
                report.warning(
                    "pixels_and_bands",
                    "a `pixels` column beside a sequential layout",
                );
            }
        }
        BandLayout::Interleaved => {
            if binary.iter().any(|c| names.contains(c.as_str())) {
                report.warning(
                    "pixels_and_bands",
                    "band columns beside the interleaved `pixels` column",
                );
            }
        }
    }
    if matches!(meta.compression, Compression::Jpeg | Compression::Webp) {
        if meta.band_layout != BandLayout::Interleaved {
            report.error(
                "lossy_layout",
                "jpeg/webp compression requires the interleaved layout",
            );
        }
        if meta.bands.iter().any(|b| b.band_type != BandType::Uint8) {
            report.error("lossy_type", "jpeg/webp compression requires uint8 bands");
        }
    }

    // Rows: cells, ordering, zooms.
    let t = &meta.tiling;
    let mut seen = HashSet::new();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let mut emit = |report: &mut Report, sev: Severity, code: &'static str, msg: String| {
        let n = counts.entry(code).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_CODE {
            report.findings.push(Finding {
                code,
                severity: sev,
                message: msg,
            });
        }
    };
    let has_time = schema.field_with_name("time_cf").is_ok();
    let mut prev = 0u64;
    let mut unsorted = false;
    for &block in reader.blocks() {
        match tile_from_cell(block) {
            None => emit(
                &mut report,
                Severity::Error,
                "invalid_block",
                format!("block {block} ({block:#018x}) is not a valid Quadbin cell"),
            ),
            Some((z, x, y)) => {
                *report.tiles_per_zoom.entry(z).or_insert(0) += 1;
                if z < t.min_zoom || z > t.max_zoom {
                    emit(
                        &mut report,
                        Severity::Error,
                        "zoom_out_of_range",
                        format!(
                            "block {block} is tile {z}/{x}/{y}, outside zooms {}..={}",
                            t.min_zoom, t.max_zoom
                        ),
                    );
                }
            }
        }
        if !seen.insert(block) && !has_time {
            emit(
                &mut report,
                Severity::Error,
                "duplicate_block",
                format!("block {block} appears more than once"),
            );
        }
        if block < prev {
            unsorted = true;
        }
        prev = block;
    }
    report.tiles = reader.blocks().len();
    if unsorted {
        report.warning("unsorted", "data rows are not sorted by block");
    }
    for z in t.min_zoom..=t.max_zoom {
        if !report.tiles_per_zoom.contains_key(&z) {
            report.error("zoom_missing", format!("no tile at zoom {z} (overviews must cover every zoom from min_zoom to max_zoom)"));
        }
    }
    let native = report.tiles_per_zoom.get(&t.max_zoom).copied().unwrap_or(0) as u64;
    if t.num_blocks != native {
        let msg = format!(
            "tiling.num_blocks = {} but the file has {native} tiles at max_zoom {}",
            t.num_blocks, t.max_zoom
        );
        if meta.legacy {
            report.warning("num_blocks", msg)
        } else {
            report.error("num_blocks", msg)
        }
    }

    // Metadata column null on data rows.
    check_metadata_nulls(&reader, &mut report)?;

    // Every blob decodes to the block size; statistics from the data.
    let mut observed: Vec<Observed> = vec![Observed::default(); meta.bands.len()];
    let mut valid_per_zoom: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
    let tile_stats = read_tile_stats(&reader, &mut report)?;
    let tiles = reader.tiles()?;
    for tile in tiles {
        let tile = match tile {
            Ok(t) => t,
            Err(e @ Error::Blob { .. }) => {
                let code = if e.to_string().contains("bytes") {
                    "blob_size"
                } else {
                    "blob_decode"
                };
                emit(&mut report, Severity::Error, code, e.to_string());
                continue;
            }
            Err(e) => {
                emit(&mut report, Severity::Error, "blob_decode", e.to_string());
                continue;
            }
        };
        let n = tile.width as usize * tile.height as usize;
        let mut tile_has_valid = false;
        for (b, pixels) in tile.bands.iter().enumerate() {
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
            let _ = pixels;
            if ts.count > 0 {
                tile_has_valid = true;
            }
            if tile.z == t.max_zoom
                && let Some(o) = observed.get_mut(b)
            {
                o.merge(&ts);
            }
            if let Some(stats) = tile_stats.get(&(tile.block().unwrap_or(0), b)) {
                compare_tile_stats(
                    stats,
                    &ts,
                    &tile,
                    &meta.bands[b].name,
                    &mut report,
                    &mut emit,
                );
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
            report.warning("zoom_empty", format!("every tile at zoom {z} is nodata"));
        } else if valid * 2 < *all {
            report.warning(
                "zoom_sparse",
                format!("only {valid} of {all} tiles at zoom {z} hold valid data"),
            );
        }
    }
    check_statistics(&meta, &observed, &mut report);

    for (code, n) in counts {
        if n > MAX_PER_CODE {
            report.warning(
                "truncated",
                format!("{} more `{code}` findings not listed", n - MAX_PER_CODE),
            );
        }
    }
    report.findings.sort_by_key(|f| f.severity);
    Ok(report)
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

/// The JSON type and range of every field the spec gives one (present fields only:
/// missing ones are reported by the presence rules).
fn check_types(raw: &Value, report: &mut Report) {
    let Some(obj) = raw.as_object() else {
        report.error(
            "metadata_invalid",
            "the metadata document is not a JSON object",
        );
        return;
    };
    let tiling = obj.get("tiling");
    if tiling.is_some_and(|t| !t.is_object()) {
        report.error("metadata_type", "`tiling` must be an object");
    }
    let mut fields: Vec<(String, Option<&Value>, Kind)> = vec![
        ("width".into(), obj.get("width"), Kind::Count),
        ("height".into(), obj.get("height"), Kind::Count),
        ("crs".into(), obj.get("crs"), Kind::Text),
        ("bounds_crs".into(), obj.get("bounds_crs"), Kind::Text),
    ];
    match tiling {
        Some(t) => {
            for (k, kind) in [
                ("scheme", Kind::Text),
                ("block_width", Kind::Positive),
                ("block_height", Kind::Positive),
                ("min_zoom", Kind::Zoom),
                ("max_zoom", Kind::Zoom),
                ("pixel_zoom", Kind::PixelZoom),
                ("num_blocks", Kind::Count),
            ] {
                fields.push((format!("tiling.{k}"), t.get(k), kind));
            }
        }
        None => {
            for (k, kind) in [
                ("block_width", Kind::Positive),
                ("block_height", Kind::Positive),
                ("minresolution", Kind::Zoom),
                ("maxresolution", Kind::Zoom),
                ("block_resolution", Kind::Zoom),
                ("pixel_resolution", Kind::PixelZoom),
                ("num_blocks", Kind::Count),
            ] {
                fields.push((k.to_string(), obj.get(k), kind));
            }
        }
    }
    for (name, v, kind) in fields {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            continue;
        };
        let whole = v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        });
        let ok = match kind {
            Kind::Text => v.is_string(),
            Kind::Count => whole.is_some(),
            Kind::Positive => whole.is_some_and(|n| n >= 1),
            Kind::Zoom => whole.is_some_and(|n| n <= 26),
            Kind::PixelZoom => whole.is_some_and(|n| n <= 26 + 16),
        };
        if !ok {
            let what = match kind {
                Kind::Text => "a string",
                Kind::Count => "a whole number >= 0",
                Kind::Positive => "a whole number >= 1",
                Kind::Zoom => "a zoom (a whole number in 0..=26)",
                Kind::PixelZoom => "a pixel zoom (a whole number in 0..=42)",
            };
            report.error("metadata_type", format!("`{name}` = {v} must be {what}"));
        }
    }
    match obj.get("bounds") {
        None => {}
        Some(Value::Array(a)) if a.len() == 4 && a.iter().all(Value::is_number) => {}
        Some(b) => report.error(
            "metadata_type",
            format!("`bounds` = {b} must be an array of 4 numbers"),
        ),
    }
    match obj.get("compression") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(c) => report.error(
            "metadata_type",
            format!("`compression` = {c} must be a string or null"),
        ),
    }
    match obj.get("bands") {
        None => {}
        Some(Value::Array(bands)) => {
            for (i, b) in bands.iter().enumerate() {
                let Some(o) = b.as_object() else {
                    report.error("metadata_type", format!("bands[{i}] must be an object"));
                    continue;
                };
                for k in ["name", "type"] {
                    if o.get(k).is_some_and(|v| !v.is_string()) {
                        report.error("metadata_type", format!("bands[{i}].{k} must be a string"));
                    }
                }
                let nodata_ok = match o.get("nodata") {
                    None | Some(Value::Null | Value::Number(_)) => true,
                    Some(Value::String(s)) => {
                        matches!(s.trim(), "NaN" | "Infinity" | "-Infinity")
                            || s.trim().parse::<f64>().is_ok()
                    }
                    Some(_) => false,
                };
                if !nodata_ok {
                    report.error(
                        "metadata_type",
                        format!(
                            "bands[{i}].nodata = {} must be a number, a numeric string, \"NaN\", \"Infinity\", \"-Infinity\" or null",
                            o.get("nodata").unwrap_or(&Value::Null)
                        ),
                    );
                }
            }
        }
        Some(b) => report.error("metadata_type", format!("`bands` = {b} must be an array")),
    }
}

fn check_document(raw: &Value, meta: &crate::Metadata, report: &mut Report) {
    check_types(raw, report);
    let obj = raw.as_object();
    let has = |k: &str| obj.is_some_and(|o| o.contains_key(k));
    match &meta.version {
        None => report.error("version_missing", "the metadata has no `version`"),
        Some(v) if !["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"].contains(&v.as_str()) => {
            report.warning("version_unknown", format!("unknown version `{v}`"));
        }
        Some(v) => {
            let modern = !matches!(v.as_str(), "0.1.0" | "0.2.0");
            if modern {
                for k in [
                    "width",
                    "height",
                    "crs",
                    "bounds",
                    "bounds_crs",
                    "tiling",
                    "compression",
                    "bands",
                ] {
                    if !has(k) {
                        report.error(
                            "metadata_field_missing",
                            format!("version {v} requires `{k}`"),
                        );
                    }
                }
                if let Some(t) = raw.get("tiling") {
                    for k in [
                        "scheme",
                        "block_width",
                        "block_height",
                        "min_zoom",
                        "max_zoom",
                        "pixel_zoom",
                        "num_blocks",
                    ] {
                        if t.get(k).is_none() {
                            report.error(
                                "metadata_field_missing",
                                format!("version {v} requires `tiling.{k}`"),
                            );
                        }
                    }
                }
                match raw.get("file_format").and_then(Value::as_str) {
                    Some("raquet") => {}
                    Some(other) => report.error(
                        "file_format",
                        format!("file_format is `{other}`, must be `raquet`"),
                    ),
                    None => report.warning("file_format", "no `file_format`"),
                }
            } else if meta.legacy {
                report.warning("legacy_metadata", format!("legacy v{v} metadata shape"));
            }
        }
    }
    if meta.version.is_none() && meta.legacy {
        report.warning("legacy_metadata", "legacy (pre-v0.3) metadata shape");
    }
    if meta.crs != "EPSG:3857" {
        report.error("crs", format!("crs is `{}`, must be EPSG:3857", meta.crs));
    }
    if meta.bounds_crs != "EPSG:4326" {
        report.error(
            "bounds_crs",
            format!("bounds_crs is `{}`, must be EPSG:4326", meta.bounds_crs),
        );
    }
    // West > east is a box across the antimeridian (as RFC 7946 and STAC write it).
    let [w, s, e, n] = meta.bounds;
    if !(s <= n && w >= -180.0 && e <= 180.0 && s >= -90.0 && n <= 90.0) {
        report.error(
            "bounds",
            format!(
                "bounds {:?} are not [west, south, east, north] in degrees",
                meta.bounds
            ),
        );
    }
    let t = &meta.tiling;
    if t.scheme != "quadbin" {
        report.error(
            "tiling_scheme",
            format!("tiling.scheme is `{}`, must be quadbin", t.scheme),
        );
    }
    if t.block_width != t.block_height {
        report.error(
            "block_size",
            format!(
                "blocks must be square, found {}x{}",
                t.block_width, t.block_height
            ),
        );
    }
    if !t.block_width.is_multiple_of(16) || !t.block_width.is_power_of_two() {
        report.error(
            "block_size",
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
            report.warning("pixel_zoom", msg)
        } else {
            report.error("pixel_zoom", msg)
        }
    }
    if meta.bands.is_empty() {
        report.error("bands_empty", "`bands` is empty");
    }
    let mut names = HashSet::new();
    for b in &meta.bands {
        if !names.insert(b.name.as_str()) {
            report.error(
                "band_name_duplicate",
                format!("band name `{}` appears twice", b.name),
            );
        }
        let st = &b.statistics;
        if st.minimum.is_none() || st.maximum.is_none() || st.mean.is_none() || st.stddev.is_none()
        {
            report.warning(
                "statistics_missing",
                format!(
                    "band `{}` lacks STATISTICS_MINIMUM/MAXIMUM/MEAN/STDDEV",
                    b.name
                ),
            );
        }
    }
    if meta.tile_statistics
        && meta
            .tile_statistics_columns
            .iter()
            .any(|c| !TILE_STATISTICS_COLUMNS.contains(&c.as_str()))
    {
        report.error(
            "tile_statistics",
            format!(
                "unknown per-tile statistics in {:?}",
                meta.tile_statistics_columns
            ),
        );
    }
}

fn check_metadata_nulls(reader: &Reader, report: &mut Report) -> Result<()> {
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
        report.error(
            "metadata_not_null",
            format!("{bad} data rows have a non-null `metadata`"),
        );
    }
    Ok(())
}

type TileStats = HashMap<(u64, usize), [Option<f64>; 6]>;

fn read_tile_stats(reader: &Reader, report: &mut Report) -> Result<TileStats> {
    let meta = reader.metadata();
    let schema = reader.schema();
    let mut out = HashMap::new();
    if !meta.tile_statistics {
        return Ok(out);
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
                Err(_) => report.error(
                    "tile_statistics",
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
                out.entry((block, *b)).or_insert([None; 6])[*s] = v;
            }
        }
    }
    Ok(out)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn compare_tile_stats(
    stats: &[Option<f64>; 6],
    ts: &Observed,
    tile: &crate::Tile,
    band: &str,
    report: &mut Report,
    emit: &mut impl FnMut(&mut Report, Severity, &'static str, String),
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
            emit(
                report,
                Severity::Error,
                "tile_statistics",
                format!(
                    "tile {}/{}/{} column `{band}_{name}` = {:?} but the pixels give {:?}",
                    tile.z, tile.x, tile.y, stats[k], expect[k]
                ),
            );
        }
    }
}

fn check_statistics(meta: &crate::Metadata, observed: &[Observed], report: &mut Report) {
    for (band, obs) in meta.bands.iter().zip(observed) {
        let s = &band.statistics;
        if let (Some(min), Some(max)) = (s.minimum, s.maximum) {
            if min > max {
                report.error(
                    "statistics_inconsistent",
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
                report.error(
                    "statistics_inconsistent",
                    format!(
                        "band `{}`: STATISTICS_MEAN {mean} is outside [{min}, {max}]",
                        band.name
                    ),
                );
            }
            if obs.count > 0 && (min > obs.max || max < obs.min) {
                report.error(
                    "statistics_inconsistent",
                    format!("band `{}`: STATISTICS [{min}, {max}] do not overlap the native-zoom pixels [{}, {}]", band.name, obs.min, obs.max),
                );
            } else if obs.count > 0 && (obs.min < min || obs.max > max) {
                report.warning(
                    "statistics_approximate",
                    format!("band `{}`: native-zoom pixels span [{}, {}], STATISTICS say [{min}, {max}] (approximate statistics)", band.name, obs.min, obs.max),
                );
            }
        }
        if s.stddev.is_some_and(|v| v < 0.0) {
            report.error(
                "statistics_inconsistent",
                format!("band `{}`: negative STATISTICS_STDDEV", band.name),
            );
        }
        if s.valid_percent.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
            report.error(
                "statistics_inconsistent",
                format!(
                    "band `{}`: STATISTICS_VALID_PERCENT outside 0..100",
                    band.name
                ),
            );
        }
        if obs.count == 0 && s.minimum.is_some() && !meta.legacy {
            report.warning(
                "statistics_inconsistent",
                format!(
                    "band `{}` has statistics but no valid pixel at max_zoom",
                    band.name
                ),
            );
        }
    }
}
