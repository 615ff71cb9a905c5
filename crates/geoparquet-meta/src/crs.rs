//! Coordinate reference systems: the GeoParquet `crs` forms, the Parquet
//! native `crs` forms, recognition of OGC:CRS84 equivalents and PROJJSON
//! builders for the common CRSs.

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The PROJJSON schema URL written into built CRSs.
pub const PROJJSON_SCHEMA_URL: &str = "https://proj.org/schemas/v0.7/projjson.schema.json";

/// A GeoParquet column CRS.
///
/// `crs` absent, `crs: null` and `crs: {...}` mean different things and stay
/// apart here.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::Crs;
///
/// assert!(Crs::Default.is_crs84_equivalent());
/// assert!(!Crs::Unknown.is_crs84_equivalent());
///
/// let utm = Crs::from_epsg(32618)?;
/// assert_eq!(utm.epsg(), Some(32618));
/// assert_eq!(utm.name().as_deref(), Some("WGS 84 / UTM zone 18N"));
/// assert!(Crs::from_epsg(4326)?.is_crs84_equivalent());
/// assert_eq!(Crs::parse_user("EPSG:3857")?.epsg(), Some(3857));
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Crs {
    /// The key is absent: OGC:CRS84 (longitude, latitude on WGS 84).
    Default,
    /// Explicit `null`: the CRS is unknown or undefined.
    Unknown,
    /// A PROJJSON object.
    Projjson(Value),
    /// An authority and code known only by identifier (from a Parquet
    /// `srid:N` or a user's `EPSG:N` for which no PROJJSON is built in).
    /// Not a valid GeoParquet `crs` value by itself.
    Identifier {
        /// The authority, e.g. `EPSG`.
        authority: String,
        /// The code, e.g. `5070`.
        code: String,
    },
    /// Any other JSON value found in a `crs` key (e.g. a string): kept so
    /// that metadata round-trips, reported by the validator.
    Other(Value),
}

/// What a CRS says about its datum, for the `epoch` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatumKind {
    /// A dynamic reference frame: an epoch is meaningful.
    Dynamic,
    /// A static reference frame.
    Static,
    /// A datum ensemble (e.g. WGS 84): an epoch cannot be applied.
    Ensemble,
    /// Nothing can be told (no datum in the object).
    Unknown,
}

/// The outcome of comparing two CRSs without a CRS library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsComparison {
    /// The same CRS (same identifier, both CRS84-equivalent, or identical objects).
    Same,
    /// Different CRSs.
    Different,
    /// Cannot be decided from identifiers alone.
    Undetermined,
}

impl Crs {
    /// Reads the value of a `crs` key; `None` means the key is absent.
    pub fn from_json(value: Option<&Value>) -> Self {
        match value {
            None => Crs::Default,
            Some(Value::Null) => Crs::Unknown,
            Some(v @ Value::Object(_)) => Crs::Projjson(v.clone()),
            Some(v) => Crs::Other(v.clone()),
        }
    }

