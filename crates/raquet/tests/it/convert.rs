//! GeoTIFF → RaQuet against the reference converter's outputs in `generated/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use raquet::{
    BandLayout, Compression, ConvertOptions, Reader, Resampling, ZoomStrategy, geotiff_to_raquet,
    validate,
};

fn dirs() -> Option<(PathBuf, tempfile::TempDir)> {
    let d = test_support::corpus("raquet")?;
    Some((d, tempfile::tempdir().unwrap()))
}

fn zooms(r: &Reader) -> BTreeMap<u8, usize> {
    let mut m = BTreeMap::new();
    for b in r.blocks() {
        let (z, _, _) = raquet::cell::tile_from_cell(*b).unwrap();
        *m.entry(z).or_insert(0) += 1;
    }
    m
}

fn convert(src: &Path, out: &Path, opts: &ConvertOptions) -> Reader {
    let s = geotiff_to_raquet(src, out, opts).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let report = validate(out).unwrap();
    assert!(
        report.is_valid(),
        "{}: {:?}",
        out.display(),
        report.report.findings
    );
    let r = Reader::open(out).unwrap();
    assert_eq!(r.metadata().tiling, s.metadata.tiling);
    r
}

fn native_equal(a: &Reader, b: &Reader, z: u8) -> usize {
    let mut n = 0;
    for block in b.blocks() {
        let (tz, x, y) = raquet::cell::tile_from_cell(*block).unwrap();
        if tz != z {
            continue;
        }
        let theirs = b.tile(z, x, y).unwrap().unwrap();
        match a.tile(z, x, y).unwrap() {
            // Our source bands (a fill mask band may follow: see `fill_is_masked`).
            Some(ours) => assert_eq!(
                ours.bands[..theirs.bands.len()],
                theirs.bands[..],
                "tile {z}/{x}/{y}"
            ),
            None => assert!(
                (0..theirs.bands.len()).all(|k| (0..theirs.height)
                    .all(|r| (0..theirs.width).all(|c| theirs.value(k, r, c).is_none()))),
                "we left out {z}/{x}/{y} but it holds data"
            ),
        }
        n += 1;
    }
    n
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-9)
}

#[test]
fn uint16_aligned_matches_reference_pixel_for_pixel() {
    let Some((dir, tmp)) = dirs() else { return };
    let src = dir.join("generated/synthetic_uint16_3857.tif");
    let theirs = Reader::open(dir.join("generated/A_uint16_3857_default.parquet")).unwrap();
    let ours = convert(
        &src,
        &tmp.path().join("a.parquet"),
        &ConvertOptions::default(),
    );
    let (m, t) = (ours.metadata(), theirs.metadata());
    assert_eq!((m.width, m.height, m.bounds), (t.width, t.height, t.bounds));
    assert_eq!(
        (m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom),
        (6, 8, 16)
    );
    assert_eq!(native_equal(&ours, &theirs, 8), 6);
    // Empty-tile policy: the all-nodata 8/132/87 is left out by default ...
    assert_eq!(zooms(&ours), BTreeMap::from([(6, 2), (7, 2), (8, 5)]));
    assert_eq!(m.tiling.num_blocks, 5);
    // ... and kept on request, which gives the reference's tile set exactly.
    let kept = convert(
        &src,
        &tmp.path().join("k.parquet"),
        &ConvertOptions::default().with_keep_empty(true),
    );
    assert_eq!(kept.blocks(), theirs.blocks());
    assert_eq!(kept.metadata().tiling.num_blocks, 6);
    // Exact statistics over every native pixel: the mean equals the reference's
    // all-tile figure; the reference's stddev is a mean of per-tile stddevs, ours pooled.
    let s = &m.bands[0].statistics;
    assert_eq!((s.minimum, s.maximum), (Some(4.0), Some(65535.0)));
    assert!(rel(s.mean.unwrap(), 2208.8044440915987) < 1e-12);
    assert_eq!(m.bands[0].nodata, Some(0.0));
}

