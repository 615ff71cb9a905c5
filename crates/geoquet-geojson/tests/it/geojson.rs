//! GeoJSON conversion tests: round trips for every geometry type, schema
//! inference over all features, input layouts, errors with feature numbers,
//! the Arrow-to-JSON value mapping, and the shared STAC corpus.

use std::io::{Cursor, Read, Write};
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Int32Builder, ListBuilder, StringDictionaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, Decimal128Array,
    DurationSecondArray, FixedSizeBinaryArray, Float32Array, Float64Array, Int8Array,
    LargeBinaryArray, LargeStringArray, RecordBatch, StringArray, StringViewArray, StructArray,
    Time64MicrosecondArray, TimestampMillisecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use geoquet_geojson::Error;
use geoquet_geojson::{
    GeoJsonFormat, GeoJsonReader, GeoJsonWriter, ReadOptions, WriteOptions, write_batches,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

fn read(text: &str, batch_size: usize) -> Result<(GeoJsonReader, Vec<RecordBatch>), Error> {
    let options = ReadOptions::default().with_batch_size(batch_size);
    let reader = GeoJsonReader::try_from_reader(Cursor::new(text.to_owned()), options)?;
    let again = GeoJsonReader::try_from_reader(
        Cursor::new(text.to_owned()),
        ReadOptions::default().with_batch_size(batch_size),
    )?;
    let batches = again.collect::<Result<Vec<_>, _>>()?;
    Ok((reader, batches))
}

fn read_ok(text: &str, batch_size: usize) -> (SchemaRef, Vec<RecordBatch>) {
    match read(text, batch_size) {
        Ok((reader, batches)) => (reader.schema(), batches),
        Err(e) => panic!("{e}"),
    }
}

fn write(schema: SchemaRef, batches: &[RecordBatch], format: GeoJsonFormat) -> String {
    let options = WriteOptions::default().with_format(format);
    let out = write_batches(
        Vec::new(),
        schema,
        batches.iter().cloned().map(Ok::<_, Error>),
        options,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// The features of written GeoJSON, whatever the format.
fn features_of(text: &str, format: GeoJsonFormat) -> Vec<Value> {
    match format {
        GeoJsonFormat::NewlineDelimited => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        GeoJsonFormat::FeatureArray => serde_json::from_str::<Vec<Value>>(text).unwrap(),
        _ => {
            let fc: Value = serde_json::from_str(text).unwrap();
            assert_eq!(fc["type"], "FeatureCollection");
            fc["features"].as_array().unwrap().clone()
        }
    }
}

/// Every number as an `f64` (WKB turns `1` into `1.0`).
fn floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::from(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), floats(v))).collect()),
        other => other.clone(),
    }
}

/// A Feature as the writer would give it back: geometry numbers as floats,
/// null properties and ids left out, foreign members dropped.
fn normalise(f: &Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("type".into(), json!("Feature"));
    if let Some(id) = f.get("id").filter(|id| !id.is_null()) {
        out.insert("id".into(), id.clone());
    }
    out.insert(
        "geometry".into(),
        f.get("geometry").map_or(Value::Null, floats),
    );
    let props: serde_json::Map<String, Value> = f
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.insert("properties".into(), Value::Object(props));
    Value::Object(out)
}

fn collection(features: &[Value]) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn ndjson(features: &[Value]) -> String {
    features.iter().map(|f| format!("{f}\n")).collect()
}

fn feature(geometry: Value, properties: Value) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    batch.column_by_name(name).unwrap()
}

fn field_type(schema: &Schema, name: &str) -> DataType {
    schema.field_with_name(name).unwrap().data_type().clone()
}

fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = column(b, name).as_string::<i32>();
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn geojson_error(result: Result<impl std::fmt::Debug, Error>) -> (Option<u64>, String) {
    match result {
        Err(Error::GeoJson {
            feature, message, ..
        }) => (feature, message),
        // A geometry's own error: the same text as when it was a message.
        Err(Error::Geometry {
            feature, source, ..
        }) => (feature, format!("geometry: {source}")),
        other => panic!("expected Error::GeoJson or Error::Geometry, got {other:?}"),
    }
}

fn every_geometry() -> Vec<Value> {
    vec![
        json!({"type": "Point", "coordinates": [1.5, -2.25]}),
        json!({"type": "Point", "coordinates": [1.5, -2.25, 100.0]}),
        json!({"type": "Point", "coordinates": []}),
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1], [2, 0.5]]}),
        json!({"type": "LineString", "coordinates": [[0, 0, 1], [1, 1, 2]]}),
        json!({"type": "LineString", "coordinates": []}),
        json!({"type": "Polygon", "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[2, 2], [2, 3], [3, 3], [2, 2]]
        ]}),
        json!({"type": "Polygon", "coordinates": [[[0, 0, 5], [1, 0, 5], [1, 1, 6], [0, 0, 5]]]}),
        json!({"type": "Polygon", "coordinates": []}),
        json!({"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}),
        json!({"type": "MultiPoint", "coordinates": [[1, 2, 3], [4, 5, 6]]}),
        json!({"type": "MultiPoint", "coordinates": []}),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 4]]]}),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0, 0], [1, 1, 1]]]}),
        json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 0]]],
            [[[5, 5], [6, 5], [6, 6], [5, 5]], [[5.2, 5.1], [5.8, 5.1], [5.8, 5.8], [5.2, 5.1]]]
        ]}),
        json!({"type": "MultiPolygon", "coordinates": [[[[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]]]]}),
        json!({"type": "MultiPolygon", "coordinates": []}),
        json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [1, 2]},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
            ]}
        ]}),
        json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [1, 2, 3]},
            {"type": "MultiPoint", "coordinates": [[4, 5, 6]]}
        ]}),
        json!({"type": "GeometryCollection", "geometries": []}),
        // Coordinates that need every digit to round-trip.
        json!({"type": "Point", "coordinates": [-122.419_415_5, 37.774_929_5, 0.1]}),
        json!({"type": "Point", "coordinates": [1e-300, 12_345_678.123_456_78]}),
        Value::Null,
    ]
}

// ---------------------------------------------------------------- round trips

#[test]
fn every_geometry_type_round_trips_in_every_format() {
    let features: Vec<Value> = every_geometry()
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let mut f = feature(g, json!({"i": i}));
            f["id"] = json!(i);
            f
        })
        .collect();
    let expected: Vec<Value> = features.iter().map(normalise).collect();
    for input in [collection(&features), ndjson(&features)] {
        for batch_size in [1, 2, 7, 1000] {
            let (schema, batches) = read_ok(&input, batch_size);
            assert_eq!(
                batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
                features.len()
            );
            for format in [
                GeoJsonFormat::FeatureCollection,
                GeoJsonFormat::NewlineDelimited,
                GeoJsonFormat::FeatureArray,
            ] {
                let text = write(schema.clone(), &batches, format);
                let got: Vec<Value> = features_of(&text, format).iter().map(normalise).collect();
                assert_eq!(got, expected, "{format:?}, batch size {batch_size}");
            }
        }
    }
}

