//! Building the file: records are buffered into columns and written one row
//! group at a time (SlideRule's 64 MiB record budget), as GeoParquet, Parquet,
//! Feather or CSV, with the footer keys SlideRule writes.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::{ArrayRef, Float64Array, ListArray, RecordBatch, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use geoparquet_io::meta::{
    BoundingBox, Covering, CoveringBbox, Dimension, Encoding, GeoParquetColumnMetadata,
    GeoParquetMetadata, GeometryType, GeometryTypeAndDimension, Version,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use crate::columns::{Col, FieldType, wkb_points};
use crate::error::{Error, Result};
use crate::metadata::{
    self, Compat, GEO_KEY, GEO_SLIDERULE, PANDAS_KEY, PandasColumn, RECORDINFO_KEY, SLIDERULE_KEY,
    ServerInfo,
};
use crate::output::{Format, OutputParams};
use crate::records::{ColumnBuffer, Record, RecordKind};
use crate::sort::{SORT_CHUNK_ROWS, SortBy, keys};
use geoparquet_io::sort::{DEFAULT_SORT_MEMORY, ExternalSorter};

/// How to build the file.
///
/// ```
/// use sliderule_export::{Compat, ExportOptions, Format};
/// use sliderule_export::sort::SortBy;
///
/// let options = ExportOptions::default()
///     .with_format(Format::Parquet)
///     .with_compat(Compat::SlideRule4_20)
///     .with_sort(Some(SortBy::Time));
/// assert_eq!(options.sort, Some(SortBy::Time));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExportOptions {
    /// The format (GeoParquet exactly when `format` is [`Format::GeoParquet`]);
    /// default GeoParquet.
    pub format: Format,
    /// Which metadata shape to write; default [`Compat::Improved`].
    pub compat: Compat,
    /// Add a GeoParquet 1.1 covering column `bbox` (GeoParquet, not in compat
    /// mode); default false.
    pub covering: bool,
    /// ATL03 only: one row per extent with the photons as a list of structs
    /// (instead of one row per photon); default false.
    pub compact_atl03: bool,
    /// Producer identity for the `sliderule` key; default this crate's.
    pub server: ServerInfo,
    /// The request parameters to echo (raw JSON; credentials are removed).
    /// `None` (the default): `{"output": <the output parameters>}`.
    pub request: Option<String>,
    /// The output parameters, echoed when `request` is `None`; default none.
    pub output: Option<OutputParams>,
    /// Rows per row group; `None` (the default): SlideRule's budget for the record kind.
    pub max_rows_in_group: Option<usize>,
    /// Sort the rows (by time or along a Hilbert curve) with bounded memory
    /// (`geoparquet_io::sort::ExternalSorter`: sorted runs are spilled to
    /// temporary files and merged at the end). `None` (the default): arrival
    /// order, as SlideRule writes.
    pub sort: Option<SortBy>,
    /// Memory cap in bytes of a sort's rows (`geoparquet_io::sort::SortOptions::memory`
    /// says how it is shared); default [`DEFAULT_SORT_MEMORY`] (256 MiB).
    pub sort_memory: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            format: Format::GeoParquet,
            compat: Compat::Improved,
            covering: false,
            compact_atl03: false,
            server: ServerInfo::default(),
            request: None,
            output: None,
            max_rows_in_group: None,
            sort: None,
            sort_memory: DEFAULT_SORT_MEMORY,
        }
    }
}

impl ExportOptions {
    /// Options following parsed `output` parameters.
    #[must_use]
    pub fn from_output(params: &OutputParams) -> Self {
        Self {
            format: params.format,
            output: Some(params.clone()),
            ..Self::default()
        }
    }