    /// The value to write under `crs`; `None` means omit the key.
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Crs::Default => None,
            Crs::Unknown => Some(Value::Null),
            Crs::Projjson(v) | Crs::Other(v) => Some(v.clone()),
            Crs::Identifier { authority, code } => {
                Some(Value::String(format!("{authority}:{code}")))
            }
        }
    }

    /// Parses what a user types: `EPSG:4326`, `OGC:CRS84`, `CRS84`, a bare
    /// EPSG number, or PROJJSON text.
    pub fn parse_user(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.starts_with('{') {
            let v: Value = serde_json::from_str(t).map_err(|e| Error::InvalidCrs {
                message: format!("not PROJJSON: {e}"),
            })?;
            return Ok(Crs::Projjson(v));
        }
        let upper = t.to_ascii_uppercase();
        if matches!(upper.as_str(), "OGC:CRS84" | "CRS84" | "OGC/CRS84") {
            return Ok(Crs::Projjson(ogc_crs84_projjson()));
        }
        let code = upper
            .strip_prefix("EPSG:")
            .or_else(|| upper.strip_prefix("EPSG/"))
            .unwrap_or(&upper);
        let code: u32 = code.parse().map_err(|_| Error::InvalidCrs {
            message: format!("\"{s}\" is not EPSG:<code>, OGC:CRS84 or PROJJSON"),
        })?;
        Ok(Crs::from_epsg(code).unwrap_or(Crs::Identifier {
            authority: "EPSG".into(),
            code: code.to_string(),
        }))
    }

    /// Full PROJJSON for the EPSG codes built in: 4326, 3857, and the WGS 84
    /// UTM zones 32601-32660 and 32701-32760.
    pub fn from_epsg(code: u32) -> Result<Self> {
        let v = match code {
            4326 => epsg_4326_projjson(),
            3857 => epsg_3857_projjson(),
            32601..=32660 => utm_projjson(code - 32600, true),
            32701..=32760 => utm_projjson(code - 32700, false),
            _ => {
                return Err(Error::InvalidCrs {
                    message: format!(
                        "no built-in PROJJSON for EPSG:{code} (built in: 4326, 3857, 326xx, 327xx); pass PROJJSON instead"
                    ),
                });
            }
        };
        Ok(Crs::Projjson(v))
    }

    /// The PROJJSON object, if this is one.
    pub fn projjson(&self) -> Option<&Value> {
        match self {
            Crs::Projjson(v) => Some(v),
            _ => None,
        }
    }

    /// The WKT text, if this is a string that reads as a WKT (1 or 2) CRS:
    /// the `crs` form of GeoParquet 0.1.0 to 0.3.0, kept in [`Crs::Other`].
    ///
    /// ```
    /// use geoparquet_meta::Crs;
    /// use serde_json::json;
    ///
    /// let wkt = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],AUTHORITY["EPSG","4326"]]"#;
    /// let crs = Crs::from_json(Some(&json!(wkt)));
    /// assert_eq!(crs.wkt(), Some(wkt));
    /// assert_eq!(crs.epsg(), Some(4326));
    /// assert_eq!(crs.is_geographic(), Some(true));
    /// assert_eq!(crs.label(), "EPSG:4326 (WGS 84) as WKT");
    /// assert_eq!(Crs::from_json(Some(&json!("EPSG:4326"))).wkt(), None);
    /// ```
    pub fn wkt(&self) -> Option<&str> {
        match self {
            Crs::Other(Value::String(s)) if wkt_summary(s).is_some() => Some(s),
            _ => None,
        }
    }

    fn wkt_summary(&self) -> Option<WktSummary> {
        match self {
            Crs::Other(Value::String(s)) => wkt_summary(s),
            _ => None,
        }
    }

    /// The `(authority, code)` identifying the CRS: from PROJJSON `id` (or the
    /// first of `ids`), from an identifier, or `OGC:CRS84` for the default.
    pub fn authority_code(&self) -> Option<(String, String)> {
        match self {
            Crs::Default => Some(("OGC".into(), "CRS84".into())),
            Crs::Identifier { authority, code } => Some((authority.clone(), code.clone())),
            Crs::Projjson(v) => projjson_id(v),
            Crs::Other(_) => self.wkt_summary().and_then(|w| w.id),
            Crs::Unknown => None,
        }
    }

    /// The EPSG code, if the CRS is identified by one.
    pub fn epsg(&self) -> Option<u32> {
        let (authority, code) = self.authority_code()?;
        if authority.eq_ignore_ascii_case("EPSG") {
            code.parse().ok()
        } else {
            None
        }
    }

    /// The CRS name: PROJJSON `name`, or a fixed name for the default.
    pub fn name(&self) -> Option<String> {
        match self {
            Crs::Default => Some("WGS 84 longitude-latitude".into()),
            Crs::Projjson(v) => v.get("name").and_then(Value::as_str).map(str::to_owned),
            Crs::Other(_) => self.wkt_summary().and_then(|w| w.name),
            _ => None,
        }
    }

    /// A one-line description for people: `"EPSG:32618 (WGS 84 / UTM zone 18N)"`.
    pub fn label(&self) -> String {
        let id = self.authority_code().map(|(a, c)| format!("{a}:{c}"));
        match (self, id, self.name()) {
            (Crs::Unknown, _, _) => "unknown (null)".into(),
            (Crs::Other(_), Some(id), Some(name)) if self.wkt().is_some() => {
                format!("{id} ({name}) as WKT")
            }
            (Crs::Other(_), Some(id), None) if self.wkt().is_some() => format!("{id} as WKT"),
            (Crs::Other(_), None, Some(name)) if self.wkt().is_some() => {
                format!("{name} (WKT without id)")
            }
            (Crs::Other(_), None, None) if self.wkt().is_some() => "WKT without id or name".into(),
            (Crs::Other(v), _, _) => format!("invalid: {v}"),
            (_, Some(id), Some(name)) => format!("{id} ({name})"),
            (_, Some(id), None) => id,
            (_, None, Some(name)) => format!("{name} (PROJJSON without id)"),
            (_, None, None) => "PROJJSON without id or name".into(),
        }
    }

    /// Whether the CRS is OGC:CRS84 or an equivalent the specification names:
    /// absent, or PROJJSON whose id is `OGC:CRS84` or `EPSG:4326` (GeoParquet
    /// fixes the axis order to longitude, latitude).
    pub fn is_crs84_equivalent(&self) -> bool {
        match self.authority_code() {
            Some((a, c)) => {
                (a.eq_ignore_ascii_case("OGC") && c.eq_ignore_ascii_case("CRS84"))
                    || (a.eq_ignore_ascii_case("EPSG") && c == "4326")
            }
            None => false,
        }
    }

    /// Whether the CRS is geographic (longitude/latitude). `None` when it
    /// cannot be told.
    pub fn is_geographic(&self) -> Option<bool> {
        if self.is_crs84_equivalent() {
            return Some(true);
        }
        if let Some(w) = self.wkt_summary() {
            return w.geographic;
        }
        let v = self.projjson()?;
        match v.get("type").and_then(Value::as_str)? {
            "GeographicCRS" => Some(true),
            "GeodeticCRS" => Some(
                v.pointer("/coordinate_system/subtype")
                    .and_then(Value::as_str)
                    == Some("ellipsoidal"),
            ),
            "ProjectedCRS"
            | "VerticalCRS"
            | "EngineeringCRS"
            | "CompoundCRS"
            | "DerivedProjectedCRS"
            | "TemporalCRS"
            | "ParametricCRS" => Some(false),
            _ => None,
        }
    }

    /// The kind of datum, for deciding whether an `epoch` makes sense.
    pub fn datum_kind(&self) -> DatumKind {
        match self {
            Crs::Default => DatumKind::Ensemble,
            Crs::Projjson(v) => projjson_datum_kind(v),
            Crs::Identifier { .. } if self.is_crs84_equivalent() => DatumKind::Ensemble,
            _ => DatumKind::Unknown,
        }
    }

    /// Compares two CRSs by identifier, CRS84 equivalence or equal objects.
    pub fn compare(&self, other: &Crs) -> CrsComparison {
        match (self, other) {
            (Crs::Unknown, Crs::Unknown) => return CrsComparison::Same,
            (Crs::Unknown, _) | (_, Crs::Unknown) => return CrsComparison::Different,
            _ => {}
        }
        if self.is_crs84_equivalent() && other.is_crs84_equivalent() {
            return CrsComparison::Same;
        }
        if let (Some(a), Some(b)) = (self.authority_code(), other.authority_code()) {
            let same = a.0.eq_ignore_ascii_case(&b.0) && a.1.eq_ignore_ascii_case(&b.1);
            return if same {
                CrsComparison::Same
            } else {
                CrsComparison::Different
            };
        }
        match (self.projjson(), other.projjson()) {
            (Some(a), Some(b)) if strip_schema(a) == strip_schema(b) => CrsComparison::Same,
            _ => CrsComparison::Undetermined,
        }
    }
}

