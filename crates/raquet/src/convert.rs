//! GeoTIFF → RaQuet: zoom choice, warping to Web Mercator tile by tile, overviews,
//! statistics, and the Parquet file (written atomically).
//!
//! Memory is bounded by the raster *width*: the source is read one band of rows at a
//! time (the rows one row of native tiles needs), overviews keep one row of tiles per
//! level, and encoded tiles are spilled to a temporary file until they are written in
//! `block` order.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use geoparquet_io::workers;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde_json::json;

use crate::cell::{self, CE, auto_min_zoom, tile_bounds_lonlat, tile_range};
use crate::geotiff::GeoTiff;
use crate::metadata::{
    Band, BandLayout, BandStatistics, Compression, Histogram, Metadata, RAQUET_VERSION,
    RAQUET_VERSION_KEY, TILE_STATISTICS_COLUMNS, Tiling,
};
use crate::proj::Transformer;
use crate::stats::RunningStats;
use crate::{Error, Pixels, Result, blob};

/// How the native zoom is rounded from the source resolution (GDAL's
/// `ZOOM_LEVEL_STRATEGY`, raquet-io's `--zoom-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZoomStrategy {
    /// Nearest zoom (the default).
    #[default]
    Auto,
    /// The zoom below (coarser pixels).
    Lower,
    /// The zoom above (finer pixels).
    Upper,
}

/// How source pixels are resampled onto the Web-Mercator grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resampling {
    /// Nearest neighbour (the default, as raquet-io).
    #[default]
    Nearest,
    /// Bilinear over the 2×2 neighbours (nodata excluded, weights renormalised).
    Bilinear,
    /// Cubic convolution (Catmull-Rom, a = −0.5) over 4×4 neighbours.
    Cubic,
    /// Cubic B-spline over 4×4 neighbours (GDAL's `cubicspline`).
    CubicSpline,
    /// Area-weighted mean of the source pixels under the destination pixel.
    Average,
    /// Most frequent (area-weighted) value under the destination pixel.
    Mode,
}

impl ZoomStrategy {
    /// The name: `auto`, `lower` or `upper`.
    pub fn name(self) -> &'static str {
        match self {
            ZoomStrategy::Auto => "auto",
            ZoomStrategy::Lower => "lower",
            ZoomStrategy::Upper => "upper",
        }
    }
}

impl std::fmt::Display for ZoomStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `auto`, `lower` or `upper`.
///
/// ```
/// use raquet::ZoomStrategy;
///
/// assert_eq!("lower".parse::<ZoomStrategy>()?, ZoomStrategy::Lower);
/// assert_eq!(ZoomStrategy::Upper.to_string().parse::<ZoomStrategy>()?, ZoomStrategy::Upper);
/// assert!("nearest".parse::<ZoomStrategy>().is_err());
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for ZoomStrategy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(ZoomStrategy::Auto),
            "lower" => Ok(ZoomStrategy::Lower),
            "upper" => Ok(ZoomStrategy::Upper),
            _ => Err(Error::unknown_name(
                "zoom strategy",
                s,
                "auto, lower or upper",
            )),
        }
    }
}

/// Parses GDAL/raquet-io names (`near`, `nearest`, `bilinear`, `cubic`,
/// `cubicspline`, `average`, `mode`).
///
/// ```
/// use raquet::Resampling;
///
/// assert_eq!("near".parse::<Resampling>()?, Resampling::Nearest);
/// assert_eq!(Resampling::CubicSpline.to_string().parse::<Resampling>()?, Resampling::CubicSpline);
/// assert!("lanczos".parse::<Resampling>().is_err());
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for Resampling {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "near" | "nearest" => Resampling::Nearest,
            "bilinear" => Resampling::Bilinear,
            "cubic" => Resampling::Cubic,
            "cubicspline" => Resampling::CubicSpline,
            "average" => Resampling::Average,
            "mode" => Resampling::Mode,
            _ => {
                return Err(Error::unknown_name(
                    "resampling",
                    s,
                    "near, bilinear, cubic, cubicspline, average or mode",
                ));
            }
        })
    }
}

impl std::fmt::Display for Resampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Resampling {
    /// The GDAL name.
    pub fn name(self) -> &'static str {
        match self {
            Resampling::Nearest => "near",
            Resampling::Bilinear => "bilinear",
            Resampling::Cubic => "cubic",
            Resampling::CubicSpline => "cubicspline",
            Resampling::Average => "average",
            Resampling::Mode => "mode",
        }
    }
}

/// Default tile size in pixels.
pub const DEFAULT_BLOCK_SIZE: u32 = 256;
/// Default rows per Parquet row group (raquet-io's).
pub const DEFAULT_ROW_GROUP_SIZE: usize = 200;
/// Default gzip level for blobs: 4. Blobs are compressed by libdeflate; on the
/// benchmark rasters (256² tiles) its level 4 is 1.7 times as fast as zlib's level 4
/// and within 1.5 % of its size. Level 6 is 5–13 % smaller on the uint8 rasters and
/// 20–30 % slower on the large ones.
pub const DEFAULT_GZIP_LEVEL: u32 = 4;
/// Buckets of the optional histogram.
pub const HISTOGRAM_BUCKETS: usize = 256;

/// Options of [`geotiff_to_raquet`]; `Default` gives raquet-io's defaults.
///
/// ```
/// use raquet::{ConvertOptions, Resampling};
///
/// let options = ConvertOptions::default()
///     .with_resampling(Resampling::Bilinear)
///     .with_min_zoom(3);
/// assert_eq!((options.resampling, options.min_zoom), (Resampling::Bilinear, Some(3)));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConvertOptions {
    /// Native zoom rounding. Default [`ZoomStrategy::Auto`].
    pub zoom_strategy: ZoomStrategy,
    /// Resampling onto the tile grid. Default [`Resampling::Nearest`].
    pub resampling: Resampling,
    /// Tile size: a power of two in 16..=4096. Default [`DEFAULT_BLOCK_SIZE`] (256).
    pub block_size: u32,
    /// Sequential (one column per band) or interleaved (`pixels`). Default
    /// [`BandLayout::Sequential`].
    pub layout: BandLayout,
    /// Per-blob compression: [`Compression::Gzip`] (the default) or
    /// [`Compression::None`] (then the Parquet pages are ZSTD-compressed).
    pub compression: Compression,
    /// Build overviews down to `min_zoom` (raquet-io's `--overviews auto`). Default
    /// `true`.
    pub overviews: bool,
    /// Lowest zoom instead of the automatic one (clamped to `0..=max_zoom`). Default
    /// `None` (automatic).
    pub min_zoom: Option<u8>,
    /// Add the per-tile statistics columns (`{band}_count`, …). Default `false`.
    pub tile_stats: bool,
    /// Write tiles that hold only nodata too. Default `false`.
    pub keep_empty: bool,
    /// Add a 256-bucket histogram per band. Default `false`.
    pub histogram: bool,
    /// Rows per row group. Default [`DEFAULT_ROW_GROUP_SIZE`] (200).
    pub row_group_size: usize,
    /// gzip level (0–9, libdeflate's scale; 0 stores). Default [`DEFAULT_GZIP_LEVEL`]
    /// (4).
    pub gzip_level: u32,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            zoom_strategy: ZoomStrategy::Auto,
            resampling: Resampling::Nearest,
            block_size: DEFAULT_BLOCK_SIZE,
            layout: BandLayout::Sequential,
            compression: Compression::Gzip,
            overviews: true,
            min_zoom: None,
            tile_stats: false,
            keep_empty: false,
            histogram: false,
            row_group_size: DEFAULT_ROW_GROUP_SIZE,
            gzip_level: DEFAULT_GZIP_LEVEL,
        }
    }
}

macro_rules! with {
    ($(#[$m:meta])* $name:ident, $field:ident: $t:ty) => {
        $(#[$m])*
        #[must_use]
        pub fn $name(mut self, $field: $t) -> Self {
            self.$field = $field;
            self
        }
    };
}

impl ConvertOptions {
    with!(/// Sets [`ConvertOptions::zoom_strategy`].
        with_zoom_strategy, zoom_strategy: ZoomStrategy);
    with!(/// Sets [`ConvertOptions::resampling`].
        with_resampling, resampling: Resampling);
    with!(/// Sets [`ConvertOptions::block_size`].
        with_block_size, block_size: u32);
    with!(/// Sets [`ConvertOptions::layout`].
        with_layout, layout: BandLayout);
    with!(/// Sets [`ConvertOptions::compression`].
        with_compression, compression: Compression);
    with!(/// Sets [`ConvertOptions::overviews`].
        with_overviews, overviews: bool);
    with!(/// Sets [`ConvertOptions::tile_stats`].
        with_tile_stats, tile_stats: bool);
    with!(/// Sets [`ConvertOptions::keep_empty`].
        with_keep_empty, keep_empty: bool);
    with!(/// Sets [`ConvertOptions::histogram`].
        with_histogram, histogram: bool);
    with!(/// Sets [`ConvertOptions::row_group_size`].
        with_row_group_size, row_group_size: usize);

    /// Sets [`ConvertOptions::min_zoom`] to `Some(zoom)`.
    #[must_use]
    pub fn with_min_zoom(mut self, zoom: u8) -> Self {
        self.min_zoom = Some(zoom);
        self
    }

    /// Sets [`ConvertOptions::gzip_level`] (clamped to 0–9).
    #[must_use]
    pub fn with_gzip_level(mut self, level: u32) -> Self {
        self.gzip_level = level.min(9);
        self
    }
}

/// What a conversion produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertSummary {
    /// The metadata written.
    pub metadata: Metadata,
    /// Tiles written per zoom.
    pub tiles_per_zoom: BTreeMap<u8, u64>,
    /// Tiles left out because they held only nodata.
    pub empty_tiles_skipped: u64,
}

/// A tile being built: one `f64` buffer per band, NaN where there is no valid value.
type TileData = Vec<Vec<f64>>;

/// One encoded tile waiting in the spill file.
struct Entry {
    block: u64,
    z: u8,
    offset: u64,
    lens: Vec<u32>,
    stats: Vec<[Option<f64>; 6]>,
}

/// Encoded tiles in an unnamed file beside the output (nothing is left behind, whatever
/// ends the process).
struct Spill {
    file: BufWriter<File>,
    /// The output, for messages (the spill has no name of its own).
    path: PathBuf,
    offset: u64,
    entries: Vec<Entry>,
}

/// Band facts the warper needs.
#[derive(Clone)]
struct BandInfo {
    nodata: Option<f64>,
    categorical: bool,
}

struct Ctx<'a> {
    opts: &'a ConvertOptions,
    bands: Vec<Band>,
    info: Vec<BandInfo>,
    spill: Spill,
    native_zoom: u8,
    native_stats: Vec<RunningStats>,
    tiles_per_zoom: BTreeMap<u8, u64>,
    skipped: u64,
    /// Overview levels: zoom → (row being filled, tiles of that row).
    pending: BTreeMap<u8, (Option<u32>, HashMap<u32, TileData>)>,
    /// Last tile row per zoom (inclusive).
    last_row: BTreeMap<u8, u32>,
    min_zoom: u8,
    mask: Mask,
}

/// The description of the alpha band the writer adds to integer rasters without a
/// nodata value (see [`Mask`]).
pub(crate) const FILL_MASK_DESCRIPTION: &str =
    "fill mask added by geoquet: 0 where the tile has no source pixel";

