//! GeoTIFF input: georeferencing (GeoKeys, tie points, transformation matrix), band
//! facts (type, nodata, palette, colour interpretation, GDAL metadata) and bounded
//! reading of row ranges, chunk by chunk.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tiff::decoder::{ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

use crate::{BandType, Error, Result};

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
    chunk_w: u32,
    chunk_h: u32,
    chunks_across: u32,
    chunks_per_plane: u32,
    /// Decoded chunk rows: index → per-band rows of the full width.
    cache: HashMap<u32, Vec<Vec<f64>>>,
    /// The buffers of a chunk row forgotten, for the next one (no new pages).
    spare: Option<Vec<Vec<f64>>>,
    /// Our own chunk decoding for what the `tiff` crate refuses (palette images).
    raw: Option<RawChunks>,
}

/// Where the chunks are and how they are compressed, for [`GeoTiff::raw_chunk`].
struct RawChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
    compression: u16,
    predictor: u16,
    bytes_per_sample: usize,
    big_endian: bool,
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

impl GeoTiff {
    /// Opens a GeoTIFF and reads its tags (not its pixels).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let tiff_err = |e| Error::tiff(path, e);
        let mut dec = Decoder::new(BufReader::new(file))
            .map_err(tiff_err)?
            .with_limits(Limits::default());
        let (width, height) = dec.dimensions().map_err(tiff_err)?;
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
        if photometric == 6 {
            return Err(Error::geotiff(
                path,
                "YCbCr (JPEG-in-TIFF colour) input is not supported; convert to RGB first",
            ));
        }
        let extra = dec
            .find_tag_unsigned_vec::<u16>(Tag::ExtraSamples)
            .map_err(tiff_err)?
            .unwrap_or_default();
        let n = usize::from(spp.max(1));
        let base: Vec<&str> = match photometric {
            2 => vec!["red", "green", "blue"],
            3 => vec!["palette"],
            _ => vec!["gray"],
        };
        let first_extra = base.len().min(n);
        let mut bands: Vec<SourceBand> = (0..n)
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
        let nodata = match dec.find_tag(Tag::GdalNodata).map_err(tiff_err)? {
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
        };
        if let Some(v) = dec.find_tag(Tag::Unknown(42112)).map_err(tiff_err)? {
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
        }
        let colortable = if photometric == 3 {
            match dec
                .find_tag_unsigned_vec::<u16>(Tag::ColorMap)
                .map_err(tiff_err)?
            {
                Some(map) if map.len() % 3 == 0 && !map.is_empty() => {
                    let k = map.len() / 3;
                    let mut ct = BTreeMap::new();
                    for i in 0..k {
                        let c = |v: u16| u8::try_from(u32::from(v) * 255 / 65535).unwrap_or(255);
                        let _ =
                            ct.insert(i as i64, [c(map[i]), c(map[k + i]), c(map[2 * k + i]), 255]);
                    }
                    Some(ct)
                }
                _ => None,
            }
        } else {
            None
        };

        // Georeferencing.
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
        let short = |k: u16| {
            keys.get(&k)
                .filter(|(loc, _, _)| *loc == 0)
                .map(|(_, _, v)| *v)
        };
        let double = |k: u16| {
            keys.get(&k)
                .filter(|(loc, _, _)| *loc == 34736)
                .and_then(|(_, count, off)| {
                    if *count >= 1 {
                        doubles.get(usize::from(*off)).copied()
                    } else {
                        None
                    }
                })
        };
        let pixel_is_point = short(1025) == Some(2);
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
        let model = short(1024).unwrap_or(0);
        let crs = match (model, short(3072), short(2048)) {
            (1, Some(3857 | 3785), _) => SourceCrs::WebMercator,
            (1, Some(code), _) if code != 32767 => SourceCrs::Other {
                epsg: Some(u32::from(code)),
                proj: None,
                geographic: false,
            },
            (1, _, geog) => SourceCrs::Other {
                epsg: None,
                proj: Some(
                    user_defined_proj(&short, &double, geog)
                        .map_err(|m| Error::geotiff(path, m))?,
                ),
                geographic: false,
            },
            (2, Some(4326) | None, Some(4326)) | (2, None, None) => SourceCrs::Wgs84,
            (2, _, Some(code)) if code != 32767 => SourceCrs::Other {
                epsg: Some(u32::from(code)),
                proj: None,
                geographic: true,
            },
            (0, _, _) if keys.is_empty() => {
                return Err(Error::geotiff(
                    path,
                    "no GeoKeyDirectory: the CRS is unknown",
                ));
            }
            (m, p, g) => {
                return Err(Error::geotiff(
                    path,
                    format!(
                        "unsupported CRS (model type {m}, projected {p:?}, geographic {g:?}, {ascii:?})"
                    ),
                ));
            }
        };

