//! Issue 14, GeoTIFF → RaQuet semantics and validation: rasters across the
//! antimeridian, rasters on other bodies, all-nodata rasters, fill outside the source
//! footprint, hostile metadata and blobs, and "every file we write validates" over the
//! whole corpus. Every input is generated here (or read from the shared corpus).

use std::path::Path;
use std::sync::Arc;

use raquet::{
    BandLayout, Compression, ConvertOptions, Reader, Resampling, Severity, geotiff_to_raquet,
    validate,
};

/// A georeferenced test raster: size, pixel scale, tie point, GeoKeys.
struct Tiff<'a> {
    width: u32,
    height: u32,
    /// Pixel size in CRS units (x, y).
    scale: (f64, f64),
    /// CRS coordinates of the top-left corner.
    origin: (f64, f64),
    /// GeoKey entries (id, location, count, value) after the header.
    keys: &'a [[u16; 4]],
    doubles: &'a [f64],
    ascii: &'a str,
    nodata: Option<&'a str>,
}

impl Tiff<'_> {
    /// A UTM north zone (EPSG:326zz) raster.
    fn utm(zone: u16, width: u32, height: u32, scale: f64, origin: (f64, f64)) -> Tiff<'static> {
        let keys: &'static [[u16; 4]] = Box::leak(Box::new([
            [1024, 0, 1, 1],
            [1025, 0, 1, 1],
            [3072, 0, 1, 32600 + zone],
        ]));
        Tiff {
            width,
            height,
            scale: (scale, scale),
            origin,
            keys,
            doubles: &[],
            ascii: "",
            nodata: None,
        }
    }

    fn directory(&self) -> Vec<u16> {
        let mut dir = vec![1, 1, 0, self.keys.len() as u16];
        for k in self.keys {
            dir.extend_from_slice(k);
        }
        dir
    }

    /// Writes `values` (row-major, one band) as uint16.
    fn write_u16(&self, path: &Path, values: &[u16]) {
        use tiff::encoder::{TiffEncoder, colortype::Gray16};
        let file = std::fs::File::create(path).unwrap();
        let mut enc = TiffEncoder::new(file).unwrap();
        let mut img = enc.new_image::<Gray16>(self.width, self.height).unwrap();
        self.tags(img.encoder());
        img.write_data(values).unwrap();
    }

    /// Writes `values` (row-major, pixel-interleaved RGB) as uint8.
    fn write_rgb8(&self, path: &Path, values: &[u8]) {
        use tiff::encoder::{TiffEncoder, colortype::RGB8};
        let file = std::fs::File::create(path).unwrap();
        let mut enc = TiffEncoder::new(file).unwrap();
        let mut img = enc.new_image::<RGB8>(self.width, self.height).unwrap();
        self.tags(img.encoder());
        img.write_data(values).unwrap();
    }

    /// Writes `values` (row-major, one band) as float32.
    fn write_f32(&self, path: &Path, values: &[f32]) {
        use tiff::encoder::{TiffEncoder, colortype::Gray32Float};
        let file = std::fs::File::create(path).unwrap();
        let mut enc = TiffEncoder::new(file).unwrap();
        let mut img = enc
            .new_image::<Gray32Float>(self.width, self.height)
            .unwrap();
        self.tags(img.encoder());
        img.write_data(values).unwrap();
    }

    fn tags<W: std::io::Write + std::io::Seek, K: tiff::encoder::TiffKind>(
        &self,
        d: &mut tiff::encoder::DirectoryEncoder<'_, W, K>,
    ) {
        use tiff::tags::Tag;
        d.write_tag(
            Tag::ModelPixelScaleTag,
            &[self.scale.0, self.scale.1, 0.0][..],
        )
        .unwrap();
        d.write_tag(
            Tag::ModelTiepointTag,
            &[0.0, 0.0, 0.0, self.origin.0, self.origin.1, 0.0][..],
        )
        .unwrap();
        d.write_tag(Tag::GeoKeyDirectoryTag, &self.directory()[..])
            .unwrap();
        if !self.doubles.is_empty() {
            d.write_tag(Tag::GeoDoubleParamsTag, self.doubles).unwrap();
        }
        if !self.ascii.is_empty() {
            d.write_tag(Tag::GeoAsciiParamsTag, self.ascii).unwrap();
        }
        if let Some(n) = self.nodata {
            d.write_tag(Tag::GdalNodata, n).unwrap();
        }
    }
}

