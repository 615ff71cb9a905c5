//! GeoJSON FeatureCollection and newline-delimited GeoJSON to and from Arrow record batches.
//!
//! The Arrow side is a record batch whose geometry column, [`GEOMETRY_COLUMN`],
//! holds ISO WKB in a plain `Binary` column; the other columns are the
//! Feature properties (and the Feature id). Both directions stream: memory
//! depends on the batch size and the largest single feature, never on the
//! size of the input. A batch holds at most
//! [`ReadOptions::with_batch_size`] rows ([`DEFAULT_BATCH_SIZE`] by default)
//! and ends early once its features add up to 128 MiB of GeoJSON text.
//!
//! - [`GeoJsonReader`] reads a file or any [`std::io::Read`] into batches.
//! - [`GeoJsonWriter`] (or [`write_batches`]) writes batches out as GeoJSON.
//!
//! # Examples
//!
//! ```
//! use std::io::Cursor;
//!
//! use geoparquet_io::geojson::{GeoJsonReader, ReadOptions, WriteOptions, write_batches};
//!
//! let input = r#"{"type": "FeatureCollection", "features": [
//!   {"type": "Feature", "id": 1, "properties": {"name": "a"},
//!    "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}},
//!   {"type": "Feature", "id": 2, "properties": {"name": "b", "height": 3.5},
//!    "geometry": null}
//! ]}"#;
//! let reader = GeoJsonReader::try_from_reader(Cursor::new(input), ReadOptions::default())?;
//! let schema = reader.schema();
//! let output = write_batches(Vec::new(), schema, reader, WriteOptions::default())?;
//! let output: serde_json::Value = serde_json::from_slice(&output).unwrap();
//! assert_eq!(output["features"][1]["properties"]["height"], 3.5);
//! assert_eq!(output["features"][0]["properties"]["height"], serde_json::Value::Null);
//! # Ok::<(), geoparquet_io::Error>(())
//! ```
//!
//! # Input formats
//!
//! The reader looks at the start of the input to tell the layouts apart
//! ([`GeoJsonFormat`]):
//!
//! - a FeatureCollection object: its `"features"` array is streamed one
//!   Feature at a time; other members (`"crs"`, `"bbox"`, `"name"`, ...) are
//!   skipped without being kept;
//! - newline-delimited GeoJSON: one value after another, each a Feature or a
//!   bare geometry (which becomes a row with no id and no properties). Values
//!   may also span lines, so a single pretty-printed Feature or an RFC 8142
//!   GeoJSON text sequence reads too;
//! - a JSON array of Features (as some tools write).
//!
//! A UTF-8 byte order mark is skipped. Foreign members of Features (anything
//! but `"type"`, `"id"`, `"properties"` and `"geometry"`) are ignored.
//!
//! Errors in the input are [`Error::GeoJson`](crate::Error::GeoJson) with the
//! feature number: the 1-based position in the `"features"` array or array of
//! Features, or, for newline-delimited input, the 1-based line on which the
//! Feature starts (so with one Feature per line, the line number).
//!
//! # Schema inference
//!
//! The property schema is inferred from **all** features, never from the
//! first few: no batch is given before the whole input was read (a
//! non-seekable input is first copied to an anonymous temporary file; see
//! [`GeoJsonReader`] for how the columns wait in another one). Properties become columns in the order
//! they first appear. A property missing from a feature, or a feature with
//! `"properties": null`, gives nulls. All columns are nullable.
//!
//! | Values seen for a property (nulls aside) | Arrow type |
//! |---|---|
//! | only `null` | `Utf8`, all null |
//! | integers that fit `i64` | `Int64` |
//! | numbers with a fraction or exponent, beyond `i64`, or mixed with integers | `Float64` |
//! | booleans | `Boolean` |
//! | strings | `Utf8` |
//! | objects | `Struct`, members unified across features the same way, recursively, in order of first appearance |
//! | arrays whose elements unify to one type | `List` of that type (empty arrays only: `List<Utf8>`) |
//! | anything else: types that conflict across features (a string here, a number there; object vs array; boolean vs number), arrays with elements of conflicting types, and `{}` objects with never any member | `Utf8` holding the compact JSON text of each value |
//!
//! In a JSON-text column every non-null value is JSON text, strings included:
//! the string `a` is stored as `"a"` (with the quotes) and the number 12 as
//! `12`, so each value can be parsed back exactly. Conflicts inside a nested
//! object only turn that member into JSON text, not the whole object.
//!
//! At most [`MAX_PROPERTY_COLUMNS`] property columns are made: past that
//! many distinct names, the later properties are folded into one JSON-text
//! column ([`FOLDED_PROPERTIES_COLUMN`]) that [`GeoJsonWriter`] merges back.
//! Inputs with many names are read one feature at a time, in batches cut so
//! that rows times columns stay within a few million values: memory follows
//! the input, not the number of names it uses.
//!
//! The Feature `"id"` becomes the first column: `Int64` when every id is an
//! integer, `Float64` when ids are numbers and some are not integers, else
//! `Utf8` (numbers written as their JSON text, e.g. `12`). The column is
//! called [`ID_COLUMN`], or [`FEATURE_ID_COLUMN`] when a property is also
//! called `id`; there is no id column when no feature has one. A property
//! called `geometry` becomes the column [`PROPERTY_GEOMETRY_COLUMN`]. Should
//! one of these names be taken too, `_2`, `_3`, ... is appended.
//!
//! # Geometries
//!
//! Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon and
//! GeometryCollection are written as little-endian ISO WKB. A geometry is
//! XYZ (codes 1001 to 1007) when any of its positions has three numbers; a
//! 2D position inside such a geometry gets Z = 0, and numbers after the third
//! are ignored. `"coordinates": []` of a Point is the empty point (NaN
//! coordinates). A null or missing geometry is a null value. An unknown type,
//! a wrong nesting of coordinate arrays, a position with fewer than two numbers
//! or a non-numeric coordinate is an error naming the feature. Ring closure
//! and orientation are not checked.
//!
//! Numbers are read correctly rounded, so coordinates written with full
//! precision read back as the same `f64` (float tokens are re-parsed with the
//! standard library, since `serde_json` without its `float_roundtrip` feature
//! gets about one 17-digit decimal in eight one bit wrong).
//!
//! # Output
//!
//! [`GeoJsonWriter`] writes a FeatureCollection (one Feature per line inside
//! it), newline-delimited GeoJSON or a JSON array of Features. Each Feature is
//! `{"type", "id", "geometry", "properties"}`, with `"id"` left out when there
//! is no id column or its value is null.
//!
//! The geometry column may be `Binary`, `LargeBinary` or `BinaryView` holding
//! ISO WKB or extended (EWKB) WKB in either byte order; Z is written as the
//! third coordinate, M is dropped, and an empty point is written as
//! `"coordinates": []`. A value that is not valid WKB gives
//! [`Error::InvalidWkb`](crate::Error::InvalidWkb) with the column and the
//! row (counted over all batches).
//!
//! The id is taken from the column [`FEATURE_ID_COLUMN`] if the schema has one,
//! else [`ID_COLUMN`] if it holds strings or numbers (see
//! [`WriteOptions::with_id_column`]). Every other column is a property
//! (nulls written as `null`, or left out with
//! [`WriteOptions::without_null_properties`]):
//!
//! | Arrow type | JSON |
//! |---|---|
//! | `Int*`, `UInt*`, `Float*` | number; NaN and infinities as `null`; `Float32` and `Float16` with their shortest decimal form |
//! | `Boolean` | `true` / `false` |
//! | `Utf8`, `LargeUtf8`, `Utf8View` | string |
//! | `Binary`, `LargeBinary`, `BinaryView`, `FixedSizeBinary` | lowercase hexadecimal string |
//! | `Date32`, `Date64` | `"2024-05-01"` |
//! | `Timestamp` | ISO 8601, e.g. `"2024-05-01T12:00:00.250Z"`: with `Z` (in UTC) when the column has any time zone, without a zone otherwise; fraction digits per the unit, left out when zero |
//! | `Time32`, `Time64` | `"12:00:00.250"` |
//! | `Decimal*` | string with every digit, e.g. `"12.30"` |
//! | `Struct`, `Map` | object (map keys that are not strings written as their JSON text) |
//! | `List`, `LargeList`, `FixedSizeList` | array |
//! | `Dictionary` | the value it points to |
//! | `Null` | `null` |
//!
//! Other types (`Duration`, `Interval`, `Union`, run-end encoded, list views)
//! are rejected by [`GeoJsonWriter::try_new`] with
//! [`Error::InvalidInput`](crate::Error::InvalidInput): cast them first.
//! Floats are written with `serde_json`, in the shortest form that reads
//! back as the same `f64`.

