//! GeoTIFF reading across layouts, codecs and crafted headers, with TIFFs written here
//! byte by byte (so that every layout, and every lie a header can tell, is ours to make).
//! The GDAL differential check of the same layouts is `cargo xtask interop` (raquet).

use std::path::Path;

use raquet::{ConvertOptions, Reader, ZoomStrategy, geotiff_to_raquet, validate};
use test_support::Rng;

/// A raster to write: samples little-endian, pixel-interleaved, row-major.
#[derive(Clone)]
struct Img {
    w: u32,
    h: u32,
    spp: u16,
    bits: u16,
    /// SampleFormat: 1 unsigned, 2 signed, 3 float.
    format: u16,
    photometric: u16,
    extra: Vec<u16>,
    data: Vec<u8>,
    /// GeoKeyDirectory, GeoDoubleParams, pixel size, upper-left corner.
    keys: Vec<u16>,
    doubles: Vec<f64>,
    scale: f64,
    origin: (f64, f64),
}

/// How to store it.
#[derive(Clone, Copy, Debug)]
struct Layout {
    tile: Option<(u32, u32)>,
    rows_per_strip: u32,
    planar: bool,
    compression: u16,
    predictor: u16,
    big_endian: bool,
    bigtiff: bool,
}

const PLAIN: Layout = Layout {
    tile: None,
    rows_per_strip: 1,
    planar: false,
    compression: 1,
    predictor: 1,
    big_endian: false,
    bigtiff: false,
};

/// One IFD entry: tag, type, count, value bytes (little-endian; swapped when written).
#[derive(Clone, Debug)]
struct Entry {
    tag: u16,
    ty: u16,
    count: u64,
    /// Values, each `size` bytes, little-endian.
    data: Vec<u8>,
}

fn type_size(ty: u16) -> usize {
    match ty {
        3 => 2,
        4 => 4,
        12 | 16 => 8,
        _ => 1,
    }
}

fn short(tag: u16, v: &[u16]) -> Entry {
    Entry {
        tag,
        ty: 3,
        count: v.len() as u64,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn long(tag: u16, v: &[u64], big: bool) -> Entry {
    if big {
        Entry {
            tag,
            ty: 16,
            count: v.len() as u64,
            data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    } else {
        Entry {
            tag,
            ty: 4,
            count: v.len() as u64,
            data: v
                .iter()
                .flat_map(|x| u32::try_from(*x).unwrap().to_le_bytes())
                .collect(),
        }
    }
}

fn double(tag: u16, v: &[f64]) -> Entry {
    Entry {
        tag,
        ty: 12,
        count: v.len() as u64,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        ty: 2,
        count: data.len() as u64,
        data,
    }
}

/// Encodes one chunk's rows (LE samples, `samples` a pixel) with the layout's predictor,
/// byte order and codec.
fn encode_chunk(mut raw: Vec<u8>, row: usize, samples: usize, bps: usize, l: &Layout) -> Vec<u8> {
    for line in raw.chunks_exact_mut(row) {
        match l.predictor {
            2 => {
                macro_rules! diff {
                    ($t:ty, $n:expr) => {{
                        let v: Vec<$t> = line
                            .chunks_exact($n)
                            .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()))
                            .collect();
                        for k in (samples..v.len()).rev() {
                            let d = v[k].wrapping_sub(v[k - samples]);
                            line[k * $n..(k + 1) * $n].copy_from_slice(&d.to_le_bytes());
                        }
                    }};
                }
                match bps {
                    1 => diff!(u8, 1),
                    2 => diff!(u16, 2),
                    4 => diff!(u32, 4),
                    _ => diff!(u64, 8),
                }
            }
            3 => {
                // Byte planes, most significant first, then byte differences.
                let wc = line.len() / bps;
                let src = line.to_vec();
                for k in 0..wc {
                    for b in 0..bps {
                        line[(bps - b - 1) * wc + k] = src[k * bps + b];
                    }
                }
                for k in (samples..line.len()).rev() {
                    line[k] = line[k].wrapping_sub(line[k - samples]);
                }
            }
            _ => {}
        }
        if l.big_endian && l.predictor != 3 && bps > 1 {
            for s in line.chunks_exact_mut(bps) {
                s.reverse();
            }
        }
    }
    match l.compression {
        1 => raw,
        5 => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(&raw)
            .unwrap(),
        8 => {
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&raw).unwrap();
            e.finish().unwrap()
        }
        32773 => raw
            .chunks(128)
            .flat_map(|c| {
                let mut v = vec![u8::try_from(c.len() - 1).unwrap()];
                v.extend_from_slice(c);
                v
            })
            .collect(),
        50000 => zstd::encode_all(&raw[..], 3).unwrap(),
        50001 => {
            let mut out = Vec::new();
            let w = u32::try_from(row / samples).unwrap();
            let h = u32::try_from(raw.len() / row).unwrap();
            let color = if samples == 4 {
                image_webp::ColorType::Rgba8
            } else {
                image_webp::ColorType::Rgb8
            };
            image_webp::WebPEncoder::new(&mut out)
                .encode(&raw, w, h, color)
                .unwrap();
            out
        }
        c => panic!("no encoder for {c}"),
    }
}

