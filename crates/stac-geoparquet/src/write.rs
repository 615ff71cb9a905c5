//! Items to stac-geoparquet: two passes over the sources (infer, then
//! write), written atomically.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use arrow_array::RecordBatch;
use geoparquet_io::meta::{
    Covering, CoveringBbox, Crs, Encoding, GeoParquetColumnMetadata, GeoParquetMetadata,
    GeometryTypeAndDimension,
};
use geoparquet_io::writer::{GeoParquetEncoder, GeometryEncoding, TargetVersion};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use serde_json::{Map, Value};

use crate::encode::BatchBuilder;
use crate::error::{Error, Result};
use crate::infer::{Inference, JSON_KEY, Layout, Origin, Plan};
use crate::input::{Sink, Source, visit};
use crate::lite::Lite;
use crate::patches::PATCHES_METADATA_KEY;

/// The Parquet key/value key of the stac-geoparquet metadata.
pub const STAC_GEOPARQUET_METADATA_KEY: &str = "stac-geoparquet";
/// The key/value key marking files written by this crate (its value says
/// which lossless conventions the file uses).
pub const LAYOUT_METADATA_KEY: &str = "geoquet:stac";
/// Default rows per batch handed to the Parquet writer.
pub const DEFAULT_BATCH_ROWS: usize = 8_192;
/// Default maximum rows per row group (smaller groups prune better in
/// searches; larger ones compress better).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 20_000;
/// At most this many cells (rows × leaf columns) per batch: a batch's arrays
/// are allocated for every column, so items with thousands of distinct
/// property names get shorter batches instead of gigabytes of mostly-null
/// arrays.
pub const MAX_BATCH_CELLS: usize = 2 << 20;

/// Above this many leaf columns, dictionary encoding is kept for the core
/// columns `type`, `stac_version` and `collection` only (it costs tens of KB
/// of memory per column while a row group is written).
pub const WIDE_COLUMNS: usize = 1024;

/// Default ZSTD level: geoparquet-io's, so that every geoquet writer agrees.
pub const DEFAULT_ZSTD_LEVEL: i32 = geoparquet_io::writer::DEFAULT_ZSTD_LEVEL;

/// Options of [`write_parquet`] and [`write_to`].
///
/// ```
/// use stac_geoparquet::WriterOptions;
/// use stac_geoparquet::parquet::basic::Compression;
///
/// let options = WriterOptions::default()
///     .with_compression(Compression::SNAPPY)
///     .with_row_group_rows(5_000)
///     .with_geoarrow(true)
///     .with_collection(serde_json::json!({"type": "Collection", "id": "c"}));
/// assert_eq!(options.row_group_rows, 5_000);
/// assert_eq!(options.collections.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Compression codec. Default: ZSTD level [`DEFAULT_ZSTD_LEVEL`].
    pub compression: Compression,
    /// Maximum rows per row group. Default: [`DEFAULT_ROW_GROUP_ROWS`].
    pub row_group_rows: usize,
    /// Rows per batch handed to the Parquet writer (fewer for very wide
    /// schemas, see [`MAX_BATCH_CELLS`]). Default: [`DEFAULT_BATCH_ROWS`].
    pub batch_rows: usize,
    /// Store `geometry` in a GeoArrow native encoding instead of WKB (needs one
    /// geometry type, or a type and its Multi form, across all items).
    /// Default: `false` (WKB).
    pub geoarrow: bool,
    /// Collections for the `collections` map of the metadata (STAC
    /// Collection JSON objects, keyed by their `id`), besides those met while
    /// following catalogs. Default: none.
    pub collections: Vec<Value>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            compression: Compression::ZSTD(
                ZstdLevel::try_new(DEFAULT_ZSTD_LEVEL).unwrap_or_default(),
            ),
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            batch_rows: DEFAULT_BATCH_ROWS,
            geoarrow: false,
            collections: Vec::new(),
        }
    }
}

impl WriterOptions {
    /// The same options with another [`compression`](Self::compression).
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The same options with another [`geoarrow`](Self::geoarrow).
    #[must_use]
    pub fn with_geoarrow(mut self, geoarrow: bool) -> Self {
        self.geoarrow = geoarrow;
        self
    }