mod fast;
mod infer;
mod parallel;
mod read;
mod scan;
mod values;
mod write;

pub use read::{GeoJsonReader, ReadOptions};
pub use write::{GeoJsonWriter, WriteOptions, write_batches};

/// How many rows [`GeoJsonReader`] puts in a batch unless told otherwise.
///
/// # Examples
///
/// ```
/// use geoparquet_io::geojson::{DEFAULT_BATCH_SIZE, ReadOptions};
///
/// assert_eq!(ReadOptions::default().batch_size(), DEFAULT_BATCH_SIZE);
/// ```
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// The name of the WKB geometry column the reader makes (and the writer's default).
///
/// # Examples
///
/// ```
/// use geoparquet_io::geojson::{GEOMETRY_COLUMN, WriteOptions};
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
/// use geoparquet_io::geojson::{GeoJsonReader, ID_COLUMN, ReadOptions};
///
/// let text = r#"{"type":"Feature","id":"a","properties":{"n":1},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert_eq!(reader.feature_id_column(), Some(ID_COLUMN));
/// # Ok::<(), geoparquet_io::Error>(())
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
/// use geoparquet_io::geojson::{FEATURE_ID_COLUMN, GeoJsonReader, ReadOptions};
///
/// let text = r#"{"type":"Feature","id":"a","properties":{"id":1},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert_eq!(reader.feature_id_column(), Some(FEATURE_ID_COLUMN));
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub const FEATURE_ID_COLUMN: &str = "__feature_id";

/// The column of a property called `geometry` (that name is the geometry column's).
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoparquet_io::geojson::{GeoJsonReader, PROPERTY_GEOMETRY_COLUMN, ReadOptions};
///
/// let text = r#"{"type":"Feature","properties":{"geometry":"wkt?"},"geometry":null}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
/// assert!(reader.schema().field_with_name(PROPERTY_GEOMETRY_COLUMN).is_ok());
/// # Ok::<(), geoparquet_io::Error>(())
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
/// use geoparquet_io::geojson::{
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
/// # Ok::<(), geoparquet_io::Error>(())
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
/// use geoparquet_io::geojson::{GeoJsonFormat, WriteOptions};
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