#[test]
fn full_precision_coordinates_round_trip_exactly() {
    // Shortest round-trip decimals of random doubles have up to 17 digits,
    // which serde_json's default float parsing gets one bit wrong about one
    // time in eight; the reader must not.
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |scale: f64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1_u64 << 53) as f64 * 2.0 * scale - scale
    };
    let coords: Vec<Vec<f64>> = (0..2000)
        .map(|_| vec![next(180.0), next(90.0), next(9000.0)])
        .collect();
    let input = ndjson(&[feature(
        json!({"type": "LineString", "coordinates": coords}),
        json!({"x": next(1e6)}),
    )]);
    let (schema, batches) = read_ok(&input, 10);
    let out = write(schema, &batches, GeoJsonFormat::NewlineDelimited);
    // Compare texts: parsing them back with serde_json here would slip too.
    // Both sides are serde_json's shortest round-trip form of the f64s.
    let section = |text: &str, from: &str, to: &str| {
        let start = text.find(from).unwrap() + from.len();
        text[start..].split(to).next().unwrap().to_owned()
    };
    let numbers = |text: &str| -> Vec<String> {
        text.split(['[', ']', ','])
            .filter(|t| !t.is_empty())
            .map(|t| t.trim_end_matches(".0").to_owned())
            .collect()
    };
    let expected = numbers(&section(&input, "\"coordinates\":", "]]"));
    let got = numbers(&section(&out, "\"coordinates\":", "]]"));
    assert_eq!(expected.len(), 6000);
    let differ = expected.iter().zip(&got).filter(|(a, b)| a != b).count();
    assert_eq!((differ, got.len()), (0, 6000));
    assert_eq!(section(&out, "\"x\":", "}"), section(&input, "\"x\":", "}"));
}

#[test]
fn wkb_is_iso_with_z_codes() {
    let input = ndjson(&[
        feature(
            json!({"type": "Point", "coordinates": [1, 2, 3]}),
            json!({}),
        ),
        feature(
            json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [0, 1], [0, 0]]]]}),
            json!({}),
        ),
        feature(
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2, 3]}]}),
            json!({}),
        ),
    ]);
    let (reader, batches) = read(&input, 10).unwrap();
    assert_eq!(field_type(&reader.schema(), "geometry"), DataType::Binary);
    let g = column(&batches[0], "geometry").as_binary::<i32>();
    let code = |row: usize| u32::from_le_bytes(g.value(row)[1..5].try_into().unwrap());
    assert_eq!(g.value(0)[0], 1, "little endian");
    assert_eq!(code(0), 1001);
    assert_eq!(code(1), 6);
    assert_eq!(code(2), 1007);
    // The member of a Z collection is Z as well.
    assert_eq!(
        u32::from_le_bytes(g.value(2)[10..14].try_into().unwrap()),
        1001
    );
    let types: Vec<String> = reader
        .geometry_types()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(types, ["Point Z", "MultiPolygon", "GeometryCollection Z"]);
    let bbox = reader.bbox().unwrap();
    assert_eq!(bbox.to_vec(), vec![0.0, 0.0, 3.0, 1.0, 2.0, 3.0]);
}

#[test]
fn mixed_dimensions_in_one_geometry_get_z_zero() {
    let input = ndjson(&[json!({"type": "LineString", "coordinates": [[0, 0], [1, 1, 5]]})]);
    let (schema, batches) = read_ok(&input, 10);
    let out = features_of(
        &write(schema, &batches, GeoJsonFormat::NewlineDelimited),
        GeoJsonFormat::NewlineDelimited,
    );
    assert_eq!(
        out[0]["geometry"],
        json!({"type": "LineString", "coordinates": [[0.0, 0.0, 0.0], [1.0, 1.0, 5.0]]})
    );
}