/// The chunks (strips or tiles, planes) of `img` in layout `l`, encoded.
fn chunks(img: &Img, l: &Layout) -> Vec<Vec<u8>> {
    let bps = usize::from(img.bits / 8);
    let spp = usize::from(img.spp);
    let (cw, ch) = l.tile.unwrap_or((img.w, l.rows_per_strip.min(img.h)));
    let across = img.w.div_ceil(cw);
    let down = img.h.div_ceil(ch);
    let planes = if l.planar { spp } else { 1 };
    let samples = if l.planar { 1 } else { spp };
    let mut out = Vec::new();
    for p in 0..planes {
        for ty in 0..down {
            for tx in 0..across {
                let rows = if l.tile.is_some() {
                    ch
                } else {
                    ch.min(img.h - ty * ch)
                };
                let row = cw as usize * samples * bps;
                let mut raw = vec![0u8; row * rows as usize];
                for r in 0..rows {
                    for c in 0..cw {
                        let (x, y) = (tx * cw + c, ty * ch + r);
                        if x >= img.w || y >= img.h {
                            continue;
                        }
                        for s in 0..samples {
                            let band = if l.planar { p } else { s };
                            let src =
                                ((y as usize * img.w as usize + x as usize) * spp + band) * bps;
                            let dst = r as usize * row + (c as usize * samples + s) * bps;
                            raw[dst..dst + bps].copy_from_slice(&img.data[src..src + bps]);
                        }
                    }
                }
                out.push(encode_chunk(raw, row, samples, bps, l));
            }
        }
    }
    out
}

/// The IFD entries describing `img` in layout `l`, given where its chunks are.
fn entries(img: &Img, l: &Layout, offsets: &[u64], counts: &[u64]) -> Vec<Entry> {
    let spp = usize::from(img.spp);
    let big = l.bigtiff;
    let mut e = vec![
        long(256, &[u64::from(img.w)], false),
        long(257, &[u64::from(img.h)], false),
        short(258, &vec![img.bits; spp]),
        short(259, &[l.compression]),
        short(262, &[img.photometric]),
        short(277, &[img.spp]),
        short(284, &[if l.planar { 2 } else { 1 }]),
        short(339, &vec![img.format; spp]),
        double(33550, &[img.scale, img.scale, 0.0]),
        double(33922, &[0.0, 0.0, 0.0, img.origin.0, img.origin.1, 0.0]),
        short(34735, &img.keys),
    ];
    if !img.doubles.is_empty() {
        e.push(double(34736, &img.doubles));
    }
    if l.predictor != 1 {
        e.push(short(317, &[l.predictor]));
    }
    if !img.extra.is_empty() {
        e.push(short(338, &img.extra));
    }
    match l.tile {
        Some((tw, th)) => {
            e.push(long(322, &[u64::from(tw)], false));
            e.push(long(323, &[u64::from(th)], false));
            e.push(long(324, offsets, big));
            e.push(long(325, counts, big));
        }
        None => {
            e.push(long(273, offsets, big));
            e.push(long(278, &[u64::from(l.rows_per_strip)], false));
            e.push(long(279, counts, big));
        }
    }
    e
}

