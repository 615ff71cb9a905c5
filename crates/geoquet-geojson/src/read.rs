//! GeoJSON to record batches: a fast pass over chunks on worker threads
//! ([`super::parallel`]), or the careful pass one feature at a time.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geoparquet_meta::geometry::{GeoJsonToWkbOptions, geojson_to_wkb};
use geoparquet_meta::{BoundingBox, GeometryTypeAndDimension};
use serde_json::{Map, Value};

use super::fast::Mode;
use super::infer::{ColumnBuilder, fits};
use super::parallel::{
    self, Built, Fail, Learnt, Ordered, ParseFn, Plan, Replay, ReplayError, Spill, Tuning,
};
use super::scan::{BOM, FeatureStream, Layout, ScanError, Scanner, StreamError, detect, is_ws};
use super::{
    DEFAULT_BATCH_SIZE, FEATURE_ID_COLUMN, FOLDED_PROPERTIES_COLUMN, FOLDED_PROPERTIES_KEY,
    GEOMETRY_COLUMN, GeoJsonFormat, ID_COLUMN, MAX_BATCH_CELLS, MAX_PROPERTY_COLUMNS,
    PROPERTY_GEOMETRY_COLUMN, WIDE_COLUMNS,
};
use crate::{Error, Result};

/// The read buffer of each pass.
const BUFFER_SIZE: usize = 1 << 16;

/// A batch ends early once its features add up to this much GeoJSON text.
///
/// No value grows more than about eight times from GeoJSON text to Arrow (the
/// worst is WKB of short coordinates such as `[0,0]`), so this keeps every
/// `Binary` and `Utf8` column of a batch under 1 GiB, well within the 2 GiB
/// that 32-bit offsets allow, and bounds memory when features are large.
const BATCH_BYTES: usize = 128 << 20;

/// Options of [`GeoJsonReader`].
///
/// # Examples
///
/// ```
/// use geoquet_geojson::{DEFAULT_BATCH_SIZE, ReadOptions};
///
/// let options = ReadOptions::default();
/// assert_eq!(options.batch_size(), DEFAULT_BATCH_SIZE);
/// let options = options.with_batch_size(1024).with_source_name("stdin");
/// assert_eq!(options.batch_size(), 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    batch_size: usize,
    source_name: Option<String>,
    /// How the fast path cuts and parses; `None`: the careful path only.
    tuning: Option<Tuning>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            source_name: None,
            tuning: Some(Tuning::default()),
        }
    }
}

impl ReadOptions {
    /// The same options with at most `rows` rows per batch (default
    /// [`DEFAULT_BATCH_SIZE`]; must be at least 1). A batch also ends early
    /// once its features add up to 128 MiB of GeoJSON text, which bounds
    /// memory and keeps each column within Arrow's 2 GiB limit per array.
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::ReadOptions;
    ///
    /// assert_eq!(ReadOptions::default().with_batch_size(2).batch_size(), 2);
    /// ```
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }

    /// The same options naming the input `name` in errors (default: the
    /// path, or `-` for a reader).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::Error;
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let options = ReadOptions::default().with_source_name("upload.geojson");
    /// match GeoJsonReader::try_from_reader(Cursor::new("{\"type\":\"Feature\"]"), options) {
    ///     Err(Error::GeoJson { source_name, .. }) => assert_eq!(source_name, "upload.geojson"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn with_source_name(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }

    /// Test hook: the careful path only (`None`), or the fast path with
    /// these chunks and threads.
    #[cfg(test)]
    pub(crate) fn with_tuning(mut self, tuning: Option<Tuning>) -> Self {
        self.tuning = tuning;
        self
    }

    /// The maximum number of rows per batch.
    ///
    /// # Examples
    ///
    /// ```
    /// use geoquet_geojson::ReadOptions;
    ///
    /// assert_eq!(ReadOptions::default().batch_size(), 65_536);
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
}

