//! The RaQuet metadata document (the JSON in the `block = 0` row): the v0.5.0
//! model, parsed leniently from v0.3–0.5 and from the legacy v0.1 flat shape.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::{Error, Result};

/// The specification version this crate writes.
pub const RAQUET_VERSION: &str = "0.5.0";
/// The Parquet key/value (and Arrow schema metadata) key naming the spec version.
pub const RAQUET_VERSION_KEY: &str = "raquet:version";
/// The per-tile statistics a writer can add, in column-suffix order.
pub const TILE_STATISTICS_COLUMNS: [&str; 6] = ["count", "min", "max", "sum", "mean", "stddev"];

/// What is wrong with a metadata document ([`Error::Metadata`]): which key, and how.
///
/// ```
/// use raquet::{Error, Metadata, MetadataProblem};
///
/// let e = Metadata::parse(r#"{"bands": [], "bounds": [0, 0, 1, 1], "tiling": {"max_zoom": 30}}"#)
///     .unwrap_err();
/// assert!(matches!(&e, Error::Metadata(MetadataProblem::WrongType { key, .. }) if key == "tiling.max_zoom"));
/// assert_eq!(e.to_string(), "metadata: `tiling.max_zoom` = 30 is not a zoom in 0..=26");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataProblem {
    /// The document is not JSON.
    #[error("not JSON: {reason}")]
    NotJson {
        /// The parser's message.
        reason: String,
    },
    /// The document is not a JSON object.
    #[error("the document is not a JSON object")]
    NotAnObject,
    /// A key holds a value of the wrong type or range.
    #[error("`{key}` = {value} is not {expected}")]
    WrongType {
        /// The key (`tiling.max_zoom`, `width`, …).
        key: String,
        /// The value, as JSON.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A required number is missing.
    #[error("`{key}` is missing or not a whole number")]
    MissingNumber {
        /// The key.
        key: String,
    },
    /// A number is too large for its field.
    #[error("`{key}` is too large")]
    TooLarge {
        /// The key.
        key: &'static str,
    },
    /// The block size is zero or above 65536.
    #[error("block size {width}x{height} is not usable")]
    BlockSize {
        /// `block_width`.
        width: u32,
        /// `block_height`.
        height: u32,
    },
    /// `min_zoom` is above `max_zoom`.
    #[error("min_zoom {min_zoom} is above max_zoom {max_zoom}")]
    ZoomOrder {
        /// `min_zoom`.
        min_zoom: u8,
        /// `max_zoom`.
        max_zoom: u8,
    },
    /// A name this crate does not know (`compression`, `band_layout`).
    #[error("unknown {key} `{value}`")]
    UnknownValue {
        /// The key.
        key: &'static str,
        /// The value.
        value: String,
    },
    /// `compression` is neither a string nor null.
    #[error("`compression` is {value}")]
    CompressionType {
        /// The value, as JSON.
        value: String,
    },
    /// `bands` is missing or not an array.
    #[error("`bands` is missing or not an array")]
    NoBands,
    /// The document has no band.
    #[error("no bands")]
    BandsEmpty,
    /// `bounds` holds something other than numbers.
    #[error("`bounds` holds a non-number")]
    BoundsNotNumbers,
    /// `bounds` is not four numbers.
    #[error("`bounds` must be [west, south, east, north]")]
    BoundsShape,
    /// A band is not a JSON object.
    #[error("bands[{index}] is not an object")]
    BandNotObject {
        /// The band's index.
        index: usize,
    },
    /// A band has no name.
    #[error("bands[{index}] has no `name`")]
    BandNameMissing {
        /// The band's index.
        index: usize,
    },
    /// A band has no type.
    #[error("band `{band}` has no `type`")]
    BandTypeMissing {
        /// The band's name.
        band: String,
    },
    /// A band's type is not a RaQuet type.
    #[error("band `{band}`: unknown type `{type_name}`")]
    BandType {
        /// The band's name.
        band: String,
        /// The type written.
        type_name: String,
    },
}

/// The sample type of a band (`type` in the band object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BandType {
    Uint8,
    Int8,
    Uint16,
    Int16,
    Uint32,
    Int32,
    Uint64,
    Int64,
    Float16,
    Float32,
    Float64,
}