#[test]
fn tile_statistics_columns_match_reference() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
    let Some((dir, tmp)) = dirs() else { return };
    let out = tmp.path().join("ts.parquet");
    let opts = ConvertOptions::default()
        .with_overviews(false)
        .with_tile_stats(true)
        .with_keep_empty(true);
    let ours = convert(
        &dir.join("generated/synthetic_uint16_3857.tif"),
        &out,
        &opts,
    );
    assert!(ours.metadata().tile_statistics);
    let f = std::fs::File::open(&out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = BTreeMap::new();
    for batch in reader {
        let b = batch.unwrap();
        let block = b
            .column_by_name("block")
            .unwrap()
            .as_primitive::<UInt64Type>()
            .clone();
        let count = b
            .column_by_name("band_1_count")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        let mean = b
            .column_by_name("band_1_mean")
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone();
        let std = b
            .column_by_name("band_1_stddev")
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone();
        let sum = b
            .column_by_name("band_1_sum")
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone();
        for i in 0..b.num_rows() {
            let v = if arrow_array::Array::is_null(&count, i) {
                None
            } else {
                Some((count.value(i), sum.value(i), mean.value(i), std.value(i)))
            };
            rows.insert(block.value(i), v);
        }
    }
    // SOURCES.md oracle (raquet-io --tile-stats), tile by tile.
    let expected = [
        (
            (8, 130, 86),
            Some((64936, 83_562_870.0, 1286.8496673647899, 610.4295106341714)),
        ),
        (
            (8, 131, 86),
            Some((65536, 133_955_584.0, 2044.0, 562.8076936218978)),
        ),
        (
            (8, 130, 87),
            Some((36864, 98_648_064.0, 2676.0, 365.8130214558616)),
        ),
        (
            (8, 131, 87),
            Some((36864, 126_959_616.0, 3444.0, 365.8130214558616)),
        ),
        (
            (8, 132, 86),
            Some((22528, 57_671_680.0, 2560.0, 522.884786544799)),
        ),
        ((8, 132, 87), None),
    ];
    for ((z, x, y), want) in expected {
        let block = raquet::cell::cell_from_tile(z, x, y).unwrap();
        let got = rows[&block];
        match (got, want) {
            (None, None) => {}
            (Some(g), Some(w)) => {
                assert_eq!(g.0, w.0);
                assert!(
                    rel(g.1, w.1) < 1e-12 && rel(g.2, w.2) < 1e-12 && rel(g.3, w.3) < 1e-9,
                    "{z}/{x}/{y}: {g:?} vs {w:?}"
                );
            }
            _ => panic!("{z}/{x}/{y}: {got:?} vs {want:?}"),
        }
    }
    assert_eq!(rows[&0], None, "metadata row has NULL statistics");
}

#[test]
fn rgb_and_interleaved_match_reference() {
    let Some((dir, tmp)) = dirs() else { return };
    let src = dir.join("generated/synthetic_rgb_3857.tif");
    let ours = convert(
        &src,
        &tmp.path().join("b.parquet"),
        &ConvertOptions::default(),
    );
    let theirs = Reader::open(dir.join("generated/B_rgb_3857_default.parquet")).unwrap();
    assert_eq!(ours.blocks(), theirs.blocks());
    assert_eq!(native_equal(&ours, &theirs, 10), 1);
    let names: Vec<_> = ours
        .metadata()
        .bands
        .iter()
        .map(|b| b.colorinterp.clone().unwrap())
        .collect();
    // No nodata: a fill mask (alpha) follows the colours.
    assert_eq!(names, ["red", "green", "blue", "alpha"]);

    let opts = ConvertOptions::default()
        .with_layout(BandLayout::Interleaved)
        .with_overviews(false);
    let ours = convert(&src, &tmp.path().join("bi.parquet"), &opts);
    let theirs = Reader::open(dir.join("generated/B_rgb_3857_interleaved_gzip.parquet")).unwrap();
    assert_eq!(ours.metadata().band_layout, BandLayout::Interleaved);
    assert_eq!(native_equal(&ours, &theirs, 10), 1);
    let s = &ours.metadata().bands[0].statistics;
    assert!(
        rel(s.mean.unwrap(), 127.5) < 1e-12 && rel(s.stddev.unwrap(), 73.90027063549903) < 1e-12
    );
}

