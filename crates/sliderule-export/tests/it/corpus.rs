//! SlideRule's own output files: read back into records, rewritten with the
//! same columns, types and (in compat mode) metadata bytes.

use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use sliderule_export::metadata::{GEO_SLIDERULE, ServerInfo};
use sliderule_export::records::{Atl06Elevation, Atl06Record};
use sliderule_export::{Compat, ExportOptions, Format, export_to_path};

use crate::support::{key, read_batches};

fn corpus() -> Option<PathBuf> {
    test_support::corpus("sliderule")
}

fn elevations(path: &Path) -> Vec<Atl06Elevation> {
    let (_, batches) = read_batches(path);
    batches
        .iter()
        .flat_map(|b| Atl06Elevation::from_batch(b, &path.display().to_string()).unwrap())
        .collect()
}

/// Each column's (name, physical type, logical type, repetition) in the Parquet schema.
fn parquet_columns(path: &Path) -> Vec<String> {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {:?} {:?} {}",
                c.name(),
                c.physical_type(),
                c.logical_type_ref(),
                c.self_type().get_basic_info().repetition(),
                c.max_def_level()
            )
        })
        .collect()
}

#[test]
fn sample_rows_read_into_records() {
    let Some(dir) = corpus() else { return };
    let geo = elevations(&dir.join("atl06p_10rows_v4.3.2.geoparquet"));
    let plain = elevations(&dir.join("atl06p_10rows_v4.3.2.parquet"));
    assert_eq!(geo.len(), 10);
    assert_eq!(
        geo, plain,
        "GeoParquet and plain samples hold the same rows"
    );
    let r0 = geo[0];
    assert_eq!(r0.time, 1_552_556_446_894_008_576);
    assert_eq!(r0.extent_id, 0x4880_0023_8000_0002);
    assert_eq!(
        r0.longitude.to_le_bytes(),
        [0x13, 0x05, 0x81, 0x7d, 0x50, 0x33, 0x3a, 0xc0]
    );
    assert_eq!(
        r0.latitude.to_le_bytes(),
        [0x0a, 0xbb, 0x8b, 0x47, 0xb2, 0x34, 0x52, 0x40]
    );
    assert_eq!((r0.rgt, r0.cycle, r0.region), (1160, 2, 3));
    let big = elevations(&dir.join("atl06p_v4.9.3.parquet"));
    assert_eq!(big.len(), 2779);
    assert_eq!(big[0].time, 1_632_892_342_174_720_768);
    assert!(big.iter().all(|e| e.time % 256 == 0));
}

fn rewrite(
    src: &Path,
    out: &Path,
    format: Format,
    compat: Compat,
    request: Option<String>,
    server: ServerInfo,
) {
    let rows = elevations(src);
    let mut options = ExportOptions::default()
        .with_format(format)
        .with_compat(compat)
        .with_server(server);
    options.request = request;
    let rec = Atl06Record { elevations: rows };
    export_to_path(out, [Ok(rec)], options).unwrap();
}