impl BandType {
    /// Every type, in spec order.
    pub const ALL: [BandType; 11] = [
        BandType::Uint8,
        BandType::Int8,
        BandType::Uint16,
        BandType::Int16,
        BandType::Uint32,
        BandType::Int32,
        BandType::Uint64,
        BandType::Int64,
        BandType::Float16,
        BandType::Float32,
        BandType::Float64,
    ];

    /// The spec name (`"uint16"`, `"float32"`, …).
    ///
    /// ```
    /// assert_eq!(raquet::BandType::Float16.name(), "float16");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BandType::Uint8 => "uint8",
            BandType::Int8 => "int8",
            BandType::Uint16 => "uint16",
            BandType::Int16 => "int16",
            BandType::Uint32 => "uint32",
            BandType::Int32 => "int32",
            BandType::Uint64 => "uint64",
            BandType::Int64 => "int64",
            BandType::Float16 => "float16",
            BandType::Float32 => "float32",
            BandType::Float64 => "float64",
        }
    }

    /// Bytes per sample.
    ///
    /// ```
    /// assert_eq!(raquet::BandType::Uint16.size(), 2);
    /// ```
    pub fn size(self) -> usize {
        match self {
            BandType::Uint8 | BandType::Int8 => 1,
            BandType::Uint16 | BandType::Int16 | BandType::Float16 => 2,
            BandType::Uint32 | BandType::Int32 | BandType::Float32 => 4,
            BandType::Uint64 | BandType::Int64 | BandType::Float64 => 8,
        }
    }

    /// Whether the type is a floating-point type.
    ///
    /// ```
    /// assert!(raquet::BandType::Float32.is_float());
    /// ```
    pub fn is_float(self) -> bool {
        matches!(
            self,
            BandType::Float16 | BandType::Float32 | BandType::Float64
        )
    }

    /// The smallest and largest value of the type, as `f64`.
    pub fn range(self) -> (f64, f64) {
        match self {
            BandType::Uint8 => (0.0, 255.0),
            BandType::Int8 => (-128.0, 127.0),
            BandType::Uint16 => (0.0, 65535.0),
            BandType::Int16 => (-32768.0, 32767.0),
            BandType::Uint32 => (0.0, f64::from(u32::MAX)),
            BandType::Int32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
            BandType::Uint64 => (0.0, u64::MAX as f64),
            BandType::Int64 => (i64::MIN as f64, i64::MAX as f64),
            BandType::Float16 => (-65504.0, 65504.0),
            BandType::Float32 => (f64::from(f32::MIN), f64::from(f32::MAX)),
            BandType::Float64 => (f64::MIN, f64::MAX),
        }
    }
}

impl std::fmt::Display for BandType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a spec name ([`BandType::name`]).
///
/// ```
/// use raquet::BandType;
///
/// assert_eq!("int16".parse::<BandType>()?, BandType::Int16);
/// assert_eq!(BandType::Float32.to_string().parse::<BandType>()?, BandType::Float32);
/// assert!("complex64".parse::<BandType>().is_err());
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for BandType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BandType::ALL.into_iter().find(|t| t.name() == s).ok_or_else(|| {
            Error::unknown_name(
                "band type",
                s,
                "uint8, int8, uint16, int16, uint32, int32, uint64, int64, float16, float32 or float64",
            )
        })
    }
}

/// Per-blob compression (`compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No per-blob compression (`null`, `"none"` or missing).
    None,
    /// Each blob is a gzip member (zlib streams are accepted when reading).
    Gzip,
    /// Interleaved uint8 tiles as JPEG images (lossy).
    Jpeg,
    /// Interleaved uint8 tiles as WebP images (lossy).
    Webp,
}

