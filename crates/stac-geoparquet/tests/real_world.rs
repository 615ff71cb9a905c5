//! Items as they come from the wider world (issue 14, classes 18-21): no
//! bbox, open rings, conflicting property types, directories of files; and
//! the rule that every file we write passes our own `validate`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::LogicalType;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};
use stac_geoparquet::{
    PATCHES_COLUMN, PATCHES_METADATA_KEY, Source, WriterOptions, read_items, write_parquet,
};

fn item(id: &str, geometry: Value) -> Value {
    json!({
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": id,
        "geometry": geometry,
        "properties": {"datetime": "2020-01-01T00:00:00Z"},
        "links": [], "assets": {}
    })
}

fn ndjson(dir: &Path, name: &str, items: &[Value]) -> PathBuf {
    let p = dir.join(name);
    let text: String = items.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&p, text).unwrap();
    p
}

fn batches(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn kv(path: &Path, key: &str) -> Option<String> {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .key_value_metadata()?
        .iter()
        .find(|k| k.key == key)?
        .value
        .clone()
}

/// The full `validate` (footer and every row) says the file is valid.
fn assert_valid(path: &Path, what: &str) {
    let report = geoparquet_io::validate(path, &geoparquet_io::ValidateOptions::default()).unwrap();
    assert!(
        report.is_valid(),
        "{what}: {:?}",
        report
            .findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
}

/// The bbox cell of row `row` as `[xmin, ymin, xmax, ymax]`, `None` if null.
fn bbox_cell(batch: &RecordBatch, row: usize) -> Option<[f64; 4]> {
    let s = batch.column_by_name("bbox").unwrap().as_struct();
    if s.is_null(row) {
        return None;
    }
    let f = |n: &str| {
        s.column_by_name(n)
            .unwrap()
            .as_primitive::<arrow_array::types::Float64Type>()
            .value(row)
    };
    Some([f("xmin"), f("ymin"), f("xmax"), f("ymax")])
}

#[test]
fn a_missing_bbox_is_written_from_the_geometry_and_comes_back_missing() {
    let dir = tempfile::tempdir().unwrap();
    let a = item(
        "a",
        json!({"type": "Polygon", "coordinates": [[[10.0, 1.0], [12.5, 1.0], [12.5, 3.0], [10.0, 1.0]]]}),
    );
    let mut b = item("b", json!({"type": "Point", "coordinates": [-5.0, 7.25]}));
    b["bbox"] = Value::Null;
    let mut c = item("c", json!({"type": "Point", "coordinates": [1.0, 2.0]}));
    c["bbox"] = json!([1.0, 2.0, 1.0, 2.0]);
    let none = item("d", Value::Null);
    // A bbox that does not hold its geometry (rounded, or plain wrong).
    let mut e = item("e", json!({"type": "Point", "coordinates": [5.0, 5.0]}));
    e["bbox"] = json!([0.0, 0.0, 1.0, 1.0]);
    // A geometry WKB 1.1 cannot hold (M values): no covering either.
    let mut f = item(
        "f",
        json!({"type": "Point", "coordinates": [1.0, 2.0, 3.0, 4.0]}),
    );
    f["bbox"] = json!([1.0, 2.0, 1.0, 2.0]);
    let items = [a, b, c, none, e, f];
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let summary = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(
        summary.patches, 5,
        "one absence, one explicit null, one bbox widened, an M geometry and its bbox"
    );
    let batch = &batches(&out)[0];
    assert_eq!(bbox_cell(batch, 0), Some([10.0, 1.0, 12.5, 3.0]));
    assert_eq!(bbox_cell(batch, 1), Some([-5.0, 7.25, -5.0, 7.25]));
    assert_eq!(bbox_cell(batch, 2), Some([1.0, 2.0, 1.0, 2.0]));
    assert_eq!(bbox_cell(batch, 3), None, "no geometry, no bbox");
    assert_eq!(bbox_cell(batch, 4), Some([0.0, 0.0, 5.0, 5.0]));
    assert_eq!(bbox_cell(batch, 5), None, "no WKB, no covering");
    // Lossless: the missing bbox stays missing, the null stays null.
    assert_eq!(read_items(&out).unwrap(), items);
    // A bbox search finds items without a bbox by their geometry.
    let search = stac_geoparquet::Search::default().with_bbox([11.0, 0.0, 13.0, 2.0]);
    let found: Vec<Value> = stac_geoparquet::open_with(
        &out,
        stac_geoparquet::ReadOptions::default().with_search(search),
    )
    .unwrap()
    .map(|i| i.unwrap()["id"].clone())
    .collect();
    assert_eq!(found, [json!("a")]);
    assert_valid(&out, "missing bbox");
}

/// The rings of the first polygon of a little-endian ISO WKB Polygon.
fn wkb_polygon_rings(wkb: &[u8]) -> Vec<Vec<(f64, f64)>> {
    let u32_at = |i: usize| u32::from_le_bytes(wkb[i..i + 4].try_into().unwrap()) as usize;
    let f64_at = |i: usize| f64::from_le_bytes(wkb[i..i + 8].try_into().unwrap());
    assert_eq!((wkb[0], u32_at(1)), (1, 3), "a 2D little-endian Polygon");
    let mut at = 9;
    let mut rings = Vec::new();
    for _ in 0..u32_at(5) {
        let n = u32_at(at);
        at += 4;
        let mut ring = Vec::new();
        for _ in 0..n {
            ring.push((f64_at(at), f64_at(at + 8)));
            at += 16;
        }
        rings.push(ring);
    }
    rings
}

#[test]
fn open_rings_are_closed_in_the_file_and_open_in_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let open = item(
        "open",
        json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]], [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]]]}),
    );
    let closed = item(
        "closed",
        json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}),
    );
    let (mut open, mut closed) = (open, closed);
    open["bbox"] = json!([0.0, 0.0, 4.0, 4.0]);
    closed["bbox"] = json!([0.0, 0.0, 1.0, 1.0]);
    let items = [open, closed];
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let summary = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(
        summary.patches, 1,
        "only the open polygon needs its original"
    );
    let batch = &batches(&out)[0];
    let g = batch.column_by_name("geometry").unwrap().as_binary::<i32>();
    for row in 0..2 {
        for ring in wkb_polygon_rings(g.value(row)) {
            assert_eq!(ring.first(), ring.last(), "row {row}: {ring:?}");
        }
    }
    assert_eq!(wkb_polygon_rings(g.value(0))[0].len(), 5);
    assert_eq!(read_items(&out).unwrap(), items);
    assert_valid(&out, "open rings");
}

