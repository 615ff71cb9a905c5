//! Reading every file of the shared corpus, and the oracle facts of SOURCES.md.

use raquet::{Pixels, Reader, ReaderOptions};

fn corpus() -> Option<std::path::PathBuf> {
    test_support::corpus("raquet")
}

#[test]
fn every_corpus_file_reads() {
    let Some(dir) = corpus() else { return };
    let files = test_support::files_with_suffix(&dir, ".parquet");
    assert!(files.len() >= 14, "{files:?}");
    for f in files {
        let r = Reader::open(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let m = r.metadata();
        assert!(!m.bands.is_empty(), "{}", f.display());
        let mut n = 0;
        for t in r.tiles().unwrap() {
            let t = t.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!(t.bands.len(), m.bands.len());
            n += 1;
        }
        assert_eq!(n, r.blocks().len(), "{}", f.display());
    }
}

#[test]
fn legacy_and_oracle_facts() {
    let Some(dir) = corpus() else { return };
    let r = Reader::open(dir.join("upstream/example_data.parquet")).unwrap();
    let m = r.metadata();
    assert!(m.legacy);
    assert_eq!(m.version, None);
    assert_eq!(
        (m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom),
        (2, 8, 16)
    );
    assert_eq!(m.bands[0].nodata, Some(0.0));
    assert_eq!(r.metadata_rows(), &[191]);
    assert_eq!(r.blocks().len(), 191);

    let r = Reader::open(dir.join("upstream/colored.parquet")).unwrap();
    assert_eq!(r.metadata().tiling.max_zoom, 23);
    assert!(
        r.metadata().bands[0]
            .colortable
            .as_ref()
            .is_some_and(|c| c.len() == 256)
    );

    let r = Reader::open(dir.join("generated/A_uint16_3857_nocompression_nooverviews.parquet"))
        .unwrap();
    let t = r.tile(8, 130, 86).unwrap().unwrap();
    let Pixels::Uint16(p) = &t.bands[0] else {
        panic!("{:?}", t.bands[0].band_type())
    };
    assert_eq!((p[0], p[1], p[256]), (65535, 4, 8));
    assert_eq!(t.value(0, 0, 0), Some(65535.0));
    // The nodata hole at rows 10-29, cols 10-39.
    assert_eq!(t.value(0, 15, 15), None);

    let r = Reader::open(dir.join("generated/A_uint16_3857_default.parquet")).unwrap();
    assert_eq!(r.blocks()[0], 5_216_895_701_262_270_463);
    assert_eq!(r.metadata_rows(), &[10]);
    let t2 = r.tile(8, 130, 86).unwrap().unwrap();
    assert_eq!(t2.bands[0], t.bands[0], "gzip and raw payloads agree");
    // Above max zoom: served from the z8 ancestor.
    let up = r.tile(9, 260, 172).unwrap().unwrap();
    assert_eq!(up.source_zoom, 8);
    assert_eq!(up.value(0, 0, 0), Some(65535.0));
    assert_eq!(up.value(0, 0, 2), Some(4.0));
    // Below min zoom: from zoom 6.
    let down = r.tile(5, 16, 10).unwrap().unwrap();
    assert_eq!(down.source_zoom, 6);
    assert!(r.tile(8, 0, 0).unwrap().is_none());
}

#[test]
fn interleaved_layouts() {
    let Some(dir) = corpus() else { return };
    let r = Reader::open(dir.join("generated/B_rgb_3857_interleaved_gzip.parquet")).unwrap();
    let t = r.tile(10, 520, 350).unwrap().unwrap();
    assert_eq!(t.bands.len(), 3);
    // R = row, G = col, B = (row + col) % 256.
    assert_eq!(t.value(0, 1, 0), Some(1.0));
    assert_eq!(t.value(1, 0, 1), Some(1.0));
    assert_eq!(t.value(2, 200, 100), Some(44.0));

    // raquet-io 0.9.0 interleaves bytes for int16; the opt-in reproduces the source.
    let path = dir.join("generated/D_int16x2_3857_interleaved_gzip.parquet");
    let r = Reader::open_with(&path, ReaderOptions::default().with_byte_interleaved(true)).unwrap();
    let t = r.tile(10, 520, 350).unwrap().unwrap();
    for (row, col) in [(0u32, 0u32), (0, 1), (100, 200), (255, 255)] {
        // The source was computed in int16 and wraps.
        let v = (row * 256 + col) as i32;
        assert_eq!(t.value(0, row, col), Some(f64::from((v - 30000) as i16)));
        assert_eq!(t.value(1, row, col), Some(f64::from((-v) as i16)));
    }
    // WebP is lossy: close to the source, not equal.
    let r = Reader::open(dir.join("generated/B_rgb_3857_interleaved_webp.parquet")).unwrap();
    let t = r.tile(10, 520, 350).unwrap().unwrap();
    let mut err = 0.0;
    for row in (0..256).step_by(17) {
        for col in (0..256).step_by(13) {
            err += (t.value(0, row, col).unwrap() - f64::from(row)).abs();
        }
    }
    assert!(err / 256.0 < 8.0, "mean abs error {}", err / 256.0);

    let r = Reader::open(&path).unwrap();
    let t = r.tile(10, 520, 350).unwrap().unwrap();
    assert_ne!(
        t.value(1, 0, 1),
        Some(-1.0),
        "sample-interleaved decoding of a byte-interleaved file differs"
    );
}

#[test]
fn value_at_a_point() {
    let Some(dir) = corpus() else { return };
    let r = Reader::open(dir.join("generated/C_float32_4326_default.parquet")).unwrap();
    // Madrid is in 10/501/386.
    let v = r.value_at(-3.7038, 40.4168).unwrap().unwrap();
    assert_eq!(v.len(), 1);
    assert!(v[0].is_some());
    assert!(r.value_at(100.0, 10.0).unwrap().is_none());
    let w = r.window([-3.75, 40.3, -3.6, 40.45], 10).unwrap();
    assert_eq!(w.zoom, 10);
    assert!(w.width > 100 && w.height > 100);
}