impl Compression {
    /// The name: `none`, `gzip`, `jpeg` or `webp`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Jpeg => "jpeg",
            Compression::Webp => "webp",
        }
    }

    /// The metadata value (`null` for none).
    pub fn to_json(self) -> Value {
        match self {
            Compression::None => Value::Null,
            Compression::Gzip => json!("gzip"),
            Compression::Jpeg => json!("jpeg"),
            Compression::Webp => json!("webp"),
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a compression name, in any case: `none` (or empty), `gzip` (also `zlib`,
/// `deflate`: the reader tells them apart by their bytes), `jpeg` (`jpg`), `webp`.
///
/// ```
/// use raquet::Compression;
///
/// assert_eq!("GZIP".parse::<Compression>()?, Compression::Gzip);
/// assert_eq!(Compression::None.to_string().parse::<Compression>()?, Compression::None);
/// assert!("lzw".parse::<Compression>().is_err());
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for Compression {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "none" | "" => Compression::None,
            "gzip" | "zlib" | "deflate" => Compression::Gzip,
            "jpeg" | "jpg" => Compression::Jpeg,
            "webp" => Compression::Webp,
            _ => {
                return Err(Error::unknown_name(
                    "compression",
                    s,
                    "none, gzip, jpeg or webp",
                ));
            }
        })
    }
}

/// How band data are laid out in the columns (`band_layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandLayout {
    /// One binary column per band, named like the band (the default).
    #[default]
    Sequential,
    /// One `pixels` column, band-interleaved by pixel (whole samples).
    Interleaved,
}

impl BandLayout {
    /// The name: `sequential` or `interleaved`.
    pub fn name(self) -> &'static str {
        match self {
            BandLayout::Sequential => "sequential",
            BandLayout::Interleaved => "interleaved",
        }
    }
}

impl std::fmt::Display for BandLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `sequential` or `interleaved`.
///
/// ```
/// use raquet::BandLayout;
///
/// assert_eq!("interleaved".parse::<BandLayout>()?, BandLayout::Interleaved);
/// assert!("planar".parse::<BandLayout>().is_err());
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for BandLayout {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sequential" => Ok(BandLayout::Sequential),
            "interleaved" => Ok(BandLayout::Interleaved),
            _ => Err(Error::unknown_name(
                "band layout",
                s,
                "sequential or interleaved",
            )),
        }
    }
}

/// The `tiling` object.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiling {
    /// Always `"quadbin"`.
    pub scheme: String,
    /// Tile width in pixels.
    pub block_width: u32,
    /// Tile height in pixels.
    pub block_height: u32,
    /// Lowest zoom with tiles.
    pub min_zoom: u8,
    /// Highest (native) zoom.
    pub max_zoom: u8,
    /// `max_zoom + log2(block_width)`.
    pub pixel_zoom: u8,
    /// Number of tiles at the native zoom.
    pub num_blocks: u64,
}

/// A histogram of a band (`histogram`).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Lower edge of the first bucket.
    pub min: f64,
    /// Upper edge of the last bucket.
    pub max: f64,
    /// Number of buckets.
    pub buckets: usize,
    /// Pixel count per bucket.
    pub counts: Vec<u64>,
}

/// Band statistics in GDAL's names (`STATISTICS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BandStatistics {
    /// `STATISTICS_MINIMUM`.
    pub minimum: Option<f64>,
    /// `STATISTICS_MAXIMUM`.
    pub maximum: Option<f64>,
    /// `STATISTICS_MEAN`.
    pub mean: Option<f64>,
    /// `STATISTICS_STDDEV` (population).
    pub stddev: Option<f64>,
    /// `STATISTICS_VALID_PERCENT` (0–100).
    pub valid_percent: Option<f64>,
}

/// One band object.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Band name; equals the column name in the sequential layout.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Sample type.
    pub band_type: BandType,
    /// The nodata value (`NaN` allowed), if any.
    pub nodata: Option<f64>,
    /// Unit of the values.
    pub unit: String,
    /// Physical value = DN × scale + offset.
    pub scale: Option<f64>,
    /// Physical value = DN × scale + offset.
    pub offset: Option<f64>,
    /// Lower-case GDAL colour interpretation (`gray`, `palette`, `red`, …).
    pub colorinterp: Option<String>,
    /// Colour table: value → RGBA.
    pub colortable: Option<BTreeMap<i64, [u8; 4]>>,
    /// Band statistics.
    pub statistics: BandStatistics,
    /// Optional histogram.
    pub histogram: Option<Histogram>,
}

