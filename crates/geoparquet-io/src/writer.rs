//! Writing GeoParquet: an encoder that is additive to upstream
//! [`ArrowWriter`], and a convenient atomic
//! file writer on top of it.
//!
//! The encoder turns record batches whose geometry columns hold WKB into the
//! batches to store (covering columns added, native encodings built, the
//! Parquet GEOMETRY/GEOGRAPHY logical types requested for 2.0) and computes
//! the `geo` metadata from the data: exact `geometry_types`, the bbox, the CRS
//! carried from the input. The caller passes the resulting key/value to
//! `ArrowWriter::append_key_value_metadata`.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, Float64Builder};
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use geoparquet_meta::{
    BoundingBox, Covering, CoveringBbox, Crs, Dimension, Edges, Encoding, GEO_METADATA_KEY,
    GeoParquetColumnMetadata, GeoParquetMetadata, GeometryType, GeometryTypeAndDimension, Version,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::basic::LogicalType;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::native;
use crate::wkb_column::wkb_values;
use geoparquet_meta::geometry::wkb_info;
use geoparquet_meta::normalize;

/// The GeoParquet version (or native-types-only layout) to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetVersion {
    /// GeoParquet 1.0.0: WKB, `geo` metadata.
    V1_0,
    /// GeoParquet 1.1.0: WKB or native encodings, optional covering (the default).
    #[default]
    V1_1,
    /// GeoParquet 2.0.0: Parquet GEOMETRY/GEOGRAPHY logical types plus `geo` metadata.
    V2_0,
    /// Parquet GEOMETRY/GEOGRAPHY logical types only, no `geo` key.
    NativeOnly,
}

/// Parses `1.0`, `1.1`, `2.0` or `native` (also `1.0.0`, `1.1.0`, `2.0.0` and
/// `parquet-geo-only`); [`Display`](std::fmt::Display) writes the short form back.
///
/// ```
/// use geoparquet_io::writer::TargetVersion;
///
/// let v: TargetVersion = "2.0.0".parse()?;
/// assert_eq!(v, TargetVersion::V2_0);
/// assert_eq!(v.to_string().parse::<TargetVersion>()?, v);
/// assert!("3.0".parse::<TargetVersion>().is_err());
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
impl std::str::FromStr for TargetVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "1.0" | "1.0.0" => Ok(Self::V1_0),
            "1.1" | "1.1.0" => Ok(Self::V1_1),
            "2.0" | "2.0.0" => Ok(Self::V2_0),
            "native" | "parquet-geo-only" => Ok(Self::NativeOnly),
            other => Err(Error::InvalidValue {
                what: "GeoParquet version",
                value: other.to_owned(),
                expected: "1.0, 1.1, 2.0 or native",
            }),
        }
    }
}

impl std::fmt::Display for TargetVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V2_0 => "2.0",
            Self::NativeOnly => "native",
        })
    }
}

impl TargetVersion {
    fn metadata_version(self) -> Version {
        match self {
            Self::V1_0 => Version::V1_0_0,
            Self::V1_1 => Version::V1_1_0,
            Self::V2_0 | Self::NativeOnly => Version::V2_0_0,
        }
    }

    fn logical_types(self) -> bool {
        matches!(self, Self::V2_0 | Self::NativeOnly)
    }
}

/// How geometries are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeometryEncoding {
    /// ISO WKB in a binary column (every version).
    #[default]
    Wkb,
    /// GeoArrow native, separated coordinates (1.1 only; single geometry type
    /// per column, Polygon+MultiPolygon stored as MultiPolygon etc.).
    GeoArrow,
}

/// Parses `wkb`, or `geoarrow` (also `native`), in any case; [`Display`](std::fmt::Display)
/// writes `wkb` or `geoarrow`.
///
/// ```
/// use geoparquet_io::writer::GeometryEncoding;
///
/// assert_eq!("GeoArrow".parse::<GeometryEncoding>()?, GeometryEncoding::GeoArrow);
/// assert_eq!(GeometryEncoding::Wkb.to_string(), "wkb");
/// assert!("wkt".parse::<GeometryEncoding>().is_err());
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
impl std::str::FromStr for GeometryEncoding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("wkb") {
            Ok(Self::Wkb)
        } else if s.eq_ignore_ascii_case("geoarrow") || s.eq_ignore_ascii_case("native") {
            Ok(Self::GeoArrow)
        } else {
            Err(Error::InvalidValue {
                what: "geometry encoding",
                value: s.to_owned(),
                expected: "wkb or geoarrow",
            })
        }
    }
}

impl std::fmt::Display for GeometryEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Wkb => "wkb",
            Self::GeoArrow => "geoarrow",
        })
    }
}

/// The per-row bounding-box covering column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CoveringOptions {
    /// Column name; default `bbox` for a geometry column named `geometry` or
    /// `geography`, else `<column>_bbox`.
    pub name: Option<String>,
    /// Store FLOAT instead of DOUBLE (rounded outward, so boxes still contain
    /// their geometry).
    pub float32: bool,
    /// Add `zmin`/`zmax` when the data has Z.
    pub with_z: bool,
}

impl CoveringOptions {
    /// The covering column's name (default: see [`CoveringOptions::name`]).
    ///
    /// ```
    /// use geoparquet_io::writer::CoveringOptions;
    ///
    /// let c = CoveringOptions::default().with_name("box").with_float32(true);
    /// assert_eq!(c.name.as_deref(), Some("box"));
    /// assert!(c.float32 && !c.with_z);
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Store FLOAT instead of DOUBLE (default false).
    #[must_use]
    pub fn with_float32(mut self, float32: bool) -> Self {
        self.float32 = float32;
        self
    }

    /// Add `zmin`/`zmax` when the data has Z (default false).
    #[must_use]
    pub fn with_z(mut self, with_z: bool) -> Self {
        self.with_z = with_z;
        self
    }
}

/// Default ZSTD level. Measured on 5 M points (docs/src/benchmarks.md): level 3
/// writes 1.6x faster than level 6 for a file 0.3% larger.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
/// Default maximum rows per row group.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 100_000;
/// Default maximum (uncompressed, in-memory) bytes per row group.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 128 * 1024 * 1024;
/// Default dictionary page limit: a column whose dictionary outgrows it falls
/// back to plain encoding early, instead of hashing a whole row group of
/// distinct values first.
pub const DEFAULT_DICTIONARY_PAGE_BYTES: usize = 256 * 1024;
/// Default rows per data page (the page index prunes at this granularity).
pub const DEFAULT_DATA_PAGE_ROWS: usize = 10_000;

/// Options of the writer; `Default` follows best practice (1.1, WKB,
/// covering on for 1.1, ZSTD, statistics and page index on).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Target version.
    pub version: TargetVersion,
    /// Geometry encoding.
    pub encoding: GeometryEncoding,
    /// Covering column: `None` = the default for the version (on for 1.1,
    /// off otherwise), `Some(None)` = off, `Some(Some(o))` = on with `o`.
    pub covering: Option<Option<CoveringOptions>>,
    /// Compression of every column.
    pub compression: Compression,
    /// Maximum rows per row group.
    pub row_group_rows: usize,
    /// Maximum buffered bytes per row group.
    pub row_group_bytes: usize,
    /// Override the CRS of every geometry column.
    pub crs: Option<Crs>,
    /// Edges to declare (`None`: keep the input's, else planar).
    pub edges: Option<Edges>,
    /// The primary column (default: the input's, else `geometry`, else the first).
    pub primary_column: Option<String>,
    /// Rewind polygon rings (exterior counterclockwise, interiors clockwise)
    /// and declare `orientation: counterclockwise`.
    pub rewind: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            version: TargetVersion::default(),
            encoding: GeometryEncoding::default(),
            covering: None,
            compression: Compression::ZSTD(
                ZstdLevel::try_new(DEFAULT_ZSTD_LEVEL).unwrap_or_default(),
            ),
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            row_group_bytes: DEFAULT_ROW_GROUP_BYTES,
            crs: None,
            edges: None,
            primary_column: None,
            rewind: false,
        }
    }
}

impl WriterOptions {
    /// The same options for another version (default 1.1).
    ///
    /// ```
    /// use geoparquet_io::parquet::basic::Compression;
    /// use geoparquet_io::writer::{TargetVersion, WriterOptions};
    ///
    /// let options = WriterOptions::default()
    ///     .with_version(TargetVersion::V2_0)
    ///     .with_compression(Compression::SNAPPY)
    ///     .with_row_group_rows(50_000)
    ///     .with_primary_column("geom");
    /// assert_eq!(options.row_group_rows, 50_000);
    /// assert_eq!(options.primary_column.as_deref(), Some("geom"));
    /// ```
    #[must_use]
    pub fn with_version(mut self, version: TargetVersion) -> Self {
        self.version = version;
        self
    }

