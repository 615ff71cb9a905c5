//! The `geo` metadata object: file level and column level.
//!
//! Parsing is lenient (every version in the wild, the known quirks) and
//! lossless: unknown keys are kept in `extra`, key order and the spelling of
//! untouched values are kept, so `parse → serialize` gives an equal JSON
//! value. Whether the metadata *conforms* is the validator's business
//! ([`crate::validate`]).

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use crate::bbox::BoundingBox;
use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::geometry_type::{GeometryType, GeometryTypeAndDimension};
use crate::version::{DEFAULT_VERSION, Version};

/// The Parquet key/value metadata key that holds the GeoParquet JSON.
pub const GEO_METADATA_KEY: &str = "geo";

/// A column's geometry encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// ISO Well-Known Binary in a `BYTE_ARRAY` column.
    Wkb,
    /// GeoArrow native (separated) encoding of one geometry type (1.1).
    Native(GeometryType),
    /// Any other string, kept verbatim.
    Other(String),
}

/// The same as [`Encoding::parse`], which never fails: text it does not know is
/// kept verbatim (`Other`), for the validator to report.
///
/// ```
/// use geoparquet_meta::Encoding;
///
/// assert_eq!("WKB".parse::<Encoding>(), Ok(Encoding::Wkb));
/// ```
impl std::str::FromStr for Encoding {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl Encoding {
    /// Recognises the encoding. `"WKB"` and the native names are matched
    /// case-insensitively (`"wkb"` occurs in the wild); the validator reports
    /// the non-canonical spelling.
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("wkb") {
            return Encoding::Wkb;
        }
        GeometryType::ALL
            .into_iter()
            .find(|t| {
                t.native_encoding_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case(s))
            })
            .map_or_else(|| Encoding::Other(s.to_owned()), Encoding::Native)
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Encoding::Wkb => "WKB",
            Encoding::Native(t) => t.native_encoding_name().unwrap_or("geometrycollection"),
            Encoding::Other(s) => s,
        }
    }
}

/// How edges between vertices are interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Edges {
    /// Straight lines in the CRS (the default).
    Planar,
    /// Great-circle arcs.
    Spherical,
    /// Geodesics by Vincenty's formulae (2.0).
    Vincenty,
    /// Geodesics by Thomas' formulae (2.0).
    Thomas,
    /// Geodesics by Andoyer-Lambert (2.0).
    Andoyer,
    /// Geodesics by Karney's algorithm (2.0).
    Karney,
    /// Any other string.
    Other(String),
}

/// The same as [`Edges::parse`], which never fails: text it does not know is
/// kept verbatim (`Other`), for the validator to report.
///
/// ```
/// use geoparquet_meta::Edges;
///
/// assert_eq!("spherical".parse::<Edges>(), Ok(Edges::Spherical));
/// ```
impl std::str::FromStr for Edges {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl Edges {
    /// Recognises the exact lower-case spellings of the specification.
    pub fn parse(s: &str) -> Self {
        match s {
            "planar" => Edges::Planar,
            "spherical" => Edges::Spherical,
            "vincenty" => Edges::Vincenty,
            "thomas" => Edges::Thomas,
            "andoyer" => Edges::Andoyer,
            "karney" => Edges::Karney,
            other => Edges::Other(other.to_owned()),
        }
    }

    /// The spelling in metadata.
    pub fn as_str(&self) -> &str {
        match self {
            Edges::Planar => "planar",
            Edges::Spherical => "spherical",
            Edges::Vincenty => "vincenty",
            Edges::Thomas => "thomas",
            Edges::Andoyer => "andoyer",
            Edges::Karney => "karney",
            Edges::Other(s) => s,
        }
    }

    /// Whether edges are anything but planar.
    pub fn is_non_planar(&self) -> bool {
        !matches!(self, Edges::Planar)
    }
}

/// Ring winding order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Orientation {
    /// Exterior rings counterclockwise, interior rings clockwise.
    Counterclockwise,
    /// Any other string.
    Other(String),
}