impl Band {
    /// A band with a name and type and nothing else.
    ///
    /// ```
    /// let b = raquet::Band::new("band_1", raquet::BandType::Uint8);
    /// assert_eq!(b.nodata, None);
    /// ```
    pub fn new(name: impl Into<String>, band_type: BandType) -> Self {
        Band {
            name: name.into(),
            description: String::new(),
            band_type,
            nodata: None,
            unit: String::new(),
            scale: None,
            offset: None,
            colorinterp: None,
            colortable: None,
            statistics: BandStatistics::default(),
            histogram: None,
        }
    }

    /// Whether `v` is this band's nodata value (NaN matches NaN).
    pub fn is_nodata(&self, v: f64) -> bool {
        match self.nodata {
            Some(n) if n.is_nan() => v.is_nan(),
            Some(n) => v == n,
            None => false,
        }
    }

    /// Whether the band is categorical (a palette or a colour table), so that
    /// overviews take the mode, not the mean.
    pub fn is_categorical(&self) -> bool {
        self.colortable.is_some() || self.colorinterp.as_deref() == Some("palette")
    }
}

/// The whole metadata document.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// `version` (`None` in legacy files that lack it).
    pub version: Option<String>,
    /// Whether the document was in the legacy v0.1 flat shape.
    pub legacy: bool,
    /// Raster width in pixels at the native zoom.
    pub width: u64,
    /// Raster height in pixels at the native zoom.
    pub height: u64,
    /// `crs` (always `EPSG:3857`).
    pub crs: String,
    /// `[west, south, east, north]` in `bounds_crs`.
    pub bounds: [f64; 4],
    /// `bounds_crs` (always `EPSG:4326`).
    pub bounds_crs: String,
    /// Tiling.
    pub tiling: Tiling,
    /// Per-blob compression.
    pub compression: Compression,
    /// `compression_quality` (lossy only).
    pub compression_quality: Option<u8>,
    /// Band layout.
    pub band_layout: BandLayout,
    /// Whether per-tile statistics columns exist.
    pub tile_statistics: bool,
    /// Which per-tile statistics exist.
    pub tile_statistics_columns: Vec<String>,
    /// `processing`, as found.
    pub processing: Option<Value>,
    /// `time`, as found.
    pub time: Option<Value>,
    /// The bands.
    pub bands: Vec<Band>,
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_special_float(s),
        _ => None,
    }
}

fn parse_special_float(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" | "nan" | "NAN" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn uint(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A count or size that may be absent (`None`), but when present must be a whole,
/// non-negative number (a numeric string is tolerated, as legacy writers use them).
fn opt_uint(v: Option<&Value>, key: &str) -> Result<Option<u64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => uint(Some(x)).map(Some).ok_or_else(|| {
            Error::from(MetadataProblem::WrongType {
                key: key.to_owned(),
                value: x.to_string(),
                expected: "a whole non-negative number",
            })
        }),
    }
}

/// A string that may be absent, but when present must be a string.
fn opt_string(v: Option<&Value>, key: &str) -> Result<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(x) => Err(MetadataProblem::WrongType {
            key: key.to_owned(),
            value: x.to_string(),
            expected: "a string",
        }
        .into()),
    }
}

