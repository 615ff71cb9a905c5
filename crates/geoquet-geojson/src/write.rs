//! Record batches with a WKB geometry column to GeoJSON.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use serde_json::{Map, Value};

use super::values::{check_supported, json_value};
use super::{FEATURE_ID_COLUMN, GEOMETRY_COLUMN, GeoJsonFormat, ID_COLUMN};
use crate::{Error, Result};
use geoparquet_meta::geometry::{WkbToGeoJsonOptions, wkb_to_geojson};

/// What the writer calls its output in I/O errors.
const OUTPUT_NAME: &str = "<GeoJSON output>";

/// Which column becomes the Feature `"id"`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdColumn {
    /// [`FEATURE_ID_COLUMN`] if there is one, else [`ID_COLUMN`] if it has a
    /// string or number type, else none.
    Auto,
    Named(String),
    None,
}

/// Options of [`GeoJsonWriter`] and [`write_batches`].
///
/// # Examples
///
/// ```
/// use geoquet_geojson::{GeoJsonFormat, WriteOptions};
///
/// let options = WriteOptions::default()
///     .with_format(GeoJsonFormat::NewlineDelimited)
///     .with_geometry_column("geom");
/// assert_eq!(options.format(), GeoJsonFormat::NewlineDelimited);
/// assert_eq!(options.geometry_column(), "geom");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteOptions {
    format: GeoJsonFormat,
    geometry_column: String,
    id_column: IdColumn,
    null_properties: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            format: GeoJsonFormat::FeatureCollection,
            geometry_column: GEOMETRY_COLUMN.to_owned(),
            id_column: IdColumn::Auto,
            null_properties: true,
        }
    }
}

impl WriteOptions {
    /// The same options writing `format` (default: a FeatureCollection).
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::{GeoJsonFormat, WriteOptions};
    ///
    /// let options = WriteOptions::default().with_format(GeoJsonFormat::NewlineDelimited);
    /// assert_eq!(options.format(), GeoJsonFormat::NewlineDelimited);
    /// ```
    pub fn with_format(mut self, format: GeoJsonFormat) -> Self {
        self.format = format;
        self
    }

    /// The same options reading geometries from the column `name` (default
    /// [`GEOMETRY_COLUMN`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::WriteOptions;
    ///
    /// assert_eq!(WriteOptions::default().with_geometry_column("geom").geometry_column(), "geom");
    /// ```
    pub fn with_geometry_column(mut self, name: impl Into<String>) -> Self {
        self.geometry_column = name.into();
        self
    }

    /// The same options taking the Feature `"id"` from the column `name`,
    /// which must exist and hold strings or numbers.
    ///
    /// Without this, the id comes from [`FEATURE_ID_COLUMN`] if the schema has
    /// it, else from [`ID_COLUMN`] if that holds strings or numbers.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch};
    /// use geoquet_geojson::{GeoJsonFormat, WriteOptions, write_batches};
    ///
    /// let batch = RecordBatch::try_from_iter([
    ///     ("fid", Arc::new(Int64Array::from(vec![42])) as ArrayRef),
    ///     ("geometry", Arc::new(BinaryArray::from(vec![None::<&[u8]>])) as ArrayRef),
    /// ])?;
    /// let options = WriteOptions::default()
    ///     .with_id_column("fid")
    ///     .with_format(GeoJsonFormat::NewlineDelimited);
    /// let out = write_batches(Vec::new(), batch.schema(), [Ok::<_, geoquet_geojson::Error>(batch)], options)?;
    /// assert_eq!(out, b"{\"type\":\"Feature\",\"id\":42,\"geometry\":null,\"properties\":{}}\n");
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn with_id_column(mut self, name: impl Into<String>) -> Self {
        self.id_column = IdColumn::Named(name.into());
        self
    }