/// The same as [`Orientation::parse`], which never fails: text it does not know is
/// kept verbatim (`Other`), for the validator to report.
///
/// ```
/// use geoparquet_meta::Orientation;
///
/// assert_eq!("counterclockwise".parse::<Orientation>(), Ok(Orientation::Counterclockwise));
/// ```
impl std::str::FromStr for Orientation {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl Orientation {
    /// Recognises `"counterclockwise"`.
    pub fn parse(s: &str) -> Self {
        if s == "counterclockwise" {
            Orientation::Counterclockwise
        } else {
            Orientation::Other(s.to_owned())
        }
    }

    /// The spelling in metadata.
    pub fn as_str(&self) -> &str {
        match self {
            Orientation::Counterclockwise => "counterclockwise",
            Orientation::Other(s) => s,
        }
    }
}

/// The 1.1 `covering.bbox` description of a per-row bounding-box column:
/// each entry is a Parquet path `[<column>, <field>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveringBbox {
    /// Path to the minimum X.
    pub xmin: Vec<String>,
    /// Path to the minimum Y.
    pub ymin: Vec<String>,
    /// Path to the maximum X.
    pub xmax: Vec<String>,
    /// Path to the maximum Y.
    pub ymax: Vec<String>,
    /// Path to the minimum Z, for a 3D covering.
    pub zmin: Option<Vec<String>>,
    /// Path to the maximum Z, for a 3D covering.
    pub zmax: Option<Vec<String>>,
}

impl CoveringBbox {
    /// The conventional covering for a struct column `name` with fields
    /// `xmin, ymin, xmax, ymax` (and `zmin, zmax` when `with_z`).
    ///
    /// ```
    /// let c = geoparquet_meta::CoveringBbox::for_column("bbox", false);
    /// assert_eq!(c.xmin, vec!["bbox".to_string(), "xmin".to_string()]);
    /// assert_eq!(c.column(), Some("bbox"));
    /// ```
    pub fn for_column(name: &str, with_z: bool) -> Self {
        let p = |f: &str| vec![name.to_owned(), f.to_owned()];
        Self {
            xmin: p("xmin"),
            ymin: p("ymin"),
            xmax: p("xmax"),
            ymax: p("ymax"),
            zmin: with_z.then(|| p("zmin")),
            zmax: with_z.then(|| p("zmax")),
        }
    }

    /// The struct column all paths point into, if they agree on one.
    pub fn column(&self) -> Option<&str> {
        let first = self.xmin.first()?;
        let all = [&self.ymin, &self.xmax, &self.ymax]
            .into_iter()
            .chain(self.zmin.as_ref())
            .chain(self.zmax.as_ref());
        all.into_iter()
            .all(|p| p.first() == Some(first))
            .then_some(first.as_str())
    }

    fn entries(&self) -> Vec<(&'static str, &Vec<String>)> {
        let mut v = vec![
            ("xmin", &self.xmin),
            ("ymin", &self.ymin),
            ("xmax", &self.xmax),
            ("ymax", &self.ymax),
        ];
        if let Some(z) = &self.zmin {
            v.push(("zmin", z));
        }
        if let Some(z) = &self.zmax {
            v.push(("zmax", z));
        }
        v
    }
}

/// The `covering` object of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Covering {
    /// The bounding-box covering.
    pub bbox: CoveringBbox,
    /// Other coverings or keys, kept verbatim.
    pub extra: Map<String, Value>,
}

/// Where a parsed object came from: its keys in order and, for each known
/// key, the original value and the canonical form of what was parsed from it.
/// Used only to serialise untouched values exactly as they were.
#[derive(Debug, Clone, Default)]
struct Source {
    keys: Vec<String>,
    original: Map<String, Value>,
    canonical: Map<String, Value>,
    /// A column object without any geometry type key (GeoParquet 0.1.0 has
    /// none): while the types stay unknown, none is written back.
    types_absent: bool,
}

impl PartialEq for Source {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Source {
    fn from_map(map: &Map<String, Value>) -> Self {
        Self {
            keys: map.keys().cloned().collect(),
            original: map.clone(),
            canonical: Map::new(),
            types_absent: false,
        }
    }