#[test]
fn properties_round_trip_with_nulls_nesting_and_lists() {
    let features = vec![
        feature(
            json!({"type": "Point", "coordinates": [0, 0]}),
            json!({"name": "a", "n": 1, "x": 0.5, "ok": true, "tags": ["p", "q"],
                   "o": {"k": 1, "inner": {"deep": [1.5, 2.5]}}, "nothing": null}),
        ),
        feature(
            Value::Null,
            json!({"name": null, "n": -7, "tags": [], "o": {"k": 2}}),
        ),
        feature(json!({"type": "Point", "coordinates": [1, 1]}), Value::Null),
        json!({"type": "Feature", "geometry": null, "properties": {"o": null, "x": 3}}),
    ];
    let (schema, batches) = read_ok(&collection(&features), 2);
    let out = write(schema, &batches, GeoJsonFormat::FeatureCollection);
    let got: Vec<Value> = features_of(&out, GeoJsonFormat::FeatureCollection)
        .iter()
        .map(normalise)
        .collect();
    let mut expected: Vec<Value> = features.iter().map(normalise).collect();
    // Struct members missing from a feature come back as null members.
    expected[1]["properties"]["o"] = json!({"k": 2, "inner": null});
    expected[0]["properties"]["x"] = json!(0.5);
    expected[3]["properties"]["x"] = json!(3.0);
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------- inference

#[test]
fn schema_covers_properties_that_first_appear_after_the_first_batch() {
    let features: Vec<Value> = (0..5)
        .map(|i| {
            let props = if i == 4 {
                json!({"a": i, "late": "here", "late_obj": {"z": true}})
            } else {
                json!({"a": i})
            };
            feature(json!({"type": "Point", "coordinates": [i, i]}), props)
        })
        .collect();
    for input in [collection(&features), ndjson(&features)] {
        let (schema, batches) = read_ok(&input, 2);
        assert_eq!(batches.len(), 3);
        assert_eq!(
            batches
                .iter()
                .map(RecordBatch::num_rows)
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["a", "late", "late_obj", "geometry"]);
        assert_eq!(
            strings(&batches, "late"),
            [None, None, None, None, Some("here".to_owned())]
        );
        for b in &batches {
            assert_eq!(b.schema(), schema);
        }
        assert!(column(&batches[0], "late_obj").is_null(0));
    }
}

#[test]
fn integers_and_floats() {
    let features = vec![
        feature(
            Value::Null,
            json!({"mixed": 1, "ints": 1, "big": 1, "one_point_oh": 1.0}),
        ),
        feature(
            Value::Null,
            json!({"mixed": 2.5, "ints": -9_007_199_254_740_993_i64, "big": u64::MAX}),
        ),
        feature(Value::Null, json!({"mixed": null, "ints": null})),
    ];
    let (schema, batches) = read_ok(&collection(&features), 2);
    assert_eq!(field_type(&schema, "mixed"), DataType::Float64);
    assert_eq!(field_type(&schema, "ints"), DataType::Int64);
    assert_eq!(field_type(&schema, "big"), DataType::Float64);
    assert_eq!(field_type(&schema, "one_point_oh"), DataType::Float64);
    let mixed: Vec<Option<f64>> = batches
        .iter()
        .flat_map(|b| {
            column(b, "mixed")
                .as_primitive::<Float64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(mixed, [Some(1.0), Some(2.5), None]);
    let ints: Vec<Option<i64>> = batches
        .iter()
        .flat_map(|b| {
            column(b, "ints")
                .as_primitive::<Int64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ints, [Some(1), Some(-9_007_199_254_740_993), None]);
}

#[test]
fn nested_objects_unify_their_members() {
    let features = vec![
        feature(Value::Null, json!({"o": {"a": 1, "s": {"x": [1]}}})),
        feature(Value::Null, json!({"o": null})),
        feature(
            Value::Null,
            json!({"o": {"b": "x", "a": 2.5, "s": {"y": false}}}),
        ),
    ];
    let (schema, batches) = read_ok(&ndjson(&features), 1);
    let expected = DataType::Struct(Fields::from(vec![
        Field::new("a", DataType::Float64, true),
        Field::new(
            "s",
            DataType::Struct(Fields::from(vec![
                Field::new(
                    "x",
                    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                    true,
                ),
                Field::new("y", DataType::Boolean, true),
            ])),
            true,
        ),
        Field::new("b", DataType::Utf8, true),
    ]));
    assert_eq!(field_type(&schema, "o"), expected);
    assert!(column(&batches[1], "o").is_null(0));
    let third = column(&batches[2], "o").as_struct();
    assert_eq!(
        third
            .column_by_name("b")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "x"
    );
}

#[test]
fn lists_of_one_element_type() {
    let features = vec![
        feature(
            Value::Null,
            json!({"l": [1, 2], "ll": [[1], [2, 3]], "lo": [{"a": 1}], "empty": []}),
        ),
        feature(
            Value::Null,
            json!({"l": [], "ll": [], "lo": [{"b": "x"}, null], "empty": []}),
        ),
        feature(Value::Null, json!({"l": null, "ll": [[null]]})),
    ];
    let (schema, batches) = read_ok(&ndjson(&features), 100);
    let list = |dt| DataType::List(Arc::new(Field::new_list_field(dt, true)));
    assert_eq!(field_type(&schema, "l"), list(DataType::Int64));
    assert_eq!(field_type(&schema, "ll"), list(list(DataType::Int64)));
    assert_eq!(field_type(&schema, "empty"), list(DataType::Utf8));
    assert_eq!(
        field_type(&schema, "lo"),
        list(DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ])))
    );
    let l = column(&batches[0], "l").as_list::<i32>();
    assert_eq!(l.value(0).as_primitive::<Int64Type>().values(), &[1, 2]);
    assert_eq!(l.value(1).len(), 0);
    assert!(l.is_null(2));
}

#[test]
fn conflicting_types_fall_back_to_json_text() {
    let features = vec![
        feature(
            Value::Null,
            json!({"v": "a", "arr": [1, "a"], "o": {"m": 1}, "e": {}, "ov": {"k": 1}, "b": true}),
        ),
        feature(
            Value::Null,
            json!({"v": 1, "arr": [2], "o": {"m": "x"}, "e": {}, "ov": [1, 2], "b": 0}),
        ),
        feature(
            Value::Null,
            json!({"v": {"k": [1, null]}, "o": {"m": null}, "e": null, "b": null}),
        ),
        feature(Value::Null, json!({"v": true})),
        feature(Value::Null, json!({"v": null})),
        feature(Value::Null, json!({"v": 2.5})),
    ];
    let (schema, batches) = read_ok(&collection(&features), 4);
    for name in ["v", "arr", "e", "ov", "b"] {
        assert_eq!(field_type(&schema, name), DataType::Utf8, "{name}");
    }
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        strings(&batches, "v"),
        [
            s("\"a\""),
            s("1"),
            s("{\"k\":[1,null]}"),
            s("true"),
            None,
            s("2.5")
        ]
    );
    assert_eq!(
        strings(&batches, "arr"),
        [s("[1,\"a\"]"), s("[2]"), None, None, None, None]
    );
    assert_eq!(
        strings(&batches, "e"),
        [s("{}"), s("{}"), None, None, None, None]
    );
    assert_eq!(
        strings(&batches, "ov"),
        [s("{\"k\":1}"), s("[1,2]"), None, None, None, None]
    );
    assert_eq!(
        strings(&batches, "b"),
        [s("true"), s("0"), None, None, None, None]
    );
    // A conflict inside an object only turns that member into JSON text.
    assert_eq!(
        field_type(&schema, "o"),
        DataType::Struct(Fields::from(vec![Field::new("m", DataType::Utf8, true)]))
    );
    let m: Vec<Option<String>> = batches
        .iter()
        .flat_map(|b| {
            let m = column(b, "o")
                .as_struct()
                .column(0)
                .as_string::<i32>()
                .clone();
            (0..m.len()).map(move |i| m.is_valid(i).then(|| m.value(i).to_owned()))
        })
        .collect();
    assert_eq!(m[..3], [s("1"), s("\"x\""), None]);
}

#[test]
fn null_only_properties_are_utf8() {
    let (schema, batches) = read_ok(
        &ndjson(&[
            feature(Value::Null, json!({"n": null})),
            feature(Value::Null, json!({})),
        ]),
        10,
    );
    assert_eq!(field_type(&schema, "n"), DataType::Utf8);
    assert_eq!(column(&batches[0], "n").null_count(), 2);
}

#[test]
fn feature_ids() {
    let ints = [
        json!({"type": "Feature", "id": 1, "properties": {}, "geometry": null}),
        json!({"type": "Feature", "id": 2, "properties": {}, "geometry": null}),
        json!({"type": "Feature", "properties": {}, "geometry": null}),
    ];
    let (reader, batches) = read(&collection(&ints), 2).unwrap();
    assert_eq!(reader.feature_id_column(), Some("id"));
    assert_eq!(field_type(&reader.schema(), "id"), DataType::Int64);
    assert_eq!(reader.schema().field(0).name(), "id");
    let out = features_of(
        &write(reader.schema(), &batches, GeoJsonFormat::FeatureCollection),
        GeoJsonFormat::FeatureCollection,
    );
    assert_eq!(out[0]["id"], json!(1));
    assert!(out[2].get("id").is_none());
    assert_eq!(out[0]["properties"], json!({}));

    let mixed = [
        json!({"type": "Feature", "id": 12, "properties": {}, "geometry": null}),
        json!({"type": "Feature", "id": "b", "properties": {}, "geometry": null}),
    ];
    let (reader, batches) = read(&ndjson(&mixed), 2).unwrap();
    assert_eq!(field_type(&reader.schema(), "id"), DataType::Utf8);
    assert_eq!(
        strings(&batches, "id"),
        [Some("12".to_owned()), Some("b".to_owned())]
    );

    // A property called "id" as well: the Feature id goes to "__feature_id".
    let both = [
        json!({"type": "Feature", "id": "f1", "properties": {"id": 10, "geometry": "x"}, "geometry": null}),
        json!({"type": "Feature", "id": "f2", "properties": {"id": 11}, "geometry": {"type": "Point", "coordinates": [1, 2]}}),
    ];
    let (reader, batches) = read(&collection(&both), 2).unwrap();
    assert_eq!(reader.feature_id_column(), Some("__feature_id"));
    let names: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["__feature_id", "id", "__property_geometry", "geometry"]
    );
    let out = features_of(
        &write(reader.schema(), &batches, GeoJsonFormat::NewlineDelimited),
        GeoJsonFormat::NewlineDelimited,
    );
    assert_eq!(out[0]["id"], json!("f1"));
    assert_eq!(out[0]["properties"]["id"], json!(10));
    assert_eq!(out[1]["id"], json!("f2"));
    assert_eq!(out[1]["properties"]["id"], json!(11));
}