/// One feature, taken apart.
struct Feature {
    id: Value,
    properties: Option<Map<String, Value>>,
    geometry: Value,
}

/// A Feature (or, outside a FeatureCollection, a bare geometry) from its JSON.
fn interpret(value: Value, layout: Layout) -> std::result::Result<Feature, String> {
    let Value::Object(mut obj) = value else {
        return Err(format!(
            "expected a GeoJSON Feature object, found {}",
            geoparquet_meta::metadata::json_kind(&value)
        ));
    };
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => return Err(format!("\"type\" must be a string, found {other}")),
        None => return Err("the object has no \"type\"".to_owned()),
    };
    match ty.as_str() {
        "Feature" => {
            let properties = match obj.remove("properties") {
                None | Some(Value::Null) => None,
                Some(Value::Object(p)) => Some(p),
                Some(other) => {
                    return Err(format!(
                        "\"properties\" must be an object or null, found {}",
                        geoparquet_meta::metadata::json_kind(&other)
                    ));
                }
            };
            Ok(Feature {
                id: obj.remove("id").unwrap_or(Value::Null),
                properties,
                geometry: obj.remove("geometry").unwrap_or(Value::Null),
            })
        }
        t if geoparquet_meta::GeometryType::from_name(t).is_some() => {
            if layout == Layout::Collection {
                return Err(format!(
                    "the features of a FeatureCollection must be Features, found a bare {t}"
                ));
            }
            Ok(Feature {
                id: Value::Null,
                properties: None,
                geometry: Value::Object(obj),
            })
        }
        "FeatureCollection" => Err(
            "a FeatureCollection can only be the whole input, not one of several values".to_owned(),
        ),
        other => Err(format!(
            "unknown GeoJSON type \"{other}\": expected \"Feature\" or a geometry type"
        )),
    }
}

/// The [`Error::TempDir`] an I/O error carries (a spill write that failed: a full
/// temporary directory is its own error, not the input's), else the I/O error.
fn temp_dir_error(e: io::Error) -> std::result::Result<Error, io::Error> {
    if !e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return Err(e);
    }
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<Error>()) {
        Some(Ok(err)) => Ok(*err),
        _ => Err(io::Error::from(kind)),
    }
}

/// Pass 1 on the fast path: what the features hold, their columns (kept in
/// a spill file) and how they are laid out; `None` when the careful path
/// must decide.
fn fast_learn(
    file: &File,
    layout: Layout,
    tuning: Tuning,
    mut spill: Spill,
) -> io::Result<Option<(Learnt, Spill, Mode)>> {
    let (start, mode) = match layout {
        Layout::Sequence => {
            let mut head = Vec::with_capacity(3);
            let mut f = file;
            f.seek(SeekFrom::Start(0))?;
            f.take(3).read_to_end(&mut head)?;
            let bom = head == [0xEF, 0xBB, 0xBF];
            (if bom { 3 } else { 0 }, Mode::Sequence)
        }
        Layout::Collection | Layout::Array => {
            (&*file).seek(SeekFrom::Start(0))?;
            let mut stream =
                FeatureStream::new(BufReader::with_capacity(BUFFER_SIZE, file), layout);
            match stream.first_element_offset() {
                Ok(Some(at)) => (
                    at,
                    Mode::Elements {
                        in_collection: layout == Layout::Collection,
                    },
                ),
                Ok(None) | Err(_) => return Ok(None),
            }
        }
    };
    let parse: Arc<ParseFn<(Learnt, Option<Built>)>> =
        Arc::new(move |bytes: &[u8]| parallel::learn(bytes, mode));
    let mut ordered = Ordered::new(file, start, mode, tuning, parse)?;
    let mut all = Learnt::default();
    while let Some(result) = ordered.next_result() {
        match result {
            Ok(((learnt, built), range)) => {
                spill.push(range, learnt.num_features, built)?;
                all.merge(learnt);
            }
            Err(Fail::Bail) => return Ok(None),
            Err(Fail::Io(e)) => return Err(e),
        }
    }
    if let Some(after) = ordered.closed_at() {
        // What follows the features array (other members, white space).
        (&*file).seek(SeekFrom::Start(after))?;
        let mut tail =
            FeatureStream::after_features(BufReader::with_capacity(BUFFER_SIZE, file), layout);
        if !matches!(tail.next_feature(), Ok(None)) {
            return Ok(None);
        }
    }
    Ok(Some((all, spill, mode)))
}