fn zoom(v: Option<&Value>, key: &str) -> Result<u8> {
    let z = uint(v).ok_or_else(|| MetadataProblem::MissingNumber {
        key: key.to_owned(),
    })?;
    u8::try_from(z).ok().filter(|z| *z <= 26).ok_or_else(|| {
        MetadataProblem::WrongType {
            key: key.to_owned(),
            value: z.to_string(),
            expected: "a zoom in 0..=26",
        }
        .into()
    })
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// The JSON form of a nodata value (special floats as strings, Zarr v3 style).
pub fn nodata_to_json(v: Option<f64>) -> Value {
    match v {
        None => Value::Null,
        Some(f) if f.is_nan() => json!("NaN"),
        Some(f) if f == f64::INFINITY => json!("Infinity"),
        Some(f) if f == f64::NEG_INFINITY => json!("-Infinity"),
        Some(f) => json!(f),
    }
}

fn float_json(v: Option<f64>) -> Value {
    match v {
        Some(f) if f.is_finite() => json!(f),
        _ => Value::Null,
    }
}

/// [`Metadata::parse`]. A document as [`Metadata::to_json`] writes it (every default
/// spelled out, e.g. a band's `colorinterp`) parses back to the same model.
///
/// ```
/// use raquet::Metadata;
///
/// let m: Metadata = r#"{"file_format": "raquet", "version": "0.5.0", "width": 256, "height": 256,
///   "crs": "EPSG:3857", "bounds": [0, 0, 1.40625, 1.40625], "bounds_crs": "EPSG:4326",
///   "compression": "gzip", "tiling": {"scheme": "quadbin", "block_width": 256,
///   "block_height": 256, "min_zoom": 8, "max_zoom": 8, "pixel_zoom": 16, "num_blocks": 1},
///   "bands": [{"name": "band_1", "type": "uint8", "colorinterp": "gray"}]}"#.parse()?;
/// assert_eq!(m.to_string().parse::<Metadata>()?, m);
/// # Ok::<(), raquet::Error>(())
/// ```
impl std::str::FromStr for Metadata {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// The document as compact JSON ([`Metadata::to_json`]).
impl std::fmt::Display for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl Metadata {
    /// Parses a metadata document of any known shape (v0.3–0.5, or legacy v0.1 with or
    /// without `version`); unknown keys are ignored.
    ///
    /// ```
    /// let m = raquet::Metadata::parse(r#"{"compression": "gzip", "block_resolution": 5,
    ///   "minresolution": 3, "maxresolution": 5, "width": 512, "height": 512,
    ///   "bounds": [0, 0, 1, 1], "block_width": 256, "block_height": 256,
    ///   "nodata": "0", "bands": [{"type": "uint8", "name": "band_1"}]}"#)?;
    /// assert!(m.legacy);
    /// assert_eq!((m.tiling.min_zoom, m.tiling.max_zoom, m.tiling.pixel_zoom), (3, 5, 13));
    /// assert_eq!(m.bands[0].nodata, Some(0.0));
    /// # Ok::<(), raquet::Error>(())
    /// ```
    pub fn parse(json_text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json_text).map_err(|e| MetadataProblem::NotJson {
            reason: e.to_string(),
        })?;
        Self::from_json(&v)
    }

    /// Parses an already-decoded JSON value (see [`Metadata::parse`]).
    pub fn from_json(v: &Value) -> Result<Self> {
        let obj = v.as_object().ok_or(MetadataProblem::NotAnObject)?;
        let legacy = !obj.contains_key("tiling");
        if let Some(t) = obj.get("tiling")
            && !t.is_object()
        {
            return Err(MetadataProblem::WrongType {
                key: "tiling".into(),
                value: t.to_string(),
                expected: "an object",
            }
            .into());
        }
        let version = match obj.get("version") {
            Some(Value::Number(n)) => Some(n.to_string()),
            v => opt_string(v, "version")?,
        };
        let tiling = parse_tiling(obj)?;
        let compression = match obj.get("compression") {
            None | Some(Value::Null) => Compression::None,
            Some(Value::String(s)) => s.parse().map_err(|_| MetadataProblem::UnknownValue {
                key: "compression",
                value: s.to_ascii_lowercase(),
            })?,
            Some(other) => {
                return Err(MetadataProblem::CompressionType {
                    value: other.to_string(),
                }
                .into());
            }
        };
        let band_layout = match obj.get("band_layout").and_then(Value::as_str) {
            None => BandLayout::Sequential,
            Some(other) => other.parse().map_err(|_| MetadataProblem::UnknownValue {
                key: "band_layout",
                value: other.to_owned(),
            })?,
        };
        let bands = parse_bands(obj)?;
        let bounds = parse_bounds(obj)?;
        Ok(Metadata {
            version,
            legacy,
            width: opt_uint(obj.get("width"), "width")?.unwrap_or(0),
            height: opt_uint(obj.get("height"), "height")?.unwrap_or(0),
            crs: opt_string(obj.get("crs"), "crs")?.unwrap_or_else(|| "EPSG:3857".into()),
            bounds,
            bounds_crs: opt_string(obj.get("bounds_crs"), "bounds_crs")?
                .unwrap_or_else(|| "EPSG:4326".into()),
            tiling,
            compression,
            compression_quality: uint(obj.get("compression_quality"))
                .and_then(|q| u8::try_from(q).ok()),
            band_layout,
            tile_statistics: obj
                .get("tile_statistics")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            tile_statistics_columns: obj
                .get("tile_statistics_columns")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            processing: obj.get("processing").cloned(),
            time: obj.get("time").cloned(),
            bands,
        })
    }

    /// The v0.5.0 JSON document, keys in the reference converter's order.
    ///
    /// ```
    /// # let m = raquet::Metadata::parse(r#"{"tiling": {"max_zoom": 4, "min_zoom": 2, "block_width": 256},
    /// #   "bounds": [0, 0, 1, 1], "compression": "gzip", "bands": [{"name": "band_1", "type": "uint8"}]}"#)?;
    /// let text = m.to_json().to_string();
    /// assert!(text.starts_with(r#"{"file_format":"raquet","version":"0.5.0""#));
    /// # Ok::<(), raquet::Error>(())
    /// ```
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("file_format".into(), json!("raquet"));
        o.insert(
            "version".into(),
            json!(if self.legacy {
                RAQUET_VERSION
            } else {
                self.version.as_deref().unwrap_or(RAQUET_VERSION)
            }),
        );
        o.insert("width".into(), json!(self.width));
        o.insert("height".into(), json!(self.height));
        o.insert("crs".into(), json!(self.crs));
        o.insert("bounds".into(), json!(self.bounds));
        o.insert("bounds_crs".into(), json!(self.bounds_crs));
        let t = &self.tiling;
        o.insert(
            "tiling".into(),
            json!({
                "scheme": t.scheme,
                "block_width": t.block_width,
                "block_height": t.block_height,
                "min_zoom": t.min_zoom,
                "max_zoom": t.max_zoom,
                "pixel_zoom": t.pixel_zoom,
                "num_blocks": t.num_blocks,
            }),
        );
        o.insert("compression".into(), self.compression.to_json());
        o.insert(
            "bands".into(),
            Value::Array(self.bands.iter().map(band_to_json).collect()),
        );
        if self.band_layout == BandLayout::Interleaved {
            o.insert("band_layout".into(), json!("interleaved"));
        }
        if let Some(q) = self.compression_quality {
            o.insert("compression_quality".into(), json!(q));
        }
        if self.tile_statistics {
            o.insert("tile_statistics".into(), json!(true));
            o.insert(
                "tile_statistics_columns".into(),
                json!(self.tile_statistics_columns),
            );
        }
        if let Some(t) = &self.time {
            o.insert("time".into(), t.clone());
        }
        if let Some(p) = &self.processing {
            o.insert("processing".into(), p.clone());
        }
        Value::Object(o)
    }

    /// `log2(block_width)`: how many zoom levels a tile spans in pixels.
    pub fn block_zoom(&self) -> u8 {
        // block_width is checked to be in 1..=65536 at parse time.
        u8::try_from(self.tiling.block_width.ilog2()).unwrap_or(8)
    }

    /// The alpha band, if any: the last band whose `colorinterp` is `alpha`, in a
    /// file of more than one band. A pixel whose alpha is 0 holds no value in any band
    /// (this is how the writer marks fill in integer rasters without nodata).
    pub fn alpha_band(&self) -> Option<usize> {
        if self.bands.len() < 2 {
            return None;
        }
        self.bands
            .iter()
            .rposition(|b| b.colorinterp.as_deref() == Some("alpha"))
    }

    /// The band names as columns are expected (sequential layout).
    pub fn band_names(&self) -> Vec<&str> {
        self.bands.iter().map(|b| b.name.as_str()).collect()
    }
}

