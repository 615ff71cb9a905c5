//! Normalising an input's column metadata before a writer copies it into a
//! new file.
//!
//! Files from the wider world carry forms that the version being written does
//! not allow: a WKT string or a GeoJSON-2008 `{"type": "name"}` object as
//! `crs` (legacy 0.1–0.3 files, hand-written metadata), `"Planar"` edges, a
//! coordinate `epoch` of 0. A writer passes each value through these
//! functions: what can be normalised is (with a notice saying what changed),
//! what cannot is refused with an error that names `--crs`.
//!
//! ```
//! use geoparquet_meta::normalize::{normalize_crs, normalize_edges, normalize_epoch};
//! use geoparquet_meta::{Crs, Edges};
//! use serde_json::json;
//!
//! let legacy = Crs::Projjson(json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}));
//! let (crs, notice) = normalize_crs("geometry", &legacy)?;
//! assert_eq!(crs.epsg(), Some(4326));
//! assert!(notice.is_some());
//!
//! let (edges, _) = normalize_edges("geometry", &Edges::Other("Planar".into()), false)?;
//! assert_eq!(edges, Edges::Planar);
//!
//! let (epoch, notice) = normalize_epoch("geometry", Some(0.0), &Crs::Default);
//! assert_eq!(epoch, None);
//! assert!(notice.is_some());
//! # Ok::<(), geoparquet_meta::Error>(())
//! ```

use std::ops::RangeInclusive;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::{Crs, DatumKind, Edges, Orientation};

/// The decimal years a coordinate `epoch` must fall in to be copied. Coordinate
/// epochs belong to dynamic reference frames of the satellite era; a value
/// outside this range (0, a negative number, a Unix timestamp) is a mistake.
pub const EPOCH_YEARS: RangeInclusive<f64> = 1900.0..=2200.0;

/// The hint every refusal ends with.
const CRS_HINT: &str = "set the CRS with --crs (EPSG:N, OGC:CRS84 or PROJJSON)";

fn crs_error(column: &str, message: String) -> Error {
    Error::InvalidValue {
        key: "crs",
        column: Some(column.to_owned()),
        message: format!("{message}; {CRS_HINT}"),
    }
}

/// Shortens a value for a message.
fn short(v: &str) -> String {
    const MAX: usize = 80;
    match v.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &v[..i]),
        None => v.to_owned(),
    }
}

/// The CRS a writer may store for `crs` read from an input: PROJJSON, the
/// default and `null` stay; a GeoJSON-2008 `{"type": "name"}` or `{"type":
/// "EPSG"}` object, an identifier string (`EPSG:4326`,
/// `urn:ogc:def:crs:EPSG::4326`, `OGC:CRS84`, an `opengis.net` URL), PROJJSON
/// stored as text, and a WKT string whose top-level `ID`/`AUTHORITY` is EPSG
/// become PROJJSON (OGC:CRS84 becomes the default, an absent `crs`); an EPSG
/// code without built-in PROJJSON becomes [`Crs::Identifier`], which native
/// Parquet geometry stores as `srid:N` and `geo` metadata refuses. A PROJJSON
/// object that is not valid PROJJSON is replaced by the built-in one of its
/// EPSG id when there is one. Returns the CRS and, when it changed, a notice
/// for people.
///
/// # Errors
///
/// [`Error::InvalidValue`] (key `crs`, naming `--crs`) when the value cannot
/// be normalised: WKT without an EPSG id, a GeoJSON-2008 link, invalid
/// PROJJSON without a known id, any other JSON.
pub fn normalize_crs(column: &str, crs: &Crs) -> Result<(Crs, Option<String>)> {
    match crs {
        Crs::Default | Crs::Unknown | Crs::Identifier { .. } => Ok((crs.clone(), None)),
        Crs::Projjson(v) => normalize_object(column, v),
        Crs::Other(Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('{') {
                let v: Value = serde_json::from_str(t).map_err(|e| {
                    crs_error(column, format!("the CRS \"{}\" is not JSON: {e}", short(t)))
                })?;
                let (crs, notice) = normalize_object(column, &v)?;
                let notice = notice.unwrap_or_else(|| {
                    format!("column \"{column}\": the CRS was PROJJSON stored as text; written as a JSON object")
                });
                return Ok((crs, Some(notice)));
            }
            let converted = if crs.wkt().is_some() {
                // WKT (0.1.0 to 0.3.0): its own top-level ID or AUTHORITY.
                match crs.authority_code() {
                    Some((authority, code)) => from_identifier(&authority, &code),
                    None => {
                        return Err(crs_error(
                            column,
                            format!(
                                "the CRS is a WKT string without an EPSG ID or AUTHORITY (\"{}\"), and GeoParquet 1.0 and later need PROJJSON",
                                short(t)
                            ),
                        ));
                    }
                }
            } else {
                parse_identifier(t).and_then(|(authority, code)| from_identifier(&authority, &code))
            };
            match converted {
                Some(c) => {
                    let notice = format!(
                        "column \"{column}\": the CRS \"{}\" (not PROJJSON) written as {}",
                        short(t),
                        describe(&c)
                    );
                    Ok((c, Some(notice)))
                }
                None => Err(crs_error(
                    column,
                    format!(
                        "the CRS \"{}\" is not PROJJSON and not a known identifier",
                        short(t)
                    ),
                )),
            }
        }
        Crs::Other(v) => Err(crs_error(
            column,
            format!("the CRS {} is not PROJJSON", short(&v.to_string())),
        )),
    }
}