    /// The same options in another format.
    #[must_use]
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The same options in another compatibility mode.
    #[must_use]
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }

    /// The same options with (or without) a covering column.
    #[must_use]
    pub fn with_covering(mut self, covering: bool) -> Self {
        self.covering = covering;
        self
    }

    /// The same options with (or without) the compact ATL03 layout.
    #[must_use]
    pub fn with_compact_atl03(mut self, compact_atl03: bool) -> Self {
        self.compact_atl03 = compact_atl03;
        self
    }

    /// The same options with another producer identity.
    #[must_use]
    pub fn with_server(mut self, server: ServerInfo) -> Self {
        self.server = server;
        self
    }

    /// The same options with the request to echo.
    #[must_use]
    pub fn with_request(mut self, raw_json: impl Into<String>) -> Self {
        self.request = Some(raw_json.into());
        self
    }

    /// The same options with other output parameters to echo.
    #[must_use]
    pub fn with_output(mut self, output: Option<OutputParams>) -> Self {
        self.output = output;
        self
    }

    /// The same options with another row-group size (`None`: SlideRule's budget).
    #[must_use]
    pub fn with_max_rows_in_group(mut self, max_rows_in_group: Option<usize>) -> Self {
        self.max_rows_in_group = max_rows_in_group;
        self
    }

    /// The same options with another order (`None`: arrival order).
    #[must_use]
    pub fn with_sort(mut self, sort: Option<SortBy>) -> Self {
        self.sort = sort;
        self
    }

    /// The same options with another memory cap for sorting.
    #[must_use]
    pub fn with_sort_memory(mut self, sort_memory: usize) -> Self {
        self.sort_memory = sort_memory;
        self
    }

    fn geo(&self) -> bool {
        self.format == Format::GeoParquet
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// Rows written.
    pub rows: u64,
    /// Row groups (Parquet) or record batches (Feather) written.
    pub row_groups: usize,
    /// The metadata keys and values written (footer, schema and sidecar).
    pub metadata: Vec<(String, String)>,
    /// The `_metadata.json` sidecar content (Feather and CSV).
    pub sidecar: Option<String>,
    /// Sorted runs spilled to temporary files (0 without `sort`, or when the
    /// rows fitted in memory).
    pub sort_runs: usize,
}

enum Sink<W: Write + Send> {
    Parquet(Box<ArrowWriter<W>>),
    Feather(Box<arrow_ipc::writer::FileWriter<W>>),
    Csv(std::io::BufWriter<W>),
}

/// Writes records of one kind to a sink, one row group per
/// `max_rows_in_group` rows (whole records only). Memory holds the buffered
/// row group's values and at most one encoded row group.
///
/// ```
/// use sliderule_export::{Exporter, ExportOptions, RecordKind};
/// use sliderule_export::records::{Atl06Elevation, Atl06Record};
///
/// let record = Atl06Record { elevations: vec![Atl06Elevation { latitude: 72.8, longitude: -26.2, ..Default::default() }] };
/// let mut out = Vec::new();
/// let mut exporter = Exporter::try_new(&mut out, RecordKind::Atl06, ExportOptions::default())?;
/// exporter.push(&record)?;
/// let summary = exporter.finish()?;
/// assert_eq!(summary.rows, 1);
/// let geo = &summary.metadata.iter().find(|(k, _)| k == "geo").unwrap().1;
/// assert!(geo.contains(r#""bbox":[-26.2,72.8,-26.2,72.8]"#));
/// # Ok::<(), sliderule_export::Error>(())
/// ```
pub struct Exporter<W: Write + Send> {
    kind: RecordKind,
    options: ExportOptions,
    buffer: ColumnBuffer,
    max_rows: usize,
    schema: SchemaRef,
    sink: Option<Sink<W>>,
    keys: Vec<(String, String)>,
    rows: u64,
    groups: usize,
    /// Runs the sort spilled.
    sort_runs: usize,
    /// Geometry accounting for the improved `geo` (None in compat or plain mode).
    geo: Option<GeoAccount>,
    /// Sorted runs waiting for the final merge (with `sort`).
    sorter: Option<(ExternalSorter, SortBy)>,
}

/// The data's bbox, for a `geo` computed from the data (GeoParquet 1.1).
#[derive(Debug, Clone)]
struct GeoAccount {
    bbox: BoundingBox,
    types: GeometryType,
    covering: bool,
}