    /// The same options with other [`collections`](Self::collections).
    #[must_use]
    pub fn with_collections(mut self, collections: Vec<Value>) -> Self {
        self.collections = collections;
        self
    }

    /// The same options with one more Collection in
    /// [`collections`](Self::collections).
    #[must_use]
    pub fn with_collection(mut self, collection: Value) -> Self {
        self.collections.push(collection);
        self
    }

    /// The same options with at most `rows` (at least 1) rows per row group
    /// ([`row_group_rows`](Self::row_group_rows)).
    #[must_use]
    pub fn with_row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = rows.max(1);
        self
    }

    /// The same options with `rows` (at least 1) rows per batch
    /// ([`batch_rows`](Self::batch_rows)).
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSummary {
    /// Items written.
    pub items: u64,
    /// Row groups written.
    pub row_groups: usize,
    /// Columns written.
    pub columns: usize,
    /// Values that the columns cannot hold exactly, kept as patches in the
    /// footer (see the crate docs, "Lossless").
    pub patches: u64,
    /// The `stac-geoparquet` metadata written.
    pub stac_metadata: Value,
}

/// Progress reports: called with the pass (1 = inference, 2 = writing) and
/// the items done so far in it.
pub type Progress<'a> = &'a mut dyn FnMut(u8, u64);

struct InferSink<'p> {
    inference: Inference,
    collections: Vec<Map<String, Value>>,
    progress: Option<Progress<'p>>,
    n: u64,
}

impl Sink for InferSink<'_> {
    fn item(&mut self, item: Map<String, Value>, _source: &str, _number: u64) -> Result<()> {
        self.inference.absorb(&item);
        self.n += 1;
        if self.n.is_multiple_of(1024)
            && let Some(p) = self.progress.as_mut()
        {
            p(1, self.n);
        }
        Ok(())
    }
    fn collection(&mut self, collection: Map<String, Value>) -> Result<()> {
        self.collections.push(collection);
        Ok(())
    }
    fn item_line(&mut self, line: &str, _source: &str, _number: u64) -> Result<bool> {
        // The cheap parse; anything unusual takes the ordinary path.
        let Some(Lite::O(item)) = lite_item(line) else {
            return Ok(false);
        };
        self.inference.absorb_lite(&item);
        self.n += 1;
        if self.n.is_multiple_of(1024)
            && let Some(p) = self.progress.as_mut()
        {
            p(1, self.n);
        }
        Ok(true)
    }
}

struct WriteSink<'p> {
    builder: BatchBuilder,
    /// Batches go to the thread that encodes and compresses them.
    tx: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    batch_rows: usize,
    n: u64,
    progress: Option<Progress<'p>>,
}

impl WriteSink<'_> {
    fn flush(&mut self) -> Result<()> {
        if self.builder.rows() == 0 {
            return Ok(());
        }
        let batch = self.builder.finish()?;
        match &self.tx {
            Some(tx) => tx.send(batch).map_err(|_| Error::Internal {
                what: "the Parquet writer stopped before the input ended",
            }),
            None => Err(Error::Internal {
                what: "the Parquet writer is closed",
            }),
        }
    }

    fn appended(&mut self) -> Result<()> {
        self.n += 1;
        if self.builder.rows() >= self.batch_rows {
            self.flush()?;
            if let Some(p) = self.progress.as_mut() {
                p(2, self.n);
            }
        }
        Ok(())
    }
}

/// Names the input of an item that needs more patches than a footer carries.
fn locate(e: Error, source: &str) -> Error {
    match e {
        Error::PatchesTooLarge {
            path: None,
            item,
            limit_kind,
            limit,
        } => Error::PatchesTooLarge {
            path: Some(source.into()),
            item,
            limit_kind,
            limit,
        },
        other => other,
    }
}

impl Sink for WriteSink<'_> {
    fn item(&mut self, item: Map<String, Value>, source: &str, number: u64) -> Result<()> {
        let item = Value::Object(item);
        self.builder
            .append(&item, number)
            .map_err(|e| locate(e, source))?;
        self.appended()
    }
    fn collection(&mut self, _collection: Map<String, Value>) -> Result<()> {
        Ok(())
    }
    fn item_line(&mut self, line: &str, source: &str, number: u64) -> Result<bool> {
        let Some(item) = lite_item(line) else {
            return Ok(false);
        };
        self.builder
            .append(&item, number)
            .map_err(|e| locate(e, source))?;
        self.appended()?;
        Ok(true)
    }
}

