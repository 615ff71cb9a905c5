//! Reading every good corpus file (geometries equal the expected WKT),
//! round trips through the writer for every target version and encoding,
//! and spatial filters equal a brute-force exact filter.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use arrow_array::{Array, RecordBatch};
use geo_traits::{
    CoordTrait, GeometryCollectionTrait, GeometryTrait, GeometryType as GT, LineStringTrait,
    MultiLineStringTrait, MultiPointTrait, MultiPolygonTrait, PointTrait, PolygonTrait,
};
use geoparquet_io::reader::{ReadOptions, open, open_with};
use geoparquet_io::wkb_column::wkb_values;
use geoparquet_io::writer::{GeometryEncoding, TargetVersion, WriterOptions, write_file};
use geoparquet_meta::geometry::{intersects_with_edges, parse_wkb};
use geoparquet_meta::{BoundingBox, CrsComparison, GeoParquetMetadata};

fn c<C: CoordTrait<T = f64>>(c: &C, out: &mut String) {
    let n = match c.dim() {
        geo_traits::Dimensions::Xy => 2,
        geo_traits::Dimensions::Xyz | geo_traits::Dimensions::Xym => 3,
        _ => 4,
    };
    out.push('(');
    for i in 0..n {
        let v = c.nth(i).unwrap_or(f64::NAN);
        if v.is_nan() {
            out.push_str("NaN ");
        } else {
            out.push_str(&format!("{v} "));
        }
    }
    out.push(')');
}

fn line<L: LineStringTrait<T = f64>>(l: &L, out: &mut String) {
    out.push('[');
    for co in l.coords() {
        c(&co, out);
    }
    out.push(']');
}

fn poly<P: PolygonTrait<T = f64>>(p: &P, out: &mut String) {
    out.push('{');
    for r in p.exterior().into_iter().chain(p.interiors()) {
        line(&r, out);
    }
    out.push('}');
}

/// A canonical text of any geo-traits geometry (WKT or WKB parsed), with
/// POINT EMPTY and a NaN point treated alike.
fn canon<G: GeometryTrait<T = f64>>(g: &G) -> String {
    let mut out = format!("{:?}:", g.dim());
    match g.as_type() {
        GT::Point(p) => match p.coord() {
            Some(co) if !(co.x().is_nan() && co.y().is_nan()) => c(&co, &mut out),
            _ => out.push_str("POINT EMPTY"),
        },
        GT::LineString(l) => {
            out.push_str("LS");
            line(l, &mut out);
        }
        GT::Polygon(p) => {
            out.push_str("PG");
            poly(p, &mut out);
        }
        GT::MultiPoint(mp) => {
            out.push_str("MPT");
            for p in mp.points() {
                match p.coord() {
                    Some(co) => c(&co, &mut out),
                    None => out.push_str("EMPTY"),
                }
            }
        }
        GT::MultiLineString(ml) => {
            out.push_str("MLS");
            for l in ml.line_strings() {
                line(&l, &mut out);
            }
        }
        GT::MultiPolygon(mp) => {
            out.push_str("MPG");
            for p in mp.polygons() {
                poly(&p, &mut out);
            }
        }
        GT::GeometryCollection(gc) => {
            out.push_str("GC<");
            for child in gc.geometries() {
                out.push_str(&canon(&child));
                out.push(';');
            }
            out.push('>');
        }
        _ => out.push('?'),
    }
    out
}

fn canon_wkt(text: &str) -> String {
    let w = wkt::Wkt::<f64>::from_str(text).unwrap_or_else(|e| panic!("bad WKT {text}: {e}"));
    canon(&w)
}

fn read_all(path: &Path, options: ReadOptions) -> (Vec<RecordBatch>, GeoParquetMetadata) {
    let reader = open_with(path, options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = reader.metadata().clone();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    (batches, meta)
}

fn geometries(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b.column_by_name(column).unwrap();
        let values = wkb_values(col.as_ref()).unwrap();
        for row in 0..values.len() {
            out.push(
                values
                    .value(row)
                    .map(|bytes| canon(&parse_wkb(bytes).unwrap())),
            );
        }
    }
    out
}

