//! Micro-benchmark of `writer::GeoParquetEncoder::encode`: one batch of
//! points or polygons with three attribute columns, turned into the batch to
//! store (WKB validated, types and bbox accumulated, covering column built),
//! with the default options (1.1, WKB, covering) and as GeoArrow. The Parquet
//! encoding and compression that follow (`ArrowWriter`) are upstream's and
//! are not measured here. Run with `cargo bench -p geoparquet-io`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geoparquet_io::writer::{GeoParquetEncoder, GeometryEncoding, WriterOptions};

const ROWS: usize = 65_536;

fn batch(wkb: &[Vec<u8>]) -> RecordBatch {
    let n = wkb.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("geometry", DataType::Binary, true),
    ]));
    let ids: Vec<i64> = (0..n as i64).collect();
    let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    let names: Vec<String> = (0..n).map(|i| format!("place-{}", i % 50_000)).collect();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(values)),
            Arc::new(StringArray::from(names)),
            Arc::new(BinaryArray::from_iter_values(wkb.iter())),
        ],
    )
    .unwrap()
}

fn bench_encode(c: &mut Criterion) {
    let mut rng = common::Rng::new(7);
    let inputs = [
        ("point", batch(&common::points(&mut rng, ROWS))),
        ("polygon6", batch(&common::polygons(&mut rng, ROWS, 6))),
    ];
    let options = [
        ("wkb_covering", WriterOptions::default()),
        (
            "geoarrow",
            WriterOptions::default().with_encoding(GeometryEncoding::GeoArrow),
        ),
    ];
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, input) in &inputs {
        for (oname, opts) in &options {
            // GeoArrow needs the geometry types up front: encode once with
            // WKB to learn them, as `geoquet convert` reads them from the input.
            let mut probe =
                GeoParquetEncoder::try_new(&input.schema(), None, &WriterOptions::default())
                    .unwrap();
            probe.encode(input).unwrap();
            let declared = probe.metadata().unwrap();
            group.bench_with_input(BenchmarkId::new(*name, oname), input, |b, input| {
                b.iter(|| {
                    let mut enc =
                        GeoParquetEncoder::try_new(&input.schema(), Some(&declared), opts).unwrap();
                    let out = enc.encode(black_box(input)).unwrap();
                    (out.num_rows(), enc.metadata().unwrap())
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