/// The tiling: the `tiling` object, or the legacy top-level keys.
fn parse_tiling(obj: &Map<String, Value>) -> Result<Tiling> {
    let tiling_key = |k: &str| obj.get("tiling").and_then(|t| t.get(k)).or(obj.get(k));
    let block_width =
        u32::try_from(opt_uint(tiling_key("block_width"), "block_width")?.unwrap_or(256))
            .map_err(|_| MetadataProblem::TooLarge { key: "block_width" })?;
    let block_height = u32::try_from(
        opt_uint(tiling_key("block_height"), "block_height")?.unwrap_or(u64::from(block_width)),
    )
    .map_err(|_| MetadataProblem::TooLarge {
        key: "block_height",
    })?;
    if block_width == 0 || block_height == 0 || block_width > 65536 || block_height > 65536 {
        return Err(MetadataProblem::BlockSize {
            width: block_width,
            height: block_height,
        }
        .into());
    }
    let tiling = match obj.get("tiling") {
        Some(t) => modern_tiling(t, block_width, block_height)?,
        None => legacy_tiling(obj, block_width, block_height)?,
    };
    if tiling.min_zoom > tiling.max_zoom {
        return Err(MetadataProblem::ZoomOrder {
            min_zoom: tiling.min_zoom,
            max_zoom: tiling.max_zoom,
        }
        .into());
    }
    Ok(tiling)
}