/// Converts and asserts that our own validator accepts what we wrote.
fn convert_valid(src: &Path, out: &Path, opts: &ConvertOptions) -> Reader {
    geotiff_to_raquet(src, out, opts).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let report = validate(out).unwrap();
    assert!(
        report.is_valid(),
        "{}: {:?}",
        src.display(),
        report.report.findings
    );
    Reader::open(out).unwrap()
}

/// Source pixel (row, col) → lon/lat of its centre, for a UTM north zone raster.
fn utm_lonlat(zone: u16, t: &Tiff<'_>, row: u32, col: u32) -> (f64, f64) {
    let utm = proj4rs::proj::Proj::from_epsg_code(32600 + zone).unwrap();
    let wgs = proj4rs::proj::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").unwrap();
    let mut p = (
        t.origin.0 + (f64::from(col) + 0.5) * t.scale.0,
        t.origin.1 - (f64::from(row) + 0.5) * t.scale.1,
        0.0,
    );
    proj4rs::transform::transform(&utm, &wgs, &mut p).unwrap();
    (p.0.to_degrees(), p.1.to_degrees())
}

fn pattern(w: u32, h: u32) -> Vec<u16> {
    (0..h)
        .flat_map(|r| (0..w).map(move |c| ((r * 7 + c * 3) % 60000 + 1) as u16))
        .collect()
}

// ---------------------------------------------------------------------------------
// Class 3: a footprint across the antimeridian.

#[test]
fn antimeridian_rasters_keep_their_pixel_size_and_both_sides() {
    let tmp = tempfile::tempdir().unwrap();
    // 100 m pixels, 120 km x 60 km around 50° N; 180° E is about 214 km east of the
    // central meridian of zone 60 (177° E) and west of that of zone 1 (177° W).
    for (zone, east0) in [(60u16, 640_000.0), (1, 226_000.0)] {
        let t = Tiff {
            nodata: Some("0"),
            ..Tiff::utm(zone, 1200, 600, 100.0, (east0, 5_570_000.0))
        };
        let tif = tmp.path().join(format!("utm{zone}.tif"));
        let values = pattern(t.width, t.height);
        t.write_u16(&tif, &values);
        let (w_lon, _) = utm_lonlat(zone, &t, 300, 0);
        let (e_lon, _) = utm_lonlat(zone, &t, 300, t.width - 1);
        assert!(
            w_lon > 0.0 && e_lon < 0.0,
            "zone {zone}: the raster must cross 180°: {w_lon} .. {e_lon}"
        );
        let out = tmp.path().join(format!("utm{zone}.parquet"));
        let r = convert_valid(&tif, &out, &ConvertOptions::default());
        let m = r.metadata();
        // 100 m at 50° N is 155 m of Web Mercator: zoom 10 (153 m), not a world view.
        assert_eq!(m.tiling.max_zoom, 10, "zone {zone}");
        // Bounds across the antimeridian: west > east, a few degrees each side.
        let [w, s, e, n] = m.bounds;
        assert!(
            w > 170.0 && e < -170.0 && s < 50.0 && n > 50.0,
            "{:?}",
            m.bounds
        );
        // Tiles on both sides of 180° and none in between: the native tiles hug the
        // first and the last columns of the world.
        let world = 1u32 << 10;
        let xs: Vec<u32> = r
            .blocks()
            .iter()
            .filter_map(|b| raquet::cell::tile_from_cell(*b))
            .filter(|t| t.0 == 10)
            .map(|t| t.1)
            .collect();
        assert!(xs.iter().any(|x| *x < 10) && xs.iter().any(|x| *x > world - 10));
        assert!(
            xs.iter().all(|x| *x < 10 || *x > world - 10),
            "zone {zone}: {xs:?}"
        );
        assert!(m.width <= 12 * 256, "zone {zone}: {} px wide", m.width);
        // Values at source pixels on both sides land where they belong (nearest
        // resampling of a 155 m grid onto a 153 m one: within one source pixel).
        for (row, col) in [(100, 50), (300, 600), (500, 1150), (20, 1190)] {
            let (lon, lat) = utm_lonlat(zone, &t, row, col);
            let got = r.value_at(lon, lat).unwrap().unwrap()[0].unwrap();
            let near: Vec<f64> = (row - 1..=row + 1)
                .flat_map(|rr| (col - 1..=col + 1).map(move |cc| (rr, cc)))
                .filter(|(_, cc)| *cc < t.width)
                .map(|(rr, cc)| f64::from(values[(rr * t.width + cc) as usize]))
                .collect();
            assert!(
                near.contains(&got),
                "zone {zone} pixel ({row}, {col}) at ({lon}, {lat}): {got} not in {near:?}"
            );
        }
        // Overviews are one piece too.
        for z in m.tiling.min_zoom..m.tiling.max_zoom {
            let zx: Vec<u32> = r
                .blocks()
                .iter()
                .filter_map(|b| raquet::cell::tile_from_cell(*b))
                .filter(|t| t.0 == z)
                .map(|t| t.1)
                .collect();
            let last = (1u32 << z) - 1;
            assert!(
                zx.iter().all(|x| *x <= 4 || *x + 4 >= last),
                "zoom {z}: {zx:?}"
            );
        }
        // Back to GeoTIFF: one piece across 180°, not the width of the world.
        let back = tmp.path().join(format!("utm{zone}_back.tif"));
        let s = raquet::raquet_to_geotiff(&out, &back).unwrap();
        assert!(s.width <= 12 * 256, "zone {zone}: {} px", s.width);
    }
}