    /// The same options with another encoding (default WKB).
    #[must_use]
    pub fn with_encoding(mut self, encoding: GeometryEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Turns the covering column on (with options) or off (default: on for 1.1).
    #[must_use]
    pub fn with_covering(mut self, covering: Option<CoveringOptions>) -> Self {
        self.covering = Some(covering);
        self
    }

    /// Compression of every column (default ZSTD level [`DEFAULT_ZSTD_LEVEL`]).
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Maximum rows per row group (default [`DEFAULT_ROW_GROUP_ROWS`]).
    #[must_use]
    pub fn with_row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = rows;
        self
    }

    /// Maximum buffered bytes per row group (default [`DEFAULT_ROW_GROUP_BYTES`]).
    #[must_use]
    pub fn with_row_group_bytes(mut self, bytes: usize) -> Self {
        self.row_group_bytes = bytes;
        self
    }

    /// The CRS of every geometry column (default: the input's).
    #[must_use]
    pub fn with_crs(mut self, crs: Crs) -> Self {
        self.crs = Some(crs);
        self
    }

    /// The edges to declare (default: the input's, else planar).
    #[must_use]
    pub fn with_edges(mut self, edges: Edges) -> Self {
        self.edges = Some(edges);
        self
    }

    /// The primary column (default: the input's, else `geometry`, else the first).
    #[must_use]
    pub fn with_primary_column(mut self, name: impl Into<String>) -> Self {
        self.primary_column = Some(name.into());
        self
    }

    /// Rewind polygon rings and declare `orientation: counterclockwise` (default false).
    #[must_use]
    pub fn with_rewind(mut self, rewind: bool) -> Self {
        self.rewind = rewind;
        self
    }

    fn covering_for(&self) -> Option<CoveringOptions> {
        match &self.covering {
            Some(c) => c.clone(),
            None if self.version == TargetVersion::V1_1 => Some(CoveringOptions::default()),
            None => None,
        }
    }
}

/// What the encoder knows of one geometry column.
#[derive(Debug, Clone)]
struct GeomColumn {
    index: usize,
    name: String,
    crs: Crs,
    edges: Edges,
    orientation: Option<geoparquet_meta::Orientation>,
    epoch: Option<f64>,
    types: BTreeSet<GeometryTypeAndDimension>,
    bbox: BoundingBox,
    has_z: bool,
    all_z: bool,
    has_m: bool,
    rows: u64,
    covering: Option<(String, CoveringOptions)>,
    native: Option<(GeometryType, Dimension)>,
}

/// Turns input batches into the batches to store and computes the `geo`
/// metadata. Geometry columns must hold WKB (`Binary`, `LargeBinary` or
/// `BinaryView`).
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{BinaryArray, RecordBatch, Int32Array};
/// use arrow_schema::{DataType, Field, Schema};
/// use geoparquet_io::writer::{GeoParquetEncoder, WriterOptions};
/// use parquet::arrow::ArrowWriter;
///
/// let mut wkb = vec![1u8, 1, 0, 0, 0];
/// wkb.extend_from_slice(&10.0f64.to_le_bytes());
/// wkb.extend_from_slice(&20.0f64.to_le_bytes());
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("id", DataType::Int32, false),
///     Field::new("geometry", DataType::Binary, true),
/// ]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![
///     Arc::new(Int32Array::from(vec![1])),
///     Arc::new(BinaryArray::from(vec![Some(wkb.as_slice())])),
/// ])?;
///
/// let mut encoder = GeoParquetEncoder::try_new(&schema, None, &WriterOptions::default())?;
/// let mut out = Vec::new();
/// let mut writer = ArrowWriter::try_new(&mut out, encoder.target_schema(), Some(encoder.writer_properties()))?;
/// writer.write(&encoder.encode(&batch)?)?;
/// if let Some(kv) = encoder.key_value()? {
///     writer.append_key_value_metadata(kv);
/// }
/// writer.close()?;
/// let meta = encoder.metadata()?;
/// assert_eq!(meta.primary().unwrap().geometry_types[0].to_string(), "Point");
/// assert_eq!(meta.primary().unwrap().bbox.unwrap().to_vec(), vec![10.0, 20.0, 10.0, 20.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct GeoParquetEncoder {
    options: WriterOptions,
    columns: Vec<GeomColumn>,
    primary: String,
    input_extra: serde_json::Map<String, serde_json::Value>,
    target: SchemaRef,
    rows_seen: u64,
    /// Footer keys of the input kept byte for byte (see [`GeoParquetEncoder::key_values`]).
    carried: Vec<KeyValue>,
    /// What was normalised or dropped from the input's metadata, for people.
    notices: Vec<String>,
}

/// Footer keys this crate writes itself: never copied from an input.
pub const OWN_FOOTER_KEYS: &[&str] = &[GEO_METADATA_KEY, "ARROW:schema"];

/// The footer key pandas (and so GeoPandas) describes its columns and index in.
pub const PANDAS_KEY: &str = "pandas";

/// Whether the `pandas` description still fits the columns of `target`:
/// every column it names (`columns[].field_name`, which includes a stored
/// index) is there. Extra columns (a covering added) do not make it stale; a
/// column it names that is gone (dropped by `extract --columns`, a covering
/// removed) does. A value that is not the JSON pandas writes is kept as it is.
fn pandas_fits(value: &str, target: &Schema) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(value) else {
        return true;
    };
    let Some(columns) = v.get("columns").and_then(serde_json::Value::as_array) else {
        return true;
    };
    columns.iter().all(|c| {
        match c
            .get("field_name")
            .or_else(|| c.get("name"))
            .and_then(serde_json::Value::as_str)
        {
            Some(name) => target.field_with_name(name).is_ok(),
            None => true,
        }
    })
}