    /// The same options writing no Feature `"id"`: every column but the
    /// geometry becomes a property.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_array::{ArrayRef, BinaryArray, RecordBatch, StringArray};
    /// use geoquet_geojson::{GeoJsonFormat, WriteOptions, write_batches};
    ///
    /// let batch = RecordBatch::try_from_iter([
    ///     ("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
    ///     ("geometry", Arc::new(BinaryArray::from(vec![None::<&[u8]>])) as ArrayRef),
    /// ])?;
    /// let options = WriteOptions::default()
    ///     .without_id_column()
    ///     .with_format(GeoJsonFormat::NewlineDelimited);
    /// let out = write_batches(Vec::new(), batch.schema(), [Ok::<_, geoquet_geojson::Error>(batch)], options)?;
    /// assert_eq!(out, b"{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"id\":\"a\"}}\n");
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn without_id_column(mut self) -> Self {
        self.id_column = IdColumn::None;
        self
    }

    /// The same options leaving out properties whose value is null (by
    /// default they are written as `null`). Worth it for sparse schemas, such
    /// as those inferred from heterogeneous GeoJSON, where most columns are
    /// null in most rows. Only top-level properties are left out; null
    /// members of nested objects stay.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch};
    /// use geoquet_geojson::{GeoJsonFormat, WriteOptions, write_batches};
    ///
    /// let batch = RecordBatch::try_from_iter([
    ///     ("a", Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef),
    ///     ("geometry", Arc::new(BinaryArray::from(vec![None::<&[u8]>, None])) as ArrayRef),
    /// ])?;
    /// let options = WriteOptions::default()
    ///     .without_null_properties()
    ///     .with_format(GeoJsonFormat::NewlineDelimited);
    /// let out = write_batches(Vec::new(), batch.schema(), [Ok::<_, geoquet_geojson::Error>(batch)], options)?;
    /// assert_eq!(
    ///     String::from_utf8(out).unwrap(),
    ///     "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"a\":1}}\n\
    ///      {\"type\":\"Feature\",\"geometry\":null,\"properties\":{}}\n"
    /// );
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn without_null_properties(mut self) -> Self {
        self.null_properties = false;
        self
    }

    /// The output format.
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::{GeoJsonFormat, WriteOptions};
    ///
    /// assert_eq!(WriteOptions::default().format(), GeoJsonFormat::FeatureCollection);
    /// ```
    pub fn format(&self) -> GeoJsonFormat {
        self.format
    }

    /// The name of the geometry column.
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::WriteOptions;
    ///
    /// assert_eq!(WriteOptions::default().geometry_column(), "geometry");
    /// ```
    pub fn geometry_column(&self) -> &str {
        &self.geometry_column
    }
}

fn io_error(source: std::io::Error) -> Error {
    Error::Io {
        path: PathBuf::from(OUTPUT_NAME),
        source,
    }
}

fn is_id_type(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => true,
        DataType::Dictionary(_, value) => is_id_type(value),
        _ => false,
    }
}

/// The WKB bytes of one row of a binary column (`None` for null).
fn wkb_at(array: &dyn Array, row: usize) -> Option<&[u8]> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Binary => array.as_binary_opt::<i32>().map(|a| a.value(row)),
        DataType::LargeBinary => array.as_binary_opt::<i64>().map(|a| a.value(row)),
        DataType::BinaryView => array.as_binary_view_opt().map(|a| a.value(row)),
        _ => None,
    }
}

fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

