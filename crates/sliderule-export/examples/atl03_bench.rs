//! Benchmark driver: N seeded ATL03 photon rows written as GeoParquet by the
//! exporter (`ours`), or the same flattened columns (geometry included)
//! written by a plain `ArrowWriter` (`plain`), both Snappy with one row group
//! per 645,277 rows. Used by `cargo xtask bench sliderule`.
//!
//! Usage: `atl03_bench ours|ours-compat|ours-sorted|plain ROWS OUT` (`ours-compat`:
//! the `sliderule-4.20` metadata, no bbox accounting; `ours-sorted`: Hilbert order).
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;
use sliderule_export::builder::schema_for;
use sliderule_export::records::{Atl03Extent, Atl03Photon};
use sliderule_export::{ExportOptions, Exporter, RecordKind};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Extents of 1–200 photons along a track, until `rows` photons.
fn extents(rows: usize) -> impl Iterator<Item = Atl03Extent> {
    let mut rng = Rng(42);
    let mut made = 0usize;
    let mut e = 0u64;
    std::iter::from_fn(move || {
        if made >= rows {
            return None;
        }
        let n = (1 + (rng.next() % 200) as usize).min(rows - made);
        made += n;
        e += 1;
        let base_lat = -60.0 + (e as f64 * 1e-4) % 120.0;
        let photons = (0..n)
            .map(|j| Atl03Photon {
                time: 1_552_556_446_894_008_576 + ((e * 1000 + j as u64) * 256) as i64,
                latitude: base_lat + rng.unit() * 1e-3,
                longitude: -26.2 + rng.unit() * 1e-3,
                x_atc: (rng.unit() * 40.0 - 20.0) as f32,
                y_atc: (rng.unit() * 10.0) as f32,
                height: (rng.unit() * 2000.0) as f32,
                relief: 0.0,
                landcover: 0xFF,
                snowcover: 0xFF,
                atl08_class: (rng.next() % 5) as u8,
                atl03_cnf: (rng.next() % 7) as i8 - 2,
                quality_ph: (rng.next() % 4) as i8,
                yapc_score: (rng.next() % 256) as u16,
            })
            .collect();
        Some(Atl03Extent {
            region: 3,
            track: 1 + (e % 3) as u8,
            pair: (e % 2) as u8,
            sc_orient: 1,
            rgt: 1160,
            cycle: 2,
            segment_id: 500_000 + e as u32,
            segment_dist: 8.0e6 + e as f64 * 20.0,
            background_rate: rng.unit() * 1e6,
            solar_elevation: (rng.unit() * 90.0) as f32,
            extent_id: e << 2,
            photons,
        })
    })
}

/// The GeoParquet columns of a group of extents, built directly.
fn plain_batch(group: &[Atl03Extent], schema: &arrow_schema::SchemaRef) -> RecordBatch {
    macro_rules! parent {
        ($t:ty, $f:ident) => {{
            let v: Vec<_> = group
                .iter()
                .flat_map(|e| std::iter::repeat_n(e.$f, e.photons.len()))
                .collect();
            Arc::new(PrimitiveArray::<$t>::from(v)) as ArrayRef
        }};
    }
    macro_rules! photon {
        ($t:ty, $f:ident) => {{
            let v: Vec<_> = group
                .iter()
                .flat_map(|e| e.photons.iter().map(|p| p.$f))
                .collect();
            Arc::new(PrimitiveArray::<$t>::from(v)) as ArrayRef
        }};
    }
    let rows: usize = group.iter().map(|e| e.photons.len()).sum();
    let mut geometry = BinaryBuilder::with_capacity(rows, rows * 21);
    let mut wkb = [0u8; 21];
    wkb[0] = 1;
    wkb[1] = 1;
    for p in group.iter().flat_map(|e| &e.photons) {
        wkb[5..13].copy_from_slice(&p.longitude.to_le_bytes());
        wkb[13..21].copy_from_slice(&p.latitude.to_le_bytes());
        geometry.append_value(wkb);
    }
    // The reference GeoParquet order (sliderule.md §4).
    let columns: Vec<ArrayRef> = vec![
        parent!(UInt64Type, extent_id),
        photon!(TimestampNanosecondType, time),
        photon!(Float32Type, x_atc),
        photon!(UInt8Type, landcover),
        photon!(Float32Type, y_atc),
        photon!(Int8Type, atl03_cnf),
        photon!(UInt8Type, atl08_class),
        photon!(UInt8Type, snowcover),
        photon!(Int8Type, quality_ph),
        photon!(UInt16Type, yapc_score),
        photon!(Float32Type, relief),
        photon!(Float32Type, height),
        parent!(UInt8Type, cycle),
        parent!(UInt8Type, pair),
        parent!(UInt8Type, sc_orient),
        parent!(UInt16Type, rgt),
        parent!(UInt8Type, track),
        parent!(Float64Type, background_rate),
        parent!(UInt32Type, segment_id),
        parent!(Float64Type, segment_dist),
        parent!(Float32Type, solar_elevation),
        parent!(UInt8Type, region),
        Arc::new(geometry.finish()),
    ];
    match RecordBatch::try_new(schema.clone(), columns) {
        Ok(b) => b,
        Err(e) => panic!("batch: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(rows), Some(out)) = (args.get(1), args.get(2), args.get(3)) else {
        return Err("usage: atl03_bench ours|ours-compat|ours-sorted|plain ROWS OUT".into());
    };
    let rows: usize = rows.parse()?;
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let budget = RecordKind::Atl03.max_rows_in_group();
    match mode.as_str() {
        "ours" | "ours-compat" | "ours-sorted" => {
            let compat = mode == "ours-compat";
            let options = if compat {
                ExportOptions::default().with_compat(sliderule_export::Compat::SlideRule4_20)
            } else {
                ExportOptions::default()
            };
            let options = options.with_sort(
                (mode == "ours-sorted").then_some(sliderule_export::sort::SortBy::Hilbert),
            );
            let mut ex = Exporter::try_new(file, RecordKind::Atl03, options)?;
            for e in extents(rows) {
                ex.push(&e)?;
            }
            let s = ex.finish()?;
            println!("{} rows, {} row groups", s.rows, s.row_groups);
        }
        "plain" => {
            let schema = Arc::new(schema_for(RecordKind::Atl03, true, false));
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_max_row_group_row_count(None)
                .set_column_dictionary_enabled(ColumnPath::from("geometry"), false)
                .build();
            let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
            let mut group: Vec<Atl03Extent> = Vec::new();
            let mut buffered = 0usize;
            let mut groups = 0usize;
            for e in extents(rows) {
                buffered += e.photons.len();
                group.push(e);
                if buffered >= budget {
                    w.write(&plain_batch(&group, &schema))?;
                    w.flush()?;
                    group.clear();
                    buffered = 0;
                    groups += 1;
                }
            }
            if !group.is_empty() {
                w.write(&plain_batch(&group, &schema))?;
                groups += 1;
            }
            w.close()?;
            println!("{rows} rows, {groups} row groups");
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}