/// An NDJSON line parsed the cheap way, if it is a plain Item (anything
/// else takes the ordinary path).
fn lite_item(line: &str) -> Option<Lite<'_>> {
    let item = serde_json::from_str::<Lite<'_>>(line).ok()?;
    let Lite::O(members) = &item else {
        return None;
    };
    let ok = members
        .iter()
        .all(|(k, v)| k != "type" || matches!(v, Lite::S(t) if t == "Feature"));
    ok.then_some(item)
}

fn geometry_types(set: &BTreeSet<GeometryTypeAndDimension>) -> Vec<GeometryTypeAndDimension> {
    set.iter().copied().collect()
}

/// The `stac-geoparquet` metadata value for these collections.
fn stac_metadata(collections: &[Map<String, Value>]) -> Result<Value> {
    let mut map = Map::new();
    for (i, c) in collections.iter().enumerate() {
        let id = c
            .get("id")
            .and_then(Value::as_str)
            .ok_or(Error::InvalidCollection {
                number: i + 1,
                problem: "a Collection without a string \"id\"",
            })?;
        map.insert(id.to_owned(), Value::Object(c.clone()));
    }
    let mut out = Map::new();
    if map.is_empty() {
        out.insert("version".into(), Value::String("1.0.0".into()));
    } else {
        out.insert("version".into(), Value::String("1.1.0".into()));
        out.insert("collections".into(), Value::Object(map));
    }
    Ok(Value::Object(out))
}

/// Leaf columns of a data type (a struct or list counts its leaves).
fn leaves(dt: &arrow_schema::DataType) -> usize {
    use arrow_schema::DataType;
    match dt {
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| leaves(f.data_type()))
            .sum::<usize>()
            .max(1),
        DataType::List(f) | DataType::LargeList(f) => leaves(f.data_type()),
        _ => 1,
    }
}

/// Leaf columns of a schema.
fn leaf_columns(schema: &arrow_schema::Schema) -> usize {
    schema.fields().iter().map(|f| leaves(f.data_type())).sum()
}

/// Rows per batch: `wanted`, fewer when the schema is wide (at most
/// [`MAX_BATCH_CELLS`] cells), at least one.
fn batch_rows_for(wanted: usize, schema: &arrow_schema::Schema) -> usize {
    wanted
        .min(MAX_BATCH_CELLS / leaf_columns(schema).max(1))
        .max(1)
}

/// Infers the layout of the sources (the first pass).
/// The first pass' result: the layout, the collections met, and the
/// progress callback handed back for the second pass.
type Inferred<'p> = (Layout, Vec<Map<String, Value>>, Option<Progress<'p>>);

fn infer<'p>(
    sources: &[Source],
    options: &WriterOptions,
    progress: Option<Progress<'p>>,
) -> Result<Inferred<'p>> {
    let mut sink = InferSink {
        inference: Inference::new(),
        collections: Vec::new(),
        progress,
        n: 0,
    };
    visit(sources, &mut sink)?;
    let mut collections: Vec<Map<String, Value>> = Vec::new();
    for (i, c) in options.collections.iter().enumerate() {
        match c {
            Value::Object(o) => collections.push(o.clone()),
            _ => {
                return Err(Error::InvalidCollection {
                    number: i + 1,
                    problem: "a Collection must be a JSON object",
                });
            }
        }
    }
    collections.extend(sink.collections);
    Ok((sink.inference.finish(), collections, sink.progress))
}

