//! Out of RaQuet: a tile rendered to PNG, the native zoom written back to GeoTIFF.

use std::io::BufWriter;
use std::path::Path;

use geoparquet_io::output::OutputWriter;
use tiff::encoder::TiffEncoder;
use tiff::tags::Tag;

use crate::cell::{self, CE};
use crate::{BandType, Error, Pixels, Reader, Result, Tile};

/// Writes `path` atomically through `geoparquet_io::output::Output`: a device, FIFO or
/// directory there is refused; the file is written beside it with a new file's
/// permissions and renamed into place when complete; a write error names `path`.
fn atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<OutputWriter>) -> Result<()>,
) -> Result<()> {
    let out = geoparquet_io::output::Output::create(path)?;
    let mut w = BufWriter::new(out.writer()?);
    let result =
        write(&mut w).and_then(|()| std::io::Write::flush(&mut w).map_err(|e| Error::io(path, e)));
    drop(w);
    out.finish(result)
}

/// Renders a tile as RGBA pixels: a palette band through its colour table, red/green/blue
/// (and alpha) bands as they are, anything else as grey stretched between the band's
/// `STATISTICS_MINIMUM` and `STATISTICS_MAXIMUM` (else the tile's own range); nodata is
/// transparent.
///
/// ```no_run
/// let r = raquet::Reader::open("raster.parquet")?;
/// let tile = r.tile(8, 130, 86)?.expect("tile present");
/// let rgba = raquet::render_rgba(&r, &tile);
/// assert_eq!(rgba.len(), 4 * 256 * 256);
/// # Ok::<(), raquet::Error>(())
/// ```
pub fn render_rgba(reader: &Reader, tile: &Tile) -> Vec<u8> {
    let m = reader.metadata();
    let n = tile.width as usize * tile.height as usize;
    let mut out = vec![0u8; n * 4];
    let w = tile.width;
    let value =
        |b: usize, i: usize| tile.value(b, (i / w as usize) as u32, (i % w as usize) as u32);
    let interp = |b: usize| {
        m.bands
            .get(b)
            .and_then(|x| x.colorinterp.clone())
            .unwrap_or_default()
    };
    if let Some(ct) = m.bands.first().and_then(|b| b.colortable.as_ref()) {
        for i in 0..n {
            if let Some(v) = value(0, i) {
                let c = ct.get(&(v as i64)).copied().unwrap_or([0, 0, 0, 0]);
                out[i * 4..i * 4 + 4].copy_from_slice(&c);
            }
        }
        return out;
    }
    let rgb =
        m.bands.len() >= 3 && interp(0) == "red" && interp(1) == "green" && interp(2) == "blue";
    if rgb && m.bands.iter().all(|b| b.band_type == BandType::Uint8) {
        let alpha = m
            .bands
            .iter()
            .position(|b| b.colorinterp.as_deref() == Some("alpha"));
        for i in 0..n {
            let px = [value(0, i), value(1, i), value(2, i)];
            if px.iter().any(Option::is_none) {
                continue;
            }
            for (k, v) in px.iter().enumerate() {
                let b = v.unwrap_or(0.0) as u8;
                out[i * 4 + k] = b;
            }
            let a = alpha.and_then(|a| value(a, i)).map_or(255, |a| a as u8);
            out[i * 4 + 3] = a;
        }
        return out;
    }
    let st = m.bands.first().map(|b| b.statistics).unwrap_or_default();
    let (mut lo, mut hi) = (
        st.minimum.unwrap_or(f64::NAN),
        st.maximum.unwrap_or(f64::NAN),
    );
    if !(lo.is_finite() && hi.is_finite() && hi > lo) {
        lo = f64::INFINITY;
        hi = f64::NEG_INFINITY;
        for i in 0..n {
            if let Some(v) = value(0, i).filter(|v| v.is_finite()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    for i in 0..n {
        if let Some(v) = value(0, i).filter(|v| v.is_finite()) {
            let g = (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8;
            out[i * 4..i * 4 + 4].copy_from_slice(&[g, g, g, 255]);
        }
    }
    out
}

/// Renders a tile (see [`render_rgba`]) into an RGBA PNG file, written atomically.
pub fn write_png(reader: &Reader, tile: &Tile, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let rgba = render_rgba(reader, tile);
    atomic(path, |w| {
        let mut enc = png::Encoder::new(w, tile.width, tile.height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&rgba)?;
        writer.finish()?;
        Ok(())
    })
}

/// A sample type the GeoTIFF writer stores.
trait Sample: Copy {
    const BITS: u16;
    const FORMAT: u16;
    fn from_f64(v: f64) -> Self;
    /// Appends the sample in native byte order (the order `TiffEncoder` declares).
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! sample {
    ($t:ty, $bits:expr, $fmt:expr) => {
        impl Sample for $t {
            const BITS: u16 = $bits;
            const FORMAT: u16 = $fmt;
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
        }
    };
}
sample!(u8, 8, 1);
sample!(i8, 8, 2);
sample!(u16, 16, 1);
sample!(i16, 16, 2);
sample!(u32, 32, 1);
sample!(i32, 32, 2);
sample!(u64, 64, 1);
sample!(i64, 64, 2);
sample!(f32, 32, 3);
sample!(f64, 64, 3);

/// What [`raquet_to_geotiff`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoTiffSummary {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bands.
    pub bands: usize,
    /// Native tiles copied.
    pub tiles: usize,
}

/// Writes the native zoom of a RaQuet file as a deflate-compressed, stripped GeoTIFF in
/// EPSG:3857 covering the tiles present (absent tiles are nodata, or 0), one row of tiles
/// at a time (each strip one zlib stream). float16 bands are written as float32. A
/// raster across the antimeridian is written in one piece, its eastern part at Mercator
/// x beyond 20 037 508 m.
///
/// ```no_run
/// let s = raquet::raquet_to_geotiff("raster.parquet", "raster.tif")?;
/// println!("{}x{} pixels", s.width, s.height);
/// # Ok::<(), raquet::Error>(())
/// ```
pub fn raquet_to_geotiff(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
) -> Result<GeoTiffSummary> {
    let reader = Reader::open(input)?;
    let m = reader.metadata();
    let types: Vec<BandType> = m.bands.iter().map(|b| b.band_type).collect();
    let t0 = types
        .first()
        .copied()
        .ok_or(crate::MetadataProblem::BandsEmpty)?;
    if types.iter().any(|t| *t != t0) {
        return Err(Error::MixedBandTypes);
    }
    macro_rules! go {
        ($t:ty) => {
            write_tiff::<$t>(&reader, output.as_ref())
        };
    }
    match t0 {
        BandType::Uint8 => go!(u8),
        BandType::Int8 => go!(i8),
        BandType::Uint16 => go!(u16),
        BandType::Int16 => go!(i16),
        BandType::Uint32 => go!(u32),
        BandType::Int32 => go!(i32),
        BandType::Uint64 => go!(u64),
        BandType::Int64 => go!(i64),
        BandType::Float16 | BandType::Float32 => go!(f32),
        BandType::Float64 => go!(f64),
    }
}

/// The native tiles laid out as one raster (columns across the antimeridian continue
/// past the last one).
struct NativeGrid {
    /// `(column, row)`, row-major.
    tiles: Vec<(u32, u32)>,
    x0: u32,
    y0: u32,
    y1: u32,
    /// Columns of the world at the native zoom.
    world: u32,
    width: u32,
    height: u32,
}

impl NativeGrid {
    fn of(reader: &Reader) -> Result<Self> {
        let m = reader.metadata();
        let z = m.tiling.max_zoom;
        let bs = m.tiling.block_width;
        let mut tiles: Vec<(u32, u32)> = reader
            .blocks()
            .iter()
            .filter_map(|b| cell::tile_from_cell(*b))
            .filter(|(tz, _, _)| *tz == z)
            .map(|(_, x, y)| (x, y))
            .collect();
        if tiles.is_empty() {
            return Err(Error::NoNativeTiles { zoom: z });
        }
        // A raster across the antimeridian is one piece: columns west of the widest gap
        // between the tiles (going round the world) continue past the last column.
        let world = 1u32 << z.min(31);
        let start = unwrap_start(tiles.iter().map(|t| t.0), world);
        for t in &mut tiles {
            if t.0 < start {
                t.0 += world;
            }
        }
        tiles.sort_by_key(|(x, y)| (*y, *x));
        let x0 = tiles.iter().map(|t| t.0).min().unwrap_or(0);
        let x1 = tiles.iter().map(|t| t.0).max().unwrap_or(0);
        let y0 = tiles.iter().map(|t| t.1).min().unwrap_or(0);
        let y1 = tiles.iter().map(|t| t.1).max().unwrap_or(0);
        let width = (x1 - x0 + 1)
            .checked_mul(bs)
            .ok_or_else(|| Error::TooLarge {
                what: "raster too wide",
            })?;
        let height = (y1 - y0 + 1)
            .checked_mul(bs)
            .ok_or_else(|| Error::TooLarge {
                what: "raster too tall",
            })?;
        Ok(NativeGrid {
            tiles,
            x0,
            y0,
            y1,
            world,
            width,
            height,
        })
    }
}

fn write_tiff<T: Sample>(reader: &Reader, output: &Path) -> Result<GeoTiffSummary> {
    let m = reader.metadata();
    let nb = m.bands.len();
    let grid = NativeGrid::of(reader)?;
    let fill = T::from_f64(m.bands.first().and_then(|b| b.nodata).unwrap_or(0.0));
    atomic(output, |w| {
        let terr = |e| Error::tiff(output, e);
        let mut enc = TiffEncoder::new(w).map_err(terr)?;
        let mut d = enc.image_directory().map_err(terr)?;
        let (offsets, counts) =
            write_strips(reader, &grid, fill, |data| d.write_data(data).map_err(terr))?;
        let tags = tiff_tags::<T>(reader, &grid, &offsets, &counts)?;
        for (tag, value) in tags {
            match value {
                TagValue::U16(v) => d.write_tag(tag, &v[..]),
                TagValue::U32(v) => d.write_tag(tag, &v[..]),
                TagValue::F64(v) => d.write_tag(tag, &v[..]),
                TagValue::Text(v) => d.write_tag(tag, v.as_str()),
            }
            .map_err(terr)?;
        }
        d.finish().map_err(terr)?;
        Ok(())
    })?;
    Ok(GeoTiffSummary {
        width: grid.width,
        height: grid.height,
        bands: nb,
        tiles: grid.tiles.len(),
    })
}

/// One row of native tiles after the other as a zlib strip (TIFF compression 8, "Adobe
/// deflate"), handed to `write_data`; the strips' offsets and byte counts.
fn write_strips<T: Sample>(
    reader: &Reader,
    grid: &NativeGrid,
    fill: T,
    mut write_data: impl FnMut(&[u8]) -> Result<u64>,
) -> Result<(Vec<u32>, Vec<u32>)> {
    let m = reader.metadata();
    let (nb, z, bsu) = (
        m.bands.len(),
        m.tiling.max_zoom,
        m.tiling.block_width as usize,
    );
    let wu = grid.width as usize;
    let mut strip = vec![fill; wu * bsu * nb];
    let mut bytes = Vec::with_capacity(strip.len() * usize::from(T::BITS / 8));
    let mut offsets: Vec<u32> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut it = grid.tiles.iter().peekable();
    for ty in grid.y0..=grid.y1 {
        strip.fill(fill);
        while let Some(&&(tx, y)) = it.peek() {
            if y != ty {
                break;
            }
            let _ = it.next();
            let Some(tile) = reader.tile(z, tx % grid.world, ty)? else {
                continue;
            };
            let ox = (tx - grid.x0) as usize * bsu;
            for (b, band) in tile.bands.iter().enumerate() {
                copy_band(band, &mut strip, ox, wu, bsu, b, nb);
            }
        }
        bytes.clear();
        strip.iter().for_each(|v| v.put(&mut bytes));
        let zipped = crate::blob::zlib(&bytes, 6);
        let off = write_data(&zipped[..])?;
        offsets.push(u32::try_from(off).map_err(|_| Error::TooLarge {
            what: "GeoTIFF beyond 4 GiB (BigTIFF not written)",
        })?);
        counts.push(u32::try_from(zipped.len()).map_err(|_| Error::TooLarge {
            what: "strip beyond 4 GiB",
        })?);
    }
    Ok((offsets, counts))
}

/// A tag value to write.
enum TagValue {
    U16(Vec<u16>),
    U32(Vec<u32>),
    F64(Vec<f64>),
    Text(String),
}

/// The GeoTIFF's tags, in the order they are written: size, samples, strips, planar
/// configuration, extra samples (alpha), sample format, EPSG:3857 georeferencing and
/// GDAL_NODATA.
fn tiff_tags<T: Sample>(
    reader: &Reader,
    grid: &NativeGrid,
    offsets: &[u32],
    counts: &[u32],
) -> Result<Vec<(Tag, TagValue)>> {
    use TagValue::{F64, Text, U16, U32};
    let m = reader.metadata();
    let (nb, z, bs) = (m.bands.len(), m.tiling.max_zoom, m.tiling.block_width);
    let n16 = u16::try_from(nb).map_err(|_| Error::TooLarge {
        what: "too many bands",
    })?;
    let rgb = nb >= 3
        && m.bands[..3].iter().map(|b| b.colorinterp.as_deref()).eq([
            Some("red"),
            Some("green"),
            Some("blue"),
        ]);
    let px = CE / 2f64.powi(i32::from(z)) / f64::from(bs);
    let [xmin, _, _, ymax] = cell::tile_bounds_mercator(z, grid.x0, grid.y0);
    let mut tags = vec![
        (Tag::ImageWidth, U32(vec![grid.width])),
        (Tag::ImageLength, U32(vec![grid.height])),
        (Tag::BitsPerSample, U16(vec![T::BITS; nb])),
        (Tag::Compression, U16(vec![8])),
        (
            Tag::PhotometricInterpretation,
            U16(vec![if rgb { 2 } else { 1 }]),
        ),
        (Tag::StripOffsets, U32(offsets.to_vec())),
        (Tag::SamplesPerPixel, U16(vec![n16])),
        (Tag::RowsPerStrip, U32(vec![bs])),
        (Tag::StripByteCounts, U32(counts.to_vec())),
        (Tag::PlanarConfiguration, U16(vec![1])),
    ];
    let base = if rgb { 3 } else { 1 };
    if nb > base {
        let alpha = m.bands.last().and_then(|b| b.colorinterp.as_deref()) == Some("alpha");
        let extra: Vec<u16> = (base..nb)
            .map(|k| if alpha && k == nb - 1 { 2 } else { 0 })
            .collect();
        tags.push((Tag::ExtraSamples, U16(extra)));
    }
    tags.push((Tag::SampleFormat, U16(vec![T::FORMAT; nb])));
    tags.push((Tag::ModelPixelScaleTag, F64(vec![px, px, 0.0])));
    tags.push((
        Tag::ModelTiepointTag,
        F64(vec![0.0, 0.0, 0.0, xmin, ymax, 0.0]),
    ));
    let keys = vec![
        1, 1, 0, 4, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 3857, 3076, 0, 1, 9001,
    ];
    tags.push((Tag::GeoKeyDirectoryTag, U16(keys)));
    if let Some(nd) = m.bands.first().and_then(|b| b.nodata) {
        let s = if nd.is_nan() {
            "nan".to_string()
        } else {
            format!("{nd}")
        };
        tags.push((Tag::GdalNodata, Text(s)));
    }
    Ok(tags)
}

/// The first column of a set of tile columns on a circle of `world` columns: the one
/// after the widest gap (0 when the widest gap is the one that wraps round, i.e. the
/// columns do not cross the antimeridian).
fn unwrap_start(xs: impl Iterator<Item = u32>, world: u32) -> u32 {
    let mut xs: Vec<u32> = xs.collect();
    xs.sort_unstable();
    xs.dedup();
    let (Some(first), Some(last)) = (xs.first().copied(), xs.last().copied()) else {
        return 0;
    };
    // The gap that wraps round, then every inner gap.
    let mut best = (first + world - last, 0);
    for pair in xs.windows(2) {
        let gap = pair[1] - pair[0];
        if gap > best.0 {
            best = (gap, pair[1]);
        }
    }
    best.1
}

fn copy_band<T: Sample>(
    band: &Pixels,
    strip: &mut [T],
    ox: usize,
    w: usize,
    bs: usize,
    b: usize,
    n: usize,
) {
    let vals = band.to_f64_vec();
    for r in 0..bs {
        for c in 0..bs {
            if let (Some(v), Some(slot)) = (
                vals.get(r * bs + c),
                strip.get_mut(((r * w) + ox + c) * n + b),
            ) {
                *slot = T::from_f64(*v);
            }
        }
    }
}