// ---------------------------------------------------------------- layouts and sources

#[test]
fn newline_delimited_with_bare_geometries_blank_lines_and_crlf() {
    let text = "{\"type\":\"Feature\",\"properties\":{\"a\":1},\"geometry\":null}\r\n\
                \r\n\
                {\"type\":\"Point\",\"coordinates\":[1,2]}\r\n\
                \u{1e}{\"type\":\"Feature\",\"properties\":{\"a\":2},\"geometry\":{\"type\":\"Point\",\"coordinates\":[3,4]}}";
    let (reader, batches) = read(text, 2).unwrap();
    assert_eq!(reader.format(), GeoJsonFormat::NewlineDelimited);
    assert_eq!(reader.num_features(), 3);
    let a: Vec<Option<i64>> = batches
        .iter()
        .flat_map(|b| {
            column(b, "a")
                .as_primitive::<Int64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(a, [Some(1), None, Some(2)]);
}

#[test]
fn a_single_pretty_printed_feature_reads() {
    let text = serde_json::to_string_pretty(&json!({
        "properties": {"p": "x"},
        "geometry": {"type": "Point", "coordinates": [1, 2]},
        "type": "Feature"
    }))
    .unwrap();
    let (reader, batches) = read(&format!("\u{feff}{text}"), 10).unwrap();
    assert_eq!(reader.format(), GeoJsonFormat::NewlineDelimited);
    assert_eq!(batches[0].num_rows(), 1);
}

#[test]
fn collection_members_around_features_are_skipped() {
    let text = r#"{
      "name": "x", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
      "bbox": [0, 0, 1, 1],
      "features": [
        {"type": "Feature", "properties": {"a": "]}\"["}, "geometry": null, "foreign": {"deep": [[[]]]}},
        {"type": "Feature", "properties": {"a": "b"}, "geometry": null}
      ],
      "type": "FeatureCollection",
      "after": [1, 2, {"features": []}]
    }"#;
    let (reader, batches) = read(text, 10).unwrap();
    assert_eq!(reader.format(), GeoJsonFormat::FeatureCollection);
    assert_eq!(
        strings(&batches, "a"),
        [Some("]}\"[".to_owned()), Some("b".to_owned())]
    );
}

#[test]
fn empty_inputs() {
    for text in [
        "",
        "  \n",
        r#"{"type":"FeatureCollection","features":[]}"#,
        "[]",
    ] {
        let (reader, batches) = read(text, 10).unwrap();
        assert!(batches.is_empty(), "{text:?}");
        assert_eq!(reader.num_features(), 0);
        assert_eq!(reader.bbox(), None);
        let names: Vec<String> = reader
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["geometry"]);
    }
}

#[test]
fn feature_arrays_read() {
    let text = json!([feature(
        json!({"type": "Point", "coordinates": [1, 2]}),
        json!({"k": 1})
    )])
    .to_string();
    let (reader, batches) = read(&text, 10).unwrap();
    assert_eq!(reader.format(), GeoJsonFormat::FeatureArray);
    assert_eq!(batches[0].num_rows(), 1);
}

