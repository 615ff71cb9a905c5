//! Metadata from the wider world (issue 14, classes 9 to 13): legacy
//! versions, unreleased versions, files without a `geo` key, the 1.1
//! covering rules and the epoch rule, each built here by hand.

use geoparquet_meta::file::{
    ColumnFacts, FileFacts, GeoStatsFacts, NativeGeoType, PhysicalType, Repetition,
};
use geoparquet_meta::validate::{Code, Report, Severity, validate_file, validate_geo_json};
use geoparquet_meta::{Crs, GeoParquetMetadata, Version};
use serde_json::{Value, json};

const WKT1_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;
const WKT2_UTM: &str = r#"PROJCRS["WGS 84 / UTM zone 31N",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4326]],CONVERSION["UTM zone 31N",METHOD["Transverse Mercator",ID["EPSG",9807]]],CS[Cartesian,2],AXIS["(E)",east,ORDER[1]],AXIS["(N)",north,ORDER[2]],ID["EPSG",32631]]"#;

fn errors(r: &Report) -> Vec<String> {
    r.with_severity(Severity::Error)
        .map(ToString::to_string)
        .collect()
}

fn wkb_column(name: &str) -> ColumnFacts {
    ColumnFacts::leaf(name, PhysicalType::ByteArray, Repetition::Optional)
}

fn facts(geo: Option<&Value>, columns: Vec<ColumnFacts>) -> FileFacts {
    FileFacts {
        key_value: geo
            .map(|g| vec![("geo".to_owned(), Some(g.to_string()))])
            .unwrap_or_default(),
        columns,
        footer_problem: None,
    }
}

// --- class 9: legacy versions ---------------------------------------------------------

/// What GeoPandas wrote for `schema_version="0.1.0"` (and what GeoParquet
/// 0.1.0 itself described): the version under `schema_version` or
/// `version`, a WKT `crs`, with or without the singular `geometry_type`.
fn v0_1_docs() -> Vec<Value> {
    vec![
        json!({"schema_version": "0.1.0", "primary_column": "geometry", "columns": {"geometry": {
            "encoding": "WKB", "crs": WKT1_4326, "bbox": [-10.0, -5.0, 10.0, 5.0]}}}),
        json!({"version": "0.1.0", "primary_column": "geometry", "columns": {"geometry": {
            "encoding": "WKB", "crs": WKT2_UTM, "geometry_type": "Polygon"}},
            "creator": {"library": "geopandas", "version": "0.10.2"}}),
        json!({"schema_version": "0.1.0", "primary_column": "geom", "columns": {"geom": {
            "crs": WKT1_4326, "encoding": "WKB", "geometry_type": ["Point", "MultiPoint"]}}}),
        json!({"version": "0.1.0", "primary_column": "geometry", "columns": {"geometry": {
            "encoding": "WKB", "crs": null}}}),
    ]
}

#[test]
fn legacy_0_1_metadata_parses_losslessly_and_validates() {
    for doc in v0_1_docs() {
        let meta = GeoParquetMetadata::from_json(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert_eq!(meta.version, Version::V0_1_0);
        assert_eq!(meta.to_json(), doc, "round trip");
        let report = validate_geo_json(&doc);
        assert!(report.is_valid(), "{doc}: {:?}", errors(&report));
        let name = meta.primary_column.clone();
        let f = facts(Some(&doc), vec![wkb_column(&name)]);
        assert!(
            validate_file(&f).is_valid(),
            "{:?}",
            errors(&validate_file(&f))
        );
    }
    // The WKT is understood, not just kept.
    let meta = GeoParquetMetadata::from_json(&v0_1_docs()[0]).unwrap();
    let crs = &meta.primary().unwrap().crs;
    assert_eq!(crs.wkt(), Some(WKT1_4326));
    assert_eq!(crs.epsg(), Some(4326));
    assert_eq!(crs.is_geographic(), Some(true));
    let meta = GeoParquetMetadata::from_json(&v0_1_docs()[1]).unwrap();
    let crs = &meta.primary().unwrap().crs;
    assert_eq!(crs.epsg(), Some(32631));
    assert_eq!(crs.is_geographic(), Some(false));
    assert_eq!(crs.label(), "EPSG:32631 (WGS 84 / UTM zone 31N) as WKT");
}

#[test]
fn each_legacy_version_has_its_own_crs_rule() {
    let doc = |version: &str, crs: Value| {
        json!({"version": version, "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_type": "Point", "crs": crs}}})
    };
    for v in ["0.1.0", "0.2.0", "0.3.0"] {
        // WKT is what these versions ask for.
        let r = validate_geo_json(&doc(v, json!(WKT2_UTM)));
        assert!(r.is_valid(), "{v}: {:?}", errors(&r));
        // PROJJSON came with 0.4.0, and a non-WKT string is not WKT.
        let projjson = Crs::from_epsg(4326).unwrap().to_json().unwrap();
        assert!(validate_geo_json(&doc(v, projjson)).has_error(Code::SchemaValidationError));
        assert!(
            validate_geo_json(&doc(v, json!("EPSG:4326"))).has_error(Code::SchemaValidationError)
        );
    }
    // 0.4.0 and later: PROJJSON, a WKT string is invalid.
    let projjson = Crs::from_epsg(4326).unwrap().to_json().unwrap();
    assert!(validate_geo_json(&doc("0.4.0", projjson)).is_valid());
    assert!(
        validate_geo_json(&doc("0.4.0", json!(WKT2_UTM))).has_error(Code::SchemaValidationError)
    );
    let v1 = json!({"version": "1.0.0", "primary_column": "g", "columns": {"g": {
        "encoding": "WKB", "geometry_types": [], "crs": WKT2_UTM}}});
    assert!(validate_geo_json(&v1).has_error(Code::SchemaValidationError));
    // geometry_type: absent from 0.1.0, required from 0.2.0 on.
    for (v, valid) in [("0.1.0", true), ("0.2.0", false), ("0.4.0", false)] {
        let d = json!({"version": v, "primary_column": "g", "columns": {"g": {"encoding": "WKB"}}});
        assert_eq!(validate_geo_json(&d).is_valid(), valid, "{v}");
        // Parsing never refuses it: the types are unknown.
        let meta = GeoParquetMetadata::from_json(&d).unwrap();
        assert!(meta.columns["g"].geometry_types.is_empty());
        assert_eq!(meta.to_json(), d);
    }
}

