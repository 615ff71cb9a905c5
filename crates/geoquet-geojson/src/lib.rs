#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;

mod fast;
mod infer;
mod parallel;
mod read;
mod scan;
mod values;
mod write;

pub use error::{Error, Result};
pub use read::{GeoJsonReader, ReadOptions};
pub use write::{GeoJsonWriter, WriteOptions, write_batches};

/// How many rows [`GeoJsonReader`] puts in a batch unless told otherwise.
///
/// # Examples
///
/// ```
/// use geoquet_geojson::{DEFAULT_BATCH_SIZE, ReadOptions};
///
/// assert_eq!(ReadOptions::default().batch_size(), DEFAULT_BATCH_SIZE);
/// ```
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// The name of the WKB geometry column the reader makes (and the writer's default).
///
/// # Examples
///
/// ```
/// use geoquet_geojson::{GEOMETRY_COLUMN, WriteOptions};
///
/// assert_eq!(WriteOptions::default().geometry_column(), GEOMETRY_COLUMN);
/// ```
pub const GEOMETRY_COLUMN: &str = "geometry";

/// The column of Feature ids, when no property is called `id` too.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoquet_geojson::{GeoJsonReader, ID_COLUMN, ReadOptions};
///
/// let text = r#"{"type":"Feature","id":"a","properties":{"n":1},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert_eq!(reader.feature_id_column(), Some(ID_COLUMN));
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub const ID_COLUMN: &str = "id";

/// The column of Feature ids when a property is called `id` too; the writer
/// prefers it to [`ID_COLUMN`] as the source of Feature ids.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoquet_geojson::{FEATURE_ID_COLUMN, GeoJsonReader, ReadOptions};
///
/// let text = r#"{"type":"Feature","id":"a","properties":{"id":1},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert_eq!(reader.feature_id_column(), Some(FEATURE_ID_COLUMN));
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub const FEATURE_ID_COLUMN: &str = "__feature_id";

/// The column of a property called `geometry` (that name is the geometry column's).
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoquet_geojson::{GeoJsonReader, PROPERTY_GEOMETRY_COLUMN, ReadOptions};
///
/// let text = r#"{"type":"Feature","properties":{"geometry":"wkt?"},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert!(reader.schema().field_with_name(PROPERTY_GEOMETRY_COLUMN).is_ok());
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub const PROPERTY_GEOMETRY_COLUMN: &str = "__property_geometry";

/// The most property columns the reader makes: beyond this many distinct
/// property names, the properties after the first `MAX_PROPERTY_COLUMNS - 1`
/// (in order of first appearance) are folded into one JSON-text column,
/// [`FOLDED_PROPERTIES_COLUMN`].
///
/// Each column costs the Parquet writer tens of kilobytes of buffers and
/// encoder state whatever it holds (20,000 columns took 1.26 GB), and a batch
/// holds a value, if only a null, for every column of every row: the cap keeps
/// memory bounded by the input's size, not by the number of names it uses.
pub const MAX_PROPERTY_COLUMNS: usize = 1024;

/// The JSON-text column holding, per feature, an object of the properties
/// beyond [`MAX_PROPERTY_COLUMNS`] (null when the feature has none of them).
/// Its field carries the metadata [`FOLDED_PROPERTIES_KEY`] = `"true"` and
/// the canonical Arrow JSON extension name (`arrow.json`); the writer merges
/// it back into each feature's properties.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoquet_geojson::{
///     FOLDED_PROPERTIES_COLUMN, GeoJsonReader, MAX_PROPERTY_COLUMNS, ReadOptions,
/// };
///
/// let props: serde_json::Map<_, _> = (0..MAX_PROPERTY_COLUMNS + 5)
///     .map(|i| (format!("p{i}"), serde_json::Value::from(i)))
///     .collect();
/// let text = serde_json::json!({"type": "Feature", "properties": props, "geometry": null});
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text.to_string()), ReadOptions::default())?;
/// let schema = reader.schema();
/// // The kept properties, the folded column, the geometry.
/// assert_eq!(schema.fields().len(), MAX_PROPERTY_COLUMNS + 1);
/// assert!(schema.field_with_name(FOLDED_PROPERTIES_COLUMN).is_ok());
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub const FOLDED_PROPERTIES_COLUMN: &str = "properties";

/// The field metadata key that marks the column of folded properties
/// (see [`FOLDED_PROPERTIES_COLUMN`]).
pub const FOLDED_PROPERTIES_KEY: &str = "geoquet:folded_properties";

/// How many values (rows x columns) a batch of the careful path holds at
/// most: wide inputs get shorter batches.
pub(crate) const MAX_BATCH_CELLS: usize = 4 << 20;

/// Inputs with more property columns than this are read by the careful
/// path, whose batches are cut to [`MAX_BATCH_CELLS`] (the fast path's
/// chunks hold every column for every feature of a 4 MiB chunk).
pub(crate) const WIDE_COLUMNS: usize = 256;

/// How features are laid out in a GeoJSON file.
///
/// # Examples
///
/// ```
/// use geoquet_geojson::{GeoJsonFormat, WriteOptions};
///
/// assert_eq!(GeoJsonFormat::default(), GeoJsonFormat::FeatureCollection);
/// let options = WriteOptions::default().with_format(GeoJsonFormat::NewlineDelimited);
/// assert_eq!(options.format(), GeoJsonFormat::NewlineDelimited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum GeoJsonFormat {
    /// One `{"type": "FeatureCollection", "features": [...]}` object.
    #[default]
    FeatureCollection,
    /// Newline-delimited GeoJSON (GeoJSONSeq, NDJSON): one Feature (or, when
    /// reading, one geometry) per line. When reading, any sequence of values
    /// separated by white space, such as a single Feature, is accepted.
    NewlineDelimited,
    /// A JSON array of Features, `[{...}, {...}]` (not standard GeoJSON).
    FeatureArray,
}