    /// Writes `fields` (known keys, canonical order, `None` = absent) and
    /// `extra` into a map, in the original key order where there is one.
    fn emit(
        &self,
        fields: Vec<(&str, Option<Value>)>,
        extra: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut known: IndexMap<&str, Value> = IndexMap::new();
        for (k, v) in fields {
            if let Some(v) = v {
                let v = match (self.canonical.get(k), self.original.get(k)) {
                    (Some(canon), Some(orig)) if *canon == v => orig.clone(),
                    _ => v,
                };
                known.insert(k, v);
            }
        }
        let mut out = Map::new();
        for k in &self.keys {
            if let Some(v) = known.shift_remove(k.as_str()) {
                out.insert(k.clone(), v);
            } else if let Some(v) = extra.get(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in known {
            out.insert(k.to_owned(), v);
        }
        for (k, v) in extra {
            if !out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

/// Metadata of one geometry column.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::{Encoding, GeoParquetColumnMetadata};
///
/// let col = GeoParquetColumnMetadata::new(Encoding::Wkb, vec!["Point".parse()?]);
/// assert_eq!(col.to_json()["geometry_types"][0], "Point");
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GeoParquetColumnMetadata {
    /// `encoding`.
    pub encoding: Encoding,
    /// `geometry_types` (or the legacy singular `geometry_type`); empty means unknown.
    pub geometry_types: Vec<GeometryTypeAndDimension>,
    /// `crs`: absent, `null` or PROJJSON.
    pub crs: Crs,
    /// `orientation`.
    pub orientation: Option<Orientation>,
    /// `edges`.
    pub edges: Option<Edges>,
    /// `algorithm` (the 2.0-dev shape: `edges: spherical` plus an algorithm).
    pub algorithm: Option<Edges>,
    /// `bbox`: the extent of the column.
    pub bbox: Option<BoundingBox>,
    /// `epoch`: coordinate epoch as a decimal year.
    pub epoch: Option<f64>,
    /// `covering` (1.1 and 2.0).
    pub covering: Option<Covering>,
    /// Every other key, and known keys whose value this model cannot hold
    /// (reported by the validator), kept verbatim.
    pub extra: Map<String, Value>,
    source: Source,
}

impl GeoParquetColumnMetadata {
    /// Column metadata with the given encoding and types and nothing else
    /// (CRS absent = OGC:CRS84).
    pub fn new(encoding: Encoding, geometry_types: Vec<GeometryTypeAndDimension>) -> Self {
        Self {
            encoding,
            geometry_types,
            crs: Crs::Default,
            orientation: None,
            edges: None,
            algorithm: None,
            bbox: None,
            epoch: None,
            covering: None,
            extra: Map::new(),
            source: Source::default(),
        }
    }

    /// The edge interpretation, combining `edges` and the 2.0-dev `algorithm`
    /// key; planar when neither is given.
    pub fn effective_edges(&self) -> Edges {
        match (&self.edges, &self.algorithm) {
            (Some(Edges::Spherical) | None, Some(a)) => a.clone(),
            (Some(e), _) => e.clone(),
            (None, None) => Edges::Planar,
        }
    }

    /// Parses a column object.
    pub fn from_json(column: &str, value: &Value) -> Result<Self> {
        let err_value = |key: &'static str, message: String| Error::InvalidValue {
            key,
            column: Some(column.to_owned()),
            message,
        };
        let Value::Object(map) = value else {
            return Err(err_value(
                "columns",
                format!("column metadata must be an object, got {}", kind(value)),
            ));
        };
        let mut source = Source::from_map(map);
        let mut extra = Map::new();
        let mut encoding = None;
        let mut geometry_types = None;
        let mut legacy_types = None;
        let mut out = Self::new(Encoding::Wkb, Vec::new());
        for (key, v) in map {
            let parsed: Option<Value> = match key.as_str() {
                "encoding" => match v.as_str() {
                    Some(s) => {
                        let e = Encoding::parse(s);
                        let canon = Value::String(e.as_str().to_owned());
                        encoding = Some(e);
                        Some(canon)
                    }
                    None => {
                        return Err(err_value(
                            "encoding",
                            format!("must be a string, got {}", kind(v)),
                        ));
                    }
                },
                "geometry_types" => {
                    let types = parse_types(column, v, false)?;
                    let canon = types_json(&types);
                    geometry_types = Some(types);
                    Some(canon)
                }
                "geometry_type" => {
                    legacy_types = Some(parse_types(column, v, true)?);
                    None
                }
                "crs" => {
                    out.crs = Crs::from_json(Some(v));
                    out.crs.to_json()
                }
                "orientation" => v.as_str().map(|s| {
                    out.orientation = Some(Orientation::parse(s));
                    v.clone()
                }),
                "edges" => v.as_str().map(|s| {
                    out.edges = Some(Edges::parse(s));
                    v.clone()
                }),
                "algorithm" => v.as_str().map(|s| {
                    out.algorithm = Some(Edges::parse(s));
                    v.clone()
                }),
                "bbox" => number_array(v)
                    .and_then(|vals| BoundingBox::from_slice(&vals).ok())
                    .map(|b| {
                        out.bbox = Some(b);
                        bbox_json(&b)
                    }),
                "epoch" => v.as_f64().map(|e| {
                    out.epoch = Some(e);
                    number(e)
                }),
                "covering" => parse_covering(v).map(|c| {
                    let canon = covering_json(&c);
                    out.covering = Some(c);
                    canon
                }),
                _ => None,
            };
            match parsed {
                Some(canon) => {
                    source.canonical.insert(key.clone(), canon);
                }
                None if key == "geometry_type" && geometry_types.is_none() => {}
                None => {
                    extra.insert(key.clone(), v.clone());
                }
            }
        }
        out.encoding = encoding.ok_or_else(|| Error::MissingKey {
            key: "encoding",
            column: Some(column.to_owned()),
        })?;
        match (geometry_types, legacy_types) {
            (Some(t), legacy) => {
                out.geometry_types = t;
                if legacy.is_some() {
                    // Both keys: the plural wins, the legacy one is kept as is.
                    if let Some(v) = map.get("geometry_type") {
                        extra.insert("geometry_type".into(), v.clone());
                    }
                }
            }
            (None, Some(t)) => {
                // Serialise back under the legacy key, at its position.
                source
                    .canonical
                    .insert("geometry_type".into(), types_json(&t));
                out.geometry_types = t;
            }
            (None, None) => {
                // GeoParquet 0.1.0 has no geometry type key, and a reader
                // must not refuse a file for a key it can do without: the
                // types are unknown (the validator reports the key missing
                // where the version requires it).
                source.types_absent = true;
                out.geometry_types = Vec::new();
            }
        }
        out.extra = extra;
        out.source = source;
        Ok(out)
    }

    /// The JSON object, keeping the original key order and spellings of
    /// untouched values.
    pub fn to_json(&self) -> Value {
        let legacy = self.source.canonical.contains_key("geometry_type")
            && !self.source.canonical.contains_key("geometry_types");
        let types = types_json(&self.geometry_types);
        let (types_key, types_value) =
            if legacy && self.source.canonical.get("geometry_type") == Some(&types) {
                ("geometry_type", types)
            } else {
                ("geometry_types", types)
            };
        let types_value =
            (!(self.source.types_absent && self.geometry_types.is_empty())).then_some(types_value);
        let mut fields = vec![
            (
                "encoding",
                Some(Value::String(self.encoding.as_str().to_owned())),
            ),
            (types_key, types_value),
            ("crs", self.crs.to_json()),
            (
                "edges",
                self.edges
                    .as_ref()
                    .map(|e| Value::String(e.as_str().into())),
            ),
            (
                "algorithm",
                self.algorithm
                    .as_ref()
                    .map(|e| Value::String(e.as_str().into())),
            ),
            (
                "orientation",
                self.orientation
                    .as_ref()
                    .map(|o| Value::String(o.as_str().into())),
            ),
            ("bbox", self.bbox.as_ref().map(bbox_json)),
            ("epoch", self.epoch.map(number)),
            ("covering", self.covering.as_ref().map(covering_json)),
        ];
        if types_key == "geometry_type" {
            // Keep the legacy key in its slot even if `geometry_types` sorts first.
            fields.retain(|(k, _)| *k != "geometry_types");
        }
        Value::Object(self.source.emit(fields, &self.extra))
    }
}

/// The whole `geo` object.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::{GeoParquetMetadata, Version};
///
/// let text = r#"{"version":"1.1.0","primary_column":"geometry",
///   "columns":{"geometry":{"encoding":"WKB","geometry_types":["Polygon","MultiPolygon"],
///   "bbox":[-180,-90,180,90],"my_key":1}}}"#;
/// let meta = GeoParquetMetadata::from_json_str(text)?;
/// assert_eq!(meta.version, Version::V1_1_0);
/// assert_eq!(meta.primary().unwrap().geometry_types.len(), 2);
/// // Lossless: unknown keys, key order and number spellings survive.
/// let back = meta.to_json();
/// assert_eq!(back, serde_json::from_str::<serde_json::Value>(text)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GeoParquetMetadata {
    /// `version`.
    pub version: Version,
    /// `primary_column`.
    pub primary_column: String,
    /// `columns`, in file order.
    pub columns: IndexMap<String, GeoParquetColumnMetadata>,
    /// Every other file-level key (e.g. `creator`), kept verbatim.
    pub extra: Map<String, Value>,
    source: Source,
}

impl GeoParquetMetadata {
    /// Metadata with one primary column, at [`DEFAULT_VERSION`].
    pub fn new(primary_column: impl Into<String>, column: GeoParquetColumnMetadata) -> Self {
        let primary_column = primary_column.into();
        let mut columns = IndexMap::new();
        columns.insert(primary_column.clone(), column);
        Self {
            version: DEFAULT_VERSION,
            primary_column,
            columns,
            extra: Map::new(),
            source: Source::default(),
        }
    }

    /// Parses the JSON text of a `geo` value.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text).map_err(|source| Error::Json { source })?;
        Self::from_json(&v)
    }

    /// Parses a `geo` JSON value.
    pub fn from_json(value: &Value) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(Error::InvalidValue {
                key: "geo",
                column: None,
                message: format!(
                    "the geo metadata must be a JSON object, got {}",
                    kind(value)
                ),
            });
        };
        let mut source = Source::from_map(map);
        let mut extra = Map::new();
        let mut version = None;
        let mut primary = None;
        let mut columns = None;
        for (key, v) in map {
            let handled = match key.as_str() {
                "version" | "schema_version" if version.is_none() => match v.as_str() {
                    Some(s) => {
                        version = Some(Version::parse(s));
                        true
                    }
                    None => false,
                },
                "primary_column" => match v.as_str() {
                    Some(s) => {
                        primary = Some(s.to_owned());
                        true
                    }
                    None => false,
                },
                "columns" => match v {
                    Value::Object(cols) => {
                        let mut parsed = IndexMap::new();
                        for (name, col) in cols {
                            parsed.insert(
                                name.clone(),
                                GeoParquetColumnMetadata::from_json(name, col)?,
                            );
                        }
                        columns = Some(parsed);
                        true
                    }
                    _ => false,
                },
                _ => false,
            };
            if handled {
                source.canonical.insert(key.clone(), v.clone());
            } else {
                extra.insert(key.clone(), v.clone());
            }
        }
        let missing = |key| Error::MissingKey { key, column: None };
        let version = version.ok_or_else(|| missing("version"))?;
        if source.canonical.contains_key("schema_version") {
            source.canonical.remove("schema_version");
            source.canonical.insert(
                "schema_version".into(),
                Value::String(version.as_str().into()),
            );
        }
        Ok(Self {
            version,
            primary_column: primary.ok_or_else(|| missing("primary_column"))?,
            columns: columns.ok_or_else(|| missing("columns"))?,
            extra,
            source,
        })
    }