impl GeoAccount {
    fn add(&mut self, lon: &[f64], lat: &[f64]) {
        let (mut x0, mut y0, mut x1, mut y1) = (
            self.bbox.xmin,
            self.bbox.ymin,
            self.bbox.xmax,
            self.bbox.ymax,
        );
        for (x, y) in lon.iter().zip(lat) {
            // NaN never wins a comparison, so it never widens the box.
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        self.bbox = BoundingBox::new(x0, y0, x1, y1);
    }

    fn metadata(&self) -> GeoParquetMetadata {
        let mut col = GeoParquetColumnMetadata::new(
            Encoding::Wkb,
            vec![GeometryTypeAndDimension::new(self.types, Dimension::Xy)],
        );
        if self.bbox.xmin <= self.bbox.xmax && self.bbox.ymin <= self.bbox.ymax {
            col.bbox = Some(self.bbox);
        }
        if self.covering {
            col.covering = Some(Covering {
                bbox: CoveringBbox::for_column(COVERING_COLUMN, false),
                extra: serde_json::Map::new(),
            });
        }
        let mut m = GeoParquetMetadata::new("geometry", col);
        m.version = Version::V1_1_0;
        m.extra.insert(
            "creator".into(),
            serde_json::json!({"library": "sliderule-export", "version": env!("CARGO_PKG_VERSION")}),
        );
        m
    }
}

/// Name of the covering column.
pub const COVERING_COLUMN: &str = "bbox";

fn covering_field() -> Field {
    let f = |n: &str| Field::new(n, DataType::Float64, false);
    Field::new(
        COVERING_COLUMN,
        DataType::Struct(Fields::from(vec![
            f("xmin"),
            f("ymin"),
            f("xmax"),
            f("ymax"),
        ])),
        true,
    )
}

impl<W: Write + Send> std::fmt::Debug for Exporter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("kind", &self.kind)
            .field("format", &self.options.format)
            .field("rows", &self.rows)
            .field("row_groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// The Arrow schema of a layout (fields nullable, as SlideRule's are).
#[must_use]
pub fn schema_for(kind: RecordKind, geo: bool, compact: bool) -> Schema {
    if compact && kind == RecordKind::Atl03 {
        return compact_schema(geo);
    }
    let fields: Vec<Field> = kind
        .column_order(geo)
        .iter()
        .map(|name| {
            let dt = kind
                .field_type(name)
                .map_or(DataType::Binary, FieldType::data_type);
            Field::new(*name, dt, true)
        })
        .collect();
    Schema::new(fields)
}

/// Extent-level columns of the compact ATL03 layout (before `photons`).
const COMPACT_EXTENT: &[&str] = &[
    "extent_id",
    "time",
    "cycle",
    "pair",
    "sc_orient",
    "rgt",
    "track",
    "background_rate",
    "segment_id",
    "segment_dist",
    "solar_elevation",
    "region",
];

fn photon_struct_fields() -> Fields {
    RecordKind::Atl03
        .element_fields()
        .iter()
        .map(|(n, t)| Field::new(*n, t.data_type(), true))
        .collect()
}

fn compact_schema(geo: bool) -> Schema {
    let mut fields: Vec<Field> = COMPACT_EXTENT
        .iter()
        .map(|n| {
            let t = RecordKind::Atl03
                .field_type(n)
                .map_or(DataType::Binary, FieldType::data_type);
            Field::new(*n, t, true)
        })
        .collect();
    fields.push(Field::new(
        "photons",
        DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(photon_struct_fields()),
            true,
        ))),
        true,
    ));
    if geo {
        fields.push(Field::new("geometry", DataType::Binary, true));
    }
    Schema::new(fields)
}

fn pandas_columns(schema: &Schema, kind: RecordKind) -> Vec<PandasColumn> {
    schema
        .fields()
        .iter()
        .map(|f| match kind.field_type(f.name()) {
            Some(t) if f.data_type() == &t.data_type() => PandasColumn::field(f.name(), t),
            _ => PandasColumn::object(f.name()),
        })
        .collect()
}