fn is_wkb_type(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// The CRS an Arrow field's GeoArrow extension metadata carries, if any.
fn field_crs(field: &Field) -> Option<Crs> {
    let meta = field.metadata().get("ARROW:extension:metadata")?;
    let v: serde_json::Value = serde_json::from_str(meta).ok()?;
    match v.get("crs") {
        None => Some(Crs::Default),
        Some(serde_json::Value::Null) => Some(Crs::Unknown),
        Some(serde_json::Value::String(s)) => Crs::parse_user(s).ok(),
        Some(obj) => Some(Crs::Projjson(obj.clone())),
    }
}

fn field_edges(field: &Field) -> Option<Edges> {
    let meta = field.metadata().get("ARROW:extension:metadata")?;
    let v: serde_json::Value = serde_json::from_str(meta).ok()?;
    v.get("edges").and_then(|e| e.as_str()).map(Edges::parse)
}

impl GeoParquetEncoder {
    /// Prepares an encoder for batches of `schema`. Geometry columns are those
    /// described by `input` (the input file's metadata), else fields with a
    /// `geoarrow.wkb` extension, else a binary column named `geometry` or
    /// `geography`.
    pub fn try_new(
        schema: &Schema,
        input: Option<&GeoParquetMetadata>,
        options: &WriterOptions,
    ) -> Result<Self> {
        let mut names: Vec<String> = match input {
            Some(m) => m.columns.keys().cloned().collect(),
            None => schema
                .fields()
                .iter()
                .filter(|f| {
                    f.metadata().get("ARROW:extension:name").map(String::as_str)
                        == Some("geoarrow.wkb")
                })
                .map(|f| f.name().clone())
                .collect(),
        };
        if names.is_empty() {
            names = ["geometry", "geography"]
                .into_iter()
                .filter(|n| {
                    schema
                        .field_with_name(n)
                        .is_ok_and(|f| is_wkb_type(f.data_type()))
                })
                .map(str::to_owned)
                .collect();
        }
        if names.is_empty() {
            return Err(Error::NoGeometryColumn);
        }
        if options.encoding == GeometryEncoding::GeoArrow && options.version != TargetVersion::V1_1
        {
            return Err(Error::EncodingNotInVersion {
                encoding: "GeoArrow (native)",
                only_in: "1.1",
            });
        }
        let covering = options.covering_for();
        let mut columns = Vec::new();
        let mut notices = Vec::new();
        for name in &names {
            let (index, field) =
                schema
                    .column_with_name(name)
                    .ok_or_else(|| Error::NoSuchColumn {
                        column: name.clone(),
                        available: schema.fields().iter().map(|f| f.name().clone()).collect(),
                    })?;
            if !is_wkb_type(field.data_type()) {
                return Err(Error::NotWkb {
                    column: name.clone(),
                    found: field.data_type().to_string(),
                });
            }
            let meta = input.and_then(|m| m.columns.get(name));
            // What the input (or the options) say is normalised for the version
            // written (a legacy CRS to PROJJSON, edges of any case, a junk epoch
            // dropped), or refused.
            let found = options
                .crs
                .clone()
                .or_else(|| meta.map(|m| m.crs.clone()))
                .or_else(|| field_crs(field))
                .unwrap_or(Crs::Default);
            let (crs, notice) = normalize::normalize_crs(name, &found)?;
            notices.extend(notice);
            let edges = options
                .edges
                .clone()
                .or_else(|| meta.map(GeoParquetColumnMetadata::effective_edges))
                .or_else(|| field_edges(field))
                .unwrap_or(Edges::Planar);
            let (edges, notice) =
                normalize::normalize_edges(name, &edges, options.version.logical_types())?;
            notices.extend(notice);
            let (epoch, notice) =
                normalize::normalize_epoch(name, meta.and_then(|m| m.epoch), &crs);
            notices.extend(notice);
            let (orientation, notice) =
                normalize::normalize_orientation(name, meta.and_then(|m| m.orientation.as_ref()));
            notices.extend(notice);
            let cov = match covering.clone() {
                None => None,
                Some(c) => Some((covering_name(schema, name, &c, &columns)?, c)),
            };
            let native = match options.encoding {
                GeometryEncoding::Wkb => None,
                GeometryEncoding::GeoArrow => Some(native_target(name, meta)?),
            };
            columns.push(GeomColumn {
                index,
                name: name.clone(),
                crs,
                edges,
                orientation,
                epoch,
                types: BTreeSet::new(),
                bbox: BoundingBox::empty(),
                has_z: false,
                all_z: true,
                has_m: false,
                rows: 0,
                covering: cov,
                native,
            });
        }
        let primary = options
            .primary_column
            .clone()
            .or_else(|| input.map(|m| m.primary_column.clone()))
            .filter(|p| names.contains(p))
            .or_else(|| names.iter().find(|n| *n == "geometry").cloned())
            .unwrap_or_else(|| names[0].clone());
        let mut input_extra = input.map(|m| m.extra.clone()).unwrap_or_default();
        // The 0.1 version key: the version written is ours.
        input_extra.shift_remove("schema_version");
        let mut enc = Self {
            options: options.clone(),
            columns,
            primary,
            input_extra,
            target: Arc::new(Schema::empty()),
            rows_seen: 0,
            carried: Vec::new(),
            notices,
        };
        enc.target = enc.build_target_schema(schema)?;
        enc.check_logical_types()?;
        // Every other key of the input (its footer, as the reader gives it in
        // the schema metadata) goes to the footer unchanged; pandas' column
        // description only while it still fits the columns.
        let mut carried: Vec<KeyValue> = schema
            .metadata()
            .iter()
            .filter(|(k, _)| !OWN_FOOTER_KEYS.contains(&k.as_str()))
            .filter(|(k, v)| k.as_str() != PANDAS_KEY || pandas_fits(v, &enc.target))
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        if schema.metadata().get(PANDAS_KEY).is_some()
            && !carried.iter().any(|kv| kv.key == PANDAS_KEY)
        {
            enc.notices.push(
                "the \"pandas\" footer key describes columns the output does not have; dropped"
                    .into(),
            );
        }
        carried.sort_by(|a, b| a.key.cmp(&b.key));
        enc.carried = carried;
        Ok(enc)
    }

    /// For the versions with Parquet GEOMETRY/GEOGRAPHY logical types, checks
    /// that the upstream writer will give every geometry column one (it
    /// silently writes plain BYTE_ARRAY when it cannot read the extension
    /// metadata), so that a `2.0.0` file never comes out without them.
    fn check_logical_types(&self) -> Result<()> {
        if !self.options.version.logical_types() {
            return Ok(());
        }
        let descr = parquet::arrow::ArrowSchemaConverter::new().convert(&self.target)?;
        for col in self.columns.iter().filter(|c| c.native.is_none()) {
            let logical = descr
                .columns()
                .iter()
                .find(|c| c.path().parts() == [col.name.clone()])
                .and_then(|c| c.logical_type_ref().cloned());
            if !matches!(
                logical,
                Some(LogicalType::Geometry { .. } | LogicalType::Geography { .. })
            ) {
                return Err(Error::UnwritableCrs {
                    column: col.name.clone(),
                    problem: format!(
                        "its CRS ({}) or edges (\"{}\") cannot be stored in the Parquet GEOMETRY/GEOGRAPHY logical type; set the CRS with --crs (EPSG:N, OGC:CRS84 or PROJJSON)",
                        col.crs.label(),
                        col.edges.as_str()
                    ),
                });
            }
        }
        Ok(())
    }

    /// What was normalised or dropped from the input's metadata so that the
    /// output is valid (a legacy CRS written as PROJJSON, `"Planar"` edges
    /// written as `planar`, a junk epoch dropped, a stale `pandas` key dropped),
    /// one sentence each, for warnings.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    fn geometry_field(&self, col: &GeomColumn, input: &Field) -> Result<Field> {
        if let Some((t, dim)) = col.native {
            let dt = native::data_type(t, dim);
            return Ok(Field::new(&col.name, dt, input.is_nullable()));
        }
        let mut metadata = HashMap::new();
        if self.options.version.logical_types() {
            let crs_json = match &col.crs {
                Crs::Default => Some(serde_json::Value::String("OGC:CRS84".into())),
                Crs::Unknown => None,
                // The Parquet form for an identifier is `srid:<code>`.
                Crs::Identifier { authority, code } if authority.eq_ignore_ascii_case("EPSG") => {
                    Some(serde_json::Value::String(format!("srid:{code}")))
                }
                other => other.to_json(),
            };
            let mut ext = serde_json::Map::new();
            if let Some(c) = crs_json {
                ext.insert("crs".into(), c);
            }
            if col.edges.is_non_planar() {
                ext.insert(
                    "edges".into(),
                    serde_json::Value::String(col.edges.as_str().to_owned()),
                );
            }
            metadata.insert("ARROW:extension:name".to_owned(), "geoarrow.wkb".to_owned());
            metadata.insert(
                "ARROW:extension:metadata".to_owned(),
                serde_json::Value::Object(ext).to_string(),
            );
        }
        Ok(Field::new(&col.name, DataType::Binary, input.is_nullable()).with_metadata(metadata))
    }

    fn build_target_schema(&self, schema: &Schema) -> Result<SchemaRef> {
        let mut fields: Vec<FieldRef> = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            match self.columns.iter().find(|c| c.index == i) {
                Some(col) => fields.push(Arc::new(self.geometry_field(col, f)?)),
                None => fields.push(f.clone()),
            }
        }
        for col in &self.columns {
            if let Some((name, opts)) = &col.covering {
                let nullable = schema.field(col.index).is_nullable();
                fields.push(Arc::new(Field::new(
                    name,
                    DataType::Struct(covering_fields(opts, self.z_for(col, opts))),
                    nullable,
                )));
            }
        }
        // The input's schema metadata (its footer keys, when read from a file)
        // goes to the footer itself (see `key_values`), not into ARROW:schema.
        Ok(Arc::new(Schema::new(fields)))
    }

    fn z_for(&self, _col: &GeomColumn, opts: &CoveringOptions) -> bool {
        opts.with_z
    }

    /// The schema of the batches [`GeoParquetEncoder::encode`] returns.
    pub fn target_schema(&self) -> SchemaRef {
        self.target.clone()
    }

    /// Writer properties following the options: compression, row-group rows,
    /// statistics and page index on (off for the geometry columns' min/max,
    /// which mean nothing for WKB), dictionary off for covering columns.
    pub fn writer_properties(&self) -> WriterProperties {
        let mut b = WriterProperties::builder()
            .set_compression(self.options.compression)
            .set_max_row_group_row_count(Some(self.options.row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(self.options.row_group_bytes.max(1)))
            .set_data_page_row_count_limit(DEFAULT_DATA_PAGE_ROWS)
            .set_dictionary_page_size_limit(DEFAULT_DICTIONARY_PAGE_BYTES)
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_created_by(format!(
                "geoquet {} (parquet-rs)",
                env!("CARGO_PKG_VERSION")
            ));
        // Floating-point attributes are rarely repeated: building a dictionary
        // for them costs more time than it saves bytes (measured, docs/src/benchmarks.md).
        for f in self.target.fields() {
            if matches!(
                f.data_type(),
                DataType::Float16 | DataType::Float32 | DataType::Float64
            ) {
                b = b.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false);
            }
        }
        for col in &self.columns {
            if col.native.is_none() {
                // WKB values are nearly all distinct: a dictionary only costs.
                b = b.set_column_dictionary_enabled(ColumnPath::from(col.name.as_str()), false);
                if !self.options.version.logical_types() {
                    b = b.set_column_statistics_enabled(
                        ColumnPath::from(col.name.as_str()),
                        EnabledStatistics::None,
                    );
                }
            }
            if let Some((name, opts)) = &col.covering {
                let mut leaves = vec!["xmin", "ymin", "xmax", "ymax"];
                if opts.with_z {
                    leaves.extend(["zmin", "zmax"]);
                }
                // Measured on 1 M points (docs/benchmarks.md): dictionary off and
                // BYTE_STREAM_SPLIT make the covering 25% (random order) to 34%
                // (sorted) smaller under ZSTD; statistics, so pruning, are unchanged.
                for leaf in leaves {
                    let path = ColumnPath::new(vec![name.clone(), leaf.to_owned()]);
                    b = b
                        .set_column_dictionary_enabled(path.clone(), false)
                        .set_column_encoding(path, parquet::basic::Encoding::BYTE_STREAM_SPLIT);
                }
            }
        }
        b.build()
    }

    /// Converts one input batch: geometry validated and accounted for,
    /// covering columns appended, encodings applied.
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
        let mut coverings: Vec<ArrayRef> = Vec::new();
        let base_row = self.rows_seen;
        for col in &mut self.columns {
            let column = batch.column(col.index);
            let rewound = if self.options.rewind {
                Some(rewind_column(
                    &wkb_values(column.as_ref())?,
                    &col.name,
                    base_row,
                    col.edges.is_non_planar(),
                )?)
            } else {
                None
            };
            let values = match &rewound {
                Some(a) => wkb_values(a)?,
                None => wkb_values(column.as_ref())?,
            };
            let mut boxes: Vec<Option<BoundingBox>> = Vec::with_capacity(values.len());
            let mut valid: Vec<bool> = Vec::with_capacity(values.len());
            for row in 0..values.len() {
                let Some(bytes) = values.value(row) else {
                    boxes.push(None);
                    valid.push(false);
                    continue;
                };
                let info = wkb_info(bytes).map_err(|e| Error::InvalidWkb {
                    column: col.name.clone(),
                    row: base_row + row as u64,
                    message: e.to_string(),
                })?;
                col.types.insert(info.type_and_dimension);
                let dim = info.type_and_dimension.dimension;
                col.has_z |= dim.has_z();
                col.all_z &= dim.has_z();
                col.has_m |= dim.has_m();
                if let Some(b) = info.bbox {
                    col.bbox = col.bbox.union(&b);
                }
                boxes.push(info.bbox);
                valid.push(true);
            }
            col.rows += values.len() as u64;
            if let Some((_, opts)) = &col.covering {
                coverings.push(covering_array(
                    &boxes,
                    &valid,
                    opts,
                    column.is_nullable() || column.null_count() > 0,
                )?);
            }
            if let Some((t, dim)) = col.native {
                arrays[col.index] = native::from_wkb(&values, t, dim, &col.name, base_row)?;
            } else if rewound.is_some()
                || self.options.version.logical_types()
                || column.data_type() != &DataType::Binary
            {
                arrays[col.index] = Arc::new(values.to_binary());
            }
        }
        self.rows_seen += batch.num_rows() as u64;
        arrays.extend(coverings);
        Ok(RecordBatch::try_new(self.target.clone(), arrays)?)
    }

    /// The `geo` metadata of everything encoded so far.
    pub fn metadata(&self) -> Result<GeoParquetMetadata> {
        let version = self.options.version;
        let mut out: Option<GeoParquetMetadata> = None;
        for col in &self.columns {
            if let Crs::Identifier { authority, code } = &col.crs
                && version != TargetVersion::NativeOnly
            {
                return Err(Error::UnwritableCrs {
                    column: col.name.clone(),
                    problem: format!(
                        "the CRS {authority}:{code} is known only by its identifier and GeoParquet metadata needs PROJJSON; pass the CRS as PROJJSON (--crs with a PROJJSON file or text) or write native Parquet geometry (--geoparquet-version native)"
                    ),
                });
            }
            let mut types: Vec<GeometryTypeAndDimension> = col.types.iter().copied().collect();
            if version != TargetVersion::V2_0 && version != TargetVersion::NativeOnly && col.has_m {
                return Err(Error::MeasureNeedsV2 {
                    column: col.name.clone(),
                    version: version.metadata_version().to_string(),
                });
            }
            if let Some((t, _)) = col.native {
                // Stored as one type: declare what is stored.
                types = col
                    .types
                    .iter()
                    .map(|td| GeometryTypeAndDimension::new(t, td.dimension))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
            }
            let mut meta = GeoParquetColumnMetadata::new(
                col.native
                    .map_or(Encoding::Wkb, |(t, _)| Encoding::Native(t)),
                types,
            );
            meta.crs = col.crs.clone();
            if col.edges.is_non_planar() {
                meta.edges = Some(col.edges.clone());
            } else if version.logical_types() {
                meta.edges = Some(Edges::Planar);
            }
            meta.orientation = if self.options.rewind {
                Some(geoparquet_meta::Orientation::Counterclockwise)
            } else {
                col.orientation.clone()
            };
            meta.epoch = col.epoch;
            if !col.bbox.is_empty() && col.bbox.is_finite() {
                let mut b =
                    BoundingBox::new(col.bbox.xmin, col.bbox.ymin, col.bbox.xmax, col.bbox.ymax);
                if col.all_z
                    && let Some((z0, z1)) = col.bbox.z()
                {
                    b = b.with_z(z0, z1);
                    if version.logical_types()
                        && col.has_m
                        && let Some((m0, m1)) = col.bbox.m()
                    {
                        b = b.with_m(m0, m1);
                    }
                }
                meta.bbox = Some(b);
            }
            if let Some((name, opts)) = &col.covering {
                meta.covering = Some(Covering {
                    bbox: CoveringBbox::for_column(name, opts.with_z),
                    extra: serde_json::Map::new(),
                });
            }
            match &mut out {
                None => {
                    let mut m = GeoParquetMetadata::new(col.name.clone(), meta);
                    m.version = version.metadata_version();
                    m.primary_column = self.primary.clone();
                    m.extra = self.input_extra.clone();
                    m.extra.insert(
                        "creator".into(),
                        serde_json::json!({"library": "geoquet", "version": env!("CARGO_PKG_VERSION")}),
                    );
                    out = Some(m);
                }
                Some(m) => {
                    m.columns.insert(col.name.clone(), meta);
                }
            }
        }
        out.ok_or(Error::Internal {
            invariant: "the encoder has a primary geometry column",
        })
    }

    /// The `geo` key/value to append to the file; `None` for native-types-only output.
    pub fn key_value(&self) -> Result<Option<KeyValue>> {
        if self.options.version == TargetVersion::NativeOnly {
            return Ok(None);
        }
        Ok(Some(KeyValue::new(
            GEO_METADATA_KEY.to_owned(),
            self.metadata()?.to_json_string(),
        )))
    }

    /// Every key/value to append to the file: `geo` (see
    /// [`GeoParquetEncoder::key_value`]), then each key of the input schema's
    /// metadata that this crate does not own ([`OWN_FOOTER_KEYS`]), value
    /// unchanged: when the input was read from a file, its footer keys, such
    /// as SlideRule's `sliderule`, `recordinfo` and `meta`, or
    /// `stac-geoparquet`. The `pandas` key is kept while every column it
    /// describes is still in the output, and dropped otherwise (its
    /// description would be stale). These keys are not repeated inside
    /// `ARROW:schema` (the target schema carries no metadata).
    pub fn key_values(&self) -> Result<Vec<KeyValue>> {
        let mut out: Vec<KeyValue> = self.key_value()?.into_iter().collect();
        out.extend(self.carried.iter().cloned());
        Ok(out)
    }
}

