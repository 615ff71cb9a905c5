//! The footer key/value metadata: `geo`, `pandas`, `sliderule`, `recordinfo`,
//! in SlideRule's templates (and, in compatibility mode, its exact bytes).

use serde_json::{Map, Value};

use crate::columns::FieldType;
use crate::error::Result;
use crate::output::redact_request;

/// Footer key of the provenance JSON.
pub const SLIDERULE_KEY: &str = "sliderule";
/// Footer key of the record description (v4.13+).
pub const RECORDINFO_KEY: &str = "recordinfo";
/// Footer key of the pandas metadata.
pub const PANDAS_KEY: &str = "pandas";
/// Footer key of the GeoParquet metadata.
pub const GEO_KEY: &str = "geo";

/// The `geo` value every SlideRule p-series server writes (837 bytes): a
/// constant world bbox and an `epoch` on a static CRS. Written only in
/// [`Compat::SlideRule4_20`] mode; otherwise `geo` is valid GeoParquet 1.1
/// computed from the data.
pub const GEO_SLIDERULE: &str = r#"{ "version": "1.0.0-beta.1", "primary_column": "geometry", "columns": { "geometry": { "encoding": "WKB", "geometry_types": ["Point"], "crs": { "$schema": "https://proj.org/schemas/v0.5/projjson.schema.json", "type": "GeographicCRS", "name": "WGS 84 longitude-latitude", "datum": { "type": "GeodeticReferenceFrame", "name": "World Geodetic System 1984", "ellipsoid": { "name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563 } }, "coordinate_system": { "subtype": "ellipsoidal", "axis": [ { "name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree" }, { "name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree" } ] }, "id": { "authority": "OGC", "code": "CRS84" } }, "edges": "planar", "bbox": [-180.0, -90.0, 180.0, 90.0], "epoch": 2018.0 } } }"#;

/// Which metadata shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compat {
    /// Ours: valid GeoParquet 1.1 `geo` with the data's bbox (and an
    /// optional covering), plugin versions in `sliderule`.
    #[default]
    Improved,
    /// The bytes a v4.20 server writes for every key (`--compat sliderule-4.20`).
    SlideRule4_20,
}

impl std::str::FromStr for Compat {
    type Err = crate::Error;

    /// Parses `improved` (also `geoquet`, `default`) or `sliderule-4.20`
    /// (also `sliderule-4.20.0`, `4.20`).
    ///
    /// ```
    /// use sliderule_export::Compat;
    /// assert_eq!("sliderule-4.20".parse::<Compat>()?, Compat::SlideRule4_20);
    /// assert_eq!(Compat::SlideRule4_20.to_string().parse::<Compat>()?, Compat::SlideRule4_20);
    /// assert!("4.19".parse::<Compat>().is_err());
    /// # Ok::<(), sliderule_export::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "improved" | "geoquet" | "default" => Ok(Self::Improved),
            "sliderule-4.20" | "sliderule-4.20.0" | "4.20" => Ok(Self::SlideRule4_20),
            other => Err(crate::Error::UnknownName {
                what: "compatibility mode",
                value: other.to_owned(),
                expected: "improved or sliderule-4.20",
            }),
        }
    }
}

impl std::fmt::Display for Compat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Improved => "improved",
            Self::SlideRule4_20 => "sliderule-4.20",
        })
    }
}

/// What the `sliderule.server` entry says about the producer. Defaults to
/// this crate's identity; callers acting as a server fill in their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `environment` (SlideRule: the git describe of the deployment).
    pub environment: String,
    /// `version`, e.g. `v4.20.0`.
    pub version: String,
    /// `duration`: milliseconds since the server started.
    pub duration_ms: u64,
    /// `packages`.
    pub packages: Vec<String>,
    /// `build` (v4.13.1+; `commit` before).
    pub build: String,
    /// `launch`: server start, `YYYY-MM-DDThh:mm:ssZ`.
    pub launch: String,
}

impl Default for ServerInfo {
    fn default() -> Self {
        let v = format!("v{}", env!("CARGO_PKG_VERSION"));
        Self {
            environment: format!("sliderule-export {v}"),
            version: v.clone(),
            duration_ms: 0,
            packages: vec![
                "sliderule-export".into(),
                "geoparquet-io".into(),
                "parquet".into(),
            ],
            build: format!("sliderule-export {v}"),
            launch: utc_now(),
        }
    }
}