fn describe(crs: &Crs) -> String {
    match crs {
        Crs::Default => "OGC:CRS84 (crs omitted, the default)".into(),
        Crs::Identifier { authority, code } => {
            format!("{authority}:{code} (an identifier without built-in PROJJSON)")
        }
        other => format!("PROJJSON {}", other.label()),
    }
}

/// A JSON object found under `crs`.
fn normalize_object(column: &str, v: &Value) -> Result<(Crs, Option<String>)> {
    let kind = v.get("type").and_then(Value::as_str);
    let legacy = match kind {
        // GeoJSON 2008: {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}.
        Some("name") => Some(
            v.pointer("/properties/name")
                .and_then(Value::as_str)
                .and_then(parse_identifier),
        ),
        // GeoJSON 2008 drafts: {"type": "EPSG", "properties": {"code": 4326}}.
        Some("EPSG") => Some(v.pointer("/properties/code").and_then(|c| match c {
            Value::Number(n) => Some(("EPSG".to_owned(), n.to_string())),
            Value::String(s) => Some(("EPSG".to_owned(), s.clone())),
            _ => None,
        })),
        Some("link") => Some(None),
        _ => None,
    };
    if let Some(id) = legacy {
        let text = short(&v.to_string());
        let Some(c) = id.and_then(|(a, c)| from_identifier(&a, &c)) else {
            return Err(crs_error(
                column,
                format!("the CRS {text} (GeoJSON 2008 style) names no known identifier"),
            ));
        };
        let notice = format!(
            "column \"{column}\": the CRS {text} (GeoJSON 2008 style) written as {}",
            describe(&c)
        );
        return Ok((c, Some(notice)));
    }
    let problems = crate::validate::projjson::check_crs(v);
    if problems.is_empty() {
        return Ok((Crs::Projjson(v.clone()), None));
    }
    let original = Crs::Projjson(v.clone());
    if let Some((a, c)) = original.authority_code()
        && let Some(built) = from_identifier(&a, &c)
        && !matches!(built, Crs::Identifier { .. })
    {
        let notice = format!(
            "column \"{column}\": the CRS is not valid PROJJSON ({}); written as the built-in {}",
            problems.join("; "),
            describe(&built)
        );
        return Ok((built, Some(notice)));
    }
    Err(crs_error(
        column,
        format!(
            "the CRS is not valid PROJJSON ({})",
            short(&problems.join("; "))
        ),
    ))
}

/// The CRS for an authority and code: OGC:CRS84 is the default, EPSG codes
/// with built-in PROJJSON become it, other EPSG codes an identifier.
fn from_identifier(authority: &str, code: &str) -> Option<Crs> {
    let code = code.trim();
    if authority.eq_ignore_ascii_case("OGC")
        && (code.eq_ignore_ascii_case("CRS84") || code.eq_ignore_ascii_case("84"))
    {
        return Some(Crs::Default);
    }
    if !authority.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    let n: u32 = code.parse().ok()?;
    if n == 0 {
        return None;
    }
    Some(Crs::from_epsg(n).unwrap_or(Crs::Identifier {
        authority: "EPSG".into(),
        code: n.to_string(),
    }))
}