/// Serialises a TIFF: header, the chunks, the IFD, then its out-of-line values.
fn serialise(chunks: &[Vec<u8>], entries: &mut [Entry], l: &Layout) -> Vec<u8> {
    entries.sort_by_key(|e| e.tag);
    let be = l.big_endian;
    let mut f: Vec<u8> = if be { b"MM".to_vec() } else { b"II".to_vec() };
    let put16 = |f: &mut Vec<u8>, v: u16| {
        f.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
    };
    let put32 = |f: &mut Vec<u8>, v: u32| {
        f.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
    };
    let put64 = |f: &mut Vec<u8>, v: u64| {
        f.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() })
    };
    let value_bytes = |e: &Entry| -> Vec<u8> {
        let size = type_size(e.ty);
        let mut d = e.data.clone();
        if be && size > 1 {
            for c in d.chunks_exact_mut(size) {
                c.reverse();
            }
        }
        d
    };
    let header = if l.bigtiff { 16 } else { 8 };
    let data_len: usize = chunks.iter().map(Vec::len).sum();
    let mut ifd = (header + data_len) as u64;
    ifd += ifd % 2;
    if l.bigtiff {
        put16(&mut f, 43);
        put16(&mut f, 8);
        put16(&mut f, 0);
        put64(&mut f, ifd);
    } else {
        put16(&mut f, 42);
        put32(&mut f, u32::try_from(ifd).unwrap());
    }
    for c in chunks {
        f.extend_from_slice(c);
    }
    f.resize(usize::try_from(ifd).unwrap(), 0);
    let (count_len, entry_len, inline) = if l.bigtiff { (8, 20, 8) } else { (2, 12, 4) };
    let mut extra_at = ifd + count_len + entry_len * entries.len() as u64 + inline;
    let mut extra = Vec::new();
    if l.bigtiff {
        put64(&mut f, entries.len() as u64);
    } else {
        put16(&mut f, u16::try_from(entries.len()).unwrap());
    }
    for e in entries.iter() {
        put16(&mut f, e.tag);
        put16(&mut f, e.ty);
        if l.bigtiff {
            put64(&mut f, e.count);
        } else {
            put32(&mut f, u32::try_from(e.count).unwrap_or(u32::MAX));
        }
        let v = value_bytes(e);
        if v.len() <= inline as usize {
            let mut b = v.clone();
            b.resize(inline as usize, 0);
            f.extend_from_slice(&b);
        } else {
            if l.bigtiff {
                put64(&mut f, extra_at);
            } else {
                put32(&mut f, u32::try_from(extra_at).unwrap());
            }
            extra.extend_from_slice(&v);
            extra_at += v.len() as u64;
            if extra_at % 2 == 1 {
                extra.push(0);
                extra_at += 1;
            }
        }
    }
    if l.bigtiff {
        put64(&mut f, 0);
    } else {
        put32(&mut f, 0);
    }
    f.extend_from_slice(&extra);
    f
}

/// The TIFF bytes of `img` in layout `l`, with `edit` applied to its entries.
fn tiff_bytes(img: &Img, l: &Layout, edit: impl Fn(&mut Vec<Entry>)) -> Vec<u8> {
    let ch = chunks(img, l);
    let header = if l.bigtiff { 16 } else { 8 };
    let mut offsets = Vec::new();
    let mut at = header as u64;
    for c in &ch {
        offsets.push(at);
        at += c.len() as u64;
    }
    let counts: Vec<u64> = ch.iter().map(|c| c.len() as u64).collect();
    let mut e = entries(img, l, &offsets, &counts);
    edit(&mut e);
    serialise(&ch, &mut e, l)
}

const WGS84_KEYS: [u16; 16] = [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326];

/// A seeded raster in EPSG:4326 (0.001° pixels), `spp` samples of `bits`/`format`.
fn raster(w: u32, h: u32, spp: u16, bits: u16, format: u16, seed: u64) -> Img {
    let mut rng = Rng::new(seed);
    let n = (w * h) as usize * usize::from(spp);
    let mut data = Vec::with_capacity(n * usize::from(bits / 8));
    for i in 0..n {
        let v = (i % 97) as f64 * 3.0 + (rng.next_u64() % 50) as f64;
        match (format, bits) {
            (1, 8) => data.push((v as u64 % 256) as u8),
            (1, 16) => data.extend_from_slice(&((v * 150.0) as u16).to_le_bytes()),
            (2, 16) => data.extend_from_slice(&((v * 70.0 - 10000.0) as i16).to_le_bytes()),
            (1, 32) => data.extend_from_slice(&((v * 1.0e6) as u32).to_le_bytes()),
            (3, 32) => data.extend_from_slice(&((v * 0.37 - 20.0) as f32).to_le_bytes()),
            (3, 64) => data.extend_from_slice(&(v * 1.0e-3 - 0.1).to_le_bytes()),
            _ => panic!("no generator for {format}/{bits}"),
        }
    }
    Img {
        w,
        h,
        spp,
        bits,
        format,
        photometric: 1,
        extra: if spp > 1 {
            vec![0; usize::from(spp) - 1]
        } else {
            vec![]
        },
        data,
        keys: WGS84_KEYS.to_vec(),
        doubles: Vec::new(),
        scale: 0.001,
        origin: (10.0, 45.0),
    }
}