// --- class 10: unreleased versions ----------------------------------------------------

#[test]
fn a_future_minor_version_is_a_warning_checked_with_the_newest_rules() {
    let doc = |version: &str, column: Value| json!({"version": version, "primary_column": "g", "columns": {"g": column}});
    let wkb = json!({"encoding": "WKB", "geometry_types": ["Point"]});
    for v in ["1.2.0-dev", "1.2.0", "1.1.1", "2.1.0-dev"] {
        let r = validate_geo_json(&doc(v, wkb.clone()));
        assert!(r.is_valid(), "{v}: {:?}", errors(&r));
        let f = r
            .findings
            .iter()
            .find(|f| f.code == Code::VersionUnknown)
            .unwrap();
        assert_eq!(f.severity, Severity::Warning, "{v}");
    }
    // Checked with the newest rules of its line: 1.1's native encodings and
    // covering hold for 1.2.0-dev; M needs 2.0.
    let native = json!({"encoding": "point", "geometry_types": ["Point"]});
    assert!(validate_geo_json(&doc("1.2.0-dev", native.clone())).is_valid());
    let m = json!({"encoding": "WKB", "geometry_types": ["Point M"]});
    assert!(
        validate_geo_json(&doc("1.2.0-dev", m.clone())).has_error(Code::VersionFeatureMismatch)
    );
    assert!(validate_geo_json(&doc("2.1.0-dev", m)).is_valid());
    assert!(validate_geo_json(&doc("2.1.0-dev", native)).has_error(Code::VersionFeatureMismatch));
    let bad_cov = json!({"encoding": "WKB", "geometry_types": [], "covering": {"bbox": {}}});
    assert!(validate_geo_json(&doc("1.2.0-dev", bad_cov)).has_error(Code::SchemaValidationError));
    // A new major or a string that is no version stays an error (the
    // official corpus' version-unknown case is 99.0.0).
    for v in ["99.0.0", "3.0.0", "bad-version", "1.0.5", ""] {
        assert!(
            validate_geo_json(&doc(v, wkb.clone())).has_error(Code::VersionUnknown),
            "{v}"
        );
    }
    // In a file, a 2.x future version is held to the 2.0 logical type rule.
    let g = doc("2.1.0", wkb.clone());
    let r = validate_file(&facts(Some(&g), vec![wkb_column("g")]));
    assert!(r.has_error(Code::LogicalTypeMissing), "{:?}", r.findings);
    let mut col = wkb_column("g");
    col.native = Some(NativeGeoType::Geometry { crs: None });
    let r = validate_file(&facts(Some(&g), vec![col]));
    assert!(r.is_valid(), "{:?}", errors(&r));
    assert!(!r.has(Code::VersionFeatureMismatch), "{:?}", r.findings);
}

// --- class 11: Parquet-native files without `geo` --------------------------------------

#[test]
fn a_native_only_file_is_valid_with_an_informational_finding() {
    let mut col = wkb_column("geometry");
    col.native = Some(NativeGeoType::Geometry { crs: None });
    let mut stats = GeoStatsFacts::default();
    stats.add_row_group(
        Some(&[1]),
        Some(geoparquet_meta::BoundingBox::new(0.0, 0.0, 1.0, 1.0)),
    );
    col.geo_stats = Some(stats);
    let r = validate_file(&facts(None, vec![col.clone(), wkb_column("name")]));
    assert!(r.is_valid(), "{:?}", r.findings);
    let info: Vec<_> = r.with_severity(Severity::Info).collect();
    assert!(
        info.iter().any(|f| f.code == Code::MetadataMissing),
        "{:?}",
        r.findings
    );
    // Still checked: a GEOGRAPHY column in a projected CRS is an error.
    let mut geog = wkb_column("geography");
    geog.native = Some(NativeGeoType::Geography {
        crs: Some("srid:32631".into()),
        algorithm: None,
    });
    let r = validate_file(&facts(None, vec![geog]));
    assert!(!r.is_valid());
    // An unresolvable projjson:KEY is an error, not a silent pass.
    let mut unresolved = wkb_column("geometry");
    unresolved.native = Some(NativeGeoType::Geometry {
        crs: Some("projjson:missing_key".into()),
    });
    let r = validate_file(&facts(None, vec![unresolved]));
    assert!(r.has_error(Code::CrsUnresolved), "{:?}", r.findings);
    // Without any geospatial column, there is nothing geospatial: an error.
    let r = validate_file(&facts(None, vec![wkb_column("geometry")]));
    assert!(r.has_error(Code::MetadataMissing));
}