#[test]
fn other_readers_see_no_patches_and_json_columns_say_they_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for (i, v) in [json!("one"), json!(2), json!({"k": [1, "x"]})]
        .into_iter()
        .enumerate()
    {
        let mut it = item(
            &format!("i{i}"),
            json!({"type": "Point", "coordinates": [1, 2]}),
        );
        it["bbox"] = json!([1, 2, 1, 2]);
        it["properties"]["mixed"] = v;
        it["properties"]["when"] = json!("2020-01-01 00:00:00+00:00");
        it["foreign"] = json!(true);
        items.push(it);
    }
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let summary = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert!(summary.patches > 0, "integers, foreign members");
    // No column other than the items' own members and properties.
    let batch = &batches(&out)[0];
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert!(!names.contains(&PATCHES_COLUMN.to_owned()), "{names:?}");
    for n in &names {
        assert!(
            [
                "type",
                "stac_version",
                "stac_extensions",
                "id",
                "geometry",
                "bbox",
                "links",
                "datetime",
                "mixed",
                "when"
            ]
            .contains(&n.as_str()),
            "{n} is not a member of the items"
        );
    }
    assert!(kv(&out, PATCHES_METADATA_KEY).is_some());
    // The JSON-text column carries the JSON logical type.
    let r = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let schema = r.metadata().file_metadata().schema_descr_ptr();
    let mixed = (0..schema.num_columns())
        .map(|i| schema.column(i))
        .find(|c| c.name() == "mixed")
        .unwrap();
    assert_eq!(mixed.logical_type_ref(), Some(&LogicalType::Json));
    let when = (0..schema.num_columns())
        .map(|i| schema.column(i))
        .find(|c| c.name() == "when")
        .unwrap();
    assert_ne!(when.logical_type_ref(), Some(&LogicalType::Json));
    assert_eq!(read_items(&out).unwrap(), items);
    assert_valid(&out, "patches in the footer");
}

