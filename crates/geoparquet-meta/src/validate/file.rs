//! Footer-level validation: the `geo` key and its agreement with the
//! Parquet schema, logical types and geospatial statistics.

use super::{Code, Finding, Report, Severity, parse_geo_bytes, validate_geo_json};
use crate::crs::{Crs, CrsComparison};
use crate::file::{ColumnFacts, FileFacts, FooterProblem, NativeGeoType, PhysicalType, Repetition};
use crate::geometry_type::{GeometryType, GeometryTypeAndDimension};
use crate::metadata::{Encoding, GEO_METADATA_KEY, GeoParquetColumnMetadata, GeoParquetMetadata};
use crate::version::Version;

/// Validates what a file's footer holds: the `geo` entry (presence, UTF-8,
/// JSON, schema, metadata rules) and, when it parses, every cross-check with
/// the Parquet schema and statistics ([`validate_file_metadata`]).
pub fn validate_file(facts: &FileFacts) -> Report {
    let mut report = Report::default();
    if let Some(FooterProblem::InvalidUtf8(detail)) = &facts.footer_problem {
        report.push(Finding::error(
            Code::MetadataInvalidUtf8,
            None,
            format!("the footer's key/value metadata is not valid UTF-8 (the geo value cannot be read): {detail}"),
        ));
        return report;
    }
    let entries: Vec<&Option<String>> = facts
        .key_value
        .iter()
        .filter(|(k, _)| k == GEO_METADATA_KEY)
        .map(|(_, v)| v)
        .collect();
    let Some(first) = entries.first() else {
        native_only(&mut report, facts);
        return report;
    };
    if entries.len() > 1 {
        report.push(Finding::error(
            Code::MetadataDuplicateKey,
            None,
            format!(
                "the file has {} \"geo\" key/value entries; readers take the first",
                entries.len()
            ),
        ));
    }
    let bytes = first.as_deref().unwrap_or("").as_bytes();
    let json = match parse_geo_bytes(bytes) {
        Ok(v) => v,
        Err(f) => {
            report.push(f);
            return report;
        }
    };
    report.findings.extend(validate_geo_json(&json).findings);
    if let Ok(meta) = GeoParquetMetadata::from_json(&json) {
        let file = validate_file_metadata(&meta, facts);
        // Where the file confirms what the metadata alone could only suspect
        // (an epoch on the default CRS), the file's error replaces the
        // metadata's warning: one rule, one finding.
        for f in file.with_severity(Severity::Error) {
            if f.code == Code::EpochUnsupported {
                report.findings.retain(|g| {
                    !(g.code == Code::EpochUnsupported
                        && g.column == f.column
                        && g.severity != Severity::Error)
                });
            }
        }
        report.findings.extend(file.findings);
    }
    report
}

/// A file without a `geo` key. With Parquet GEOMETRY/GEOGRAPHY columns it is
/// a Parquet-native geospatial file, which GeoParquet 2.0 readers accept
/// (CRS and edges from the logical types, types and extent from the
/// statistics): valid, with an informational finding, and checked like a
/// 2.0 file whose metadata says what the footer says. Without such columns
/// it is not geospatial at all: an error.
fn native_only(report: &mut Report, facts: &FileFacts) {
    let natives: Vec<&str> = facts.native_columns().map(|c| c.name.as_str()).collect();
    let Some(synthesized) = facts.synthesize_metadata() else {
        report.push(Finding::error(
            Code::MetadataMissing,
            None,
            "the file has no \"geo\" key/value metadata and no column with a Parquet GEOMETRY or GEOGRAPHY logical type: not a geospatial file",
        ));
        return;
    };
    report.push(Finding::new(
        Code::MetadataMissing,
        Severity::Info,
        None,
        format!(
            "no \"geo\" key: a Parquet-native geospatial file (columns {natives:?} carry the GEOMETRY/GEOGRAPHY logical type), valid as such; GeoParquet 2.0 readers take CRS and edges from the logical types"
        ),
    ));
    match synthesized {
        Ok(meta) => report
            .findings
            .extend(validate_file_metadata(&meta, facts).findings),
        Err(e) => report.push(Finding::error(Code::CrsUnresolved, None, e.to_string())),
    }
}

