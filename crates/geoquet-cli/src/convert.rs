//! `geoquet convert` and `geoquet extract`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;
use geoquet::io::parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use std::collections::{BTreeMap, BTreeSet};

use geoquet::io::reader::{ReadOptions, ScanStats};
use geoquet::io::wkb_column::wkb_values;
use geoquet::io::writer::{
    CoveringOptions, GeometryEncoding, TargetVersion, WriterOptions, write_file,
};
use geoquet::meta::geometry::wkb_info;
use geoquet::meta::{BoundingBox, Crs, GeoParquetMetadata, GeometryTypeAndDimension};

use crate::source::{Batches, Source};
use crate::{Cli, EXIT_OK, Outcome, Unreadable};

/// The file formats `convert` and `extract` know, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// GeoParquet.
    Parquet,
    /// A GeoJSON FeatureCollection.
    GeoJson,
    /// Newline-delimited GeoJSON, one Feature per line.
    NdJson,
}

pub(crate) fn format_of(path: &str) -> anyhow::Result<Format> {
    if path == "-" {
        return Ok(Format::NdJson);
    }
    let lower = path.to_ascii_lowercase();
    let ext = Path::new(&lower)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match ext {
        "parquet" | "geoparquet" | "pq" => Ok(Format::Parquet),
        "geojson" | "json" => Ok(Format::GeoJson),
        "ndjson" | "geojsonl" | "geojsons" | "jsonl" | "geojsonseq" => Ok(Format::NdJson),
        _ => Err(Unreadable(format!(
            "{path}: unknown format (use .parquet, .geojson, .ndjson or .geojsonl, or - for NDJSON on standard input/output)"
        ))
        .into()),
    }
}

/// Writer options shared by `convert`, `extract` and `sort`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// GeoParquet version to write: 1.0, 1.1, 2.0 (Parquet
    /// GEOMETRY/GEOGRAPHY logical types and geospatial statistics) or native
    /// (logical types only, no `geo` key). Default: 1.1; `sort`: the input's.
    #[arg(long, value_name = "VERSION")]
    pub geoparquet_version: Option<String>,
    /// Geometry encoding: wkb, or geoarrow (native, 1.1 only). Default: wkb;
    /// `sort`: the input's.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// Add a per-row bbox covering column (default on for 1.1); name it with
    /// --covering-bbox=NAME (the `=` is required, so that a following
    /// argument is never taken for the name).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub covering_bbox: Option<String>,
    /// Do not add a covering column.
    #[arg(long, conflicts_with = "covering_bbox")]
    pub no_covering_bbox: bool,
    /// Store the covering as FLOAT (rounded outward) instead of DOUBLE.
    #[arg(long)]
    pub covering_float32: bool,
    /// Add zmin/zmax to the covering (for 3D data).
    #[arg(long)]
    pub covering_z: bool,
    /// Compression: zstd[:LEVEL] (default zstd:3), snappy, gzip[:LEVEL],
    /// brotli[:LEVEL], lz4, none.
    #[arg(long, value_name = "CODEC", default_value = "zstd")]
    pub compression: String,
    /// Maximum rows per row group.
    #[arg(long, value_name = "ROWS")]
    pub row_group_size: Option<usize>,
    /// Set the CRS: EPSG:N, OGC:CRS84, PROJJSON text, or @FILE holding PROJJSON.
    #[arg(long, value_name = "CRS")]
    pub crs: Option<String>,
    /// Rewind polygon rings (exterior counterclockwise, holes clockwise) and
    /// declare `orientation: counterclockwise`.
    #[arg(long)]
    pub rewind: bool,
}

/// Arguments of `geoquet convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input: GeoParquet, GeoJSON or NDJSON, as a path or a URL (file://,
    /// s3://, gs://, az://, http(s)://), or - (GeoJSON/NDJSON on standard input).
    pub input: String,
    /// Output: .parquet, .geojson, .ndjson/.geojsonl, or - (NDJSON on standard output).
    pub output: String,
    /// Writer options.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Arguments of `geoquet extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Input GeoParquet file: a path or a URL (file://, s3://, gs://, az://, http(s)://).
    pub input: String,
    /// Output: .parquet, .geojson, .ndjson/.geojsonl, or - (NDJSON on standard output).
    pub output: String,
    /// Keep rows whose geometry intersects xmin,ymin,xmax,ymax (xmin > xmax
    /// crosses the antimeridian).
    #[arg(long, value_name = "XMIN,YMIN,XMAX,YMAX", allow_hyphen_values = true)]
    pub bbox: String,
    /// Keep only these columns (comma-separated; geometry columns are kept).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Writer options (for a .parquet output).
    #[command(flatten)]
    pub write: WriteArgs,
}

