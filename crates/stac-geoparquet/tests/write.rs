//! What the writer puts in the file (spec v1.1.0), streaming behaviour,
//! inputs, search and errors.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};
use stac_geoparquet::{
    DatetimeInterval, DatetimeProblem, Error, ReadOptions, Search, Source, WriterOptions, open,
    open_with, read_items, write_parquet,
};

fn item(id: &str, x: f64, dt: &str) -> Value {
    json!({
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": id,
        "geometry": {"type": "Point", "coordinates": [x, 2.5]},
        "bbox": [x, 2.5, x, 2.5],
        "properties": {"datetime": dt},
        "links": [], "assets": {"data": {"href": format!("https://example.com/{id}.tif")}},
        "collection": "c1"
    })
}

fn ndjson(dir: &Path, name: &str, items: &[Value]) -> PathBuf {
    let p = dir.join(name);
    let text: String = items.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&p, text).unwrap();
    p
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

fn arrow_schema(path: &Path) -> arrow_schema::SchemaRef {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap(),
    )
    .unwrap()
    .schema()
    .clone()
}

#[test]
fn spec_layout_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = item("a", 1.0, "2020-01-01T00:00:00Z");
    a["properties"]["proj:geometry"] = json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]});
    a["properties"]["created"] = json!("2020-01-01T00:00:00.123456789Z");
    let b = item("b", 3.0, "2021-06-01T12:00:00Z");
    let input = ndjson(dir.path(), "in.ndjson", &[a.clone(), b.clone()]);
    let out = dir.path().join("out.parquet");
    let collection = json!({"type": "Collection", "id": "c1", "description": "d", "license": "x", "extent": {}, "links": []});
    let summary = write_parquet(
        &[Source::Path(input)],
        &out,
        &WriterOptions::default().with_collection(collection.clone()),
    )
    .unwrap();
    assert_eq!(summary.items, 2);
    assert_eq!(summary.patches, 0);
    // The GeoParquet footer is valid.
    let report = geoparquet_io::validate_footer(&out).unwrap();
    assert!(report.is_valid(), "{report:?}");
    let geo: Value = serde_json::from_str(&kv(&out, "geo").unwrap()).unwrap();
    let g = &geo["columns"]["geometry"];
    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(g["encoding"], "WKB");
    assert_eq!(g["geometry_types"], json!(["Point"]));
    assert_eq!(g["bbox"], json!([1.0, 2.5, 3.0, 2.5]));
    assert!(g.get("crs").is_none(), "OGC:CRS84 by omission");
    assert_eq!(g["covering"]["bbox"]["xmin"], json!(["bbox", "xmin"]));
    assert_eq!(geo["columns"]["proj:geometry"]["crs"], Value::Null);
    assert_eq!(
        geo["columns"]["proj:geometry"]["geometry_types"],
        json!(["Polygon"])
    );
    let stac: Value = serde_json::from_str(&kv(&out, "stac-geoparquet").unwrap()).unwrap();
    assert_eq!(stac["version"], "1.1.0");
    assert_eq!(stac["collections"]["c1"], collection);
    // Columns: required ones, properties hoisted, timestamps.
    let schema = arrow_schema(&out);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for n in [
        "type",
        "stac_version",
        "stac_extensions",
        "id",
        "geometry",
        "bbox",
        "links",
        "assets",
        "collection",
        "datetime",
        "proj:geometry",
        "created",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    use arrow_schema::{DataType, TimeUnit};
    assert_eq!(
        schema.field_with_name("datetime").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(
        schema.field_with_name("created").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(
        schema.field_with_name("proj:geometry").unwrap().data_type(),
        &DataType::Binary
    );
    assert!(
        matches!(schema.field_with_name("bbox").unwrap().data_type(), DataType::Struct(f) if f.len() == 4)
    );
    // And it reads back.
    let r = open(&out).unwrap();
    assert!(r.metadata().lossless);
    assert_eq!(r.metadata().collections["c1"], collection);
    let items: Vec<Value> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(items, vec![a, b]);
}

#[test]
fn schema_grows_and_conflicts_across_batches() {
    // A property that first appears late, one whose type changes late, a
    // list whose elements mix types: all kept, with tiny batches.
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for i in 0..3000 {
        let mut it = item(
            &format!("i{i:05}"),
            f64::from(i) / 100.0,
            "2020-01-01T00:00:00Z",
        );
        it["properties"]["n"] = if i < 2500 {
            json!(i)
        } else {
            json!(format!("s{i}"))
        };
        if i >= 2990 {
            it["properties"]["late"] = json!({"deep": [1, "x", null, {"k": []}]});
        }
        if i % 7 == 0 {
            it["properties"]["sparse"] = Value::Null;
        } else if i % 5 == 0 {
            it["properties"]["sparse"] = json!(1.5);
        }
        items.push(it);
    }
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    let mut options = WriterOptions::default().with_row_group_rows(700);
    options.batch_rows = 256;
    let summary = write_parquet(&[Source::Path(input)], &out, &options).unwrap();
    assert_eq!(summary.row_groups, 5);
    assert!(
        summary.patches > 0,
        "explicit nulls beside absent keys need patches"
    );
    assert_eq!(read_items(&out).unwrap(), items);
    let schema = arrow_schema(&out);
    let n = schema.field_with_name("n").unwrap();
    assert_eq!(n.data_type(), &arrow_schema::DataType::Utf8);
    assert_eq!(
        n.metadata().get("geoquet:json").map(String::as_str),
        Some("true")
    );
}

#[test]
fn reads_catalogs_collections_and_every_input_layout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("items")).unwrap();
    let a = item("a", 1.0, "2020-01-01T00:00:00Z");
    let b = item("b", 2.0, "2020-01-02T00:00:00Z");
    std::fs::write(
        d.join("items/a.json"),
        serde_json::to_string_pretty(&a).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("items/b.json"), b.to_string()).unwrap();
    let collection = json!({"type": "Collection", "id": "c1", "stac_version": "1.1.0", "description": "d", "license": "x", "extent": {},
        "links": [{"rel": "item", "href": "./items/a.json"}, {"rel": "item", "href": "items/b.json"}, {"rel": "self", "href": "https://example.com/c.json"}]});
    std::fs::write(d.join("collection.json"), collection.to_string()).unwrap();
    let catalog = json!({"type": "Catalog", "id": "root", "stac_version": "1.1.0", "description": "d",
        "links": [{"rel": "child", "href": "collection.json"}]});
    std::fs::write(
        d.join("catalog.json"),
        serde_json::to_string_pretty(&catalog).unwrap(),
    )
    .unwrap();
    let out = d.join("out.parquet");
    write_parquet(
        &[Source::Path(d.join("catalog.json"))],
        &out,
        &WriterOptions::default(),
    )
    .unwrap();
    let r = open(&out).unwrap();
    assert_eq!(r.metadata().collections["c1"]["id"], "c1");
    let items: Vec<Value> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(items, vec![a.clone(), b.clone()]);
    // ItemCollection, JSON array, single Item, NDJSON: all at once.
    let fc = json!({"type": "FeatureCollection", "features": [a.clone()], "numberReturned": 1});
    std::fs::write(
        d.join("fc.json"),
        serde_json::to_string_pretty(&fc).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("arr.json"), json!([b.clone()]).to_string()).unwrap();
    let nd = ndjson(d, "x.ndjson", &[a.clone(), b.clone()]);
    let sources: Vec<Source> = [
        d.join("fc.json"),
        d.join("arr.json"),
        d.join("items/a.json"),
        nd,
    ]
    .into_iter()
    .map(Source::Path)
    .collect();
    write_parquet(&sources, &out, &WriterOptions::default()).unwrap();
    assert_eq!(
        read_items(&out).unwrap(),
        vec![a.clone(), b.clone(), a.clone(), a, b]
    );
}