/// Writes the items of `sources` to `sink` as stac-geoparquet.
///
/// Reads the sources twice (schema inference over all items, then the
/// write); memory holds one item and one batch, never the whole input.
///
/// ```
/// use stac_geoparquet::{Source, WriterOptions, write_to};
///
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("item.json");
/// std::fs::write(&input, r#"{"type":"Feature","stac_version":"1.1.0","id":"a","geometry":null,"properties":{"datetime":"2020-01-01T00:00:00Z"},"links":[],"assets":{}}"#)?;
/// let mut bytes = Vec::new();
/// let summary = write_to(&[Source::Path(input)], &mut bytes, &WriterOptions::default(), None)?;
/// assert_eq!(summary.items, 1);
/// assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_to<W: Write + Send>(
    sources: &[Source],
    sink: W,
    options: &WriterOptions,
    progress: Option<Progress<'_>>,
) -> Result<WriteSummary> {
    let (layout, collections, progress) = infer(sources, options, progress)?;
    let builder = BatchBuilder::new(&layout);
    let schema = builder.schema();
    let mut geo_input = GeoParquetMetadata::new(
        "geometry",
        GeoParquetColumnMetadata::new(Encoding::Wkb, geometry_types(&layout.geometry_types)),
    );
    if layout.columns.iter().any(|(o, p)| {
        *o == Origin::Property && p.name == "proj:geometry" && p.plan == Plan::Geometry
    }) {
        let mut c = GeoParquetColumnMetadata::new(Encoding::Wkb, Vec::new());
        c.crs = Crs::Unknown;
        geo_input.columns.insert("proj:geometry".into(), c);
    }
    let mut gp = geoparquet_io::writer::WriterOptions::default()
        .with_version(TargetVersion::V1_1)
        .with_covering(None);
    gp.compression = options.compression;
    gp.row_group_rows = options.row_group_rows;
    if options.geoarrow {
        gp = gp.with_encoding(GeometryEncoding::GeoArrow);
        // Only the item geometry goes native; proj:geometry stays WKB.
        geo_input.columns.shift_remove("proj:geometry");
    }
    let encoder = GeoParquetEncoder::try_new(&schema, Some(&geo_input), &gp)?;
    let props = encoder
        .writer_properties()
        .into_builder()
        .set_compression(options.compression)
        .set_max_row_group_row_count(Some(options.row_group_rows.max(1)));
    let props = if leaf_columns(&schema) > WIDE_COLUMNS {
        // Each column's dictionary encoder costs tens of KB while a row
        // group is written: wide schemas keep it for the core columns only.
        let mut b = props.set_dictionary_enabled(false);
        for name in ["type", "stac_version", "collection"] {
            b = b.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(name),
                true,
            );
        }
        b
    } else {
        props
    }
    .build();
    let target = encoder.target_schema();
    // JSON text columns (marked `geoquet:json`, at any depth) get Parquet's JSON logical
    // type, so that readers that know it decode the values instead of showing their text.
    let parquet_schema = geoparquet_io::writer::with_json_logical_type(
        &target,
        ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&target)?,
        &|f| f.metadata().contains_key(JSON_KEY),
    );
    let mut writer = ArrowWriter::try_new_with_options(
        sink,
        target,
        ArrowWriterOptions::new()
            .with_properties(props)
            .with_parquet_schema(parquet_schema),
    )?;
    let mut encoder = encoder;
    let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
    let mut ws = WriteSink {
        builder,
        tx: Some(tx),
        batch_rows: batch_rows_for(options.batch_rows, &schema),
        n: 0,
        progress,
    };
    // This thread parses and builds batches; a second one encodes and
    // compresses them.
    let (encoder, mut writer) = geoparquet_io::workers::scope(|scope| -> Result<_> {
        let column_stage = scope.spawn(
            "stac: encode",
            move || -> Result<(GeoParquetEncoder, ArrowWriter<W>)> {
                for batch in rx {
                    let batch = encoder.encode(&batch)?;
                    writer.write(&batch)?;
                }
                Ok((encoder, writer))
            },
        );
        let read = visit(sources, &mut ws).and_then(|()| ws.flush());
        ws.tx = None;
        // The writer's own error explains a failed send best.
        let written = column_stage.join()??;
        read?;
        Ok(written)
    })??;
    if ws.n != layout.items {
        return Err(Error::InputChanged {
            first: layout.items,
            second: ws.n,
        });
    }
    let mut geo = encoder.metadata()?;
    if let Some(col) = geo.columns.get_mut("geometry") {
        let z = layout
            .columns
            .iter()
            .any(|(_, p)| p.name == "bbox" && p.plan == Plan::Bbox { z: true });
        col.covering = Some(Covering {
            bbox: CoveringBbox::for_column("bbox", z),
            extra: Map::new(),
        });
    }
    let stac = stac_metadata(&collections)?;
    // Geometry fields are rebuilt by the GeoParquet encoder (without our field
    // metadata), so the null convention of top-level columns is kept here too.
    let explicit: Vec<&str> = layout
        .columns
        .iter()
        .filter(|(_, p)| p.explicit_nulls)
        .map(|(_, p)| p.name.as_str())
        .collect();
    let patches = ws.builder.take_patches();
    let patch_count = patches.count();
    let patches = patches.finish()?;
    let layout_value = serde_json::json!({
        "layout": 2,
        "patches": patch_count,
        "empty_assets": layout.empty_assets,
        "explicit_nulls": explicit,
    });
    writer.append_key_value_metadata(KeyValue::new("geo".to_owned(), geo.to_json_string()));
    writer.append_key_value_metadata(KeyValue::new(
        STAC_GEOPARQUET_METADATA_KEY.to_owned(),
        stac.to_string(),
    ));
    writer.append_key_value_metadata(KeyValue::new(
        LAYOUT_METADATA_KEY.to_owned(),
        layout_value.to_string(),
    ));
    if let Some(p) = patches {
        writer.append_key_value_metadata(KeyValue::new(PATCHES_METADATA_KEY.to_owned(), p));
    }
    let meta = writer.finish()?;
    writer
        .inner_mut()
        .flush()
        .map_err(|e| Error::io("<output>", e))?;
    Ok(WriteSummary {
        items: ws.n,
        row_groups: meta.num_row_groups(),
        columns: schema.fields().len(),
        patches: patch_count,
        stac_metadata: stac,
    })
}

