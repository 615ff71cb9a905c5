//! Helpers shared by the integration tests.

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use sliderule_export::records::{Atl03Extent, Atl03Photon};

/// Reads every batch of a Parquet file.
pub(crate) fn read_batches(path: &Path) -> (SchemaRef, Vec<RecordBatch>) {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    (schema, batches)
}

/// The footer key/values of a Parquet file.
pub(crate) fn footer_keys(path: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of one footer key.
pub(crate) fn key(path: &Path, name: &str) -> Option<String> {
    footer_keys(path)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Deterministic synthetic ATL03 extents (varying photon counts).
pub(crate) fn atl03_extents(n: usize) -> Vec<Atl03Extent> {
    (0..n)
        .map(|i| {
            let photons = (0..(5 + i % 7))
                .map(|j| Atl03Photon {
                    time: 1_552_556_446_894_008_576 + (i * 1000 + j) as i64 * 256,
                    latitude: 72.8 + i as f64 * 1e-4 + j as f64 * 1e-6,
                    longitude: -26.2 - i as f64 * 1e-4,
                    x_atc: j as f32 * 0.7 - 10.0,
                    y_atc: 3.25,
                    height: 100.0 + j as f32,
                    relief: 0.0,
                    landcover: 0xFF,
                    snowcover: 0xFF,
                    atl08_class: (j % 5) as u8,
                    atl03_cnf: (j % 7) as i8 - 2,
                    quality_ph: (j % 4) as i8,
                    yapc_score: (j * 37 % 300) as u16,
                })
                .collect();
            Atl03Extent {
                region: 3,
                track: 1 + (i % 3) as u8,
                pair: (i % 2) as u8,
                sc_orient: 1,
                rgt: 1160,
                cycle: 2,
                segment_id: 500_000 + i as u32,
                segment_dist: 8.0e6 + i as f64 * 20.0,
                background_rate: 12345.5,
                solar_elevation: -4.5,
                extent_id: 0x4880_0023_8000_0000 + ((i as u64) << 2),
                photons,
            }
        })
        .collect()
}