/// Streams record batches out as GeoJSON Features, one batch at a time.
///
/// Every column except the geometry (and the id, see
/// [`WriteOptions::with_id_column`]) becomes a property; see the
/// [module documentation](super) for how Arrow types map to JSON. Call
/// [`GeoJsonWriter::finish`] at the end: it closes the FeatureCollection and
/// flushes. The output is buffered internally.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use arrow_array::{BinaryArray, Int64Array, RecordBatch};
/// use arrow_schema::{DataType, Field, Schema};
/// use geoquet_geojson::{GeoJsonWriter, WriteOptions};
///
/// // POINT (1 2) as ISO WKB.
/// let mut point = vec![1, 1, 0, 0, 0];
/// point.extend_from_slice(&1.0_f64.to_le_bytes());
/// point.extend_from_slice(&2.0_f64.to_le_bytes());
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("n", DataType::Int64, true),
///     Field::new("geometry", DataType::Binary, true),
/// ]));
/// let batch = RecordBatch::try_new(
///     schema.clone(),
///     vec![
///         Arc::new(Int64Array::from(vec![7])),
///         Arc::new(BinaryArray::from(vec![Some(point.as_slice())])),
///     ],
/// )?;
///
/// let mut writer = GeoJsonWriter::try_new(Vec::new(), schema, WriteOptions::default())?;
/// writer.write(&batch)?;
/// let text = String::from_utf8(writer.finish()?).unwrap();
/// assert_eq!(
///     text,
///     "{\"type\":\"FeatureCollection\",\"features\":[\n\
///      {\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1.0,2.0]},\"properties\":{\"n\":7}}\n\
///      ]}\n"
/// );
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub struct GeoJsonWriter<W: Write> {
    out: BufWriter<W>,
    schema: SchemaRef,
    format: GeoJsonFormat,
    geometry_column: String,
    geometry_index: usize,
    id_index: Option<usize>,
    property_indices: Vec<usize>,
    /// The column of folded properties (see [`super::FOLDED_PROPERTIES_COLUMN`]).
    folded_index: Option<usize>,
    null_properties: bool,
    rows: u64,
}