impl<W: Write + Send> Exporter<W> {
    /// Prepares an export of `kind` records to `sink`.
    pub fn try_new(sink: W, kind: RecordKind, options: ExportOptions) -> Result<Self> {
        let geo = options.geo();
        let compact = options.compact_atl03 && kind == RecordKind::Atl03;
        let base = schema_for(kind, geo, compact);
        let parms = match (&options.request, &options.output) {
            (Some(raw), _) => metadata::request_echo(raw)?,
            (None, Some(out)) => serde_json::json!({ "output": out.to_echo_json() }).to_string(),
            (None, None) => "{}".to_owned(),
        };
        let improved = options.compat == Compat::Improved;
        let sliderule =
            metadata::sliderule_json(kind.endpoint(), &parms, &options.server, improved);
        let recordinfo = metadata::recordinfo_json(geo);
        let covering = geo && improved && options.covering;
        let geo_account = (geo && improved).then(|| GeoAccount {
            bbox: BoundingBox::new(
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            types: if compact {
                GeometryType::MultiPoint
            } else {
                GeometryType::Point
            },
            covering,
        });
        let mut fields: Vec<FieldRef> = base.fields().iter().cloned().collect();
        if covering {
            fields.push(Arc::new(covering_field()));
        }
        let schema = Schema::new(fields);
        let pandas = metadata::pandas_json(&pandas_columns(&schema, kind));
        // Keys known up front go into the Arrow schema too (ARROW:schema),
        // like SlideRule's `store_schema()`; the data-dependent `geo` only
        // into the footer.
        let mut keys: Vec<(String, String)> = Vec::new();
        if geo && !improved {
            keys.push((GEO_KEY.into(), GEO_SLIDERULE.into()));
        }
        keys.push((SLIDERULE_KEY.into(), sliderule));
        keys.push((RECORDINFO_KEY.into(), recordinfo));
        if matches!(options.format, Format::GeoParquet | Format::Parquet) {
            keys.push((PANDAS_KEY.into(), pandas));
        }
        let mut schema_meta = schema.metadata().clone();
        for (k, v) in &keys {
            schema_meta.insert(k.clone(), v.clone());
        }
        let schema = Arc::new(Schema::new_with_metadata(
            schema.fields().clone(),
            schema_meta,
        ));
        let sink = match options.format {
            Format::GeoParquet | Format::Parquet => {
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .set_max_row_group_row_count(None)
                    .set_max_row_group_bytes(None)
                    .set_created_by(format!(
                        "sliderule-export {} (parquet-rs 59)",
                        env!("CARGO_PKG_VERSION")
                    ));
                if geo {
                    props =
                        props.set_column_dictionary_enabled(ColumnPath::from("geometry"), false);
                }
                let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props.build()))?;
                Sink::Parquet(Box::new(writer))
            }
            Format::Feather => Sink::Feather(Box::new(arrow_ipc::writer::FileWriter::try_new(
                sink, &schema,
            )?)),
            Format::Csv => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
                let header: Vec<String> =
                    schema.fields().iter().map(|f| csv_text(f.name())).collect();
                writeln!(w, "{}", header.join(",")).map_err(Error::Sink)?;
                Sink::Csv(w)
            }
        };
        // Sorted batches come back in SlideRule-sized chunks, cut into row groups as
        // they are written.
        let sorter = options.sort.map(|by| {
            let sorter = ExternalSorter::new(schema.clone(), options.sort_memory)
                .with_batch_rows(SORT_CHUNK_ROWS);
            (sorter, by)
        });
        let max_rows = options
            .max_rows_in_group
            .unwrap_or_else(|| kind.max_rows_in_group())
            .max(1);
        Ok(Self {
            kind,
            buffer: ColumnBuffer::new(kind),
            max_rows,
            schema,
            sink: Some(sink),
            keys,
            rows: 0,
            groups: 0,
            sort_runs: 0,
            options,
            geo: geo_account,
            sorter,
        })
    }

    /// The schema of the written batches (with the metadata keys).
    #[must_use]
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Buffers one record; writes a row group once the buffer reaches the
    /// row budget (records are never split).
    pub fn push<R: Record>(&mut self, record: &R) -> Result<()> {
        if R::KIND != self.kind {
            return Err(Error::InvalidRecord {
                row: self.rows + self.buffer.rows() as u64,
                field: "record".into(),
                message: format!(
                    "a {} record given to an export of {}",
                    R::KIND.rectype(),
                    self.kind.rectype()
                ),
            });
        }
        record.append_to(&mut self.buffer);
        if self.buffer.rows() >= self.max_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Buffers every record of an iterator (a batch of records).
    pub fn push_all<'a, R: Record + 'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a R>,
    ) -> Result<()> {
        for r in records {
            self.push(r)?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group (nothing when empty).
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.rows() == 0 {
            return Ok(());
        }
        let batch = self.take_batch()?;
        let rows = batch.num_rows();
        self.rows += rows as u64;
        if let Some((sorter, by)) = self.sorter.as_mut() {
            // Sorted output: row groups are cut when the sorted rows are written.
            let keys = keys(&batch, *by)?;
            sorter.push(batch, keys.into())?;
            return Ok(());
        }
        if let Some(sink) = self.sink.as_mut() {
            write_batch(sink, &batch, true)?;
        }
        self.groups += 1;
        Ok(())
    }

    /// Writes the sorted rows into the sink, one row group per `max_rows` rows.
    fn write_sorted(&mut self) -> Result<()> {
        let (Some((sorter, _)), Some(sink)) = (self.sorter.take(), self.sink.as_mut()) else {
            return Ok(());
        };
        let max_rows = self.max_rows;
        let mut in_group = 0usize;
        let mut groups = 0usize;
        self.sort_runs = sorter.runs();
        for batch in sorter.finish()? {
            let batch = batch?;
            let mut at = 0;
            while at < batch.num_rows() {
                let n = (max_rows - in_group).min(batch.num_rows() - at);
                in_group += n;
                let end = in_group >= max_rows;
                write_batch(sink, &batch.slice(at, n), end)?;
                if end {
                    groups += 1;
                    in_group = 0;
                }
                at += n;
            }
        }
        if in_group > 0 {
            if let Sink::Parquet(w) = sink {
                w.flush()?;
            }
            groups += 1;
        }
        self.groups = groups;
        Ok(())
    }

    fn take_batch(&mut self) -> Result<RecordBatch> {
        let kind = self.kind;
        let geo = self.options.geo();
        let compact = self.options.compact_atl03 && kind == RecordKind::Atl03;
        let mut buf = std::mem::replace(&mut self.buffer, ColumnBuffer::new(kind));
        let covering = if let Some(acc) = self.geo.as_mut() {
            let (lon, lat) = lon_lat(&buf);
            acc.add(lon, lat);
            acc.covering.then(|| covering_array(&buf, compact))
        } else {
            None
        };
        let mut columns = if compact {
            compact_columns(buf, geo)?
        } else {
            flat_columns(
                std::mem::replace(&mut buf, ColumnBuffer::new(kind)),
                kind,
                geo,
            )
        };
        if let Some(c) = covering {
            columns.push(c?);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }

    /// Writes the last row group and the footer; returns what was written.
    pub fn finish(mut self) -> Result<ExportSummary> {
        self.flush()?;
        self.write_sorted()?;
        let mut keys = self.keys.clone();
        match self.sink.take() {
            Some(Sink::Parquet(mut writer)) => {
                for (k, v) in &keys {
                    writer.append_key_value_metadata(KeyValue::new(k.clone(), v.clone()));
                }
                if let Some(acc) = &self.geo {
                    let value = acc.metadata().to_json_string();
                    keys.insert(0, (GEO_KEY.to_owned(), value.clone()));
                    writer.append_key_value_metadata(KeyValue::new(GEO_KEY.to_owned(), value));
                }
                writer.close()?;
            }
            Some(Sink::Feather(mut w)) => w.finish()?,
            Some(Sink::Csv(mut w)) => w.flush().map_err(Error::Sink)?,
            None => {}
        }
        let sidecar = match self.options.format {
            Format::Feather | Format::Csv => Some(metadata::sidecar_json(&keys)?),
            Format::GeoParquet | Format::Parquet => None,
        };
        Ok(ExportSummary {
            rows: self.rows,
            row_groups: self.groups,
            metadata: keys,
            sidecar,
            sort_runs: self.sort_runs,
        })
    }
}

/// Writes a batch; `end_group` closes the Parquet row group after it.
fn write_batch<W: Write + Send>(
    sink: &mut Sink<W>,
    batch: &RecordBatch,
    end_group: bool,
) -> Result<()> {
    match sink {
        Sink::Parquet(writer) => {
            writer.write(batch)?;
            if end_group {
                writer.flush()?;
            }
        }
        Sink::Feather(w) => w.write(batch)?,
        Sink::Csv(w) => write_csv(w, batch)?,
    }
    Ok(())
}

/// Longitudes and latitudes of the buffered rows.
fn lon_lat(buf: &ColumnBuffer) -> (&[f64], &[f64]) {
    let fields = buf.kind.element_fields();
    let get = |name: &str| {
        fields
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| buf.elements.get(i))
            .and_then(Col::f64_values)
            .unwrap_or_default()
    };
    (get("longitude"), get("latitude"))
}