/// The source sample of `img` at pixel (`c`, `r`), band `b`.
fn sample(img: &Img, c: u32, r: u32, b: usize) -> f64 {
    let bps = usize::from(img.bits / 8);
    let i = ((r as usize * img.w as usize + c as usize) * usize::from(img.spp) + b) * bps;
    let d = &img.data[i..i + bps];
    match (img.format, img.bits) {
        (1, 8) => f64::from(d[0]),
        (1, 16) => f64::from(u16::from_le_bytes(d.try_into().unwrap())),
        (2, 16) => f64::from(i16::from_le_bytes(d.try_into().unwrap())),
        (1, 32) => f64::from(u32::from_le_bytes(d.try_into().unwrap())),
        (3, 32) => f64::from(f32::from_le_bytes(d.try_into().unwrap())),
        (3, 64) => f64::from_le_bytes(d.try_into().unwrap()),
        _ => unreachable!(),
    }
}

fn opts() -> ConvertOptions {
    let mut o = ConvertOptions::default();
    o.zoom_strategy = ZoomStrategy::Upper;
    o.overviews = false;
    o
}

fn convert(dir: &Path, name: &str, bytes: &[u8]) -> raquet::Result<Reader> {
    let src = dir.join(format!("{name}.tif"));
    let out = dir.join(format!("{name}.parquet"));
    std::fs::write(&src, bytes).unwrap();
    geotiff_to_raquet(&src, &out, &opts())?;
    let report = validate(&out).unwrap();
    assert!(report.is_valid(), "{name}: {:?}", report.report.findings);
    Reader::open(&out)
}

/// Every pixel centre of `img` reads back, through RaQuet, as the source sample.
fn assert_pixels(img: &Img, r: &Reader, what: &str) {
    for row in 0..img.h {
        for col in 0..img.w {
            let lon = img.origin.0 + (f64::from(col) + 0.5) * img.scale;
            let lat = img.origin.1 - (f64::from(row) + 0.5) * img.scale;
            let got = r.value_at(lon, lat).unwrap().unwrap();
            // Source bands first (a fill mask band may follow).
            assert!(got.len() >= usize::from(img.spp), "{what}: {got:?}");
            for (b, v) in got.iter().take(usize::from(img.spp)).enumerate() {
                let want = sample(img, col, row, b);
                assert_eq!(
                    *v,
                    Some(want),
                    "{what}: pixel ({col}, {row}) band {b}: {v:?}, the source has {want}"
                );
            }
        }
    }
}

/// Native tiles of two conversions are equal, band for band.
fn assert_same(a: &Reader, b: &Reader, what: &str) {
    assert_eq!(a.blocks(), b.blocks(), "{what}: blocks");
    for block in b.blocks() {
        // Debug text compares NaN fill as equal.
        let x = format!("{:?}", a.read_block(*block).unwrap().map(|t| t.bands));
        let y = format!("{:?}", b.read_block(*block).unwrap().map(|t| t.bands));
        assert!(x == y, "{what}: block {block} differs");
    }
}