/// The parms JSON and server fields of a v4.9.3 `sliderule` value.
fn server_of(sliderule: &str) -> (String, ServerInfo) {
    let v: serde_json::Value = serde_json::from_str(sliderule).unwrap();
    let s = &v["server"];
    let start = sliderule.find("\"parms\": ").unwrap() + "\"parms\": ".len();
    let end = sliderule.find("}, \"environment\"").unwrap();
    let parms = sliderule[start..end].to_owned();
    let info = ServerInfo {
        environment: s["environment"].as_str().unwrap().into(),
        version: s["version"].as_str().unwrap().into(),
        duration_ms: s["duration"].as_u64().unwrap(),
        packages: s["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect(),
        build: s["commit"].as_str().unwrap().into(),
        launch: s["launch"].as_str().unwrap().into(),
    };
    (parms, info)
}

#[test]
fn plain_rewrite_matches_v4_9_3_columns_types_and_metadata_bytes() {
    let Some(dir) = corpus() else { return };
    let src = dir.join("atl06p_v4.9.3.parquet");
    let theirs = key(&src, "sliderule").unwrap();
    let (parms, server) = server_of(&theirs);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ours.parquet");
    rewrite(
        &src,
        &out,
        Format::Parquet,
        Compat::SlideRule4_20,
        Some(parms),
        server,
    );

    // Columns: names, order, physical/logical types, nullability.
    assert_eq!(parquet_columns(&out), parquet_columns(&src));
    let (s_ours, _) = read_batches(&out);
    let (s_theirs, _) = read_batches(&src);
    let fields = |s: &arrow_schema::Schema| {
        s.fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&s_ours), fields(&s_theirs));
    // Values, bit for bit.
    assert_eq!(elevations(&out), elevations(&src));
    // pandas: byte for byte.
    assert_eq!(key(&out, "pandas"), key(&src, "pandas"));
    // sliderule: v4.20 shape = v4.9.3 with `commit` renamed `build` and
    // `recordinfo` moved to its own key; everything else byte for byte.
    let ri_at = theirs.find(", \"recordinfo\": ").unwrap();
    let recordinfo = theirs[ri_at + ", \"recordinfo\": ".len()..theirs.len() - 2].to_owned();
    let expected = format!("{} }}", &theirs[..ri_at]).replace("\"commit\":", "\"build\":");
    assert_eq!(key(&out, "sliderule").unwrap(), expected);
    assert_eq!(key(&out, "recordinfo").unwrap(), recordinfo);
    assert!(key(&out, "geo").is_none());
}

#[test]
fn geoparquet_rewrite_matches_v4_3_2_and_improved_mode_is_valid_1_1() {
    let Some(dir) = corpus() else { return };
    let src = dir.join("atl06p_10rows_v4.3.2.geoparquet");
    let tmp = tempfile::tempdir().unwrap();
    let compat = tmp.path().join("compat.parquet");
    rewrite(
        &src,
        &compat,
        Format::GeoParquet,
        Compat::SlideRule4_20,
        None,
        ServerInfo::default(),
    );
    let cols = |p: &Path| {
        parquet_columns(p)
            .into_iter()
            .map(|c| c.replace("Int96", "Int64").replace("None None", "x"))
            .collect::<Vec<_>>()
    };
    // The sample stores time as INT96 (reference §2.2); compare names and order.
    let names = |p: &Path| {
        parquet_columns(p)
            .into_iter()
            .map(|c| c.split(' ').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&compat), names(&src));
    assert_eq!(cols(&compat).len(), 18);
    assert_eq!(key(&compat, "geo").unwrap(), GEO_SLIDERULE);
    assert_eq!(key(&compat, "geo"), key(&src, "geo"));
    assert_eq!(key(&compat, "pandas"), key(&src, "pandas"));
    // Geometry WKB bytes identical.
    let (_, ours) = read_batches(&compat);
    let (_, theirs) = read_batches(&src);
    assert_eq!(
        ours[0].column_by_name("geometry"),
        theirs[0].column_by_name("geometry")
    );
    assert_eq!(elevations(&compat), elevations(&src));

    // Improved: valid GeoParquet 1.1 with the data's bbox.
    let improved = tmp.path().join("improved.parquet");
    rewrite(
        &src,
        &improved,
        Format::GeoParquet,
        Compat::Improved,
        None,
        ServerInfo::default(),
    );
    let report = geoparquet_io::validate_footer(&improved).unwrap();
    assert!(report.is_valid(), "{report:?}");
    let geo: serde_json::Value = serde_json::from_str(&key(&improved, "geo").unwrap()).unwrap();
    assert_eq!(geo["version"], "1.1.0");
    let rows = elevations(&src);
    let xmin = rows
        .iter()
        .map(|r| r.longitude)
        .fold(f64::INFINITY, f64::min);
    let ymax = rows
        .iter()
        .map(|r| r.latitude)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(geo["columns"]["geometry"]["bbox"][0].as_f64(), Some(xmin));
    assert_eq!(geo["columns"]["geometry"]["bbox"][3].as_f64(), Some(ymax));
    assert!(geo["columns"]["geometry"].get("epoch").is_none());
    let sr: serde_json::Value =
        serde_json::from_str(&key(&improved, "sliderule").unwrap()).unwrap();
    assert!(sr["server"]["plugins"]["sliderule-export"].is_string());
}