/// What a WKT CRS string says at its top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WktSummary {
    /// The CRS keyword in upper case, e.g. `GEOGCS`, `PROJCRS`.
    pub(crate) keyword: String,
    /// The CRS name (the first quoted string).
    pub(crate) name: Option<String>,
    /// The first top-level `AUTHORITY[...]` (WKT 1) or `ID[...]` (WKT 2).
    pub(crate) id: Option<(String, String)>,
    /// Whether the CRS is geographic; `None` when the keyword cannot tell.
    pub(crate) geographic: Option<bool>,
}

/// WKT 1 and WKT 2 keywords of a whole CRS.
const WKT_CRS_KEYWORDS: [&str; 24] = [
    "GEOGCS",
    "PROJCS",
    "GEOCCS",
    "VERT_CS",
    "COMPD_CS",
    "LOCAL_CS",
    "FITTED_CS",
    "GEOGCRS",
    "GEOGRAPHICCRS",
    "GEODCRS",
    "GEODETICCRS",
    "PROJCRS",
    "PROJECTEDCRS",
    "VERTCRS",
    "VERTICALCRS",
    "COMPOUNDCRS",
    "ENGCRS",
    "ENGINEERINGCRS",
    "BOUNDCRS",
    "DERIVEDPROJCRS",
    "TIMECRS",
    "PARAMETRICCRS",
    "IMAGECRS",
    "BASEGEOGCRS",
];