#[test]
fn a_directory_is_read_recursively_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    std::fs::create_dir_all(root.join("b/deeper")).unwrap();
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join(".hidden")).unwrap();
    let pt = |x: f64| json!({"type": "Point", "coordinates": [x, 0.5]});
    let mut want = Vec::new();
    for (name, id) in [
        ("a/1.json", "a1"),
        ("a/2.geojson", "a2"),
        ("b/deeper/3.ndjson", "b3"),
        ("top.JSON", "t"),
    ] {
        let mut it = item(id, pt(want.len() as f64));
        it["bbox"] = json!([0.0, 0.5, 0.0, 0.5]);
        it["bbox"][0] = json!(want.len() as f64);
        it["bbox"][2] = json!(want.len() as f64);
        std::fs::write(root.join(name), it.to_string()).unwrap();
        want.push(it);
    }
    std::fs::write(root.join("b/notes.txt"), "not items").unwrap();
    std::fs::write(root.join(".hidden/x.json"), "not items either").unwrap();
    std::fs::write(root.join("b/._resource.json"), "macOS litter").unwrap();
    let files = stac_geoparquet::files_below(&root).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    let out = dir.path().join("out.parquet");
    let s = write_parquet(&[Source::Path(root)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(s.items, 4);
    assert_eq!(read_items(&out).unwrap(), want);
    assert_valid(&out, "directory");
}

#[test]
fn every_file_written_from_the_corpus_passes_validate() {
    let Some(root) = test_support::corpus("stac") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for sub in [
        "stac-spec",
        "stac-geoparquet-py",
        "rustac",
        "rustac-py",
        "synthetic-edge-cases",
    ] {
        for suffix in [".json", ".ndjson"] {
            for p in test_support::files_with_suffix(&root.join(sub), suffix) {
                let text = std::fs::read_to_string(&p).unwrap();
                let is_metadata = serde_json::from_str::<Value>(&text)
                    .ok()
                    .is_some_and(|v| v.get("version").is_some());
                if is_metadata {
                    continue;
                }
                for geoarrow in [false, true] {
                    let out = dir.path().join("out.parquet");
                    let options = WriterOptions::default().with_geoarrow(geoarrow);
                    if write_parquet(&[Source::Path(p.clone())], &out, &options).is_err() {
                        // GeoArrow needs one geometry type; WKB always writes.
                        assert!(geoarrow, "{}: WKB write failed", p.display());
                        continue;
                    }
                    n += 1;
                    let report =
                        geoparquet_io::validate(&out, &geoparquet_io::ValidateOptions::default())
                            .unwrap();
                    if !report.is_valid() {
                        failures.push(format!(
                            "{} (geoarrow {geoarrow}): {:?}",
                            p.display(),
                            report
                                .findings
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
    }
    assert!(n > 60, "{n} files written");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn files_of_the_earlier_layout_with_a_patches_column_still_read() {
    use std::sync::Arc;

    use arrow_array::builder::{BinaryBuilder, StringBuilder};
    use arrow_array::{ArrayRef, ListArray, StructArray};
    use arrow_buffer::{NullBuffer, OffsetBuffer};
    use arrow_schema::{DataType, Field, Fields, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::KeyValue;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout1.parquet");
    let mut types = StringBuilder::new();
    let mut ids = StringBuilder::new();
    let mut geoms = BinaryBuilder::new();
    for id in ["a", "b"] {
        types.append_value("Feature");
        ids.append_value(id);
        // POINT (1 2), little-endian ISO WKB.
        let mut wkb = vec![1u8, 1, 0, 0, 0];
        wkb.extend_from_slice(&1f64.to_le_bytes());
        wkb.extend_from_slice(&2f64.to_le_bytes());
        geoms.append_value(&wkb);
    }
    let entry = Fields::from(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ]);
    let paths: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![
        "/properties/x",
        "/foreign",
    ]));
    let values: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![
        Some("1"),
        Some("[true]"),
    ]));
    let entries = StructArray::new(entry.clone(), vec![paths, values], None);
    // Row 0: two patches; row 1: none (null).
    let patches = ListArray::new(
        Arc::new(Field::new("element", DataType::Struct(entry), false)),
        OffsetBuffer::new(vec![0, 2, 2].into()),
        Arc::new(entries),
        Some(NullBuffer::from(vec![true, false])),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("type", DataType::Utf8, true),
        Field::new("id", DataType::Utf8, true),
        Field::new("geometry", DataType::Binary, true),
        Field::new(PATCHES_COLUMN, patches.data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(types.finish()),
            Arc::new(ids.finish()),
            Arc::new(geoms.finish()),
            Arc::new(patches),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.append_key_value_metadata(KeyValue::new(
        stac_geoparquet::LAYOUT_METADATA_KEY.to_owned(),
        r#"{"layout":1,"empty_assets":false,"explicit_nulls":[]}"#.to_owned(),
    ));
    w.close().unwrap();
    let point = json!({"type": "Point", "coordinates": [1.0, 2.0]});
    assert_eq!(
        read_items(&path).unwrap(),
        [
            json!({"type": "Feature", "id": "a", "geometry": point, "properties": {"x": 1}, "foreign": [true]}),
            json!({"type": "Feature", "id": "b", "geometry": point, "properties": {}}),
        ]
    );
}

#[test]
fn datetimes_written_with_a_space_and_an_offset_need_no_patches() {
    // Sentinel-1 RTC on the Planetary Computer writes `2024-04-19 04:59:16.653405+00:00`:
    // the column keeps that style, so a large catalog of such items keeps its footer small.
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Value> = (0..50)
        .map(|i| {
            let mut it = item(
                &format!("s{i}"),
                json!({"type": "Point", "coordinates": [1.5, 2.5]}),
            );
            it["bbox"] = json!([1.5, 2.5, 1.5, 2.5]);
            it["properties"]["datetime"] = json!(format!("2024-04-19 04:59:{i:02}.{i:06}+00:00"));
            it["properties"]["end_datetime"] = json!(format!("2024-04-19T05:00:{i:02}Z"));
            it
        })
        .collect();
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let summary = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(summary.patches, 0);
    assert!(kv(&out, PATCHES_METADATA_KEY).is_none());
    assert_eq!(read_items(&out).unwrap(), items);
    assert_valid(&out, "datetime styles");
}

#[test]
fn wide_schemas_keep_dictionaries_for_the_core_columns_only() {
    // 1,500 distinct property names: more than WIDE_COLUMNS leaf columns.
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Value> = (0..300)
        .map(|i| {
            let mut it = item(
                &format!("w{i}"),
                json!({"type": "Point", "coordinates": [1.5, 2.5]}),
            );
            it["bbox"] = json!([1.5, 2.5, 1.5, 2.5]);
            it["collection"] = json!("c");
            for j in 0..5 {
                it["properties"][format!("p{i}_{j}")] = json!("v");
            }
            it
        })
        .collect();
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(read_items(&out).unwrap(), items);
    let r = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let group = r.metadata().row_group(0);
    assert!(group.num_columns() > stac_geoparquet::WIDE_COLUMNS);
    let dictionary = |name: &str| {
        group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .unwrap()
            .dictionary_page_offset()
            .is_some()
    };
    assert!(dictionary("collection"));
    assert!(!dictionary("p0_0"));
    assert_valid(&out, "wide");
}

#[test]
fn a_z_covering_holds_the_z_of_3d_geometries() {
    let dir = tempfile::tempdir().unwrap();
    let line = json!({"type": "LineString", "coordinates": [[1.0, 2.0, 10.0], [3.0, 4.0, 20.0]]});
    let mut a = item("a", line.clone());
    a["bbox"] = json!([1.0, 2.0, 10.0, 3.0, 4.0, 20.0]);
    let mut b = item("b", line.clone());
    b["bbox"] = json!([1.0, 2.0, 3.0, 4.0]);
    let c = item("c", line.clone());
    let mut d = item("d", line);
    d["bbox"] = json!([1.0, 2.0, 12.0, 3.0, 4.0, 15.0]);
    let mut e = item("e", json!({"type": "Point", "coordinates": [1.0, 2.0]}));
    e["bbox"] = json!([1.0, 2.0, 1.0, 2.0]);
    let items = [a, b, c, d, e];
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let summary = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(summary.patches, 3, "b's 2D bbox, c's absence, d's narrow Z");
    let batch = &batches(&out)[0];
    let s = batch.column_by_name("bbox").unwrap().as_struct();
    let z = |name: &str, row: usize| {
        let c = s
            .column_by_name(name)
            .unwrap()
            .as_primitive::<arrow_array::types::Float64Type>();
        (!c.is_null(row)).then(|| c.value(row))
    };
    for row in 0..4 {
        assert_eq!(
            (z("zmin", row), z("zmax", row)),
            (Some(10.0), Some(20.0)),
            "row {row}"
        );
    }
    assert_eq!((z("zmin", 4), z("zmax", 4)), (None, None), "a 2D point");
    assert_eq!(read_items(&out).unwrap(), items);
    assert_valid(&out, "3D coverings");
}

#[test]
fn odd_bboxes_and_geometries_still_make_valid_files() {
    let dir = tempfile::tempdir().unwrap();
    let point = json!({"type": "Point", "coordinates": [1, 2]});
    let cases = [
        (
            "a bbox of strings",
            point.clone(),
            json!(["a", "b", "c", "d"]),
        ),
        ("a bbox of 5 numbers", point.clone(), json!([1, 2, 3, 4, 5])),
        ("a bbox that is an object", point, json!({"xmin": 1})),
        (
            "an empty ring, no bbox",
            json!({"type": "Polygon", "coordinates": [[]]}),
            Value::Null,
        ),
        (
            "an empty point, a bbox",
            json!({"type": "Point", "coordinates": []}),
            json!([0, 0, 1, 1]),
        ),
        (
            "a one-position ring",
            json!({"type": "Polygon", "coordinates": [[[1, 2]]]}),
            Value::Null,
        ),
        (
            "an open ring deep in collections",
            json!({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}]}]}),
            Value::Null,
        ),
        (
            "mixed dimensions",
            json!({"type": "LineString", "coordinates": [[1, 2], [3, 4, 5]]}),
            json!([1, 2, 3, 4]),
        ),
        (
            "an antimeridian bbox whose line crosses the gap",
            json!({"type": "LineString", "coordinates": [[-6, 0], [6, 0]]}),
            json!([5, 0, -5, 0]),
        ),
        (
            "a geometry that is a string",
            json!("POINT (1 2)"),
            json!([1, 2, 1, 2]),
        ),
    ];
    for (what, geometry, bbox) in cases {
        let mut it = item("x", geometry);
        if !bbox.is_null() {
            it["bbox"] = bbox;
        }
        let input = ndjson(dir.path(), "in.ndjson", std::slice::from_ref(&it));
        let out = dir.path().join("out.parquet");
        write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
        assert_eq!(read_items(&out).unwrap(), [it], "{what}");
        assert_valid(&out, what);
    }
}