        let (chunk_w, chunk_h) = dec.chunk_dimensions();
        let (chunks_across, chunks_per_plane) = match dec.get_chunk_type() {
            ChunkType::Strip => (1, height.div_ceil(chunk_h.max(1))),
            ChunkType::Tile => {
                let across = width.div_ceil(chunk_w.max(1));
                (across, across * height.div_ceil(chunk_h.max(1)))
            }
        };
        let chunk_w = if dec.get_chunk_type() == ChunkType::Strip {
            width
        } else {
            chunk_w
        };
        let raw = if photometric == 3 {
            if spp != 1 || !matches!(b0, 8 | 16) {
                return Err(Error::geotiff(
                    path,
                    format!("palette images with {spp} samples of {b0} bits are not supported"),
                ));
            }
            let (ot, ct) = match dec.get_chunk_type() {
                ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
                ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
            };
            Some(RawChunks {
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
                bytes_per_sample: usize::from(b0 / 8),
                big_endian: dec.byte_order() == tiff::tags::ByteOrder::BigEndian,
            })
        } else {
            None
        };
        Ok(GeoTiff {
            path: path.to_path_buf(),
            decoder: dec,
            width,
            height,
            band_type,
            bands,
            nodata,
            colortable,
            geotransform: gt,
            crs,
            planar,
            chunk_w,
            chunk_h: chunk_h.max(1),
            chunks_across,
            chunks_per_plane,
            cache: HashMap::new(),
            spare: None,
            raw,
        })
    }

    /// Decodes chunk row `cr` (all chunks across, all bands) into full-width rows.
    fn load_chunk_row(&mut self, cr: u32) -> Result<()> {
        if self.cache.contains_key(&cr) {
            return Ok(());
        }
        let nb = self.bands.len();
        let w = self.width as usize;
        let r0 = cr * self.chunk_h;
        let rows = (self.height.saturating_sub(r0)).min(self.chunk_h) as usize;
        let mut out = self.spare.take().unwrap_or_default();
        out.resize_with(nb, Vec::new);
        for band in &mut out {
            band.clear();
            band.resize(w * rows, 0.0);
        }
        let planes = if self.planar { nb } else { 1 };
        for plane in 0..planes {
            for cx in 0..self.chunks_across {
                let idx = plane as u32 * self.chunks_per_plane + cr * self.chunks_across + cx;
                let (dw, dh) = self.decoder.chunk_data_dimensions(idx);
                let (values, cw, ch) = if self.raw.is_some() {
                    // Raw chunks are padded to the full tile width.
                    let (w, h) = if self.chunks_across > 1 || self.chunk_w != self.width {
                        (self.chunk_w, self.chunk_h)
                    } else {
                        (dw, dh)
                    };
                    (
                        self.raw_chunk(idx, w as usize, h as usize)?,
                        w as usize,
                        dh as usize,
                    )
                } else {
                    let chunk = self
                        .decoder
                        .read_chunk(idx)
                        .map_err(|e| Error::tiff(&self.path, e))?;
                    (to_f64(chunk), dw as usize, dh as usize)
                };
                let spp = if self.planar { 1 } else { nb };
                let x0 = (cx * self.chunk_w) as usize;
                for r in 0..ch.min(rows) {
                    for c in 0..cw {
                        let col = x0 + c;
                        if col >= w {
                            break;
                        }
                        for s in 0..spp {
                            let band = if self.planar { plane } else { s };
                            if let Some(v) = values.get((r * cw + c) * spp + s) {
                                out[band][r * w + col] = *v;
                            }
                        }
                    }
                }
            }
        }
        let _ = self.cache.insert(cr, out);
        Ok(())
    }

    /// Decodes one single-sample chunk ourselves (no compression, deflate, LZW or
    /// PackBits; horizontal predictor), never producing more than `w × h` samples.
    fn raw_chunk(&mut self, idx: u32, w: usize, h: usize) -> Result<Vec<f64>> {
        use std::io::{Read, Seek, SeekFrom};
        let Some(raw) = &self.raw else {
            return Ok(Vec::new());
        };
        let i = idx as usize;
        let (Some(&off), Some(&len)) = (raw.offsets.get(i), raw.counts.get(i)) else {
            return Err(Error::geotiff(
                &self.path,
                format!("chunk {idx} has no offset/byte count"),
            ));
        };
        let bps = raw.bytes_per_sample;
        let expected = w * h * bps;
        let limit = u64::try_from(expected).unwrap_or(u64::MAX);
        let (compression, predictor, big_endian) = (raw.compression, raw.predictor, raw.big_endian);
        let path = self.path.clone();
        let r = self.decoder.inner();
        let _ = r
            .seek(SeekFrom::Start(off))
            .map_err(|e| Error::io(&path, e))?;
        let mut data = vec![
            0u8;
            usize::try_from(len)
                .unwrap_or(0)
                .min(expected.saturating_mul(4) + 1024)
        ];
        r.read_exact(&mut data).map_err(|e| Error::io(&path, e))?;
        let bad = |m: String| Error::geotiff(&path, format!("chunk {idx}: {m}"));
        let mut out = match compression {
            1 => data,
            8 | 32946 => {
                let mut o = Vec::with_capacity(expected);
                let _ = flate2::read::ZlibDecoder::new(&data[..])
                    .take(limit)
                    .read_to_end(&mut o)
                    .map_err(|e| bad(e.to_string()))?;
                o
            }
            5 => {
                let mut o = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                    .decode(&data)
                    .map_err(|e| bad(e.to_string()))?;
                o.truncate(expected);
                o
            }
            32773 => {
                let mut o = Vec::with_capacity(expected);
                let mut k = 0;
                while k < data.len() && o.len() < expected {
                    let n = data[k] as i8;
                    k += 1;
                    if n >= 0 {
                        let c = usize::from(n.unsigned_abs()) + 1;
                        o.extend_from_slice(data.get(k..k + c).unwrap_or(&[]));
                        k += c;
                    } else if n != -128 {
                        let c = usize::from(n.unsigned_abs()) + 1;
                        if let Some(b) = data.get(k) {
                            o.extend(std::iter::repeat_n(*b, c));
                        }
                        k += 1;
                    }
                }
                o.truncate(expected);
                o
            }
            other => {
                return Err(bad(format!(
                    "compression {other} is not supported for palette images"
                )));
            }
        };
        out.resize(expected, 0);
        let mut values: Vec<f64> = if bps == 1 {
            out.iter().map(|b| f64::from(*b)).collect()
        } else {
            out.chunks_exact(2)
                .map(|c| {
                    f64::from(if big_endian {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    })
                })
                .collect()
        };
        if predictor == 2 {
            let modulo = if bps == 1 { 256.0 } else { 65536.0 };
            for row in values.chunks_mut(w) {
                for k in 1..row.len() {
                    row[k] = (row[k] + row[k - 1]) % modulo;
                }
            }
        }
        Ok(values)
    }

    /// Rows `r0..r1` of every band (full width, row-major), decoding chunks as needed
    /// and forgetting chunk rows above `r0` (the caller moves downwards).
    ///
    /// The rows go into `out`'s buffers (cleared first), so that a caller recycling
    /// them touches no new memory.
    pub(crate) fn read_rows(&mut self, r0: u32, r1: u32, out: &mut Vec<Vec<f64>>) -> Result<()> {
        let r1 = r1.min(self.height);
        let nb = self.bands.len();
        let w = self.width as usize;
        let first = r0 / self.chunk_h;
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
        if r1 <= r0 {
            return Ok(());
        }
        let last = (r1 - 1) / self.chunk_h;
        for cr in first..=last {
            self.load_chunk_row(cr)?;
            let Some(rows) = self.cache.get(&cr) else {
                continue;
            };
            let c0 = cr * self.chunk_h;
            let from = r0.max(c0) - c0;
            let to = r1.min(c0 + self.chunk_h) - c0;
            for (b, band_rows) in rows.iter().enumerate() {
                let s = from as usize * w;
                let e = (to as usize * w).min(band_rows.len());
                if s < e
                    && let Some(o) = out.get_mut(b)
                {
                    o.extend_from_slice(&band_rows[s..e]);
                }
            }
        }
        Ok(())
    }
}