/// Writes the items of `sources` to the file `path` as stac-geoparquet,
/// atomically (a temporary file beside it, renamed when complete).
///
/// ```
/// use stac_geoparquet::{Source, WriterOptions, write_parquet};
///
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("items.ndjson");
/// std::fs::write(&input, concat!(
///     r#"{"type":"Feature","stac_version":"1.1.0","stac_extensions":[],"id":"a","#,
///     r#""geometry":{"type":"Point","coordinates":[1.5,2.5]},"bbox":[1.5,2.5,1.5,2.5],"#,
///     r#""properties":{"datetime":"2020-01-01T00:00:00Z"},"links":[],"assets":{}}"#, "\n"))?;
/// let output = dir.path().join("items.parquet");
/// let summary = write_parquet(&[Source::Path(input)], &output, &WriterOptions::default())?;
/// assert_eq!(summary.items, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_parquet(
    sources: &[Source],
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<WriteSummary> {
    write_parquet_with_progress(sources, path, options, None)
}

/// [`write_parquet`] with a progress callback ([`Progress`]: the pass, 1 or 2,
/// and the items done in it so far).
///
/// ```
/// use stac_geoparquet::{Source, WriterOptions, write_parquet_with_progress};
///
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("items.ndjson");
/// let item = r#"{"type":"Feature","stac_version":"1.1.0","id":"a","geometry":null,"properties":{"datetime":null},"links":[],"assets":{}}"#;
/// std::fs::write(&input, format!("{item}\n").repeat(3_000))?;
/// let mut seen = Vec::new();
/// let mut progress = |pass: u8, items: u64| seen.push((pass, items));
/// let options = WriterOptions::default().with_batch_rows(1_000);
/// let output = dir.path().join("items.parquet");
/// write_parquet_with_progress(&[Source::Path(input)], &output, &options, Some(&mut progress))?;
/// assert_eq!(seen.first(), Some(&(1, 1_024)));
/// assert_eq!(seen.last(), Some(&(2, 3_000)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_parquet_with_progress(
    sources: &[Source],
    path: impl AsRef<Path>,
    options: &WriterOptions,
    progress: Option<Progress<'_>>,
) -> Result<WriteSummary> {
    // Checked before any work, written beside, renamed into place when complete.
    let out = geoparquet_io::output::Output::create(path.as_ref())?;
    let summary = write_to(
        sources,
        std::io::BufWriter::new(out.writer()?),
        options,
        progress,
    );
    out.finish(summary)
}

#[cfg(test)]
mod number_style_tests {
    #![allow(clippy::unwrap_used)]

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::{Value, json};