pub(crate) fn parse_bbox(s: &str) -> anyhow::Result<BoundingBox> {
    let vals: Vec<f64> = s
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            Unreadable(format!(
                "--bbox \"{s}\": expected four numbers xmin,ymin,xmax,ymax"
            ))
        })?;
    let [xmin, ymin, xmax, ymax] = vals[..] else {
        return Err(Unreadable(format!(
            "--bbox \"{s}\": expected four numbers xmin,ymin,xmax,ymax, got {}",
            vals.len()
        ))
        .into());
    };
    if vals.iter().any(|v| !v.is_finite()) || ymin > ymax {
        return Err(Unreadable(format!(
            "--bbox \"{s}\": needs finite numbers with ymin <= ymax"
        ))
        .into());
    }
    Ok(BoundingBox::new(xmin, ymin, xmax, ymax))
}

/// `--compression zstd[:LEVEL]|snappy|gzip[:LEVEL]|brotli[:LEVEL]|lz4|none`
/// (shared by every command that writes Parquet).
pub(crate) fn parse_compression(s: &str) -> anyhow::Result<Compression> {
    let (name, level) = match s.split_once(':') {
        Some((n, l)) => (
            n,
            Some(
                l.parse::<u32>()
                    .map_err(|_| Unreadable(format!("--compression {s}: bad level")))?,
            ),
        ),
        None => (s, None),
    };
    let bad = |e: geoquet::io::parquet::errors::ParquetError| {
        Unreadable(format!("--compression {s}: {e}"))
    };
    Ok(match name.to_ascii_lowercase().as_str() {
        "zstd" => Compression::ZSTD(
            ZstdLevel::try_new(
                level
                    .map_or(Ok(geoquet::io::writer::DEFAULT_ZSTD_LEVEL), i32::try_from)
                    .unwrap_or(i32::MAX),
            )
            .map_err(bad)?,
        ),
        "gzip" => Compression::GZIP(GzipLevel::try_new(level.unwrap_or(6)).map_err(bad)?),
        "brotli" => Compression::BROTLI(BrotliLevel::try_new(level.unwrap_or(6)).map_err(bad)?),
        "snappy" => Compression::SNAPPY,
        "lz4" | "lz4_raw" | "lz4-raw" => Compression::LZ4_RAW,
        "none" | "uncompressed" => Compression::UNCOMPRESSED,
        other => {
            return Err(Unreadable(format!(
                "--compression {other}: expected zstd, snappy, gzip, brotli, lz4 or none"
            ))
            .into());
        }
    })
}

fn parse_crs(s: &str) -> anyhow::Result<Crs> {
    let text = match s.strip_prefix('@') {
        Some(file) => {
            std::fs::read_to_string(file).map_err(|e| Unreadable(format!("--crs {s}: {e}")))?
        }
        None => s.to_owned(),
    };
    Crs::parse_user(&text).map_err(|e| Unreadable(format!("--crs: {e}")).into())
}

impl WriteArgs {
    /// Whether --geoparquet-version or --encoding was given (`sort` keeps
    /// the input's otherwise).
    pub(crate) fn format_given(&self) -> bool {
        self.geoparquet_version.is_some() || self.encoding.is_some()
    }

    pub(crate) fn options(&self) -> anyhow::Result<WriterOptions> {
        let version =
            (self.geoparquet_version.as_deref().unwrap_or("1.1")).parse::<TargetVersion>()?;
        let encoding = self
            .encoding
            .as_deref()
            .unwrap_or("wkb")
            .parse::<GeometryEncoding>()
            .map_err(|e| Unreadable(format!("--encoding: {e}")))?;
        let mut options = WriterOptions::default()
            .with_version(version)
            .with_encoding(encoding);
        options.compression = parse_compression(&self.compression)?;
        if let Some(rows) = self.row_group_size {
            if rows == 0 {
                return Err(Unreadable("--row-group-size must be at least 1".into()).into());
            }
            options.row_group_rows = rows;
        }
        if self.no_covering_bbox {
            options.covering = Some(None);
        } else if self.covering_bbox.is_some() || self.covering_float32 || self.covering_z {
            let name = self.covering_bbox.clone().unwrap_or_default();
            let mut covering = CoveringOptions::default()
                .with_float32(self.covering_float32)
                .with_z(self.covering_z);
            if !name.is_empty() {
                covering = covering.with_name(name);
            }
            options.covering = Some(Some(covering));
        }
        if let Some(c) = &self.crs {
            options.crs = Some(parse_crs(c)?);
        }
        options.rewind = self.rewind;
        Ok(options)
    }
}

