// The quick-start sample's content; shared by the example and by a test
// that checks the committed file is exactly what this writes.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use geoparquet_meta::{
    BoundingBox, Covering, CoveringBbox, Crs, Encoding, GeoParquetColumnMetadata,
    GeoParquetMetadata,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// (name, country, population, longitude, latitude)
const CITIES: [(&str, &str, i64, f64, f64); 7] = [
    ("Paris", "France", 2_102_650, 2.3522, 48.8566),
    ("Tokyo", "Japan", 14_094_034, 139.6917, 35.6895),
    ("Nairobi", "Kenya", 4_397_073, 36.8219, -1.2921),
    ("São Paulo", "Brazil", 11_451_999, -46.6333, -23.5505),
    ("Sydney", "Australia", 5_450_496, 151.2093, -33.8688),
    ("Anchorage", "United States", 291_247, -149.9003, 61.2181),
    ("Suva", "Fiji", 93_970, 178.4419, -18.1416),
];

fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(21);
    b.push(1); // little endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&x.to_le_bytes());
    b.extend_from_slice(&y.to_le_bytes());
    b
}

/// Builds the sample file's bytes.
pub(crate) fn sample_bytes() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let names = StringArray::from_iter_values(CITIES.iter().map(|c| c.0));
    let countries = StringArray::from_iter_values(CITIES.iter().map(|c| c.1));
    let population = Int64Array::from_iter_values(CITIES.iter().map(|c| c.2));
    let wkb: Vec<Vec<u8>> = CITIES.iter().map(|c| wkb_point(c.3, c.4)).collect();
    let geometry = BinaryArray::from_iter_values(wkb.iter());
    let xs = Float64Array::from_iter_values(CITIES.iter().map(|c| c.3));
    let ys = Float64Array::from_iter_values(CITIES.iter().map(|c| c.4));
    let bbox_fields = Fields::from(
        ["xmin", "ymin", "xmax", "ymax"]
            .map(|n| Field::new(n, DataType::Float64, false))
            .to_vec(),
    );
    let bbox = StructArray::new(
        bbox_fields.clone(),
        vec![
            Arc::new(xs.clone()) as ArrayRef,
            Arc::new(ys.clone()),
            Arc::new(xs),
            Arc::new(ys),
        ],
        None,
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("population", DataType::Int64, false),
        Field::new("geometry", DataType::Binary, false),
        Field::new("bbox", DataType::Struct(bbox_fields), false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(names),
            Arc::new(countries),
            Arc::new(population),
            Arc::new(geometry),
            Arc::new(bbox),
        ],
    )?;

    let mut extent = BoundingBox::empty();
    for c in CITIES {
        extent.expand_xy(c.3, c.4);
    }
    let mut column = GeoParquetColumnMetadata::new(Encoding::Wkb, vec!["Point".parse()?]);
    column.crs = Crs::Default;
    column.bbox = Some(extent);
    column.covering = Some(Covering {
        bbox: CoveringBbox::for_column("bbox", false),
        extra: Default::default(),
    });
    let geo = GeoParquetMetadata::new("geometry", column);

    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(15)?))
        .set_created_by("geoquet make_sample".into())
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "geo".into(),
            geo.to_json_string(),
        )]))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(out)
}