#[test]
fn lonlat_grids_past_180_degrees() {
    let tmp = tempfile::tempdir().unwrap();
    let keys: &[[u16; 4]] = &[[1024, 0, 1, 2], [1025, 0, 1, 1], [2048, 0, 1, 4326]];
    // A whole-world 0..360° grid of 0.5° pixels, and a 170..190° strip of 0.05° ones,
    // with sample points (source longitude, latitude) on both sides of 180°.
    let cases: [(f64, u32, f64, [(f64, f64); 3]); 2] = [
        (
            0.0,
            720,
            0.5,
            [(175.25, 10.25), (185.25, -20.25), (359.75, 0.25)],
        ),
        (
            170.0,
            400,
            0.05,
            [(175.025, 55.025), (185.025, 50.025), (189.975, 59.975)],
        ),
    ];
    for (origin, width, scale, points) in cases {
        let t = Tiff {
            width,
            height: 240,
            scale: (scale, scale),
            origin: (origin, 60.0),
            keys,
            doubles: &[],
            ascii: "",
            nodata: Some("0"),
        };
        let tif = tmp.path().join(format!("g{width}.tif"));
        let values = pattern(t.width, t.height);
        t.write_u16(&tif, &values);
        let out = tmp.path().join(format!("g{width}.parquet"));
        // (validate also checks that no cell appears twice.)
        let r = convert_valid(&tif, &out, &ConvertOptions::default());
        let m = r.metadata();
        // The pixel size gives the zoom: a pixel is `scale`° of longitude wide, the
        // same number of Mercator metres at every latitude (taller away from the
        // equator, so the zoom may be one lower).
        let raw = (360.0 / 256.0 / scale).log2();
        let z = f64::from(m.tiling.max_zoom);
        assert!(
            z <= raw.ceil() && z >= raw.floor() - 1.0,
            "{width}: {:?}",
            m.tiling
        );
        // Values east of 180° come from the grid's columns past 180.
        for (lon_src, lat) in points {
            let col = ((lon_src - origin) / scale).floor() as u32;
            let row = ((60.0 - lat) / scale).floor() as u32;
            // Output pixels up to 1.5 times the source's: within one source pixel.
            let near: Vec<f64> = (row.saturating_sub(1)..=row + 1)
                .flat_map(|rr| (col.saturating_sub(1)..=col + 1).map(move |cc| (rr, cc)))
                .filter(|(rr, cc)| *cc < width && *rr < 240)
                .map(|(rr, cc)| f64::from(values[(rr * width + cc) as usize]))
                .collect();
            let lon = if lon_src > 180.0 {
                lon_src - 360.0
            } else {
                lon_src
            };
            let got = r.value_at(lon, lat).unwrap().unwrap()[0].unwrap();
            assert!(
                near.contains(&got),
                "{width}: ({lon}, {lat}): {got} not in {near:?}"
            );
        }
        if width == 400 {
            let [w, _, e, _] = m.bounds;
            assert!(
                w > 160.0 && w <= 170.0 && (-170.0..-160.0).contains(&e),
                "{:?}",
                m.bounds
            );
            assert!(m.width <= 8 * 256, "{}", m.width);
        } else {
            assert_eq!((m.bounds[0], m.bounds[2]), (-180.0, 180.0));
        }
    }
}