/// Shows rows done on standard error, at most twice a second, only on a terminal.
pub(crate) struct Progress {
    enabled: bool,
    last: Instant,
    label: &'static str,
}

impl Progress {
    pub(crate) fn new(cli: &Cli, label: &'static str) -> Self {
        Self {
            enabled: !cli.quiet && std::io::stderr().is_terminal(),
            last: Instant::now(),
            label,
        }
    }

    pub(crate) fn rows(&mut self, rows: u64) {
        if self.enabled && self.last.elapsed() > Duration::from_millis(500) {
            self.last = Instant::now();
            eprint!("\r{}: {rows} rows", self.label);
        }
    }

    pub(crate) fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }
}

fn check_output(output: &str, input: &str) -> anyhow::Result<()> {
    if output != "-"
        && (Path::new(output) == Path::new(input)
            || std::fs::canonicalize(output)
                .ok()
                .is_some_and(|o| std::fs::canonicalize(input).ok() == Some(o)))
    {
        return Err(Unreadable(format!("{output}: the output would overwrite the input")).into());
    }
    Ok(())
}

/// Prints what a writer normalised or dropped from `input`'s metadata, one
/// `warning:` line each on standard error.
pub(crate) fn print_warnings(input: &str, warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {input}: {w}");
    }
}

/// Reads GeoParquet with `read` options and writes `output` in its format;
/// returns the rows written, the scan counts and the input's metadata.
fn parquet_to(
    cli: &Cli,
    source: &Source,
    output: &str,
    read: &ReadOptions,
    write: &WriterOptions,
) -> anyhow::Result<(u64, ScanStats, GeoParquetMetadata)> {
    let Batches {
        schema,
        metadata,
        stats,
        iter,
    } = source.open(read)?;
    let mut progress = Progress::new(cli, "converting");
    let mut rows = 0u64;
    let rows = match format_of(output)? {
        Format::Parquet => {
            let meta_for_writer = declared_types(source, &metadata, write)?;
            let batches = iter.inspect(|b| {
                if let Ok(b) = b {
                    rows += b.num_rows() as u64;
                    progress.rows(rows);
                }
            });
            let summary = write_file(
                Path::new(output),
                schema,
                batches,
                Some(&meta_for_writer),
                write,
            )
            .map_err(|e| crate::geojson_out::writing(output, e))?;
            print_warnings(&source.name(), &summary.warnings);
            summary.rows
        }
        f => crate::geojson_out::write(
            output,
            schema,
            iter,
            &metadata.primary_column,
            f == Format::NdJson,
        )?,
    };
    progress.done();
    Ok((rows, stats.get(), metadata))
}

/// The GeoArrow encoding needs the geometry types; when the input does not
/// declare them, they are found by reading the geometry columns once.
fn declared_types(
    source: &Source,
    meta: &GeoParquetMetadata,
    write: &WriterOptions,
) -> anyhow::Result<GeoParquetMetadata> {
    let mut meta = meta.clone();
    if write.encoding != GeometryEncoding::GeoArrow {
        return Ok(meta);
    }
    let undeclared: Vec<String> = meta
        .columns
        .iter()
        .filter(|(_, c)| c.geometry_types.is_empty())
        .map(|(k, _)| k.clone())
        .collect();
    if undeclared.is_empty() {
        return Ok(meta);
    }
    let options = ReadOptions::default().with_columns(undeclared.clone());
    let mut found: BTreeMap<String, BTreeSet<GeometryTypeAndDimension>> = BTreeMap::new();
    let mut row = 0u64;
    for batch in source.open(&options)?.iter {
        let batch = batch?;
        for name in &undeclared {
            let Some(col) = batch.column_by_name(name) else {
                continue;
            };
            let values = wkb_values(col.as_ref())?;
            let set = found.entry(name.clone()).or_default();
            for i in 0..values.len() {
                if let Some(bytes) = values.value(i) {
                    let info = wkb_info(bytes).map_err(|m| {
                        Unreadable(format!(
                            "column \"{name}\", row {}: invalid WKB: {m}",
                            row + i as u64
                        ))
                    })?;
                    set.insert(info.type_and_dimension);
                }
            }
        }
        row += batch.num_rows() as u64;
    }
    for (name, types) in found {
        if let Some(col) = meta.columns.get_mut(&name) {
            col.geometry_types = types.into_iter().collect();
        }
    }
    Ok(meta)
}