#[test]
fn paths_and_non_seekable_readers_give_the_same_batches() {
    let features: Vec<Value> = (0..10)
        .map(|i| {
            feature(
                json!({"type": "Point", "coordinates": [i, i]}),
                json!({"i": i}),
            )
        })
        .collect();
    let text = collection(&features);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let from_path: Vec<RecordBatch> =
        GeoJsonReader::try_from_path(file.path(), ReadOptions::default().with_batch_size(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    /// A reader that hands out a few bytes at a time and cannot seek, like a pipe.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let from_pipe: Vec<RecordBatch> = GeoJsonReader::try_from_reader(
        Trickle(text.as_bytes()),
        ReadOptions::default().with_batch_size(3),
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(from_path, from_pipe);
    assert_eq!(from_path.len(), 4);

    let missing = GeoJsonReader::try_from_path("/nonexistent/x.geojson", ReadOptions::default());
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
    let zero =
        GeoJsonReader::try_from_reader(Cursor::new(""), ReadOptions::default().with_batch_size(0));
    assert!(matches!(zero, Err(Error::ZeroBatchSize)), "{zero:?}");
}

/// Generates newline-delimited features on the fly, so the whole input never
/// exists in memory: the reader must stream it (through its spill file).
struct Generated {
    next: u64,
    total: u64,
    pending: Vec<u8>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() && self.next < self.total {
            let i = self.next;
            self.next += 1;
            let extra = if i % 1000 == 999 {
                format!(",\"rare_{i}\":{i}")
            } else {
                String::new()
            };
            self.pending = format!(
                "{{\"type\":\"Feature\",\"id\":{i},\"properties\":{{\"name\":\"f{i}\",\"v\":{}{extra}}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{i},{}]}}}}\n",
                i as f64 / 4.0,
                -(i as f64)
            )
            .into_bytes();
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn many_features_stream_in_batches() {
    let total = 20_000;
    let reader = GeoJsonReader::try_from_reader(
        Generated {
            next: 0,
            total,
            pending: Vec::new(),
        },
        ReadOptions::default().with_batch_size(4096),
    )
    .unwrap();
    assert_eq!(reader.num_features(), total);
    let schema = reader.schema();
    // Properties that first appear late in the input are in the schema.
    assert!(schema.field_with_name("rare_19999").is_ok());
    let mut rows = 0;
    let mut batches = 0;
    for batch in reader {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 4096);
        assert_eq!(batch.schema(), schema);
        rows += batch.num_rows();
        batches += 1;
    }
    assert_eq!(rows, 20_000);
    assert_eq!(batches, 5);
}

// ---------------------------------------------------------------- bad input

#[test]
fn truncated_json_names_the_feature() {
    let features: Vec<Value> = (0..3)
        .map(|i| {
            feature(
                json!({"type": "Point", "coordinates": [i, i]}),
                json!({"i": i}),
            )
        })
        .collect();
    let text = collection(&features);
    let cut = text.find("\"i\":2").unwrap();
    let (n, message) = geojson_error(read(&text[..cut], 10));
    assert_eq!(n, Some(3), "{message}");
    assert!(message.contains("end of input"), "{message}");

    let lines = ndjson(&features);
    let cut = lines.rfind("\"i\"").unwrap();
    let (n, _) = geojson_error(read(&lines[..cut], 10));
    assert_eq!(n, Some(3));
    let (n, message) = geojson_error(read(
        "{\"type\":\"Feature\",\"properties\":{}}\n{\"type\":\"Feature\",,}\n",
        10,
    ));
    assert_eq!(n, Some(2));
    assert!(message.contains("invalid JSON"), "{message}");
}

#[test]
fn bad_geometries_name_the_feature() {
    let good = feature(json!({"type": "Point", "coordinates": [0, 0]}), json!({}));
    let cases = [
        (
            json!({"type": "Polygon", "coordinates": [[0, 0], [1, 1], [1, 0], [0, 0]]}),
            "position",
        ),
        (
            json!({"type": "Point", "coordinates": [[0, 0]]}),
            "non-numeric",
        ),
        (
            json!({"type": "LineString", "coordinates": [[0, 0], [1]]}),
            "at least two",
        ),
        (
            json!({"type": "Hexagon", "coordinates": [0, 0]}),
            "unknown geometry type \"Hexagon\"",
        ),
        (
            json!({"type": "Point", "coordinates": [0, "1"]}),
            "non-numeric coordinate \"1\"",
        ),
        (
            json!({"type": "Point", "coordinates": [0, null]}),
            "non-numeric",
        ),
        (json!({"type": "Point"}), "coordinates"),
        (json!({"coordinates": [0, 0]}), "no \"type\""),
        (
            json!({"type": "GeometryCollection", "geometries": [null]}),
            "geometry object",
        ),
        (
            json!({"type": "MultiPolygon", "coordinates": [[[0, 0], [1, 1]]]}),
            "position",
        ),
        (json!("POINT (0 0)"), "geometry object"),
    ];
    for (geometry, expected) in cases {
        let features = [
            good.clone(),
            good.clone(),
            feature(geometry.clone(), json!({})),
        ];
        for text in [collection(&features), ndjson(&features)] {
            let (n, message) = geojson_error(read(&text, 1));
            assert_eq!(n, Some(3), "{geometry}: {message}");
            assert!(message.contains(expected), "{geometry}: {message}");
            assert!(message.starts_with("geometry"), "{message}");
        }
    }
}

#[test]
fn bad_features_and_documents() {
    let cases: [(&str, Option<u64>, &str); 10] = [
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":5,"geometry":null}]}"#,
            Some(1),
            "\"properties\" must be an object",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}, 42]}"#,
            Some(2),
            "expected a GeoJSON Feature object",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Point","coordinates":[0,0]}]}"#,
            Some(1),
            "must be Features",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature"}]} trailing"#,
            None,
            "after the end",
        ),
        (
            r#"{"type":"FeatureCollection","features":{}}"#,
            None,
            "expected '['",
        ),
        (
            "{\"type\":\"Feature\"}\n{\"type\":\"Fish\"}\n",
            Some(2),
            "unknown GeoJSON type \"Fish\"",
        ),
        (
            "{\"type\":\"Feature\"}\n{\"type\":\"FeatureCollection\",\"features\":[]}\n",
            Some(2),
            "whole input",
        ),
        ("{\"properties\":{}}", Some(1), "no \"type\""),
        ("hello", None, "expected a GeoJSON object"),
        ("{\"type\":\"Feature\"}\n[1, 2", Some(2), "end of input"),
    ];
    for (text, feature, expected) in cases {
        let (n, message) = geojson_error(read(text, 10));
        assert_eq!(n, feature, "{text}: {message}");
        assert!(message.contains(expected), "{text}: {message}");
    }
    // The error says where it is.
    let err = read(
        r#"{"type":"FeatureCollection","features":[{"type":"Fish"}]}"#,
        10,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("- (feature 1): unknown GeoJSON type"),
        "{err}"
    );
}

#[test]
fn no_prefix_or_corruption_of_a_document_panics() {
    let features: Vec<Value> = every_geometry()
        .into_iter()
        .take(12)
        .enumerate()
        .map(|(i, g)| feature(g, json!({"i": i, "s": "x\"y", "o": {"l": [1, 2.5]}})))
        .collect();
    let text = collection(&features);
    let bytes = text.as_bytes();
    // Every prefix either reads or is an error (most are truncated JSON).
    for cut in (0..bytes.len()).step_by(3) {
        if let Ok(reader) = GeoJsonReader::try_from_reader(&bytes[..cut], ReadOptions::default()) {
            for batch in reader {
                let _ = batch;
            }
        }
    }
    // Deterministic single-byte corruptions.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let replacements = b"{}[],:\"0-.e \\x";
    for _ in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut damaged = bytes.to_vec();
        let at = (seed % damaged.len() as u64) as usize;
        damaged[at] = replacements[(seed >> 32) as usize % replacements.len()];
        if let Ok(reader) =
            GeoJsonReader::try_from_reader(damaged.as_slice(), ReadOptions::default())
        {
            let schema = reader.schema();
            let batches: Vec<RecordBatch> = reader.filter_map(Result::ok).collect();
            let _ = write_batches(
                Vec::new(),
                schema,
                batches.into_iter().map(Ok::<_, Error>),
                WriteOptions::default(),
            );
        }
    }
}

// ---------------------------------------------------------------- writing

fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut b = vec![1, 1, 0, 0, 0];
    b.extend_from_slice(&x.to_le_bytes());
    b.extend_from_slice(&y.to_le_bytes());
    b
}

