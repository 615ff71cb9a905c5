//! `geoquet raquet`: GeoTIFF → RaQuet, info, tiles (PNG), back to GeoTIFF, validate.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use geoquet::raquet::{self, ConvertOptions, Reader, Severity};
use serde_json::{Value, json};

use crate::{Cli, EXIT_INVALID, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet raquet`.
#[derive(Debug, Args)]
pub struct RaquetArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RaquetCommand,
}

/// The `raquet` subcommands.
#[derive(Debug, Subcommand)]
pub enum RaquetCommand {
    /// Convert a GeoTIFF into a RaQuet file (defaults as raquet-io's `convert raster`).
    ///
    /// Fill outside the source footprint is the nodata value, NaN for float rasters
    /// without one, or 0 in an added alpha band for integer rasters without one; band
    /// statistics count source pixels only.
    FromGeotiff(FromGeotiffArgs),
    /// Summarise a RaQuet file: version, zooms, bounds, bands, statistics, tiles per zoom.
    Info(InfoArgs),
    /// Read one tile (`Z/X/Y`, clamped to the file's zooms); `--png` renders it.
    Tile(TileArgs),
    /// The band values at a longitude/latitude (native zoom); exit 1 when no tile covers it.
    Value(ValueArgs),
    /// Write the native zoom back to a GeoTIFF (EPSG:3857).
    ToGeotiff(ToGeotiffArgs),
    /// Check a RaQuet file against every rule of the spec. Exit 0 valid, 1 invalid, 2 unreadable.
    Validate(RaquetValidateArgs),
}

/// Native zoom rounding.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ZoomStrategyArg {
    /// Nearest zoom.
    Auto,
    /// Coarser.
    Lower,
    /// Finer.
    Upper,
}

/// Resampling method.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ResamplingArg {
    /// Nearest neighbour.
    #[value(alias = "nearest")]
    Near,
    /// Bilinear.
    Bilinear,
    /// Cubic convolution.
    Cubic,
    /// Cubic B-spline.
    Cubicspline,
    /// Area-weighted mean.
    Average,
    /// Most frequent value.
    Mode,
}

/// Band layout.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// One column per band.
    Sequential,
    /// One `pixels` column, whole samples interleaved.
    Interleaved,
}

/// Per-blob compression.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompressionArg {
    /// gzip per blob.
    Gzip,
    /// None per blob (Parquet ZSTD instead).
    None,
}

/// Overview generation.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OverviewsArg {
    /// Down to the automatic minimum zoom.
    Auto,
    /// Native zoom only.
    None,
}

/// Arguments of `geoquet raquet from-geotiff`.
#[derive(Debug, Args)]
pub struct FromGeotiffArgs {
    /// The GeoTIFF.
    pub input: PathBuf,
    /// The RaQuet file to write (atomically).
    pub output: PathBuf,
    /// How the native zoom is rounded from the source resolution.
    #[arg(long, value_enum, default_value = "auto")]
    pub zoom_strategy: ZoomStrategyArg,
    /// Resampling onto the Web-Mercator grid.
    #[arg(long, value_enum, default_value = "near")]
    pub resampling: ResamplingArg,
    /// Tile size in pixels (a power of two, at least 16).
    #[arg(long, default_value_t = raquet::DEFAULT_BLOCK_SIZE)]
    pub block_size: u32,
    /// Band layout.
    #[arg(long, value_enum, default_value = "sequential")]
    pub layout: LayoutArg,
    /// Per-blob compression.
    #[arg(long, value_enum, default_value = "gzip")]
    pub compression: CompressionArg,
    /// Overviews down to the automatic minimum zoom, or none.
    #[arg(long, value_enum, default_value = "auto")]
    pub overviews: OverviewsArg,
    /// Lowest zoom instead of the automatic one.
    #[arg(long, value_name = "Z")]
    pub min_zoom: Option<u8>,
    /// Add per-tile statistics columns (`band_1_count`, `band_1_mean`, …).
    #[arg(long)]
    pub tile_stats: bool,
    /// Keep tiles that hold only nodata (left out by default; a raster without a single
    /// valid pixel is refused unless they are kept).
    #[arg(long)]
    pub keep_empty: bool,
    /// Add a 256-bucket histogram per band to the metadata.
    #[arg(long)]
    pub histogram: bool,
    /// Rows per row group.
    #[arg(long, default_value_t = raquet::DEFAULT_ROW_GROUP_SIZE)]
    pub row_group_size: usize,
    /// gzip level of the blobs (0-9).
    #[arg(long, default_value_t = raquet::DEFAULT_GZIP_LEVEL, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub gzip_level: u32,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet raquet info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The RaQuet file.
    pub file: PathBuf,
    /// Print the metadata document and the file facts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet raquet tile`.
#[derive(Debug, Args)]
pub struct TileArgs {
    /// The RaQuet file.
    pub file: PathBuf,
    /// The tile, `Z/X/Y`.
    pub tile: String,
    /// Render the tile into this PNG (palette applied, else a stretch from the band statistics).
    #[arg(long, value_name = "OUT")]
    pub png: Option<PathBuf>,
    /// Read interleaved multi-byte tiles as raquet-io 0.9.0 wrote them (bytes interleaved).
    #[arg(long)]
    pub byte_interleaved: bool,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet raquet value`.
#[derive(Debug, Args)]
pub struct ValueArgs {
    /// The RaQuet file.
    pub file: PathBuf,
    /// Longitude in degrees.
    #[arg(allow_hyphen_values = true)]
    pub lon: f64,
    /// Latitude in degrees.
    #[arg(allow_hyphen_values = true)]
    pub lat: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet raquet to-geotiff`.
#[derive(Debug, Args)]
pub struct ToGeotiffArgs {
    /// The RaQuet file.
    pub input: PathBuf,
    /// The GeoTIFF to write (atomically).
    pub output: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet raquet validate`.
#[derive(Debug, Args)]
pub struct RaquetValidateArgs {
    /// The RaQuet file.
    pub file: PathBuf,
    /// Print `{"valid": bool, "findings": [...]}`.
    #[arg(long)]
    pub json: bool,
}

/// The error as one line that names `file` (prefixed unless the message names it);
/// a worker thread's panic is a bug, not bad input, and keeps its type for the
/// message.
fn unreadable_in(file: &Path) -> impl Fn(raquet::Error) -> anyhow::Error + '_ {
    move |e| {
        if matches!(e, raquet::Error::WorkerPanicked { .. }) {
            return e.into();
        }
        let msg = e.to_string().replace('\n', " ");
        let name = file.display().to_string();
        if msg.contains(&name) {
            Unreadable(msg).into()
        } else {
            Unreadable(format!("{name}: {msg}")).into()
        }
    }
}

/// The library's value for a flag: its name parsed with the library's `FromStr`.
fn parsed<T>(flag: impl ValueEnum) -> anyhow::Result<T>
where
    T: std::str::FromStr<Err = raquet::Error>,
{
    let name = flag
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    Ok(name.parse()?)
}

pub(crate) fn run(cli: &Cli, args: &RaquetArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &args.command {
        RaquetCommand::FromGeotiff(a) => from_geotiff(cli, a, out),
        RaquetCommand::Info(a) => info(a, out),
        RaquetCommand::Tile(a) => tile(cli, a, out),
        RaquetCommand::Value(a) => value(a, out),
        RaquetCommand::ToGeotiff(a) => to_geotiff(cli, a, out),
        RaquetCommand::Validate(a) => validate(cli, a, out),
    }
}

fn from_geotiff(cli: &Cli, a: &FromGeotiffArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut opts = ConvertOptions::default()
        .with_zoom_strategy(parsed(a.zoom_strategy)?)
        .with_resampling(parsed(a.resampling)?)
        .with_block_size(a.block_size)
        .with_layout(parsed(a.layout)?)
        .with_compression(parsed(a.compression)?)
        .with_overviews(matches!(a.overviews, OverviewsArg::Auto))
        .with_tile_stats(a.tile_stats)
        .with_keep_empty(a.keep_empty)
        .with_histogram(a.histogram)
        .with_row_group_size(a.row_group_size)
        .with_gzip_level(a.gzip_level);
    if let Some(z) = a.min_zoom {
        opts = opts.with_min_zoom(z);
    }
    let s = raquet::geotiff_to_raquet(&a.input, &a.output, &opts).map_err(|e| {
        // Errors about the output name it; the rest are about the input.
        if e.to_string().contains(&a.output.display().to_string()) {
            unreadable_in(&a.output)(e)
        } else {
            unreadable_in(&a.input)(e)
        }
    })?;
    let m = &s.metadata;
    if a.json {
        let doc = json!({
            "output": a.output.display().to_string(),
            "min_zoom": m.tiling.min_zoom,
            "max_zoom": m.tiling.max_zoom,
            "num_blocks": m.tiling.num_blocks,
            "tiles_per_zoom": s.tiles_per_zoom.iter().map(|(z, n)| (z.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "empty_tiles_skipped": s.empty_tiles_skipped,
            "metadata": m.to_json(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).context("writing to stdout")?;
    } else if !cli.quiet {
        let tiles: u64 = s.tiles_per_zoom.values().sum();
        writeln!(
            out,
            "{}: {tiles} tiles, zooms {}..={} ({}x{} px, {} band(s)), {} empty tile(s) left out",
            a.output.display(),
            m.tiling.min_zoom,
            m.tiling.max_zoom,
            m.width,
            m.height,
            m.bands.len(),
            s.empty_tiles_skipped
        )
        .context("writing to stdout")?;
    }
    Ok(Outcome(EXIT_OK))
}

fn info(a: &InfoArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let r = Reader::open(&a.file).map_err(unreadable_in(&a.file))?;
    let m = r.metadata();
    let mut per_zoom = std::collections::BTreeMap::new();
    for b in r.blocks() {
        if let Some((z, _, _)) = raquet::cell::tile_from_cell(*b) {
            *per_zoom.entry(z).or_insert(0u64) += 1;
        }
    }
    if a.json {
        let raw: Value = serde_json::from_str(r.metadata_json()).unwrap_or(Value::Null);
        let doc = json!({
            "file": a.file.display().to_string(),
            "version": m.version,
            "legacy_metadata": m.legacy,
            "rows": r.blocks().len() + r.metadata_rows().len(),
            "metadata_rows": r.metadata_rows(),
            "tiles_per_zoom": per_zoom.iter().map(|(z, n)| (z.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "metadata": raw,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).context("writing to stdout")?;
        return Ok(Outcome(EXIT_OK));
    }
    let t = &m.tiling;
    let version = m.version.as_deref().unwrap_or("(none)");
    let mut s = String::new();
    s.push_str(&format!("file:          {}\n", a.file.display()));
    s.push_str(&format!(
        "version:       {version}{}\n",
        if m.legacy { " (legacy metadata)" } else { "" }
    ));
    s.push_str(&format!("size:          {}x{} px\n", m.width, m.height));
    s.push_str(&format!(
        "bounds:        {:?} ({})\n",
        m.bounds, m.bounds_crs
    ));
    s.push_str(&format!(
        "tiling:        {}x{} blocks, zooms {}..={}, pixel zoom {}, {} native block(s)\n",
        t.block_width, t.block_height, t.min_zoom, t.max_zoom, t.pixel_zoom, t.num_blocks
    ));
    s.push_str(&format!(
        "compression:   {:?}, layout {:?}\n",
        m.compression, m.band_layout
    ));
    let zooms: Vec<String> = per_zoom.iter().map(|(z, n)| format!("{z}:{n}")).collect();
    s.push_str(&format!(
        "tiles:         {} ({})\n",
        r.blocks().len(),
        zooms.join(" ")
    ));
    for b in &m.bands {
        let st = &b.statistics;
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v}"));
        s.push_str(&format!(
            "band {}: {} nodata {} {} min {} max {} mean {} stddev {} valid {}%{}\n",
            b.name,
            b.band_type,
            f(b.nodata),
            b.colorinterp.as_deref().unwrap_or("undefined"),
            f(st.minimum),
            f(st.maximum),
            f(st.mean),
            f(st.stddev),
            f(st.valid_percent),
            b.colortable.as_ref().map_or(String::new(), |c| format!(
                ", colortable {} entries",
                c.len()
            ))
        ));
    }
    out.write_all(s.as_bytes()).context("writing to stdout")?;
    Ok(Outcome(EXIT_OK))
}

fn parse_zxy(s: &str) -> anyhow::Result<(u8, u32, u32)> {
    let parts: Vec<&str> = s.split('/').collect();
    let bad = || Unreadable(format!("tile `{s}` is not Z/X/Y"));
    if parts.len() != 3 {
        return Err(bad().into());
    }
    let z = parts[0].parse().map_err(|_| bad())?;
    let x = parts[1].parse().map_err(|_| bad())?;
    let y = parts[2].parse().map_err(|_| bad())?;
    Ok((z, x, y))
}

fn tile(cli: &Cli, a: &TileArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let (z, x, y) =
        parse_zxy(&a.tile).map_err(|e| Unreadable(format!("{}: {e}", a.file.display())))?;
    let opts = raquet::ReaderOptions::default().with_byte_interleaved(a.byte_interleaved);
    let r = Reader::open_with(&a.file, opts).map_err(unreadable_in(&a.file))?;
    let Some(t) = r.tile(z, x, y).map_err(unreadable_in(&a.file))? else {
        if a.json {
            writeln!(out, "{}", json!({"tile": a.tile, "present": false}))
                .context("writing to stdout")?;
        }
        // Not an output: one line on stderr, exit 1.
        eprintln!("error: {}: no tile {z}/{x}/{y}", a.file.display());
        return Ok(Outcome(EXIT_INVALID));
    };
    if let Some(png) = &a.png {
        raquet::write_png(&r, &t, png).map_err(unreadable_in(png))?;
    }
    let bands: Vec<Value> = r
        .metadata()
        .bands
        .iter()
        .enumerate()
        .map(|(b, band)| {
            let mut n = 0u64;
            let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
            for row in 0..t.height {
                for col in 0..t.width {
                    if let Some(v) = t.value(b, row, col).filter(|v| v.is_finite()) {
                        n += 1;
                        lo = lo.min(v);
                        hi = hi.max(v);
                        sum += v;
                    }
                }
            }
            let mean = if n > 0 {
                json!(sum / n as f64)
            } else {
                Value::Null
            };
            json!({
                "name": band.name,
                "type": band.band_type.name(),
                "valid": n,
                "min": if n > 0 { json!(lo) } else { Value::Null },
                "max": if n > 0 { json!(hi) } else { Value::Null },
                "mean": mean,
            })
        })
        .collect();
    let doc = json!({
        "tile": format!("{z}/{x}/{y}"),
        "present": true,
        "block": raquet::cell::cell_from_tile(z, x, y),
        "source_zoom": t.source_zoom,
        "width": t.width,
        "height": t.height,
        "png": a.png.as_ref().map(|p| p.display().to_string()),
        "bands": bands,
    });
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).context("writing to stdout")?;
    } else if !cli.quiet {
        writeln!(
            out,
            "tile {z}/{x}/{y} ({}x{} px, read at zoom {})",
            t.width, t.height, t.source_zoom
        )
        .context("writing to stdout")?;
        for b in doc["bands"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "  {} {}: {} valid, min {}, max {}, mean {}",
                b["name"].as_str().unwrap_or(""),
                b["type"].as_str().unwrap_or(""),
                b["valid"],
                b["min"],
                b["max"],
                b["mean"]
            )
            .context("writing to stdout")?;
        }
        if let Some(p) = &a.png {
            writeln!(out, "  PNG written to {}", p.display()).context("writing to stdout")?;
        }
    }
    Ok(Outcome(EXIT_OK))
}

fn value(a: &ValueArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let r = Reader::open(&a.file).map_err(unreadable_in(&a.file))?;
    let v = r.value_at(a.lon, a.lat).map_err(unreadable_in(&a.file))?;
    let names: Vec<&str> = r.metadata().band_names();
    let doc = match &v {
        None => json!({"lon": a.lon, "lat": a.lat, "present": false}),
        Some(vals) => json!({
            "lon": a.lon,
            "lat": a.lat,
            "present": true,
            "values": names.iter().zip(vals).map(|(n, v)| ((*n).to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        }),
    };
    if a.json {
        writeln!(out, "{doc}").context("writing to stdout")?;
    } else if let Some(vals) = &v {
        let parts: Vec<String> = names
            .iter()
            .zip(vals)
            .map(|(n, v)| format!("{n}={}", v.map_or("nodata".to_string(), |v| v.to_string())))
            .collect();
        writeln!(out, "{}", parts.join(" ")).context("writing to stdout")?;
    }
    if v.is_none() {
        // Not a value: one line on stderr, exit 1.
        eprintln!(
            "error: {}: no tile at lon {}, lat {} (outside the raster)",
            a.file.display(),
            a.lon,
            a.lat
        );
    }
    Ok(Outcome(if v.is_some() { EXIT_OK } else { EXIT_INVALID }))
}

fn to_geotiff(cli: &Cli, a: &ToGeotiffArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let s = raquet::raquet_to_geotiff(&a.input, &a.output).map_err(|e| {
        if e.to_string().contains(&a.output.display().to_string()) {
            unreadable_in(&a.output)(e)
        } else {
            unreadable_in(&a.input)(e)
        }
    })?;
    if a.json {
        let doc = json!({"output": a.output.display().to_string(), "width": s.width, "height": s.height, "bands": s.bands, "tiles": s.tiles});
        writeln!(out, "{doc}").context("writing to stdout")?;
    } else if !cli.quiet {
        writeln!(
            out,
            "{}: {}x{} px, {} band(s) from {} tile(s)",
            a.output.display(),
            s.width,
            s.height,
            s.bands,
            s.tiles
        )
        .context("writing to stdout")?;
    }
    Ok(Outcome(EXIT_OK))
}

fn validate(cli: &Cli, a: &RaquetValidateArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let v = raquet::validate(&a.file).map_err(unreadable_in(&a.file))?;
    let valid = v.is_valid();
    if a.json {
        let mut doc = json!({"file": a.file.display().to_string()});
        if let (Some(doc), Value::Object(rest)) = (doc.as_object_mut(), v.to_json()) {
            doc.extend(rest);
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?).context("writing to stdout")?;
    } else if !cli.quiet || !valid {
        let errors = v.report.count(Severity::Error);
        let warnings = v.report.findings.len() - errors;
        if valid {
            writeln!(out, "{}: valid ({warnings} warning(s))", a.file.display())
        } else {
            writeln!(
                out,
                "{}: INVALID ({errors} error(s), {warnings} warning(s))",
                a.file.display()
            )
        }
        .context("writing to stdout")?;
        for f in &v.report.findings {
            if cli.quiet && f.severity != Severity::Error {
                continue;
            }
            writeln!(out, "  {} {}: {}", f.severity, f.code, f.message)
                .context("writing to stdout")?;
        }
    }
    Ok(Outcome(if valid { EXIT_OK } else { EXIT_INVALID }))
}