    use super::{Source, WriterOptions, write_parquet};
    use crate::patches::{FooterPatches, PATCHES_METADATA_KEY};
    use crate::read::{ReadOptions, write_ndjson};

    /// An item whose float columns (`gsd`, `proj:transform`, a struct
    /// field in a list) hold `numbers`.
    fn item(n: usize, numbers: [&Value; 3]) -> Value {
        json!({
            "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [],
            "id": format!("i{n}"),
            "geometry": {"type": "Point", "coordinates": [1.5, 2.5]},
            "bbox": [1.5, 2.5, 1.5, 2.5],
            "properties": {
                "datetime": "2020-01-01T00:00:00Z",
                "gsd": numbers[0],
                "proj:transform": [numbers[1], 0.5, numbers[0], numbers[2]],
                "bands": [{"scale": numbers[2], "offset": 0.25}],
            },
            "links": [], "assets": {},
        })
    }

    /// Writes `items` as NDJSON, then Parquet, then NDJSON again: the
    /// output text and the patches `(row, pointer)`.
    fn round_trip(items: &[Value]) -> (String, String, Vec<(u64, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ndjson");
        let text: String = items.iter().map(|i| format!("{i}\n")).collect();
        std::fs::write(&input, &text).unwrap();
        let out = dir.path().join("out.parquet");
        write_parquet(&[Source::Path(input)], &out, &WriterOptions::default()).unwrap();
        let mut back = Vec::new();
        write_ndjson(&out, ReadOptions::default(), &mut back, None).unwrap();
        let r = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
        let footer = r
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == PATCHES_METADATA_KEY).cloned())
            .and_then(|k| k.value)
            .filter(|v| !v.is_empty());
        let mut patches = Vec::new();
        if let Some(f) = footer {
            let f = FooterPatches::decode(&f).unwrap();
            for row in 0..items.len() as u64 {
                for (r, p, _) in f.of_row(row) {
                    patches.push((*r, p.clone()));
                }
            }
        }
        (text, String::from_utf8(back).unwrap(), patches)
    }

    #[test]
    fn bare_integers_in_float_columns_need_no_patches() {
        let items: Vec<Value> = (0..20)
            .map(|n| {
                let frac = json!(n as f64 + 0.5);
                let int = json!(n * 100_000);
                let zero = json!(0);
                if n % 2 == 0 {
                    item(n, [&int, &zero, &int])
                } else {
                    item(n, [&frac, &frac, &frac])
                }
            })
            .collect();
        let (text, back, patches) = round_trip(&items);
        assert_eq!(patches, Vec::new());
        assert_eq!(back, text);
    }

    #[test]
    fn the_minority_style_and_inexact_spellings_are_patched() {
        let bare = json!(7);
        let fraction = json!(7.0);
        let mut items: Vec<Value> = (0..10).map(|n| item(n, [&bare, &bare, &bare])).collect();
        // The minority: written with a fraction.
        items.push(item(10, [&fraction, &bare, &bare]));
        // Beyond 2^53 (patched), and -0.0 (printed as it was: no patch).
        let wide = json!(9_007_199_254_740_993_i64);
        let neg_zero = json!(-0.0);
        items.push(item(11, [&bare, &wide, &neg_zero]));
        let unsigned = json!(u64::MAX);
        items.push(item(12, [&bare, &unsigned, &bare]));
        let (text, back, patches) = round_trip(&items);
        let expected: Vec<(u64, String)> = [
            (10, "/properties/gsd"),
            (10, "/properties/proj:transform/2"),
            (11, "/properties/proj:transform/0"),
            (12, "/properties/proj:transform/0"),
        ]
        .iter()
        .map(|(r, p)| (*r, (*p).to_owned()))
        .collect();
        let mut got = patches;
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(back, text);

        // Mostly written with a fraction: the bare integers are the patches.
        let items: Vec<Value> = (0..5)
            .map(|n| {
                if n == 0 {
                    item(n, [&bare, &fraction, &fraction])
                } else {
                    item(n, [&fraction, &fraction, &fraction])
                }
            })
            .collect();
        let (text, back, patches) = round_trip(&items);
        assert_eq!(
            patches,
            vec![
                (0, "/properties/gsd".to_owned()),
                (0, "/properties/proj:transform/2".to_owned())
            ]
        );
        assert_eq!(back, text);
    }
}
