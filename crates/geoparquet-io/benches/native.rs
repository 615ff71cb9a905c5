//! Micro-benchmark of the GeoArrow native encodings (`geoparquet_io::native`):
//! a column of WKB points and one of six-vertex polygons turned into native
//! columns (`from_wkb`, as the writer does for `--encoding geoarrow`) and back
//! (`to_wkb`, as the readers do). Run with
//! `cargo bench -p geoparquet-io --bench native`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use arrow_array::{Array, BinaryArray};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geoparquet_io::meta::{Dimension, GeometryType};
use geoparquet_io::native;
use geoparquet_io::wkb_column::wkb_values;

const POINTS: usize = 1_000_000;
const POLYGONS: usize = 200_000;

fn bench_native(c: &mut Criterion) {
    let mut rng = common::Rng::new(11);
    let inputs = [
        (
            "point",
            GeometryType::Point,
            BinaryArray::from_iter_values(common::points(&mut rng, POINTS)),
        ),
        (
            "polygon6",
            GeometryType::Polygon,
            BinaryArray::from_iter_values(common::polygons(&mut rng, POLYGONS, 6)),
        ),
        (
            "multipolygon6",
            GeometryType::MultiPolygon,
            BinaryArray::from_iter_values(common::polygons(&mut rng, POLYGONS, 6)),
        ),
    ];
    let mut group = c.benchmark_group("native");
    group.sample_size(20);
    for (name, t, wkb) in &inputs {
        group.throughput(Throughput::Elements(wkb.len() as u64));
        let values = wkb_values(wkb).unwrap();
        group.bench_with_input(BenchmarkId::new("from_wkb", name), &values, |b, values| {
            b.iter(|| {
                native::from_wkb(black_box(values), *t, Dimension::Xy, "geometry", 0).unwrap()
            })
        });
        let column = native::from_wkb(&values, *t, Dimension::Xy, "geometry", 0).unwrap();
        group.bench_with_input(BenchmarkId::new("to_wkb", name), &column, |b, column| {
            b.iter(|| native::to_wkb(black_box(column.as_ref()), *t, "geometry").unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_native);
criterion_main!(benches);