/// The covering column: each row's box (a point's box is the point; a
/// compact extent's box spans its photons).
fn covering_array(buf: &ColumnBuffer, compact: bool) -> Result<ArrayRef> {
    let (lon, lat) = lon_lat(buf);
    let (xmin, ymin, xmax, ymax): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = if compact {
        let mut out = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut at = 0usize;
        for c in &buf.counts {
            let n = *c as usize;
            let xs = lon.get(at..at + n).unwrap_or_default();
            let ys = lat.get(at..at + n).unwrap_or_default();
            out.0.push(xs.iter().copied().fold(f64::INFINITY, f64::min));
            out.1.push(ys.iter().copied().fold(f64::INFINITY, f64::min));
            out.2
                .push(xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            out.3
                .push(ys.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            at += n;
        }
        out
    } else {
        (lon.to_vec(), lat.to_vec(), lon.to_vec(), lat.to_vec())
    };
    let DataType::Struct(fields) = covering_field().data_type().clone() else {
        return Err(Error::InvalidColumn {
            file: "covering".into(),
            column: COVERING_COLUMN.into(),
            message: "not a struct".into(),
        });
    };
    let arrays: Vec<ArrayRef> = [xmin, ymin, xmax, ymax]
        .into_iter()
        .map(|v| Arc::new(Float64Array::from(v)) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::try_new(fields, arrays, None)?))
}

/// The columns of the flattened layouts, in the server's order.
fn flat_columns(mut buf: ColumnBuffer, kind: RecordKind, geo: bool) -> Vec<ArrayRef> {
    let counts = std::mem::take(&mut buf.counts);
    let mut parents: Vec<Col> = buf.parent.iter().map(|c| c.repeated(&counts)).collect();
    let parent_fields = kind.parent_fields();
    let element_fields = kind.element_fields();
    let pos =
        |fields: &[(&str, FieldType)], name: &str| fields.iter().position(|(n, _)| *n == name);
    let geometry = if geo {
        let lon = pos(element_fields, "longitude")
            .and_then(|i| buf.elements.get(i))
            .and_then(Col::f64_values)
            .unwrap_or_default();
        let lat = pos(element_fields, "latitude")
            .and_then(|i| buf.elements.get(i))
            .and_then(Col::f64_values)
            .unwrap_or_default();
        Some(wkb_points(lon, lat))
    } else {
        None
    };
    let mut out: Vec<ArrayRef> = Vec::with_capacity(kind.column_order(geo).len());
    let mut geometry = geometry;
    for name in kind.column_order(geo) {
        if *name == "geometry" {
            if let Some(g) = geometry.take() {
                out.push(g);
            }
        } else if let Some(i) = pos(parent_fields, name) {
            if let Some(c) = parents.get_mut(i) {
                out.push(c.take_array());
            }
        } else if let Some(i) = pos(element_fields, name)
            && let Some(c) = buf.elements.get_mut(i)
        {
            out.push(c.take_array());
        }
    }
    out
}

/// The compact ATL03 layout: one row per extent, photons as a list of structs.
fn compact_columns(mut buf: ColumnBuffer, geo: bool) -> Result<Vec<ArrayRef>> {
    let kind = RecordKind::Atl03;
    let counts = std::mem::take(&mut buf.counts);
    let photon_fields = kind.element_fields();
    let pos = |name: &str| photon_fields.iter().position(|(n, _)| *n == name);
    // Extent time: the first photon's.
    let mut first_times = Vec::with_capacity(counts.len());
    let times = pos("time")
        .and_then(|i| buf.elements.get(i))
        .and_then(Col::time_values)
        .unwrap_or_default();
    let mut at = 0usize;
    for c in &counts {
        first_times.push(times.get(at).copied().unwrap_or_default());
        at += *c as usize;
    }
    let geometry = if geo {
        let lon = pos("longitude")
            .and_then(|i| buf.elements.get(i))
            .and_then(Col::f64_values)
            .unwrap_or_default();
        let lat = pos("latitude")
            .and_then(|i| buf.elements.get(i))
            .and_then(Col::f64_values)
            .unwrap_or_default();
        let mut b = BinaryBuilder::with_capacity(counts.len(), lon.len() * 21 + counts.len() * 9);
        let mut at = 0usize;
        let mut wkb = Vec::new();
        for c in &counts {
            let n = *c as usize;
            wkb.clear();
            wkb.push(1u8);
            wkb.extend_from_slice(&4u32.to_le_bytes());
            wkb.extend_from_slice(&c.to_le_bytes());
            for i in at..at + n {
                wkb.push(1u8);
                wkb.extend_from_slice(&1u32.to_le_bytes());
                wkb.extend_from_slice(&lon.get(i).copied().unwrap_or(f64::NAN).to_le_bytes());
                wkb.extend_from_slice(&lat.get(i).copied().unwrap_or(f64::NAN).to_le_bytes());
            }
            at += n;
            b.append_value(&wkb);
        }
        Some(Arc::new(b.finish()) as ArrayRef)
    } else {
        None
    };
    let photon_arrays: Vec<ArrayRef> = buf.elements.iter_mut().map(Col::take_array).collect();
    let photons = StructArray::try_new(photon_struct_fields(), photon_arrays, None)?;
    let offsets = OffsetBuffer::from_lengths(counts.iter().map(|c| *c as usize));
    let list = ListArray::try_new(
        Arc::new(Field::new(
            "item",
            DataType::Struct(photon_struct_fields()),
            true,
        )),
        offsets,
        Arc::new(photons),
        None,
    )?;
    let parent_fields = kind.parent_fields();
    let mut out: Vec<ArrayRef> = Vec::new();
    for name in COMPACT_EXTENT {
        if *name == "time" {
            out.push(Col::Time(std::mem::take(&mut first_times)).take_array());
        } else if let Some(i) = parent_fields.iter().position(|(n, _)| n == name)
            && let Some(c) = buf.parent.get_mut(i)
        {
            out.push(c.take_array());
        }
    }
    out.push(Arc::new(list));
    if let Some(g) = geometry {
        out.push(g);
    }
    Ok(out)
}

fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (no zone, as Arrow prints `timestamp[ns]`).
fn format_ns(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, m, d, hh, mm, ss) = metadata::civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:09}")
}