/// `EPSG:4326`, `epsg:4326`, `OGC:CRS84`, `CRS84`, `urn:ogc:def:crs:EPSG::4326`,
/// `urn:ogc:def:crs:EPSG:6.6:4326`, `urn:ogc:def:crs:OGC:1.3:CRS84`,
/// `http(s)://www.opengis.net/def/crs/EPSG/0/4326` → (authority, code).
fn parse_identifier(s: &str) -> Option<(String, String)> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("CRS84") {
        return Some(("OGC".into(), "CRS84".into()));
    }
    let lower = t.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:") {
        // authority:version:code, the version possibly empty.
        let parts: Vec<&str> = rest.split(':').collect();
        let (authority, code) = match parts.as_slice() {
            [a, _, c] | [a, c] => (*a, *c),
            _ => return None,
        };
        return Some((authority.to_ascii_uppercase(), code.to_ascii_uppercase()));
    }
    for prefix in [
        "http://www.opengis.net/def/crs/",
        "https://www.opengis.net/def/crs/",
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let parts: Vec<&str> = rest.split('/').collect();
            let [a, _version, c] = parts.as_slice() else {
                return None;
            };
            return Some((a.to_ascii_uppercase(), c.to_ascii_uppercase()));
        }
    }
    let (a, c) = t.split_once(':')?;
    let (a, c) = (a.trim(), c.trim());
    if a.is_empty() || c.is_empty() || !a.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return None;
    }
    if !c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return None;
    }
    Some((a.to_ascii_uppercase(), c.to_ascii_uppercase()))
}

/// The edges a writer may store: the specification's spellings recognised
/// case-insensitively (`"Planar"` is `planar`). `geodesic_allowed` says
/// whether the version written knows the geodesic algorithms (vincenty,
/// thomas, andoyer, karney: 2.0 and native Parquet geography).
///
/// # Errors
///
/// [`Error::InvalidValue`] (key `edges`) for an unknown spelling, or a
/// geodesic algorithm when `geodesic_allowed` is false.
pub fn normalize_edges(
    column: &str,
    edges: &Edges,
    geodesic_allowed: bool,
) -> Result<(Edges, Option<String>)> {
    let (out, notice) = match edges {
        Edges::Other(s) => match Edges::parse(&s.trim().to_ascii_lowercase()) {
            Edges::Other(_) => {
                return Err(Error::InvalidValue {
                    key: "edges",
                    column: Some(column.to_owned()),
                    message: format!(
                        "unknown edges \"{}\" (expected planar, spherical, vincenty, thomas, andoyer or karney)",
                        short(s)
                    ),
                });
            }
            known => {
                let notice = format!(
                    "column \"{column}\": edges \"{}\" written as \"{}\"",
                    short(s),
                    known.as_str()
                );
                (known, Some(notice))
            }
        },
        other => (other.clone(), None),
    };
    if !geodesic_allowed && !matches!(out, Edges::Planar | Edges::Spherical) {
        return Err(Error::InvalidValue {
            key: "edges",
            column: Some(column.to_owned()),
            message: format!(
                "edges \"{}\" exist only in GeoParquet 2.0 and native Parquet geography; write one of those versions",
                out.as_str()
            ),
        });
    }
    Ok((out, notice))
}

/// The coordinate epoch a writer may store with `crs` (the CRS being
/// written): kept when it is a decimal year in [`EPOCH_YEARS`] and the CRS can
/// carry one (a dynamic reference frame, or PROJJSON that does not say);
/// dropped with a notice otherwise (an epoch on OGC:CRS84, WGS 84 as an
/// ensemble, a static frame or an unknown CRS has no effect, and validators
/// reject it).
pub fn normalize_epoch(
    column: &str,
    epoch: Option<f64>,
    crs: &Crs,
) -> (Option<f64>, Option<String>) {
    let Some(e) = epoch else {
        return (None, None);
    };
    if !(e.is_finite() && EPOCH_YEARS.contains(&e)) {
        return (
            None,
            Some(format!(
                "column \"{column}\": epoch {e} is not a plausible decimal year ({} to {}); dropped",
                EPOCH_YEARS.start(),
                EPOCH_YEARS.end()
            )),
        );
    }
    let carries = match crs.datum_kind() {
        DatumKind::Dynamic => true,
        DatumKind::Unknown => matches!(crs, Crs::Projjson(_)) && !crs.is_crs84_equivalent(),
        DatumKind::Static | DatumKind::Ensemble => false,
    };
    if carries {
        (Some(e), None)
    } else {
        (
            None,
            Some(format!(
                "column \"{column}\": epoch {e} on {}, which cannot carry a coordinate epoch; dropped",
                crs.label()
            )),
        )
    }
}