// ---------------------------------------------------------------------------------
// Class 4: CRSs on other bodies.

#[test]
fn rasters_on_other_bodies_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let values = pattern(64, 64);
    let out = tmp.path().join("x.parquet");
    // The Moon, geographic, as GDAL writes IAU_2015:30100: user-defined GCS, datum
    // and ellipsoid, a 1 737 400 m sphere.
    let moon = Tiff {
        width: 64,
        height: 64,
        scale: (0.01, 0.01),
        origin: (10.0, 20.0),
        keys: &[
            [1024, 0, 1, 2],
            [1025, 0, 1, 1],
            [2048, 0, 1, 32767],
            [2049, 34737, 15, 0],
            [2050, 0, 1, 32767],
            [2056, 0, 1, 32767],
            [2057, 34736, 1, 0],
            [2058, 34736, 1, 1],
        ],
        doubles: &[1_737_400.0, 1_737_400.0],
        ascii: "GCS_Moon_2000|",
        nodata: None,
    };
    // Mars, equirectangular, user-defined: no citation at all, only the ellipsoid.
    let mars = Tiff {
        width: 64,
        height: 64,
        scale: (200.0, 200.0),
        origin: (0.0, 0.0),
        keys: &[
            [1024, 0, 1, 1],
            [1025, 0, 1, 1],
            [2048, 0, 1, 32767],
            [2050, 0, 1, 32767],
            [2056, 0, 1, 32767],
            [2057, 34736, 1, 0],
            [2059, 34736, 1, 1],
            [3072, 0, 1, 32767],
            [3074, 0, 1, 32767],
            [3075, 0, 1, 17],
            [3076, 0, 1, 9001],
            [3078, 34736, 1, 2],
            [3088, 34736, 1, 3],
        ],
        doubles: &[3_396_190.0, 169.894_447_223_611_8, 0.0, 0.0],
        ascii: "",
        nodata: None,
    };
    for (name, t, expect) in [("moon", &moon, "Moon"), ("mars", &mars, "3396190")] {
        let tif = tmp.path().join(format!("{name}.tif"));
        t.write_u16(&tif, &values);
        let e = geotiff_to_raquet(&tif, &out, &ConvertOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("not on the Earth") && msg.contains(expect) && msg.contains(name),
            "{name}: {msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
        assert!(!out.exists());
    }
    // An Earth CRS with a user-defined ellipsoid (International 1924) converts.
    let earth = Tiff {
        keys: &[
            [1024, 0, 1, 1],
            [1025, 0, 1, 1],
            [2048, 0, 1, 32767],
            [2050, 0, 1, 32767],
            [2056, 0, 1, 32767],
            [2057, 34736, 1, 0],
            [2059, 34736, 1, 1],
            [3072, 0, 1, 32767],
            [3074, 0, 1, 32767],
            [3075, 0, 1, 1],
            [3076, 0, 1, 9001],
            [3080, 34736, 1, 2],
            [3081, 34736, 1, 3],
            [3082, 34736, 1, 4],
            [3083, 34736, 1, 4],
            [3092, 34736, 1, 5],
        ],
        doubles: &[6_378_388.0, 297.0, 3.0, 0.0, 0.0, 1.0],
        ..Tiff::utm(31, 64, 64, 100.0, (0.0, 5_000_000.0))
    };
    let tif = tmp.path().join("earth.tif");
    earth.write_u16(&tif, &values);
    convert_valid(&tif, &out, &ConvertOptions::default());
}