/// How fill is told from data in a tile: by an alpha band (`alpha`, the source's own
/// or one added, `added`) whose 0 marks pixels without data in every band; else by
/// each band's nodata value.
#[derive(Debug, Clone, Copy)]
struct Mask {
    alpha: Option<usize>,
    added: bool,
    /// The value of an added alpha band where there is data.
    opaque: f64,
}

/// The opaque value of an added alpha band: 255 (GDAL's), or the type's largest
/// value when it cannot hold 255.
fn opaque(t: crate::BandType) -> f64 {
    t.range().1.min(255.0)
}

/// Converts a GeoTIFF into a RaQuet file (see the crate docs for the defaults).
///
/// ```no_run
/// let summary = raquet::geotiff_to_raquet("dem.tif", "dem.parquet", &raquet::ConvertOptions::default())?;
/// println!("zooms {}..={}", summary.metadata.tiling.min_zoom, summary.metadata.tiling.max_zoom);
/// # Ok::<(), raquet::Error>(())
/// ```
pub fn geotiff_to_raquet(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    opts: &ConvertOptions,
) -> Result<ConvertSummary> {
    let input = input.as_ref();
    let output = output.as_ref();
    let bz = check_options(opts)?;
    refuse_other_bodies(input)?;
    let mut src = GeoTiff::open(input)?;
    let tr = Transformer::new(&src.crs, src.geotransform)?;
    let grid = Grid::of(&src, &tr, input, opts, bz)?;
    let out = OutputBands::of(&src, opts);
    let (alpha, source_bands) = (out.alpha, out.source_bands);
    let mut ctx = Ctx::start(opts, output, &grid, out)?;
    native_tiles(&mut ctx, &mut src, &tr, &grid, alpha, source_bands)?;
    // Flush overview rows still open.
    for z in (grid.min_zoom..grid.max_zoom).rev() {
        ctx.flush_level(z)?;
    }

    // A raster without a single valid pixel: an empty RaQuet is not one our own
    // validator (nor raquet-io's) accepts, so refuse unless empty tiles are kept.
    if !opts.keep_empty && ctx.native_stats.iter().all(|st| st.count == 0) {
        return Err(Error::geotiff(
            input,
            "every pixel is nodata: there is nothing to write (keep the empty tiles, \
             `--keep-empty`, to write them anyway)",
        ));
    }
    let mut bands = band_statistics(&mut ctx, &grid);
    ctx.spill
        .file
        .flush()
        .map_err(|e| Error::io(&*ctx.spill.path, e))?;
    if opts.histogram {
        histograms(&mut ctx, &mut bands)?;
    }
    let metadata = output_metadata(&ctx, &src, &grid, bz, bands);
    write_parquet(&mut ctx, &metadata, output)?;
    Ok(ConvertSummary {
        metadata,
        tiles_per_zoom: ctx.tiles_per_zoom,
        empty_tiles_skipped: ctx.skipped,
    })
}

/// Refuses options the writer cannot honour; the block size's log2.
fn check_options(opts: &ConvertOptions) -> Result<u8> {
    let bs = opts.block_size;
    if !bs.is_power_of_two() || !(16..=4096).contains(&bs) {
        return Err(Error::BlockSize { size: bs });
    }
    if !matches!(opts.compression, Compression::Gzip | Compression::None) {
        return Err(Error::UnwritableCompression {
            compression: opts.compression,
        });
    }
    Ok(u8::try_from(bs.ilog2()).unwrap_or(8))
}

/// Where the raster lies on the tile grid.
struct Grid {
    /// The Mercator x of the raster's centre (see [`near`]).
    cmx: f64,
    /// Bounds in lon/lat, west in -180..180, east up to west + 360.
    bounds: [f64; 4],
    /// The native zoom.
    max_zoom: u8,
    /// The lowest overview zoom.
    min_zoom: u8,
}

impl Grid {
    /// The native zoom from the source resolution, the bounds from the corners, the
    /// lowest zoom from the options.
    fn of(
        src: &GeoTiff,
        tr: &Transformer,
        input: &Path,
        opts: &ConvertOptions,
        bz: u8,
    ) -> Result<Self> {
        // Pixel window (rows outside the Mercator square are dropped for lon/lat input).
        let (row0, row1) = mercator_rows(src, tr);
        if row1 <= row0 {
            return Err(Error::geotiff(
                input,
                "the raster lies outside the Web-Mercator latitude range",
            ));
        }
        let w = f64::from(src.width);
        let (r0, r1) = (f64::from(row0), f64::from(row1));

        // The Mercator x of the raster's centre: every Mercator x is taken within half a
        // world of it (see `near`), so that a raster across the antimeridian is one
        // piece, not two ends of the world.
        let centre = tr.pixel_to_source(w / 2.0, (r0 + r1) / 2.0);
        // (A centre that does not transform leaves coordinates as the transform gives them.)
        let cmx = tr
            .source_to_mercator(centre.0, centre.1)
            .map(|m| m.0)
            .filter(|x| x.is_finite())
            .unwrap_or(0.0);
        let clon = cell::mercator_to_lonlat(cmx, 0.0).0;

        let max_zoom = native_zoom(tr, input, opts, [w, r0, r1], cmx)?;
        let bounds = lonlat_bounds(tr, input, [w, r0, r1], clon)?;
        let min_zoom = if !opts.overviews {
            max_zoom
        } else if let Some(m) = opts.min_zoom {
            m.min(max_zoom)
        } else {
            auto_min_zoom(bounds, bz, max_zoom)
        };

        Ok(Grid {
            cmx,
            bounds,
            max_zoom,
            min_zoom,
        })
    }
}

/// The native zoom: the pixel size along the raster's diagonal (pixel columns `0..w`,
/// rows `r0..r1`) in Web-Mercator metres, rounded as the options say.
fn native_zoom(
    tr: &Transformer,
    input: &Path,
    opts: &ConvertOptions,
    [w, r0, r1]: [f64; 3],
    cmx: f64,
) -> Result<u8> {
    let bs = opts.block_size;
    // Resolution and native zoom: the pixel size along the raster's diagonal in
    // Web-Mercator metres (raquet-io's measure), with the corners taken on the same
    // side of the antimeridian as the centre.
    let ul = tr.pixel_to_source(0.0, r0);
    let lr = tr.pixel_to_source(w, r1);
    let (Some(a), Some(b)) = (
        tr.source_to_mercator(ul.0, ul.1),
        tr.source_to_mercator(lr.0, lr.1),
    ) else {
        return Err(Error::geotiff(
            input,
            "the raster corners do not transform to Web Mercator",
        ));
    };
    let resolution = (near(b.0, cmx) - near(a.0, cmx)).hypot(b.1 - a.1) / w.hypot(r1 - r0);
    let raw = (CE / f64::from(bs) / resolution).log2();
    let zoom = match opts.zoom_strategy {
        ZoomStrategy::Auto => raw.round(),
        ZoomStrategy::Lower => raw.floor(),
        ZoomStrategy::Upper => raw.ceil(),
    };
    if !zoom.is_finite() || zoom > 26.0 {
        return Err(Error::geotiff(
            input,
            format!("the native zoom {zoom} is beyond Quadbin's 26"),
        ));
    }
    let max_zoom = zoom.max(0.0) as u8;
    Ok(max_zoom)
}

/// The raster's bounds in lon/lat from its four corners (pixel columns `0..w`, rows
/// `r0..r1`), on the side of the antimeridian of the centre's longitude `clon`.
fn lonlat_bounds(
    tr: &Transformer,
    input: &Path,
    [w, r0, r1]: [f64; 3],
    clon: f64,
) -> Result<[f64; 4]> {
    let mut bounds = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (c, r) in [(0.0, r0), (0.0, r1), (w, r0), (w, r1)] {
        let (x, y) = tr.pixel_to_source(c, r);
        let (lon, lat) = tr.source_to_lonlat(x, y).ok_or_else(|| {
            Error::geotiff(input, "a raster corner does not transform to lon/lat")
        })?;
        // On the centre's side of the antimeridian: east may pass 180°.
        let lon = near(lon * DEG, clon * DEG) / DEG;
        bounds = [
            bounds[0].min(lon),
            bounds[1].min(lat),
            bounds[2].max(lon),
            bounds[3].max(lat),
        ];
    }
    // West in -180..180 (east up to west + 360); a raster all round the world has
    // each tile once.
    let turns = ((bounds[0] + 180.0) / 360.0).floor();
    bounds[0] -= 360.0 * turns;
    bounds[2] -= 360.0 * turns;
    if bounds[2] - bounds[0] >= 360.0 {
        (bounds[0], bounds[2]) = (-180.0, 180.0);
    }
    Ok(bounds)
}

/// The bands written (the source's, plus an alpha band marking fill when needed).
struct OutputBands {
    bands: Vec<Band>,
    info: Vec<BandInfo>,
    /// How many of `bands` are the source's.
    source_bands: usize,
    /// The source's own alpha band.
    alpha: Option<usize>,
    mask: Mask,
}

impl OutputBands {
    fn of(src: &GeoTiff, opts: &ConvertOptions) -> Self {
        // Fill (tile pixels without a source pixel) must be told from data. With a
        // nodata value it is that value. Without one, float bands declare NaN (never a
        // valid value); integer bands get an alpha band (0 = fill, the type's opaque value
        // elsewhere) unless the source has one already, so that fill is transparent and
        // out of the statistics without a data value sacrificed.
        // A nodata value the band type cannot hold (GDAL allows -9999 on a uint8 band)
        // marks nothing: such a band has no nodata.
        let float = src.band_type.is_float();
        let (lo, hi) = src.band_type.range();
        let nodata = src
            .nodata
            .filter(|v| float || (v.fract() == 0.0 && (lo..=hi).contains(v)))
            .or(float.then_some(f64::NAN));
        let colortable = src.colortable.clone();
        let mut bands: Vec<Band> = src
            .bands
            .iter()
            .enumerate()
            .map(|(i, sb)| {
                let mut b = Band::new(format!("band_{}", i + 1), src.band_type);
                b.nodata = nodata;
                b.description = sb.description.clone();
                b.unit = sb.unit.clone();
                b.scale = sb.scale;
                b.offset = sb.offset;
                b.colorinterp = Some(sb.colorinterp.clone());
                if sb.colorinterp == "palette" {
                    b.colortable = colortable.clone();
                }
                b
            })
            .collect();
        let source_bands = bands.len();
        let mut info: Vec<BandInfo> = bands
            .iter()
            .map(|b| BandInfo {
                nodata: b.nodata,
                categorical: b.is_categorical() || opts.resampling == Resampling::Mode,
            })
            .collect();

        let alpha = (bands.len() > 1
            && bands.last().and_then(|b| b.colorinterp.as_deref()) == Some("alpha"))
        .then(|| bands.len() - 1);
        let added_alpha = nodata.is_none() && alpha.is_none();
        if added_alpha {
            let mut a = Band::new(format!("band_{}", bands.len() + 1), src.band_type);
            a.colorinterp = Some("alpha".into());
            a.description = FILL_MASK_DESCRIPTION.into();
            bands.push(a);
            info.push(BandInfo {
                nodata: None,
                categorical: false,
            });
        }
        let mask = Mask {
            alpha: alpha.or(added_alpha.then_some(source_bands)),
            added: added_alpha,
            opaque: opaque(src.band_type),
        };
        OutputBands {
            bands,
            info,
            source_bands,
            alpha,
            mask,
        }
    }
}