impl<W: Write> std::fmt::Debug for GeoJsonWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoJsonWriter")
            .field("format", &self.format)
            .field("geometry_column", &self.geometry_column)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write> GeoJsonWriter<W> {
    /// A writer of batches with this schema. Fails with
    /// [`Error::NoGeometryColumn`] or [`Error::GeometryNotWkb`] when the geometry
    /// column is missing or not `Binary`, `LargeBinary` or `BinaryView`, with
    /// [`Error::NoIdColumn`] when a named id column is missing or not a string or
    /// number, and with [`Error::UnsupportedType`] when a column has a type with no
    /// JSON mapping. For a FeatureCollection, the opening text is written now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_schema::{DataType, Field, Schema};
    /// use geoquet_geojson::{GeoJsonWriter, WriteOptions};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("geometry", DataType::Binary, true)]));
    /// let writer = GeoJsonWriter::try_new(Vec::new(), schema.clone(), WriteOptions::default())?;
    /// assert_eq!(writer.finish()?, b"{\"type\":\"FeatureCollection\",\"features\":[]}\n");
    ///
    /// let wrong = WriteOptions::default().with_geometry_column("geom");
    /// assert!(GeoJsonWriter::try_new(Vec::new(), schema, wrong).is_err());
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn try_new(writer: W, schema: SchemaRef, options: WriteOptions) -> Result<Self> {
        let WriteOptions {
            format,
            geometry_column,
            id_column,
            null_properties,
        } = options;
        let geometry_index =
            schema
                .index_of(&geometry_column)
                .map_err(|_| Error::NoGeometryColumn {
                    column: geometry_column.clone(),
                })?;
        let geometry_type = schema
            .fields()
            .get(geometry_index)
            .map(|f| f.data_type().clone());
        if !matches!(
            geometry_type,
            Some(DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
        ) {
            return Err(Error::GeometryNotWkb {
                column: geometry_column,
                data_type: geometry_type,
            });
        }
        let usable_id = |name: &str| {
            schema
                .index_of(name)
                .ok()
                .filter(|&i| i != geometry_index)
                .filter(|&i| {
                    schema
                        .fields()
                        .get(i)
                        .is_some_and(|f| is_id_type(f.data_type()))
                })
        };
        let id_index = match &id_column {
            IdColumn::None => None,
            IdColumn::Auto => usable_id(FEATURE_ID_COLUMN).or_else(|| usable_id(ID_COLUMN)),
            IdColumn::Named(name) => Some(usable_id(name).ok_or_else(|| Error::NoIdColumn {
                column: name.clone(),
            })?),
        };
        let mut property_indices = Vec::new();
        let folded_index = schema.fields().iter().position(|f| {
            f.data_type() == &DataType::Utf8
                && f.metadata()
                    .get(super::FOLDED_PROPERTIES_KEY)
                    .map(String::as_str)
                    == Some("true")
        });
        for (i, field) in schema.fields().iter().enumerate() {
            if i == geometry_index || Some(i) == id_index || Some(i) == folded_index {
                continue;
            }
            check_supported(field.data_type()).map_err(|data_type| Error::UnsupportedType {
                column: field.name().clone(),
                data_type,
            })?;
            property_indices.push(i);
        }
        let mut out = BufWriter::new(writer);
        let opening: &[u8] = match format {
            GeoJsonFormat::FeatureCollection => b"{\"type\":\"FeatureCollection\",\"features\":[",
            GeoJsonFormat::FeatureArray => b"[",
            GeoJsonFormat::NewlineDelimited => b"",
        };
        out.write_all(opening).map_err(io_error)?;
        Ok(Self {
            out,
            schema,
            format,
            geometry_column,
            geometry_index,
            id_index,
            property_indices,
            folded_index,
            null_properties,
            rows: 0,
        })
    }

    /// Writes every row of `batch` as a Feature. The batch must have the
    /// writer's columns (names and types). A geometry that is not valid WKB
    /// gives [`Error::InvalidWkb`] with the row counted from the first batch.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_array::{BinaryArray, RecordBatch, StringArray};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use geoquet_geojson::{GeoJsonFormat, GeoJsonWriter, WriteOptions};
    ///
    /// let schema = Arc::new(Schema::new(vec![
    ///     Field::new("id", DataType::Utf8, true),
    ///     Field::new("geometry", DataType::Binary, true),
    /// ]));
    /// let batch = RecordBatch::try_new(
    ///     schema.clone(),
    ///     vec![
    ///         Arc::new(StringArray::from(vec!["a"])),
    ///         Arc::new(BinaryArray::from(vec![None::<&[u8]>])),
    ///     ],
    /// )?;
    /// let options = WriteOptions::default().with_format(GeoJsonFormat::NewlineDelimited);
    /// let mut writer = GeoJsonWriter::try_new(Vec::new(), schema, options)?;
    /// writer.write(&batch)?;
    /// assert_eq!(
    ///     writer.finish()?,
    ///     b"{\"type\":\"Feature\",\"id\":\"a\",\"geometry\":null,\"properties\":{}}\n"
    /// );
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if !same_columns(&batch.schema(), &self.schema) {
            return Err(Error::SchemaMismatch);
        }
        let columns = batch.columns();
        let geometry = columns
            .get(self.geometry_index)
            .ok_or(Error::SchemaMismatch)?;
        let fields = self.schema.fields();
        for row in 0..batch.num_rows() {
            let global_row = self.rows;
            let mut feature = Map::new();
            feature.insert("type".to_owned(), Value::from("Feature"));
            if let Some(array) = self.id_index.and_then(|i| columns.get(i)) {
                let id = json_value(array.as_ref(), row).map_err(|message| Error::Value {
                    column: None,
                    row: global_row,
                    message,
                })?;
                if !id.is_null() {
                    feature.insert("id".to_owned(), id);
                }
            }
            let geometry = match wkb_at(geometry.as_ref(), row) {
                None => Value::Null,
                Some(bytes) => {
                    wkb_to_geojson(bytes, WkbToGeoJsonOptions::default()).map_err(|e| {
                        Error::InvalidWkb {
                            column: self.geometry_column.clone(),
                            row: global_row,
                            source: e,
                        }
                    })?
                }
            };
            feature.insert("geometry".to_owned(), geometry);
            let mut properties = Map::new();
            for &i in &self.property_indices {
                let (Some(field), Some(array)) = (fields.get(i), columns.get(i)) else {
                    continue;
                };
                let value = json_value(array.as_ref(), row).map_err(|message| Error::Value {
                    column: Some(field.name().clone()),
                    row: global_row,
                    message,
                })?;
                if self.null_properties || !value.is_null() {
                    properties.insert(field.name().clone(), value);
                }
            }
            if let Some(array) = self.folded_index.and_then(|i| columns.get(i)) {
                // Folded properties go back among the others (a column of the
                // same name wins); text that is not an object stays as it is.
                let value = json_value(array.as_ref(), row).map_err(|message| Error::Value {
                    column: None,
                    row: global_row,
                    message,
                })?;
                let parsed = value
                    .as_str()
                    .and_then(|t| serde_json::from_str::<Map<String, Value>>(t).ok());
                match (parsed, self.folded_index.and_then(|i| fields.get(i))) {
                    (Some(members), _) => {
                        for (name, v) in members {
                            if self.null_properties || !v.is_null() {
                                properties.entry(name).or_insert(v);
                            }
                        }
                    }
                    (None, Some(field)) if !value.is_null() => {
                        properties.insert(field.name().clone(), value);
                    }
                    _ => {}
                }
            }
            feature.insert("properties".to_owned(), Value::Object(properties));

            let separator: &[u8] = match (self.format, self.rows) {
                (GeoJsonFormat::NewlineDelimited, _) => b"",
                (_, 0) => b"\n",
                _ => b",\n",
            };
            self.out.write_all(separator).map_err(io_error)?;
            serde_json::to_writer(&mut self.out, &feature)
                .map_err(|e| io_error(std::io::Error::from(e)))?;
            if self.format == GeoJsonFormat::NewlineDelimited {
                self.out.write_all(b"\n").map_err(io_error)?;
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// Ends the output (closing the FeatureCollection or array), flushes, and
    /// returns the inner writer. Dropping the writer without calling this
    /// leaves a FeatureCollection unclosed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use arrow_schema::{DataType, Field, Schema};
    /// use geoquet_geojson::{GeoJsonFormat, GeoJsonWriter, WriteOptions};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("geometry", DataType::Binary, true)]));
    /// let options = WriteOptions::default().with_format(GeoJsonFormat::FeatureArray);
    /// let writer = GeoJsonWriter::try_new(Vec::new(), schema, options)?;
    /// assert_eq!(writer.finish()?, b"[]\n");
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn finish(mut self) -> Result<W> {
        let newline: &[u8] = if self.rows > 0 { b"\n" } else { b"" };
        let closing: &[u8] = match self.format {
            GeoJsonFormat::FeatureCollection => b"]}\n",
            GeoJsonFormat::FeatureArray => b"]\n",
            GeoJsonFormat::NewlineDelimited => b"",
        };
        if self.format != GeoJsonFormat::NewlineDelimited {
            self.out.write_all(newline).map_err(io_error)?;
        }
        self.out.write_all(closing).map_err(io_error)?;
        self.out.flush().map_err(io_error)?;
        self.out.into_inner().map_err(|e| io_error(e.into_error()))
    }
}

/// Writes all `batches` (for example a [`GeoJsonReader`](super::GeoJsonReader)
/// or an arrow-rs Parquet reader) to `writer` as GeoJSON, and returns the
/// writer. See [`GeoJsonWriter`].
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use geoquet_geojson::{GeoJsonFormat, GeoJsonReader, ReadOptions, WriteOptions, write_batches};
///
/// let input = r#"{"type":"Feature","id":1,"properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[1.5,2.0,3.0]}}"#;
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(input), ReadOptions::default())?;
/// let schema = reader.schema();
/// let options = WriteOptions::default().with_format(GeoJsonFormat::NewlineDelimited);
/// let out = write_batches(Vec::new(), schema, reader, options)?;
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"type\":\"Feature\",\"id\":1,\"geometry\":{\"type\":\"Point\",\"coordinates\":[1.5,2.0,3.0]},\"properties\":{\"name\":\"a\"}}\n"
/// );
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub fn write_batches<W, I, E>(
    writer: W,
    schema: SchemaRef,
    batches: I,
    options: WriteOptions,
) -> Result<W>
where
    W: Write,
    I: IntoIterator<Item = std::result::Result<RecordBatch, E>>,
    Error: From<E>,
{
    let mut w = GeoJsonWriter::try_new(writer, schema, options)?;
    for batch in batches {
        w.write(&batch?)?;
    }
    w.finish()
}