// ---------------------------------------------------------------------------------
// Class 5: all-nodata rasters.

#[test]
fn all_nodata_rasters_are_refused_or_valid_when_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("empty.parquet");
    // uint16 with nodata 0 and nothing else; float32 of NaN without a nodata value.
    let t = Tiff {
        nodata: Some("0"),
        ..Tiff::utm(31, 300, 200, 100.0, (500_000.0, 5_000_000.0))
    };
    let u16_tif = tmp.path().join("zeros.tif");
    t.write_u16(&u16_tif, &vec![0u16; 300 * 200]);
    let nan_tif = tmp.path().join("nan.tif");
    Tiff::utm(31, 300, 200, 100.0, (500_000.0, 5_000_000.0))
        .write_f32(&nan_tif, &vec![f32::NAN; 300 * 200]);
    for tif in [&u16_tif, &nan_tif] {
        let e = geotiff_to_raquet(tif, &out, &ConvertOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("every pixel is nodata") && msg.contains(&*tif.to_string_lossy()),
            "{msg}"
        );
        assert!(!out.exists(), "no output after a refusal");
        // Kept on request: the empty tiles, and a file our validator accepts.
        let r = convert_valid(tif, &out, &ConvertOptions::default().with_keep_empty(true));
        assert!(!r.blocks().is_empty());
        let report = validate(&out).unwrap();
        assert!(
            report.report.has(raquet::validate::Code::ZoomEmpty),
            "{:?}",
            report.report.findings
        );
        let b = &r.metadata().bands[0];
        assert_eq!(b.statistics.valid_percent, Some(0.0));
        assert_eq!(b.statistics.mean, None);
        std::fs::remove_file(&out).unwrap();
    }
}

// ---------------------------------------------------------------------------------
// Class 6: fill outside the source footprint.

/// A 300 x 200 RGB raster in UTM 31N at 100 m: colours in 50..=200 and a block of
/// real black (0, 0, 0) pixels at rows 80..120, cols 130..170.
fn rgb_with_black(tmp: &Path) -> (std::path::PathBuf, Tiff<'static>, Vec<u8>) {
    let t = Tiff::utm(31, 300, 200, 100.0, (500_000.0, 5_000_000.0));
    let mut v = Vec::with_capacity(300 * 200 * 3);
    for r in 0..200u32 {
        for c in 0..300u32 {
            if (80..120).contains(&r) && (130..170).contains(&c) {
                v.extend_from_slice(&[0, 0, 0]);
            } else {
                v.extend_from_slice(&[
                    (50 + (r + c) % 151) as u8,
                    (50 + (r * 3) % 151) as u8,
                    (50 + (c * 5) % 151) as u8,
                ]);
            }
        }
    }
    let tif = tmp.join("rgb.tif");
    t.write_rgb8(&tif, &v);
    (tif, t, v)
}

fn mean_of(v: impl Iterator<Item = f64>) -> f64 {
    let (n, s) = v.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    s / n as f64
}

