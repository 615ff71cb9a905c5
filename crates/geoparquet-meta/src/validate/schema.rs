//! The JSON Schema rules of each GeoParquet version, written out as code,
//! and the metadata rules the schemas cannot express.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Code, Finding, Report, Severity, projjson};
use crate::crs::{Crs, DatumKind};
use crate::geometry_type::GeometryTypeAndDimension;
use crate::metadata::json_kind;
use crate::version::Version;

/// The schema a version is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// 0.1.0 to 0.4.0: singular `geometry_type`.
    V0,
    /// 1.0.0-beta.1, 1.0.0-rc.1, 1.0.0.
    V1_0,
    /// 1.1.0.
    V1_1,
    /// 2.0-dev (the bef58ca schema).
    V2Dev,
    /// 2.0.0-rc.1 and 2.0.0 (edges may name an algorithm; covering is back).
    V2,
}

/// The schema family of a version: a future minor release (or another
/// spelling of a known version) follows the rules [`Version::rules`] picks;
/// a version with no rules is checked as the default (1.1).
fn family_of(version: &Version) -> Family {
    match version.rules() {
        Some(v) if v.is_legacy() => Family::V0,
        Some(v) if v.is_v1_0() => Family::V1_0,
        Some(Version::V2_0Dev) => Family::V2Dev,
        Some(v) if v.is_v2() => Family::V2,
        _ => Family::V1_1,
    }
}

/// Whether `crs` must be a WKT string (0.1.0 to 0.3.0) rather than PROJJSON
/// (0.4.0 on).
fn crs_is_wkt(version: Option<&Version>) -> bool {
    matches!(
        version.and_then(Version::rules),
        Some(Version::V0_1_0 | Version::V0_2_0 | Version::V0_3_0)
    )
}

fn version_of(geo: &Map<String, Value>) -> Option<Version> {
    geo.get("version")
        .or_else(|| geo.get("schema_version"))
        .and_then(Value::as_str)
        .map(Version::parse)
}

struct Ctx<'r> {
    report: &'r mut Report,
}

impl Ctx<'_> {
    fn schema(&mut self, column: Option<&str>, msg: impl Into<String>) {
        self.report
            .push(Finding::error(Code::SchemaValidationError, column, msg));
    }
    fn add(
        &mut self,
        code: Code,
        severity: Severity,
        column: Option<&str>,
        msg: impl Into<String>,
    ) {
        self.report.push(Finding::new(code, severity, column, msg));
    }
}

const V1_TYPES_HINT: &str = "a geometry type with an optional \" Z\"";

