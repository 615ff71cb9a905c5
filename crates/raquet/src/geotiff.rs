//! GeoTIFF input: georeferencing (GeoKeys, tie points, transformation matrix), band
//! facts (type, nodata, palette, colour interpretation, GDAL metadata) and bounded
//! reading of row ranges, chunk by chunk.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tiff::decoder::{ChunkType, Decoder, Limits};
use tiff::tags::Tag;

use crate::chunks::Chunks;
use crate::pixels::Sample;
use crate::{BandType, Error, Result};

/// The most bands (samples per pixel) read: each becomes a column of every tile.
pub(crate) const MAX_BANDS: usize = 1024;

/// The most bytes of decoded rows (as `f64`, all bands, full width) held at once for one
/// compressed chunk row; larger chunk rows are refused with a message.
pub(crate) const MAX_SLAB_BYTES: u64 = 1 << 30;

/// Uncompressed chunks are read a few rows at a time, about this many bytes of `f64`s.
const SLAB_TARGET_BYTES: u64 = 64 << 20;

/// The CRS of a GeoTIFF, as far as we need it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceCrs {
    /// EPSG:3857 (or an equivalent Pseudo-Mercator).
    WebMercator,
    /// Geographic WGS 84 (EPSG:4326) longitude/latitude.
    Wgs84,
    /// Anything else: an EPSG code, or a PROJ string built from user-defined GeoKeys.
    Other {
        /// The EPSG code when there is one.
        epsg: Option<u32>,
        /// A PROJ string when the CRS is user-defined.
        proj: Option<String>,
        /// Whether it is geographic (degrees).
        geographic: bool,
    },
}

impl SourceCrs {
    pub(crate) fn label(&self) -> String {
        match self {
            SourceCrs::WebMercator => "EPSG:3857".into(),
            SourceCrs::Wgs84 => "EPSG:4326".into(),
            SourceCrs::Other { epsg: Some(c), .. } => format!("EPSG:{c}"),
            SourceCrs::Other { proj: Some(p), .. } => p.clone(),
            SourceCrs::Other { .. } => "unknown".into(),
        }
    }
}

/// Facts about one band of the input.
#[derive(Debug, Clone)]
pub(crate) struct SourceBand {
    pub(crate) colorinterp: String,
    pub(crate) description: String,
    pub(crate) unit: String,
    pub(crate) scale: Option<f64>,
    pub(crate) offset: Option<f64>,
}

/// An open GeoTIFF.
pub(crate) struct GeoTiff {
    pub(crate) path: PathBuf,
    decoder: Decoder<BufReader<File>>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) band_type: BandType,
    pub(crate) bands: Vec<SourceBand>,
    pub(crate) nodata: Option<f64>,
    pub(crate) colortable: Option<BTreeMap<i64, [u8; 4]>>,
    /// GDAL geotransform: x = gt0 + col·gt1 + row·gt2, y = gt3 + col·gt4 + row·gt5.
    pub(crate) geotransform: [f64; 6],
    pub(crate) crs: SourceCrs,
    planar: bool,
    chunks: Chunks,
    /// Rows decoded together (a chunk row, or fewer rows of uncompressed chunks).
    slab_h: u32,
    /// What absent (sparse) chunks read as: the nodata value, else 0.
    fill: f64,
    /// Decoded slabs: first row → per-band rows of the full width.
    cache: HashMap<u32, Vec<Vec<f64>>>,
    /// The buffers of a slab forgotten, for the next one (no new pages).
    spare: Option<Vec<Vec<f64>>>,
    /// Scratch: compressed bytes, a decoded chunk, the rows asked for.
    raw: Vec<u8>,
    full: Vec<u8>,
    decoded: Vec<u8>,
}

impl std::fmt::Debug for GeoTiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoTiff")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("band_type", &self.band_type)
            .field("crs", &self.crs)
            .finish_non_exhaustive()
    }
}

fn geokeys(dir: &[u16]) -> BTreeMap<u16, (u16, u16, u16)> {
    let mut out = BTreeMap::new();
    if dir.len() < 4 {
        return out;
    }
    let n = dir[3] as usize;
    for k in 0..n {
        let base = 4 + k * 4;
        if base + 3 >= dir.len() {
            break;
        }
        let _ = out.insert(dir[base], (dir[base + 1], dir[base + 2], dir[base + 3]));
    }
    out
}