    /// The primary column's metadata, if `primary_column` names a column.
    pub fn primary(&self) -> Option<&GeoParquetColumnMetadata> {
        self.columns.get(&self.primary_column)
    }

    /// The JSON value, losslessly (see the type's docs).
    pub fn to_json(&self) -> Value {
        let version_key = if self.source.canonical.contains_key("schema_version")
            && !self.source.canonical.contains_key("version")
        {
            "schema_version"
        } else {
            "version"
        };
        let columns: Map<String, Value> = self
            .columns
            .iter()
            .map(|(k, c)| (k.clone(), c.to_json()))
            .collect();
        let fields = vec![
            (
                version_key,
                Some(Value::String(self.version.as_str().to_owned())),
            ),
            (
                "primary_column",
                Some(Value::String(self.primary_column.clone())),
            ),
            ("columns", Some(Value::Object(columns))),
        ];
        Value::Object(self.source.emit(fields, &self.extra))
    }

    /// The JSON text to store under [`GEO_METADATA_KEY`].
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What kind of JSON value `v` is, for messages: `"null"`, `"a boolean"`,
/// `"a number"`, `"a string"`, `"an array"` or `"an object"`.
///
/// ```
/// assert_eq!(geoparquet_meta::metadata::json_kind(&serde_json::json!([1])), "an array");
/// ```
pub fn json_kind(v: &Value) -> &'static str {
    kind(v)
}

fn parse_types(column: &str, v: &Value, legacy: bool) -> Result<Vec<GeometryTypeAndDimension>> {
    let key = if legacy {
        "geometry_type"
    } else {
        "geometry_types"
    };
    let one = |s: &str| -> Result<Option<GeometryTypeAndDimension>> {
        if legacy && s == "Unknown" {
            return Ok(None);
        }
        s.parse().map(Some)
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::String(_) if legacy => vec![v],
        _ => {
            return Err(Error::InvalidValue {
                key,
                column: Some(column.to_owned()),
                message: format!("must be an array of strings, got {}", kind(v)),
            });
        }
    };
    let mut out: Vec<GeometryTypeAndDimension> = Vec::new();
    for item in items {
        let s = item.as_str().ok_or_else(|| Error::InvalidValue {
            key,
            column: Some(column.to_owned()),
            message: format!("entries must be strings, got {}", kind(item)),
        })?;
        if let Some(t) = one(s)?
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    Ok(out)
}

fn types_json(types: &[GeometryTypeAndDimension]) -> Value {
    Value::Array(types.iter().map(|t| Value::String(t.to_string())).collect())
}

fn number_array(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?.iter().map(Value::as_f64).collect()
}

fn number(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn bbox_json(b: &BoundingBox) -> Value {
    Value::Array(b.to_vec().into_iter().map(number).collect())
}

fn parse_path(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn parse_covering(v: &Value) -> Option<Covering> {
    let obj = v.as_object()?;
    let bbox = obj.get("bbox")?.as_object()?;
    let known = ["xmin", "ymin", "xmax", "ymax", "zmin", "zmax"];
    if bbox.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let zmin = bbox.get("zmin").map(|p| parse_path(Some(p)));
    let zmax = bbox.get("zmax").map(|p| parse_path(Some(p)));
    let covering = CoveringBbox {
        xmin: parse_path(bbox.get("xmin"))?,
        ymin: parse_path(bbox.get("ymin"))?,
        xmax: parse_path(bbox.get("xmax"))?,
        ymax: parse_path(bbox.get("ymax"))?,
        zmin: match zmin {
            Some(p) => Some(p?),
            None => None,
        },
        zmax: match zmax {
            Some(p) => Some(p?),
            None => None,
        },
    };
    let extra = obj
        .iter()
        .filter(|(k, _)| *k != "bbox")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Covering {
        bbox: covering,
        extra,
    })
}

fn covering_json(c: &Covering) -> Value {
    let bbox: Map<String, Value> = c
        .bbox
        .entries()
        .into_iter()
        .map(|(k, p)| {
            (
                k.to_owned(),
                Value::Array(p.iter().map(|s| Value::String(s.clone())).collect()),
            )
        })
        .collect();
    let mut out = Map::new();
    out.insert("bbox".into(), Value::Object(bbox));
    for (k, v) in &c.extra {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_geometry_type_round_trips() {
        let v = json!({"primary_column": "geometry", "version": "0.4.0", "columns": {"geometry": {
            "crs": null, "encoding": "wkb", "geometry_type": "Unknown", "bbox": [1, 2, 3, 4]}}});
        let m = GeoParquetMetadata::from_json(&v).unwrap();
        assert!(m.primary().unwrap().geometry_types.is_empty());
        assert_eq!(m.primary().unwrap().encoding, Encoding::Wkb);
        assert_eq!(m.to_json(), v);
        let v = json!({"version": "0.4.0", "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_type": ["Polygon", "MultiPolygon"]}}});
        let m = GeoParquetMetadata::from_json(&v).unwrap();
        assert_eq!(m.columns["g"].geometry_types.len(), 2);
        assert_eq!(m.to_json(), v);
    }

    #[test]
    fn edits_are_serialised() {
        let v = json!({"version": "1.0.0", "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_types": [], "bbox": [1, 2, 3, 4]}}});
        let mut m = GeoParquetMetadata::from_json(&v).unwrap();
        m.version = Version::V1_1_0;
        let col = m.columns.get_mut("g").unwrap();
        col.bbox = Some(BoundingBox::new(0.5, 2.0, 3.0, 4.0));
        col.crs = Crs::Unknown;
        let out = m.to_json();
        assert_eq!(out["version"], "1.1.0");
        assert_eq!(out["columns"]["g"]["bbox"], json!([0.5, 2.0, 3.0, 4.0]));
        assert_eq!(out["columns"]["g"]["crs"], Value::Null);
        let keys: Vec<_> = out["columns"]["g"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["encoding", "geometry_types", "bbox", "crs"]);
    }

