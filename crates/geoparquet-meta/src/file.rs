//! A description of a Parquet file's footer, as far as GeoParquet cares:
//! root columns with physical and logical types, geospatial statistics and
//! the key/value metadata. I/O crates fill it in; this crate reasons on it
//! (validation, metadata for files without a `geo` key) without reading
//! anything itself.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::bbox::BoundingBox;
use crate::crs::ParquetCrs;
use crate::error::Result;
use crate::geometry_type::GeometryTypeAndDimension;
use crate::metadata::{
    Edges, Encoding, GEO_METADATA_KEY, GeoParquetColumnMetadata, GeoParquetMetadata,
};
use crate::version::Version;

/// Parquet physical types (and `Group` for nested fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhysicalType {
    /// BOOLEAN.
    Boolean,
    /// INT32.
    Int32,
    /// INT64.
    Int64,
    /// INT96.
    Int96,
    /// FLOAT.
    Float,
    /// DOUBLE.
    Double,
    /// BYTE_ARRAY.
    ByteArray,
    /// FIXED_LEN_BYTE_ARRAY.
    FixedLenByteArray,
    /// A group (struct or list).
    Group,
}

impl PhysicalType {
    /// The Parquet spelling, e.g. `"BYTE_ARRAY"`, or `"group"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhysicalType::Boolean => "BOOLEAN",
            PhysicalType::Int32 => "INT32",
            PhysicalType::Int64 => "INT64",
            PhysicalType::Int96 => "INT96",
            PhysicalType::Float => "FLOAT",
            PhysicalType::Double => "DOUBLE",
            PhysicalType::ByteArray => "BYTE_ARRAY",
            PhysicalType::FixedLenByteArray => "FIXED_LEN_BYTE_ARRAY",
            PhysicalType::Group => "group",
        }
    }
}

/// Parquet field repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repetition {
    /// Exactly one value.
    Required,
    /// Zero or one value.
    Optional,
    /// Any number of values.
    Repeated,
}

/// The Parquet native geospatial logical types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NativeGeoType {
    /// `GEOMETRY(crs)`: planar edges.
    Geometry {
        /// The raw `crs` string, `None` when omitted.
        crs: Option<String>,
    },
    /// `GEOGRAPHY(crs, algorithm)`.
    Geography {
        /// The raw `crs` string, `None` when omitted.
        crs: Option<String>,
        /// The edge algorithm in upper case (`SPHERICAL` when omitted).
        algorithm: Option<String>,
    },
}

impl NativeGeoType {
    /// The raw crs string of the logical type.
    pub fn crs(&self) -> Option<&str> {
        match self {
            NativeGeoType::Geometry { crs } | NativeGeoType::Geography { crs, .. } => {
                crs.as_deref()
            }
        }
    }

    /// The parsed crs.
    pub fn parquet_crs(&self) -> ParquetCrs {
        ParquetCrs::parse(self.crs())
    }

    /// The edges this logical type implies: planar for GEOMETRY, the algorithm
    /// (spherical by default) for GEOGRAPHY.
    pub fn edges(&self) -> Edges {
        match self {
            NativeGeoType::Geometry { .. } => Edges::Planar,
            NativeGeoType::Geography { algorithm, .. } => algorithm
                .as_deref()
                .map_or(Edges::Spherical, |a| Edges::parse(&a.to_ascii_lowercase())),
        }
    }

    /// `"GEOMETRY"` or `"GEOGRAPHY"`.
    pub fn name(&self) -> &'static str {
        match self {
            NativeGeoType::Geometry { .. } => "GEOMETRY",
            NativeGeoType::Geography { .. } => "GEOGRAPHY",
        }
    }
}

/// Parquet `GeospatialStatistics` of a column, merged over row groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoStatsFacts {
    /// ISO WKB codes listed by any row group.
    pub types: BTreeSet<u32>,
    /// Whether every row group listed its types (so `types` is complete).
    pub types_complete: bool,
    /// Union of the usable row-group boxes (wraparound-aware).
    pub bbox: Option<BoundingBox>,
    /// Row groups whose box wraps the antimeridian.
    pub wrapping_row_groups: usize,
    /// Row groups merged so far.
    pub row_groups: usize,
}

impl GeoStatsFacts {
    /// Merges one row group's statistics (`None` = the row group has none).
    pub fn add_row_group(&mut self, types: Option<&[i32]>, bbox: Option<BoundingBox>) {
        if self.row_groups == 0 {
            self.types_complete = true;
        }
        self.row_groups += 1;
        match types {
            Some(t) if !t.is_empty() => {
                self.types
                    .extend(t.iter().filter_map(|c| u32::try_from(*c).ok()));
            }
            _ => self.types_complete = false,
        }
        if let Some(b) = bbox.filter(BoundingBox::is_usable) {
            if b.wraps() {
                self.wrapping_row_groups += 1;
            }
            self.bbox = Some(match self.bbox {
                Some(acc) => acc.union(&b),
                None => b,
            });
        }
    }

    /// The declared-style types (`"Point Z"`) of the codes seen; unknown codes skipped.
    pub fn geometry_types(&self) -> Vec<GeometryTypeAndDimension> {
        self.types
            .iter()
            .filter_map(|c| GeometryTypeAndDimension::from_wkb_code(*c))
            .collect()
    }
}

/// One field of the Parquet schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnFacts {
    /// Field name.
    pub name: String,
    /// Physical type, or `Group`.
    pub physical: PhysicalType,
    /// Repetition.
    pub repetition: Repetition,
    /// Whether the group carries the `LIST` annotation.
    pub is_list: bool,
    /// The native geospatial logical type, if any.
    pub native: Option<NativeGeoType>,
    /// Child fields of a group.
    pub children: Vec<ColumnFacts>,
    /// Geospatial statistics, for leaf columns that have them.
    pub geo_stats: Option<GeoStatsFacts>,
}