#[test]
fn arrow_types_map_to_json() {
    let struct_array = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int8, true)),
            Arc::new(Int8Array::from(vec![Some(1), None])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef,
        ),
    ]);
    let mut list = ListBuilder::new(Int32Builder::new());
    list.append_value([Some(1), None, Some(3)]);
    list.append_null();
    let list = list.finish();
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    dict.append_value("red");
    dict.append_null();
    let dict = dict.finish();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("u64", Arc::new(UInt64Array::from(vec![u64::MAX, 0]))),
        (
            "f32",
            Arc::new(Float32Array::from(vec![0.1, f32::INFINITY])),
        ),
        ("f64", Arc::new(Float64Array::from(vec![f64::NAN, 1e-7]))),
        ("bool", Arc::new(BooleanArray::from(vec![Some(true), None]))),
        ("large", Arc::new(LargeStringArray::from(vec!["l", "m"]))),
        (
            "view",
            Arc::new(StringViewArray::from(vec![
                "a view string that is long",
                "v",
            ])),
        ),
        (
            "bin",
            Arc::new(BinaryArray::from(vec![&[0xde_u8, 0xad][..], &[][..]])),
        ),
        (
            "fixed",
            Arc::new(FixedSizeBinaryArray::try_from_iter([[1_u8, 2], [3, 4]].into_iter()).unwrap()),
        ),
        ("date", Arc::new(Date32Array::from(vec![19_723, -1]))),
        (
            "ts_utc",
            Arc::new(
                TimestampMillisecondArray::from(vec![1_704_067_200_250, 0]).with_timezone("UTC"),
            ),
        ),
        (
            "ts",
            Arc::new(TimestampMillisecondArray::from(vec![1_704_067_200_000, -1])),
        ),
        (
            "time",
            Arc::new(Time64MicrosecondArray::from(vec![3_723_000_001, 0])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![1230, -5])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        ("struct", Arc::new(struct_array)),
        ("list", Arc::new(list)),
        ("dict", Arc::new(dict)),
        (
            "geometry",
            Arc::new(BinaryArray::from(vec![
                Some(wkb_point(1.0, 2.0).as_slice()),
                None,
            ])),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let out = write(batch.schema(), &[batch], GeoJsonFormat::NewlineDelimited);
    let got = features_of(&out, GeoJsonFormat::NewlineDelimited);
    assert_eq!(
        got[0],
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
               "properties": {"u64": u64::MAX, "f32": 0.1, "f64": null, "bool": true, "large": "l",
                 "view": "a view string that is long", "bin": "dead", "fixed": "0102",
                 "date": "2024-01-01", "ts_utc": "2024-01-01T00:00:00.250Z", "ts": "2024-01-01T00:00:00",
                 "time": "01:02:03.000001", "dec": "12.30", "struct": {"a": 1, "b": "x"},
                 "list": [1, null, 3], "dict": "red"}})
    );
    assert_eq!(
        got[1]["properties"],
        json!({"u64": 0, "f32": null, "f64": 1e-7, "bool": null, "large": "m", "view": "v",
               "bin": "", "fixed": "0304", "date": "1969-12-31", "ts_utc": "1970-01-01T00:00:00Z",
               "ts": "1969-12-31T23:59:59.999", "time": "00:00:00", "dec": "-0.05",
               "struct": {"a": null, "b": "y"}, "list": null, "dict": null})
    );
    assert_eq!(got[1]["geometry"], Value::Null);
}

#[test]
fn large_and_view_binary_geometries_and_xyzm() {
    let mut xyzm = vec![1];
    xyzm.extend_from_slice(&3001_u32.to_le_bytes());
    for v in [1.0_f64, 2.0, 3.0, 4.0] {
        xyzm.extend_from_slice(&v.to_le_bytes());
    }
    let point = wkb_point(5.0, 6.0);
    for geometry in [
        Arc::new(LargeBinaryArray::from(vec![
            xyzm.as_slice(),
            point.as_slice(),
        ])) as ArrayRef,
        Arc::new(BinaryViewArray::from(vec![
            xyzm.as_slice(),
            point.as_slice(),
        ])) as ArrayRef,
    ] {
        let batch = RecordBatch::try_from_iter([("geom", geometry)]).unwrap();
        let options = WriteOptions::default()
            .with_geometry_column("geom")
            .with_format(GeoJsonFormat::NewlineDelimited);
        let out =
            write_batches(Vec::new(), batch.schema(), [Ok::<_, Error>(batch)], options).unwrap();
        let got = features_of(
            std::str::from_utf8(&out).unwrap(),
            GeoJsonFormat::NewlineDelimited,
        );
        assert_eq!(got[0]["geometry"]["coordinates"], json!([1.0, 2.0, 3.0]));
        assert_eq!(got[1]["geometry"]["coordinates"], json!([5.0, 6.0]));
    }
}

#[test]
fn invalid_wkb_names_column_and_row() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "geometry",
        DataType::Binary,
        true,
    )]));
    let batch = |values: Vec<Option<&[u8]>>| {
        let mut b = BinaryBuilder::new();
        for v in values {
            b.append_option(v);
        }
        RecordBatch::try_new(schema.clone(), vec![Arc::new(b.finish())]).unwrap()
    };
    let good = wkb_point(0.0, 0.0);
    let first = batch(vec![Some(&good), None, Some(&good)]);
    let second = batch(vec![Some(&good), Some(&good[..9])]);
    let mut writer =
        GeoJsonWriter::try_new(Vec::new(), schema.clone(), WriteOptions::default()).unwrap();
    writer.write(&first).unwrap();
    match writer.write(&second) {
        Err(Error::InvalidWkb {
            column,
            row,
            source,
        }) => {
            let message = source.to_string();
            assert_eq!(column, "geometry");
            assert_eq!(row, 4);
            assert!(message.contains("end of WKB"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    for bad in [&[][..], &[2, 1, 0, 0, 0][..], &[1, 99, 0, 0, 0][..]] {
        let mut writer =
            GeoJsonWriter::try_new(Vec::new(), schema.clone(), WriteOptions::default()).unwrap();
        let result = writer.write(&batch(vec![Some(bad)]));
        assert!(
            matches!(result, Err(Error::InvalidWkb { row: 0, .. })),
            "{result:?}"
        );
    }
}

#[test]
fn writer_rejects_what_it_cannot_write() {
    let geometry = Field::new("geometry", DataType::Binary, true);
    let cases = [
        Schema::new(vec![Field::new("geom", DataType::Binary, true)]),
        Schema::new(vec![Field::new("geometry", DataType::Utf8, true)]),
        Schema::new(vec![
            geometry.clone(),
            Field::new(
                "d",
                DataType::Duration(arrow_schema::TimeUnit::Second),
                true,
            ),
        ]),
    ];
    for (i, schema) in cases.into_iter().enumerate() {
        let result = GeoJsonWriter::try_new(
            Vec::new(),
            Arc::new(schema.clone()),
            WriteOptions::default(),
        );
        let expected = match (i, &result) {
            (0, Err(Error::NoGeometryColumn { column })) => column == "geometry",
            (1, Err(Error::GeometryNotWkb { column, data_type })) => {
                column == "geometry" && data_type == &Some(DataType::Utf8)
            }
            (2, Err(Error::UnsupportedType { column, .. })) => column == "d",
            _ => false,
        };
        assert!(expected, "{schema:?}: {result:?}");
    }
    let schema = Arc::new(Schema::new(vec![geometry.clone()]));
    let named = WriteOptions::default().with_id_column("fid");
    assert!(matches!(
        GeoJsonWriter::try_new(Vec::new(), schema.clone(), named),
        Err(Error::NoIdColumn { column }) if column == "fid"
    ));
    // A batch with other columns than the writer's schema.
    let mut writer = GeoJsonWriter::try_new(Vec::new(), schema, WriteOptions::default()).unwrap();
    let other = RecordBatch::try_from_iter([(
        "d",
        Arc::new(DurationSecondArray::from(vec![1])) as ArrayRef,
    )])
    .unwrap();
    assert!(matches!(writer.write(&other), Err(Error::SchemaMismatch)));
}

#[test]
fn id_column_choices() {
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef,
        ),
        ("fid", Arc::new(Int8Array::from(vec![5, 6])) as ArrayRef),
        (
            "geometry",
            Arc::new(BinaryArray::from(vec![None::<&[u8]>, None])) as ArrayRef,
        ),
    ])
    .unwrap();
    let run = |options: WriteOptions| {
        let out = write_batches(
            Vec::new(),
            batch.schema(),
            [Ok::<_, Error>(batch.clone())],
            options.with_format(GeoJsonFormat::NewlineDelimited),
        )
        .unwrap();
        features_of(
            std::str::from_utf8(&out).unwrap(),
            GeoJsonFormat::NewlineDelimited,
        )
    };
    let auto = run(WriteOptions::default());
    assert_eq!(auto[0]["id"], json!("a"));
    assert!(auto[1].get("id").is_none());
    assert_eq!(auto[0]["properties"], json!({"fid": 5}));
    let named = run(WriteOptions::default().with_id_column("fid"));
    assert_eq!(named[1]["id"], json!(6));
    assert_eq!(named[1]["properties"], json!({"id": null}));
    let none = run(WriteOptions::default().without_id_column());
    assert!(none[0].get("id").is_none());
    assert_eq!(none[0]["properties"], json!({"id": "a", "fid": 5}));
}

