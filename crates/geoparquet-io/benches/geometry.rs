//! Micro-benchmarks of the per-geometry work every read and write does:
//! strict WKB parsing with the bounding box (`geometry::wkb_info`, what the
//! encoder computes per row), and the exact intersects test of a bbox read
//! (`geometry::wkb_intersects`). Run with `cargo bench -p geoparquet-io`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geoparquet_io::meta::BoundingBox;
use geoparquet_meta::geometry::{wkb_info, wkb_intersects};

const N: usize = 10_000;

fn datasets() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let mut rng = common::Rng::new(42);
    vec![
        ("point", common::points(&mut rng, N)),
        ("polygon6", common::polygons(&mut rng, N, 6)),
        ("polygon64", common::polygons(&mut rng, N / 10, 64)),
    ]
}

fn bench_wkb_info(c: &mut Criterion) {
    let mut group = c.benchmark_group("wkb_info");
    for (name, data) in datasets() {
        group.throughput(Throughput::Elements(data.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
            b.iter(|| {
                let mut n = 0usize;
                for w in data {
                    let info = wkb_info(black_box(w)).unwrap();
                    n += usize::from(info.bbox.is_some());
                }
                n
            });
        });
    }
    group.finish();
}

fn bench_intersects(c: &mut Criterion) {
    // A 1%-area box (36 x 18 degrees) and a box that crosses the antimeridian.
    let queries = [
        ("box1pct", BoundingBox::new(0.0, 36.0, 36.0, 54.0)),
        ("antimeridian", BoundingBox::new(170.0, -30.0, -170.0, 30.0)),
    ];
    let mut group = c.benchmark_group("wkb_intersects");
    for (name, data) in datasets() {
        group.throughput(Throughput::Elements(data.len() as u64));
        for (qname, q) in &queries {
            group.bench_with_input(BenchmarkId::new(name, qname), &data, |b, data| {
                b.iter(|| {
                    data.iter()
                        .filter(|w| wkb_intersects(black_box(w), q).unwrap())
                        .count()
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_wkb_info, bench_intersects);
criterion_main!(benches);