/// The `tiling` object of v0.3 and later.
fn modern_tiling(t: &Value, block_width: u32, block_height: u32) -> Result<Tiling> {
    let block_zoom = block_width.ilog2();
    let max_zoom = zoom(t.get("max_zoom"), "tiling.max_zoom")?;
    Ok(Tiling {
        scheme: opt_string(t.get("scheme"), "tiling.scheme")?.unwrap_or_else(|| "quadbin".into()),
        block_width,
        block_height,
        min_zoom: match t.get("min_zoom") {
            None | Some(Value::Null) => max_zoom,
            v => zoom(v, "tiling.min_zoom")?,
        },
        max_zoom,
        pixel_zoom: u8::try_from(
            opt_uint(t.get("pixel_zoom"), "tiling.pixel_zoom")?
                .unwrap_or(u64::from(max_zoom) + u64::from(block_zoom)),
        )
        .map_err(|_| MetadataProblem::TooLarge {
            key: "tiling.pixel_zoom",
        })?,
        num_blocks: opt_uint(t.get("num_blocks"), "tiling.num_blocks")?.unwrap_or(0),
    })
}

/// The legacy (v0.1) top-level tiling keys.
fn legacy_tiling(obj: &Map<String, Value>, block_width: u32, block_height: u32) -> Result<Tiling> {
    let block_zoom = block_width.ilog2();
    let max_zoom = zoom(
        obj.get("maxresolution").or(obj.get("block_resolution")),
        "maxresolution",
    )?;
    Ok(Tiling {
        scheme: "quadbin".into(),
        block_width,
        block_height,
        min_zoom: match obj.get("minresolution") {
            None | Some(Value::Null) => max_zoom,
            v => zoom(v, "minresolution")?,
        },
        max_zoom,
        pixel_zoom: u8::try_from(
            opt_uint(obj.get("pixel_resolution"), "pixel_resolution")?
                .unwrap_or(u64::from(max_zoom) + u64::from(block_zoom)),
        )
        .map_err(|_| MetadataProblem::TooLarge {
            key: "pixel_resolution",
        })?,
        num_blocks: opt_uint(obj.get("num_blocks"), "num_blocks")?.unwrap_or(0),
    })
}

/// The bands (a legacy top-level `nodata` applies to every band).
fn parse_bands(obj: &Map<String, Value>) -> Result<Vec<Band>> {
    let legacy_nodata = num(obj.get("nodata"));
    let bands_json = obj
        .get("bands")
        .and_then(Value::as_array)
        .ok_or(MetadataProblem::NoBands)?;
    let mut bands = Vec::with_capacity(bands_json.len());
    for (i, b) in bands_json.iter().enumerate() {
        bands.push(parse_band(b, i, legacy_nodata)?);
    }
    Ok(bands)
}

/// `bounds`: four numbers.
fn parse_bounds(obj: &Map<String, Value>) -> Result<[f64; 4]> {
    Ok(match obj.get("bounds").and_then(Value::as_array) {
        Some(a) if a.len() == 4 => {
            let mut out = [0.0; 4];
            for (o, x) in out.iter_mut().zip(a) {
                *o = num(Some(x)).ok_or(MetadataProblem::BoundsNotNumbers)?;
            }
            out
        }
        _ => {
            return Err(MetadataProblem::BoundsShape.into());
        }
    })
}