#[test]
fn fill_is_masked_and_out_of_the_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let (tif, t, src) = rgb_with_black(tmp.path());
    let src_mean = mean_of(src.iter().step_by(3).map(|v| f64::from(*v)));
    let options = [
        ConvertOptions::default(),
        ConvertOptions::default()
            .with_resampling(Resampling::Bilinear)
            .with_tile_stats(true)
            .with_histogram(true),
        ConvertOptions::default()
            .with_layout(BandLayout::Interleaved)
            .with_compression(Compression::None)
            .with_tile_stats(true),
    ];
    for (k, opts) in options.iter().enumerate() {
        let out = tmp.path().join(format!("rgb{k}.parquet"));
        // The validator recomputes every per-tile statistic from the pixels as a
        // reader sees them: writer and reader agree on what fill is.
        let r = convert_valid(&tif, &out, opts);
        let m = r.metadata();
        // Three colours and the fill mask.
        assert_eq!(m.bands.len(), 4, "{k}");
        assert_eq!(m.alpha_band(), Some(3));
        assert_eq!(m.bands[3].colorinterp.as_deref(), Some("alpha"));
        assert!(m.bands.iter().all(|b| b.nodata.is_none()));
        // Statistics of source pixels: red spans 0 (the black block) to 200, its mean
        // is the source's (not pulled down by fill), and the valid share is below 100 %.
        let s = &m.bands[0].statistics;
        assert_eq!(
            (s.minimum, s.maximum),
            (Some(0.0), Some(200.0)),
            "{k}: {s:?}"
        );
        let mean = s.mean.unwrap();
        assert!(
            (mean - src_mean).abs() < 0.02 * src_mean,
            "{k}: {mean} vs {src_mean}"
        );
        assert!(s.valid_percent.unwrap() < 90.0, "{k}: {s:?}");
        let a = &m.bands[3].statistics;
        assert_eq!(
            (a.minimum, a.maximum),
            (Some(255.0), Some(255.0)),
            "{k}: {a:?}"
        );
        if let Some(h) = &m.bands[0].histogram {
            let n: u64 = h.counts.iter().sum();
            assert!(h.counts[0] > 0 && n < 256 * 256 * r.blocks().len() as u64);
        }
        // A real black pixel reads as 0; fill just outside the footprint as no value.
        let (lon, lat) = utm_lonlat(31, &t, 100, 150);
        assert_eq!(
            r.value_at(lon, lat).unwrap().unwrap(),
            vec![Some(0.0), Some(0.0), Some(0.0), Some(255.0)],
            "{k}"
        );
        let (lon, lat) = utm_lonlat(31, &t, 100, 0);
        let outside = (lon - 2.0 * (utm_lonlat(31, &t, 100, 1).0 - lon), lat);
        assert_eq!(
            r.value_at(outside.0, outside.1).unwrap(),
            Some(vec![None; 4]),
            "{k}: fill at {outside:?}"
        );
        // In a PNG, fill is transparent and black is opaque black.
        let z = m.tiling.max_zoom;
        for block in r.blocks() {
            let (tz, x, y) = raquet::cell::tile_from_cell(*block).unwrap();
            if tz != z {
                continue;
            }
            let tile = r.tile(z, x, y).unwrap().unwrap();
            let rgba = raquet::render_rgba(&r, &tile);
            for i in 0..(tile.width * tile.height) as usize {
                let (row, col) = ((i / 256) as u32, (i % 256) as u32);
                match tile.value(0, row, col) {
                    None => assert_eq!(rgba[i * 4 + 3], 0),
                    Some(v) => {
                        assert_eq!(rgba[i * 4 + 3], 255);
                        assert_eq!(f64::from(rgba[i * 4]), v);
                    }
                }
            }
        }
    }
}

#[test]
fn a_nodata_value_the_type_cannot_hold_marks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = Tiff {
        nodata: Some("-9999"),
        ..Tiff::utm(31, 300, 200, 100.0, (500_000.0, 5_000_000.0))
    };
    let tif = tmp.path().join("u16.tif");
    let values: Vec<u16> = (0..300 * 200).map(|i| (i % 500) as u16).collect();
    t.write_u16(&tif, &values);
    let out = tmp.path().join("u16.parquet");
    let r = convert_valid(&tif, &out, &ConvertOptions::default().with_tile_stats(true));
    let m = r.metadata();
    // No usable nodata: the fill mask instead, and the real zeros stay values.
    assert_eq!(m.bands[0].nodata, None);
    assert_eq!(m.alpha_band(), Some(1));
    assert_eq!(m.bands[0].statistics.minimum, Some(0.0));
    let (lon, lat) = utm_lonlat(31, &t, 100, 0);
    let outside = (lon - 2.0 * (utm_lonlat(31, &t, 100, 1).0 - lon), lat);
    assert_eq!(
        r.value_at(outside.0, outside.1).unwrap(),
        Some(vec![None, None])
    );
}