/// (parquet file, expected WKT per row) pairs of the corpus.
fn expectations() -> Vec<(PathBuf, Vec<Option<String>>)> {
    let mut out = Vec::new();
    if let Some(dir) = test_support::corpus("geoparquet/opengeospatial-geoparquet") {
        for csv in test_support::files_with_suffix(&dir, "-wkt.csv") {
            let text = std::fs::read_to_string(&csv).unwrap();
            let wkts: Vec<Option<String>> = text
                .lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let w = l.split_once(',').unwrap().1.trim().trim_matches('"');
                    (!w.is_empty()).then(|| canon_wkt(w))
                })
                .collect();
            let stem = csv.to_string_lossy().replace("-wkt.csv", "");
            for enc in ["wkb", "native"] {
                let p = PathBuf::from(format!("{stem}-encoding_{enc}.parquet"));
                if p.exists() {
                    out.push((p, wkts.clone()));
                }
            }
        }
    }
    if let Some(dir) = test_support::corpus("geoarrow/example") {
        for tsv in test_support::files_with_suffix(&dir, ".tsv") {
            let text = std::fs::read_to_string(&tsv).unwrap();
            let wkts: Vec<Option<String>> = text
                .lines()
                .skip(1)
                .map(|l| {
                    let w = l.trim();
                    (!w.is_empty()).then(|| canon_wkt(w))
                })
                .collect();
            let stem = tsv.to_string_lossy().replace(".tsv", "");
            for suffix in ["", "_geo", "_native"] {
                let p = PathBuf::from(format!("{stem}{suffix}.parquet"));
                if p.exists() {
                    out.push((p, wkts.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn good_files_read_with_expected_geometries() {
    let cases = expectations();
    if cases.is_empty() {
        return;
    }
    assert!(cases.len() >= 60, "{}", cases.len());
    let mut failures = Vec::new();
    for (path, expected) in &cases {
        let (batches, meta) = read_all(path, ReadOptions::default());
        let got = geometries(&batches, &meta.primary_column);
        if &got != expected {
            failures.push(format!(
                "{}:\n  got      {got:?}\n  expected {expected:?}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every readable GeoParquet file of the corpus (bad_data excluded).
fn readable_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["geoparquet", "geoarrow"] {
        if let Some(d) = test_support::corpus(sub) {
            files.extend(
                test_support::files_with_suffix(&d, ".parquet")
                    .into_iter()
                    .filter(|p| !p.to_string_lossy().contains("bad_data")),
            );
        }
    }
    files
}

fn attributes(
    batches: &[RecordBatch],
    meta: &GeoParquetMetadata,
) -> Vec<(String, arrow_array::ArrayRef)> {
    let Some(first) = batches.first() else {
        return Vec::new();
    };
    first
        .schema()
        .fields()
        .iter()
        .filter(|f| !meta.columns.contains_key(f.name()))
        .map(|f| {
            let parts: Vec<&dyn Array> = batches
                .iter()
                .map(|b| b.column_by_name(f.name()).unwrap().as_ref())
                .collect();
            (
                f.name().clone(),
                arrow_select::concat::concat(&parts).unwrap(),
            )
        })
        .collect()
}

#[test]
fn round_trip_1_0() {
    let written = round_trip(&[(TargetVersion::V1_0, GeometryEncoding::Wkb)]);
    assert!(written == 0 || written >= 140, "only {written} outputs");
}

#[test]
fn round_trip_1_1_wkb() {
    let written = round_trip(&[(TargetVersion::V1_1, GeometryEncoding::Wkb)]);
    assert!(written == 0 || written >= 140, "only {written} outputs");
}

#[test]
fn round_trip_1_1_geoarrow() {
    let written = round_trip(&[(TargetVersion::V1_1, GeometryEncoding::GeoArrow)]);
    assert!(written == 0 || written >= 95, "only {written} outputs");
}

#[test]
fn round_trip_2_0() {
    let written = round_trip(&[(TargetVersion::V2_0, GeometryEncoding::Wkb)]);
    assert!(written == 0 || written >= 140, "only {written} outputs");
}

#[test]
fn round_trip_native_only() {
    let written = round_trip(&[(TargetVersion::NativeOnly, GeometryEncoding::Wkb)]);
    assert!(written == 0 || written >= 140, "only {written} outputs");
}

fn round_trip(targets: &[(TargetVersion, GeometryEncoding)]) -> usize {
    let files = readable_files();
    if files.is_empty() {
        return 0;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    let mut failures = Vec::new();
    for path in &files {
        let (batches, meta) = read_all(path, ReadOptions::default());
        let Some(first) = batches.first() else {
            continue;
        };
        let schema = first.schema();
        let geoms: Vec<(String, Vec<Option<String>>)> = meta
            .columns
            .keys()
            .map(|k| (k.clone(), geometries(&batches, k)))
            .collect();
        let attrs = attributes(&batches, &meta);
        let has_m = meta
            .columns
            .values()
            .any(|c| c.geometry_types.iter().any(|t| t.dimension.has_m()))
            || geoms.iter().any(|(_, g)| {
                g.iter()
                    .flatten()
                    .any(|s| s.starts_with("Xym") || s.starts_with("Xyzm"))
            });
        for &(version, encoding) in targets {
            let out = dir.path().join(format!("out-{written}.parquet"));
            let options = WriterOptions::default()
                .with_version(version)
                .with_encoding(encoding);
            let result = write_file(
                &out,
                schema.clone(),
                batches.iter().cloned().map(Ok),
                Some(&meta),
                &options,
            );
            let summary = match result {
                Ok(s) => s,
                Err(e) => {
                    // Refusals must be the documented ones: M in 1.x, GeoArrow of mixed or unknown types.
                    let msg = e.to_string();
                    let identifier_crs = msg.contains("known only by its identifier")
                        || msg.contains("--crs")
                        || msg.contains("exist only in GeoParquet 2.0");
                    let expected = identifier_crs
                        || (has_m
                            && !matches!(version, TargetVersion::V2_0 | TargetVersion::NativeOnly)
                            && msg.contains("M values"))
                        || (encoding == GeometryEncoding::GeoArrow && msg.contains("GeoArrow"))
                        || (encoding == GeometryEncoding::GeoArrow && msg.contains("native"));
                    if !expected {
                        failures.push(format!(
                            "{} -> {version:?}/{encoding:?}: {msg}",
                            path.display()
                        ));
                    }
                    assert!(!out.exists(), "a failed write must leave nothing behind");
                    continue;
                }
            };
            written += 1;
            let (back, back_meta) = read_all(&out, ReadOptions::default());
            for (name, expected) in &geoms {
                let got = geometries(&back, name);
                // Native encodings promote single geometries into their Multi form.
                let same = &got == expected
                    || encoding == GeometryEncoding::GeoArrow
                        && got.len() == expected.len()
                        && got.iter().zip(expected).all(|(g, e)| {
                            g == e
                                || g.as_deref().zip(e.as_deref()).is_some_and(|(g, e)| {
                                    g.contains('M')
                                        && !e.contains("MPG")
                                        && !e.contains("MLS")
                                        && !e.contains("MPT")
                                })
                        });
                if !same {
                    failures.push(format!(
                        "{} -> {version:?}/{encoding:?}: geometries of {name} differ",
                        path.display()
                    ));
                }
                // The writer normalises legacy CRS forms (WKT, GeoJSON 2008) to PROJJSON.
                let a = &geoparquet_meta::normalize::normalize_crs(name, &meta.columns[name].crs)
                    .map_or_else(|_| meta.columns[name].crs.clone(), |n| n.0);
                let b = &back_meta.columns[name].crs;
                if a.compare(b) != CrsComparison::Same {
                    failures.push(format!(
                        "{} -> {version:?}: CRS {} became {}",
                        path.display(),
                        a.label(),
                        b.label()
                    ));
                }
                let edges = geoparquet_meta::normalize::normalize_edges(
                    name,
                    &meta.columns[name].effective_edges(),
                    true,
                )
                .map_or_else(|_| meta.columns[name].effective_edges(), |n| n.0);
                if edges != back_meta.columns[name].effective_edges() {
                    failures.push(format!("{} -> {version:?}: edges changed", path.display()));
                }
            }
            if attributes(&back, &back_meta) != attrs {
                failures.push(format!(
                    "{} -> {version:?}/{encoding:?}: attributes differ",
                    path.display()
                ));
            }
            // The file we wrote is valid for its version (footer checks);
            // native-only files too (a Parquet-native geospatial file).
            let report = geoparquet_io::validate_footer(&out).unwrap();
            if !report.is_valid() {
                failures.push(format!(
                    "{} -> {version:?}/{encoding:?}: invalid output {:?}",
                    path.display(),
                    report.findings
                ));
            }
            assert_eq!(
                summary.rows as usize,
                geoms.first().map_or(0, |g| g.1.len())
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{} files, {written} outputs written and re-read",
        files.len()
    );
    written
}

fn brute_force(path: &Path, bbox: &BoundingBox) -> usize {
    let (batches, meta) = read_all(path, ReadOptions::default());
    let wrap = meta.columns[&meta.primary_column]
        .effective_edges()
        .is_non_planar();
    let mut n = 0;
    for b in &batches {
        let col = b.column_by_name(&meta.primary_column).unwrap();
        let values = wkb_values(col.as_ref()).unwrap();
        for row in 0..values.len() {
            if let Some(bytes) = values.value(row)
                && intersects_with_edges(&parse_wkb(bytes).unwrap(), bbox, wrap)
            {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn bbox_filter_equals_brute_force() {
    let queries = [
        BoundingBox::new(-10.0, 35.0, 30.0, 60.0),
        BoundingBox::new(170.0, -30.0, -170.0, 0.0),
        BoundingBox::new(-180.0, -90.0, 180.0, 90.0),
        BoundingBox::new(-100.0, 30.0, -90.0, 40.0),
        BoundingBox::new(0.5, 0.5, 0.6, 0.6),
        BoundingBox::new(20.0, 10.0, 40.0, 30.0),
    ];
    let mut checked = 0;
    for path in readable_files() {
        let name = path.to_string_lossy();
        if !(name.contains("natural-earth")
            || name.contains("quadrangles")
            || name.contains("geography-")
            || name.contains("data-")
            || name.contains("example_"))
        {
            continue;
        }
        for q in &queries {
            let expected = brute_force(&path, q);
            let options = ReadOptions::default().with_bbox(*q);
            let reader = open_with(&path, options).unwrap();
            let got: usize = reader.map(|b| b.unwrap().num_rows()).sum();
            assert_eq!(got, expected, "{} {:?}", path.display(), q);
            checked += 1;
        }
    }
    println!("{checked} filtered reads equal the brute-force filter");
}

fn base64_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = alphabet.iter().position(|a| *a == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn no_stale_geo_copy_in_the_embedded_arrow_schema() {
    use std::collections::HashMap;
    use std::sync::Arc;
    let path = test_support::fixture("test-data/sample.parquet");
    let (batches, meta) = read_all(&path, ReadOptions::default());
    let schema = batches[0].schema();
    // An input schema carrying a stale `geo` copy, as pyarrow-made tables do.
    let mut md: HashMap<String, String> = schema.metadata().clone();
    md.insert(
        "geo".into(),
        "{\"version\":\"0.1.0\",\"stale\":true}".into(),
    );
    let stale = Arc::new(arrow_schema::Schema::new_with_metadata(
        schema.fields().clone(),
        md,
    ));
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(stale.clone(), b.columns().to_vec()).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.parquet");
    write_file(
        &out,
        stale,
        batches.into_iter().map(Ok),
        Some(&meta),
        &WriterOptions::default(),
    )
    .unwrap();
    let footer = geoparquet_io::read_footer(&out).unwrap();
    let geo_keys: Vec<_> = footer
        .facts
        .key_value
        .iter()
        .filter(|(k, _)| k == "geo")
        .collect();
    assert_eq!(geo_keys.len(), 1);
    assert!(!geo_keys[0].1.as_deref().unwrap().contains("stale"));
    let arrow_schema = footer.facts.key_value("ARROW:schema").unwrap();
    let bytes = base64_decode(arrow_schema);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("stale") && !text.contains("primary_column"),
        "ARROW:schema carries a geo copy"
    );
}

#[test]
fn float32_and_3d_coverings_contain_their_geometries() {
    use geoparquet_io::writer::CoveringOptions;
    let Some(dir) = test_support::corpus("geoarrow/example") else {
        return;
    };
    for name in [
        "example_polygon-z_geo.parquet",
        "example_linestring_geo.parquet",
    ] {
        let path = dir.join(name);
        let (batches, meta) = read_all(&path, ReadOptions::default());
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("f32.parquet");
        let options = WriterOptions::default().with_covering(Some(
            CoveringOptions::default()
                .with_name("box")
                .with_float32(true)
                .with_z(name.contains("-z")),
        ));
        write_file(
            &out,
            batches[0].schema(),
            batches.iter().cloned().map(Ok),
            Some(&meta),
            &options,
        )
        .unwrap();
        let report = geoparquet_io::validate_footer(&out).unwrap();
        assert!(report.is_valid(), "{:?}", report.findings);
        let (back, back_meta) = read_all(&out, ReadOptions::default().with_keep_covering(true));
        let cov = back_meta.primary().unwrap().covering.clone().unwrap();
        assert_eq!(cov.bbox.column(), Some("box"));
        assert_eq!(cov.bbox.zmin.is_some(), name.contains("-z"));
        for b in &back {
            let boxes = b.column_by_name("box").unwrap();
            let st = boxes
                .as_any()
                .downcast_ref::<arrow_array::StructArray>()
                .unwrap();
            let geoms = wkb_values(b.column_by_name("geometry").unwrap().as_ref()).unwrap();
            let f = |n: &str, row: usize| -> f64 {
                let c = st.column_by_name(n).unwrap();
                f64::from(
                    c.as_any()
                        .downcast_ref::<arrow_array::Float32Array>()
                        .unwrap()
                        .value(row),
                )
            };
            for row in 0..b.num_rows() {
                let Some(bytes) = geoms.value(row) else {
                    continue;
                };
                let Some(gb) = geoparquet_meta::geometry::wkb_info(bytes).unwrap().bbox else {
                    continue;
                };
                assert!(f("xmin", row) <= gb.xmin && f("ymin", row) <= gb.ymin);
                assert!(f("xmax", row) >= gb.xmax && f("ymax", row) >= gb.ymax);
            }
        }
    }
}

#[test]
fn rewinding_orients_every_ring_and_keeps_the_shape() {
    use geoparquet_meta::geometry::{rewind_wkb, wkb_info};
    let mut checked = 0;
    for path in readable_files() {
        let name = path.to_string_lossy().to_string();
        if !(name.contains("polygon") || name.contains("countries") || name.contains("orientation"))
            || name.contains("-m")
        {
            continue;
        }
        let (batches, meta) = read_all(&path, ReadOptions::default());
        let Some(first) = batches.first() else {
            continue;
        };
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r.parquet");
        let options = WriterOptions::default().with_rewind(true);
        if write_file(
            &out,
            first.schema(),
            batches.iter().cloned().map(Ok),
            Some(&meta),
            &options,
        )
        .is_err()
        {
            continue; // e.g. identifier-only CRS; covered elsewhere
        }
        let (back, back_meta) = read_all(&out, ReadOptions::default());
        let col = &back_meta.primary_column;
        assert_eq!(
            back_meta.columns[col]
                .orientation
                .as_ref()
                .map(|o| o.as_str()),
            Some("counterclockwise")
        );
        let wrap = back_meta.columns[col].effective_edges().is_non_planar();
        let before: Vec<_> = batches
            .iter()
            .flat_map(|b| {
                let v = wkb_values(b.column_by_name(col).unwrap().as_ref()).unwrap();
                (0..v.len())
                    .map(|i| v.value(i).map(|x| wkb_info(x).unwrap()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut i = 0;
        for b in &back {
            let v = wkb_values(b.column_by_name(col).unwrap().as_ref()).unwrap();
            for row in 0..v.len() {
                if let Some(bytes) = v.value(row) {
                    assert_eq!(
                        rewind_wkb(bytes, wrap).unwrap(),
                        None,
                        "{name} row {row} not oriented"
                    );
                    assert_eq!(
                        Some(wkb_info(bytes).unwrap()),
                        before[i],
                        "{name} row {row} changed shape"
                    );
                }
                i += 1;
            }
        }
        checked += 1;
    }
    assert!(checked == 0 || checked >= 10, "{checked}");
}

// --- rewrites keep what is not ours, and write valid metadata ---------------------------

/// WKB of a point.
fn point_wkb(x: f64, y: f64) -> Vec<u8> {
    let mut v = vec![1u8, 1, 0, 0, 0];
    v.extend_from_slice(&x.to_le_bytes());
    v.extend_from_slice(&y.to_le_bytes());
    v
}

/// Writes `rows` points with columns `id`, `name`, `geometry` through the
/// upstream writer, with `geo` set to `geo` and the other footer keys `extra`.
fn file_with_footer(path: &Path, rows: usize, geo: &str, extra: &[(&str, &str)]) {
    use std::sync::Arc;
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("name", arrow_schema::DataType::Utf8, true),
        arrow_schema::Field::new("geometry", arrow_schema::DataType::Binary, true),
    ]));
    // Scattered so that a sort changes the order.
    let pts: Vec<(f64, f64)> = (0..rows)
        .map(|i| {
            let k = (i * 7919) % rows.max(1);
            (
                -170.0 + 340.0 * k as f64 / rows as f64,
                -60.0 + (i % 120) as f64,
            )
        })
        .collect();
    let wkbs: Vec<Vec<u8>> = pts.iter().map(|&(x, y)| point_wkb(x, y)).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::Int64Array::from_iter_values(0..rows as i64)),
            Arc::new(arrow_array::StringArray::from_iter_values(
                (0..rows).map(|i| format!("n{i}")),
            )),
            Arc::new(arrow_array::BinaryArray::from_iter_values(
                wkbs.iter().map(Vec::as_slice),
            )),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
        "geo".into(),
        geo.to_owned(),
    ));
    for (k, v) in extra {
        w.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
            (*k).to_owned(),
            (*v).to_owned(),
        ));
    }
    w.close().unwrap();
}

/// The footer keys of a file other than the ones the writer owns, sorted.
fn foreign_keys(path: &Path) -> Vec<(String, Option<String>)> {
    let footer = geoparquet_io::read_footer(path).unwrap();
    let mut kv: Vec<(String, Option<String>)> = footer
        .facts
        .key_value
        .iter()
        .filter(|(k, _)| !geoparquet_io::writer::OWN_FOOTER_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    kv.sort();
    kv
}

const GEO_1_0: &str = r#"{"version":"1.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#;

/// SlideRule, stac-geoparquet and pandas keys as other writers make them
/// (values with odd spacing and key order, kept byte for byte).
fn foreign_footer() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "sliderule",
            r#"{"version":"v4.19.2",  "parms": {"asset":"icesat2","poly":[{"lat":1.0,"lon":2.0}]}, "z":1}"#,
        ),
        (
            "recordinfo",
            r#"{"time":"time_ns","as_geo":true,"x":"longitude","y":"latitude"}"#,
        ),
        ("meta", "{\"srcid\": {\"0\": \"ATL03_x.h5\"}}\n"),
        (
            "stac-geoparquet",
            r#"{"version":"1.0.0","collections":{"c":{"type":"Collection"}}}"#,
        ),
        (
            "pandas",
            r#"{"index_columns": [{"kind": "range", "name": null, "start": 0, "stop": 3, "step": 1}], "column_indexes": [], "columns": [{"name": "id", "field_name": "id", "pandas_type": "int64", "numpy_type": "int64", "metadata": null}, {"name": "name", "field_name": "name", "pandas_type": "unicode", "numpy_type": "object", "metadata": null}, {"name": "geometry", "field_name": "geometry", "pandas_type": "bytes", "numpy_type": "object", "metadata": null}], "creator": {"library": "pyarrow", "version": "17.0.0"}, "pandas_version": "2.2.2"}"#,
        ),
    ]
}

#[test]
fn foreign_footer_keys_survive_convert_sort_and_fix() {
    use geoparquet_io::check::{FixOptions, fix_file};
    use geoparquet_io::sort::{SortOptions, sort_file};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    let extra = foreign_footer();
    file_with_footer(&input, 5000, GEO_1_0, &extra);
    let mut expected: Vec<(String, Option<String>)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
        .collect();
    expected.sort();
    assert_eq!(foreign_keys(&input), expected);

    let mut outputs = Vec::new();
    for (i, version) in [
        TargetVersion::V1_0,
        TargetVersion::V1_1,
        TargetVersion::V2_0,
        TargetVersion::NativeOnly,
    ]
    .into_iter()
    .enumerate()
    {
        let out = dir.path().join(format!("convert-{i}.parquet"));
        let reader = open(&input).unwrap();
        let (schema, meta) = (reader.schema(), reader.metadata().clone());
        write_file(
            &out,
            schema,
            reader,
            Some(&meta),
            &WriterOptions::default().with_version(version),
        )
        .unwrap();
        outputs.push((format!("convert {version:?}"), out));
    }
    let sorted = dir.path().join("sorted.parquet");
    let s = sort_file(
        &input,
        &sorted,
        // Small enough to spill runs: the keys go through the merge too.
        &SortOptions::default().with_memory(1 << 20),
    )
    .unwrap();
    assert_eq!(s.written.rows, 5000);
    outputs.push(("sort".into(), sorted));
    let fixed = dir.path().join("fixed.parquet");
    fix_file(&input, &fixed, &FixOptions::default()).unwrap();
    outputs.push(("check --fix".into(), fixed));
    for (what, out) in &outputs {
        assert_eq!(&foreign_keys(out), &expected, "{what}");
        // Kept once, in the footer, not again inside ARROW:schema.
        let footer = geoparquet_io::read_footer(out).unwrap();
        let arrow_schema = base64_decode(footer.facts.key_value("ARROW:schema").unwrap());
        assert!(
            !String::from_utf8_lossy(&arrow_schema).contains("ATL03_x.h5"),
            "{what}: the keys are repeated inside ARROW:schema"
        );
        let report =
            geoparquet_io::validate(out, &geoparquet_io::ValidateOptions::default()).unwrap();
        assert!(report.is_valid(), "{what}: {:?}", report.findings);
    }

    // Dropping a column pandas describes makes its description stale: the
    // key is dropped (with a warning), every other key stays.
    let reader = open_with(
        &input,
        ReadOptions::default().with_columns(vec!["id".into(), "geometry".into()]),
    )
    .unwrap();
    let (schema, meta) = (reader.schema(), reader.metadata().clone());
    let out = dir.path().join("projected.parquet");
    let summary = write_file(&out, schema, reader, Some(&meta), &WriterOptions::default()).unwrap();
    let without_pandas: Vec<_> = expected
        .iter()
        .filter(|(k, _)| k != "pandas")
        .cloned()
        .collect();
    assert_eq!(foreign_keys(&out), without_pandas);
    assert!(
        summary.warnings.iter().any(|w| w.contains("pandas")),
        "{:?}",
        summary.warnings
    );
}

/// The `geo` JSON of a 1.0.0 file whose column says `column` (a JSON fragment).
fn geo_with(column: &str) -> String {
    format!(
        r#"{{"version":"1.0.0","primary_column":"geometry","columns":{{"geometry":{{"encoding":"WKB","geometry_types":["Point"],{column}}}}}}}"#
    )
}

const WKT_4326: &str = r#"GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]"#;

#[test]
fn legacy_and_invalid_metadata_is_normalised_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        format!(r#""crs":"{WKT_4326}""#),
        r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4326"}}"#.to_owned(),
        r#""crs":"EPSG:4326","edges":"Planar""#.to_owned(),
        r#""crs":{"type":"name","properties":{"name":"EPSG:4326"}},"edges":"Spherical","epoch":0"#
            .to_owned(),
    ];
    for (i, column) in cases.iter().enumerate() {
        let input = dir.path().join(format!("legacy-{i}.parquet"));
        file_with_footer(&input, 50, &geo_with(column), &[]);
        for version in [
            TargetVersion::V1_0,
            TargetVersion::V1_1,
            TargetVersion::V2_0,
            TargetVersion::NativeOnly,
        ] {
            let out = dir.path().join(format!("legacy-{i}-{version:?}.parquet"));
            let reader = open(&input).unwrap();
            let (schema, meta) = (reader.schema(), reader.metadata().clone());
            let summary = write_file(
                &out,
                schema,
                reader,
                Some(&meta),
                &WriterOptions::default().with_version(version),
            )
            .unwrap_or_else(|e| panic!("{column} -> {version:?}: {e}"));
            assert!(!summary.warnings.is_empty(), "{column}: no warning");
            let col = summary.metadata.primary().unwrap();
            assert_eq!(col.crs.epsg(), Some(4326), "{column} -> {version:?}");
            assert!(col.crs.projjson().is_some(), "{column} -> {version:?}");
            assert_eq!(col.epoch, None);
            assert!(matches!(
                col.effective_edges(),
                geoparquet_meta::Edges::Planar | geoparquet_meta::Edges::Spherical
            ));
            let footer = geoparquet_io::read_footer(&out).unwrap();
            if version != TargetVersion::NativeOnly {
                let geo = footer.facts.key_value("geo").unwrap();
                assert!(
                    !geo.contains("GEOGCS")
                        && !geo.contains("\"name\",\"properties\"")
                        && !geo.contains("Planar")
                        && !geo.contains("\"epoch\""),
                    "{column} -> {version:?}: {geo}"
                );
            }
            if matches!(version, TargetVersion::V2_0 | TargetVersion::NativeOnly) {
                // The Parquet logical type is always there for 2.0 and native.
                assert!(
                    footer.facts.native_columns().next().is_some(),
                    "{column} -> {version:?}: no GEOMETRY/GEOGRAPHY logical type"
                );
            }
            let report =
                geoparquet_io::validate(&out, &geoparquet_io::ValidateOptions::default()).unwrap();
            assert!(
                report.is_valid(),
                "{column} -> {version:?}: {:?}",
                report.findings
            );
        }
    }

    // What cannot be normalised is refused, naming --crs, and nothing is written;
    // with a CRS given, the same input converts.
    let input = dir.path().join("custom-wkt.parquet");
    file_with_footer(
        &input,
        10,
        &geo_with(r#""crs":"PROJCS[\"Custom\",GEOGCS[\"WGS 84\"],PROJECTION[\"Mercator\"]]""#),
        &[],
    );
    let out = dir.path().join("custom-out.parquet");
    let reader = open(&input).unwrap();
    let (schema, meta) = (reader.schema(), reader.metadata().clone());
    let err = write_file(&out, schema, reader, Some(&meta), &WriterOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--crs") && err.contains("WKT"), "{err}");
    assert!(!out.exists());
    let reader = open(&input).unwrap();
    let (schema, meta) = (reader.schema(), reader.metadata().clone());
    let options = WriterOptions::default().with_crs(geoparquet_meta::Crs::from_epsg(3857).unwrap());
    write_file(&out, schema, reader, Some(&meta), &options).unwrap();
    assert!(out.exists());
}

/// Whether a writer's refusal is one of the documented ones.
fn documented_refusal(msg: &str) -> bool {
    msg.contains("M values")
        || msg.contains("known only by its identifier")
        || msg.contains("exist only in GeoParquet 2.0")
        || msg.contains("--crs")
}

#[test]
fn every_rewrite_of_a_valid_corpus_file_passes_validate() {
    use geoparquet_io::sort::{SortOptions, sort_file};
    let mut files = Vec::new();
    for sub in ["geoparquet", "sliderule"] {
        if let Some(d) = test_support::corpus(sub) {
            for suffix in [".parquet", ".geoparquet"] {
                files.extend(
                    test_support::files_with_suffix(&d, suffix)
                        .into_iter()
                        .filter(|p| !p.to_string_lossy().contains("bad_data")),
                );
            }
        }
    }
    if files.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = geoparquet_io::ValidateOptions::default();
    let (mut inputs, mut written, mut refused) = (0, 0, Vec::new());
    let mut sliderule = 0;
    let mut failures = Vec::new();
    for path in &files {
        let valid = geoparquet_io::validate(path, &options).is_ok_and(|r| r.is_valid());
        if !valid {
            continue;
        }
        inputs += 1;
        let before = foreign_keys(path);
        if before.iter().any(|(k, _)| k == "sliderule") {
            sliderule += 1;
        }
        let mut jobs: Vec<(String, std::result::Result<PathBuf, String>)> = Vec::new();
        for version in [
            TargetVersion::V1_0,
            TargetVersion::V1_1,
            TargetVersion::V2_0,
            TargetVersion::NativeOnly,
        ] {
            let out = dir.path().join(format!("out-{inputs}-{version:?}.parquet"));
            let result = open(path).and_then(|reader| {
                let (schema, meta) = (reader.schema(), reader.metadata().clone());
                write_file(
                    &out,
                    schema,
                    reader,
                    Some(&meta),
                    &WriterOptions::default().with_version(version),
                )
            });
            jobs.push((
                format!("{version:?}"),
                result.map(|_| out).map_err(|e| e.to_string()),
            ));
        }
        let out = dir.path().join(format!("out-{inputs}-sorted.parquet"));
        let result = sort_file(path, &out, &SortOptions::default());
        jobs.push((
            "sort".into(),
            result.map(|_| out).map_err(|e| e.to_string()),
        ));
        for (what, result) in jobs {
            let out = match result {
                Ok(out) => out,
                Err(msg) if documented_refusal(&msg) => {
                    refused.push(format!("{} -> {what}: {msg}", path.display()));
                    continue;
                }
                Err(msg) => {
                    failures.push(format!("{} -> {what}: error {msg}", path.display()));
                    continue;
                }
            };
            written += 1;
            match geoparquet_io::validate(&out, &options) {
                Ok(r) if r.is_valid() => {}
                Ok(r) => failures.push(format!(
                    "{} -> {what}: invalid output: {:?}",
                    path.display(),
                    r.findings
                        .iter()
                        .filter(|f| f.severity == geoparquet_meta::validate::Severity::Error)
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                )),
                Err(e) => failures.push(format!("{} -> {what}: {e}", path.display())),
            }
            // Footer keys of other writers are kept (pandas may be dropped as stale).
            let after = foreign_keys(&out);
            let lost: Vec<&String> = before
                .iter()
                .filter(|kv| kv.0 != "pandas" && !after.contains(kv))
                .map(|kv| &kv.0)
                .collect();
            if !lost.is_empty() {
                failures.push(format!("{} -> {what}: lost {lost:?}", path.display()));
            }
        }
    }
    println!(
        "{inputs} valid inputs ({sliderule} from SlideRule), {written} outputs validated, {} documented refusals:\n{}",
        refused.len(),
        refused.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        inputs >= 20 && written >= inputs * 4,
        "{inputs} inputs, {written} outputs"
    );
}

/// `sort` keeps the input's version and encoding unless told otherwise: a
/// 2.0 file with M coordinates stays 2.0 (1.1 cannot hold M), a native-only
/// file stays native-only, a 1.0 file stays 1.0, a GeoArrow 1.1 file stays
/// GeoArrow. With `keep_input_format: false`, the writer options decide.
#[test]
fn sort_keeps_the_input_version_and_encoding() {
    use geoparquet_io::sort::{SortOptions, input_format, sort_file};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    // Scattered points (with M for the 2.0 case), so that the sort reorders them.
    let points = |m: bool| -> Vec<Vec<u8>> {
        (0..200u32)
            .map(|i| {
                let k = f64::from((i * 7919) % 200);
                let mut v = vec![1u8];
                v.extend_from_slice(&(if m { 2001u32 } else { 1 }).to_le_bytes());
                for c in [-170.0 + 1.7 * k, -60.0 + 0.6 * k] {
                    v.extend_from_slice(&f64::to_le_bytes(c));
                }
                if m {
                    v.extend_from_slice(&f64::from(i).to_le_bytes());
                }
                v
            })
            .collect()
    };
    let cases = [
        (TargetVersion::V1_0, GeometryEncoding::Wkb, false, "1.0.0"),
        (TargetVersion::V1_1, GeometryEncoding::Wkb, false, "1.1.0"),
        (
            TargetVersion::V1_1,
            GeometryEncoding::GeoArrow,
            false,
            "1.1.0",
        ),
        (TargetVersion::V2_0, GeometryEncoding::Wkb, true, "2.0.0"),
        (TargetVersion::NativeOnly, GeometryEncoding::Wkb, true, ""),
    ];
    for (i, (version, encoding, m, expected)) in cases.into_iter().enumerate() {
        let input = dir.path().join(format!("in-{i}.parquet"));
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "geometry",
            arrow_schema::DataType::Binary,
            true,
        )]));
        let wkbs = points(m);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(arrow_array::BinaryArray::from_iter_values(
                wkbs.iter().map(Vec::as_slice),
            ))],
        )
        .unwrap();
        let options = WriterOptions::default()
            .with_version(version)
            .with_encoding(encoding);
        // GeoArrow needs the input to declare its one geometry type.
        let declared = GeoParquetMetadata::from_json_str(
            r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#,
        )
        .unwrap();
        let declared = (encoding == GeometryEncoding::GeoArrow).then_some(&declared);
        write_file(
            &input,
            schema,
            std::iter::once(Ok(batch)),
            declared,
            &options,
        )
        .unwrap();
        let facts = geoparquet_io::read_footer(&input).unwrap().facts;
        assert_eq!(input_format(&facts), (version, encoding), "{version:?}");
        let out = dir.path().join(format!("sorted-{i}.parquet"));
        sort_file(&input, &out, &SortOptions::default())
            .unwrap_or_else(|e| panic!("{version:?}/{encoding:?}: {e}"));
        let facts = geoparquet_io::read_footer(&out).unwrap().facts;
        assert_eq!(input_format(&facts), (version, encoding), "{version:?}");
        match facts.geo_metadata() {
            Some(meta) => assert_eq!(meta.unwrap().version.as_str(), expected),
            None => assert!(expected.is_empty() && facts.native_columns().next().is_some()),
        }
        let report = geoparquet_io::validate_footer(&out).unwrap();
        assert!(report.is_valid(), "{version:?}: {:?}", report.findings);
        // Every row is there, M values included.
        let (batches, meta) = read_all(&out, ReadOptions::default());
        let mut got: Vec<Vec<u8>> = Vec::new();
        for b in &batches {
            let values =
                wkb_values(b.column_by_name(&meta.primary_column).unwrap().as_ref()).unwrap();
            got.extend((0..values.len()).filter_map(|r| values.value(r).map(<[u8]>::to_vec)));
        }
        let (mut got, mut want) = (got, wkbs.clone());
        got.sort();
        want.sort();
        assert_eq!(got, want, "{version:?}/{encoding:?}");
        // Told otherwise, the sort converts: M cannot go to 1.1.
        let converting = SortOptions::default().with_keep_input_format(false);
        let out = dir.path().join(format!("converted-{i}.parquet"));
        let result = sort_file(&input, &out, &converting);
        if m {
            assert!(result.is_err(), "{version:?}: M written to 1.1");
        } else {
            result.unwrap();
            let meta = geoparquet_io::read_footer(&out)
                .unwrap()
                .facts
                .geo_metadata()
                .unwrap()
                .unwrap();
            assert_eq!(meta.version.as_str(), "1.1.0");
        }
    }
}

/// A GeoParquet 1.1 file of 2,000 points on a grid (`id`, `name`, `geometry`
/// and the covering `bbox`), 100 rows per row group and per page.
fn grid_file(dir: &Path) -> PathBuf {
    use std::sync::Arc;
    let path = dir.join("grid.parquet");
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false),
        arrow_schema::Field::new("name", arrow_schema::DataType::Utf8, true),
        arrow_schema::Field::new("geometry", arrow_schema::DataType::Binary, true),
    ]));
    let rows = 2000usize;
    let wkbs: Vec<Vec<u8>> = (0..rows)
        .map(|i| {
            point_wkb(
                -100.0 + (i % 50) as f64 * 4.0,
                -40.0 + (i / 50) as f64 * 2.0,
            )
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::Int64Array::from_iter_values(0..rows as i64)),
            Arc::new(arrow_array::StringArray::from_iter_values(
                (0..rows).map(|i| format!("n{i}")),
            )),
            Arc::new(arrow_array::BinaryArray::from_iter_values(
                wkbs.iter().map(Vec::as_slice),
            )),
        ],
    )
    .unwrap();
    let mut options = WriterOptions::default().with_version(TargetVersion::V1_1);
    options.row_group_rows = 100;
    write_file(&path, schema, std::iter::once(Ok(batch)), None, &options).unwrap();
    path
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("id").unwrap();
            let a = c
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap();
            a.values().to_vec()
        })
        .collect();
    out.sort_unstable();
    out
}