impl<'a> Ctx<'a> {
    /// The conversion's state, with the output checked and its spill file created.
    fn start(
        opts: &'a ConvertOptions,
        output: &Path,
        grid: &Grid,
        out: OutputBands,
    ) -> Result<Self> {
        let (min_zoom, max_zoom, bounds) = (grid.min_zoom, grid.max_zoom, grid.bounds);
        // A directory, device or FIFO at the output is refused before the work.
        let target = geoparquet_io::output::check_destination(output)?;
        let out_dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file = geoparquet_io::output::scratch_file(Some(out_dir))?;
        let path = output.to_path_buf();
        let mut last_row = BTreeMap::new();
        for z in min_zoom..=max_zoom {
            let (_, _, _, y1) = tile_range(bounds, z);
            let _ = last_row.insert(z, y1);
        }
        Ok(Ctx {
            opts,
            info: out.info,
            spill: Spill {
                file: BufWriter::new(file),
                path,
                offset: 0,
                entries: Vec::new(),
            },
            native_zoom: max_zoom,
            native_stats: vec![RunningStats::default(); out.bands.len()],
            bands: out.bands,
            tiles_per_zoom: BTreeMap::new(),
            skipped: 0,
            pending: BTreeMap::new(),
            last_row,
            min_zoom,
            mask: out.mask,
        })
    }
}

/// What warping a row of native tiles needs, shared by the worker threads.
struct NativeRow<'a> {
    opts: &'a ConvertOptions,
    tr: &'a Transformer,
    cmx: f64,
    max_zoom: u8,
    /// Whether the tiles are reduced for overviews.
    reduce: bool,
    /// The first and last tile column.
    x0: u32,
    x1: u32,
    /// The source's own alpha band.
    alpha: Option<usize>,
    bands: &'a [Band],
    info: &'a [BandInfo],
    /// The source's own bands (the warp reads them; an added alpha band is computed).
    source_bands: usize,
    mask: &'a Mask,
}

impl NativeRow<'_> {
    /// The source rows under tile row `ty`, read into `rows` (buffers reused), and the
    /// source/destination scale.
    fn read_window(
        &self,
        src: &mut GeoTiff,
        ty: u32,
        mut rows: Vec<Vec<f64>>,
    ) -> Result<(SourceWindow, f64)> {
        let merc = cell::tile_bounds_mercator(self.max_zoom, self.x0, ty);
        let merc_right = cell::tile_bounds_mercator(self.max_zoom, self.x1, ty);
        let (sr0, sr1, scale) = source_rows(
            self.tr,
            self.cmx,
            [merc[0], merc[1], merc_right[2], merc[3]],
            src.height,
            self.opts.resampling,
        );
        src.read_rows(sr0, sr1, &mut rows)?;
        let window = SourceWindow::masked(
            self.alpha,
            sr0,
            sr1,
            src.width as usize,
            src.height as usize,
            rows,
            &self.info[..self.source_bands],
        );
        Ok((window, scale))
    }

    /// Tile `tx`/`ty` warped from `window`, made ready (see [`prepare`]).
    fn tile(&self, window: &SourceWindow, scale: f64, tx: u32, ty: u32) -> Prepared {
        let bs = self.opts.block_size;
        let n = (bs as usize) * (bs as usize);
        let coords = tile_coords(self.tr, self.cmx, self.max_zoom, tx, ty, bs);
        let mut data: TileData = vec![vec![f64::NAN; n]; self.source_bands];
        warp(
            window,
            &coords,
            self.opts.resampling,
            &self.info[..self.source_bands],
            scale,
            &mut data,
        );
        data.resize(self.bands.len(), vec![f64::NAN; n]);
        prepare(
            self.opts,
            self.bands,
            self.info,
            self.mask,
            tx,
            data,
            self.reduce,
            true,
        )
    }
}

/// The native tiles, one row of tiles at a time, the tiles of a row on worker threads.
/// While the workers warp and encode row `ty`, the next window of source rows is read
/// and decoded on another thread, and the tiles of row `ty - 1` are spilled and reduced
/// into the overviews on this one: at most two windows and two rows of tiles are
/// alive, in the same order as a serial loop.
fn native_tiles(
    ctx: &mut Ctx<'_>,
    src: &mut GeoTiff,
    tr: &Transformer,
    grid: &Grid,
    alpha: Option<usize>,
    source_bands: usize,
) -> Result<()> {
    let max_zoom = grid.max_zoom;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(16);
    let (x0, y0, x1, y1) = tile_range(grid.bounds, max_zoom);
    let (bands, info, mask) = (ctx.bands.clone(), ctx.info.clone(), ctx.mask);
    let row = NativeRow {
        opts: ctx.opts,
        tr,
        cmx: grid.cmx,
        max_zoom,
        reduce: max_zoom > grid.min_zoom,
        x0,
        x1,
        alpha,
        bands: &bands,
        info: &info,
        source_bands,
        mask: &mask,
    };
    let mut next = Some(row.read_window(src, y0, Vec::new())?);
    let mut previous: Option<(u32, Vec<Prepared>)> = None;
    // The buffers of the window before, for the next read (no new pages to fault in).
    let mut spare: Vec<Vec<f64>> = Vec::new();
    for ty in y0..=y1 {
        let Some((window, scale)) = next.take() else {
            break;
        };
        let recycled = std::mem::take(&mut spare);
        let (prepared, fetched, took) = workers::scope(|s| {
            let reader = (ty < y1).then(|| {
                s.spawn("raquet: read source rows", || {
                    row.read_window(&mut *src, ty + 1, recycled)
                })
            });
            let native = s.spawn("raquet: native tiles", || {
                par_map("raquet: warp tile", (x0..=x1).collect(), threads, |tx| {
                    row.tile(&window, scale, tx, ty)
                })
            });
            let took = previous
                .take()
                .map_or(Ok(()), |(py, tiles)| ctx.take_row(max_zoom, py, tiles));
            (native.join(), reader.map(workers::Handle::join), took)
        })?;
        took?;
        let prepared = prepared??;
        next = fetched.transpose()?.transpose()?;
        previous = Some((ty, prepared));
        spare = window.rows;
    }
    if let Some((py, tiles)) = previous {
        ctx.take_row(max_zoom, py, tiles)?;
    }
    Ok(())
}

/// Band statistics (source pixels only: fill and nodata are not counted), taken out of
/// the context with the bands.
fn band_statistics(ctx: &mut Ctx<'_>, grid: &Grid) -> Vec<Band> {
    let bs = ctx.opts.block_size;
    let n = (bs as usize) * (bs as usize);
    let (x0, y0, x1, y1) = tile_range(grid.bounds, grid.max_zoom);
    let native_tiles = u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1);
    let total = (native_tiles * n as u64) as f64;
    let mut bands = std::mem::take(&mut ctx.bands);
    for (b, st) in bands.iter_mut().zip(&ctx.native_stats) {
        let valid = st.count as f64;
        b.statistics = if st.count == 0 {
            BandStatistics {
                valid_percent: Some(0.0),
                ..BandStatistics::default()
            }
        } else {
            BandStatistics {
                minimum: Some(st.min),
                maximum: Some(st.max),
                mean: Some(st.mean),
                stddev: Some(st.stddev()),
                valid_percent: Some(valid / total * 100.0),
            }
        };
    }
    bands
}

/// The metadata document of the output.
fn output_metadata(
    ctx: &Ctx<'_>,
    src: &GeoTiff,
    grid: &Grid,
    bz: u8,
    bands: Vec<Band>,
) -> Metadata {
    let opts = ctx.opts;
    let bs = opts.block_size;
    let (min_zoom, max_zoom) = (grid.min_zoom, grid.max_zoom);
    let (x0, y0, x1, y1) = tile_range(grid.bounds, max_zoom);
    // Tile-aligned bounds; across the antimeridian west > east (RFC 7946's convention).
    let [mut bx0, _, _, by0] = tile_bounds_lonlat(max_zoom, x0, y0);
    let [_, by1, mut bx1, _] = tile_bounds_lonlat(max_zoom, x1, y1);
    if u64::from(x1 - x0) + 1 >= 1u64 << max_zoom {
        (bx0, bx1) = (-180.0, 180.0);
    } else if bx1 > 180.0 {
        bx1 -= 360.0;
    }
    Metadata {
        version: Some(RAQUET_VERSION.into()),
        legacy: false,
        width: u64::from(x1 - x0 + 1) * u64::from(bs),
        height: u64::from(y1 - y0 + 1) * u64::from(bs),
        crs: "EPSG:3857".into(),
        bounds: [bx0, by1, bx1, by0],
        bounds_crs: "EPSG:4326".into(),
        tiling: Tiling {
            scheme: "quadbin".into(),
            block_width: bs,
            block_height: bs,
            min_zoom,
            max_zoom,
            pixel_zoom: max_zoom + bz,
            num_blocks: ctx.tiles_per_zoom.get(&max_zoom).copied().unwrap_or(0),
        },
        compression: opts.compression,
        compression_quality: None,
        band_layout: opts.layout,
        tile_statistics: opts.tile_stats,
        tile_statistics_columns: if opts.tile_stats {
            TILE_STATISTICS_COLUMNS
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        } else {
            Vec::new()
        },
        processing: Some(json!({
            "source_crs": src.crs.label(),
            "resampling": opts.resampling.name(),
            "overview_resampling": if ctx.info.iter().any(|i| i.categorical) { "mode" } else { "average" },
            "created_by": concat!("geoquet-raquet ", env!("CARGO_PKG_VERSION")),
        })),
        time: None,
        bands,
    }
}

/// Semi-axes of the Earth's ellipsoids (Airy 1830 to Clarke 1880, spheres of 6 370 997
/// and 6 371 000 m), in metres, with a margin: a CRS whose ellipsoid lies outside is on
/// another body.
const EARTH_AXES: std::ops::RangeInclusive<f64> = 6_300_000.0..=6_450_000.0;

/// Words in a GeoTIFF citation that name another body than the Earth (or the IAU,
/// whose codes are for the other bodies), compared case-insensitively with the words
/// of the citation (split at anything but letters).
const OTHER_BODIES: [&str; 18] = [
    "moon",
    "lunar",
    "mars",
    "martian",
    "mercury",
    "venus",
    "jupiter",
    "saturn",
    "ganymede",
    "callisto",
    "enceladus",
    "phobos",
    "deimos",
    "ceres",
    "vesta",
    "pluto",
    "charon",
    "iau",
];