#[test]
fn float_fill_is_nan_nodata() {
    let tmp = tempfile::tempdir().unwrap();
    let t = Tiff::utm(31, 300, 200, 100.0, (500_000.0, 5_000_000.0));
    // Values around 0, real zeros included, no nodata declared.
    let src: Vec<f32> = (0..300 * 200)
        .map(|i| {
            if i % 10 == 0 {
                0.0
            } else {
                ((i % 97) as f32) - 20.0
            }
        })
        .collect();
    let tif = tmp.path().join("f.tif");
    t.write_f32(&tif, &src);
    let out = tmp.path().join("f.parquet");
    let r = convert_valid(&tif, &out, &ConvertOptions::default().with_tile_stats(true));
    let m = r.metadata();
    assert_eq!(m.bands.len(), 1);
    assert!(m.bands[0].nodata.is_some_and(f64::is_nan));
    assert_eq!(m.to_json()["bands"][0]["nodata"], "NaN");
    let s = &m.bands[0].statistics;
    let src_mean = mean_of(src.iter().map(|v| f64::from(*v)));
    assert!(
        (s.mean.unwrap() - src_mean).abs() < 0.02 * src_mean.abs().max(1.0),
        "{s:?}"
    );
    assert!(s.valid_percent.unwrap() < 90.0);
    let (lon, lat) = utm_lonlat(31, &t, 100, 0);
    let outside = (lon - 2.0 * (utm_lonlat(31, &t, 100, 1).0 - lon), lat);
    assert_eq!(r.value_at(outside.0, outside.1).unwrap(), Some(vec![None]));
}

// ---------------------------------------------------------------------------------
// Class 29 (RaQuet part): metadata of the wrong type, gzip blobs with a second member.

mod hostile {
    use super::*;
    use arrow_array::{ArrayRef, BinaryArray, RecordBatch, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use serde_json::{Value, json};
    use std::io::Write;

    fn meta() -> Value {
        json!({"file_format": "raquet", "version": "0.5.0", "width": 256, "height": 256,
            "crs": "EPSG:3857", "bounds": [2.8125, 48.92, 4.21875, 49.83], "bounds_crs": "EPSG:4326",
            "tiling": {"scheme": "quadbin", "block_width": 256, "block_height": 256, "min_zoom": 8,
                "max_zoom": 8, "pixel_zoom": 16, "num_blocks": 1},
            "compression": "gzip",
            "bands": [{"name": "band_1", "type": "uint8", "nodata": 0, "STATISTICS_MINIMUM": 1,
                "STATISTICS_MAXIMUM": 1, "STATISTICS_MEAN": 1, "STATISTICS_STDDEV": 0}]})
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn write(path: &Path, metadata: &Value, blob: Vec<u8>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("block", DataType::UInt64, false),
            Field::new("metadata", DataType::Utf8, true),
            Field::new("band_1", DataType::Binary, true),
        ]));
        let cell = raquet::cell::cell_from_tile(8, 130, 86).unwrap();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(vec![cell, 0])),
            Arc::new(StringArray::from(vec![None, Some(metadata.to_string())])),
            Arc::new(BinaryArray::from(vec![Some(&blob[..]), None])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let f = std::fs::File::create(path).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn errors(path: &Path) -> Vec<(String, String)> {
        validate(path)
            .unwrap()
            .report
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.code.to_string(), f.message))
            .collect()
    }

    #[test]
    fn wrongly_typed_metadata_is_invalid() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("m.parquet");
        // The control: valid.
        write(&p, &meta(), gz(&[1u8; 65536]));
        assert_eq!(errors(&p), vec![]);
        let bad: [(&str, Value); 6] = [
            ("/tiling/block_width", json!(-256)),
            ("/width", json!("x")),
            ("/tiling/pixel_zoom", json!(-5)),
            ("/tiling/scheme", json!(5)),
            ("/tiling/max_zoom", json!(8.5)),
            ("/bands/0/nodata", json!(true)),
        ];
        // Each alone, and all at once (every one reported).
        let mut all = meta();
        for (ptr, v) in &bad {
            let mut m = meta();
            *m.pointer_mut(ptr).unwrap() = v.clone();
            *all.pointer_mut(ptr).unwrap() = v.clone();
            write(&p, &m, gz(&[1u8; 65536]));
            let e = errors(&p);
            let name = ptr.trim_start_matches('/').replace('/', ".");
            let name = name.replace("bands.0.", "bands[0].");
            assert!(
                e.iter().any(|(_, m)| m.contains(&name)),
                "{ptr} = {v}: {e:?}"
            );
        }
        write(&p, &all, gz(&[1u8; 65536]));
        let e = errors(&p);
        for (ptr, _) in &bad {
            let name = ptr.rsplit('/').next().unwrap();
            assert!(e.iter().any(|(_, m)| m.contains(name)), "{ptr}: {e:?}");
        }
    }

    #[test]
    fn gzip_blob_with_a_second_member_is_invalid() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("b.parquet");
        let mut blob = gz(&[1u8; 65536]);
        // A second member inflating to 64 MB of zeros.
        blob.extend_from_slice(&gz(&vec![0u8; 64 << 20]));
        write(&p, &meta(), blob);
        let e = errors(&p);
        assert!(
            e.iter()
                .any(|(c, m)| c.starts_with("blob") && m.contains("beyond")),
            "{e:?}"
        );
        // Reading the tile is an error too, not a silent first member.
        let r = Reader::open(&p).unwrap();
        assert!(r.tile(8, 130, 86).is_err());
    }
}

