//! One-tile reads from a local RaQuet file: open once, then `Reader::tile(z, x, y)`
//! (row-group and row selection, one gzip blob inflated, typed array built), on the
//! raquet-io outputs of the shared corpus. Also the whole open (footer, `block`
//! column, metadata row). Run with `cargo bench -p geoquet-raquet --bench tile`;
//! `cargo xtask bench raquet` reports the median.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use raquet::Reader;

fn bench_tile(c: &mut Criterion) {
    let Some(dir) = test_support::corpus("raquet") else {
        return;
    };
    let cases = [
        (
            "uint16_gzip",
            "generated/A_uint16_3857_default.parquet",
            (8u8, 130u32, 86u32),
        ),
        (
            "uint16_raw",
            "generated/A_uint16_3857_nocompression_nooverviews.parquet",
            (8, 130, 86),
        ),
        (
            "rgba_uint8_gzip",
            "generated/europe_cubicspline.parquet",
            (5, 17, 9),
        ),
        (
            "palette_gzip_63_rows",
            "generated/nlcd_upper_near.parquet",
            (13, 1405, 3204),
        ),
    ];
    let mut group = c.benchmark_group("raquet_tile");
    for (name, file, (z, x, y)) in cases {
        let path = dir.join(file);
        let r = Reader::open(&path).unwrap();
        let (z, x, y) = if r.tile(z, x, y).unwrap().is_some() {
            (z, x, y)
        } else {
            // Any native tile of the file.
            let b = *r.blocks().last().unwrap();
            raquet::cell::tile_from_cell(b).unwrap()
        };
        group.bench_function(name, |b| b.iter(|| black_box(r.tile(z, x, y).unwrap())));
    }
    group.bench_function("open_uint16_gzip", |b| {
        b.iter(|| {
            black_box(Reader::open(dir.join("generated/A_uint16_3857_default.parquet")).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_tile);
criterion_main!(benches);