/// Refuses a GeoTIFF whose CRS lies on another body (the Moon, Mars, …): RaQuet tiles
/// are Web Mercator on the Earth, and transforming such coordinates as if they were on
/// the Earth places the raster somewhere it is not. The body is recognised by the
/// ellipsoid's semi-axes (GeogSemiMajorAxis, GeogSemiMinorAxis, in GeogLinearUnits)
/// and by the citations (GTCitation, GeogCitation, PCSCitation). Files this cannot
/// read, or whose header fails [`GeoTiff::open`]'s checks, are left to it to report.
fn refuse_other_bodies(path: &Path) -> Result<()> {
    use tiff::decoder::Decoder;
    use tiff::tags::Tag;
    let Ok(mut file) = File::open(path) else {
        return Ok(());
    };
    // The same header checks as `GeoTiff::open` first: nothing is read from a crafted
    // header (and the `tiff` crate's debug print is never reached).
    let len = file.metadata().map_or(0, |m| m.len());
    if crate::chunks::check_ifd(&mut file, len).is_err() {
        return Ok(());
    }
    let Ok(mut dec) = Decoder::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    let dir: Vec<u16> = match dec.find_tag(Tag::GeoKeyDirectoryTag) {
        Ok(Some(v)) => v.into_u16_vec().unwrap_or_default(),
        _ => return Ok(()),
    };
    let doubles: Vec<f64> = match dec.find_tag(Tag::GeoDoubleParamsTag) {
        Ok(Some(v)) => v.into_f64_vec().unwrap_or_default(),
        _ => Vec::new(),
    };
    let ascii = match dec.find_tag(Tag::GeoAsciiParamsTag) {
        Ok(Some(v)) => v.into_string().unwrap_or_default(),
        _ => String::new(),
    };
    // Key entries: (id, location, count, value or offset), after the 4-value header.
    let entry = |id: u16| {
        dir.chunks_exact(4)
            .skip(1)
            .find(|e| e[0] == id)
            .map(|e| (e[1], e[2], e[3]))
    };
    let short = |id: u16| entry(id).filter(|e| e.0 == 0).map(|e| e.2);
    let double = |id: u16| {
        entry(id)
            .filter(|e| e.0 == 34736 && e.1 >= 1)
            .and_then(|e| doubles.get(usize::from(e.2)).copied())
    };
    let text = |id: u16| {
        entry(id).filter(|e| e.0 == 34737).and_then(|e| {
            let (start, len) = (usize::from(e.2), usize::from(e.1));
            ascii.get(start..(start + len).min(ascii.len()))
        })
    };
    let metres = match short(2052) {
        None | Some(9001) => 1.0,
        Some(9002) => 0.3048,
        Some(9003) => 1200.0 / 3937.0,
        Some(9036) => 1000.0,
        Some(_) => double(2053).unwrap_or(1.0),
    };
    let mut why = Vec::new();
    for (id, name) in [(2057, "semi-major"), (2058, "semi-minor")] {
        if let Some(a) = double(id).map(|a| a * metres)
            && !EARTH_AXES.contains(&a)
        {
            why.push(format!("ellipsoid {name} axis {a} m"));
        }
    }
    for id in [1026, 2049, 3073] {
        let Some(c) = text(id) else { continue };
        let named = c
            .split(|ch: char| !ch.is_ascii_alphabetic())
            .map(str::to_ascii_lowercase)
            .find(|w| OTHER_BODIES.contains(&w.as_str()));
        if let Some(body) = named {
            why.push(format!(
                "citation {:?} names {body}",
                c.trim_end_matches(['|', '\0']).trim()
            ));
        }
    }
    if why.is_empty() {
        return Ok(());
    }
    Err(Error::geotiff(
        path,
        format!(
            "the CRS is not on the Earth ({}): RaQuet tiles are Web Mercator on the Earth, and the raster cannot be placed there",
            why.join("; ")
        ),
    ))
}

/// The source rows inside the Mercator latitude range (only lon/lat input can leave it).
fn mercator_rows(src: &GeoTiff, tr: &Transformer) -> (u32, u32) {
    let gt = src.geotransform;
    if !matches!(src.crs, crate::geotiff::SourceCrs::Wgs84) || gt[2] != 0.0 || gt[4] != 0.0 {
        return (0, src.height);
    }
    let _ = tr;
    let lat_at = |row: f64| gt[3] + row * gt[5];
    let h = f64::from(src.height);
    let (top, bottom) = (lat_at(0.0), lat_at(h));
    if top.abs().max(bottom.abs()) <= cell::MAX_LAT {
        return (0, src.height);
    }
    let row_of = |lat: f64| (lat - gt[3]) / gt[5];
    let (a, b) = (row_of(cell::MAX_LAT), row_of(-cell::MAX_LAT));
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    let r0 = lo.ceil().clamp(0.0, h) as u32;
    let r1 = hi.floor().clamp(0.0, h) as u32;
    (r0, r1)
}

/// Degrees to Web-Mercator metres along the equator.
const DEG: f64 = CE / 360.0;

/// `x` (Web-Mercator metres) moved by whole worlds to within half a world of `centre`
/// (unchanged when it already is, or is half a world away give or take rounding: the
/// corners of a raster all round the world stay where they are): the coordinate of the
/// same place on the centre's side of the antimeridian.
fn near(x: f64, centre: f64) -> f64 {
    let d = x - centre;
    if d.abs() > CE / 2.0 * (1.0 + 1e-9) {
        x - CE * (d / CE).round()
    } else {
        x
    }
}

/// Source coordinates of a Web-Mercator point, taken on the side of the antimeridian
/// of the raster centre `cmx` (tiles east of 180° have x beyond the Mercator square).
fn mercator_to_source(tr: &Transformer, cmx: f64, mx: f64, my: f64) -> Option<(f64, f64)> {
    tr.mercator_to_source(near(mx, cmx), my)
}