// ---------------------------------------------------------------------------------
// The rule for every writer: what we write, our own validator accepts.

#[test]
fn every_corpus_geotiff_converts_to_a_valid_file() {
    let Some(dir) = test_support::corpus("raquet") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let options = [
        ("default", ConvertOptions::default()),
        (
            "interleaved, per-tile statistics, empty tiles, bilinear",
            ConvertOptions::default()
                .with_layout(BandLayout::Interleaved)
                .with_tile_stats(true)
                .with_keep_empty(true)
                .with_resampling(Resampling::Bilinear),
        ),
        (
            "no blob compression, histogram, average, 128 px",
            ConvertOptions::default()
                .with_compression(Compression::None)
                .with_histogram(true)
                .with_resampling(Resampling::Average)
                .with_block_size(128),
        ),
    ];
    let tifs = test_support::files_with_suffix(&dir, ".tif");
    assert!(tifs.len() >= 8, "{tifs:?}");
    let mut converted = 0;
    for tif in &tifs {
        for (k, (what, opts)) in options.iter().enumerate() {
            let out = tmp.path().join(format!("c{k}.parquet"));
            match geotiff_to_raquet(tif, &out, opts) {
                Ok(summary) => {
                    let report = validate(&out).unwrap();
                    assert!(
                        report.is_valid(),
                        "{} ({what}): {:?}",
                        tif.display(),
                        report.report.findings
                    );
                    assert_eq!(
                        report.tiles as u64,
                        summary.tiles_per_zoom.values().sum::<u64>()
                    );
                    converted += 1;
                }
                // A refusal is a one-line error naming the file, never a bad file.
                Err(e) => {
                    let msg = e.to_string();
                    assert!(
                        msg.contains(&*tif.to_string_lossy()) && !msg.contains('\n'),
                        "{} ({what}): {msg}",
                        tif.display()
                    );
                    assert!(!out.exists());
                    println!("{} ({what}) refused: {msg}", tif.display());
                }
            }
        }
    }
    println!(
        "{converted} conversions of {} GeoTIFFs validated",
        tifs.len()
    );
    assert!(converted >= 3 * (tifs.len() - 1), "{converted}");
}