fn native_target(
    name: &str,
    meta: Option<&GeoParquetColumnMetadata>,
) -> Result<(GeometryType, Dimension)> {
    let declared: &[GeometryTypeAndDimension] = meta.map_or(&[], |m| m.geometry_types.as_slice());
    native::choose_type(declared).ok_or_else(|| {
        let list: Vec<String> = declared.iter().map(ToString::to_string).collect();
        Error::GeoArrowNeedsOneType {
            column: name.to_owned(),
            declared: list,
        }
    })
}

/// The covering column's name: the one asked for (which must be free), else
/// `bbox` for `geometry`/`geography`, else `<column>_bbox`, else the first
/// free of `<column>_covering`, `<column>_covering_2`, ...
fn covering_name(
    schema: &Schema,
    geometry: &str,
    opts: &CoveringOptions,
    taken: &[GeomColumn],
) -> Result<String> {
    let free = |n: &str| {
        schema.field_with_name(n).is_err()
            && !taken
                .iter()
                .any(|c| c.covering.as_ref().is_some_and(|(cn, _)| cn == n))
    };
    if let Some(n) = &opts.name {
        return if free(n) {
            Ok(n.clone())
        } else {
            Err(Error::CoveringName {
                column: geometry.to_owned(),
                name: Some(n.clone()),
            })
        };
    }
    let mut candidates = Vec::new();
    if geometry == "geometry" || geometry == "geography" {
        candidates.push("bbox".to_owned());
    }
    candidates.push(format!("{geometry}_bbox"));
    candidates.push(format!("{geometry}_covering"));
    candidates.extend((2..100).map(|i| format!("{geometry}_covering_{i}")));
    candidates
        .into_iter()
        .find(|n| free(n))
        .ok_or_else(|| Error::CoveringName {
            column: geometry.to_owned(),
            name: None,
        })
}