fn to_f64(d: DecodingResult) -> Vec<f64> {
    match d {
        DecodingResult::U8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(f64::from).collect(),
        #[allow(clippy::cast_precision_loss)]
        DecodingResult::U64(v) => v.into_iter().map(|x| x as f64).collect(),
        DecodingResult::I8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I32(v) => v.into_iter().map(f64::from).collect(),
        #[allow(clippy::cast_precision_loss)]
        DecodingResult::I64(v) => v.into_iter().map(|x| x as f64).collect(),
        DecodingResult::F16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::F32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::F64(v) => v,
    }
}

/// A PROJ string from user-defined projected GeoKeys.
fn user_defined_proj(
    short: &impl Fn(u16) -> Option<u16>,
    double: &impl Fn(u16) -> Option<f64>,
    geog: Option<u16>,
) -> std::result::Result<String, String> {
    let ct = short(3075).ok_or("user-defined projection without ProjCoordTransGeoKey")?;
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
    let datum = match geog {
        Some(4326) | None => " +datum=WGS84".to_string(),
        Some(4269) => " +ellps=GRS80 +towgs84=0,0,0".to_string(),
        Some(4258) => " +ellps=GRS80 +towgs84=0,0,0".to_string(),
        _ => match (double(2057), double(2059)) {
            (Some(a), Some(rf)) => format!(" +a={a} +rf={rf} +towgs84=0,0,0"),
            _ => " +datum=WGS84".to_string(),
        },
    };
    let units = match short(3076) {
        Some(9002) => " +units=ft",
        Some(9003) => " +units=us-ft",
        _ => " +units=m",
    };
    Ok(format!("{proj}{datum}{units} +no_defs"))
}