/// Source rows needed for a Mercator rectangle, with a margin for the kernel; and
/// the source-pixels-per-destination-pixel scale.
fn source_rows(
    tr: &Transformer,
    cmx: f64,
    merc: [f64; 4],
    height: u32,
    rs: Resampling,
) -> (u32, u32, f64) {
    let [xmin, ymin, xmax, ymax] = merc;
    let steps = 64;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut pts = Vec::new();
    for k in 0..=steps {
        let t = f64::from(k) / f64::from(steps);
        let x = xmin + (xmax - xmin) * t;
        let y = ymin + (ymax - ymin) * t;
        pts.extend([
            (x, ymin),
            (x, ymax),
            (xmin, y),
            (xmax, y),
            (x, (ymin + ymax) / 2.0),
        ]);
    }
    for (x, y) in pts {
        if let Some((sx, sy)) = mercator_to_source(tr, cmx, x, y) {
            let (_, r) = tr.source_to_pixel(sx, sy);
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    // Scale: source rows per Mercator metre times the tile pixel size.
    let px = (ymax - ymin) / 256.0;
    let (mx, my) = ((xmin + xmax) / 2.0, (ymin + ymax) / 2.0);
    let scale = mercator_to_source(tr, cmx, mx, my)
        .zip(mercator_to_source(tr, cmx, mx + px, my + px))
        .map_or(1.0, |(a, b)| {
            let pa = tr.source_to_pixel(a.0, a.1);
            let pb = tr.source_to_pixel(b.0, b.1);
            ((pb.0 - pa.0).abs().max((pb.1 - pa.1).abs())).max(1e-9)
        });
    if !lo.is_finite() {
        return (0, 0, scale);
    }
    let margin = match rs {
        Resampling::Average | Resampling::Mode => scale.ceil() + 2.0,
        _ => 3.0,
    };
    let h = f64::from(height);
    let r0 = (lo - margin).floor().clamp(0.0, h) as u32;
    let r1 = (hi + margin).ceil().clamp(0.0, h) as u32;
    (r0, r1, scale)
}

/// Source pixel coordinates (col, row, continuous) of every destination pixel centre of
/// a tile, row-major.
struct TileCoords {
    /// `(col, row)` per pixel; NaN where the transform fails.
    points: Vec<(f64, f64)>,
    /// Pixels per side.
    n: usize,
    /// Every row has the same columns and every column the same rows.
    separable: bool,
}

/// The [`TileCoords`] of tile `z/x/y` of `bs`² pixels (`x` may pass the last column:
/// the tile east of the antimeridian), for a raster centred at Mercator x `cmx`.
fn tile_coords(tr: &Transformer, cmx: f64, z: u8, x: u32, y: u32, bs: u32) -> TileCoords {
    let n = bs as usize;
    TileCoords {
        points: tile_points(tr, cmx, z, x, y, bs),
        n,
        separable: tr.is_separable(),
    }
}

fn tile_points(tr: &Transformer, cmx: f64, z: u8, x: u32, y: u32, bs: u32) -> Vec<(f64, f64)> {
    let [xmin, _, xmax, ymax] = cell::tile_bounds_mercator(z, x, y);
    let n = bs as usize;
    let px = (xmax - xmin) / f64::from(bs);
    let at = |i: f64, j: f64| -> (f64, f64) {
        let mx = xmin + (i + 0.5) * px;
        let my = ymax - (j + 0.5) * px;
        mercator_to_source(tr, cmx, mx, my)
            .map_or((f64::NAN, f64::NAN), |(sx, sy)| tr.source_to_pixel(sx, sy))
    };
    let mut out = vec![(f64::NAN, f64::NAN); n * n];
    if tr.is_separable() {
        let cols: Vec<f64> = (0..n).map(|i| at(i as f64, 0.0).0).collect();
        let rows: Vec<f64> = (0..n).map(|j| at(0.0, j as f64).1).collect();
        for (j, r) in rows.iter().enumerate() {
            for (i, c) in cols.iter().enumerate() {
                out[j * n + i] = (*c, *r);
            }
        }
        return out;
    }
    if tr.is_affine() {
        for j in 0..n {
            for i in 0..n {
                out[j * n + i] = at(i as f64, j as f64);
            }
        }
        return out;
    }
    // A grid of exact transforms every `step` pixels, bilinear in between (GDAL's
    // approximate transformer does the same with an error bound).
    let step = 16usize.min(n);
    let g = n / step + 1;
    let mut grid = vec![(f64::NAN, f64::NAN); g * g];
    for gj in 0..g {
        for gi in 0..g {
            grid[gj * g + gi] = at((gi * step) as f64, (gj * step) as f64);
        }
    }
    // The fractions and the finiteness of each grid cell, once (the same arithmetic per
    // pixel as interpolating from scratch).
    let frac: Vec<(usize, f64)> = (0..n)
        .map(|i| {
            let gi = (i / step).min(g - 2);
            (gi, (i - gi * step) as f64 / step as f64)
        })
        .collect();
    let finite: Vec<bool> = (0..(g - 1) * (g - 1))
        .map(|k| {
            let (gj, gi) = (k / (g - 1), k % (g - 1));
            [
                grid[gj * g + gi],
                grid[gj * g + gi + 1],
                grid[(gj + 1) * g + gi],
                grid[(gj + 1) * g + gi + 1],
            ]
            .iter()
            .all(|p| p.0.is_finite() && p.1.is_finite())
        })
        .collect();
    for (j, &(gj, fy)) in frac.iter().enumerate() {
        let row = &mut out[j * n..(j + 1) * n];
        for (i, (o, &(gi, fx))) in row.iter_mut().zip(&frac).enumerate() {
            *o = if finite[gj * (g - 1) + gi] {
                let (q0, q1) = (grid[gj * g + gi], grid[gj * g + gi + 1]);
                let (q2, q3) = (grid[(gj + 1) * g + gi], grid[(gj + 1) * g + gi + 1]);
                let l = |a: f64, b: f64, c: f64, d: f64| {
                    let top = a * (1.0 - fx) + b * fx;
                    let bot = c * (1.0 - fx) + d * fx;
                    top * (1.0 - fy) + bot * fy
                };
                (l(q0.0, q1.0, q2.0, q3.0), l(q0.1, q1.1, q2.1, q3.1))
            } else {
                at(i as f64, j as f64)
            };
        }
    }
    out
}

/// Rows `r0..end` of the source, every band, full width.
struct SourceWindow {
    r0: u32,
    end: u32,
    width: usize,
    height: usize,
    rows: Vec<Vec<f64>>,
}

impl SourceWindow {
    /// A window whose invalid samples (nodata, non-finite, or masked by a zero alpha)
    /// are NaN, decided once per sample rather than once per kernel tap.
    #[allow(clippy::too_many_arguments)]
    fn masked(
        alpha: Option<usize>,
        r0: u32,
        end: u32,
        width: usize,
        height: usize,
        mut rows: Vec<Vec<f64>>,
        info: &[BandInfo],
    ) -> Self {
        // Every band holds exactly the window's samples (a short read is padded with
        // nodata): the warp's fast paths index the buffers without bounds checks' help.
        let len = width * end.saturating_sub(r0) as usize;
        rows.resize_with(info.len().max(rows.len()), Vec::new);
        for band in &mut rows {
            band.resize(len, f64::NAN);
        }
        let alpha_zero: Option<Vec<bool>> = alpha
            .and_then(|a| rows.get(a))
            .map(|r| r.iter().map(|v| *v == 0.0).collect());
        for (b, band) in rows.iter_mut().enumerate() {
            let nodata = info.get(b).and_then(|i| i.nodata);
            let mask = alpha_zero.as_ref().filter(|_| Some(b) != alpha);
            for (i, v) in band.iter_mut().enumerate() {
                if !v.is_finite()
                    || nodata == Some(*v)
                    || mask.is_some_and(|m| m.get(i) == Some(&true))
                {
                    *v = f64::NAN;
                }
            }
        }
        SourceWindow {
            r0,
            end,
            width,
            height,
            rows,
        }
    }

    /// Valid value of `band` at integer `(col, row)`, `None` outside or invalid.
    #[inline]
    fn get(&self, band: usize, col: i64, row: i64, _info: &BandInfo) -> Option<f64> {
        if col < 0
            || row < i64::from(self.r0)
            || row >= i64::from(self.end)
            || col >= self.width as i64
        {
            return None;
        }
        let i = (row - i64::from(self.r0)) as usize * self.width + col as usize;
        let v = *self.rows.get(band)?.get(i)?;
        (!v.is_nan()).then_some(v)
    }

    /// The values of `band` (empty when there is no such band).
    #[inline]
    fn band(&self, band: usize) -> &[f64] {
        self.rows.get(band).map_or(&[][..], Vec::as_slice)
    }

    /// The offset of (clamped, in-raster) `row` in the band buffers, `None` outside
    /// the window.
    #[inline]
    fn row_offset(&self, row: i64) -> Option<usize> {
        (row >= i64::from(self.r0) && row < i64::from(self.end))
            .then(|| (row - i64::from(self.r0)) as usize * self.width)
    }

    fn inside(&self, c: f64, r: f64) -> bool {
        c >= 0.0 && r >= 0.0 && c < self.width as f64 && r < self.height as f64
    }
}

#[inline]
fn cubic_weight(t: f64, spline: bool) -> f64 {
    let t = t.abs();
    if spline {
        if t < 1.0 {
            (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0
        } else if t < 2.0 {
            (2.0 - t).powi(3) / 6.0
        } else {
            0.0
        }
    } else {
        let a = -0.5;
        if t <= 1.0 {
            (a + 2.0) * t.powi(3) - (a + 3.0) * t * t + 1.0
        } else if t < 2.0 {
            a * t.powi(3) - 5.0 * a * t * t + 8.0 * a * t - 4.0 * a
        } else {
            0.0
        }
    }
}

/// `x.floor()` for finite `|x| < 2^62`, without the libm call the baseline x86-64
/// target needs (no SSE4.1 `roundsd`).
#[inline]
fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    t - i64::from((t as f64) > x)
}

/// `x.floor()` as a float, for finite `|x| < 2^52` (see [`floor_i64`]).
#[inline]
fn floor_f64(x: f64) -> f64 {
    floor_i64(x) as f64
}

/// The taps of a bilinear interpolation at `(c, r)`: for each of the 2×2 neighbours
/// (edges clamped) its offset in the window's band buffers (`None` outside the window
/// or with a zero weight) and its weight.
#[inline]
fn bilinear_taps(win: &SourceWindow, c: f64, r: f64) -> [(Option<usize>, f64); 4] {
    let (x, y) = (c - 0.5, r - 0.5);
    let (ix, iy) = (floor_i64(x), floor_i64(y));
    let (fx, fy) = (x - ix as f64, y - iy as f64);
    let mut taps = [(None, 0.0); 4];
    let mut k = 0;
    for (dy, wy) in [(0i64, 1.0 - fy), (1, fy)] {
        let row = win.row_offset((iy + dy).clamp(0, win.height as i64 - 1));
        for (dx, wx) in [(0i64, 1.0 - fx), (1, fx)] {
            let w = wx * wy;
            let col = (ix + dx).clamp(0, win.width as i64 - 1) as usize;
            taps[k] = ((w > 0.0).then_some(row).flatten().map(|o| o + col), w);
            k += 1;
        }
    }
    taps
}

/// Bilinear interpolation of `band` over the valid pixels among `taps` (weights
/// renormalised).
#[inline]
fn bilinear(band: &[f64], taps: &[(Option<usize>, f64); 4]) -> Option<f64> {
    let mut acc = 0.0;
    let mut wsum = 0.0;
    for &(o, w) in taps {
        if let Some(v) = o.and_then(|o| band.get(o)).filter(|v| !v.is_nan()) {
            acc += w * v;
            wsum += w;
        }
    }
    (wsum > 1e-9).then(|| acc / wsum)
}

/// The cubic taps of a pixel whose kernel lies wholly inside the source window: the
/// 16 weights (in the careful path's order), the offset of the top-left tap and the
/// weights' sum, added in that order.
struct FastCubic {
    w: [f64; 16],
    base: usize,
    wsum: f64,
}

/// One axis of a cubic kernel at a continuous pixel coordinate: the first of its four
/// taps and their weights.
#[derive(Debug, Clone, Copy)]
struct Kernel {
    first: i64,
    w: [f64; 4],
}

impl Kernel {
    #[inline]
    fn cubic(v: f64, spline: bool) -> Self {
        let x = v - 0.5;
        let f0 = floor_f64(x);
        let f = x - f0;
        Kernel {
            first: f0 as i64 - 1,
            w: [
                cubic_weight(-1.0 - f, spline),
                cubic_weight(0.0 - f, spline),
                cubic_weight(1.0 - f, spline),
                cubic_weight(2.0 - f, spline),
            ],
        }
    }
}

/// Cubic interpolation at `(c, r)` with edges clamped and nodata taps left out; next
/// to nodata, bilinear over the valid neighbours.
fn cubic_careful(win: &SourceWindow, band: &[f64], c: f64, r: f64, spline: bool) -> Option<f64> {
    let (kx, ky) = (Kernel::cubic(c, spline), Kernel::cubic(r, spline));
    let rows = [0i64, 1, 2, 3].map(|dy| {
        let row = (ky.first + dy).clamp(0, win.height as i64 - 1);
        win.row_offset(row)
    });
    let cols = [0i64, 1, 2, 3].map(|dx| (kx.first + dx).clamp(0, win.width as i64 - 1) as usize);
    let mut acc = 0.0;
    let mut wsum = 0.0;
    let mut complete = true;
    for (wy, row) in ky.w.iter().zip(rows) {
        for (wx, col) in kx.w.iter().zip(cols) {
            let w = wy * wx;
            match row.and_then(|o| band.get(o + col)).filter(|v| !v.is_nan()) {
                Some(v) => {
                    acc += w * v;
                    wsum += w;
                }
                None => complete = false,
            }
        }
    }
    if complete {
        (wsum.abs() > 1e-9).then(|| acc / wsum)
    } else {
        // Next to nodata the cubic kernel's negative lobes, renormalised, can explode:
        // fall back to bilinear over the valid neighbours.
        bilinear(band, &bilinear_taps(win, c, r))
    }
}

/// Resamples the source window at every coordinate into `out` (NaN = no value).
fn warp(
    win: &SourceWindow,
    coords: &TileCoords,
    rs: Resampling,
    info: &[BandInfo],
    scale: f64,
    out: &mut TileData,
) {
    let all_nearest = info
        .iter()
        .all(|bi| rs == Resampling::Nearest || (bi.categorical && rs != Resampling::Mode));
    if all_nearest {
        // The common case, without per-band dispatch: one source pixel per output pixel.
        for (p, &(c, r)) in coords.points.iter().enumerate() {
            if !c.is_finite() || !r.is_finite() || !win.inside(c, r) {
                continue;
            }
            // Inside the raster both are non-negative, so truncation is the floor.
            let (col, row) = (c as i64, r as i64);
            for (b, bi) in info.iter().enumerate() {
                if let Some(v) = win.get(b, col, row, bi) {
                    out[b][p] = v;
                }
            }
        }
        return;
    }
    if rs == Resampling::Bilinear {
        warp_bilinear(win, coords, info, out);
        return;
    }
    let spline = rs == Resampling::CubicSpline;
    let cubic = matches!(rs, Resampling::Cubic | Resampling::CubicSpline);
    let (width, r0, end) = (win.width as i64, i64::from(win.r0), i64::from(win.end));
    // With separable coordinates every row has the same columns: their cubic kernels
    // are computed once per tile; a row's kernel once per row.
    let n = coords.n;
    let col_kernels: Vec<Kernel> = if cubic && coords.separable {
        coords
            .points
            .iter()
            .take(n)
            .map(|&(c, _)| Kernel::cubic(c, spline))
            .collect()
    } else {
        Vec::new()
    };
    let mut row_kernel: Option<(f64, Kernel)> = None;
    for (p, &(c, r)) in coords.points.iter().enumerate() {
        if !c.is_finite() || !r.is_finite() || !win.inside(c, r) {
            continue;
        }
        // The fast paths: every tap inside the window, so no clamping and direct
        // offsets; a NaN sum means a tap is nodata and the careful path decides.
        let fast = if cubic {
            let kx = col_kernels
                .get(p % n.max(1))
                .copied()
                .unwrap_or_else(|| Kernel::cubic(c, spline));
            let ky = match row_kernel {
                Some((last, k)) if last == r => k,
                _ => {
                    let k = Kernel::cubic(r, spline);
                    row_kernel = Some((r, k));
                    k
                }
            };
            (kx.first >= 0 && kx.first + 3 < width && ky.first >= r0 && ky.first + 3 < end).then(
                || {
                    let mut w = [0.0; 16];
                    let mut wsum = 0.0;
                    for (dy, wy) in ky.w.iter().enumerate() {
                        for (dx, wx) in kx.w.iter().enumerate() {
                            w[dy * 4 + dx] = wy * wx;
                            wsum += wy * wx;
                        }
                    }
                    let base = (ky.first - r0) as usize * win.width + kx.first as usize;
                    FastCubic { w, base, wsum }
                },
            )
        } else {
            None
        };
        for (b, bi) in info.iter().enumerate() {
            let rs = if bi.categorical && !matches!(rs, Resampling::Nearest | Resampling::Mode) {
                Resampling::Nearest
            } else {
                rs
            };
            let band = win.band(b);
            let quick = match (rs, &fast) {
                (
                    Resampling::Cubic | Resampling::CubicSpline,
                    Some(FastCubic { w, base, wsum }),
                ) => {
                    let mut acc = 0.0;
                    for dy in 0..4 {
                        let row = &band[base + dy * win.width..][..4];
                        for dx in 0..4 {
                            acc += w[dy * 4 + dx] * row[dx];
                        }
                    }
                    if acc.is_nan() {
                        // Inside nodata (the 2×2 taps of the bilinear fallback all
                        // invalid) there is no value; otherwise the careful path.
                        let (a, b) = (base + win.width + 1, base + 2 * win.width + 1);
                        if band[a..a + 2]
                            .iter()
                            .chain(&band[b..b + 2])
                            .all(|v| v.is_nan())
                        {
                            continue;
                        }
                        None
                    } else {
                        Some((acc, *wsum))
                    }
                }
                _ => None,
            };
            let v = match (quick, rs) {
                (Some((acc, wsum)), _) => (wsum.abs() > 1e-9).then(|| acc / wsum),
                (None, Resampling::Nearest) => win.get(b, floor_i64(c), floor_i64(r), bi),
                (None, Resampling::Bilinear) => bilinear(band, &bilinear_taps(win, c, r)),
                (None, Resampling::Cubic | Resampling::CubicSpline) => {
                    cubic_careful(win, band, c, r, spline)
                }
                (None, Resampling::Average | Resampling::Mode) => {
                    area(win, b, bi, c, r, scale, rs == Resampling::Mode)
                }
            };
            if let Some(v) = v {
                out[b][p] = v;
            }
        }
    }
}

/// The bilinear taps at `(c, r)` when all four lie inside the window: their weights
/// (in the order of [`bilinear_taps`]), the offset of the top-left one and the
/// weights' sum, added in that order.
#[inline]
fn bilinear_inside(win: &SourceWindow, c: f64, r: f64) -> Option<([f64; 4], usize, f64)> {
    let (x, y) = (c - 0.5, r - 0.5);
    let (ix, iy) = (floor_i64(x), floor_i64(y));
    let (r0, end) = (i64::from(win.r0), i64::from(win.end));
    if !(ix >= 0 && ix + 1 < win.width as i64 && iy >= r0 && iy + 1 < end) {
        return None;
    }
    let (fx, fy) = (x - ix as f64, y - iy as f64);
    let w = [
        (1.0 - fx) * (1.0 - fy),
        fx * (1.0 - fy),
        (1.0 - fx) * fy,
        fx * fy,
    ];
    let base = (iy - r0) as usize * win.width + ix as usize;
    Some((w, base, 0.0 + w[0] + w[1] + w[2] + w[3]))
}

/// [`warp`] for bilinear resampling (categorical bands: nearest), in a loop of its
/// own: when the four taps lie inside the window they are read directly, and a NaN
/// sum (a nodata tap) hands the pixel to the careful path.
fn warp_bilinear(win: &SourceWindow, coords: &TileCoords, info: &[BandInfo], out: &mut TileData) {
    let (wf, hf) = (win.width as f64, win.height as f64);
    let bands: Vec<&[f64]> = (0..out.len()).map(|b| win.band(b)).collect();
    let stride = win.width;
    for (p, &(c, r)) in coords.points.iter().enumerate() {
        // NaN fails every comparison: outside.
        if !(c >= 0.0 && r >= 0.0 && c < wf && r < hf) {
            continue;
        }
        let inside = bilinear_inside(win, c, r);
        for (b, (band, o)) in bands.iter().zip(out.iter_mut()).enumerate() {
            let v = match (info.get(b).filter(|bi| bi.categorical), inside) {
                (Some(bi), _) => win.get(b, floor_i64(c), floor_i64(r), bi),
                (None, Some((w, base, wsum))) => {
                    // In bounds: the window's bands hold all its samples.
                    let (top, bottom) = (&band[base..base + 2], &band[base + stride..][..2]);
                    let acc =
                        0.0 + w[0] * top[0] + w[1] * top[1] + w[2] * bottom[0] + w[3] * bottom[1];
                    if acc.is_nan() {
                        bilinear(band, &bilinear_taps(win, c, r))
                    } else {
                        (wsum > 1e-9).then(|| acc / wsum)
                    }
                }
                (None, None) => bilinear(band, &bilinear_taps(win, c, r)),
            };
            if let (Some(v), Some(o)) = (v, o.get_mut(p)) {
                *o = v;
            }
        }
    }
}

/// Area-weighted mean (or mode) of the source pixels under a destination pixel of
/// `scale` source pixels centred at `(c, r)`.
fn area(
    win: &SourceWindow,
    b: usize,
    bi: &BandInfo,
    c: f64,
    r: f64,
    scale: f64,
    mode: bool,
) -> Option<f64> {
    let half = scale.max(1e-9) / 2.0;
    let (c0, c1, r0, r1) = (c - half, c + half, r - half, r + half);
    let mut acc = 0.0;
    let mut wsum = 0.0;
    let mut votes: Vec<(f64, f64)> = Vec::new();
    let mut row = floor_f64(r0);
    while row < r1 {
        let wy = (r1.min(row + 1.0) - r0.max(row)).max(0.0);
        let mut col = floor_f64(c0);
        while col < c1 {
            let wx = (c1.min(col + 1.0) - c0.max(col)).max(0.0);
            let w = wx * wy;
            if w > 0.0
                && let Some(v) = win.get(b, col as i64, row as i64, bi)
            {
                if mode {
                    match votes.iter_mut().find(|(val, _)| *val == v) {
                        Some(slot) => slot.1 += w,
                        None => votes.push((v, w)),
                    }
                } else {
                    acc += w * v;
                }
                wsum += w;
            }
            col += 1.0;
        }
        row += 1.0;
    }
    if wsum <= 1e-12 {
        return None;
    }
    if mode {
        votes
            .iter()
            .fold(None, |best: Option<(f64, f64)>, &(v, w)| match best {
                Some((bv, bw)) if bw > w || (bw == w && bv <= v) => Some((bv, bw)),
                _ => Some((v, w)),
            })
            .map(|(v, _)| v)
    } else {
        Some(acc / wsum)
    }
}

impl Ctx<'_> {
    fn bs(&self) -> usize {
        self.opts.block_size as usize
    }

    /// A prepared tile: statistics (native zoom), output, and its share of the parent.
    fn take(&mut self, z: u8, y: u32, p: Prepared) -> Result<()> {
        for (acc, st) in self.native_stats.iter_mut().zip(&p.band_stats) {
            acc.merge(st);
        }
        match p.blobs {
            None => self.skipped += 1,
            Some(blobs) => {
                // Columns east of the antimeridian wrap round to the west.
                let x = p.x % (1u32 << z.min(31));
                let block = cell::cell_from_tile(z, x, y).ok_or(Error::NoCell { z, x, y })?;
                let offset = self.spill.offset;
                let mut lens = Vec::with_capacity(blobs.len());
                for b in &blobs {
                    self.spill
                        .file
                        .write_all(b)
                        .map_err(|e| Error::io(&*self.spill.path, e))?;
                    self.spill.offset += b.len() as u64;
                    lens.push(u32::try_from(b.len()).map_err(|_| Error::TooLarge {
                        what: "a tile blob exceeds 4 GiB",
                    })?);
                }
                self.spill.entries.push(Entry {
                    block,
                    z,
                    offset,
                    lens,
                    stats: p.tile_stats,
                });
                *self.tiles_per_zoom.entry(z).or_insert(0) += 1;
            }
        }
        if let Some(quadrant) = &p.quadrant {
            self.reduce_into_parent(z, p.x, y, quadrant)?;
        }
        Ok(())
    }

    /// Places a child tile's reduction (see [`reduce_quadrant`]) in its quadrant of
    /// the parent.
    fn reduce_into_parent(&mut self, z: u8, x: u32, y: u32, quadrant: &TileData) -> Result<()> {
        let pz = z - 1;
        let bs = self.bs();
        let half = bs / 2;
        let (px, py) = (x / 2, y / 2);
        let (qx, qy) = ((x % 2) as usize * half, (y % 2) as usize * half);
        let nb = self.bands.len();
        let level = self.pending.entry(pz).or_insert((None, HashMap::new()));
        if level.0.is_some_and(|r| r != py) {
            // A new parent row started: the previous one is complete.
            self.flush_level(pz)?;
        }
        let level = self.pending.entry(pz).or_insert((None, HashMap::new()));
        level.0 = Some(py);
        let parent = level
            .1
            .entry(px)
            .or_insert_with(|| vec![vec![f64::NAN; bs * bs]; nb]);
        for (src, dst) in quadrant.iter().zip(parent.iter_mut()) {
            for (j, row) in src.chunks_exact(half).enumerate() {
                let at = (qy + j) * bs + qx;
                if let Some(d) = dst.get_mut(at..at + half) {
                    d.copy_from_slice(row);
                }
            }
        }
        Ok(())
    }

    /// Takes the prepared tiles of row `y` of zoom `z`, in order, then closes the row.
    fn take_row(&mut self, z: u8, y: u32, row: Vec<Prepared>) -> Result<()> {
        for p in row {
            self.take(z, y, p)?;
        }
        self.row_done(z, y)
    }

    /// Called when tile row `y` of zoom `z` is complete.
    fn row_done(&mut self, z: u8, y: u32) -> Result<()> {
        if z <= self.min_zoom {
            return Ok(());
        }
        let last = self.last_row.get(&z).copied().unwrap_or(y);
        if y % 2 == 1 || y == last {
            self.flush_level(z - 1)?;
        }
        Ok(())
    }

    /// Emits the open row of zoom `z` and passes it on to `z - 1`.
    fn flush_level(&mut self, z: u8) -> Result<()> {
        let Some((Some(row), tiles)) = self.pending.remove(&z) else {
            return Ok(());
        };
        let mut tiles: Vec<(u32, TileData)> = tiles.into_iter().collect();
        tiles.sort_by_key(|(x, _)| *x);
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(16);
        let (opts, bands, info, mask) = (self.opts, &self.bands, &self.info, &self.mask);
        let reduce = z > self.min_zoom;
        let prepared = par_map("raquet: overview tile", tiles, threads, |(x, data)| {
            prepare(opts, bands, info, mask, x, data, reduce, false)
        })?;
        for p in prepared {
            self.take(z, row, p)?;
        }
        self.row_done(z, row)
    }
}

/// A tile made ready on a worker thread.
struct Prepared {
    x: u32,
    /// The tile reduced to a quarter for its parent (see [`reduce_quadrant`]), when
    /// there is a parent and the tile counts (not empty, or empty tiles kept).
    quadrant: Option<TileData>,
    /// Encoded blobs, `None` when the tile is left out (empty).
    blobs: Option<Vec<Vec<u8>>>,
    tile_stats: Vec<[Option<f64>; 6]>,
    /// Per-band statistics (native tiles only).
    band_stats: Vec<RunningStats>,
}

/// Quantises a tile to its types, marks its fill (see [`Mask`]), computes its
/// statistics (source pixels only), encodes its blobs and (with `reduce`) its share
/// of the parent.
///
/// Every pixel without a value is NaN from here on: a value that quantises to the
/// band's nodata is one, and with an alpha band a pixel whose alpha is 0, or where a
/// band without a nodata value has no value, is fill in every band. The file then
/// says exactly what the statistics counted.
#[allow(clippy::too_many_arguments)]
fn prepare(
    opts: &ConvertOptions,
    bands: &[Band],
    info: &[BandInfo],
    mask: &Mask,
    x: u32,
    mut data: TileData,
    reduce: bool,
    native: bool,
) -> Prepared {
    for (b, values) in data.iter_mut().enumerate() {
        let bt = bands[b].band_type;
        let nodata = bands[b].nodata.filter(|v| !v.is_nan());
        // One loop per band type, the type's match outside it.
        fn fix(values: &mut [f64], nodata: Option<f64>, q: impl Fn(f64) -> f64) {
            for v in values.iter_mut() {
                if v.is_finite() {
                    // Keep what the file will hold (rounded and saturated to the type);
                    // what reads back as nodata is no value.
                    let k = q(*v);
                    *v = if Some(k) == nodata { f64::NAN } else { k };
                } else {
                    *v = f64::NAN;
                }
            }
        }
        match bt {
            crate::BandType::Float64 => fix(values, nodata, |v| v),
            crate::BandType::Float32 => {
                fix(values, nodata, |v| quantise(v, crate::BandType::Float32))
            }
            crate::BandType::Float16 => {
                fix(values, nodata, |v| quantise(v, crate::BandType::Float16))
            }
            _ => {
                let (lo, hi) = bt.range();
                fix(values, nodata, |v| round(v).clamp(lo, hi));
            }
        }
    }
    if let Some(a) = mask.alpha.filter(|a| *a < data.len()) {
        let n = data.first().map_or(0, Vec::len);
        let needs_value: Vec<usize> = (0..data.len())
            .filter(|b| *b != a && bands[*b].nodata.is_none())
            .collect();
        for p in 0..n {
            let missing = needs_value.iter().any(|b| data[*b][p].is_nan());
            let alpha = if mask.added && native {
                if missing { f64::NAN } else { mask.opaque }
            } else {
                data[a][p]
            };
            if missing || !(alpha != 0.0 && alpha.is_finite()) {
                for band in data.iter_mut() {
                    band[p] = f64::NAN;
                }
            } else {
                data[a][p] = alpha;
            }
        }
    }
    let mut band_stats: Vec<RunningStats> = if native || opts.tile_stats {
        data.iter().map(|v| RunningStats::from_slice(v)).collect()
    } else {
        Vec::new()
    };
    let empty = is_empty(&data);
    let tile_stats = if opts.tile_stats {
        band_stats
            .iter()
            .map(|st| {
                if st.count == 0 {
                    [None; 6]
                } else {
                    let c = st.count as f64;
                    [
                        Some(c),
                        Some(st.min),
                        Some(st.max),
                        Some(st.sum),
                        Some(st.mean),
                        Some(st.stddev()),
                    ]
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    if !native {
        // Overview tiles do not count in the band statistics.
        band_stats.clear();
    }
    let blobs = (!empty || opts.keep_empty).then(|| encode(opts, bands, &data));
    let quadrant = (reduce && (opts.keep_empty || !empty))
        .then(|| reduce_quadrant(&data, opts.block_size as usize, info));
    Prepared {
        x,
        quadrant,
        blobs,
        tile_stats,
        band_stats,
    }
}

/// The blobs of one tile: one per band (sequential) or one `pixels` blob.
fn encode(opts: &ConvertOptions, bands: &[Band], data: &TileData) -> Vec<Vec<u8>> {
    let compress = |raw: Vec<u8>| match opts.compression {
        Compression::Gzip => blob::gzip(&raw, opts.gzip_level),
        _ => raw,
    };
    let n = data.first().map_or(0, Vec::len);
    match opts.layout {
        BandLayout::Sequential => data
            .iter()
            .zip(bands)
            .map(|(v, band)| {
                let fill = band.nodata.unwrap_or(0.0);
                compress(band_bytes(band.band_type, v, fill))
            })
            .collect(),
        BandLayout::Interleaved => {
            // Each band's bytes once, then whole samples interleaved pixel by pixel.
            let planes: Vec<(Vec<u8>, usize)> = data
                .iter()
                .zip(bands)
                .map(|(v, band)| {
                    let fill = band.nodata.unwrap_or(0.0);
                    (band_bytes(band.band_type, v, fill), band.band_type.size())
                })
                .collect();
            let stride: usize = planes.iter().map(|(_, size)| size).sum();
            let mut raw = Vec::with_capacity(n * stride);
            for i in 0..n {
                for (bytes, size) in &planes {
                    raw.extend_from_slice(bytes.get(i * size..(i + 1) * size).unwrap_or_default());
                }
            }
            vec![compress(raw)]
        }
    }
}

/// The little-endian bytes of one band's (quantised) values, NaN written as `fill`.
fn band_bytes(t: crate::BandType, values: &[f64], fill: f64) -> Vec<u8> {
    use crate::BandType as T;
    let mut raw = vec![0u8; values.len() * t.size()];
    macro_rules! put {
        ($size:literal, $conv:expr) => {
            for (o, x) in raw.chunks_exact_mut($size).zip(values) {
                let x = if x.is_nan() { fill } else { *x };
                o.copy_from_slice(&$conv(x).to_le_bytes());
            }
        };
    }
    match t {
        T::Uint8 => put!(1, |v: f64| v as u8),
        T::Int8 => put!(1, |v: f64| v as i8),
        T::Uint16 => put!(2, |v: f64| v as u16),
        T::Int16 => put!(2, |v: f64| v as i16),
        T::Uint32 => put!(4, |v: f64| v as u32),
        T::Int32 => put!(4, |v: f64| v as i32),
        T::Uint64 => put!(8, |v: f64| v as u64),
        T::Int64 => put!(8, |v: f64| v as i64),
        T::Float16 => put!(2, half::f16::from_f64),
        T::Float32 => put!(4, |v: f64| v as f32),
        T::Float64 => put!(8, |v: f64| v),
    }
    raw
}

/// `f` over `items` on up to `threads` worker threads (named `task`), results in
/// input order. The threads take the next item as they finish one, so uneven items
/// (empty edge tiles beside full ones) keep every thread busy; a panic of `f` is
/// [`Error::WorkerPanicked`].
fn par_map<T: Send, R: Send>(
    task: &'static str,
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Result<Vec<R>> {
    let mut results = Vec::with_capacity(items.len());
    let (threads, in_flight) = (threads.min(items.len()), items.len().max(1));
    workers::map_ordered(task, threads, in_flight, items.into_iter(), f, |r| {
        results.push(r);
        Ok::<(), Error>(())
    })?;
    Ok(results)
}

/// Rounds and saturates a value to what the band type stores.
fn quantise(v: f64, t: crate::BandType) -> f64 {
    match t {
        crate::BandType::Float64 => v,
        crate::BandType::Float32 => f64::from(v as f32),
        crate::BandType::Float16 => half::f16::from_f64(v).to_f64(),
        _ => {
            let (lo, hi) = t.range();
            round(v).clamp(lo, hi)
        }
    }
}

/// `v.round()` (half away from zero) without the libm call below 2^53, where the
/// truncation and the fraction are exact.
#[inline]
fn round(v: f64) -> f64 {
    if v.abs() < 9.0e15 {
        let t = v as i64;
        let frac = v - t as f64;
        (t + i64::from(frac >= 0.5) - i64::from(frac <= -0.5)) as f64
    } else {
        v.round()
    }
}

fn is_empty(data: &TileData) -> bool {
    data.iter().all(|v| v.iter().all(|x| x.is_nan()))
}

/// A tile of `bs`² values per band reduced to (`bs`/2)² per band, row-major: each
/// 2×2 block's mean, or mode for categorical bands, nodata (NaN) excluded.
fn reduce_quadrant(data: &TileData, bs: usize, info: &[BandInfo]) -> TileData {
    let half = bs / 2;
    data.iter()
        .zip(info)
        .map(|(src, bi)| {
            let mut out = Vec::with_capacity(half * half);
            for j in 0..half {
                let (top, bottom) = (&src[(2 * j) * bs..][..bs], &src[(2 * j + 1) * bs..][..bs]);
                for i in 0..half {
                    let s = [top[2 * i], top[2 * i + 1], bottom[2 * i], bottom[2 * i + 1]];
                    out.push(if bi.categorical { mode4(s) } else { mean4(s) });
                }
            }
            out
        })
        .collect()
}

fn mean4(s: [f64; 4]) -> f64 {
    let mut acc = 0.0;
    let mut n = 0.0;
    for v in s {
        if v.is_finite() {
            acc += v;
            n += 1.0;
        }
    }
    if n == 0.0 { f64::NAN } else { acc / n }
}

fn mode4(s: [f64; 4]) -> f64 {
    let mut best = f64::NAN;
    let mut best_n = 0;
    for (i, v) in s.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let n =
            s[i..].iter().filter(|w| *w == v).count() + s[..i].iter().filter(|w| *w == v).count();
        if n > best_n || (n == best_n && *v < best) {
            best = *v;
            best_n = n;
        }
    }
    best
}

/// Reads back the native tiles from the spill to bin every valid value.
fn histograms(ctx: &mut Ctx<'_>, bands: &mut [Band]) -> Result<()> {
    let bs = ctx.bs();
    let n = bs * bs;
    let mut counts = vec![vec![0u64; HISTOGRAM_BUCKETS]; bands.len()];
    let mut f = ctx
        .spill
        .file
        .get_ref()
        .try_clone()
        .map_err(|e| Error::io(&*ctx.spill.path, e))?;
    for e in ctx.spill.entries.iter().filter(|e| e.z == ctx.native_zoom) {
        let values = read_entry_values(&mut f, e, ctx, bands, n)?;
        // Fill (alpha 0) is not a value of any band.
        let alpha = ctx.mask.alpha.and_then(|a| values.get(a));
        for (b, vals) in values.iter().enumerate() {
            let (Some(lo), Some(hi)) = (bands[b].statistics.minimum, bands[b].statistics.maximum)
            else {
                continue;
            };
            let width = (hi - lo).max(f64::MIN_POSITIVE);
            for (p, v) in vals.iter().copied().enumerate() {
                if !v.is_finite()
                    || bands[b].is_nodata(v)
                    || alpha.is_some_and(|a| a.get(p) == Some(&0.0))
                {
                    continue;
                }
                let k = (((v - lo) / width * HISTOGRAM_BUCKETS as f64) as usize)
                    .min(HISTOGRAM_BUCKETS - 1);
                counts[b][k] += 1;
            }
        }
    }
    for (b, c) in bands.iter_mut().zip(counts) {
        if let (Some(min), Some(max)) = (b.statistics.minimum, b.statistics.maximum) {
            b.histogram = Some(Histogram {
                min,
                max,
                buckets: HISTOGRAM_BUCKETS,
                counts: c,
            });
        }
    }
    Ok(())
}

fn read_blob(f: &mut File, path: &Path, offset: u64, len: u32) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len as usize];
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io(path, e))?;
    f.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

fn read_entry_values(
    f: &mut File,
    e: &Entry,
    ctx: &Ctx<'_>,
    bands: &[Band],
    n: usize,
) -> Result<Vec<Vec<f64>>> {
    let path: PathBuf = ctx.spill.path.to_path_buf();
    let mut offset = e.offset;
    let mut out = Vec::new();
    let decode = |raw: Vec<u8>, expected: usize| -> Result<Vec<u8>> {
        blob::decode(&raw, expected).map_err(|message| Error::SpilledTile {
            block: e.block,
            message,
        })
    };
    match ctx.opts.layout {
        BandLayout::Sequential => {
            for (band, len) in bands.iter().zip(&e.lens) {
                let raw = decode(
                    read_blob(f, &path, offset, *len)?,
                    n * band.band_type.size(),
                )?;
                offset += u64::from(*len);
                out.push(Pixels::from_le_bytes(band.band_type, &raw).to_f64_vec());
            }
        }
        BandLayout::Interleaved => {
            let stride: usize = bands.iter().map(|b| b.band_type.size()).sum();
            let len = e.lens.first().copied().unwrap_or(0);
            let raw = decode(read_blob(f, &path, offset, len)?, n * stride)?;
            let mut off = 0;
            for band in bands {
                let s = band.band_type.size();
                let mut bytes = Vec::with_capacity(n * s);
                for p in 0..n {
                    bytes.extend_from_slice(&raw[p * stride + off..p * stride + off + s]);
                }
                off += s;
                out.push(Pixels::from_le_bytes(band.band_type, &bytes).to_f64_vec());
            }
        }
    }
    Ok(out)
}

/// Writes the spilled tiles in `block` order, then the metadata row in its own row
/// group, into a temporary file renamed over `output`.
fn write_parquet(ctx: &mut Ctx<'_>, metadata: &Metadata, output: &Path) -> Result<()> {
    // Beside the output, with a new file's permissions, renamed into place when complete;
    // a write error (a full disk) names the output.
    let out = geoparquet_io::output::Output::create(output)?;
    let result = write_parquet_to(ctx, metadata, out.writer()?);
    out.finish(result)
}

/// [`write_parquet`]'s body, into the output's temporary file.
fn write_parquet_to(
    ctx: &mut Ctx<'_>,
    metadata: &Metadata,
    sink: geoparquet_io::output::OutputWriter,
) -> Result<()> {
    let opts = ctx.opts;
    let data_cols: Vec<String> = match opts.layout {
        BandLayout::Sequential => metadata.bands.iter().map(|b| b.name.clone()).collect(),
        BandLayout::Interleaved => vec!["pixels".into()],
    };
    let schema = output_schema(opts, metadata, &data_cols);
    let props = writer_properties(opts, &data_cols);
    let mut writer = ArrowWriter::try_new(sink, schema.clone(), Some(props))?;

    ctx.spill.entries.sort_by_key(|e| e.block);
    let spill_path = ctx.spill.path.to_path_buf();
    let mut f = ctx
        .spill
        .file
        .get_ref()
        .try_clone()
        .map_err(|e| Error::io(&spill_path, e))?;
    let nb = metadata.bands.len();
    for chunk in ctx.spill.entries.chunks(opts.row_group_size.max(1)) {
        let mut cols: Vec<ArrayRef> = Vec::new();
        cols.push(Arc::new(UInt64Array::from_iter_values(
            chunk.iter().map(|e| e.block),
        )));
        cols.push(Arc::new(StringArray::from(vec![None::<&str>; chunk.len()])));
        // Each column's blobs read straight into one buffer of the exact size.
        for k in 0..data_cols.len() {
            cols.push(blob_column(chunk, k, &mut f, &spill_path, opts)?);
        }
        if opts.tile_stats {
            tile_stats_columns(chunk, nb, &mut cols);
        }
        writer.write(&RecordBatch::try_new(schema.clone(), cols)?)?;
        writer.flush()?;
    }
    // The metadata row, last, in its own row group.
    let cols = metadata_row(opts, metadata, data_cols.len());
    writer.write(&RecordBatch::try_new(schema, cols)?)?;
    let _ = writer.close()?;
    Ok(())
}

/// `block`, `metadata`, a binary column per data column, the per-tile statistics;
/// `raquet:version` in the schema metadata.
fn output_schema(opts: &ConvertOptions, metadata: &Metadata, data_cols: &[String]) -> Arc<Schema> {
    let mut fields = vec![
        Field::new("block", DataType::UInt64, false),
        Field::new("metadata", DataType::Utf8, true),
    ];
    for c in data_cols {
        fields.push(Field::new(c, DataType::Binary, true));
    }
    if opts.tile_stats {
        for b in &metadata.bands {
            for s in TILE_STATISTICS_COLUMNS {
                let t = if s == "count" {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                fields.push(Field::new(format!("{}_{s}", b.name), t, true));
            }
        }
    }
    Arc::new(Schema::new_with_metadata(
        fields,
        std::iter::once((RAQUET_VERSION_KEY.to_string(), RAQUET_VERSION.to_string())).collect(),
    ))
}

/// Snappy pages, blob columns without dictionary or statistics (ZSTD when the blobs
/// are not gzip), sorted by `block`, `raquet:version` in the footer.
fn writer_properties(opts: &ConvertOptions, data_cols: &[String]) -> WriterProperties {
    let blob_codec = match opts.compression {
        Compression::None => ParquetCompression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()),
        _ => ParquetCompression::UNCOMPRESSED,
    };
    let mut props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(opts.row_group_size.max(1)))
        .set_compression(ParquetCompression::SNAPPY)
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: 0,
            descending: false,
            nulls_first: false,
        }]))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            RAQUET_VERSION_KEY.to_string(),
            RAQUET_VERSION.to_string(),
        )]))
        .set_created_by(concat!("geoquet-raquet ", env!("CARGO_PKG_VERSION")).to_string());
    for c in data_cols {
        let p = ColumnPath::from(c.as_str());
        props = props
            .set_column_compression(p.clone(), blob_codec)
            .set_column_dictionary_enabled(p.clone(), false)
            .set_column_statistics_enabled(p, EnabledStatistics::None);
    }
    props.build()
}