/// Reads the top level of a WKT CRS: keyword, name, identifier. `None` when
/// the text does not start like a WKT CRS or its brackets do not balance.
/// One pass over the text, no recursion: any input is safe.
pub(crate) fn wkt_summary(text: &str) -> Option<WktSummary> {
    let t = text.trim();
    let open = t.find(['[', '('])?;
    let keyword = t[..open].trim().to_ascii_uppercase();
    if !WKT_CRS_KEYWORDS.contains(&keyword.as_str()) {
        return None;
    }
    // Walk the body, noting each child element at depth 1 (keyword and the
    // byte range of its arguments) and the first quoted string.
    let body = &t[open..];
    let mut depth = 0usize;
    let mut in_string = false;
    let mut name: Option<String> = None;
    let mut current = String::new();
    let mut token_start: Option<usize> = None;
    let mut child: Option<(String, usize)> = None;
    let mut children: Vec<(String, String)> = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if in_string {
            if ch == '"' {
                if chars.peek().is_some_and(|(_, c)| *c == '"') {
                    chars.next();
                    current.push('"');
                } else {
                    in_string = false;
                    if depth == 1 && name.is_none() {
                        name = Some(std::mem::take(&mut current));
                    }
                }
            } else if depth == 1 && name.is_none() {
                current.push(ch);
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '[' | '(' => {
                if depth == 1
                    && let Some(start) = token_start
                {
                    let kw = body[start..i].trim().to_ascii_uppercase();
                    child = Some((kw, i + 1));
                }
                depth += 1;
                token_start = None;
            }
            ']' | ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 1
                    && let Some((kw, start)) = child.take()
                {
                    children.push((kw, body[start..i].to_owned()));
                }
                token_start = None;
            }
            ',' => token_start = None,
            c if depth == 1 && token_start.is_none() && c.is_ascii_alphabetic() => {
                token_start = Some(i);
            }
            _ => {}
        }
    }
    if depth != 0 || in_string {
        return None;
    }
    let id = children
        .iter()
        .find(|(kw, _)| kw == "AUTHORITY" || kw == "ID")
        .and_then(|(_, args)| {
            let mut parts = args
                .split(',')
                .map(|p| p.trim().trim_matches('"').to_owned());
            let authority = parts.next().filter(|a| !a.is_empty())?;
            let code = parts.next().filter(|c| !c.is_empty())?;
            Some((authority, code))
        });
    let geographic = match keyword.as_str() {
        "GEOGCS" | "GEOGCRS" | "GEOGRAPHICCRS" => Some(true),
        "GEODCRS" | "GEODETICCRS" => Some(children.iter().any(|(kw, args)| {
            kw == "CS"
                && args
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("ellipsoidal")
        })),
        "BOUNDCRS" => None,
        _ => Some(false),
    };
    Some(WktSummary {
        keyword,
        name,
        id,
        geographic,
    })
}

fn strip_schema(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.shift_remove("$schema");
    }
    v
}

fn id_of(v: &Value) -> Option<(String, String)> {
    let authority = v.get("authority")?.as_str()?.to_owned();
    let code = match v.get("code")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some((authority, code))
}

fn projjson_id(v: &Value) -> Option<(String, String)> {
    if let Some(id) = v.get("id") {
        return id_of(id);
    }
    v.get("ids")?.as_array()?.first().and_then(id_of)
}

fn projjson_datum_kind(v: &Value) -> DatumKind {
    if let Some(d) = v.get("datum") {
        return match d.get("type").and_then(Value::as_str) {
            Some(t) if t.starts_with("Dynamic") => DatumKind::Dynamic,
            _ => DatumKind::Static,
        };
    }
    if v.get("datum_ensemble").is_some() {
        return DatumKind::Ensemble;
    }
    for key in ["base_crs", "source_crs"] {
        if let Some(base) = v.get(key) {
            return projjson_datum_kind(base);
        }
    }
    if let Some(Value::Array(components)) = v.get("components")
        && let Some(first) = components.first()
    {
        return projjson_datum_kind(first);
    }
    DatumKind::Unknown
}