/// The cross-checks between parsed metadata and the Parquet footer:
/// geometry columns exist at the root with the right physical type,
/// repetition and layout; coverings point at a matching struct; logical types
/// fit the version; CRS and edges agree with the logical type; declared
/// geometry types and bbox agree with the geospatial statistics.
pub fn validate_file_metadata(meta: &GeoParquetMetadata, facts: &FileFacts) -> Report {
    let mut report = Report::default();
    for (name, col) in &meta.columns {
        epoch_in_file(&mut report, name, col, facts);
        let Some(field) = facts.column(name) else {
            report.push(Finding::error(
                Code::GeometryColumnMissing,
                Some(name),
                "the column is described in \"geo\" but is not a root column of the Parquet schema",
            ));
            continue;
        };
        layout(&mut report, name, col, field);
        if let Some(cov) = &col.covering {
            covering(&mut report, &meta.version, name, &cov.bbox, field, facts);
        }
        native(&mut report, meta, name, col, field, facts);
        stats(&mut report, name, col, field);
    }
    report
}

/// In a file, an absent `crs` is confirmed to mean OGC:CRS84 (unless a
/// logical type says otherwise, which the CRS rules report): an epoch cannot
/// apply to that datum ensemble. A bare document only gets a warning for it,
/// as the JSON Schemas (and the official metadata cases) accept it.
fn epoch_in_file(
    report: &mut Report,
    name: &str,
    col: &GeoParquetColumnMetadata,
    facts: &FileFacts,
) {
    let Some(epoch) = col.epoch else { return };
    let native_default = facts
        .column(name)
        .and_then(|f| f.native.as_ref())
        .is_none_or(|n| n.crs().is_none());
    if col.crs == Crs::Default && native_default {
        report.push(Finding::error(
            Code::EpochUnsupported,
            Some(name),
            format!("epoch {epoch} on the file's CRS, OGC:CRS84 (crs absent): a datum ensemble cannot be tied to a coordinate epoch"),
        ));
    }
}

fn layout(report: &mut Report, name: &str, col: &GeoParquetColumnMetadata, field: &ColumnFacts) {
    let c = Some(name);
    if field.repetition == Repetition::Repeated {
        report.push(Finding::error(
            Code::GeometryColumnType,
            c,
            "geometry columns must be required or optional, not repeated",
        ));
    }
    match &col.encoding {
        Encoding::Wkb => {
            if field.physical != PhysicalType::ByteArray {
                report.push(Finding::error(
                    Code::GeometryColumnType,
                    c,
                    format!(
                        "a WKB column must be BYTE_ARRAY, found {}",
                        field.physical.as_str()
                    ),
                ));
            }
        }
        Encoding::Native(t) => native_layout(report, name, *t, field),
        Encoding::Other(_) => {}
    }
}

/// Expected list depth of each native encoding.
fn list_depth(t: GeometryType) -> usize {
    match t {
        GeometryType::Point => 0,
        GeometryType::LineString | GeometryType::MultiPoint => 1,
        GeometryType::Polygon | GeometryType::MultiLineString => 2,
        GeometryType::MultiPolygon => 3,
        GeometryType::GeometryCollection => usize::MAX,
    }
}

fn native_layout(report: &mut Report, name: &str, t: GeometryType, field: &ColumnFacts) {
    let c = Some(name);
    // Walk down LIST groups (list -> repeated group -> element) to the coordinate struct.
    let mut node = field;
    let mut depth = 0;
    while node.is_list {
        let Some(element) = node.children.first().and_then(|rep| rep.children.first()) else {
            break;
        };
        depth += 1;
        node = element;
    }
    if depth != list_depth(t) {
        report.push(Finding::error(
            Code::NativeEncodingLayout,
            c,
            format!(
                "encoding \"{}\" needs {} nested list level(s), the column has {depth}",
                t.native_encoding_name().unwrap_or("?"),
                list_depth(t)
            ),
        ));
        return;
    }
    let names: Vec<&str> = node.children.iter().map(|f| f.name.as_str()).collect();
    let ok_names = matches!(
        names.as_slice(),
        ["x", "y"] | ["x", "y", "z"] | ["x", "y", "m"] | ["x", "y", "z", "m"]
    );
    let ok_types = node.physical == PhysicalType::Group
        && node
            .children
            .iter()
            .all(|f| f.physical == PhysicalType::Double);
    if !ok_names || !ok_types {
        report.push(Finding::error(
            Code::NativeEncodingLayout,
            c,
            format!("native coordinates must be a struct of DOUBLE x, y[, z][, m] (separated layout), found fields {names:?}"),
        ));
    }
}