fn covering_fields(opts: &CoveringOptions, with_z: bool) -> Fields {
    let dt = if opts.float32 {
        DataType::Float32
    } else {
        DataType::Float64
    };
    let mut names = vec!["xmin", "ymin", "xmax", "ymax"];
    if with_z {
        names = vec!["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"];
    }
    Fields::from(
        names
            .into_iter()
            .map(|n| Field::new(n, dt.clone(), false))
            .collect::<Vec<_>>(),
    )
}

fn covering_array(
    boxes: &[Option<BoundingBox>],
    valid: &[bool],
    opts: &CoveringOptions,
    nullable: bool,
) -> Result<ArrayRef> {
    let with_z = opts.with_z;
    let n = boxes.len();
    let get = |b: &Option<BoundingBox>, which: usize| -> f64 {
        match b {
            None => f64::NAN,
            Some(b) => match which {
                0 => b.xmin,
                1 => b.ymin,
                2 => b.xmax,
                3 => b.ymax,
                4 => b.z().map_or(f64::NAN, |z| z.0),
                _ => b.z().map_or(f64::NAN, |z| z.1),
            },
        }
    };
    // Order of the struct fields, with whether each is a minimum (round down).
    let order: Vec<(usize, bool)> = if with_z {
        vec![
            (0, true),
            (1, true),
            (4, true),
            (2, false),
            (3, false),
            (5, false),
        ]
    } else {
        vec![(0, true), (1, true), (2, false), (3, false)]
    };
    let mut children: Vec<ArrayRef> = Vec::new();
    for (which, is_min) in &order {
        if opts.float32 {
            let mut b = Float32Builder::with_capacity(n);
            for bx in boxes {
                b.append_value(round_f32(get(bx, *which), *is_min));
            }
            children.push(Arc::new(b.finish()));
        } else {
            let mut b = Float64Builder::with_capacity(n);
            for bx in boxes {
                b.append_value(get(bx, *which));
            }
            children.push(Arc::new(b.finish()));
        }
    }
    let nulls = nullable.then(|| arrow_buffer::NullBuffer::from(valid.to_vec()));
    Ok(Arc::new(StructArray::try_new(
        covering_fields(opts, with_z),
        children,
        nulls,
    )?))
}

fn rewind_column(
    values: &crate::wkb_column::WkbColumn<'_>,
    column: &str,
    base_row: u64,
    wrap: bool,
) -> Result<arrow_array::BinaryArray> {
    let mut out = arrow_array::builder::BinaryBuilder::with_capacity(values.len(), 0);
    for row in 0..values.len() {
        match values.value(row) {
            None => out.append_null(),
            Some(bytes) => {
                match geoparquet_meta::geometry::rewind_wkb(bytes, wrap).map_err(|e| {
                    Error::InvalidWkb {
                        column: column.to_owned(),
                        row: base_row + row as u64,
                        message: e.to_string(),
                    }
                })? {
                    Some(fixed) => out.append_value(fixed),
                    None => out.append_value(bytes),
                }
            }
        }
    }
    Ok(out.finish())
}

/// Rounds outward so that the f32 box still contains the f64 one.
fn round_f32(v: f64, down: bool) -> f32 {
    let f = v as f32;
    if v.is_nan() {
        return f32::NAN;
    }
    let back = f64::from(f);
    if down && back > v {
        f.next_down()
    } else if !down && back < v {
        f.next_up()
    } else {
        f
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSummary {
    /// Rows written.
    pub rows: u64,
    /// Row groups written.
    pub row_groups: usize,
    /// The metadata written (also for native-only output, where it is not stored).
    pub metadata: GeoParquetMetadata,
    /// What was normalised or dropped from the input's metadata (see
    /// [`GeoParquetEncoder::notices`]).
    pub warnings: Vec<String>,
}

/// Writes batches to `path` atomically through [`crate::output::Output`]: into a
/// temporary file beside it, renamed into place only when everything succeeded. An
/// error leaves `path` as it was; a directory, device or FIFO at `path` is refused
/// before any work; a write error names `path`. Memory holds at most two row groups (two are encoded at once).
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{BinaryArray, RecordBatch};
/// # use arrow_schema::{DataType, Field, Schema};
/// use geoparquet_io::writer::{write_file, WriterOptions};
///
/// # let mut wkb = vec![1u8, 1, 0, 0, 0];
/// # wkb.extend_from_slice(&1.0f64.to_le_bytes());
/// # wkb.extend_from_slice(&2.0f64.to_le_bytes());
/// let schema = Arc::new(Schema::new(vec![Field::new("geometry", DataType::Binary, true)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(BinaryArray::from(vec![Some(wkb.as_slice()), None]))])?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("points.parquet");
/// let summary = write_file(&path, schema, std::iter::once(Ok(batch)), None, &WriterOptions::default())?;
/// assert_eq!(summary.rows, 2);
/// assert!(geoparquet_io::validate_footer(&path)?.is_valid());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_file<I>(
    path: &Path,
    schema: SchemaRef,
    batches: I,
    input: Option<&GeoParquetMetadata>,
    options: &WriterOptions,
) -> Result<WriteSummary>
where
    I: IntoIterator<Item = Result<RecordBatch>>,
{
    let out = crate::output::Output::create(path)?;
    let summary = write_to(out.writer()?, schema, batches, input, options);
    out.finish(summary)
}

/// How many row groups are encoded at once (each on its own thread).
const ROW_GROUP_WORKERS: usize = 2;

/// The job number a worker reports when it panicked.
const WORKER_DIED: u64 = u64::MAX;

/// A message to a row-group worker.
enum ToWorker {
    /// Start row group `index` of the file, as job `job`.
    Start { job: u64, index: usize },
    /// Encode a slice of the current row group.
    Write(RecordBatch),
    /// The row group is complete: close it.
    Finish,
}

/// A worker's closed row group.
struct Closed {
    job: u64,
    /// The column chunks, or the first error.
    chunks: Result<Vec<ArrowColumnChunk>>,
    /// How many slices it holds: fewer than were sent when the byte limit
    /// closed it early.
    slices: usize,
}

/// Encodes and compresses the row groups it is given, one after the other:
/// every leaf column of a slice in turn, then the chunks when the row group
/// ends (by `Finish`, or by itself after a slice that brought its buffered
/// size to `max_bytes`, the same test the sequential writer makes).
fn row_group_worker(
    factory: &ArrowRowGroupWriterFactory,
    schema: &Schema,
    max_bytes: usize,
    rx: std::sync::mpsc::Receiver<ToWorker>,
    done: &std::sync::mpsc::Sender<Closed>,
    busy: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    /// Tells the stage when this worker dies of a panic, so that it does not
    /// wait for a row group that will never come.
    struct Obituary<'a>(&'a std::sync::mpsc::Sender<Closed>);
    impl Drop for Obituary<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                let _ = self.0.send(Closed {
                    job: WORKER_DIED,
                    chunks: Err(Error::WorkerPanicked {
                        task: "parquet: row-group encoder",
                        message: "the thread panicked while encoding a row group".into(),
                    }),
                    slices: 0,
                });
            }
        }
    }
    let _obituary = Obituary(done);
    // The open row group: job, writers (None once closed), slices written.
    let mut open: Option<(u64, Option<Vec<ArrowColumnWriter>>, usize)> = None;
    let close = |job: u64, writers: Vec<ArrowColumnWriter>, slices: usize| {
        let chunks = writers
            .into_iter()
            .map(|w| w.close().map_err(Error::from))
            .collect();
        // The receiver is gone only when the writer gave up; nothing to do then.
        let _ = done.send(Closed {
            job,
            chunks,
            slices,
        });
    };
    // Whether this worker holds an open row group, as counted in `busy`.
    let mut counted = false;
    for msg in rx {
        match msg {
            ToWorker::Start { job, index } => match factory.create_column_writers(index) {
                Ok(w) => open = Some((job, Some(w), 0)),
                Err(e) => {
                    let _ = done.send(Closed {
                        job,
                        chunks: Err(e.into()),
                        slices: 0,
                    });
                    open = Some((job, None, 0));
                }
            },
            ToWorker::Write(batch) => {
                let Some((job, slot, slices)) = &mut open else {
                    continue;
                };
                let Some(writers) = slot else {
                    continue; // closed early: the writer re-sends these rows
                };
                let alone = busy.load(Ordering::Relaxed) <= 1;
                if let Err(e) = write_slice_split(writers, schema, &batch, alone) {
                    let _ = done.send(Closed {
                        job: *job,
                        chunks: Err(e),
                        slices: *slices,
                    });
                    *slot = None;
                    continue;
                }
                *slices += 1;
                let size: usize = writers.iter().map(ArrowColumnWriter::memory_size).sum();
                if size >= max_bytes
                    && let Some(w) = slot.take()
                {
                    close(*job, w, *slices);
                }
            }
            ToWorker::Finish => {
                if let Some((job, Some(w), slices)) = open.take() {
                    close(job, w, slices);
                }
            }
        }
        let holds = matches!(open, Some((_, Some(_), _)));
        if holds != counted {
            if holds {
                busy.fetch_add(1, Ordering::Relaxed);
            } else {
                busy.fetch_sub(1, Ordering::Relaxed);
            }
            counted = holds;
        }
    }
    if counted {
        busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Encodes one slice into the row group's column writers: its leaf columns
/// split in two groups of about equal size, one encoded on a helper thread,
/// when the other workers are idle (at the start and the end of a file, or a
/// file of one row group); one after the other otherwise.
fn write_slice_split(
    writers: &mut [ArrowColumnWriter],
    schema: &Schema,
    batch: &RecordBatch,
    split: bool,
) -> Result<()> {
    if !split {
        return write_slice(writers, schema, batch);
    }
    let mut leaves: Vec<ArrowLeafColumn> = Vec::with_capacity(writers.len());
    let mut weights: Vec<usize> = Vec::with_capacity(writers.len());
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        let before = leaves.len();
        leaves.extend(compute_leaves(field, array)?);
        let n = (leaves.len() - before).max(1);
        let w = array.get_array_memory_size() / n;
        weights.extend(std::iter::repeat_n(w, leaves.len() - before));
    }
    if leaves.len() != writers.len() {
        return Err(Error::Internal {
            invariant: "as many leaf columns as column writers",
        });
    }
    let mut pairs: Vec<(usize, &mut ArrowColumnWriter, ArrowLeafColumn)> = writers
        .iter_mut()
        .zip(leaves)
        .zip(weights)
        .map(|((w, l), weight)| (weight, w, l))
        .collect();
    pairs.sort_by_key(|p| std::cmp::Reverse(p.0));
    let (mut here, mut there) = (Vec::new(), Vec::new());
    let (mut here_w, mut there_w) = (0usize, 0usize);
    for p in pairs {
        if here_w <= there_w {
            here_w += p.0;
            here.push(p);
        } else {
            there_w += p.0;
            there.push(p);
        }
    }
    let encode = |group: Vec<(usize, &mut ArrowColumnWriter, ArrowLeafColumn)>| -> Result<()> {
        for (_, w, leaf) in group {
            w.write(&leaf)?;
        }
        Ok(())
    };
    crate::workers::scope(|scope| -> Result<()> {
        let helper = scope.spawn("parquet: column encoder", || encode(there));
        let mine = encode(here);
        let theirs = helper.join()?;
        mine.and(theirs)
    })?
}

