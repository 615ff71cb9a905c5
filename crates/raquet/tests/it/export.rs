//! PNG tiles and the native zoom back to GeoTIFF.

use raquet::{
    ConvertOptions, Reader, geotiff_to_raquet, raquet_to_geotiff, render_rgba, write_png,
};

#[test]
fn geotiff_round_trip_is_exact_for_aligned_input() {
    let Some(dir) = test_support::corpus("raquet") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "A_uint16_3857_default.parquet",
        "B_rgb_3857_default.parquet",
        "C_float32_4326_default.parquet",
    ] {
        let src = Reader::open(dir.join("generated").join(name)).unwrap();
        let tif = tmp.path().join("out.tif");
        let s = raquet_to_geotiff(dir.join("generated").join(name), &tif).unwrap();
        assert_eq!(
            (u64::from(s.width), u64::from(s.height)),
            (src.metadata().width, src.metadata().height)
        );
        // Back to RaQuet: the same native tiles, pixel for pixel.
        let back = tmp.path().join("back.parquet");
        let opts = ConvertOptions::default()
            .with_overviews(false)
            .with_keep_empty(true);
        geotiff_to_raquet(&tif, &back, &opts).unwrap();
        let again = Reader::open(&back).unwrap();
        let z = src.metadata().tiling.max_zoom;
        assert_eq!(again.metadata().tiling.max_zoom, z);
        for b in src.blocks() {
            let (tz, x, y) = raquet::cell::tile_from_cell(*b).unwrap();
            if tz == z {
                let ours = again.tile(z, x, y).unwrap().unwrap();
                let theirs = src.tile(z, x, y).unwrap().unwrap();
                let k = theirs.bands.len();
                assert_eq!(ours.bands[..k], theirs.bands[..], "{name} {z}/{x}/{y}");
                // Without nodata an integer raster gains a fill mask (alpha) band:
                // opaque on every pixel of an aligned raster.
                if let Some(a) = ours.bands.get(k) {
                    assert_eq!(again.metadata().alpha_band(), Some(k));
                    assert!(a.to_f64_vec().iter().all(|v| *v == 255.0), "{name}");
                }
            }
        }
        assert_eq!(
            again.metadata().bands[0].nodata,
            src.metadata().bands[0].nodata
        );
    }
}

#[test]
fn png_rendering() {
    let Some(dir) = test_support::corpus("raquet") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Palette: the colour table applied.
    let r = Reader::open(dir.join("generated/nlcd_upper_near.parquet")).unwrap();
    let (z, x, y) = raquet::cell::tile_from_cell(*r.blocks().last().unwrap()).unwrap();
    let t = r.tile(z, x, y).unwrap().unwrap();
    let rgba = render_rgba(&r, &t);
    let ct = r.metadata().bands[0].colortable.clone().unwrap();
    for i in (0..256 * 256).step_by(997) {
        match t.value(0, (i / 256) as u32, (i % 256) as u32) {
            Some(v) => assert_eq!(&rgba[i * 4..i * 4 + 4], &ct[&(v as i64)][..]),
            None => assert_eq!(rgba[i * 4 + 3], 0, "nodata is transparent"),
        }
    }
    let png = tmp.path().join("t.png");
    write_png(&r, &t, &png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // Grey stretch: pixel (0, 0) = 65535 is above STATISTICS_MAXIMUM, so white.
    let r = Reader::open(dir.join("generated/A_uint16_3857_default.parquet")).unwrap();
    let t = r.tile(8, 130, 86).unwrap().unwrap();
    let rgba = render_rgba(&r, &t);
    assert_eq!(&rgba[..4], &[255, 255, 255, 255]);
    let hole = (15 * 256 + 15) * 4;
    assert_eq!(rgba[hole + 3], 0);
}
