//! Micro-benchmarks of the hot Quadbin conversions: point → cell one by one
//! and in a batch (the target is at least 50 M points per second),
//! tile → cell and cell → tile,
//! over 1 M seeded random inputs. Run with `cargo bench -p quadbin`; the
//! figures are recorded in `docs/src/benchmarks.md` (section `bench-quadbin`).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quadbin::{Cell, Tile};

const N: usize = 1 << 20;

/// splitmix64 with a fixed seed, so every run measures the same inputs.
fn points() -> Vec<(f64, f64)> {
    let mut rng = test_support::Rng::new(42);
    (0..N)
        .map(|_| (rng.unit() * 360.0 - 180.0, rng.unit() * 170.0 - 85.0))
        .collect()
}

fn bench(c: &mut Criterion) {
    let pts = points();
    let mut group = c.benchmark_group("quadbin");
    group.throughput(Throughput::Elements(N as u64));
    for res in [10u8, 17, 26] {
        group.bench_with_input(BenchmarkId::new("point_to_cell", res), &res, |b, &res| {
            b.iter(|| {
                let mut acc = 0u64;
                for &(lon, lat) in &pts {
                    acc ^= Cell::from_lonlat(lon, lat, res).unwrap().get();
                }
                black_box(acc)
            });
        });
    }
    let (lons, lats): (Vec<f64>, Vec<f64>) = pts.iter().copied().unzip();
    let mut out = Vec::with_capacity(N);
    for res in [10u8, 17, 26] {
        group.bench_with_input(
            BenchmarkId::new("points_to_cells_batch", res),
            &res,
            |b, &res| {
                b.iter(|| {
                    out.clear();
                    quadbin::cells_from_lonlat(&lons, &lats, res, &mut out).unwrap();
                    black_box(out.len())
                });
            },
        );
    }
    let tiles: Vec<Tile> = pts
        .iter()
        .map(|&(lon, lat)| Cell::from_lonlat(lon, lat, 17).unwrap().tile())
        .collect();
    group.bench_function("tile_to_cell/17", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &t in &tiles {
                acc ^= Cell::from_tile(t).unwrap().get();
            }
            black_box(acc)
        });
    });
    let cells: Vec<Cell> = tiles.iter().map(|&t| Cell::from_tile(t).unwrap()).collect();
    group.bench_function("cell_to_tile/17", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for &c in &cells {
                let t = black_box(c).tile();
                acc ^= t.x ^ t.y;
            }
            black_box(acc)
        });
    });
    group.bench_function("validate/17", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for &c in &cells {
                ok += usize::from(Cell::new(black_box(c.get())).is_ok());
            }
            black_box(ok)
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