/// Encodes one slice into the row group's column writers.
fn write_slice(
    writers: &mut [ArrowColumnWriter],
    schema: &Schema,
    batch: &RecordBatch,
) -> Result<()> {
    let mut writers = writers.iter_mut();
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        for leaf in compute_leaves(field, array)? {
            let w = writers.next().ok_or_else(|| Error::Internal {
                invariant: "no more leaf columns than column writers",
            })?;
            w.write(&leaf)?;
        }
    }
    Ok(())
}

/// One row group handed to a worker and not yet appended to the file.
struct Job {
    id: u64,
    worker: usize,
    /// Where its first slice starts: (input batch number, offset).
    start: (u64, usize),
    /// Where each of its slices ends.
    slice_ends: Vec<(u64, usize)>,
    /// All its slices were sent.
    finished: bool,
}

/// The column stage: cuts the encoded batches into row groups exactly as a
/// sequential writer would (at `max_rows` rows, or after the slice that
/// brings a row group's buffered size to `max_bytes`) and encodes up to
/// [`ROW_GROUP_WORKERS`] row groups at once, appending them in order.
///
/// The byte limit is only known once a worker has encoded the slices, so the
/// next row group starts on the assumption that the current one ends at
/// `max_rows`; when a worker closes its row group early instead, the row
/// groups started after it are dropped and their rows sent again from where
/// it ended. Input batches are kept (shared, not copied) until the row groups
/// holding them are written, so memory stays bounded by a few row groups.
struct RowGroupStage<'a, W: Write + Send> {
    file_writer: &'a mut SerializedFileWriter<W>,
    workers: Vec<std::sync::mpsc::SyncSender<ToWorker>>,
    done: std::sync::mpsc::Receiver<Closed>,
    input: std::sync::mpsc::Receiver<RecordBatch>,
    max_rows: usize,
    /// Input batches from number `first_kept` on.
    kept: std::collections::VecDeque<RecordBatch>,
    first_kept: u64,
    input_done: bool,
    /// Where the next slice starts.
    pos: (u64, usize),
    /// Row groups not yet appended, oldest first; results that came early.
    jobs: std::collections::VecDeque<Job>,
    early: Vec<Closed>,
    next_id: u64,
    next_index: usize,
    next_worker: usize,
    /// Rows of the open row group (the last job), if one is open.
    open_rows: Option<usize>,
}