fn covering(
    report: &mut Report,
    version: &Version,
    name: &str,
    cov: &crate::metadata::CoveringBbox,
    geom: &ColumnFacts,
    facts: &FileFacts,
) {
    let c = Some(name);
    let Some(target) = cov.column() else {
        return; // Reported by the metadata rules.
    };
    let Some(field) = facts.column(target) else {
        report.push(Finding::error(
            Code::CoveringInvalid,
            c,
            format!("the covering column \"{target}\" is not a root column of the Parquet schema"),
        ));
        return;
    };
    if field.physical != PhysicalType::Group {
        report.push(Finding::error(
            Code::CoveringInvalid,
            c,
            format!("the covering column \"{target}\" must be a struct"),
        ));
        return;
    }
    let mut leaf_types = Vec::new();
    let mut entries = vec![
        ("xmin", &cov.xmin),
        ("ymin", &cov.ymin),
        ("xmax", &cov.xmax),
        ("ymax", &cov.ymax),
    ];
    if let Some(z) = &cov.zmin {
        entries.push(("zmin", z));
    }
    if let Some(z) = &cov.zmax {
        entries.push(("zmax", z));
    }
    for (key, path) in entries {
        let Some(child) = path.get(1).and_then(|f| field.child(f)) else {
            report.push(Finding::error(
                Code::CoveringInvalid,
                c,
                format!("the covering column \"{target}\" has no field for \"{key}\""),
            ));
            continue;
        };
        if !matches!(child.physical, PhysicalType::Float | PhysicalType::Double) {
            report.push(Finding::error(
                Code::CoveringInvalid,
                c,
                format!(
                    "covering field \"{target}.{}\" must be FLOAT or DOUBLE, found {}",
                    child.name,
                    child.physical.as_str()
                ),
            ));
        }
        leaf_types.push(child.physical);
    }
    covering_order(report, version, name, target, cov, field);
    leaf_types.dedup();
    if leaf_types.len() > 1 {
        report.push(Finding::error(
            Code::CoveringInvalid,
            c,
            format!("covering fields of \"{target}\" mix FLOAT and DOUBLE"),
        ));
    }
    if field.repetition != geom.repetition {
        report.push(Finding::error(
            Code::CoveringInvalid,
            c,
            format!("covering column \"{target}\" is {:?} but the geometry column is {:?}: the repetition must match", field.repetition, geom.repetition),
        ));
    }
}

/// GeoParquet 1.1: the covering struct's fields are ordered `xmin, ymin,
/// xmax, ymax` (`xmin, ymin, zmin, xmax, ymax, zmax` with Z). An error under
/// 1.1 and 2.0; a warning under 2.0-dev (whose schema has no covering) and
/// under 1.0 and older (whose readers ignore the covering).
fn covering_order(
    report: &mut Report,
    version: &Version,
    name: &str,
    target: &str,
    cov: &crate::metadata::CoveringBbox,
    field: &ColumnFacts,
) {
    let mut wanted: Vec<&Vec<String>> = vec![&cov.xmin, &cov.ymin];
    wanted.extend(&cov.zmin);
    wanted.extend([&cov.xmax, &cov.ymax]);
    wanted.extend(&cov.zmax);
    let positions: Option<Vec<usize>> = wanted
        .iter()
        .map(|p| {
            let f = p.get(1)?;
            field.children.iter().position(|c| &c.name == f)
        })
        .collect();
    let Some(positions) = positions else {
        return; // a missing field is reported by the caller
    };
    if positions.windows(2).all(|w| w[0] < w[1]) {
        return;
    }
    let found: Vec<&str> = field.children.iter().map(|c| c.name.as_str()).collect();
    let expected = if cov.zmin.is_some() || cov.zmax.is_some() {
        "xmin, ymin, zmin, xmax, ymax, zmax"
    } else {
        "xmin, ymin, xmax, ymax"
    };
    let binding = version
        .rules()
        .filter(|v| v.supports_covering() && *v != Version::V2_0Dev);
    let severity = if binding.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    report.push(Finding::new(
        Code::CoveringInvalid,
        severity,
        Some(name),
        format!(
            "the fields of the covering column \"{target}\" are ordered {found:?}; GeoParquet 1.1 requires them in the order {expected}"
        ),
    ));
}