#[test]
fn geoarrow_geometry_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let items = vec![
        item("a", 1.0, "2020-01-01T00:00:00Z"),
        item("b", 2.0, "2020-01-02T00:00:00Z"),
    ];
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    write_parquet(
        &[Source::Path(input)],
        &out,
        &WriterOptions::default().with_geoarrow(true),
    )
    .unwrap();
    let geo: Value = serde_json::from_str(&kv(&out, "geo").unwrap()).unwrap();
    assert_eq!(geo["columns"]["geometry"]["encoding"], "point");
    assert_eq!(read_items(&out).unwrap(), items);
}

#[test]
fn search_filters_and_prunes_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for i in 0..100 {
        let mut it = item(
            &format!("i{i:03}"),
            f64::from(i),
            &format!("2020-01-{:02}T00:00:00Z", i / 4 + 1),
        );
        it["collection"] = json!(if i < 50 { "c1" } else { "c2" });
        items.push(it);
    }
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    write_parquet(
        &[Source::Path(input)],
        &out,
        &WriterOptions::default().with_row_group_rows(10),
    )
    .unwrap();
    let run = |s: Search| -> (Vec<String>, (usize, usize)) {
        let r = open_with(&out, ReadOptions::default().with_search(s)).unwrap();
        let groups = r.row_groups();
        let ids = r
            .map(|i| i.unwrap()["id"].as_str().unwrap().to_owned())
            .collect();
        (ids, groups)
    };
    let (ids, groups) = run(Search::default().with_bbox([10.5, 0.0, 12.5, 5.0]));
    assert_eq!(ids, ["i011", "i012"]);
    assert_eq!(groups, (10, 1));
    let s = Search::default()
        .with_datetime("2020-01-03T00:00:00Z/2020-01-03T23:59:59Z".parse().unwrap());
    let (ids, groups) = run(s);
    assert_eq!(ids, ["i008", "i009", "i010", "i011"]);
    assert_eq!(groups, (10, 2));
    let s = Search::default().with_datetime("../2020-01-01T00:00:00Z".parse().unwrap());
    assert_eq!(run(s).0.len(), 4);
    let (ids, groups) = run(Search::default().with_ids(vec!["i077".into()]));
    assert_eq!((ids, groups), (vec!["i077".to_owned()], (10, 1)));
    let (ids, _) = run(Search::default()
        .with_collections(vec!["c2".into()])
        .with_limit(3));
    assert_eq!(ids, ["i050", "i051", "i052"]);
    // Antimeridian-crossing query.
    let (ids, _) = run(Search::default().with_bbox([98.5, -90.0, 0.5, 90.0]));
    assert_eq!(ids, ["i000", "i099"]);
    match "yesterday".parse::<DatetimeInterval>() {
        Err(Error::InvalidDatetime {
            text,
            problem: DatetimeProblem::NotRfc3339 { end },
        }) => assert_eq!((text.as_str(), end.as_str()), ("yesterday", "yesterday")),
        other => panic!("{other:?}"),
    }
    for (text, problem) in [
        ("", DatetimeProblem::Empty),
        ("../..", DatetimeProblem::BothEndsOpen),
        ("a/b/c", DatetimeProblem::MoreThanTwoEnds),
        ("2020-01-02/2020-01-01", DatetimeProblem::StartAfterEnd),
    ] {
        match text.parse::<DatetimeInterval>() {
            Err(Error::InvalidDatetime { problem: p, .. }) => assert_eq!(p, problem, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn bad_input_is_a_typed_error_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.ndjson");
    std::fs::write(
        &p,
        format!(
            "{}\n{{\"type\": \"Feature\", oops\n",
            item("a", 1.0, "2020-01-01T00:00:00Z")
        ),
    )
    .unwrap();
    let out = dir.path().join("out.parquet");
    match write_parquet(&[Source::Path(p.clone())], &out, &WriterOptions::default()) {
        Err(Error::Json {
            item: Some(2),
            path,
            ..
        }) => assert!(path.ends_with("bad.ndjson")),
        other => panic!("{other:?}"),
    }
    assert!(!out.exists(), "no partial output");
    std::fs::write(&p, json!({"type": "Catalog", "id": "x", "links": [{"rel": "item", "href": "https://example.com/a.json"}]}).to_string()).unwrap();
    match write_parquet(&[Source::Path(p.clone())], &out, &WriterOptions::default()) {
        Err(Error::RemoteLink { path, href }) => {
            assert!(path.ends_with("bad.ndjson"));
            assert_eq!(href, "https://example.com/a.json");
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(
        &p,
        json!([{"type": "Polygon", "coordinates": []}]).to_string(),
    )
    .unwrap();
    match write_parquet(&[Source::Path(p.clone())], &out, &WriterOptions::default()) {
        Err(e @ Error::NotStac { item: Some(1), .. }) => assert!(
            e.to_string().ends_with(
                "(item 1): expected a STAC Item (type \"Feature\"), found type \"Polygon\""
            ),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    std::fs::write(&p, "not parquet").unwrap();
    assert!(matches!(
        open(&p),
        Err(Error::NotParquet { path, .. }) if path == p
    ));
    assert!(matches!(
        open(dir.path().join("missing.parquet")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn empty_input_writes_a_valid_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(dir.path(), "in.ndjson", &[]);
    let out = dir.path().join("out.parquet");
    let s = write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    assert_eq!(s.items, 0);
    assert!(read_items(&out).unwrap().is_empty());
}

#[test]
fn datetime_search_uses_start_and_end_when_datetime_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for i in 0..20 {
        let mut it = item(&format!("r{i:02}"), 1.0, "2020-01-01T00:00:00Z");
        it["properties"]["datetime"] = Value::Null;
        it["properties"]["start_datetime"] = json!(format!("20{:02}-01-01T00:00:00Z", i));
        it["properties"]["end_datetime"] = json!(format!("20{:02}-12-31T00:00:00Z", i + 2));
        items.push(it);
    }
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    write_parquet(
        &[Source::Path(input)],
        &out,
        &WriterOptions::default().with_row_group_rows(5),
    )
    .unwrap();
    let s = Search::default()
        .with_datetime("2006-06-01T00:00:00Z/2006-06-02T00:00:00Z".parse().unwrap());
    let r = open_with(&out, ReadOptions::default().with_search(s)).unwrap();
    assert_eq!(r.row_groups(), (4, 2));
    let ids: Vec<Value> = r.map(|i| i.unwrap()["id"].clone()).collect();
    assert_eq!(ids, [json!("r04"), json!("r05"), json!("r06")]);
}

#[test]
fn write_ndjson_keeps_order_across_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Value> = (0..500)
        .map(|i| {
            item(
                &format!("o{i:04}"),
                f64::from(i) / 10.0,
                "2020-01-01T00:00:00Z",
            )
        })
        .collect();
    let input = ndjson(dir.path(), "in.ndjson", &items);
    let out = dir.path().join("out.parquet");
    write_parquet(
        &[Source::Path(input)],
        &out,
        &WriterOptions::default().with_row_group_rows(64),
    )
    .unwrap();
    let mut text = Vec::new();
    let mut seen = 0;
    let mut progress = |n: u64| seen = n;
    let n = stac_geoparquet::write_ndjson(
        &out,
        ReadOptions::default().with_batch_rows(7),
        &mut text,
        Some(&mut progress),
    )
    .unwrap();
    assert_eq!((n, seen), (500, 500));
    let back: Vec<Value> = String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, items);
    // With a search and a limit (the sequential path).
    let mut text = Vec::new();
    let search = Search::default()
        .with_bbox([10.05, 0.0, 20.0, 5.0])
        .with_limit(3);
    let n = stac_geoparquet::write_ndjson(
        &out,
        ReadOptions::default().with_search(search),
        &mut text,
        None,
    )
    .unwrap();
    assert_eq!(n, 3);
    assert!(String::from_utf8(text).unwrap().starts_with(
        "{\"type\":\"Feature\",\"stac_version\":\"1.1.0\",\"stac_extensions\":[],\"id\":\"o0101\""
    ));
}

/// A damaged `ARROW:schema` footer key (an integer 8390720 bits wide, same length
/// in base64) panicked upstream's IPC schema decoder inside `open`: now an error
/// naming the file.
#[test]
fn damaged_arrow_schema_is_an_error_naming_the_file() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().unwrap();
    // An integer property: an Int64 column, bit width 64 in the IPC schema.
    let mut one = item("a", 1.0, "2024-01-01T00:00:00Z");
    one["properties"]["count"] = json!(5);
    let input = ndjson(dir.path(), "items.ndjson", &[one]);
    let out = dir.path().join("items.parquet");
    write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
    let encoded = kv(&out, "ARROW:schema").unwrap();
    let ipc = b64.decode(&encoded).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let at = bytes
        .windows(encoded.len())
        .position(|w| w == encoded.as_bytes())
        .unwrap();
    let mut errors = 0;
    for spot in (0..ipc.len().saturating_sub(3)).filter(|&i| ipc[i..i + 4] == [64, 0, 0, 0]) {
        let mut patched = ipc.clone();
        patched[spot..spot + 4].copy_from_slice(&[0x40, 0x08, 0x80, 0x00]);
        let text = b64.encode(&patched);
        assert_eq!(text.len(), encoded.len());
        let mut damaged = bytes.clone();
        damaged[at..at + text.len()].copy_from_slice(text.as_bytes());
        let bad = dir.path().join("damaged.parquet");
        std::fs::write(&bad, &damaged).unwrap();
        let r = open(&bad);
        if let Err(e) = r {
            let msg = e.to_string();
            assert!(msg.contains("damaged.parquet"), "{msg}");
            if msg.contains("the footer cannot be decoded") {
                errors += 1;
            }
        }
    }
    assert!(errors > 0);
}