/// The versions of the plugins that built the file (ours lists them; the
/// reference lists only the core server).
#[must_use]
pub fn plugin_versions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sliderule-export", env!("CARGO_PKG_VERSION")),
        ("geoparquet-io", env!("CARGO_PKG_VERSION")),
        ("parquet", "59"),
        ("arrow", "59"),
    ]
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ssZ`.
#[must_use]
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d, hh, mm, ss) = civil(i64::try_from(secs).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// Unix seconds → (year, month, day, hour, minute, second), proleptic Gregorian
/// (chrono's calendar); times beyond chrono's range (±262,000 years) are the epoch.
pub(crate) fn civil(secs: i64) -> (i32, u32, u32, u32, u32, u32) {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    (
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
}

/// SlideRule's post-processing of every metadata template: each run of four
/// spaces is deleted and each newline becomes one space.
#[must_use]
pub fn sliderule_whitespace(s: &str) -> String {
    s.replace("    ", "").replace('\n', " ")
}

/// The request echoed into `sliderule.server.rqst.parms`, credentials
/// removed. Raw JSON text is kept byte for byte when it holds no
/// credentials (so `0.000000`-style numbers survive); otherwise it is
/// re-serialised with every credential removed.
pub fn request_echo(raw_parms: &str) -> Result<String> {
    let mut v: Value = serde_json::from_str(raw_parms)?;
    if redact_request(&mut v) {
        Ok(serde_json::to_string(&v)?)
    } else {
        Ok(raw_parms.trim().to_owned())
    }
}

/// The `sliderule` value (v4.13.1+ shape). `parms` must already be redacted
/// (see [`request_echo`]); `plugins` adds our plugin list (not in compat mode).
#[must_use]
pub fn sliderule_json(endpoint: &str, parms: &str, server: &ServerInfo, plugins: bool) -> String {
    let packages: Vec<String> = server
        .packages
        .iter()
        .map(|p| Value::String(p.clone()).to_string())
        .collect();
    let q = |s: &str| Value::String(s.to_owned()).to_string();
    let mut s = format!(
        "{{ \"server\": {{ \"rqst\": {{\"endpoint\": {}, \"parms\": {}}}, \"environment\":{}, \"version\":{}, \"duration\":{}, \"packages\":[{}], \"build\":{}, \"launch\":{}",
        q(endpoint),
        parms,
        q(&server.environment),
        q(&server.version),
        server.duration_ms,
        packages.join(", "),
        q(&server.build),
        q(&server.launch),
    );
    if plugins {
        let list: Vec<String> = plugin_versions()
            .iter()
            .map(|(n, v)| format!("{}: {}", q(n), q(v)))
            .collect();
        s.push_str(&format!(", \"plugins\":{{{}}}", list.join(", ")));
    }
    s.push_str(" } }");
    sliderule_whitespace(&s)
}

/// The `recordinfo` value.
///
/// ```
/// assert_eq!(
///     sliderule_export::metadata::recordinfo_json(false),
///     r#"{ "time": "time", "as_geo": false, "x": "longitude", "y": "latitude" }"#
/// );
/// ```
#[must_use]
pub fn recordinfo_json(as_geo: bool) -> String {
    format!(
        "{{ \"time\": \"time\", \"as_geo\": {as_geo}, \"x\": \"longitude\", \"y\": \"latitude\" }}"
    )
}

/// One column of the `pandas` template: name and (pandas, numpy) types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PandasColumn {
    /// Column name.
    pub name: String,
    /// `pandas_type`.
    pub pandas_type: &'static str,
    /// `numpy_type`.
    pub numpy_type: &'static str,
}

impl PandasColumn {
    /// A record field column.
    #[must_use]
    pub fn field(name: &str, t: FieldType) -> Self {
        let (p, n) = t.pandas_types();
        Self {
            name: name.to_owned(),
            pandas_type: p,
            numpy_type: n,
        }
    }

    /// A binary or nested column (`geometry`, covering, photon lists).
    #[must_use]
    pub fn object(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            pandas_type: "bytes",
            numpy_type: "object",
        }
    }
}

/// The `pandas` value (SlideRule's template imitating pyarrow 10.0.1 /
/// pandas 1.5.3): `index_columns` = `["time"]`, so readers index by time.
#[must_use]
pub fn pandas_json(columns: &[PandasColumn]) -> String {
    let q = |s: &str| Value::String(s.to_owned()).to_string();
    let cols: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "{{\"name\": {n}, \"field_name\": {n}, \"pandas_type\": \"{}\", \"numpy_type\": \"{}\", \"metadata\": null}}",
                c.pandas_type,
                c.numpy_type,
                n = q(&c.name)
            )
        })
        .collect();
    format!(
        "{{ \"index_columns\": [\"time\"], \"column_indexes\": [ {{ \"name\": null, \"field_name\": null, \"pandas_type\": \"unicode\", \"numpy_type\": \"object\", \"metadata\": {{\"encoding\": \"UTF-8\"}} }} ], \"columns\": [{}], \"creator\": {{\"library\": \"pyarrow\", \"version\": \"10.0.1\"}}, \"pandas_version\": \"1.5.3\" }}",
        cols.join(", ")
    )
}

/// The `_metadata.json` sidecar of Feather and CSV outputs: each key mapped
/// to its value as a string (double-encoded, as SlideRule does).
pub fn sidecar_json(keys: &[(String, String)]) -> Result<String> {
    let mut m = Map::new();
    for (k, v) in keys {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    Ok(serde_json::to_string(&Value::Object(m))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geo_constant_is_the_837_bytes() {
        assert_eq!(GEO_SLIDERULE.len(), 837);
        let v: Value = serde_json::from_str(GEO_SLIDERULE).unwrap_or_default();
        assert_eq!(v["columns"]["geometry"]["epoch"], 2018.0);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_552_556_446), (2019, 3, 14, 9, 40, 46));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(-1), (1969, 12, 31, 23, 59, 59));
        // 2100 is not a leap year; 1900 neither.
        assert_eq!(civil(4_107_542_400), (2100, 3, 1, 0, 0, 0));
        assert_eq!(civil(-2_203_894_799), (1900, 2, 28, 23, 0, 1));
        assert_eq!(civil(i64::MAX), (1970, 1, 1, 0, 0, 0));
    }

    #[test]
    fn echo_keeps_raw_text_without_credentials() -> Result<()> {
        let raw = r#"{"a":0.000000,"output":{"credentials":{}}}"#;
        assert_eq!(request_echo(raw)?, raw);
        let with = r#"{"a":1,"output":{"credentials":{"aws_session_token":"TOKEN"}}}"#;
        let echoed = request_echo(with)?;
        assert!(!echoed.contains("TOKEN"));
        assert!(echoed.contains(r#""credentials":{}"#));
        Ok(())
    }

    #[test]
    fn whitespace_rule() {
        assert_eq!(sliderule_whitespace("{\n    \"a\":  1\n}"), "{ \"a\":  1 }");
    }
}