    #[test]
    fn uninterpretable_values_are_kept() {
        let v = json!({"version": "1.1.0", "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_types": [], "bbox": [1, 2, 3], "covering": {}, "epoch": "x", "crs": "EPSG:4326"}}});
        let m = GeoParquetMetadata::from_json(&v).unwrap();
        let c = &m.columns["g"];
        assert!(c.bbox.is_none() && c.covering.is_none() && c.epoch.is_none());
        assert!(matches!(c.crs, Crs::Other(_)));
        assert_eq!(m.to_json(), v);
    }

    #[test]
    fn parse_errors_are_typed() {
        let no_primary = json!({"version": "1.1.0", "columns": {}});
        assert!(matches!(
            GeoParquetMetadata::from_json(&no_primary),
            Err(Error::MissingKey {
                key: "primary_column",
                ..
            })
        ));
        let bad_type = json!({"version": "1.1.0", "primary_column": "g", "columns": {"g": {
            "encoding": "WKB", "geometry_types": ["Pointy"]}}});
        assert!(matches!(
            GeoParquetMetadata::from_json(&bad_type),
            Err(Error::InvalidGeometryType { .. })
        ));
        assert!(matches!(
            GeoParquetMetadata::from_json_str("{,}"),
            Err(Error::Json { .. })
        ));
        assert!(GeoParquetMetadata::from_json(&json!([1])).is_err());
    }

    #[test]
    fn effective_edges() {
        let mut c = GeoParquetColumnMetadata::new(Encoding::Wkb, vec![]);
        assert_eq!(c.effective_edges(), Edges::Planar);
        c.edges = Some(Edges::Spherical);
        c.algorithm = Some(Edges::Karney);
        assert_eq!(c.effective_edges(), Edges::Karney);
        c.algorithm = None;
        c.edges = Some(Edges::Vincenty);
        assert_eq!(c.effective_edges(), Edges::Vincenty);
    }

    #[test]
    fn new_metadata_is_canonical() {
        let m = GeoParquetMetadata::new(
            "geometry",
            GeoParquetColumnMetadata::new(
                Encoding::Native(GeometryType::Point),
                vec!["Point".parse().unwrap()],
            ),
        );
        assert_eq!(
            m.to_json(),
            json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {
                "encoding": "point", "geometry_types": ["Point"]}}})
        );
    }
}