impl<W: Write + Send> RowGroupStage<'_, W> {
    fn send(&self, worker: usize, msg: ToWorker) -> Result<()> {
        self.workers
            .get(worker)
            .ok_or(Error::Internal {
                invariant: "a row-group encoding thread for each job",
            })?
            .send(msg)
            .map_err(|_| Error::WorkerPanicked {
                task: "parquet: row-group encoder",
                message: "the thread stopped before its row group was written".into(),
            })
    }

    /// The batch holding `pos`, receiving input as needed; `None` at the end.
    fn batch_at_pos(&mut self) -> Option<RecordBatch> {
        let received = self.first_kept + self.kept.len() as u64;
        if self.pos.0 >= received && !self.input_done {
            match self.input.recv() {
                Ok(b) => self.kept.push_back(b),
                Err(_) => self.input_done = true,
            }
        }
        let i = usize::try_from(self.pos.0.checked_sub(self.first_kept)?).ok()?;
        self.kept.get(i).cloned()
    }

    /// Appends the oldest row group if its worker has closed it (waiting for
    /// that when `wait`). Returns whether it appended one.
    fn settle(&mut self, wait: bool) -> Result<bool> {
        let Some(oldest) = self.jobs.front().map(|j| j.id) else {
            return Ok(false);
        };
        let closed = loop {
            if let Some(i) = self.early.iter().position(|c| c.job == oldest) {
                break self.early.swap_remove(i);
            }
            let got = if wait {
                self.done.recv().map_err(|_| Error::WorkerPanicked {
                    task: "parquet: row-group encoder",
                    message: "the threads stopped before their row groups were written".into(),
                })?
            } else {
                match self.done.try_recv() {
                    Ok(c) => c,
                    Err(_) => return Ok(false),
                }
            };
            if got.job == WORKER_DIED {
                return got.chunks.map(|_| false);
            }
            // Results of dropped row groups are ignored.
            if self.jobs.iter().any(|j| j.id == got.job) {
                self.early.push(got);
            }
        };
        let chunks = closed.chunks?;
        let Some(job) = self.jobs.pop_front() else {
            return Ok(false);
        };
        let mut rg = self.file_writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut rg)?;
        }
        rg.close()?;
        if closed.slices < job.slice_ends.len() || !job.finished {
            // Closed early by the byte limit: the rows after its last slice
            // start the next row group, as they would have sequentially.
            self.pos = match closed.slices.checked_sub(1) {
                Some(last) => job.slice_ends.get(last).copied().unwrap_or(job.start),
                None => job.start,
            };
            self.next_index = self.file_writer.flushed_row_groups().len();
            self.open_rows = None;
            for dropped in std::mem::take(&mut self.jobs) {
                if !dropped.finished {
                    // Its worker closes it; the result is ignored.
                    self.send(dropped.worker, ToWorker::Finish)?;
                }
            }
            self.early.clear();
        }
        Ok(true)
    }

    /// Sends the next slice (starting a row group first if none is open);
    /// `false` at the end of the input.
    fn dispatch(&mut self) -> Result<bool> {
        if self.open_rows.is_none() {
            // One row group per worker in flight at most (appending the
            // oldest may rewind `pos`, so this comes first).
            while self.jobs.len() >= self.workers.len() {
                self.settle(true)?;
            }
        }
        let Some(batch) = self.batch_at_pos() else {
            return Ok(false);
        };
        if self.pos.1 >= batch.num_rows() {
            self.pos = (self.pos.0 + 1, 0);
            return Ok(true);
        }
        let rows = match self.open_rows {
            Some(r) => r,
            None => {
                let (id, worker) = (self.next_id, self.next_worker);
                self.send(
                    worker,
                    ToWorker::Start {
                        job: id,
                        index: self.next_index,
                    },
                )?;
                self.jobs.push_back(Job {
                    id,
                    worker,
                    start: self.pos,
                    slice_ends: Vec::new(),
                    finished: false,
                });
                self.next_id += 1;
                self.next_index += 1;
                self.next_worker = (worker + 1) % self.workers.len();
                0
            }
        };
        let take = (batch.num_rows() - self.pos.1).min(self.max_rows - rows);
        let worker = self.jobs.back().map_or(0, |j| j.worker);
        self.send(worker, ToWorker::Write(batch.slice(self.pos.1, take)))?;
        self.pos.1 += take;
        let full = rows + take >= self.max_rows;
        if full {
            self.send(worker, ToWorker::Finish)?;
        }
        if let Some(job) = self.jobs.back_mut() {
            job.slice_ends.push(self.pos);
            job.finished = full;
        }
        self.open_rows = (!full).then_some(rows + take);
        // Forget the batches that no row group in flight can need again.
        let needed = self
            .jobs
            .front()
            .map_or(self.pos.0, |j| j.start.0.min(self.pos.0));
        while self.first_kept < needed && self.kept.pop_front().is_some() {
            self.first_kept += 1;
        }
        Ok(true)
    }

    fn run(mut self) -> Result<()> {
        loop {
            while self.settle(false)? {}
            if self.dispatch()? {
                continue;
            }
            // The end of the input: close the last row group, then wait for
            // the ones in flight (an early close may send rows again).
            if let Some(job) = self.jobs.back_mut()
                && !job.finished
            {
                job.finished = true;
                let worker = job.worker;
                self.open_rows = None;
                self.send(worker, ToWorker::Finish)?;
            }
            if self.jobs.is_empty() {
                return Ok(());
            }
            self.settle(true)?;
        }
    }
}

/// Runs the column stage (see [`RowGroupStage`]) over `input`.
fn write_row_groups<W: Write + Send>(
    file_writer: &mut SerializedFileWriter<W>,
    factory: &ArrowRowGroupWriterFactory,
    schema: &Schema,
    input: std::sync::mpsc::Receiver<RecordBatch>,
    max_rows: usize,
    max_bytes: usize,
) -> Result<()> {
    let busy = &std::sync::atomic::AtomicUsize::new(0);
    crate::workers::scope(|scope| {
        let (done_tx, done) = std::sync::mpsc::channel::<Closed>();
        let mut workers = Vec::with_capacity(ROW_GROUP_WORKERS);
        let mut handles = Vec::with_capacity(ROW_GROUP_WORKERS);
        for _ in 0..ROW_GROUP_WORKERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<ToWorker>(4);
            let done_tx = done_tx.clone();
            handles.push(scope.spawn("parquet: row-group encoder", move || {
                row_group_worker(factory, schema, max_bytes, rx, &done_tx, busy);
            }));
            workers.push(tx);
        }
        drop(done_tx);
        // Dropping the stage (its senders) ends the workers, also on errors.
        let result = RowGroupStage {
            file_writer,
            workers,
            done,
            input,
            max_rows: max_rows.max(1),
            kept: std::collections::VecDeque::new(),
            first_kept: 0,
            input_done: false,
            pos: (0, 0),
            jobs: std::collections::VecDeque::new(),
            early: Vec::new(),
            next_id: 0,
            next_index: 0,
            next_worker: 0,
            open_rows: None,
        }
        .run();
        // The stage is gone, so are its senders: the workers have ended, or end now.
        // A worker's panic is the better report than what the stage saw of it.
        for h in handles {
            h.join()?;
        }
        result
    })?
}

/// `descr` (the Parquet schema of `arrow`) with Parquet's JSON logical type on the
/// `Utf8` columns, at any depth (inside structs and lists), for which `is_json` says
/// yes: the upstream converter only does this behind a feature that also changes how
/// every JSON column is read back. Anything that cannot be rebuilt stays as it was.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use parquet::arrow::ArrowSchemaConverter;
/// use parquet::basic::LogicalType;
///
/// let schema = Schema::new(vec![Field::new("props", DataType::Utf8, true)]);
/// let descr = ArrowSchemaConverter::new().convert(&schema)?;
/// let marked = geoparquet_io::writer::with_json_logical_type(&schema, descr, &|f| f.name() == "props");
/// assert_eq!(marked.column(0).logical_type_ref(), Some(&LogicalType::Json));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn with_json_logical_type(
    arrow: &Schema,
    descr: parquet::schema::types::SchemaDescriptor,
    is_json: &dyn Fn(&Field) -> bool,
) -> parquet::schema::types::SchemaDescriptor {
    use parquet::schema::types::{SchemaDescriptor, Type, TypePtr};
    let root = descr.root_schema_ptr();
    let Type::GroupType { fields, .. } = root.as_ref() else {
        return descr;
    };
    if fields.len() != arrow.fields().len() {
        return descr;
    }
    let new_fields: Vec<TypePtr> = arrow
        .fields()
        .iter()
        .zip(fields)
        .map(|(f, t)| mark_json(f, t, is_json))
        .collect();
    let Ok(root) = Type::group_type_builder(root.name())
        .with_fields(new_fields)
        .build()
    else {
        return descr;
    };
    SchemaDescriptor::new(std::sync::Arc::new(root))
}

/// [`with_json_logical_type`] for one Arrow field and its Parquet type.
fn mark_json(
    field: &Field,
    t: &parquet::schema::types::TypePtr,
    is_json: &dyn Fn(&Field) -> bool,
) -> parquet::schema::types::TypePtr {
    use parquet::basic::ConvertedType;
    use parquet::schema::types::{Type, TypePtr};
    let info = t.get_basic_info();
    let rebuild_group = |children: Vec<TypePtr>| -> TypePtr {
        let mut b = Type::group_type_builder(info.name())
            .with_fields(children)
            .with_logical_type(info.logical_type_ref().cloned())
            .with_converted_type(info.converted_type());
        if info.has_repetition() {
            b = b.with_repetition(info.repetition());
        }
        if info.has_id() {
            b = b.with_id(Some(info.id()));
        }
        b.build().map_or_else(|_| t.clone(), std::sync::Arc::new)
    };
    match (field.data_type(), t.as_ref()) {
        (DataType::Utf8, Type::PrimitiveType { physical_type, .. }) if is_json(field) => {
            let mut b = Type::primitive_type_builder(info.name(), *physical_type)
                .with_repetition(info.repetition())
                .with_logical_type(Some(LogicalType::Json))
                .with_converted_type(ConvertedType::JSON);
            if info.has_id() {
                b = b.with_id(Some(info.id()));
            }
            b.build().map_or_else(|_| t.clone(), std::sync::Arc::new)
        }
        (DataType::Struct(children), Type::GroupType { fields, .. })
            if children.len() == fields.len() =>
        {
            rebuild_group(
                children
                    .iter()
                    .zip(fields)
                    .map(|(f, t)| mark_json(f, t, is_json))
                    .collect(),
            )
        }
        (DataType::List(child), Type::GroupType { fields, .. }) => {
            // LIST group > repeated group "list" > element.
            let [list] = fields.as_slice() else {
                return t.clone();
            };
            let Type::GroupType { fields: inner, .. } = list.as_ref() else {
                return t.clone();
            };
            let [element] = inner.as_slice() else {
                return t.clone();
            };
            let li = list.get_basic_info();
            let mut b = Type::group_type_builder(li.name())
                .with_fields(vec![mark_json(child, element, is_json)])
                .with_logical_type(li.logical_type_ref().cloned())
                .with_converted_type(li.converted_type());
            if li.has_repetition() {
                b = b.with_repetition(li.repetition());
            }
            match b.build() {
                Ok(list) => rebuild_group(vec![std::sync::Arc::new(list)]),
                Err(_) => t.clone(),
            }
        }
        _ => t.clone(),
    }
}