#[test]
fn int16_interleaved_is_sample_interleaved() {
    let Some((dir, tmp)) = dirs() else { return };
    let opts = ConvertOptions::default()
        .with_layout(BandLayout::Interleaved)
        .with_overviews(false)
        .with_compression(Compression::None);
    let ours = convert(
        &dir.join("generated/synthetic_int16x2_3857.tif"),
        &tmp.path().join("d.parquet"),
        &opts,
    );
    // Their bytes are interleaved (their bug); decoded that way they equal our samples.
    let theirs = Reader::open_with(
        dir.join("generated/D_int16x2_3857_interleaved_gzip.parquet"),
        raquet::ReaderOptions::default().with_byte_interleaved(true),
    )
    .unwrap();
    assert_eq!(native_equal(&ours, &theirs, 10), 1);
    let t = ours.tile(10, 520, 350).unwrap().unwrap();
    assert_eq!(t.value(0, 0, 1), Some(-29999.0));
    assert_eq!(t.value(1, 0, 1), Some(-1.0));
    assert_eq!(ours.metadata().compression, Compression::None);
}

#[test]
fn float32_from_4326_has_the_reference_pyramid() {
    let Some((dir, tmp)) = dirs() else { return };
    let ours = convert(
        &dir.join("generated/synthetic_float32_4326.tif"),
        &tmp.path().join("c.parquet"),
        &ConvertOptions::default(),
    );
    let theirs = Reader::open(dir.join("generated/C_float32_4326_default.parquet")).unwrap();
    assert_eq!(ours.blocks(), theirs.blocks());
    let (m, t) = (ours.metadata(), theirs.metadata());
    assert_eq!(
        (m.width, m.height, m.bounds, &m.tiling),
        (t.width, t.height, t.bounds, &t.tiling)
    );
    assert_eq!(m.bands[0].nodata, Some(-9999.0));
    // Nearest resampling from lon/lat: the same source pixel for nearly every output pixel.
    let (mut same, mut total) = (0usize, 0usize);
    for block in theirs.blocks() {
        let (z, x, y) = raquet::cell::tile_from_cell(*block).unwrap();
        if z != 10 {
            continue;
        }
        let a = ours.tile(z, x, y).unwrap().unwrap().bands[0].to_f64_vec();
        let b = theirs.tile(z, x, y).unwrap().unwrap().bands[0].to_f64_vec();
        total += a.len();
        same += a.iter().zip(&b).filter(|(p, q)| p == q).count();
    }
    assert!(
        same as f64 / total as f64 > 0.99,
        "{same} of {total} pixels equal"
    );
    // Statistics: the reference's come from an overview zoom; ours are exact.
    let s = &m.bands[0].statistics;
    assert!((s.minimum.unwrap() - -93.16522979736328).abs() < 1.0);
    assert!((s.maximum.unwrap() - 146.6575927734375).abs() < 1.0);
    assert!((s.mean.unwrap() - 25.044195036764705).abs() < 1.0);
}