#[test]
fn sparse_properties_can_be_left_out() {
    let features = [
        feature(Value::Null, json!({"a": 1, "o": {"x": null, "y": 2}})),
        feature(Value::Null, json!({"b": "x"})),
    ];
    let (schema, batches) = read_ok(&ndjson(&features), 10);
    let options = WriteOptions::default()
        .without_null_properties()
        .with_format(GeoJsonFormat::NewlineDelimited);
    let out = write_batches(
        Vec::new(),
        schema,
        batches.into_iter().map(Ok::<_, Error>),
        options,
    )
    .unwrap();
    let got = features_of(
        std::str::from_utf8(&out).unwrap(),
        GeoJsonFormat::NewlineDelimited,
    );
    assert_eq!(
        got[0]["properties"],
        json!({"a": 1, "o": {"x": null, "y": 2}})
    );
    assert_eq!(got[1]["properties"], json!({"b": "x"}));
}

#[test]
fn feature_collection_output_is_exact() {
    let (schema, batches) = read_ok(
        &ndjson(&[feature(
            json!({"type": "Point", "coordinates": [1, 2]}),
            json!({"a": 1}),
        )]),
        10,
    );
    assert_eq!(
        write(schema, &batches, GeoJsonFormat::FeatureCollection),
        "{\"type\":\"FeatureCollection\",\"features\":[\n\
         {\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1.0,2.0]},\"properties\":{\"a\":1}}\n\
         ]}\n"
    );
}

// ---------------------------------------------------------------- corpus

#[test]
fn stac_corpus_geojson_reads_and_round_trips() {
    let Some(dir) = test_support::corpus("stac") else {
        return;
    };
    let mut files = test_support::files_with_suffix(&dir, ".json");
    files.extend(test_support::files_with_suffix(&dir, ".ndjson"));
    let (mut read_files, mut features) = (0, 0);
    for path in &files {
        let value: Result<Value, _> = if path.extension().is_some_and(|e| e == "ndjson") {
            Ok(json!({"type": "Feature"}))
        } else {
            serde_json::from_slice(&std::fs::read(path).unwrap())
        };
        let Ok(value) = value else { continue };
        let kind = value.get("type").and_then(Value::as_str).map(str::to_owned);
        let is_geojson =
            value.is_array() || matches!(kind.as_deref(), Some("Feature" | "FeatureCollection"));
        let result = GeoJsonReader::try_from_path(path, ReadOptions::default().with_batch_size(3));
        if !is_geojson {
            // STAC Collections and JSON Schemas are not GeoJSON: a clear error, no panic.
            assert!(
                matches!(result, Err(Error::GeoJson { .. })),
                "{}: {result:?}",
                path.display()
            );
            continue;
        }
        let reader = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let schema = reader.schema();
        let expected = reader.num_features();
        let batches: Vec<RecordBatch> = reader
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows as u64, expected, "{}", path.display());
        // Write back and read again: the same batches.
        let text = write(schema.clone(), &batches, GeoJsonFormat::FeatureCollection);
        let (again_schema, again) = read_ok(&text, 3);
        assert_eq!(again_schema, schema, "{}", path.display());
        assert_eq!(again, batches, "{}", path.display());
        read_files += 1;
        features += rows;
    }
    println!("read {read_files} GeoJSON files, {features} features");
    assert!(read_files >= 40, "{read_files}");

    // Known shapes.
    let count = |rel: &str| {
        GeoJsonReader::try_from_path(dir.join(rel), ReadOptions::default())
            .unwrap()
            .num_features()
    };
    assert_eq!(count("rustac/item-collection.json"), 30);
    assert_eq!(count("rustac/items.ndjson"), 2);
    let reader =
        GeoJsonReader::try_from_path(dir.join("rustac/items.ndjson"), ReadOptions::default())
            .unwrap();
    assert_eq!(reader.format(), GeoJsonFormat::NewlineDelimited);
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(column(&batches[0], "geometry").null_count(), 1);
    let umbra = GeoJsonReader::try_from_path(
        dir.join("stac-geoparquet-py/umbra-sar.json"),
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(umbra.format(), GeoJsonFormat::FeatureArray);
    assert!(
        umbra
            .geometry_types()
            .iter()
            .any(|t| t.to_string() == "Polygon Z")
    );
}