/// Data column `k` of the spilled tiles of `chunk`, read straight into one buffer of
/// the exact size.
fn blob_column(
    chunk: &[Entry],
    k: usize,
    f: &mut File,
    spill_path: &Path,
    opts: &ConvertOptions,
) -> Result<ArrayRef> {
    let mut offsets = Vec::with_capacity(chunk.len() + 1);
    offsets.push(0i32);
    let mut total = 0usize;
    for e in chunk {
        total += e.lens.get(k).map_or(0, |l| *l as usize);
        offsets.push(i32::try_from(total).map_err(|_| Error::RowGroupTooLarge {
            row_group_size: opts.row_group_size,
        })?);
    }
    let mut values = vec![0u8; total];
    let mut at = 0usize;
    for e in chunk {
        let len = e.lens.get(k).map_or(0, |l| *l as usize);
        let off = e.offset + e.lens.iter().take(k).map(|l| u64::from(*l)).sum::<u64>();
        f.seek(SeekFrom::Start(off))
            .and_then(|_| f.read_exact(&mut values[at..at + len]))
            .map_err(|e| Error::io(spill_path, e))?;
        at += len;
    }
    Ok(Arc::new(BinaryArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        None,
    )?))
}

/// The per-tile statistics columns of `nb` bands for the tiles of `chunk`.
fn tile_stats_columns(chunk: &[Entry], nb: usize, cols: &mut Vec<ArrayRef>) {
    for b in 0..nb {
        for s in 0..6 {
            let vals = chunk.iter().map(|e| e.stats.get(b).and_then(|st| st[s]));
            if s == 0 {
                let a: Int64Array = vals.map(|v| v.map(|c| c as i64)).collect();
                cols.push(Arc::new(a));
            } else {
                cols.push(Arc::new(vals.collect::<Float64Array>()));
            }
        }
    }
}