#[test]
fn upstream_expectations() {
    let Some((dir, tmp)) = dirs() else { return };
    // europe.tif, zoom auto, cubicspline: 23 rows, 1024x1024, 16 blocks, zooms 2/5/13.
    let europe = convert(
        &dir.join("upstream/europe.tif"),
        &tmp.path().join("e.parquet"),
        &ConvertOptions::default().with_resampling(Resampling::CubicSpline),
    );
    let reference = Reader::open(dir.join("generated/europe_cubicspline.parquet")).unwrap();
    assert_eq!(europe.blocks().len() + europe.metadata_rows().len(), 23);
    assert_eq!(europe.blocks(), reference.blocks());
    let m = europe.metadata();
    assert_eq!((m.width, m.height, m.tiling.num_blocks), (1024, 1024, 16));
    assert_eq!(
        (m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom),
        (2, 5, 13)
    );
    assert_eq!(m.bounds, reference.metadata().bounds);
    // The statistics describe source pixels only: the reference's mean (106.36)
    // counts the transparent pixels (alpha 0) as zeros, ours are those of the
    // native-zoom pixels that read back with a value.
    let s = &m.bands[0].statistics;
    let mut seen = Vec::new();
    for t in europe.tiles().unwrap() {
        let t = t.unwrap();
        if t.z == m.tiling.max_zoom {
            for i in 0..t.width * t.height {
                if let Some(v) = t.value(0, i / t.width, i % t.width) {
                    seen.push(v);
                }
            }
        }
    }
    let mean = seen.iter().sum::<f64>() / seen.len() as f64;
    assert!(rel(s.mean.unwrap(), mean) < 1e-12, "{s:?} vs {mean}");
    assert!(s.mean.unwrap() > 106.36, "{s:?}");

    // n37 (lower, cubicspline): 7 rows, 512x512, 4 blocks, zooms 10/11/19, nodata -32767.
    let n37 = convert(
        &dir.join("upstream/n37_w123_1arc_v2.tif"),
        &tmp.path().join("n.parquet"),
        &ConvertOptions::default()
            .with_zoom_strategy(ZoomStrategy::Lower)
            .with_resampling(Resampling::CubicSpline),
    );
    let m = n37.metadata();
    assert_eq!(n37.blocks().len() + 1, 7);
    assert_eq!((m.width, m.height, m.tiling.num_blocks), (512, 512, 4));
    assert_eq!(
        (m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom),
        (10, 11, 19)
    );
    assert_eq!(m.bands[0].nodata, Some(-32767.0));
    assert_eq!(m.bands[0].unit, "m");
    let reference = Reader::open(dir.join("generated/n37_lower_cubicspline.parquet")).unwrap();
    assert_eq!(n37.blocks(), reference.blocks());
    assert_eq!(m.bounds, reference.metadata().bounds);
    let s = &m.bands[0].statistics;
    assert!(rel(s.mean.unwrap(), 38.08549286534361) < 0.05, "{s:?}");

    // NLCD (upper, near): 63 rows with the reference's empty-tile policy, 1536x1792,
    // 42 blocks, zooms 10/13/21, nodata 250, a 256-entry palette.
    let opts = ConvertOptions::default()
        .with_zoom_strategy(ZoomStrategy::Upper)
        .with_keep_empty(true);
    let nlcd = convert(
        &dir.join("upstream/Annual_NLCD_LndCov_2023_CU_C1V0.tif"),
        &tmp.path().join("l.parquet"),
        &opts,
    );
    let m = nlcd.metadata();
    assert_eq!(nlcd.blocks().len() + 1, 63);
    assert_eq!((m.width, m.height, m.tiling.num_blocks), (1536, 1792, 42));
    assert_eq!(
        (m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom),
        (10, 13, 21)
    );
    assert_eq!(m.bands[0].nodata, Some(250.0));
    assert_eq!(m.bands[0].colortable.as_ref().map(|c| c.len()), Some(256));
    let reference = Reader::open(dir.join("generated/nlcd_upper_near.parquet")).unwrap();
    assert_eq!(nlcd.blocks(), reference.blocks());
    assert_eq!(m.bounds, reference.metadata().bounds);
    // Palette overviews take the mode: every overview value is a palette class.
    let classes = m.bands[0].colortable.clone().unwrap();
    for block in nlcd.blocks() {
        let (z, x, y) = raquet::cell::tile_from_cell(*block).unwrap();
        if z == 10 {
            let t = nlcd.tile(z, x, y).unwrap().unwrap();
            for v in t.bands[0].to_f64_vec() {
                assert!(
                    classes
                        .get(&(v as i64))
                        .is_some_and(|c| c[..3] != [0, 0, 0])
                        || v == 250.0,
                    "{v}"
                );
            }
        }
    }
    // Default policy: the empty tiles are left out, the rest is the same pyramid.
    let sparse = convert(
        &dir.join("upstream/Annual_NLCD_LndCov_2023_CU_C1V0.tif"),
        &tmp.path().join("l2.parquet"),
        &ConvertOptions::default().with_zoom_strategy(ZoomStrategy::Upper),
    );
    assert!(sparse.blocks().iter().all(|b| reference.contains(*b)));
    assert!(sparse.blocks().len() < reference.blocks().len());
}

#[test]
fn palette_geotiff_matches_upstream_colored() {
    let Some((dir, tmp)) = dirs() else { return };
    let ours = convert(
        &dir.join("upstream/colored.tif"),
        &tmp.path().join("p.parquet"),
        &ConvertOptions::default().with_overviews(false),
    );
    let theirs = Reader::open(dir.join("upstream/colored.parquet")).unwrap();
    let mut a = ours.blocks().to_vec();
    let mut b = theirs.blocks().to_vec();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert_eq!(native_equal(&ours, &theirs, 23), 6);
}