fn layouts(img: &Img) -> Vec<(String, Layout)> {
    let float = img.format == 3;
    let pred = if float { 3 } else { 2 };
    let mut v = vec![
        (
            "strips of 5 rows",
            Layout {
                rows_per_strip: 5,
                ..PLAIN
            },
        ),
        (
            "one strip",
            Layout {
                rows_per_strip: img.h,
                ..PLAIN
            },
        ),
        (
            "rows per strip 2^32-1",
            Layout {
                rows_per_strip: u32::MAX,
                ..PLAIN
            },
        ),
        (
            "odd tiles 10x7",
            Layout {
                tile: Some((10, 7)),
                ..PLAIN
            },
        ),
        (
            "1000-row strips, PackBits",
            Layout {
                rows_per_strip: 1000,
                compression: 32773,
                ..PLAIN
            },
        ),
        (
            "tiles 16x16",
            Layout {
                tile: Some((16, 16)),
                ..PLAIN
            },
        ),
        (
            "tiles 48x32 deflate",
            Layout {
                tile: Some((48, 32)),
                compression: 8,
                ..PLAIN
            },
        ),
        (
            "LZW",
            Layout {
                rows_per_strip: 4,
                compression: 5,
                ..PLAIN
            },
        ),
        (
            "deflate + predictor",
            Layout {
                rows_per_strip: 3,
                compression: 8,
                predictor: pred,
                ..PLAIN
            },
        ),
        (
            "ZSTD",
            Layout {
                rows_per_strip: 7,
                compression: 50000,
                ..PLAIN
            },
        ),
        (
            "ZSTD + predictor, tiled",
            Layout {
                tile: Some((16, 32)),
                compression: 50000,
                predictor: pred,
                ..PLAIN
            },
        ),
        (
            "PackBits",
            Layout {
                rows_per_strip: 2,
                compression: 32773,
                ..PLAIN
            },
        ),
        (
            "LZW + predictor, big-endian",
            Layout {
                rows_per_strip: 6,
                compression: 5,
                predictor: pred,
                big_endian: true,
                ..PLAIN
            },
        ),
        (
            "big-endian tiles",
            Layout {
                tile: Some((32, 16)),
                big_endian: true,
                ..PLAIN
            },
        ),
        (
            "BigTIFF tiles deflate",
            Layout {
                tile: Some((16, 16)),
                compression: 8,
                bigtiff: true,
                ..PLAIN
            },
        ),
    ];
    if img.spp > 1 {
        v.push((
            "band-interleaved strips",
            Layout {
                rows_per_strip: 4,
                planar: true,
                ..PLAIN
            },
        ));
        v.push((
            "band-interleaved tiles ZSTD + predictor",
            Layout {
                tile: Some((16, 16)),
                planar: true,
                compression: 50000,
                predictor: pred,
                ..PLAIN
            },
        ));
    }
    if img.bits == 8 && matches!(img.spp, 3 | 4) {
        v.push((
            "WebP tiles",
            Layout {
                tile: Some((32, 32)),
                compression: 50001,
                ..PLAIN
            },
        ));
    }
    v.into_iter().map(|(n, l)| (n.to_string(), l)).collect()
}

/// Every layout of every sample type decodes to the source pixels: the plain layout is
/// checked pixel by pixel, each other layout against it tile by tile.
#[test]
fn every_layout_decodes_to_the_source_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let mut rgbx = raster(37, 23, 4, 8, 1, 1);
    // NAIP's shape: RGB photometric with an unspecified fourth sample.
    rgbx.photometric = 2;
    rgbx.extra = vec![0];
    let mut rgb = raster(41, 19, 3, 8, 1, 2);
    rgb.photometric = 2;
    rgb.extra = vec![];
    let images = [
        ("rgb+x uint8", rgbx),
        ("rgb uint8", rgb),
        ("uint16", raster(35, 29, 1, 16, 1, 3)),
        ("int16 x2", raster(33, 21, 2, 16, 2, 4)),
        ("uint32", raster(20, 17, 1, 32, 1, 5)),
        ("float32", raster(39, 22, 1, 32, 3, 6)),
        ("float64 x2", raster(18, 27, 2, 64, 3, 7)),
    ];
    let mut checked = 0;
    for (k, (name, img)) in images.iter().enumerate() {
        let base = convert(
            dir.path(),
            &format!("{k}-plain"),
            &tiff_bytes(img, &PLAIN, |_| {}),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_pixels(img, &base, name);
        // Every layout for the first two images, the codec/predictor/order ones for the rest.
        let all = layouts(img);
        let some = all.iter().filter(|(n, _)| {
            k < 2 || n.contains("predictor") || n.contains("BigTIFF") || n.contains("48x32")
        });
        for (j, (lname, l)) in some.enumerate() {
            let what = format!("{name}, {lname}");
            let r = convert(dir.path(), &format!("{k}-{j}"), &tiff_bytes(img, l, |_| {}))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_same(&r, &base, &what);
            checked += 1;
        }
    }
    assert!(checked > 55, "{checked} layouts");
}