/// Writes batches to any writer (e.g. a `Vec<u8>` or a file), keeping at most
/// two row groups in memory (two are encoded at once, each on its own thread).
pub fn write_to<W, I>(
    sink: W,
    schema: SchemaRef,
    batches: I,
    input: Option<&GeoParquetMetadata>,
    options: &WriterOptions,
) -> Result<WriteSummary>
where
    W: Write + Send,
    I: IntoIterator<Item = Result<RecordBatch>>,
{
    let mut encoder = GeoParquetEncoder::try_new(&schema, input, options)?;
    let target = encoder.target_schema();
    let writer = ArrowWriter::try_new_with_options(
        sink,
        target.clone(),
        parquet::arrow::arrow_writer::ArrowWriterOptions::new()
            .with_properties(encoder.writer_properties())
            .with_parquet_schema(with_json_logical_type(
                &target,
                parquet::arrow::ArrowSchemaConverter::new().convert(&target)?,
                &|f| {
                    f.metadata().get("ARROW:extension:name").map(String::as_str)
                        == Some("arrow.json")
                },
            )),
    )?;
    // Below ArrowWriter: the same file writer and column writers, but the
    // columns of a batch are encoded and compressed on two threads.
    let (file_writer, factory) = writer.into_serialized_writer()?;
    let max_rows = options.row_group_rows.max(1);
    let max_bytes = options.row_group_bytes;
    let mut rows = 0u64;
    // Two stages: this thread decodes input and runs the encoder (geometry
    // accounting, coverings); a second one cuts row groups and has them encoded
    // and compressed, two at once (see `RowGroupStage`).
    let (file_writer, encoded) = crate::workers::scope(|scope| -> Result<_> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let target = &target;
        let factory = &factory;
        let columns = scope.spawn(
            "parquet: column stage",
            move || -> Result<SerializedFileWriter<W>> {
                let mut file_writer = file_writer;
                write_row_groups(&mut file_writer, factory, target, rx, max_rows, max_bytes)?;
                Ok(file_writer)
            },
        );
        let mut encoded: Result<()> = Ok(());
        for batch in batches {
            match batch.and_then(|b| encoder.encode(&b)) {
                Ok(b) => {
                    rows += b.num_rows() as u64;
                    if tx.send(b).is_err() {
                        break; // The column stage failed; its error is reported below.
                    }
                }
                Err(e) => {
                    encoded = Err(e);
                    break;
                }
            }
        }
        drop(tx);
        let written = columns.join()?;
        Ok((written, encoded))
    })??;
    encoded?;
    let mut file_writer = file_writer?;
    for kv in encoder.key_values()? {
        file_writer.append_key_value_metadata(kv);
    }
    let file_meta = file_writer.close()?;
    Ok(WriteSummary {
        rows,
        row_groups: file_meta.num_row_groups(),
        metadata: encoder.metadata()?,
        warnings: encoder.notices().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{BinaryArray, Int64Array, StringArray};

    /// `n` rows: an id, a name, and polygons whose size varies with the row.
    fn batch(start: usize, n: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("geometry", DataType::Binary, true),
        ]));
        let ids: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
        let names: Vec<Option<String>> = (start..start + n)
            .map(|i| (i % 7 != 0).then(|| format!("row-{}", i % 1000)))
            .collect();
        let geoms: Vec<Option<Vec<u8>>> = (start..start + n)
            .map(|i| {
                (i % 11 != 3).then(|| {
                    let k = 4 + i % 9;
                    let mut v = vec![1u8, 3, 0, 0, 0, 1, 0, 0, 0];
                    v.extend_from_slice(&(k as u32 + 1).to_le_bytes());
                    for j in 0..=k {
                        let a = (j % k) as f64 * std::f64::consts::TAU / k as f64;
                        let (x, y) = ((i % 360) as f64 - 180.0, (i % 170) as f64 - 85.0);
                        v.extend_from_slice(&(x + a.cos() * 0.01).to_le_bytes());
                        v.extend_from_slice(&(y + a.sin() * 0.01).to_le_bytes());
                    }
                    v
                })
            })
            .collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
                Arc::new(BinaryArray::from_iter(geoms.iter().map(|g| g.as_deref()))),
            ],
        )
        .unwrap()
    }

    /// The sequential writer the row-group stage must reproduce byte for
    /// byte: one row group at a time, cut at `row_group_rows` rows or after
    /// the slice that brings its buffered size to `row_group_bytes`.
    fn sequential(batches: &[RecordBatch], options: &WriterOptions) -> (Vec<u8>, usize) {
        let schema = batches[0].schema();
        let mut encoder = GeoParquetEncoder::try_new(&schema, None, options).unwrap();
        let target = encoder.target_schema();
        let writer = ArrowWriter::try_new(
            Vec::new(),
            target.clone(),
            Some(encoder.writer_properties()),
        )
        .unwrap();
        let (mut file, factory) = writer.into_serialized_writer().unwrap();
        let mut writers: Option<(Vec<ArrowColumnWriter>, usize)> = None;
        let close = |file: &mut SerializedFileWriter<Vec<u8>>, ws: Vec<ArrowColumnWriter>| {
            let mut rg = file.next_row_group().unwrap();
            for w in ws {
                w.close().unwrap().append_to_row_group(&mut rg).unwrap();
            }
            rg.close().unwrap();
        };
        for b in batches {
            let b = encoder.encode(b).unwrap();
            let mut offset = 0;
            while offset < b.num_rows() {
                let (ws, rows) = writers.get_or_insert_with(|| {
                    let index = file.flushed_row_groups().len();
                    (factory.create_column_writers(index).unwrap(), 0)
                });
                let take = (b.num_rows() - offset).min(options.row_group_rows - *rows);
                write_slice(ws, &target, &b.slice(offset, take)).unwrap();
                offset += take;
                *rows += take;
                let size: usize = ws.iter().map(ArrowColumnWriter::memory_size).sum();
                if *rows >= options.row_group_rows || size >= options.row_group_bytes {
                    let (ws, _) = writers.take().unwrap();
                    close(&mut file, ws);
                }
            }
        }
        if let Some((ws, _)) = writers.take() {
            close(&mut file, ws);
        }
        file.append_key_value_metadata(encoder.key_value().unwrap().unwrap());
        let groups = file.flushed_row_groups().len();
        (file.into_inner().unwrap(), groups)
    }

    #[test]
    fn row_groups_are_cut_as_a_sequential_writer_cuts_them() {
        let sizes = [700, 0, 1500, 333, 2048, 1, 999, 4000, 250];
        let mut start = 0;
        let batches: Vec<RecordBatch> = sizes
            .iter()
            .map(|&n| {
                let b = batch(start, n);
                start += n;
                b
            })
            .collect();
        let mut cuts_by_bytes = 0;
        for (rows, bytes) in [
            (1000, usize::MAX),
            (3000, usize::MAX),
            (97, usize::MAX),
            (100_000, usize::MAX),
            (2000, 60_000),
            (2500, 150_000),
            (100_000, 90_000),
            (100_000, 1),
            (700, 20_000),
        ] {
            let options = WriterOptions {
                row_group_rows: rows,
                row_group_bytes: bytes,
                ..WriterOptions::default()
            };
            let (expected, groups) = sequential(&batches, &options);
            if groups > start.div_ceil(rows) {
                cuts_by_bytes += 1;
            }
            let mut ours = Vec::new();
            let summary = write_to(
                &mut ours,
                batches[0].schema(),
                batches.iter().cloned().map(Ok),
                None,
                &options,
            )
            .unwrap();
            assert_eq!(summary.rows, start as u64);
            assert_eq!(summary.row_groups, groups, "rows {rows}, bytes {bytes}");
            assert!(
                ours == expected,
                "rows {rows}, bytes {bytes}: the files differ"
            );
        }
        // The byte limit did cut row groups early in some of these.
        assert!(cuts_by_bytes >= 3, "{cuts_by_bytes}");
    }
}