fn xml_items(xml: &str) -> Vec<(String, Option<usize>, String, String)> {
    // (name, sample, role, text) of each <Item ...>text</Item>.
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Item") {
        rest = &rest[start + 5..];
        let Some(close) = rest.find('>') else { break };
        let attrs = &rest[..close];
        let Some(end) = rest.find("</Item>") else {
            break;
        };
        let text = rest.get(close + 1..end).unwrap_or("").to_string();
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            attrs.find(&key).and_then(|i| {
                let s = &attrs[i + key.len()..];
                s.find('"').map(|j| s[..j].to_string())
            })
        };
        out.push((
            attr("name").unwrap_or_default(),
            attr("sample").and_then(|s| s.parse().ok()),
            attr("role").unwrap_or_default(),
            text,
        ));
        rest = &rest[end..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The TIFF decoder over a file.
type Dec = Decoder<BufReader<File>>;

/// How samples are stored: count, photometric interpretation, planar or not, bits and
/// the RaQuet type.
struct SampleLayout {
    spp: u16,
    photometric: u16,
    planar: bool,
    bits: u16,
    band_type: BandType,
}

/// The sample layout tags, refused when RaQuet has no type for them.
fn sample_layout(dec: &mut Dec, path: &Path) -> Result<SampleLayout> {
    let tiff_err = |e| Error::tiff(path, e);
    let spp: u16 = dec
        .find_tag_unsigned(Tag::SamplesPerPixel)
        .map_err(tiff_err)?
        .unwrap_or(1);
    let photometric: u16 = dec
        .find_tag_unsigned(Tag::PhotometricInterpretation)
        .map_err(tiff_err)?
        .unwrap_or(1);
    let planar = dec
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(tiff_err)?
        .unwrap_or(1)
        == 2;
    let bits = dec
        .find_tag_unsigned_vec::<u16>(Tag::BitsPerSample)
        .map_err(tiff_err)?
        .unwrap_or_else(|| vec![1]);
    let format = dec
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(tiff_err)?
        .unwrap_or_else(|| vec![1]);
    let b0 = bits.first().copied().unwrap_or(1);
    if bits.iter().any(|b| *b != b0) {
        return Err(Error::geotiff(
            path,
            format!("bands of different bit depths {bits:?} are not supported"),
        ));
    }
    let band_type = match (format.first().copied().unwrap_or(1), b0) {
        (1, 8) => BandType::Uint8,
        (1, 16) => BandType::Uint16,
        (1, 32) => BandType::Uint32,
        (1, 64) => BandType::Uint64,
        (2, 8) => BandType::Int8,
        (2, 16) => BandType::Int16,
        (2, 32) => BandType::Int32,
        (2, 64) => BandType::Int64,
        (3, 16) => BandType::Float16,
        (3, 32) => BandType::Float32,
        (3, 64) => BandType::Float64,
        (f, b) => {
            return Err(Error::geotiff(
                path,
                format!("sample format {f} with {b} bits is not a RaQuet type"),
            ));
        }
    };
    if usize::from(spp) > MAX_BANDS {
        return Err(Error::geotiff(
            path,
            format!("{spp} samples per pixel: more than {MAX_BANDS} bands are not supported"),
        ));
    }
    Ok(SampleLayout {
        spp,
        photometric,
        planar,
        bits: b0,
        band_type,
    })
}

/// One [`SourceBand`] per sample, coloured by the photometric interpretation and the
/// extra samples (alpha).
fn source_bands(dec: &mut Dec, path: &Path, layout: &SampleLayout) -> Result<Vec<SourceBand>> {
    let extra = dec
        .find_tag_unsigned_vec::<u16>(Tag::ExtraSamples)
        .map_err(|e| Error::tiff(path, e))?
        .unwrap_or_default();
    let n = usize::from(layout.spp.max(1));
    let base: Vec<&str> = match layout.photometric {
        2 | 6 => vec!["red", "green", "blue"],
        3 => vec!["palette"],
        _ => vec!["gray"],
    };
    let first_extra = base.len().min(n);
    let bands: Vec<SourceBand> = (0..n)
        .map(|i| {
            let colorinterp = if i < first_extra {
                base[i].to_string()
            } else {
                match extra.get(i - first_extra) {
                    Some(1 | 2) => "alpha".into(),
                    _ => "undefined".into(),
                }
            };
            SourceBand {
                colorinterp,
                description: String::new(),
                unit: String::new(),
                scale: None,
                offset: None,
            }
        })
        .collect();
    Ok(bands)
}

/// Scale, offset, unit and description from the GDAL_METADATA XML.
fn gdal_metadata(dec: &mut Dec, path: &Path, bands: &mut [SourceBand]) -> Result<()> {
    let Some(v) = dec
        .find_tag(Tag::Unknown(42112))
        .map_err(|e| Error::tiff(path, e))?
    else {
        return Ok(());
    };
    let xml = v.into_string().unwrap_or_default();
    for (name, sample, role, text) in xml_items(&xml) {
        let Some(b) = sample.and_then(|s| bands.get_mut(s)) else {
            continue;
        };
        let text = unescape(text.trim());
        match (role.as_str(), name.as_str()) {
            ("scale", _) | (_, "SCALE") => b.scale = text.parse().ok(),
            ("offset", _) | (_, "OFFSET") => b.offset = text.parse().ok(),
            ("unittype", _) => b.unit = text,
            ("description", _) => b.description = text,
            _ => {}
        }
    }
    Ok(())
}

/// GDAL_NODATA (NaN and infinities spelled as GDAL and .NET write them).
fn gdal_nodata(dec: &mut Dec, path: &Path) -> Result<Option<f64>> {
    Ok(
        match dec
            .find_tag(Tag::GdalNodata)
            .map_err(|e| Error::tiff(path, e))?
        {
            Some(v) => {
                let s = v.into_string().unwrap_or_default();
                let s = s.trim_matches(char::from(0)).trim();
                match s {
                    "nan" | "NaN" | "-nan" => Some(f64::NAN),
                    "inf" | "Infinity" => Some(f64::INFINITY),
                    "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
                    s => s.parse::<f64>().ok(),
                }
            }
            None => None,
        },
    )
}

/// The palette of a palette image (16-bit ColorMap scaled to 8 bits, opaque).
fn colortable(
    dec: &mut Dec,
    path: &Path,
    photometric: u16,
) -> Result<Option<BTreeMap<i64, [u8; 4]>>> {
    if photometric != 3 {
        return Ok(None);
    }
    Ok(
        match dec
            .find_tag_unsigned_vec::<u16>(Tag::ColorMap)
            .map_err(|e| Error::tiff(path, e))?
        {
            Some(map) if map.len() % 3 == 0 && !map.is_empty() => {
                let k = map.len() / 3;
                let mut ct = BTreeMap::new();
                for i in 0..k {
                    let c = |v: u16| u8::try_from(u32::from(v) * 255 / 65535).unwrap_or(255);
                    let _ = ct.insert(i as i64, [c(map[i]), c(map[k + i]), c(map[2 * k + i]), 255]);
                }
                Some(ct)
            }
            _ => None,
        },
    )
}

/// The GeoKey directory with its double and ASCII parameters.
struct GeoKeys {
    keys: BTreeMap<u16, (u16, u16, u16)>,
    doubles: Vec<f64>,
    ascii: String,
}

impl GeoKeys {
    fn read(dec: &mut Dec, path: &Path) -> Result<Self> {
        let tiff_err = |e| Error::tiff(path, e);
        let keys = match dec.find_tag(Tag::GeoKeyDirectoryTag).map_err(tiff_err)? {
            Some(v) => geokeys(&v.into_u16_vec().map_err(tiff_err)?),
            None => BTreeMap::new(),
        };
        let doubles = match dec.find_tag(Tag::GeoDoubleParamsTag).map_err(tiff_err)? {
            Some(v) => v.into_f64_vec().unwrap_or_default(),
            None => Vec::new(),
        };
        let ascii = match dec.find_tag(Tag::GeoAsciiParamsTag).map_err(tiff_err)? {
            Some(v) => v.into_string().unwrap_or_default(),
            None => String::new(),
        };
        Ok(Self {
            keys,
            doubles,
            ascii,
        })
    }

    /// A SHORT key stored in the directory itself.
    fn short(&self, k: u16) -> Option<u16> {
        self.keys
            .get(&k)
            .filter(|(loc, _, _)| *loc == 0)
            .map(|(_, _, v)| *v)
    }

    /// A DOUBLE key stored in GeoDoubleParams.
    fn double(&self, k: u16) -> Option<f64> {
        self.keys
            .get(&k)
            .filter(|(loc, _, _)| *loc == 34736)
            .and_then(|(_, count, off)| {
                if *count >= 1 {
                    self.doubles.get(usize::from(*off)).copied()
                } else {
                    None
                }
            })
    }

    /// GeogTOWGS84GeoKey: 3 or 7 Helmert parameters, comma-separated.
    fn towgs84(&self) -> Option<String> {
        self.keys
            .get(&2062)
            .filter(|(loc, _, _)| *loc == 34736)
            .and_then(|(_, count, off)| {
                self.doubles
                    .get(usize::from(*off)..usize::from(*off) + usize::from(*count))
            })
            .filter(|v| matches!(v.len(), 3 | 7))
            .map(|v| {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
    }

    /// The CRS the keys describe.
    fn crs(&self, path: &Path) -> Result<SourceCrs> {
        let short = |k: u16| self.short(k);
        let double = |k: u16| self.double(k);
        let towgs84 = self.towgs84();
        let model = short(1024).unwrap_or(0);
        Ok(match (model, short(3072), short(2048)) {
            (1, Some(3857 | 3785), _) => SourceCrs::WebMercator,
            (1, Some(code), _) if code != 32767 => SourceCrs::Other {
                epsg: Some(u32::from(code)),
                proj: None,
                geographic: false,
            },
            (1, _, geog) => SourceCrs::Other {
                epsg: None,
                proj: Some(
                    user_defined_proj(&short, &double, geog, towgs84.as_deref())
                        .map_err(|m| Error::geotiff(path, m))?,
                ),
                geographic: false,
            },
            (2, _, Some(32767)) => SourceCrs::Other {
                epsg: None,
                proj: Some(format!(
                    "+proj=longlat{} +no_defs",
                    datum_params(&short, &double, Some(32767), towgs84.as_deref())
                )),
                geographic: true,
            },
            (2, Some(4326) | None, Some(4326)) | (2, None, None) => SourceCrs::Wgs84,
            (2, _, Some(code)) if code != 32767 => SourceCrs::Other {
                epsg: Some(u32::from(code)),
                proj: None,
                geographic: true,
            },
            (0, _, _) if self.keys.is_empty() => {
                return Err(Error::geotiff(
                    path,
                    "no GeoKeyDirectory: the CRS is unknown",
                ));
            }
            (m, p, g) => {
                let ascii = &self.ascii;
                return Err(Error::geotiff(
                    path,
                    format!(
                        "unsupported CRS (model type {m}, projected {p:?}, geographic {g:?}, {ascii:?})"
                    ),
                ));
            }
        })
    }
}

/// The GDAL geotransform from ModelTransformation, or ModelPixelScale with
/// ModelTiepoint; shifted by half a pixel for PixelIsPoint; refused when degenerate.
fn geotransform(dec: &mut Dec, path: &Path, pixel_is_point: bool) -> Result<[f64; 6]> {
    let tiff_err = |e| Error::tiff(path, e);
    let transform = dec
        .find_tag(Tag::ModelTransformationTag)
        .map_err(tiff_err)?;
    let mut gt = if let Some(t) = transform {
        let m = t.into_f64_vec().map_err(tiff_err)?;
        if m.len() < 8 {
            return Err(Error::geotiff(
                path,
                "ModelTransformationTag has fewer than 8 values",
            ));
        }
        [m[3], m[0], m[1], m[7], m[4], m[5]]
    } else {
        let scale = dec.find_tag(Tag::ModelPixelScaleTag).map_err(tiff_err)?;
        let tie = dec.find_tag(Tag::ModelTiepointTag).map_err(tiff_err)?;
        match (scale, tie) {
            (Some(s), Some(t)) => {
                let s = s.into_f64_vec().map_err(tiff_err)?;
                let t = t.into_f64_vec().map_err(tiff_err)?;
                if s.len() < 2 || t.len() < 6 {
                    return Err(Error::geotiff(
                        path,
                        "ModelPixelScale/ModelTiepoint are too short",
                    ));
                }
                let (sx, sy) = (s[0], s[1]);
                [t[3] - t[0] * sx, sx, 0.0, t[4] + t[1] * sy, 0.0, -sy]
            }
            _ => {
                return Err(Error::geotiff(
                    path,
                    "no georeferencing (ModelPixelScale + ModelTiepoint or ModelTransformation)",
                ));
            }
        }
    };
    if pixel_is_point {
        gt[0] -= 0.5 * (gt[1] + gt[2]);
        gt[3] -= 0.5 * (gt[4] + gt[5]);
    }
    let det = gt[1] * gt[5] - gt[2] * gt[4];
    if !det.is_finite() || det == 0.0 {
        return Err(Error::geotiff(
            path,
            format!("degenerate geotransform {gt:?}"),
        ));
    }
    Ok(gt)
}

/// Where the chunks are, checked against the file before anything is allocated.
fn chunk_layout(
    dec: &mut Dec,
    path: &Path,
    layout: &SampleLayout,
    nb: usize,
    file_len: u64,
) -> Result<Chunks> {
    let tiff_err = |e| Error::tiff(path, e);
    let (width, height) = dec.dimensions().map_err(tiff_err)?;
    let tiled = dec.get_chunk_type() == ChunkType::Tile;
    let (cw, ch) = dec.chunk_dimensions();
    let chunk_h = if tiled { ch } else { ch.min(height) }.max(1);
    let chunk_w = if tiled { cw.max(1) } else { width };
    let across = if tiled { width.div_ceil(chunk_w) } else { 1 };
    let per_plane = across.saturating_mul(height.div_ceil(chunk_h));
    let (ot, ct) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let chunks = Chunks {
        offsets: dec
            .find_tag_unsigned_vec::<u64>(ot)
            .map_err(tiff_err)?
            .unwrap_or_default(),
        counts: dec
            .find_tag_unsigned_vec::<u64>(ct)
            .map_err(tiff_err)?
            .unwrap_or_default(),
        compression: dec
            .find_tag_unsigned(Tag::Compression)
            .map_err(tiff_err)?
            .unwrap_or(1),
        predictor: dec
            .find_tag_unsigned(Tag::Predictor)
            .map_err(tiff_err)?
            .unwrap_or(1),
        bytes_per_sample: usize::from(layout.bits / 8),
        samples: if layout.planar { 1 } else { nb },
        big_endian: dec.byte_order() == tiff::tags::ByteOrder::BigEndian,
        tiled,
        chunk_w,
        chunk_h,
        across,
        per_plane,
        height,
        jpeg_tables: match dec.find_tag(Tag::JPEGTables).map_err(tiff_err)? {
            Some(v) => Some(v.into_u8_vec().map_err(tiff_err)?),
            None => None,
        },
        ycbcr: layout.photometric == 6,
    };
    let planes = if layout.planar { nb } else { 1 };
    let want = u64::from(per_plane) * planes as u64;
    if chunks.offsets.len() as u64 != want {
        return Err(Error::geotiff(
            path,
            format!(
                "{} chunk offsets where a {width}x{height} image of {} chunks needs {want}",
                chunks.offsets.len(),
                if tiled { "tiled" } else { "stripped" }
            ),
        ));
    }
    chunks
        .check(file_len)
        .map_err(|m| Error::geotiff(path, m))?;
    Ok(chunks)
}

/// How many rows are decoded at once, within the memory bound.
fn slab_height(path: &Path, chunks: &Chunks, width: u32, nb: usize) -> Result<u32> {
    let chunk_h = chunks.chunk_h;
    let row_f64 = u64::from(width) * nb as u64 * 8;
    let slab_h = if chunks.compression == 1 {
        u32::try_from((SLAB_TARGET_BYTES / row_f64.max(1)).clamp(1, u64::from(chunk_h)))
            .unwrap_or(chunk_h)
    } else {
        chunk_h
    };
    if row_f64.saturating_mul(u64::from(slab_h)) > MAX_SLAB_BYTES {
        return Err(Error::geotiff(
            path,
            format!(
                "one row of {} ({width} pixels x {nb} bands) needs {} bytes decoded, more than {MAX_SLAB_BYTES}; rewrite it with smaller strips or tiles (gdal_translate -co TILED=YES)",
                if chunks.tiled { "tiles" } else { "strips" },
                row_f64.saturating_mul(u64::from(slab_h))
            ),
        ));
    }
    Ok(slab_h)
}

impl GeoTiff {
    /// Opens a GeoTIFF and reads its tags (not its pixels).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        crate::chunks::check_ifd(&mut file, file_len).map_err(|m| Error::geotiff(path, m))?;
        let tiff_err = |e| Error::tiff(path, e);
        let mut dec = Decoder::new(BufReader::new(file))
            .map_err(tiff_err)?
            .with_limits(Limits::default());
        let (width, height) = dec.dimensions().map_err(tiff_err)?;
        let layout = sample_layout(&mut dec, path)?;
        let mut bands = source_bands(&mut dec, path, &layout)?;
        let nodata = gdal_nodata(&mut dec, path)?;
        gdal_metadata(&mut dec, path, &mut bands)?;
        let colortable = colortable(&mut dec, path, layout.photometric)?;
        let keys = GeoKeys::read(&mut dec, path)?;
        let gt = geotransform(&mut dec, path, keys.short(1025) == Some(2))?;
        let crs = keys.crs(path)?;
        let nb = bands.len();
        let chunks = chunk_layout(&mut dec, path, &layout, nb, file_len)?;
        let slab_h = slab_height(path, &chunks, width, nb)?;
        Ok(GeoTiff {
            path: path.to_path_buf(),
            decoder: dec,
            width,
            height,
            band_type: layout.band_type,
            bands,
            nodata,
            colortable,
            geotransform: gt,
            crs,
            planar: layout.planar,
            chunks,
            slab_h: slab_h.max(1),
            fill: nodata.unwrap_or(0.0),
            cache: HashMap::new(),
            spare: None,
            raw: Vec::new(),
            full: Vec::new(),
            decoded: Vec::new(),
        })
    }

    /// The rows `start..end` of the slab holding row `row`.
    fn slab_bounds(&self, row: u32) -> (u32, u32) {
        let ch = self.chunks.chunk_h;
        let top = row / ch * ch;
        let start = top + (row - top) / self.slab_h * self.slab_h;
        let end = start
            .saturating_add(self.slab_h)
            .min(top.saturating_add(ch))
            .min(self.height);
        (start, end)
    }

    /// Decodes the slab starting at row `start` (all chunks across, all bands) into
    /// full-width rows.
    fn load_slab(&mut self, start: u32) -> Result<()> {
        if self.cache.contains_key(&start) {
            return Ok(());
        }
        let (start, end) = self.slab_bounds(start);
        let nb = self.bands.len();
        let w = self.width as usize;
        let rows = (end - start) as usize;
        let mut out = self.spare.take().unwrap_or_default();
        out.resize_with(nb, Vec::new);
        for band in &mut out {
            band.clear();
            band.resize(w * rows, self.fill);
        }
        let ch = self.chunks.chunk_h;
        let cr = start / ch;
        let within = (start - cr * ch)..(end - cr * ch);
        let row_bytes = usize::try_from(self.chunks.row_bytes()).unwrap_or(usize::MAX);
        let cw = self.chunks.chunk_w as usize;
        let planes = if self.planar { nb } else { 1 };
        for plane in 0..planes {
            for cx in 0..self.chunks.across {
                let idx = plane as u32 * self.chunks.per_plane + cr * self.chunks.across + cx;
                if self.chunks.absent(idx) {
                    continue;
                }
                self.chunks
                    .read(
                        self.decoder.inner(),
                        idx,
                        within.clone(),
                        &mut self.raw,
                        &mut self.full,
                        &mut self.decoded,
                    )
                    .map_err(|m| Error::geotiff(&self.path, m))?;
                let x0 = cx as usize * cw;
                let cols = cw.min(w.saturating_sub(x0));
                let first = if self.planar { plane } else { 0 };
                place(
                    &self.decoded,
                    self.band_type,
                    self.chunks.samples,
                    first,
                    &mut out,
                    row_bytes,
                    (w, x0, cols),
                );
            }
        }
        let _ = self.cache.insert(start, out);
        Ok(())
    }

    /// Rows `r0..r1` of every band (full width, row-major), decoding chunks as needed
    /// and forgetting slabs above `r0` (the caller moves downwards).
    ///
    /// The rows go into `out`'s buffers (cleared first), so that a caller recycling
    /// them touches no new memory.
    pub(crate) fn read_rows(&mut self, r0: u32, r1: u32, out: &mut Vec<Vec<f64>>) -> Result<()> {
        let r1 = r1.min(self.height);
        let nb = self.bands.len();
        let w = self.width as usize;
        let first = self.slab_bounds(r0.min(self.height.saturating_sub(1))).0;
        let stale: Vec<u32> = self.cache.keys().filter(|k| **k < first).copied().collect();
        for k in stale {
            if let Some(rows) = self.cache.remove(&k) {
                self.spare = Some(rows);
            }
        }
        out.resize_with(nb, Vec::new);
        for band in out.iter_mut() {
            band.clear();
            band.reserve(w * (r1.saturating_sub(r0)) as usize);
        }
        let mut r = r0;
        while r < r1 {
            let (s, e) = self.slab_bounds(r);
            self.load_slab(s)?;
            let Some(rows) = self.cache.get(&s) else {
                break;
            };
            let (from, to) = ((r - s) as usize * w, (r1.min(e) - s) as usize * w);
            for (b, band_rows) in rows.iter().enumerate() {
                if let (Some(o), Some(src)) = (out.get_mut(b), band_rows.get(from..to)) {
                    o.extend_from_slice(src);
                }
            }
            r = e;
        }
        Ok(())
    }
}

/// Copies decoded chunk rows (`row_bytes` each, samples little-endian, `spp` a pixel)
/// into bands `first..` of `out`, columns `x0..x0 + cols` of rows `w` wide.
fn place(
    bytes: &[u8],
    ty: BandType,
    spp: usize,
    first: usize,
    out: &mut [Vec<f64>],
    row_bytes: usize,
    (w, x0, cols): (usize, usize, usize),
) {
    macro_rules! go {
        ($t:ty, $n:expr) => {{
            for (r, line) in bytes.chunks_exact(row_bytes.max(1)).enumerate() {
                for s in 0..spp {
                    let Some(dst) = out
                        .get_mut(first + s)
                        .and_then(|b| b.get_mut(r * w + x0..r * w + x0 + cols))
                    else {
                        continue;
                    };
                    for (c, d) in dst.iter_mut().enumerate() {
                        let k = (c * spp + s) * $n;
                        if let Some(b) = line.get(k..k + $n) {
                            let mut a = [0u8; $n];
                            a.copy_from_slice(b);
                            *d = <$t>::from_le_bytes(a).to_f64();
                        }
                    }
                }
            }
        }};
    }
    match ty {
        BandType::Uint8 => go!(u8, 1),
        BandType::Int8 => go!(i8, 1),
        BandType::Uint16 => go!(u16, 2),
        BandType::Int16 => go!(i16, 2),
        BandType::Uint32 => go!(u32, 4),
        BandType::Int32 => go!(i32, 4),
        BandType::Uint64 => go!(u64, 8),
        BandType::Int64 => go!(i64, 8),
        BandType::Float16 => go!(half::f16, 2),
        BandType::Float32 => go!(f32, 4),
        BandType::Float64 => go!(f64, 8),
    }
}

/// A PROJ string from user-defined projected GeoKeys.
fn user_defined_proj(
    short: &impl Fn(u16) -> Option<u16>,
    double: &impl Fn(u16) -> Option<f64>,
    geog: Option<u16>,
    towgs84: Option<&str>,
) -> std::result::Result<String, String> {
    let units = match short(3076) {
        Some(9002) => " +units=ft",
        Some(9003) => " +units=us-ft",
        _ => " +units=m",
    };
    let datum = datum_params(short, double, geog, towgs84);
    // A standard projection named by its EPSG conversion code (GDAL writes these for a
    // UTM zone on a user-defined geographic CRS).
    if let Some(code) = short(3074).filter(|c| *c != 32767) {
        return match code {
            16001..=16060 => Ok(format!(
                "+proj=utm +zone={}{datum}{units} +no_defs",
                code - 16000
            )),
            17001..=17060 => Ok(format!(
                "+proj=utm +zone={} +south{datum}{units} +no_defs",
                code - 17000
            )),
            _ if short(3075).is_some() => user_defined_method(short, double, &datum, units),
            _ => Err(format!(
                "ProjectionGeoKey {code} (an EPSG conversion) is not known without the EPSG database: only UTM zones (16001-16060 north, 17001-17060 south) are, or a ProjectedCSTypeGeoKey EPSG code, or ProjCoordTransGeoKey parameters"
            )),
        };
    }
    user_defined_method(short, double, &datum, units)
}

/// A PROJ string from the ProjCoordTransGeoKey method and its parameters.
fn user_defined_method(
    short: &impl Fn(u16) -> Option<u16>,
    double: &impl Fn(u16) -> Option<f64>,
    datum: &str,
    units: &str,
) -> std::result::Result<String, String> {
    let ct = short(3075)
        .ok_or("user-defined projection with neither ProjectionGeoKey nor ProjCoordTransGeoKey")?;
    let d = |k: u16| double(k).unwrap_or(0.0);
    let first = |ks: &[u16]| ks.iter().find_map(|k| double(*k)).unwrap_or(0.0);
    let lon0 = first(&[3080, 3088, 3084]);
    let lat0 = first(&[3081, 3089, 3085]);
    let x0 = first(&[3082, 3086]);
    let y0 = first(&[3083, 3087]);
    let k0 = double(3092).or(double(3093)).unwrap_or(1.0);
    let proj = match ct {
        1 => format!("+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k={k0} +x_0={x0} +y_0={y0}"),
        7 => format!("+proj=merc +lon_0={lon0} +k={k0} +x_0={x0} +y_0={y0}"),
        8 => format!(
            "+proj=lcc +lat_1={} +lat_2={} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0}",
            d(3078),
            d(3079)
        ),
        9 => format!(
            "+proj=lcc +lat_1={lat0} +lat_0={lat0} +lon_0={lon0} +k_0={k0} +x_0={x0} +y_0={y0}"
        ),
        10 => format!("+proj=laea +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0}"),
        11 => format!(
            "+proj=aea +lat_1={} +lat_2={} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0}",
            d(3078),
            d(3079)
        ),
        14 => format!("+proj=stere +lat_0={lat0} +lon_0={lon0} +k={k0} +x_0={x0} +y_0={y0}"),
        15 => {
            // ProjNatOriginLat is the latitude of true scale; 3095 the straight-vertical-pole longitude.
            let lon = double(3095).unwrap_or(lon0);
            let pole = if lat0 < 0.0 { -90 } else { 90 };
            format!(
                "+proj=stere +lat_0={pole} +lat_ts={lat0} +lon_0={lon} +k={k0} +x_0={x0} +y_0={y0}"
            )
        }
        16 => format!("+proj=sterea +lat_0={lat0} +lon_0={lon0} +k={k0} +x_0={x0} +y_0={y0}"),
        17 => format!(
            "+proj=eqc +lat_ts={} +lon_0={lon0} +x_0={x0} +y_0={y0}",
            d(3078)
        ),
        other => {
            return Err(format!(
                "user-defined projection method {other} (GeoTIFF ProjCoordTrans) is not supported"
            ));
        }
    };
    Ok(format!("{proj}{datum}{units} +no_defs"))
}

/// The datum part of a PROJ string (leading space) from the geographic GeoKeys: an EPSG
/// geographic CRS (GeodeticCRSGeoKey), else a user-defined one by its datum code, its
/// ellipsoid code or its ellipsoid parameters (semi-major axis with inverse flattening
/// or semi-minor axis), with GeogTOWGS84GeoKey when given.
fn datum_params(
    short: &impl Fn(u16) -> Option<u16>,
    double: &impl Fn(u16) -> Option<f64>,
    geog: Option<u16>,
    towgs84: Option<&str>,
) -> String {
    // "+proj=longlat +datum=NAD83 +no_defs" → " +datum=NAD83".
    let from_epsg = |code: u16| {
        crs_definitions::from_code(code)
            .filter(|d| d.proj4.starts_with("+proj=longlat"))
            .map(|d| {
                d.proj4
                    .split_whitespace()
                    .filter(|t| !t.starts_with("+proj=") && *t != "+no_defs")
                    .fold(String::new(), |acc, t| acc + " " + t)
            })
    };
    if let Some(code) = geog.filter(|c| *c != 32767)
        && let Some(d) = from_epsg(code)
    {
        return d;
    }
    let towgs84 = format!(" +towgs84={}", towgs84.unwrap_or("0,0,0"));
    // Datum 6xxx is the datum of geographic CRS 4xxx.
    if let Some(d) = short(2050)
        .filter(|d| (6000..7000).contains(d))
        .and_then(|d| from_epsg(d - 2000))
    {
        return d;
    }
    let ellps = match short(2056) {
        Some(7030) => Some("WGS84"),
        Some(7019) => Some("GRS80"),
        Some(7008) => Some("clrk66"),
        Some(7022) => Some("intl"),
        Some(7004) => Some("bessel"),
        Some(7043) => Some("WGS72"),
        _ => None,
    };
    if let Some(e) = ellps {
        return format!(" +ellps={e}{towgs84}");
    }
    match (double(2057), double(2059), double(2058)) {
        (Some(a), Some(rf), _) if rf > 0.0 => format!(" +a={a} +rf={rf}{towgs84}"),
        (Some(a), _, Some(b)) => format!(" +a={a} +b={b}{towgs84}"),
        (Some(a), Some(_), _) => format!(" +a={a} +b={a}{towgs84}"),
        _ => " +datum=WGS84".to_string(),
    }
}