#[test]
fn bad_inputs_are_errors() {
    let Some((dir, tmp)) = dirs() else { return };
    let out = tmp.path().join("x.parquet");
    let e = geotiff_to_raquet(
        dir.join("upstream/example_data.parquet"),
        &out,
        &ConvertOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("example_data.parquet"), "{e}");
    let e = geotiff_to_raquet(
        dir.join("generated/synthetic_rgb_3857.tif"),
        &out,
        &ConvertOptions::default().with_block_size(100),
    )
    .unwrap_err();
    assert!(e.to_string().contains("block size"), "{e}");
    assert!(!out.exists(), "no output after a failure");
    let e = geotiff_to_raquet(
        tmp.path().join("missing.tif"),
        &out,
        &ConvertOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing.tif"), "{e}");
}

/// Writes a float32 GeoTIFF in UTM zone 30N (EPSG:32630), 30 m pixels, NaN nodata.
fn write_utm_nan(path: &Path, w: u32, h: u32) -> Vec<f32> {
    use tiff::encoder::{TiffEncoder, colortype::Gray32Float};
    use tiff::tags::Tag;
    let mut values = Vec::with_capacity((w * h) as usize);
    for r in 0..h {
        for c in 0..w {
            let v = if (r / 16 + c / 16) % 7 == 0 {
                f32::NAN
            } else {
                (r as f32).sin() * 10.0 + c as f32 * 0.01
            };
            values.push(v);
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = TiffEncoder::new(file).unwrap();
    let mut img = enc.new_image::<Gray32Float>(w, h).unwrap();
    let d = img.encoder();
    d.write_tag(Tag::ModelPixelScaleTag, &[30.0f64, 30.0, 0.0][..])
        .unwrap();
    d.write_tag(
        Tag::ModelTiepointTag,
        &[0.0f64, 0.0, 0.0, 440_000.0, 4_480_000.0, 0.0][..],
    )
    .unwrap();
    let keys: [u16; 16] = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32630];
    d.write_tag(Tag::GeoKeyDirectoryTag, &keys[..]).unwrap();
    d.write_tag(Tag::GdalNodata, "nan").unwrap();
    img.write_data(&values).unwrap();
    values
}

#[test]
fn utm_with_nan_nodata() {
    let tmp = tempfile::tempdir().unwrap();
    let tif = tmp.path().join("utm.tif");
    let src = write_utm_nan(&tif, 600, 500);
    for rs in [
        Resampling::Nearest,
        Resampling::Bilinear,
        Resampling::Cubic,
        Resampling::Average,
    ] {
        let out = tmp.path().join("utm.parquet");
        let r = convert(&tif, &out, &ConvertOptions::default().with_resampling(rs));
        let m = r.metadata();
        let b = &m.bands[0];
        assert!(b.nodata.is_some_and(f64::is_nan), "{rs:?}");
        assert_eq!(m.to_json()["bands"][0]["nodata"], "NaN");
        // 30 m pixels at ~40.4°N: 2^log2(CE / 256 / 30 m)... zoom 12 (38 m at the equator × cos).
        assert_eq!(m.tiling.max_zoom, 12, "{rs:?}");
        assert!(
            m.bounds[0] < -3.7 && m.bounds[2] > -3.6 && m.bounds[1] < 40.4 && m.bounds[3] > 40.4,
            "{:?}",
            m.bounds
        );
        let s = &b.statistics;
        let valid: Vec<f64> = src
            .iter()
            .filter(|v| !v.is_nan())
            .map(|v| f64::from(*v))
            .collect();
        let (lo, hi) = valid
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        let mean = valid.iter().sum::<f64>() / valid.len() as f64;
        assert!(
            s.minimum.unwrap() >= lo - 1e-3 && s.maximum.unwrap() <= hi + 1e-3,
            "{rs:?} {s:?}"
        );
        assert!(
            (s.mean.unwrap() - mean).abs() < 0.2,
            "{rs:?} mean {} vs source {mean}",
            s.mean.unwrap()
        );
        // The centre of a NaN block of the source (row 8, col 8 → 440 240 E, 4 479 760 N)
        // is nodata; the centre of a valid block (row 40, col 8) holds a value.
        let utm = proj4rs::proj::Proj::from_epsg_code(32630).unwrap();
        let wgs =
            proj4rs::proj::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").unwrap();
        let lonlat = |x: f64, y: f64| {
            let mut p = (x, y, 0.0);
            proj4rs::transform::transform(&utm, &wgs, &mut p).unwrap();
            (p.0.to_degrees(), p.1.to_degrees())
        };
        let (lon, lat) = lonlat(440_240.0, 4_479_760.0);
        assert_eq!(r.value_at(lon, lat).unwrap(), Some(vec![None]), "{rs:?}");
        let (lon, lat) = lonlat(440_240.0, 4_478_800.0);
        assert!(
            r.value_at(lon, lat).unwrap().unwrap()[0].is_some(),
            "{rs:?}"
        );
    }
}