/// A sparse file's absent chunks (offset and byte count 0) read as nodata.
#[test]
fn absent_chunks_read_as_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let img = raster(32, 32, 1, 16, 1, 9);
    let l = Layout {
        tile: Some((16, 16)),
        ..PLAIN
    };
    let bytes = tiff_bytes(&img, &l, |e| {
        e.push(ascii(42113, "7"));
        for t in e.iter_mut().filter(|t| t.tag == 324 || t.tag == 325) {
            t.data[4..8].copy_from_slice(&0u32.to_le_bytes());
        }
    });
    let r = convert(dir.path(), "sparse", &bytes).unwrap();
    // Tile 1 (top right) is absent: its pixels are nodata, the others are the source.
    let at = |c: u32, row: u32| {
        r.value_at(
            10.0 + (f64::from(c) + 0.5) * 0.001,
            45.0 - (f64::from(row) + 0.5) * 0.001,
        )
        .unwrap()
        .unwrap()[0]
    };
    assert_eq!(at(20, 3), None);
    assert_eq!(at(3, 3), Some(sample(&img, 3, 3, 0)));
    assert_eq!(at(20, 20), Some(sample(&img, 20, 20, 0)));
}

fn set(e: &mut [Entry], tag: u16, value: u32) {
    let t = e.iter_mut().find(|t| t.tag == tag).unwrap();
    t.ty = 4;
    t.count = 1;
    t.data = value.to_le_bytes().to_vec();
}

/// Crafted headers are refused with a message, before anything is allocated from them.
#[test]
fn crafted_headers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = raster(40, 30, 1, 8, 1, 11);
    let err = |name: &str, bytes: Vec<u8>| -> String {
        let e = match convert(dir.path(), name, &bytes) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&format!("{name}.tif")), "{name}: {e}");
        assert!(!e.contains('\n'), "{name}: one line: {e}");
        e
    };
    // Width corrupted to 2^31-1: the strips cannot hold it.
    let e = err(
        "width",
        tiff_bytes(
            &img,
            &Layout {
                rows_per_strip: 30,
                ..PLAIN
            },
            |e| set(e, 256, (1 << 31) - 1),
        ),
    );
    assert!(e.contains("can hold at most"), "{e}");
    // 40000 x 40000 in one strip of a few hundred bytes, plain and deflate.
    for (name, c) in [("huge_plain", 1), ("huge_deflate", 8)] {
        let l = Layout {
            rows_per_strip: 30,
            compression: c,
            ..PLAIN
        };
        let e = err(
            name,
            tiff_bytes(&img, &l, |e| {
                set(e, 256, 40000);
                set(e, 257, 40000);
                set(e, 278, 40000);
            }),
        );
        assert!(e.contains("can hold at most"), "{name}: {e}");
    }
    // SamplesPerPixel 65535.
    let e = err(
        "spp",
        tiff_bytes(&img, &PLAIN, |e| {
            let t = e.iter_mut().find(|t| t.tag == 277).unwrap();
            t.data = 65535u16.to_le_bytes().to_vec();
            let n = 65535usize;
            for tag in [258u16, 339] {
                let t = e.iter_mut().find(|t| t.tag == tag).unwrap();
                t.count = n as u64;
                t.data = t.data[..2].repeat(n);
            }
            e.push(short(338, &vec![0; n - 1]));
        }),
    );
    assert!(e.contains("65535"), "{e}");
    // A strip past the end of the file.
    let e = err(
        "past_end",
        tiff_bytes(
            &img,
            &Layout {
                rows_per_strip: 10,
                ..PLAIN
            },
            |e| {
                let t = e.iter_mut().find(|t| t.tag == 273).unwrap();
                t.data[4..8].copy_from_slice(&(1u32 << 30).to_le_bytes());
            },
        ),
    );
    assert!(e.contains("past the end"), "{e}");
    // A huge strip count whose offsets are not in the file.
    let e = err(
        "strip_count",
        tiff_bytes(&img, &PLAIN, |e| {
            let t = e.iter_mut().find(|t| t.tag == 273).unwrap();
            t.count = 400_000_000;
        }),
    );
    assert!(e.contains("past the end"), "{e}");
    // An ASCII value of 2^31 bytes (the tiff crate would print a debug line for it).
    let e = err(
        "ascii",
        tiff_bytes(&img, &PLAIN, |e| {
            let mut t = ascii(42112, "x");
            t.count = 1 << 31;
            e.push(t);
        }),
    );
    assert!(e.contains("42112"), "{e}");
    // An unsupported codec is named in one line.
    let e = err(
        "lerc",
        tiff_bytes(&img, &PLAIN, |e| set_short(e, 259, 34887)),
    );
    assert!(e.contains("LERC"), "{e}");
    let e = err(
        "jpeg16",
        tiff_bytes(&raster(8, 8, 1, 16, 1, 1), &PLAIN, |e| set_short(e, 259, 7)),
    );
    assert!(e.contains("JPEG"), "{e}");
}