/// What the version's JSON Schema checks.
pub(super) fn check(geo: &Value, report: &mut Report) {
    let mut cx = Ctx { report };
    let Value::Object(geo) = geo else {
        cx.schema(
            None,
            format!(
                "the geo metadata must be a JSON object, got {}",
                json_kind(geo)
            ),
        );
        return;
    };
    let version = match geo.get("version") {
        Some(Value::String(s)) => Some(Version::parse(s)),
        Some(other) => {
            cx.schema(
                None,
                format!("\"version\" must be a string, got {}", json_kind(other)),
            );
            None
        }
        None => match geo.get("schema_version").and_then(Value::as_str) {
            Some(s) if Version::parse(s) == Version::V0_1_0 => Some(Version::V0_1_0),
            _ => {
                cx.schema(None, "missing required key \"version\"");
                None
            }
        },
    };
    if let Some(v @ Version::Other(s)) = &version {
        let known = || {
            Version::KNOWN
                .iter()
                .map(Version::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match v.rules() {
            Some(rules) if v.is_future() => cx.add(
                Code::VersionUnknown,
                Severity::Warning,
                None,
                format!(
                    "\"{s}\" is not a released GeoParquet version (a future or development release?); checked with the rules of {rules}, the newest known {}.x version",
                    rules.as_str().split('.').next().unwrap_or("")
                ),
            ),
            Some(rules) => cx.add(
                Code::VersionUnknown,
                Severity::Warning,
                None,
                format!("version \"{s}\" is spelled unlike the specification; read and checked as \"{rules}\""),
            ),
            None => cx.add(
                Code::VersionUnknown,
                Severity::Error,
                None,
                format!("unknown GeoParquet version \"{s}\" (known: {})", known()),
            ),
        }
    }
    let family = version.as_ref().map_or(Family::V1_1, family_of);
    let rules = Rules {
        family,
        wkt_crs: crs_is_wkt(version.as_ref()),
        v0_1: version.as_ref().and_then(Version::rules) == Some(Version::V0_1_0),
    };

    match geo.get("primary_column") {
        Some(Value::String(s)) if s.is_empty() && family != Family::V0 => {
            cx.schema(None, "\"primary_column\" must not be empty");
        }
        Some(Value::String(_)) => {}
        Some(other) => cx.schema(
            None,
            format!(
                "\"primary_column\" must be a string, got {}",
                json_kind(other)
            ),
        ),
        None => cx.schema(None, "missing required key \"primary_column\""),
    }

    let columns = match geo.get("columns") {
        Some(Value::Object(c)) => c,
        Some(other) => {
            cx.schema(
                None,
                format!("\"columns\" must be an object, got {}", json_kind(other)),
            );
            return;
        }
        None => {
            cx.schema(None, "missing required key \"columns\"");
            return;
        }
    };
    if columns.is_empty() && family != Family::V0 {
        cx.schema(None, "\"columns\" must describe at least one column");
    }
    for (name, col) in columns {
        // JSON Schema `.+`: at least one character that is not a line terminator.
        if family != Family::V0
            && !name
                .chars()
                .any(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        {
            cx.schema(None, format!("column name {name:?} is empty"));
            continue;
        }
        check_column(&mut cx, rules, name, col);
    }
}

/// What the version asks of a column.
#[derive(Debug, Clone, Copy)]
struct Rules {
    family: Family,
    /// `crs` is a WKT string (0.1.0 to 0.3.0).
    wkt_crs: bool,
    /// 0.1.0: no geometry type key.
    v0_1: bool,
}

fn check_column(cx: &mut Ctx<'_>, rules: Rules, name: &str, col: &Value) {
    let Rules {
        family,
        wkt_crs,
        v0_1,
    } = rules;
    let c = Some(name);
    let Value::Object(col) = col else {
        cx.schema(
            c,
            format!("column metadata must be an object, got {}", json_kind(col)),
        );
        return;
    };
    // encoding
    match col.get("encoding") {
        None => cx.schema(c, "missing required key \"encoding\""),
        Some(Value::String(e)) => {
            let native = [
                "point",
                "linestring",
                "polygon",
                "multipoint",
                "multilinestring",
                "multipolygon",
            ];
            let ok = e == "WKB" || (family == Family::V1_1 && native.contains(&e.as_str()));
            if !ok {
                let canonical = e.eq_ignore_ascii_case("wkb")
                    || (family == Family::V1_1 && native.iter().any(|n| n.eq_ignore_ascii_case(e)));
                if canonical {
                    cx.add(Code::EncodingSpelling, Severity::Error, c, format!(
                        "encoding \"{e}\" is not spelled as the specification says (\"WKB\" or lower-case native names)"
                    ));
                } else if native.contains(&e.as_str()) {
                    cx.add(
                        Code::VersionFeatureMismatch,
                        Severity::Error,
                        c,
                        format!("native encoding \"{e}\" exists only in GeoParquet 1.1"),
                    );
                } else {
                    let allowed = if family == Family::V1_1 {
                        "\"WKB\", \"point\", \"linestring\", \"polygon\", \"multipoint\", \"multilinestring\" or \"multipolygon\""
                    } else {
                        "\"WKB\""
                    };
                    cx.schema(
                        c,
                        format!("unsupported encoding \"{e}\", expected {allowed}"),
                    );
                }
            }
        }
        Some(other) => cx.schema(
            c,
            format!("\"encoding\" must be a string, got {}", json_kind(other)),
        ),
    }
    // geometry types
    if family == Family::V0 {
        check_legacy_types(cx, v0_1, name, col.get("geometry_type"));
    } else {
        check_types(cx, family, name, col.get("geometry_types"));
    }
    // crs: a WKT string up to 0.3.0, PROJJSON from 0.4.0 on.
    match col.get("crs") {
        None | Some(Value::Null) => {}
        Some(Value::String(w)) if wkt_crs => {
            if crate::crs::wkt_summary(w).is_none() {
                cx.schema(
                    c,
                    format!(
                        "\"crs\" must be a WKT string in this version, got \"{}\"",
                        clip(w)
                    ),
                );
            }
        }
        Some(Value::Object(_)) if wkt_crs => cx.schema(
            c,
            "\"crs\" must be a WKT string in GeoParquet 0.1.0 to 0.3.0 (PROJJSON came with 0.4.0)",
        ),
        Some(v @ Value::Object(_)) => {
            let problems = projjson::check_crs(v);
            if !problems.is_empty() {
                cx.schema(
                    c,
                    format!("\"crs\" is not valid PROJJSON: {}", problems.join("; ")),
                );
            }
        }
        Some(other) if wkt_crs => cx.schema(
            c,
            format!(
                "\"crs\" must be a WKT string or null, got {}",
                json_kind(other)
            ),
        ),
        Some(other) => cx.schema(
            c,
            format!(
                "\"crs\" must be a PROJJSON object or null, got {}: {}",
                json_kind(other),
                clip(&other.to_string())
            ),
        ),
    }
    // edges and algorithm
    let algorithms = ["spherical", "vincenty", "thomas", "andoyer", "karney"];
    if let Some(e) = col.get("edges") {
        match e.as_str() {
            Some("planar" | "spherical") => {}
            Some(s) if family == Family::V2 && algorithms.contains(&s) => {}
            Some(s) if algorithms.contains(&s) => cx.add(Code::VersionFeatureMismatch, Severity::Error, c, format!(
                "edges \"{s}\" needs GeoParquet 2.0 (this version allows \"planar\" or \"spherical\")"
            )),
            _ => cx.schema(c, format!("unsupported edges {e}, expected \"planar\" or \"spherical\"")),
        }
    }
    if let Some(a) = col.get("algorithm")
        && matches!(family, Family::V2Dev | Family::V2)
        && !a.as_str().is_some_and(|s| algorithms.contains(&s))
    {
        cx.schema(
            c,
            format!("unsupported algorithm {a}, expected one of {algorithms:?}"),
        );
    }
    // orientation
    if let Some(o) = col.get("orientation")
        && o.as_str() != Some("counterclockwise")
    {
        cx.schema(
            c,
            format!("unsupported orientation {o}, expected \"counterclockwise\""),
        );
    }
    // bbox
    if let Some(b) = col.get("bbox") {
        check_bbox(cx, family, name, b);
    }
    // epoch
    if let Some(e) = col.get("epoch")
        && !e.is_number()
    {
        cx.schema(
            c,
            format!("\"epoch\" must be a number, got {}", json_kind(e)),
        );
    }
    // covering
    if let Some(cov) = col.get("covering") {
        match family {
            Family::V1_1 | Family::V2 => check_covering(cx, name, cov, Severity::Error),
            // The 2.0-dev schema has no covering (extra keys pass); the
            // released 2.0 brought it back, so report the shape as a warning.
            Family::V2Dev => check_covering(cx, name, cov, Severity::Warning),
            Family::V0 | Family::V1_0 => {}
        }
    }
}

/// `geometry_type` (singular) of 0.x: required from 0.2.0 on (the 0.4.0
/// schema requires it), absent from 0.1.0.
fn check_legacy_types(cx: &mut Ctx<'_>, v0_1: bool, name: &str, v: Option<&Value>) {
    const ALLOWED: [&str; 8] = [
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
        "Unknown",
    ];
    let c = Some(name);
    // The 0.2.0 to 0.4.0 texts add " Z" for 3D geometries ("Point Z"); the
    // 0.4.0 JSON Schema forgot it. The text is the rule (and GeoPandas writes it).
    let ok = |v: &Value| {
        v.as_str().is_some_and(|s| {
            let base = s
                .strip_suffix(" Z")
                .filter(|b| *b != "Unknown")
                .unwrap_or(s);
            ALLOWED.contains(&base)
        })
    };
    match v {
        None if v0_1 => {}
        None => cx.schema(c, "missing required key \"geometry_type\""),
        Some(v @ Value::String(_)) if ok(v) => {}
        Some(Value::Array(a)) if a.iter().all(ok) && unique(a) => {}
        Some(v) => cx.schema(
            c,
            format!("invalid \"geometry_type\" {v}: expected one of {ALLOWED:?} (with \" Z\" for 3D) or a list of them"),
        ),
    }
}

fn unique(a: &[Value]) -> bool {
    let mut seen = HashSet::new();
    a.iter().all(|v| seen.insert(v.to_string()))
}

fn check_types(cx: &mut Ctx<'_>, family: Family, name: &str, v: Option<&Value>) {
    let c = Some(name);
    let Some(v) = v else {
        cx.schema(c, "missing required key \"geometry_types\"");
        return;
    };
    let Value::Array(items) = v else {
        cx.schema(
            c,
            format!("\"geometry_types\" must be a list, got {}", json_kind(v)),
        );
        return;
    };
    if !unique(items) {
        cx.schema(c, "\"geometry_types\" must not repeat an entry");
    }
    for item in items {
        let Some(s) = item.as_str() else {
            cx.schema(
                c,
                format!("\"geometry_types\" entries must be strings, got {item}"),
            );
            continue;
        };
        match s.parse::<GeometryTypeAndDimension>() {
            Ok(t) if t.dimension.has_m() && !matches!(family, Family::V2Dev | Family::V2) => {
                cx.add(Code::VersionFeatureMismatch, Severity::Error, c, format!(
                    "geometry type \"{s}\" carries M, which needs GeoParquet 2.0 (this version allows {V1_TYPES_HINT})"
                ));
            }
            Ok(_) => {}
            Err(_) => cx.schema(c, format!("unsupported geometry type \"{s}\"")),
        }
    }
}

fn check_bbox(cx: &mut Ctx<'_>, family: Family, name: &str, b: &Value) {
    let c = Some(name);
    let Value::Array(items) = b else {
        cx.schema(
            c,
            format!("\"bbox\" must be a list of numbers, got {}", json_kind(b)),
        );
        return;
    };
    if family == Family::V0 {
        // The 0.4.0 schema checks the first four items only.
        if items.iter().take(4).any(|v| !v.is_number()) {
            cx.schema(c, format!("\"bbox\" items must be numbers, got {b}"));
        }
        return;
    }
    if items.iter().any(|v| !v.is_number()) {
        cx.schema(c, format!("\"bbox\" must be a list of numbers, got {b}"));
    }
    match (items.len(), family) {
        (4 | 6, _) | (8, Family::V2Dev | Family::V2) => {}
        (8, _) => cx.add(
            Code::VersionFeatureMismatch,
            Severity::Error,
            c,
            "an 8-value (XYZM) bbox needs GeoParquet 2.0",
        ),
        (n, Family::V2Dev | Family::V2) => {
            cx.schema(c, format!("\"bbox\" must have 4, 6 or 8 numbers, got {n}"))
        }
        (n, _) => cx.schema(c, format!("\"bbox\" must have 4 or 6 numbers, got {n}")),
    }
}

fn check_covering(cx: &mut Ctx<'_>, name: &str, cov: &Value, severity: Severity) {
    let c = Some(name);
    let (code, sev) = if severity == Severity::Error {
        (Code::SchemaValidationError, Severity::Error)
    } else {
        (Code::CoveringInvalid, Severity::Warning)
    };
    let Value::Object(cov) = cov else {
        cx.add(
            code,
            sev,
            c,
            format!("\"covering\" must be an object, got {}", json_kind(cov)),
        );
        return;
    };
    let Some(bbox) = cov.get("bbox") else {
        cx.add(code, sev, c, "\"covering\" must have a \"bbox\" entry");
        return;
    };
    let Value::Object(bbox) = bbox else {
        cx.add(
            code,
            sev,
            c,
            format!(
                "\"covering.bbox\" must be an object, got {}",
                json_kind(bbox)
            ),
        );
        return;
    };
    for key in ["xmin", "xmax", "ymin", "ymax"] {
        match bbox.get(key) {
            None => cx.add(code, sev, c, format!("\"covering.bbox\" lacks \"{key}\"")),
            Some(Value::Array(p)) => {
                let ok = p.len() == 2
                    && p[0].as_str().is_some_and(|s| !s.is_empty())
                    && p[1].as_str() == Some(key);
                if !ok {
                    cx.add(
                        code,
                        sev,
                        c,
                        format!(
                            "\"covering.bbox.{key}\" must be [\"<column>\", \"{key}\"], got {}",
                            Value::Array(p.clone())
                        ),
                    );
                }
            }
            Some(other) => cx.add(
                code,
                sev,
                c,
                format!(
                    "\"covering.bbox.{key}\" must be a list, got {}",
                    json_kind(other)
                ),
            ),
        }
    }
}

/// Rules on the metadata alone that no JSON Schema expresses.
pub(super) fn semantic(geo: &Value, report: &mut Report) {
    let mut cx = Ctx { report };
    let Value::Object(geo) = geo else { return };
    let version = version_of(geo);
    let Some(Value::Object(columns)) = geo.get("columns") else {
        return;
    };
    if let Some(Value::String(primary)) = geo.get("primary_column")
        && !columns.contains_key(primary)
    {
        cx.schema(
            None,
            format!("primary column \"{primary}\" is not described in \"columns\""),
        );
    }
    for (name, col) in columns {
        let Value::Object(col) = col else { continue };
        let c = Some(name.as_str());
        let crs = Crs::from_json(col.get("crs"));
        // The covering column must be one and the same for every entry.
        if let Some(paths) = col
            .get("covering")
            .and_then(|cv| cv.get("bbox"))
            .and_then(Value::as_object)
        {
            let firsts: HashSet<&str> = paths
                .values()
                .filter_map(|p| p.as_array()?.first()?.as_str())
                .collect();
            if firsts.len() > 1 {
                cx.add(
                    Code::CoveringInvalid,
                    Severity::Error,
                    c,
                    format!(
                        "covering paths name several columns: {:?}",
                        firsts.into_iter().collect::<Vec<_>>()
                    ),
                );
            }
            if let Some(v) = &version
                && v.rules().is_some_and(|r| r.is_v1_0() || r.is_legacy())
            {
                cx.add(Code::VersionFeatureMismatch, Severity::Warning, c, format!(
                        "\"covering\" was introduced in GeoParquet 1.1; version {v} readers ignore it"
                    ));
            }
        }
        if let (Some(v), Some(_)) = (&version, col.get("algorithm"))
            && !v.rules().is_some_and(|r| r.is_v2())
        {
            cx.add(
                Code::VersionFeatureMismatch,
                Severity::Warning,
                c,
                format!(
                    "\"algorithm\" exists only in GeoParquet 2.0; version {v} readers ignore it"
                ),
            );
        }
        if let Some(epoch) = col.get("epoch").and_then(Value::as_f64) {
            epoch_rule(&mut cx, name, epoch, &crs, col.contains_key("crs"));
        }
        if let Some(b) = col.get("bbox").and_then(Value::as_array) {
            bbox_rule(&mut cx, name, b, &crs);
        }
        let edges = col.get("edges").and_then(Value::as_str);
        if edges.is_some_and(|e| e != "planar") && col.get("orientation").is_none() {
            cx.add(Code::Recommendation, Severity::Info, c,
                "non-planar edges without \"orientation\": the specification recommends counterclockwise orientation");
        }
        if edges == Some("spherical") && crs.is_geographic() == Some(false) {
            cx.add(Code::EdgesMismatch, Severity::Warning, c,
                "spherical edges on a projected CRS: edges on a sphere need longitude/latitude coordinates");
        }
    }
}

fn epoch_rule(cx: &mut Ctx<'_>, name: &str, epoch: f64, crs: &Crs, explicit: bool) {
    let c = Some(name);
    match crs.datum_kind() {
        DatumKind::Dynamic => {}
        DatumKind::Ensemble if explicit => cx.add(Code::EpochUnsupported, Severity::Error, c, format!(
            "epoch {epoch} on {}: a datum ensemble (e.g. WGS 84) cannot be tied to a coordinate epoch; use a dynamic reference frame (e.g. a WGS 84 realisation or ITRF)",
            crs.label()
        )),
        DatumKind::Ensemble => cx.add(Code::EpochUnsupported, Severity::Warning, c, format!(
            "epoch {epoch} with the default CRS (OGC:CRS84, a datum ensemble): the epoch cannot be applied"
        )),
        DatumKind::Static => cx.add(Code::EpochUnsupported, Severity::Warning, c, format!(
            "epoch {epoch} on {}, whose datum is a static reference frame: the epoch has no effect",
            crs.label()
        )),
        DatumKind::Unknown => {
            if *crs == Crs::Unknown {
                cx.add(Code::EpochUnsupported, Severity::Warning, c, format!("epoch {epoch} with an unknown (null) CRS"));
            } else if crs.is_crs84_equivalent() {
                cx.add(Code::EpochUnsupported, Severity::Error, c, format!(
                    "epoch {epoch} on {}: WGS 84 as an ensemble cannot carry a coordinate epoch",
                    crs.label()
                ));
            }
        }
    }
}

fn bbox_rule(cx: &mut Ctx<'_>, name: &str, b: &[Value], crs: &Crs) {
    let c = Some(name);
    let Some(vals) = b.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>() else {
        return;
    };
    let Ok(bbox) = crate::BoundingBox::from_slice(&vals) else {
        return;
    };
    if bbox.ymin > bbox.ymax {
        cx.add(
            Code::BboxInvalid,
            Severity::Error,
            c,
            format!("bbox ymin {} is above ymax {}", bbox.ymin, bbox.ymax),
        );
    }
    if let Some((z0, z1)) = bbox.z()
        && z0 > z1
    {
        cx.add(
            Code::BboxInvalid,
            Severity::Error,
            c,
            format!("bbox zmin {z0} is above zmax {z1}"),
        );
    }
    match crs.is_geographic() {
        Some(false) if bbox.wraps() => cx.add(Code::BboxInvalid, Severity::Error, c, format!(
            "bbox xmin {} is greater than xmax {} in a projected CRS (only geographic boxes may cross the antimeridian)",
            bbox.xmin, bbox.xmax
        )),
        Some(true) if !bbox.is_within_lon_lat() => cx.add(Code::BboxInvalid, Severity::Warning, c, format!(
            "bbox {vals:?} leaves the longitude/latitude range of a geographic CRS"
        )),
        _ => {}
    }
}

/// A value shortened for a message (WKT strings run to kilobytes).
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}