fn native(
    report: &mut Report,
    meta: &GeoParquetMetadata,
    name: &str,
    col: &GeoParquetColumnMetadata,
    field: &ColumnFacts,
    facts: &FileFacts,
) {
    let c = Some(name);
    let v2 = meta.version.rules().is_some_and(|v| v.is_v2());
    let Some(native) = &field.native else {
        if v2 {
            report.push(Finding::error(
                Code::LogicalTypeMissing,
                c,
                format!("GeoParquet {} geometry columns must carry the Parquet GEOMETRY or GEOGRAPHY logical type", meta.version),
            ));
        }
        return;
    };
    if !v2 {
        // A warning: DuckDB's BOTH mode and geoarrow-data write 1.x metadata
        // beside the logical type on purpose, for readers of either kind.
        report.push(Finding::warning(
            Code::VersionFeatureMismatch,
            c,
            format!(
                "the column carries the Parquet {} logical type, a GeoParquet 2.0 feature, but the metadata says version {}",
                native.name(),
                meta.version
            ),
        ));
    }
    // CRS agreement.
    let parquet_crs = match native
        .parquet_crs()
        .resolve(|k| facts.key_value(k).map(str::to_owned))
    {
        Ok(crs) => crs,
        Err(e) => {
            report.push(Finding::error(Code::CrsUnresolved, c, e.to_string()));
            return;
        }
    };
    match col.crs.compare(&parquet_crs) {
        CrsComparison::Same => {}
        CrsComparison::Different => report.push(Finding::error(
            Code::CrsMismatch,
            c,
            format!(
                "\"geo\" says the CRS is {} but the Parquet {} type says {}{}",
                col.crs.label(),
                native.name(),
                parquet_crs.label(),
                if native.crs().is_none() { " (crs omitted = OGC:CRS84)" } else { "" }
            ),
        )),
        CrsComparison::Undetermined => report.push(Finding::warning(
            Code::CrsUndetermined,
            c,
            format!("cannot tell whether {} and the Parquet crs {} are the same CRS without identifiers", col.crs.label(), parquet_crs.label()),
        )),
    }
    if matches!(native, NativeGeoType::Geography { .. }) {
        let crs = if col.crs == Crs::Default {
            &parquet_crs
        } else {
            &col.crs
        };
        if crs.is_geographic() == Some(false) {
            report.push(Finding::error(
                Code::GeographyCrsNotGeographic,
                c,
                format!(
                    "a GEOGRAPHY column needs a geographic CRS, found {}",
                    crs.label()
                ),
            ));
        }
    }
    // Edges agreement.
    let declared = col.effective_edges();
    let implied = native.edges();
    if declared != implied {
        let message = match native {
            NativeGeoType::Geometry { .. } => format!(
                "edges \"{}\" on a Parquet GEOMETRY column, whose edges are planar (use GEOGRAPHY for non-planar edges)",
                declared.as_str()
            ),
            NativeGeoType::Geography { .. } => format!(
                "edges \"{}\" but the Parquet GEOGRAPHY type says {}",
                declared.as_str(),
                implied.as_str()
            ),
        };
        report.push(Finding::error(Code::EdgesMismatch, c, message));
    }
}

fn stats(report: &mut Report, name: &str, col: &GeoParquetColumnMetadata, field: &ColumnFacts) {
    let c = Some(name);
    let Some(stats) = &field.geo_stats else {
        return;
    };
    let declared = &col.geometry_types;
    if !declared.is_empty() {
        for code in &stats.types {
            let Some(actual) = GeometryTypeAndDimension::from_wkb_code(*code) else {
                report.push(Finding::error(
                    Code::StatsMismatch,
                    c,
                    format!("the geospatial statistics list an invalid WKB type code {code}"),
                ));
                continue;
            };
            if declared.contains(&actual) {
                continue;
            }
            let same_base: Vec<String> = declared
                .iter()
                .filter(|d| d.geometry_type == actual.geometry_type)
                .map(ToString::to_string)
                .collect();
            if same_base.is_empty() {
                report.push(Finding::error(
                    Code::GeometryTypeMismatch,
                    c,
                    format!("the data holds \"{actual}\" (statistics code {code}), which \"geometry_types\" {} does not list", list(declared)),
                ));
            } else {
                report.push(Finding::error(
                    Code::ZmMismatch,
                    c,
                    format!("the data holds \"{actual}\" (statistics code {code}) but \"geometry_types\" declares {}", same_base.join(", ")),
                ));
            }
        }
        if stats.types_complete {
            for d in declared {
                if !stats.types.contains(&d.wkb_code()) {
                    report.push(Finding::warning(
                        Code::StatsMismatch,
                        c,
                        format!("\"geometry_types\" lists \"{d}\" but no row group's statistics contain it"),
                    ));
                }
            }
        }
    }
    if let (Some(meta_bbox), Some(stats_bbox)) = (&col.bbox, &stats.bbox)
        && meta_bbox.is_usable()
        && !meta_bbox.contains(stats_bbox)
    {
        report.push(Finding::error(
                Code::BboxMismatch,
                c,
                format!(
                    "the geometries' extent from the statistics {:?} is not inside the metadata bbox {:?}",
                    stats_bbox.to_vec(),
                    meta_bbox.to_vec()
                ),
            ));
    }
}