/// The CRS forms of the Parquet `GEOMETRY`/`GEOGRAPHY` logical type.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::{Crs, ParquetCrs};
///
/// assert_eq!(ParquetCrs::parse(None), ParquetCrs::Default);
/// assert_eq!(ParquetCrs::parse(Some("srid:5070")), ParquetCrs::Srid("5070".into()));
/// let crs = ParquetCrs::parse(Some("srid:0")).resolve(|_| None)?;
/// assert_eq!(crs, Crs::Unknown);
/// let key = ParquetCrs::parse(Some("projjson:my_crs"));
/// let crs = key.resolve(|k| (k == "my_crs").then(|| r#"{"type":"GeographicCRS","name":"x","id":{"authority":"EPSG","code":4326}}"#.to_string()))?;
/// assert!(crs.is_crs84_equivalent());
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParquetCrs {
    /// Omitted or empty: OGC:CRS84.
    Default,
    /// `srid:<identifier>`; `srid:0` means "no CRS".
    Srid(String),
    /// `projjson:<key>`: PROJJSON stored under a file key/value entry.
    ProjjsonKey(String),
    /// Inline PROJJSON text.
    Projjson(Value),
    /// Anything else (e.g. `EPSG:4326`, WKT2), kept verbatim.
    Other(String),
}

/// The same as [`ParquetCrs::parse`] of `Some(s)`, which never fails: text it
/// does not know is kept verbatim (`Other`).
///
/// ```
/// use geoparquet_meta::crs::ParquetCrs;
///
/// assert_eq!("srid:0".parse::<ParquetCrs>(), Ok(ParquetCrs::Srid("0".into())));
/// ```
impl std::str::FromStr for ParquetCrs {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(Some(s)))
    }
}

impl ParquetCrs {
    /// Parses the logical type's `crs` string.
    pub fn parse(crs: Option<&str>) -> Self {
        let Some(s) = crs.map(str::trim).filter(|s| !s.is_empty()) else {
            return ParquetCrs::Default;
        };
        if let Some(id) = s.strip_prefix("srid:") {
            return ParquetCrs::Srid(id.to_owned());
        }
        if let Some(key) = s.strip_prefix("projjson:") {
            return ParquetCrs::ProjjsonKey(key.to_owned());
        }
        if s.starts_with('{')
            && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(s)
        {
            return ParquetCrs::Projjson(v);
        }
        ParquetCrs::Other(s.to_owned())
    }

    /// The string to write into the logical type; `None` = omit (CRS84).
    pub fn to_parquet_string(&self) -> Option<String> {
        match self {
            ParquetCrs::Default => None,
            ParquetCrs::Srid(id) => Some(format!("srid:{id}")),
            ParquetCrs::ProjjsonKey(k) => Some(format!("projjson:{k}")),
            ParquetCrs::Projjson(v) => Some(v.to_string()),
            ParquetCrs::Other(s) => Some(s.clone()),
        }
    }

    /// The logical type form for a GeoParquet CRS, following the 2.0 rules:
    /// omitted for CRS84 equivalents, `srid:0` for unknown, else inline PROJJSON.
    pub fn from_crs(crs: &Crs) -> Self {
        match crs {
            c if c.is_crs84_equivalent() => ParquetCrs::Default,
            Crs::Unknown => ParquetCrs::Srid("0".into()),
            Crs::Projjson(v) => ParquetCrs::Projjson(v.clone()),
            Crs::Identifier { authority, code } if authority.eq_ignore_ascii_case("EPSG") => {
                ParquetCrs::Srid(code.clone())
            }
            Crs::Identifier { authority, code } => ParquetCrs::Other(format!("{authority}:{code}")),
            Crs::Other(v) => ParquetCrs::Other(v.to_string()),
            Crs::Default => ParquetCrs::Default,
        }
    }