/// A name not in `taken`: `base`, else `base_2`, `base_3`, ...
fn unique(base: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2_u64..)
        .map(|n| format!("{base}_{n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_owned())
}

/// The start of a streamed input: a byte-order mark, white space, then
/// `{` or `[` (at least what [`detect`] accepts).
#[derive(Debug, Default)]
struct Sniff {
    /// Bytes seen so far (for the byte-order mark).
    seen: usize,
    /// Past the byte-order mark (or there is none).
    after_bom: bool,
    /// The first significant byte, `{` or `[`, once seen.
    opener: Option<u8>,
    /// The second significant byte was one that can follow the opener (a key or
    /// `}` in an object, an object, `null` or `]` in an array): an endless `[[[[`
    /// ends at once too.
    decided: bool,
    /// Newlines before the byte looked at.
    newlines: u64,
}

impl Sniff {
    /// Looks at the next bytes; the offending byte when the input cannot be GeoJSON.
    fn feed(&mut self, bytes: &[u8]) -> std::result::Result<(), u8> {
        for &b in bytes {
            if self.decided {
                return Ok(());
            }
            let i = self.seen;
            self.seen += 1;
            if !self.after_bom && BOM.get(i) == Some(&b) {
                continue;
            }
            self.after_bom = true;
            if b == b'\n' {
                self.newlines += 1;
            }
            if is_ws(b) {
                continue;
            }
            match (self.opener, b) {
                (None, b'{' | b'[') => self.opener = Some(b),
                (Some(b'{'), b'"' | b'}') | (Some(b'['), b'{' | b']' | b'n') => {
                    self.decided = true;
                }
                _ => return Err(b),
            }
        }
        Ok(())
    }

    /// The 1-based line of the byte looked at last.
    fn line(&self) -> u64 {
        self.newlines + 1
    }
}

/// Where pass 2 reads from.
enum Engine {
    /// One feature at a time through `serde_json`.
    Careful(FeatureStream<BufReader<File>>),
    /// The chunks pass 1 built (or parsed again), sliced to the batch size.
    Fast {
        replay: Box<Replay>,
        queue: VecDeque<RecordBatch>,
    },
}

/// How pass 2 will read.
enum Pass2 {
    Careful(FeatureStream<BufReader<File>>),
    Fast {
        file: File,
        spill: Spill,
        mode: Mode,
    },
}

/// Reads GeoJSON as Arrow record batches with a WKB geometry column.
///
/// The constructor reads the whole input once: it infers the property
/// schema over all features and checks every feature and geometry. On the
/// fast path (the usual one) it parses chunks of about 4 MiB on worker
/// threads and keeps each chunk's columns in an anonymous temporary file
/// (Arrow IPC); the iterator then gives them in the final schema, parsing
/// again only the chunks whose columns changed type later in the input.
/// Anything unusual (an error above all) sends the input down the careful
/// path instead: two passes one feature at a time through `serde_json`,
/// which names the feature in its errors. Both paths give the same batches.
/// Memory depends on the batch size, the chunk size and the largest
/// feature, not on the input size. A reader that cannot seek (such as
/// standard input) is first copied to an anonymous temporary file.
///
/// Errors in the input are found by the constructor; the iterator only
/// fails if the input changes while it is read or an I/O error occurs.
/// After an error the iterator ends.
///
/// See the [module documentation](super) for the formats and the inference rules.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
///
/// use arrow_array::cast::AsArray;
/// use arrow_array::types::Int64Type;
/// use geoquet_geojson::{GeoJsonReader, ReadOptions};
///
/// let ndjson = "\
/// {\"type\":\"Feature\",\"properties\":{\"n\":1},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}
/// {\"type\":\"Feature\",\"properties\":{\"n\":2,\"name\":\"b\"},\"geometry\":null}
/// ";
/// let reader = GeoJsonReader::try_from_reader(Cursor::new(ndjson), ReadOptions::default())?;
/// let names: Vec<_> = reader.schema().fields().iter().map(|f| f.name().clone()).collect();
/// assert_eq!(names, ["n", "name", "geometry"]);
///
/// let batches = reader.collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(batches.len(), 1);
/// let n = batches[0].column(0).as_primitive::<Int64Type>();
/// assert_eq!(n.values(), &[1, 2]);
/// assert!(batches[0].column(2).is_null(1));
/// # Ok::<(), geoquet_geojson::Error>(())
/// ```
pub struct GeoJsonReader {
    schema: SchemaRef,
    format: GeoJsonFormat,
    layout: Layout,
    source_name: String,
    path: PathBuf,
    batch_size: usize,
    engine: Engine,
    id: Option<ColumnBuilder>,
    feature_id_column: Option<String>,
    property_index: HashMap<String, usize>,
    properties: Vec<ColumnBuilder>,
    slots: Vec<Option<Value>>,
    /// The builder of the folded properties column and the current
    /// feature's folded members, when there are too many properties.
    folded: Option<(ColumnBuilder, Map<String, Value>)>,
    geometry: BinaryBuilder,
    scratch: Vec<u8>,
    num_features: u64,
    geometry_types: BTreeSet<GeometryTypeAndDimension>,
    bbox: Option<BoundingBox>,
    done: bool,
}

impl std::fmt::Debug for GeoJsonReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoJsonReader")
            .field("source_name", &self.source_name)
            .field("format", &self.format)
            .field("schema", &self.schema)
            .field("num_features", &self.num_features)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl GeoJsonReader {
    /// Reads the file at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// use geoquet_geojson::{GeoJsonFormat, GeoJsonReader, ReadOptions};
    ///
    /// let mut file = tempfile::NamedTempFile::new().unwrap();
    /// file.write_all(br#"{"type":"FeatureCollection","features":[
    ///   {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}
    /// ]}"#).unwrap();
    /// let reader = GeoJsonReader::try_from_path(file.path(), ReadOptions::default())?;
    /// assert_eq!(reader.format(), GeoJsonFormat::FeatureCollection);
    /// assert_eq!(reader.num_features(), 1);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn try_from_path(path: impl AsRef<Path>, options: ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let name = options
            .source_name
            .clone()
            .unwrap_or_else(|| path.display().to_string());
        Self::from_file(file, name, path.to_owned(), &options)
    }

    /// Reads everything from `reader` (for example standard input), first
    /// copying it to an anonymous temporary file so that it can be read again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonFormat, GeoJsonReader, ReadOptions};
    ///
    /// let text = r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#;
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
    /// assert_eq!(reader.format(), GeoJsonFormat::NewlineDelimited);
    /// assert_eq!(reader.schema().fields().len(), 1);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn try_from_reader(mut reader: impl Read, options: ReadOptions) -> Result<Self> {
        let name = options
            .source_name
            .clone()
            .unwrap_or_else(|| "-".to_owned());
        let path = PathBuf::from(&name);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        // Read errors are the input's; write errors the temporary directory's.
        let mut spill = geoparquet_io::output::scratch_file(None)?;
        let mut buf = vec![0u8; 1 << 16];
        // The first significant byte is looked at as it arrives, so that an
        // endless stream that is not JSON (`< /dev/zero`) ends at once
        // instead of filling the temporary directory.
        let mut sniff = Sniff::default();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            if let Err(found) = sniff.feed(buf.get(..n).unwrap_or_default()) {
                return Err(Error::GeoJson {
                    source_name: name.clone(),
                    feature: None,
                    message: match sniff.opener {
                        Some(b'[') => format!(
                            "line {}: expected a Feature ('{{') or ']' in an array of Features, found byte 0x{found:02x}",
                            sniff.line()
                        ),
                        Some(_) => format!(
                            "line {}: expected a key ('\"') or '}}' in an object, found byte 0x{found:02x}",
                            sniff.line()
                        ),
                        None => format!(
                            "line {}: expected a GeoJSON object ('{{') or an array of Features ('['), found byte 0x{found:02x}",
                            sniff.line()
                        ),
                    },
                });
            }
            spill
                .write_all(&buf[..n])
                .map_err(|source| Error::TempDir {
                    dir: std::env::temp_dir(),
                    source,
                })?;
        }
        Self::from_file(spill, name.clone(), path.clone(), &options)
    }

    fn from_file(
        file: File,
        source_name: String,
        path: PathBuf,
        options: &ReadOptions,
    ) -> Result<Self> {
        if options.batch_size == 0 {
            return Err(Error::ZeroBatchSize);
        }
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let stream_error = |e: StreamError| match e.error {
            ScanError::Io(source) => io(source),
            ScanError::Syntax(message) => Error::GeoJson {
                source_name: source_name.clone(),
                feature: e.feature,
                message,
            },
        };

        (&file).seek(SeekFrom::Start(0)).map_err(io)?;
        let layout = detect(&mut Scanner::new(BufReader::with_capacity(
            BUFFER_SIZE,
            &file,
        )))
        .map_err(|error| {
            stream_error(StreamError {
                feature: None,
                error,
            })
        })?;

        // Pass 1 on the fast path; the careful path when it gives up.
        let fast = match options.tuning {
            // The spill is created here so that a full or missing temporary
            // directory is named as such, not blamed on the input.
            Some(tuning) => fast_learn(&file, layout, tuning, Spill::new()?)
                .map_err(|e| temp_dir_error(e).unwrap_or_else(io))?,
            None => None,
        };
        if let Some((summary, spill, mode)) = fast {
            let pass2 = if summary.properties.names().len() > WIDE_COLUMNS {
                // Wide: the careful pass 2, in batches cut to the cell budget.
                drop(spill);
                (&file).seek(SeekFrom::Start(0)).map_err(io)?;
                Pass2::Careful(FeatureStream::new(
                    BufReader::with_capacity(BUFFER_SIZE, file),
                    layout,
                ))
            } else {
                Pass2::Fast { file, spill, mode }
            };
            return Ok(Self::plan(
                summary,
                pass2,
                layout,
                source_name,
                path,
                options.batch_size,
            ));
        }

        // Pass 1: infer and check.
        (&file).seek(SeekFrom::Start(0)).map_err(io)?;
        let mut stream = FeatureStream::new(BufReader::with_capacity(BUFFER_SIZE, &file), layout);
        let mut summary = Learnt::default();
        let mut scratch = Vec::new();
        while let Some((number, value)) = stream.next_feature().map_err(stream_error)? {
            let feature_error = |message: String| Error::GeoJson {
                source_name: source_name.clone(),
                feature: Some(number),
                message,
            };
            let feature = interpret(value, layout).map_err(feature_error)?;
            summary.id.absorb(&feature.id);
            if let Some(p) = &feature.properties {
                summary.properties.absorb_object(p);
            }
            if !feature.geometry.is_null() {
                scratch.clear();
                let t = geojson_to_wkb(
                    &feature.geometry,
                    GeoJsonToWkbOptions::default(),
                    &mut scratch,
                    Some(&mut summary.extent),
                )
                .map_err(|source| Error::Geometry {
                    source_name: source_name.clone(),
                    feature: Some(number),
                    source,
                })?;
                summary.geometry_types.insert(t);
            }
            summary.num_features += 1;
        }
        drop(stream);

        // Pass 2 is driven by the iterator.
        (&file).seek(SeekFrom::Start(0)).map_err(io)?;
        let stream = FeatureStream::new(BufReader::with_capacity(BUFFER_SIZE, file), layout);
        Ok(Self::plan(
            summary,
            Pass2::Careful(stream),
            layout,
            source_name,
            path,
            options.batch_size,
        ))
    }

    /// The schema and builders from the first pass.
    fn plan(
        summary: Learnt,
        pass2: Pass2,
        layout: Layout,
        source_name: String,
        path: PathBuf,
        batch_size: usize,
    ) -> Self {
        let props = &summary.properties;
        // Beyond the cap, the remaining properties go into one JSON column.
        let folding = props.names().len() > MAX_PROPERTY_COLUMNS;
        let kept = if folding {
            MAX_PROPERTY_COLUMNS - 1
        } else {
            props.names().len()
        };
        let (names, kinds) = (&props.names()[..kept], &props.kinds()[..kept]);
        // Property columns keep their names, except one called like the geometry column.
        let mut property_columns: Vec<String> = Vec::with_capacity(kept + 1);
        for name in names {
            let column = if name == GEOMETRY_COLUMN {
                unique(PROPERTY_GEOMETRY_COLUMN, &|n| props.contains(n))
            } else {
                name.clone()
            };
            property_columns.push(column);
        }
        if folding {
            let taken =
                |n: &str| n == GEOMETRY_COLUMN || n == ID_COLUMN || names.iter().any(|c| c == n);
            property_columns.push(unique(FOLDED_PROPERTIES_COLUMN, &taken));
        }
        let taken = |n: &str| n == GEOMETRY_COLUMN || property_columns.iter().any(|c| c == n);
        let feature_id_column = summary.id.data_type().map(|_| {
            if props.contains(ID_COLUMN) {
                unique(FEATURE_ID_COLUMN, &taken)
            } else {
                ID_COLUMN.to_owned()
            }
        });

        let mut fields = Vec::new();
        if let (Some(name), Some(dt)) = (&feature_id_column, summary.id.data_type()) {
            fields.push(Field::new(name, dt, true));
        }
        for (column, kind) in property_columns.iter().zip(kinds) {
            fields.push(Field::new(column, kind.data_type(), true));
        }
        if let (true, Some(column)) = (folding, property_columns.last()) {
            fields.push(
                Field::new(column, DataType::Utf8, true).with_metadata(
                    [
                        (FOLDED_PROPERTIES_KEY.to_owned(), "true".to_owned()),
                        ("ARROW:extension:name".to_owned(), "arrow.json".to_owned()),
                        ("ARROW:extension:metadata".to_owned(), String::new()),
                    ]
                    .into(),
                ),
            );
        }
        fields.push(Field::new(GEOMETRY_COLUMN, DataType::Binary, true));

        let property_index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let format = match layout {
            Layout::Collection => GeoJsonFormat::FeatureCollection,
            Layout::Array => GeoJsonFormat::FeatureArray,
            Layout::Sequence => GeoJsonFormat::NewlineDelimited,
        };
        let schema = Arc::new(Schema::new(fields));
        let engine = match pass2 {
            Pass2::Careful(stream) => Engine::Careful(stream),
            Pass2::Fast { file, spill, mode } => {
                // (Never folding: wide inputs take the careful path.)
                let plan = Plan {
                    schema: schema.clone(),
                    names: names.to_vec(),
                    kinds: kinds.to_vec(),
                    index: property_index.clone(),
                    id: feature_id_column.as_ref().map(|_| summary.id),
                };
                Engine::Fast {
                    replay: Box::new(Replay::new(spill, file, mode, plan)),
                    queue: VecDeque::new(),
                }
            }
        };
        // Wide inputs get shorter batches: rows x columns within the budget.
        let batch_size = batch_size.min((MAX_BATCH_CELLS / (kept + 2)).max(1));
        Self {
            schema,
            format,
            layout,
            source_name,
            path,
            batch_size,
            engine,
            id: feature_id_column
                .as_ref()
                .map(|_| ColumnBuilder::for_id(summary.id)),
            feature_id_column,
            property_index,
            properties: kinds.iter().map(ColumnBuilder::new).collect(),
            slots: vec![None; kept],
            folded: folding.then(|| (ColumnBuilder::new(&super::infer::Kind::Json), Map::new())),
            geometry: BinaryBuilder::new(),
            scratch: Vec::new(),
            num_features: summary.num_features,
            geometry_types: summary.geometry_types,
            bbox: summary.extent.to_bbox(),
            done: false,
        }
    }

    /// The schema of every batch: the feature id column (if any feature has
    /// an id), the properties in order of first appearance, then
    /// [`GEOMETRY_COLUMN`] (`Binary`, ISO WKB). All columns are nullable and
    /// the schema has no metadata.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use arrow_schema::DataType;
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let text = r#"{"type":"Feature","id":"x","properties":{"a":1.5},"geometry":null}"#;
    /// let schema = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?.schema();
    /// let types: Vec<_> = schema.fields().iter().map(|f| (f.name().as_str(), f.data_type().clone())).collect();
    /// assert_eq!(types, [("id", DataType::Utf8), ("a", DataType::Float64), ("geometry", DataType::Binary)]);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// How the input was laid out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonFormat, GeoJsonReader, ReadOptions};
    ///
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new("[]"), ReadOptions::default())?;
    /// assert_eq!(reader.format(), GeoJsonFormat::FeatureArray);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn format(&self) -> GeoJsonFormat {
        self.format
    }

    /// How many features the input has (rows over all batches).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let text = "{\"type\":\"Point\",\"coordinates\":[1,2]}\n{\"type\":\"Point\",\"coordinates\":[3,4]}\n";
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
    /// assert_eq!(reader.num_features(), 2);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn num_features(&self) -> u64 {
        self.num_features
    }

    /// The geometry types (with dimension) of the non-null geometries, sorted:
    /// what GeoParquet's `geometry_types` wants.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let text = "{\"type\":\"Point\",\"coordinates\":[1,2,3]}\n{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}\n";
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
    /// let names: Vec<String> = reader.geometry_types().iter().map(|t| t.to_string()).collect();
    /// assert_eq!(names, ["Point Z", "LineString"]);
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn geometry_types(&self) -> &BTreeSet<GeometryTypeAndDimension> {
        &self.geometry_types
    }

    /// The bounding box of all coordinates (with the Z range when any
    /// geometry has Z), `None` when there is no coordinate at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let text = "{\"type\":\"MultiPoint\",\"coordinates\":[[1,5],[3,-2]]}";
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
    /// assert_eq!(reader.bbox().map(|b| b.to_vec()), Some(vec![1.0, -2.0, 3.0, 5.0]));
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn bbox(&self) -> Option<BoundingBox> {
        self.bbox
    }

    /// The name of the column holding the Feature ids: [`ID_COLUMN`], or
    /// [`FEATURE_ID_COLUMN`] when a property is also called `id`; `None` when
    /// no feature has an id.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use geoquet_geojson::{GeoJsonReader, ReadOptions};
    ///
    /// let text = r#"{"type":"Feature","id":7,"properties":{"id":"seven"},"geometry":null}"#;
    /// let reader = GeoJsonReader::try_from_reader(Cursor::new(text), ReadOptions::default())?;
    /// assert_eq!(reader.feature_id_column(), Some("__feature_id"));
    /// # Ok::<(), geoquet_geojson::Error>(())
    /// ```
    pub fn feature_id_column(&self) -> Option<&str> {
        self.feature_id_column.as_deref()
    }

    /// Test hook: whether pass 2 runs on the fast path.
    #[cfg(test)]
    pub(crate) fn is_fast(&self) -> bool {
        matches!(self.engine, Engine::Fast { .. })
    }

    /// The next batch of the fast path.
    fn next_fast_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Engine::Fast { replay, queue } = &mut self.engine else {
            return Ok(None);
        };
        let changed = |message: String| Error::GeoJson {
            source_name: self.source_name.clone(),
            feature: None,
            message,
        };
        loop {
            if let Some(batch) = queue.pop_front() {
                return Ok(Some(batch));
            }
            match replay.next_batch() {
                None => return Ok(None),
                Some(Ok(batch)) => {
                    let size = self.batch_size.max(1);
                    let mut offset = 0;
                    while offset < batch.num_rows() {
                        let len = size.min(batch.num_rows() - offset);
                        queue.push_back(batch.slice(offset, len));
                        offset += len;
                    }
                }
                Some(Err(ReplayError::Changed(message))) => return Err(changed(message)),
                Some(Err(ReplayError::Io(source))) => {
                    return Err(Error::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Engine::Careful(stream) = &mut self.engine else {
            return self.next_fast_batch();
        };
        let source_name = &self.source_name;
        let path = &self.path;
        let mut rows = 0;
        let mut bytes: usize = 0;
        while rows < self.batch_size && bytes < BATCH_BYTES {
            let next = stream.next_feature().map_err(|e| match e.error {
                ScanError::Io(source) => Error::Io {
                    path: path.clone(),
                    source,
                },
                ScanError::Syntax(message) => Error::GeoJson {
                    source_name: source_name.clone(),
                    feature: e.feature,
                    message,
                },
            })?;
            let Some((number, value)) = next else {
                break;
            };
            bytes = bytes.saturating_add(stream.last_size());
            let feature_error = |message: String| Error::GeoJson {
                source_name: source_name.clone(),
                feature: Some(number),
                message,
            };
            let feature = interpret(value, self.layout).map_err(feature_error)?;
            if let Some(b) = &mut self.id {
                b.append(&feature.id).map_err(feature_error)?;
            }
            for (name, value) in feature.properties.into_iter().flatten() {
                let slot = self
                    .property_index
                    .get(&name)
                    .and_then(|&i| self.slots.get_mut(i));
                if let (None, Some((_, rest))) = (&slot, &mut self.folded) {
                    rest.insert(name, value);
                    continue;
                }
                let slot = slot.ok_or_else(|| {
                        feature_error(format!(
                            "property \"{name}\" was not seen by the first pass (did the input change while it was read?)"
                        ))
                    })?;
                *slot = Some(value);
            }
            for (slot, builder) in self.slots.iter_mut().zip(&mut self.properties) {
                let value = slot.take().unwrap_or(Value::Null);
                builder.append(&value).map_err(feature_error)?;
            }
            if let Some((builder, rest)) = &mut self.folded {
                let value = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(std::mem::take(rest))
                };
                builder.append(&value).map_err(feature_error)?;
            }
            if feature.geometry.is_null() {
                self.geometry.append_null();
            } else {
                self.scratch.clear();
                geojson_to_wkb(
                    &feature.geometry,
                    GeoJsonToWkbOptions::default(),
                    &mut self.scratch,
                    None,
                )
                .map_err(|source| Error::Geometry {
                    source_name: source_name.clone(),
                    feature: Some(number),
                    source,
                })?;
                fits(self.geometry.values_slice().len(), self.scratch.len())
                    .map_err(|m| feature_error(format!("geometry: {m}")))?;
                self.geometry.append_value(&self.scratch);
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let finish_error = |message: String| Error::GeoJson {
            source_name: source_name.clone(),
            feature: None,
            message,
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        if let Some(b) = &mut self.id {
            columns.push(b.finish().map_err(finish_error)?);
        }
        for b in &mut self.properties {
            columns.push(b.finish().map_err(finish_error)?);
        }
        if let Some((b, _)) = &mut self.folded {
            columns.push(b.finish().map_err(finish_error)?);
        }
        columns.push(Arc::new(self.geometry.finish()));
        Ok(Some(RecordBatch::try_new(self.schema.clone(), columns)?))
    }
}

impl Iterator for GeoJsonReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_batch() {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