fn set_short(e: &mut [Entry], tag: u16, value: u16) {
    let t = e.iter_mut().find(|t| t.tag == tag).unwrap();
    t.data = value.to_le_bytes().to_vec();
}

/// A UTM zone given as a ProjectionGeoKey code on a user-defined geographic CRS (as GDAL
/// writes it) converts like the same zone given as an EPSG projected CRS.
#[test]
fn projection_geokey_on_a_user_defined_geographic_crs() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = raster(30, 20, 1, 16, 1, 12);
    img.scale = 30.0;
    img.origin = (500_000.0, 5_000_000.0);
    img.keys = vec![1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633];
    let epsg = convert(dir.path(), "epsg", &tiff_bytes(&img, &PLAIN, |_| {})).unwrap();
    img.keys = vec![
        1, 1, 0, 10, 1024, 0, 1, 1, 1025, 0, 1, 1, 2048, 0, 1, 32767, 2050, 0, 1, 32767, 2056, 0,
        1, 32767, 2057, 34736, 1, 0, 2059, 34736, 1, 1, 3072, 0, 1, 32767, 3074, 0, 1, 16033, 3076,
        0, 1, 9001,
    ];
    img.doubles = vec![6_378_137.0, 298.257_223_563];
    let user = convert(dir.path(), "user", &tiff_bytes(&img, &PLAIN, |_| {}))
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (&epsg.metadata().bounds, &user.metadata().bounds);
    for k in 0..4 {
        assert!((a[k] - b[k]).abs() < 1e-7, "bounds {a:?} vs {b:?}");
    }
    assert_same(&user, &epsg, "ProjectionGeoKey 16033");
    // A conversion code we cannot resolve says what is known.
    let k = img.keys.len() - 5;
    img.keys[k] = 10101;
    let e = convert(dir.path(), "spcs", &tiff_bytes(&img, &PLAIN, |_| {})).unwrap_err();
    assert!(e.to_string().contains("ProjectionGeoKey 10101"), "{e}");
}

/// The NAIP tile of issue 14 (RGB + an unspecified fourth sample, 6-row strips): every
/// band of the source pixel comes back (before, the fourth sample was dropped and the
/// bands were read shifted).
#[test]
fn naip_rgb_plus_extra_sample() {
    let Some(corpus) = test_support::corpus("raquet/third-party") else {
        return;
    };
    let src = corpus.join("naip_m_3607824_se_17_1_20160620_sub.tif");
    let bytes = std::fs::read(&src).unwrap();
    // The file is uncompressed, pixel-interleaved, 300x300x4, strips in order from byte 980.
    let (w, first) = (300usize, 980usize);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("naip.parquet");
    geotiff_to_raquet(&src, &out, &opts()).unwrap();
    let r = Reader::open(&out).unwrap();
    let utm = proj4rs::proj::Proj::from_epsg_code(26917).unwrap();
    let wgs = proj4rs::proj::Proj::from_proj_string("+proj=longlat +datum=WGS84").unwrap();
    let mut rng = Rng::new(14);
    for _ in 0..40 {
        let (c, row) = (
            (rng.next_u64() % 300) as usize,
            (rng.next_u64() % 300) as usize,
        );
        let mut p = (
            768_269.0 + c as f64 + 0.5,
            4_057_292.0 - row as f64 - 0.5,
            0.0,
        );
        proj4rs::transform::transform(&utm, &wgs, &mut p).unwrap();
        let got = r
            .value_at(p.0.to_degrees(), p.1.to_degrees())
            .unwrap()
            .unwrap();
        let i = first + (row * w + c) * 4;
        let want: Vec<Option<f64>> = bytes[i..i + 4]
            .iter()
            .map(|b| Some(f64::from(*b)))
            .collect();
        assert_eq!(got[..4], want[..], "pixel ({c}, {row})");
    }
}