fn parse_band(b: &Value, i: usize, legacy_nodata: Option<f64>) -> Result<Band> {
    let o = b
        .as_object()
        .ok_or(MetadataProblem::BandNotObject { index: i })?;
    let name = string(o.get("name")).ok_or(MetadataProblem::BandNameMissing { index: i })?;
    let type_name = string(o.get("type"))
        .ok_or_else(|| MetadataProblem::BandTypeMissing { band: name.clone() })?;
    let band_type = type_name
        .parse::<BandType>()
        .map_err(|_| MetadataProblem::BandType {
            band: name.clone(),
            type_name: type_name.clone(),
        })?;
    let nodata = if o.contains_key("nodata") {
        num(o.get("nodata"))
    } else {
        legacy_nodata
    };
    let colortable = match o.get("colortable") {
        Some(Value::Object(ct)) => {
            let mut out = BTreeMap::new();
            for (k, v) in ct {
                let Ok(key) = k.trim().parse::<i64>() else {
                    continue;
                };
                let mut rgba = [0u8, 0, 0, 255];
                if let Some(a) = v.as_array() {
                    for (slot, c) in rgba.iter_mut().zip(a) {
                        *slot = c.as_u64().and_then(|c| u8::try_from(c).ok()).unwrap_or(0);
                    }
                }
                let _ = out.insert(key, rgba);
            }
            Some(out)
        }
        _ => None,
    };
    let legacy_stats = o.get("stats");
    let stat = |gdal: &str, legacy: &str| {
        num(o.get(gdal)).or_else(|| num(legacy_stats.and_then(|s| s.get(legacy))))
    };
    let histogram = o.get("histogram").and_then(|h| {
        let counts: Vec<u64> = h
            .get("counts")?
            .as_array()?
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        Some(Histogram {
            min: num(h.get("min"))?,
            max: num(h.get("max"))?,
            buckets: usize::try_from(uint(h.get("buckets")).unwrap_or(counts.len() as u64)).ok()?,
            counts,
        })
    });
    Ok(Band {
        description: string(o.get("description")).unwrap_or_default(),
        band_type,
        nodata,
        unit: string(o.get("unit")).unwrap_or_default(),
        scale: num(o.get("scale")),
        offset: num(o.get("offset")),
        colorinterp: string(o.get("colorinterp")),
        colortable,
        statistics: BandStatistics {
            minimum: stat("STATISTICS_MINIMUM", "min"),
            maximum: stat("STATISTICS_MAXIMUM", "max"),
            mean: stat("STATISTICS_MEAN", "mean"),
            stddev: stat("STATISTICS_STDDEV", "stddev"),
            valid_percent: num(o.get("STATISTICS_VALID_PERCENT")),
        },
        histogram,
        name,
    })
}

fn stat_json(v: Option<f64>, band_type: BandType) -> Value {
    match v {
        Some(f)
            if f.is_finite() && !band_type.is_float() && f.fract() == 0.0 && f.abs() < 9.0e15 =>
        {
            json!(f as i64)
        }
        other => float_json(other),
    }
}

fn band_to_json(b: &Band) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(b.name));
    o.insert("description".into(), json!(b.description));
    o.insert("type".into(), json!(b.band_type.name()));
    o.insert("nodata".into(), nodata_to_json(b.nodata));
    o.insert("unit".into(), json!(b.unit));
    o.insert("scale".into(), float_json(b.scale));
    o.insert("offset".into(), float_json(b.offset));
    o.insert(
        "colorinterp".into(),
        json!(b.colorinterp.as_deref().unwrap_or("undefined")),
    );
    o.insert(
        "colortable".into(),
        match &b.colortable {
            Some(ct) => Value::Object(ct.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()),
            None => Value::Null,
        },
    );
    let s = &b.statistics;
    o.insert(
        "STATISTICS_MINIMUM".into(),
        stat_json(s.minimum, b.band_type),
    );
    o.insert(
        "STATISTICS_MAXIMUM".into(),
        stat_json(s.maximum, b.band_type),
    );
    o.insert("STATISTICS_MEAN".into(), float_json(s.mean));
    o.insert("STATISTICS_STDDEV".into(), float_json(s.stddev));
    o.insert(
        "STATISTICS_VALID_PERCENT".into(),
        float_json(s.valid_percent),
    );
    if let Some(h) = &b.histogram {
        o.insert(
            "histogram".into(),
            json!({"min": h.min, "max": h.max, "buckets": h.buckets, "counts": h.counts}),
        );
    }
    Value::Object(o)
}
