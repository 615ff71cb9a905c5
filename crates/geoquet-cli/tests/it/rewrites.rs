//! GeoParquet rewrites through the binary: URL inputs for `extract
//! --columns`, `--covering-bbox` never taking the next argument, an empty
//! `extract` that says why, and warnings for normalised metadata.

use std::process::Output;

use crate::support::{geoquet, sample, stderr};

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
}

#[test]
fn extract_columns_reads_the_footer_of_a_url() {
    let sample = sample();
    let url = format!("file://{}", sample.display());
    let o = geoquet(&[
        "extract",
        &url,
        "-",
        "--bbox",
        "-180,-90,180,90",
        "--columns",
        "name",
    ]);
    ok(&o);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    for f in &lines {
        let props = f["properties"].as_object().unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), vec!["name"], "{f}");
        assert!(
            f["geometry"].is_object(),
            "the geometry column is kept: {f}"
        );
    }
}

/// The covering column of a written file, from `inspect --json`.
fn covering_of(path: &str) -> String {
    let o = geoquet(&["inspect", "--json", path]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["geometry_columns"][0]["covering"]["column"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn covering_bbox_never_swallows_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let out = out.to_str().unwrap();
    // The flag before the positional output: the output stays the output.
    let o = geoquet(&[
        "convert",
        "test-data/sample.parquet",
        "--covering-bbox",
        out,
    ]);
    ok(&o);
    assert_eq!(covering_of(out), "bbox");
    // A name needs the `=`.
    let named = dir.path().join("named.parquet");
    let named = named.to_str().unwrap();
    let o = geoquet(&[
        "convert",
        "--covering-bbox=box",
        "test-data/sample.parquet",
        named,
    ]);
    ok(&o);
    assert_eq!(covering_of(named), "box");
}

#[test]
fn an_empty_extract_says_the_box_misses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Points around 10-11 E, 50-51 N.
    let gj = dir.path().join("pts.ndjson");
    let text: String = (0..20)
        .map(|i| {
            format!(
                "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":{{\"i\":{i}}}}}\n",
                10.0 + f64::from(i) / 20.0,
                50.0 + f64::from(i) / 20.0
            )
        })
        .collect();
    std::fs::write(&gj, text).unwrap();
    let pq = dir.path().join("pts.parquet");
    ok(&geoquet(&[
        "convert",
        gj.to_str().unwrap(),
        pq.to_str().unwrap(),
    ]));
    // Latitude first: misses, and the message says so with the order hint.
    let o = geoquet(&[
        "extract",
        pq.to_str().unwrap(),
        "-",
        "--bbox",
        "50,10,51,11",
    ]);
    ok(&o);
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("does not meet the file's bbox") && err.contains("swapped"),
        "{err}"
    );
    // A box elsewhere: the miss is reported without the swap hint.
    let o = geoquet(&[
        "extract",
        pq.to_str().unwrap(),
        "-",
        "--bbox",
        "-80,-10,-70,0",
    ]);
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("does not meet the file's bbox") && !err.contains("swapped"),
        "{err}"
    );
    // A box inside the file's bbox that holds no point: no such message.
    let o = geoquet(&[
        "extract",
        pq.to_str().unwrap(),
        "-",
        "--bbox",
        "10.0,50.9,10.1,51.0",
    ]);
    ok(&o);
    assert!(!stderr(&o).contains("does not meet"), "{}", stderr(&o));
}

#[test]
fn normalised_metadata_is_reported_and_unnormalisable_metadata_names_crs() {
    use geoquet::io::arrow_array::{BinaryArray, RecordBatch};
    use geoquet::io::arrow_schema::{DataType, Field, Schema};
    use geoquet::io::parquet::arrow::ArrowWriter;
    use geoquet::io::parquet::file::metadata::KeyValue;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, crs: &str| {
        let path = dir.path().join(name);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "geometry",
            DataType::Binary,
            true,
        )]));
        let mut wkb = vec![1u8, 1, 0, 0, 0];
        wkb.extend_from_slice(&5.0f64.to_le_bytes());
        wkb.extend_from_slice(&45.0f64.to_le_bytes());
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(BinaryArray::from_iter_values([wkb.as_slice()]))],
        )
        .unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        let geo = format!(
            r#"{{"version":"0.4.0","primary_column":"geometry","columns":{{"geometry":{{"encoding":"WKB","geometry_types":[],"crs":{crs},"edges":"Planar"}}}}}}"#
        );
        w.append_key_value_metadata(KeyValue::new("geo".to_owned(), geo));
        w.append_key_value_metadata(KeyValue::new(
            "sliderule".to_owned(),
            "{\"x\": 1}".to_owned(),
        ));
        w.close().unwrap();
        path.to_str().unwrap().to_owned()
    };
    let legacy = write(
        "legacy.parquet",
        r#"{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4326"}}"#,
    );
    let out = dir.path().join("out.parquet");
    let out = out.to_str().unwrap();
    let o = geoquet(&["convert", &legacy, out, "--geoparquet-version", "2.0"]);
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("warning:") && err.contains("EPSG:4326") && err.contains("\"planar\""),
        "{err}"
    );
    let o = geoquet(&["validate", out]);
    ok(&o);
    // Another writer's footer key is kept byte for byte.
    let footer = geoquet::io::read_footer(std::path::Path::new(out)).unwrap();
    assert_eq!(footer.facts.key_value("sliderule"), Some("{\"x\": 1}"));

    let custom = write("custom.parquet", r#""LOCAL_CS[\"Site grid\"]""#);
    let o = geoquet(&["convert", &custom, out]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--crs"), "{}", stderr(&o));
    let o = geoquet(&["convert", &custom, out, "--crs", "EPSG:3857"]);
    ok(&o);
}

/// Every GeoParquet file `convert` writes from GeoJSON passes our own `validate`:
/// every GeoJSON and NDJSON document of the shared STAC corpus (items, collections of
/// items, odd and real-world ones) and a generated file with every geometry type in
/// 2D and 3D, to every version and encoding. Inputs that are refused must be refused
/// with exit 2 and leave no file; those that are written must be valid.
#[test]
fn every_file_converted_from_geojson_passes_validate() {
    let Some(corpus) = test_support::corpus("stac") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for suffix in [".json", ".ndjson", ".geojson"] {
        inputs.extend(test_support::files_with_suffix(&corpus, suffix));
    }
    let generated = dir.path().join("every-geometry.ndjson");
    let geometries = [
        r#"{"type":"Point","coordinates":[1,2]}"#,
        r#"{"type":"Point","coordinates":[1,2,3]}"#,
        r#"{"type":"LineString","coordinates":[[0,0],[1,1],[2,0]]}"#,
        r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,2],[2,2],[2,1],[1,1]]]}"#,
        r#"{"type":"MultiPoint","coordinates":[[0,0],[179.5,-89.5]]}"#,
        r#"{"type":"MultiLineString","coordinates":[[[0,0,1],[1,1,2]],[[2,2,3],[3,3,4]]]}"#,
        r#"{"type":"MultiPolygon","coordinates":[[[[170,0],[180,0],[180,5],[170,5],[170,0]]],[[[-180,0],[-170,0],[-170,5],[-180,5],[-180,0]]]]}"#,
        r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[5,5]},{"type":"LineString","coordinates":[[5,5],[6,6]]}]}"#,
        r#"null"#,
    ];
    let text: String = geometries
        .iter()
        .enumerate()
        .map(|(i, g)| {
            format!(r#"{{"type":"Feature","id":{i},"geometry":{g},"properties":{{"i":{i},"name":"f{i}","v":{i}.5}}}}"#)
                + "\n"
        })
        .collect();
    std::fs::write(&generated, text).unwrap();
    inputs.push(generated);

    let targets: [&[&str]; 5] = [
        &["--geoparquet-version", "1.0"],
        &["--geoparquet-version", "1.1", "--covering-bbox"],
        &["--geoparquet-version", "1.1", "--encoding", "geoarrow"],
        &["--geoparquet-version", "2.0"],
        &["--geoparquet-version", "native"],
    ];
    let (mut written, mut refused) = (0usize, 0usize);
    let mut invalid = Vec::new();
    for (n, input) in inputs.iter().enumerate() {
        for (t, target) in targets.iter().enumerate() {
            let out = dir.path().join(format!("out-{n}-{t}.parquet"));
            let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
            let mut args = vec!["-q", "convert", input_s, out_s];
            args.extend_from_slice(target);
            let o = geoquet(&args);
            match o.status.code() {
                Some(0) => {}
                Some(2) => {
                    assert!(!out.exists(), "a refused conversion left {out_s}");
                    refused += 1;
                    continue;
                }
                other => panic!(
                    "convert {input_s} {target:?}: exit {other:?}: {}",
                    stderr(&o)
                ),
            }
            written += 1;
            let v = geoquet(&["validate", out_s]);
            if v.status.code() != Some(0) {
                invalid.push(format!(
                    "{} {target:?}: {}{}",
                    input.display(),
                    String::from_utf8_lossy(&v.stdout),
                    stderr(&v)
                ));
            }
            std::fs::remove_file(&out).unwrap();
        }
    }
    println!("{written} files written from GeoJSON and validated, {refused} refusals");
    assert!(
        invalid.is_empty(),
        "{} invalid outputs:\n{}",
        invalid.len(),
        invalid.join("\n")
    );
    // The generated file alone is written to every target but GeoArrow (mixed types).
    assert!(
        written >= 4 * inputs.len() / 2,
        "too few conversions ran: {written}"
    );
}