impl ColumnFacts {
    /// A leaf field.
    pub fn leaf(name: impl Into<String>, physical: PhysicalType, repetition: Repetition) -> Self {
        Self {
            name: name.into(),
            physical,
            repetition,
            is_list: false,
            native: None,
            children: Vec::new(),
            geo_stats: None,
        }
    }

    /// A child by name.
    pub fn child(&self, name: &str) -> Option<&ColumnFacts> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// What footer-reading problems a reader met before it had the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FooterProblem {
    /// A key/value value is not UTF-8, so the footer could not be decoded.
    InvalidUtf8(String),
}

/// A Parquet footer as GeoParquet sees it.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::file::{ColumnFacts, FileFacts, PhysicalType, Repetition};
///
/// let facts = FileFacts {
///     key_value: vec![("geo".into(), Some(r#"{"version":"1.1.0","primary_column":"geometry",
///         "columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#.into()))],
///     columns: vec![ColumnFacts::leaf("geometry", PhysicalType::ByteArray, Repetition::Optional)],
///     footer_problem: None,
/// };
/// let meta = facts.geo_metadata().unwrap()?;
/// assert_eq!(meta.primary_column, "geometry");
/// assert!(geoparquet_meta::validate::validate_file(&facts).is_valid());
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileFacts {
    /// The file's key/value metadata, in order (a `None` value is a key without value).
    pub key_value: Vec<(String, Option<String>)>,
    /// The root fields of the Parquet schema.
    pub columns: Vec<ColumnFacts>,
    /// A problem met while decoding the footer.
    pub footer_problem: Option<FooterProblem>,
}

impl FileFacts {
    /// The first value stored under `key`.
    pub fn key_value(&self, key: &str) -> Option<&str> {
        self.key_value
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    /// A root column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnFacts> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The root columns with a native geospatial logical type.
    pub fn native_columns(&self) -> impl Iterator<Item = &ColumnFacts> {
        self.columns.iter().filter(|c| c.native.is_some())
    }

    /// The parsed `geo` metadata: `None` without a `geo` key, `Some(Err)` when
    /// it does not parse.
    pub fn geo_metadata(&self) -> Option<Result<GeoParquetMetadata>> {
        let (_, value) = self.key_value.iter().find(|(k, _)| k == GEO_METADATA_KEY)?;
        Some(GeoParquetMetadata::from_json_str(
            value.as_deref().unwrap_or(""),
        ))
    }

    /// The file's GeoParquet metadata: the `geo` key when there is one, else
    /// [`synthesize_metadata`](Self::synthesize_metadata) from native
    /// GEOMETRY/GEOGRAPHY columns; `None` when neither exists, `Some(Err)` when
    /// the one found does not parse.
    ///
    /// ```
    /// use geoparquet_meta::file::FileFacts;
    ///
    /// let mut facts = FileFacts::default();
    /// assert!(facts.geoparquet_metadata().is_none());
    /// facts.key_value.push((
    ///     "geo".into(),
    ///     Some(r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":[]}}}"#.into()),
    /// ));
    /// let meta = facts.geoparquet_metadata().unwrap()?;
    /// assert_eq!(meta.primary_column, "geometry");
    /// # Ok::<(), geoparquet_meta::Error>(())
    /// ```
    pub fn geoparquet_metadata(&self) -> Option<Result<GeoParquetMetadata>> {
        self.geo_metadata().or_else(|| self.synthesize_metadata())
    }

    /// Metadata for a file with native GEOMETRY/GEOGRAPHY columns and no
    /// `geo` key (GeoParquet 2.0 readers accept such files): one column per
    /// annotated column; primary `geometry`, else `geography`, else the first;
    /// CRS and edges from the logical type (`projjson:KEY` resolved through
    /// the key/value metadata), types and bbox from the statistics. `None`
    /// when the file has no native geospatial column.
    pub fn synthesize_metadata(&self) -> Option<Result<GeoParquetMetadata>> {
        let natives: Vec<&ColumnFacts> = self.native_columns().collect();
        let first = natives.first()?;
        let primary = ["geometry", "geography"]
            .into_iter()
            .find(|n| natives.iter().any(|c| c.name == *n))
            .unwrap_or(&first.name)
            .to_owned();
        let mut columns = IndexMap::new();
        for c in &natives {
            let Some(native) = &c.native else { continue };
            let crs = match native
                .parquet_crs()
                .resolve(|k| self.key_value(k).map(str::to_owned))
            {
                Ok(crs) => crs,
                Err(e) => return Some(Err(e)),
            };
            let types = c
                .geo_stats
                .as_ref()
                .filter(|s| s.types_complete)
                .map(GeoStatsFacts::geometry_types)
                .unwrap_or_default();
            let mut col = GeoParquetColumnMetadata::new(Encoding::Wkb, types);
            col.crs = crs;
            let edges = native.edges();
            if edges.is_non_planar() {
                col.edges = Some(edges);
            }
            col.bbox = c.geo_stats.as_ref().and_then(|s| s.bbox);
            columns.insert(c.name.clone(), col);
        }
        let mut meta = GeoParquetMetadata::new(
            primary,
            GeoParquetColumnMetadata::new(Encoding::Wkb, vec![]),
        );
        meta.columns = columns;
        meta.version = Version::V2_0_0;
        Some(Ok(meta))
    }
}