#[test]
fn gpq_validator_case_feature_collections_read() {
    let Some(dir) = test_support::corpus("geoparquet/gpq/validator-cases") else {
        return;
    };
    let mut n = 0;
    for path in test_support::files_with_suffix(&dir, "input.json") {
        let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Some(data) = case.get("data") else {
            continue;
        };
        let (schema, batches) = read_ok(&data.to_string(), 2);
        let text = write(schema, &batches, GeoJsonFormat::FeatureCollection);
        let got: Vec<Value> = features_of(&text, GeoJsonFormat::FeatureCollection);
        assert_eq!(
            got.len(),
            data["features"].as_array().unwrap().len(),
            "{}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 10, "{n}");
}

// ---------------------------------------------------- many property names

/// 20,000 distinct property names over 2,000 features (ten each): the
/// schema stops at MAX_PROPERTY_COLUMNS columns, the rest folded into one
/// JSON column that the writer merges back, so every feature round-trips;
/// batches of wide inputs are cut to the cell budget.
#[test]
fn many_property_names_fold_into_one_json_column() {
    use geoquet_geojson::{FOLDED_PROPERTIES_COLUMN, FOLDED_PROPERTIES_KEY, MAX_PROPERTY_COLUMNS};
    let features: Vec<Value> = (0..2000)
        .map(|i| {
            let props: serde_json::Map<String, Value> = (0..10)
                .map(|j| (format!("p{}", i * 10 + j), json!(i * 10 + j)))
                .collect();
            feature(
                json!({"type": "Point", "coordinates": [1.0, 2.0]}),
                Value::Object(props),
            )
        })
        .collect();
    for text in [collection(&features), ndjson(&features)] {
        let (schema, batches) = read_ok(&text, 65_536);
        // Kept properties, the folded column, the geometry.
        assert_eq!(schema.fields().len(), MAX_PROPERTY_COLUMNS + 1);
        let folded = schema.field_with_name(FOLDED_PROPERTIES_COLUMN).unwrap();
        assert_eq!(folded.data_type(), &DataType::Utf8);
        assert_eq!(
            folded
                .metadata()
                .get(FOLDED_PROPERTIES_KEY)
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(schema.field(0).name(), "p0");
        assert_eq!(
            schema.field(MAX_PROPERTY_COLUMNS - 2).name(),
            &format!("p{}", MAX_PROPERTY_COLUMNS - 2)
        );
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 2000);
        // Rows x columns per batch within 4 Mi values.
        assert!(
            batches
                .iter()
                .all(|b| b.num_rows() * b.num_columns() <= 4 << 20)
        );
        // The first features are all in columns: no folded value.
        let values = strings(&batches, FOLDED_PROPERTIES_COLUMN);
        assert_eq!(values[0], None);
        assert_eq!(
            values[1999]
                .as_deref()
                .map(|t| serde_json::from_str::<Value>(t).unwrap()),
            Some(json!({
                "p19990": 19990, "p19991": 19991, "p19992": 19992, "p19993": 19993, "p19994": 19994,
                "p19995": 19995, "p19996": 19996, "p19997": 19997, "p19998": 19998, "p19999": 19999
            }))
        );
        // Written back: each feature has exactly its ten properties.
        let out = WriteOptions::default()
            .with_format(GeoJsonFormat::NewlineDelimited)
            .without_null_properties();
        let written = write_batches(
            Vec::new(),
            schema.clone(),
            batches.iter().cloned().map(Ok::<_, Error>),
            out,
        )
        .unwrap();
        let back = features_of(
            &String::from_utf8(written).unwrap(),
            GeoJsonFormat::NewlineDelimited,
        );
        assert_eq!(back.len(), 2000);
        for (a, b) in features.iter().zip(&back) {
            assert_eq!(a["properties"], b["properties"]);
        }
    }
}

/// A property named like the folded column keeps its own column; the folded
/// one gets another name.
#[test]
fn folded_column_name_does_not_collide() {
    use geoquet_geojson::{FOLDED_PROPERTIES_KEY, MAX_PROPERTY_COLUMNS};
    let mut props: serde_json::Map<String, Value> = serde_json::Map::new();
    props.insert("properties".into(), json!("mine"));
    for j in 0..MAX_PROPERTY_COLUMNS + 3 {
        props.insert(format!("q{j}"), json!(j));
    }
    let text = ndjson(&[feature(Value::Null, Value::Object(props))]);
    let (schema, _) = read_ok(&text, 10);
    let folded: Vec<&String> = schema
        .fields()
        .iter()
        .filter(|f| f.metadata().contains_key(FOLDED_PROPERTIES_KEY))
        .map(|f| f.name())
        .collect();
    assert_eq!(folded, [&"properties_2".to_string()]);
}

/// The folded properties column is written with Parquet's JSON logical type
/// (and read back as the same JSON text).
#[test]
fn folded_column_has_the_json_logical_type() {
    use geoparquet_io::parquet::basic::LogicalType;
    use geoparquet_io::parquet::file::reader::{FileReader, SerializedFileReader};
    use geoquet_geojson::{FOLDED_PROPERTIES_COLUMN, MAX_PROPERTY_COLUMNS};
    let mut props = serde_json::Map::new();
    for j in 0..MAX_PROPERTY_COLUMNS + 2 {
        props.insert(format!("k{j}"), json!(j));
    }
    let text = ndjson(&[feature(
        json!({"type": "Point", "coordinates": [1.0, 2.0]}),
        Value::Object(props),
    )]);
    let (schema, batches) = read_ok(&text, 10);
    let mut out = tempfile::tempfile().unwrap();
    geoparquet_io::writer::write_to(
        &mut out,
        schema,
        batches.into_iter().map(Ok),
        None,
        &geoparquet_io::writer::WriterOptions::default(),
    )
    .unwrap();
    let reader = SerializedFileReader::new(out).unwrap();
    let descr = reader.metadata().file_metadata().schema_descr_ptr();
    let folded = descr
        .columns()
        .iter()
        .find(|c| c.name() == FOLDED_PROPERTIES_COLUMN)
        .unwrap();
    assert_eq!(folded.logical_type_ref(), Some(&LogicalType::Json));
    let plain = descr.columns().iter().find(|c| c.name() == "k0").unwrap();
    assert_ne!(plain.logical_type_ref(), Some(&LogicalType::Json));
}

/// An endless stream that is not JSON (`< /dev/zero`) is refused at its first
/// byte, not copied until the temporary directory is full; a byte-order mark
/// and blank lines before the first object are fine.
#[test]
fn endless_non_json_streams_end_at_once() {
    let e = GeoJsonReader::try_from_reader(std::io::repeat(0), ReadOptions::default()).err();
    let msg = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("line 1") && msg.contains("0x00"), "{msg}");
    let e = GeoJsonReader::try_from_reader(
        Read::chain(Cursor::new(b"\n\n".to_vec()), std::io::repeat(b'x')),
        ReadOptions::default(),
    )
    .err();
    let msg = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("line 3") && msg.contains("0x78"), "{msg}");
    let text = "\u{feff}\n {\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"a\":1}}\n";
    let (_, batches) = read_ok(text, 10);
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
}

/// An endless stream of one byte, as `yes '[' | tr -d '\n'` writes.
struct Endless(u8);

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(self.0);
        Ok(buf.len())
    }
}

/// Endless `[[[[` or `{{{{` (or zeros) on a pipe is refused at its second
/// significant byte, instead of being spilled until the temporary directory is full.
#[test]
fn endless_nesting_on_a_pipe_is_refused_at_once() {
    for (byte, want) in [
        (
            b'[',
            "expected a Feature ('{') or ']' in an array of Features, found byte 0x5b",
        ),
        (
            b'{',
            "expected a key ('\"') or '}' in an object, found byte 0x7b",
        ),
        (
            0,
            "expected a GeoJSON object ('{') or an array of Features ('['), found byte 0x00",
        ),
    ] {
        let err = GeoJsonReader::try_from_reader(
            Endless(byte),
            ReadOptions::default().with_source_name("standard input"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("standard input"), "{err}");
        assert!(err.ends_with(want), "{err}");
    }
    // What may follow the opener still reads.
    for text in [
        "[]",
        "[ {\"type\": \"Feature\", \"geometry\": null, \"properties\": {}} ]",
    ] {
        GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default()).unwrap();
    }
}