fn list(types: &[GeometryTypeAndDimension]) -> String {
    format!(
        "[{}]",
        types
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::GeoStatsFacts;

    fn facts(geo: &str, columns: Vec<ColumnFacts>) -> FileFacts {
        FileFacts {
            key_value: vec![("geo".into(), Some(geo.into()))],
            columns,
            footer_problem: None,
        }
    }

    fn geom_col(native: Option<NativeGeoType>, types: &[i32]) -> ColumnFacts {
        let mut c = ColumnFacts::leaf("geometry", PhysicalType::ByteArray, Repetition::Optional);
        c.native = native;
        let mut s = GeoStatsFacts::default();
        s.add_row_group(
            Some(types),
            Some(crate::BoundingBox::new(0.0, 0.0, 10.0, 10.0)),
        );
        c.geo_stats = Some(s);
        c
    }

    #[test]
    fn missing_and_duplicate_keys() {
        let r = validate_file(&FileFacts::default());
        assert!(r.has_error(Code::MetadataMissing));
        let mut f = facts(
            r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#,
            vec![geom_col(None, &[1])],
        );
        f.key_value.push(f.key_value[0].clone());
        assert!(validate_file(&f).has_error(Code::MetadataDuplicateKey));
    }

    #[test]
    fn zm_and_type_mismatch_from_statistics() {
        let g = Some(NativeGeoType::Geometry { crs: None });
        let f = facts(
            r#"{"version":"2.0-dev","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point Z"]}}}"#,
            vec![geom_col(g.clone(), &[1])],
        );
        assert!(validate_file(&f).has_error(Code::ZmMismatch));
        let f = facts(
            r#"{"version":"2.0-dev","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#,
            vec![geom_col(g.clone(), &[2])],
        );
        assert!(validate_file(&f).has_error(Code::GeometryTypeMismatch));
        let f = facts(
            r#"{"version":"2.0-dev","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"],"bbox":[100,100,101,101]}}}"#,
            vec![geom_col(g, &[1])],
        );
        assert!(validate_file(&f).has_error(Code::BboxMismatch));
    }

    #[test]
    fn crs_and_edges_against_logical_type() {
        let g = Some(NativeGeoType::Geometry { crs: None });
        let f = facts(
            r#"{"version":"2.0-dev","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[],"edges":"spherical","crs":null}}}"#,
            vec![geom_col(g, &[1])],
        );
        let r = validate_file(&f);
        assert!(r.has_error(Code::EdgesMismatch));
        assert!(r.has_error(Code::CrsMismatch));
        let geog = Some(NativeGeoType::Geography {
            crs: None,
            algorithm: None,
        });
        let f = facts(
            r#"{"version":"2.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"],"edges":"spherical"}}}"#,
            vec![geom_col(geog, &[1])],
        );
        assert!(validate_file(&f).is_valid(), "{:?}", validate_file(&f));
    }

    #[test]
    fn version_features_and_layout() {
        let g = Some(NativeGeoType::Geometry { crs: None });
        let f = facts(
            r#"{"version":"1.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#,
            vec![geom_col(g.clone(), &[1])],
        );
        let r = validate_file(&f);
        assert!(r.has(Code::VersionFeatureMismatch) && r.is_valid(), "{r:?}");
        // With an epoch on the default CRS (the official bad file), it is invalid.
        let f = facts(
            r#"{"version":"1.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[],"epoch":2024.0}}}"#,
            vec![geom_col(g, &[1])],
        );
        assert!(validate_file(&f).has_error(Code::EpochUnsupported));
        let f = facts(
            r#"{"version":"2.0.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#,
            vec![geom_col(None, &[1])],
        );
        assert!(validate_file(&f).has_error(Code::LogicalTypeMissing));
        let f = facts(
            r#"{"version":"1.1.0","primary_column":"geom","columns":{"geom":{"encoding":"WKB","geometry_types":[]}}}"#,
            vec![geom_col(None, &[1])],
        );
        let r = validate_file(&f);
        assert!(r.has_error(Code::GeometryColumnMissing));
        assert!(!r.has(Code::SchemaValidationError));
    }
}