pub(crate) fn run_convert(
    cli: &Cli,
    args: &ConvertArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    check_output(&args.output, &args.input)?;
    let write = args.write.options()?;
    let input_format = format_of(&args.input)?;
    format_of(&args.output)?;
    let started = Instant::now();
    let rows = match input_format {
        Format::Parquet => {
            parquet_to(
                cli,
                &Source::parse(&args.input)?,
                &args.output,
                &ReadOptions::default(),
                &write,
            )?
            .0
        }
        Format::GeoJson | Format::NdJson => {
            crate::geojson_out::convert_geojson(cli, &args.input, &args.output, &write)?
        }
    };
    written(cli, out, &args.output, rows, started)
}

/// The closing line of a conversion (nothing for standard output or --quiet).
fn written(
    cli: &Cli,
    out: &mut dyn Write,
    output: &str,
    rows: u64,
    started: Instant,
) -> anyhow::Result<Outcome> {
    if !cli.quiet && output != "-" {
        writeln!(
            out,
            "{output}: {rows} rows written in {:.2} s",
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(Outcome(EXIT_OK))
}

/// Why an extract found nothing, when the file's bbox tells: the box misses
/// it (with a hint when the box with its axes swapped would meet it: latitude
/// given first).
fn empty_extract_hint(query: &BoundingBox, meta: &GeoParquetMetadata) -> Option<String> {
    let file = meta.primary()?.bbox?;
    let extent = BoundingBox::new(file.xmin, file.ymin, file.xmax, file.ymax);
    if !extent.is_finite() || query.intersects(&extent) {
        return None;
    }
    let show = |b: &BoundingBox| format!("{},{},{},{}", b.xmin, b.ymin, b.xmax, b.ymax);
    let swapped = BoundingBox::new(query.ymin, query.xmin, query.ymax, query.xmax);
    let order = if query.xmin <= query.xmax && swapped.intersects(&extent) {
        " With its axes swapped it would meet the file: --bbox is xmin,ymin,xmax,ymax, longitude first for longitude/latitude data."
    } else {
        " --bbox is xmin,ymin,xmax,ymax in the file's CRS (longitude first for longitude/latitude data)."
    };
    Some(format!(
        "no rows: --bbox {} does not meet the file's bbox {}.{order}",
        show(query),
        show(&extent)
    ))
}

pub(crate) fn run_extract(
    cli: &Cli,
    args: &ExtractArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    check_output(&args.output, &args.input)?;
    if format_of(&args.input)? != Format::Parquet {
        return Err(Unreadable(format!(
            "{}: extract reads GeoParquet; use convert for GeoJSON",
            args.input
        ))
        .into());
    }
    let bbox = parse_bbox(&args.bbox)?;
    let write = args.write.options()?;
    format_of(&args.output)?;
    let source = Source::parse(&args.input)?;
    let mut read = ReadOptions::default().with_bbox(bbox);
    if let Some(cols) = &args.columns {
        // Geometry columns are kept whatever the list says. The footer is read
        // through the source: a URL input has no local path.
        let footer = source.footer()?;
        let meta = footer.facts.geoparquet_metadata().and_then(Result::ok);
        let mut wanted = cols.clone();
        if let Some(m) = meta {
            for g in m.columns.keys() {
                if !wanted.contains(g) {
                    wanted.push(g.clone());
                }
            }
        }
        read.columns = Some(wanted);
    }
    let started = Instant::now();
    let (rows, stats, metadata) = parquet_to(cli, &source, &args.output, &read, &write)?;
    if rows == 0
        && let Some(hint) = empty_extract_hint(&bbox, &metadata)
    {
        eprintln!("{}: {hint}", source.name());
    }
    if cli.verbose > 0 {
        eprintln!(
            "row groups read {}/{}, bytes skipped {}/{} ({:.1}%), rows skipped by the page index {}, rows returned {}",
            stats.row_groups_read,
            stats.row_groups_total,
            stats.bytes_skipped,
            stats.bytes_total,
            if stats.bytes_total > 0 {
                100.0 * stats.bytes_skipped as f64 / stats.bytes_total as f64
            } else {
                0.0
            },
            stats.rows_skipped_by_pages,
            rows
        );
    }
    written(cli, out, &args.output, rows, started)
}