// --- class 12: covering field order ------------------------------------------------------

fn covering_struct(name: &str, fields: &[&str]) -> ColumnFacts {
    let mut c = ColumnFacts::leaf(name, PhysicalType::Group, Repetition::Optional);
    c.children = fields
        .iter()
        .map(|f| ColumnFacts::leaf(*f, PhysicalType::Double, Repetition::Required))
        .collect();
    c
}

#[test]
fn covering_fields_must_be_in_the_specified_order() {
    let geo = |version: &str, z: bool| {
        let mut bbox = json!({"xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
            "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"]});
        if z {
            bbox["zmin"] = json!(["bbox", "zmin"]);
            bbox["zmax"] = json!(["bbox", "zmax"]);
        }
        json!({"version": version, "primary_column": "geometry", "columns": {"geometry": {
            "encoding": "WKB", "geometry_types": [], "covering": {"bbox": bbox}}}})
    };
    let run = |version: &str, fields: &[&str]| {
        let z = fields.contains(&"zmin");
        validate_file(&facts(
            Some(&geo(version, z)),
            vec![wkb_column("geometry"), covering_struct("bbox", fields)],
        ))
    };
    for good in [
        &["xmin", "ymin", "xmax", "ymax"][..],
        &["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"],
    ] {
        let r = run("1.1.0", good);
        assert!(r.is_valid(), "{good:?}: {:?}", r.findings);
        assert!(!r.has(Code::CoveringInvalid));
    }
    for bad in [
        // The official 1.1 example and gpq; Overture; Z at the end.
        &["xmax", "xmin", "ymax", "ymin"][..],
        &["xmin", "xmax", "ymin", "ymax"],
        &["xmin", "ymin", "xmax", "ymax", "zmin", "zmax"],
    ] {
        let r = run("1.1.0", bad);
        assert!(
            r.has_error(Code::CoveringInvalid),
            "{bad:?}: {:?}",
            r.findings
        );
        assert!(run("2.0.0", bad).has_error(Code::CoveringInvalid));
        // 2.0-dev has no covering in its schema: a warning.
        let dev = run("2.0-dev", bad);
        assert!(dev.has(Code::CoveringInvalid) && !dev.has_error(Code::CoveringInvalid));
    }
}

// --- class 13: epoch once, bbox noise ----------------------------------------------------

#[test]
fn epoch_on_the_default_crs_is_one_error_in_a_file() {
    let geo = json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {
        "encoding": "WKB", "geometry_types": [], "epoch": 2021.5}}});
    // A bare document: a warning (the schemas accept it).
    let doc = validate_geo_json(&geo);
    assert!(doc.is_valid());
    assert_eq!(
        doc.findings
            .iter()
            .filter(|f| f.code == Code::EpochUnsupported)
            .count(),
        1
    );
    // A file: the absent crs is confirmed to be OGC:CRS84, one error.
    let r = validate_file(&facts(Some(&geo), vec![wkb_column("geometry")]));
    let epoch: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == Code::EpochUnsupported)
        .collect();
    assert_eq!(epoch.len(), 1, "{epoch:?}");
    assert_eq!(epoch[0].severity, Severity::Error);
}

#[test]
fn a_bbox_a_hair_past_180_is_not_out_of_range() {
    let doc = |bbox: Value| {
        json!({"version": "1.1.0", "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_types": [], "bbox": bbox}}})
    };
    let r = validate_geo_json(&doc(json!([
        -180.00000000000006,
        -90.0,
        180.00000000000006,
        90.0
    ])));
    assert!(!r.has(Code::BboxInvalid), "{:?}", r.findings);
    let r = validate_geo_json(&doc(json!([-180.0, -90.0, 180.5, 90.0])));
    assert!(r.has(Code::BboxInvalid));
    // A world box a hair short of ±180 still holds a box across the antimeridian.
    let world = geoparquet_meta::BoundingBox::new(-179.999_999_999_999_97, -90.0, 180.0, 90.0);
    let across = geoparquet_meta::BoundingBox::new(170.0, 0.0, -170.0, 1.0);
    assert!(world.contains(&across));
    let short = geoparquet_meta::BoundingBox::new(-179.0, -90.0, 180.0, 90.0);
    assert!(!short.contains(&across));
}