/// The orientation a writer may store: `counterclockwise` (any case) or
/// none; another value is dropped with a notice.
pub fn normalize_orientation(
    column: &str,
    orientation: Option<&Orientation>,
) -> (Option<Orientation>, Option<String>) {
    match orientation {
        None => (None, None),
        Some(Orientation::Counterclockwise) => (Some(Orientation::Counterclockwise), None),
        Some(Orientation::Other(s)) if s.trim().eq_ignore_ascii_case("counterclockwise") => (
            Some(Orientation::Counterclockwise),
            Some(format!(
                "column \"{column}\": orientation \"{}\" written as \"counterclockwise\"",
                short(s)
            )),
        ),
        Some(Orientation::Other(s)) => (
            None,
            Some(format!(
                "column \"{column}\": orientation \"{}\" is not one GeoParquet defines; dropped",
                short(s)
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_crs_forms_become_projjson() {
        let forms = [
            Crs::Other(json!("EPSG:4326")),
            Crs::Other(json!("urn:ogc:def:crs:EPSG::4326")),
            Crs::Other(json!("urn:ogc:def:crs:EPSG:6.6:4326")),
            Crs::Other(json!("http://www.opengis.net/def/crs/EPSG/0/4326")),
            Crs::Projjson(json!({"type": "name", "properties": {"name": "EPSG:4326"}})),
            Crs::Projjson(json!({"type": "EPSG", "properties": {"code": 4326}})),
            Crs::Other(json!(
                r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]"#
            )),
            Crs::Other(json!(
                r#"GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],AXIS["latitude",north],AXIS["longitude",east],ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",4326]]"#
            )),
        ];
        for f in forms {
            let (crs, notice) = normalize_crs("g", &f).unwrap();
            assert_eq!(crs.epsg(), Some(4326), "{f:?}");
            assert!(crate::validate::projjson::check_crs(crs.projjson().unwrap()).is_empty());
            assert!(notice.is_some());
        }
        let utm = Crs::Other(json!(
            r#"PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],AUTHORITY["EPSG","32633"]]"#
        ));
        assert_eq!(normalize_crs("g", &utm).unwrap().0.epsg(), Some(32633));
        for crs84 in ["OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84"] {
            let (crs, _) = normalize_crs("g", &Crs::Other(json!(crs84))).unwrap();
            assert_eq!(crs, Crs::Default, "{crs84}");
        }
        // Without built-in PROJJSON: an identifier, which the writer judges.
        let (albers, _) = normalize_crs("g", &Crs::Other(json!("EPSG:5070"))).unwrap();
        assert!(matches!(albers, Crs::Identifier { .. }));
    }

    #[test]
    fn what_cannot_be_normalised_is_refused_naming_crs() {
        for bad in [
            Crs::Other(json!(
                r#"PROJCS["Custom",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],AUTHORITY["EPSG","4326"]],PROJECTION["Mercator"]]"#
            )),
            Crs::Other(json!("something")),
            Crs::Other(json!(42)),
            Crs::Projjson(json!({"type": "link", "properties": {"href": "x"}})),
            Crs::Projjson(json!({"type": "GeographicCRS"})),
        ] {
            let err = normalize_crs("geom", &bad).unwrap_err().to_string();
            assert!(err.contains("--crs") && err.contains("geom"), "{err}");
        }
        // A valid PROJJSON object stays exactly as it was.
        let p = Crs::from_epsg(32618).unwrap();
        assert_eq!(normalize_crs("g", &p).unwrap(), (p, None));
    }

    #[test]
    fn edges_epoch_and_orientation() {
        let (e, n) = normalize_edges("g", &Edges::Other("SPHERICAL".into()), false).unwrap();
        assert_eq!(e, Edges::Spherical);
        assert!(n.is_some());
        assert!(normalize_edges("g", &Edges::Other("curvy".into()), true).is_err());
        assert!(normalize_edges("g", &Edges::Karney, false).is_err());
        assert_eq!(
            normalize_edges("g", &Edges::Karney, true).unwrap(),
            (Edges::Karney, None)
        );
        let dynamic = Crs::Projjson(json!({
            "type": "GeographicCRS", "name": "ITRF2014",
            "datum": {"type": "DynamicGeodeticReferenceFrame", "name": "ITRF2014", "frame_reference_epoch": 2010.0,
                      "ellipsoid": {"name": "GRS 1980", "semi_major_axis": 6378137, "inverse_flattening": 298.257222101}},
            "coordinate_system": {"subtype": "ellipsoidal", "axis": []}
        }));
        assert_eq!(
            normalize_epoch("g", Some(2021.5), &dynamic),
            (Some(2021.5), None)
        );
        for junk in [0.0, -5.0, f64::NAN, 1.7e9] {
            assert_eq!(normalize_epoch("g", Some(junk), &dynamic).0, None);
        }
        assert_eq!(normalize_epoch("g", Some(2021.5), &Crs::Default).0, None);
        let (o, n) =
            normalize_orientation("g", Some(&Orientation::Other("CounterClockwise".into())));
        assert_eq!(o, Some(Orientation::Counterclockwise));
        assert!(n.is_some());
        assert_eq!(
            normalize_orientation("g", Some(&Orientation::Other("clockwise".into()))).0,
            None
        );
    }
}