fn write_csv<W: Write>(w: &mut W, batch: &RecordBatch) -> Result<()> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Float32Type, Float64Type, Int8Type, Int32Type, TimestampNanosecondType, UInt8Type,
        UInt16Type, UInt32Type, UInt64Type,
    };
    let cols = batch.columns();
    let mut line = String::with_capacity(256);
    for row in 0..batch.num_rows() {
        line.clear();
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if c.is_null(row) {
                continue;
            }
            let cell = match c.data_type() {
                DataType::Int8 => c.as_primitive::<Int8Type>().value(row).to_string(),
                DataType::Int32 => c.as_primitive::<Int32Type>().value(row).to_string(),
                DataType::UInt8 => c.as_primitive::<UInt8Type>().value(row).to_string(),
                DataType::UInt16 => c.as_primitive::<UInt16Type>().value(row).to_string(),
                DataType::UInt32 => c.as_primitive::<UInt32Type>().value(row).to_string(),
                DataType::UInt64 => c.as_primitive::<UInt64Type>().value(row).to_string(),
                DataType::Float32 => c.as_primitive::<Float32Type>().value(row).to_string(),
                DataType::Float64 => c.as_primitive::<Float64Type>().value(row).to_string(),
                DataType::Timestamp(..) => {
                    format_ns(c.as_primitive::<TimestampNanosecondType>().value(row))
                }
                DataType::List(_) => {
                    let v = c.as_list::<i32>().value(row);
                    let vals: Vec<String> = match v.as_primitive_opt::<Float32Type>() {
                        Some(p) => p.values().iter().map(ToString::to_string).collect(),
                        None => Vec::new(),
                    };
                    csv_text(&format!("[{}]", vals.join(", ")))
                }
                other => {
                    return Err(Error::InvalidColumn {
                        file: "csv output".into(),
                        column: batch.schema().field(i).name().clone(),
                        message: format!("type {other} cannot be written as CSV"),
                    });
                }
            };
            line.push_str(&cell);
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(Error::Sink)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formatting() {
        assert_eq!(
            format_ns(1_552_556_446_894_008_576),
            "2019-03-14T09:40:46.894008576"
        );
        assert_eq!(format_ns(-1), "1969-12-31T23:59:59.999999999");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("plain"), "plain");
    }
}