/// The extension's builder methods on the upstream sync builder give what
/// `open_with` gives (which composes them), and the brute-force rows.
#[test]
fn reader_extension_methods_compose_on_the_upstream_builder() {
    use geoparquet_io::Error;
    use geoparquet_io::reader::GeoParquetReaderExt;
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use parquet::file::metadata::PageIndexPolicy;

    let dir = tempfile::tempdir().unwrap();
    let path = grid_file(dir.path());
    let q = BoundingBox::new(-50.5, -10.5, -30.5, 0.5);
    let expected: Vec<i64> = (0..2000)
        .filter(|i| {
            let (x, y) = (
                -100.0 + (i % 50) as f64 * 4.0,
                -40.0 + (i / 50) as f64 * 2.0,
            );
            (q.xmin..=q.xmax).contains(&x) && (q.ymin..=q.ymax).contains(&y)
        })
        .collect();
    assert_eq!(expected.len(), 5 * 6);

    let builder = || {
        let file = std::fs::File::open(&path).unwrap();
        let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).unwrap()
    };
    let meta = builder().geoparquet_metadata().unwrap().unwrap();
    let plan = builder().bbox_plan(&meta, "geometry", &q);
    assert!(plan.row_groups.len() < 20, "{:?}", plan.row_groups);
    let reader = builder()
        .with_bbox_filter(&meta, q)
        .with_column_projection(&["id", "name"])
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let names: Vec<&str> = batches[0]
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(ids(&batches), expected);

    let (opened, opened_meta) = read_all(&path, ReadOptions::default().with_bbox(q));
    assert_eq!(ids(&opened), expected);
    assert!(opened_meta.primary().unwrap().covering.is_none());
    let reader = open_with(&path, ReadOptions::default().with_bbox(q)).unwrap();
    let stats = {
        let mut r = reader;
        r.by_ref().for_each(|b| drop(b.unwrap()));
        r.stats()
    };
    assert_eq!(stats.row_groups_read, plan.row_groups.len());
    assert_eq!(stats.rows_returned, expected.len() as u64);

    // Without the exact test the covering still decides for points.
    let reader = builder()
        .with_scan_plan(plan)
        .with_intersecting_row_filter(&meta, q, false)
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert_eq!(ids(&batches), expected);

    // The projections.
    let field_names = |b: ParquetRecordBatchReaderBuilder<std::fs::File>| -> Vec<String> {
        use arrow_array::RecordBatchReader;
        let r = b.build().unwrap();
        r.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    assert_eq!(field_names(builder()), ["id", "name", "geometry", "bbox"]);
    assert_eq!(
        field_names(builder().without_covering_columns(&meta)),
        ["id", "name", "geometry"]
    );
    assert_eq!(
        field_names(builder().with_geometry_projection(&meta)),
        ["geometry"]
    );
    let err = builder()
        .with_column_projection(&["id", "nope"])
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoSuchColumn { column, available } if column == "nope" && available.len() == 4),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no column \"nope\" in the file (columns: id, name, geometry, bbox)"
    );
    let err = open_with(
        &path,
        ReadOptions::default().with_columns(vec!["nope".into()]),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NoSuchColumn { .. }), "{err}");
}

