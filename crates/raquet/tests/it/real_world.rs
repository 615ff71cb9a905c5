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
        report.findings
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