    /// Resolves to a [`Crs`], looking `projjson:<key>` up with `lookup` (the
    /// file's key/value metadata).
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Crs> {
        match self {
            ParquetCrs::Default => Ok(Crs::Default),
            ParquetCrs::Srid(id) if id == "0" => Ok(Crs::Unknown),
            ParquetCrs::Srid(id) => Ok(id
                .parse::<u32>()
                .ok()
                .and_then(|code| Crs::from_epsg(code).ok())
                .unwrap_or_else(|| Crs::Identifier {
                    authority: "EPSG".into(),
                    code: id.clone(),
                })),
            ParquetCrs::ProjjsonKey(key) => {
                let text = lookup(key).ok_or_else(|| Error::InvalidCrs {
                    message: format!(
                        "crs \"projjson:{key}\" names a key/value entry the file does not have"
                    ),
                })?;
                match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => Ok(Crs::Projjson(v)),
                    _ => Err(Error::InvalidCrs {
                        message: format!("key/value entry \"{key}\" is not a PROJJSON object"),
                    }),
                }
            }
            ParquetCrs::Projjson(v) => Ok(Crs::Projjson(v.clone())),
            ParquetCrs::Other(s) => match s.split_once(':') {
                Some((authority, code))
                    if !authority.is_empty() && !code.is_empty() && !code.contains(['[', '"']) =>
                {
                    Ok(Crs::parse_user(s).unwrap_or(Crs::Identifier {
                        authority: authority.to_owned(),
                        code: code.to_owned(),
                    }))
                }
                _ => Err(Error::InvalidCrs {
                    message: format!("unrecognised Parquet crs value \"{s}\""),
                }),
            },
        }
    }
}

fn wgs84_ensemble() -> Value {
    json!({
        "name": "World Geodetic System 1984 ensemble",
        "members": [
            {"name": "World Geodetic System 1984 (Transit)", "id": {"authority": "EPSG", "code": 1166}},
            {"name": "World Geodetic System 1984 (G730)", "id": {"authority": "EPSG", "code": 1152}},
            {"name": "World Geodetic System 1984 (G873)", "id": {"authority": "EPSG", "code": 1153}},
            {"name": "World Geodetic System 1984 (G1150)", "id": {"authority": "EPSG", "code": 1154}},
            {"name": "World Geodetic System 1984 (G1674)", "id": {"authority": "EPSG", "code": 1155}},
            {"name": "World Geodetic System 1984 (G1762)", "id": {"authority": "EPSG", "code": 1156}},
            {"name": "World Geodetic System 1984 (G2139)", "id": {"authority": "EPSG", "code": 1309}},
            {"name": "World Geodetic System 1984 (G2296)", "id": {"authority": "EPSG", "code": 1383}}
        ],
        "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563},
        "accuracy": "2.0",
        "id": {"authority": "EPSG", "code": 6326}
    })
}

fn lat_lon_axes(lon_first: bool) -> Value {
    let lat = json!({"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": "degree"});
    let lon = json!({"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": "degree"});
    let axis = if lon_first {
        vec![lon, lat]
    } else {
        vec![lat, lon]
    };
    json!({"subtype": "ellipsoidal", "axis": axis})
}

/// The OGC:CRS84 PROJJSON object as printed in the GeoParquet specification
/// (longitude, latitude on WGS 84).
pub fn ogc_crs84_projjson() -> Value {
    json!({
        "$schema": "https://proj.org/schemas/v0.5/projjson.schema.json",
        "type": "GeographicCRS",
        "name": "WGS 84 longitude-latitude",
        "datum": {
            "type": "GeodeticReferenceFrame",
            "name": "World Geodetic System 1984",
            "ellipsoid": {"name": "WGS 84", "semi_major_axis": 6378137, "inverse_flattening": 298.257223563}
        },
        "coordinate_system": lat_lon_axes(true),
        "id": {"authority": "OGC", "code": "CRS84"}
    })
}

fn wgs84_geographic(with_schema: bool) -> Value {
    let mut v = json!({
        "type": "GeographicCRS",
        "name": "WGS 84",
        "datum_ensemble": wgs84_ensemble(),
        "coordinate_system": lat_lon_axes(false),
        "id": {"authority": "EPSG", "code": 4326}
    });
    if with_schema && let Value::Object(m) = &mut v {
        m.shift_insert(0, "$schema".into(), PROJJSON_SCHEMA_URL.into());
    }
    v
}

fn epsg_4326_projjson() -> Value {
    let mut v = wgs84_geographic(true);
    if let Value::Object(m) = &mut v {
        let id = m.shift_remove("id");
        m.insert("scope".into(), "Horizontal component of 3D system.".into());
        m.insert("area".into(), "World.".into());
        m.insert(
            "bbox".into(),
            json!({"south_latitude": -90, "west_longitude": -180, "north_latitude": 90, "east_longitude": 180}),
        );
        if let Some(id) = id {
            m.insert("id".into(), id);
        }
    }
    v
}