/// A row filter's own error (invalid WKB met by the exact test) comes back
/// typed through arrow's `ExternalError` (`From<Error> for ArrowError`).
#[test]
fn invalid_wkb_met_by_the_bbox_filter_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-wkb.parquet");
    file_with_footer(
        &path,
        10,
        r#"{"version":"1.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#,
        &[],
    );
    // Damage the WKB of every row: a geometry type code that does not exist.
    let bytes = std::fs::read(&path).unwrap();
    let needle = point_wkb(-170.0, -60.0);
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("the first point is stored uncompressed");
    let mut damaged = bytes.clone();
    damaged[at + 1] = 99;
    std::fs::write(&path, &damaged).unwrap();
    let q = BoundingBox::new(-180.0, -90.0, 180.0, 90.0);
    // The sync reader runs its row filter while it is built: at open.
    let result = open_with(&path, ReadOptions::default().with_bbox(q))
        .and_then(|r| r.collect::<Result<Vec<RecordBatch>, _>>());
    let err = result.unwrap_err();
    assert!(
        matches!(&err, geoparquet_io::Error::InvalidWkb { column, row: 0, .. } if column == "geometry"),
        "{err:?}"
    );
}

/// `open_async` (and so `store::Location::open_with`) is a `futures::Stream`
/// with the same rows, metadata and counts as the sync reader.
#[cfg(feature = "async")]
#[test]
fn the_async_stream_reads_what_the_sync_reader_reads() {
    use futures::TryStreamExt;
    use geoparquet_io::reader::open_async;

    let dir = tempfile::tempdir().unwrap();
    let path = grid_file(dir.path());
    let q = BoundingBox::new(-50.5, -10.5, -30.5, 0.5);
    let options = ReadOptions::default().with_bbox(q).with_batch_size(7);
    let mut sync = open_with(&path, options.clone()).unwrap();
    let sync_batches: Vec<RecordBatch> = sync.by_ref().map(Result::unwrap).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (batches, stream_meta, stats, schema) = rt.block_on(async {
        let file = tokio::fs::File::open(&path).await.unwrap();
        let mut stream = open_async(file, "grid.parquet", options).await.unwrap();
        let mut batches = Vec::new();
        while let Some(b) = stream.try_next().await.unwrap() {
            batches.push(b);
        }
        (
            batches,
            stream.metadata().clone(),
            stream.stats(),
            stream.schema(),
        )
    });
    assert_eq!(ids(&batches), ids(&sync_batches));
    assert!(batches.iter().all(|b| b.num_rows() <= 7));
    assert_eq!(&stream_meta, sync.metadata());
    assert_eq!(schema, sync.schema());
    let mut sync_stats = sync.stats();
    sync_stats.row_groups_probed = 0;
    assert_eq!(stats, sync_stats);
}