/// The metadata row's columns: `block = 0`, the document, nulls elsewhere.
fn metadata_row(opts: &ConvertOptions, metadata: &Metadata, data_cols: usize) -> Vec<ArrayRef> {
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(vec![0u64])),
        Arc::new(StringArray::from(vec![Some(
            metadata.to_json().to_string(),
        )])),
    ];
    for _ in 0..data_cols {
        cols.push(Arc::new(BinaryArray::from(vec![None::<&[u8]>])));
    }
    if opts.tile_stats {
        for _ in 0..metadata.bands.len() {
            cols.push(Arc::new(Int64Array::from(vec![None::<i64>])));
            for _ in 0..5 {
                cols.push(Arc::new(Float64Array::from(vec![None::<f64>])));
            }
        }
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::Rng;

    /// The careful path alone: what `warp` must give, bit for bit, whatever its fast
    /// paths do.
    fn careful(win: &SourceWindow, coords: &TileCoords, rs: Resampling, bands: usize) -> TileData {
        let mut out = vec![vec![f64::NAN; coords.points.len()]; bands];
        for (p, &(c, r)) in coords.points.iter().enumerate() {
            if !c.is_finite() || !r.is_finite() || !win.inside(c, r) {
                continue;
            }
            for (b, o) in out.iter_mut().enumerate() {
                let band = win.band(b);
                let v = match rs {
                    Resampling::Bilinear => bilinear(band, &bilinear_taps(win, c, r)),
                    _ => cubic_careful(win, band, c, r, rs == Resampling::CubicSpline),
                };
                if let Some(v) = v {
                    o[p] = v;
                }
            }
        }
        out
    }

    #[test]
    fn fast_paths_equal_the_careful_path() {
        let mut rng = Rng::new(7);
        let (width, height, r0, end) = (40usize, 40usize, 5u32, 35u32);
        let n = 24usize;
        for round in 0..20 {
            let bands = 1 + round % 3;
            let rows: Vec<Vec<f64>> = (0..bands)
                .map(|_| {
                    (0..width * (end - r0) as usize)
                        .map(|_| {
                            // Patches of nodata beside valid values.
                            if rng.unit() < 0.15 {
                                f64::NAN
                            } else {
                                rng.unit() * 200.0 - 100.0
                            }
                        })
                        .collect()
                })
                .collect();
            let info = vec![
                BandInfo {
                    nodata: None,
                    categorical: false,
                };
                bands
            ];
            let win = SourceWindow::masked(None, r0, end, width, height, rows, &info);
            // Off the window's rows, off the raster, NaN, and on pixel centres (zero
            // weights) among the coordinates.
            let pick = |rng: &mut Rng| match (rng.unit() * 10.0) as u32 {
                0 => f64::NAN,
                1 => (rng.unit() * 40.0).floor() + 0.5,
                _ => rng.unit() * 44.0 - 2.0,
            };
            let separable = round % 2 == 0;
            let points: Vec<(f64, f64)> = if separable {
                let cols: Vec<f64> = (0..n).map(|_| pick(&mut rng)).collect();
                let rows: Vec<f64> = (0..n).map(|_| pick(&mut rng)).collect();
                rows.iter()
                    .flat_map(|r| cols.iter().map(move |c| (*c, *r)))
                    .collect()
            } else {
                (0..n * n)
                    .map(|_| (pick(&mut rng), pick(&mut rng)))
                    .collect()
            };
            let coords = TileCoords {
                points,
                n,
                separable,
            };
            for rs in [
                Resampling::Bilinear,
                Resampling::Cubic,
                Resampling::CubicSpline,
            ] {
                let mut out = vec![vec![f64::NAN; n * n]; bands];
                warp(&win, &coords, rs, &info, 1.0, &mut out);
                let want = careful(&win, &coords, rs, bands);
                for (b, (got, want)) in out.iter().zip(&want).enumerate() {
                    for (p, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                            "{rs:?} round {round} band {b} pixel {p} at {:?}: {g} vs {w}",
                            coords.points[p]
                        );
                    }
                }
            }
        }
    }
}