fn param(name: &str, value: f64, unit: &str, code: u32) -> Value {
    json!({"name": name, "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}})
}

fn en_axes(abbrev: (&str, &str)) -> Value {
    json!({"subtype": "Cartesian", "axis": [
        {"name": "Easting", "abbreviation": abbrev.0, "direction": "east", "unit": "metre"},
        {"name": "Northing", "abbreviation": abbrev.1, "direction": "north", "unit": "metre"}
    ]})
}

fn epsg_3857_projjson() -> Value {
    json!({
        "$schema": PROJJSON_SCHEMA_URL,
        "type": "ProjectedCRS",
        "name": "WGS 84 / Pseudo-Mercator",
        "base_crs": wgs84_geographic(false),
        "conversion": {
            "name": "Popular Visualisation Pseudo-Mercator",
            "method": {"name": "Popular Visualisation Pseudo Mercator", "id": {"authority": "EPSG", "code": 1024}},
            "parameters": [
                param("Latitude of natural origin", 0.0, "degree", 8801),
                param("Longitude of natural origin", 0.0, "degree", 8802),
                param("False easting", 0.0, "metre", 8806),
                param("False northing", 0.0, "metre", 8807)
            ]
        },
        "coordinate_system": en_axes(("X", "Y")),
        "scope": "Web mapping and visualisation.",
        "area": "World between 85.06°S and 85.06°N.",
        "bbox": {"south_latitude": -85.06, "west_longitude": -180, "north_latitude": 85.06, "east_longitude": 180},
        "id": {"authority": "EPSG", "code": 3857}
    })
}

fn utm_projjson(zone: u32, north: bool) -> Value {
    let hemi = if north { "N" } else { "S" };
    let central = f64::from(zone) * 6.0 - 183.0;
    let (code, conv_code) = if north {
        (32600 + zone, 16000 + zone)
    } else {
        (32700 + zone, 16100 + zone)
    };
    json!({
        "$schema": PROJJSON_SCHEMA_URL,
        "type": "ProjectedCRS",
        "name": format!("WGS 84 / UTM zone {zone}{hemi}"),
        "base_crs": wgs84_geographic(false),
        "conversion": {
            "name": format!("UTM zone {zone}{hemi}"),
            "method": {"name": "Transverse Mercator", "id": {"authority": "EPSG", "code": 9807}},
            "parameters": [
                param("Latitude of natural origin", 0.0, "degree", 8801),
                param("Longitude of natural origin", central, "degree", 8802),
                param("Scale factor at natural origin", 0.9996, "unity", 8805),
                param("False easting", 500000.0, "metre", 8806),
                param("False northing", if north { 0.0 } else { 10000000.0 }, "metre", 8807)
            ],
            "id": {"authority": "EPSG", "code": conv_code}
        },
        "coordinate_system": en_axes(("E", "N")),
        "id": {"authority": "EPSG", "code": code}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_strings_are_read() {
        let wkt2 = r#"PROJCRS["WGS 84 / UTM zone 31N",BASEGEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (Transit)"],ELLIPSOID["WGS 84",6378137,298.257223563]],ID["EPSG",4326]],CONVERSION["UTM zone 31N",METHOD["Transverse Mercator",ID["EPSG",9807]]],CS[Cartesian,2],ID["EPSG",32631]]"#;
        let s = wkt_summary(wkt2).unwrap();
        assert_eq!(s.keyword, "PROJCRS");
        assert_eq!(s.name.as_deref(), Some("WGS 84 / UTM zone 31N"));
        assert_eq!(s.id, Some(("EPSG".into(), "32631".into())));
        assert_eq!(s.geographic, Some(false));
        let crs = Crs::from_json(Some(&json!(wkt2)));
        assert_eq!(crs.epsg(), Some(32631));
        assert!(!crs.is_crs84_equivalent());
        let geod = r#"GEODCRS["x ""quoted""",DATUM["d",ELLIPSOID["e",1,0]],CS[ellipsoidal,2]]"#;
        let s = wkt_summary(geod).unwrap();
        assert_eq!(s.name.as_deref(), Some("x \"quoted\""));
        assert_eq!((s.id, s.geographic), (None, Some(true)));
        for bad in [
            "EPSG:4326",
            "GEOGCS[\"a\"",
            "FOO[\"a\"]",
            "GEOGCS[\"a]",
            "]]",
            "",
        ] {
            assert_eq!(wkt_summary(bad), None, "{bad}");
        }
        let deep = format!("GEOGCS[{}{}]", "A[".repeat(100_000), "]".repeat(100_000));
        assert!(wkt_summary(&deep).is_some());
    }

    #[test]
    fn forms_stay_apart() {
        assert_eq!(Crs::from_json(None), Crs::Default);
        assert_eq!(Crs::from_json(Some(&Value::Null)), Crs::Unknown);
        assert!(matches!(
            Crs::from_json(Some(&json!("EPSG:4326"))),
            Crs::Other(_)
        ));
        assert_eq!(Crs::Default.to_json(), None);
        assert_eq!(Crs::Unknown.to_json(), Some(Value::Null));
    }

    #[test]
    fn crs84_equivalents() {
        let ogc = Crs::Projjson(ogc_crs84_projjson());
        assert!(ogc.is_crs84_equivalent());
        let string_code = Crs::Projjson(json!({"id": {"authority": "EPSG", "code": "4326"}}));
        assert!(string_code.is_crs84_equivalent());
        let no_id = Crs::Projjson(json!({"type": "GeographicCRS", "name": "WGS 84"}));
        assert!(!no_id.is_crs84_equivalent());
        assert!(!Crs::from_epsg(3857).unwrap().is_crs84_equivalent());
        assert_eq!(ogc.compare(&Crs::Default), CrsComparison::Same);
        assert_eq!(
            Crs::from_epsg(3857).unwrap().compare(&Crs::Default),
            CrsComparison::Different
        );
        assert_eq!(
            no_id.compare(&Crs::Projjson(json!({"x": 1}))),
            CrsComparison::Undetermined
        );
    }

    #[test]
    fn utm_zones() {
        let s = Crs::from_epsg(32733).unwrap();
        assert_eq!(s.name().as_deref(), Some("WGS 84 / UTM zone 33S"));
        let v = s.projjson().unwrap();
        assert_eq!(
            v.pointer("/conversion/parameters/1/value"),
            Some(&json!(15.0))
        );
        assert_eq!(
            v.pointer("/conversion/parameters/4/value"),
            Some(&json!(10000000.0))
        );
        assert!(Crs::from_epsg(32661).is_err());
        assert!(Crs::from_epsg(5070).is_err());
        assert_eq!(Crs::parse_user("epsg:5070").unwrap().epsg(), Some(5070));
        assert!(Crs::parse_user("nonsense").is_err());
    }

    #[test]
    fn datum_kinds() {
        assert_eq!(Crs::Default.datum_kind(), DatumKind::Ensemble);
        assert_eq!(
            Crs::from_epsg(32618).unwrap().datum_kind(),
            DatumKind::Ensemble
        );
        let dynamic = Crs::Projjson(
            json!({"type": "GeographicCRS", "datum": {"type": "DynamicGeodeticReferenceFrame"}}),
        );
        assert_eq!(dynamic.datum_kind(), DatumKind::Dynamic);
        assert_eq!(
            Crs::Projjson(json!({"id": {}})).datum_kind(),
            DatumKind::Unknown
        );
    }

    #[test]
    fn parquet_forms() {
        assert_eq!(ParquetCrs::parse(Some("")), ParquetCrs::Default);
        assert!(matches!(
            ParquetCrs::parse(Some("{\"type\": \"GeographicCRS\"}")),
            ParquetCrs::Projjson(_)
        ));
        assert_eq!(
            ParquetCrs::parse(Some("EPSG:4326")),
            ParquetCrs::Other("EPSG:4326".into())
        );
        assert!(
            ParquetCrs::ProjjsonKey("missing".into())
                .resolve(|_| None)
                .is_err()
        );
        let srid = ParquetCrs::Srid("5070".into()).resolve(|_| None).unwrap();
        assert_eq!(srid.epsg(), Some(5070));
        assert_eq!(
            ParquetCrs::from_crs(&Crs::Unknown),
            ParquetCrs::Srid("0".into())
        );
        assert_eq!(ParquetCrs::from_crs(&Crs::Default), ParquetCrs::Default);
        assert_eq!(
            ParquetCrs::from_crs(&Crs::from_epsg(4326).unwrap()),
            ParquetCrs::Default
        );
        assert!(
            ParquetCrs::Other("garbage".into())
                .resolve(|_| None)
                .is_err()
        );
    }
}
