//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong reading or writing GeoParquet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a Parquet file (or its footer is damaged).
    #[error("{}: not a readable Parquet file: {message}", .path.display())]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        message: String,
    },
    /// The file has no `geo` metadata and no native geospatial column.
    #[error("{}: no \"geo\" metadata and no Parquet GEOMETRY/GEOGRAPHY column: not a GeoParquet file", .path.display())]
    NotGeoParquet {
        /// The file.
        path: PathBuf,
    },
    /// The footer's key/value metadata is not UTF-8.
    #[error("{}: the footer's key/value metadata is not valid UTF-8: {detail}", .path.display())]
    InvalidUtf8Metadata {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// The `geo` metadata could not be interpreted.
    #[error("{}: {source}", .path.display())]
    Meta {
        /// The file.
        path: PathBuf,
        /// The metadata error.
        #[source]
        source: geoparquet_meta::Error,
    },
    /// An error from the Parquet library.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An error from the Arrow library.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A geometry value that is not valid ISO WKB.
    #[error("column \"{column}\", row {row}: invalid WKB: {message}")]
    InvalidWkb {
        /// The geometry column.
        column: String,
        /// The 0-based row within the file or stream.
        row: u64,
        /// What the decoder said.
        message: String,
    },
    /// The output path is not a regular file (a directory, device, FIFO or socket, also
    /// behind a symbolic link): it is never replaced nor written through.
    #[error("{}: is {kind}, not a regular file: refusing to write there (name a regular file, or - for standard output)", .path.display())]
    NotRegularOutput {
        /// The output path as given.
        path: PathBuf,
        /// What it is ("a character device", "a FIFO (named pipe)", ...).
        kind: &'static str,
    },
    /// A scratch file could not be created or written in the temporary directory.
    #[error("temporary directory {}: {source} (set TMPDIR, or --temp-dir where offered, to a writable folder with room)", .dir.display())]
    TempDir {
        /// The temporary directory.
        dir: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file's data cannot be decoded (damaged or truncated pages, or a
    /// panic of the decoder on them), with the column and row group when known.
    #[error("{}: corrupt data{}: {message}", .path.display(), where_in_file(.column.as_deref(), *.row_group))]
    CorruptData {
        /// The file.
        path: PathBuf,
        /// The leaf column's dotted path, when known.
        column: Option<String>,
        /// The 0-based row group, when known.
        row_group: Option<usize>,
        /// What the decoder said.
        message: String,
    },
    /// A worker thread panicked (a bug, not bad input), or could not be started.
    #[error("internal error: worker thread \"{task}\" panicked: {message}")]
    WorkerPanicked {
        /// What the thread was doing.
        task: &'static str,
        /// The panic message.
        message: String,
    },
    /// A column asked for by name is not a root column of the file.
    #[error("no column \"{column}\" in the file (columns: {})", .available.join(", "))]
    NoSuchColumn {
        /// The name asked for.
        column: String,
        /// The file's root columns.
        available: Vec<String>,
    },
    /// An object store (or its URL) failed: the URL or object path as given
    /// (never credentials) and the store's error.
    #[error("{url}: {source}")]
    Store {
        /// The URL (or the object's path in its store).
        url: String,
        /// The store's or URL parser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value given as text (a version, an encoding, a sort key, …) is not one
    /// this crate knows.
    #[error("unknown {what} \"{value}\" (expected {expected})")]
    InvalidValue {
        /// What was parsed ("GeoParquet version", "geometry encoding", …).
        what: &'static str,
        /// The text given.
        value: String,
        /// The accepted forms.
        expected: &'static str,
    },
    /// The `geo` metadata given to a writer (not read from a file) is not usable.
    #[error("{source}")]
    Metadata {
        /// The metadata error.
        #[from]
        source: geoparquet_meta::Error,
    },
    /// The input to a writer has no geometry column.
    #[error(
        "no geometry column: expected a WKB column named \"geometry\" or \"geography\", or a geoarrow.wkb field"
    )]
    NoGeometryColumn,
    /// A geometry column does not hold WKB.
    #[error(
        "geometry column \"{column}\" must hold WKB (Binary, LargeBinary or BinaryView), found {found}"
    )]
    NotWkb {
        /// The column.
        column: String,
        /// Its Arrow type.
        found: String,
    },
    /// An array read as WKB is not binary.
    #[error("a WKB column must be Binary, LargeBinary or BinaryView, found {found}")]
    NotBinary {
        /// Its Arrow type.
        found: String,
    },
    /// An encoding asked for does not exist in the GeoParquet version asked for.
    #[error("the {encoding} encoding exists only in GeoParquet {only_in}")]
    EncodingNotInVersion {
        /// The encoding ("GeoArrow (native)").
        encoding: &'static str,
        /// The version that has it.
        only_in: &'static str,
    },
    /// A column's CRS or edges cannot be written the way asked for.
    #[error("column \"{column}\": {problem}")]
    UnwritableCrs {
        /// The geometry column.
        column: String,
        /// What cannot be written, and what to do instead.
        problem: String,
    },
    /// A column has M values, which the GeoParquet version asked for cannot declare.
    #[error(
        "column \"{column}\" has M values, which GeoParquet {version} cannot declare; write version 2.0"
    )]
    MeasureNeedsV2 {
        /// The geometry column.
        column: String,
        /// The version asked for.
        version: String,
    },
    /// The GeoArrow encoding needs one geometry type (or a type and its Multi form) of one dimension.
    #[error(
        "column \"{column}\": the GeoArrow encoding needs the input to declare one geometry type (or a type and its Multi form) of one dimension; it declares {declared:?}"
    )]
    GeoArrowNeedsOneType {
        /// The geometry column.
        column: String,
        /// The types the input declares.
        declared: Vec<String>,
    },
    /// A covering column's name is taken, or no free name was found.
    #[error("{}", match .name { Some(n) => format!("the covering column \"{n}\" already exists; pick another name"), None => format!("no free name for the covering of \"{column}\"") })]
    CoveringName {
        /// The geometry column covered.
        column: String,
        /// The name asked for, when one was.
        name: Option<String>,
    },
    /// A sort by a column whose type has no order the sort knows.
    #[error(
        "sort: column \"{column}\" has type {data_type}, which cannot be sorted (numbers, strings, binary, booleans, dates and timestamps can)"
    )]
    UnsortableColumn {
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: String,
    },
    /// Sort keys given to `sort::ExternalSorter::push` do not fit the batch.
    #[error("sort keys: expected {problem} (a batch of {rows} rows with {keys} keys)")]
    SortKeysMismatch {
        /// The rule broken.
        problem: &'static str,
        /// Rows of the batch.
        rows: usize,
        /// Keys given.
        keys: usize,
    },
    /// A geometry that the native (GeoArrow) column being written cannot hold: such a
    /// column holds one geometry type (or a type and its Multi form) of one dimension.
    #[error(
        "column \"{column}\", row {row}: a {found} cannot be stored in a native {expected} column (GeoArrow columns hold one geometry type, or a type and its Multi form, of one dimension)"
    )]
    NativeGeometryMismatch {
        /// The geometry column.
        column: String,
        /// The 0-based row within the file or stream.
        row: u64,
        /// The geometry's type and dimension.
        found: geoparquet_meta::GeometryTypeAndDimension,
        /// The column's native type and dimension.
        expected: geoparquet_meta::GeometryTypeAndDimension,
    },
    /// A native (GeoArrow) column whose Arrow layout does not fit its declared encoding.
    #[error("column \"{column}\": the native {encoding} encoding needs {expected}, found {found}")]
    NativeLayout {
        /// The geometry column.
        column: String,
        /// The declared encoding.
        encoding: geoparquet_meta::GeometryType,
        /// What the encoding needs where the column does not fit.
        expected: &'static str,
        /// What the column has there.
        found: String,
    },
    /// A geometry type without a GeoArrow native encoding (GeometryCollection).
    #[error("column \"{column}\": {geometry_type} has no GeoArrow native encoding")]
    NoNativeEncoding {
        /// The geometry column.
        column: String,
        /// The geometry type asked for.
        geometry_type: geoparquet_meta::GeometryType,
    },
    /// A native (GeoArrow) column of one batch needs offsets beyond 32 bits.
    #[error(
        "column \"{column}\": a native column exceeds 2^31 - 1 coordinates or parts in one batch (write smaller batches)"
    )]
    NativeTooLarge {
        /// The geometry column.
        column: String,
    },
    /// An internal invariant does not hold (a bug: please report it).
    #[error("internal error: {invariant}")]
    Internal {
        /// What should have held.
        invariant: &'static str,
    },
}

/// ` (column "c", row group g)`, the parts that are known.
fn where_in_file(column: Option<&str>, row_group: Option<usize>) -> String {
    match (column, row_group) {
        (Some(c), Some(g)) => format!(" (column \"{c}\", row group {g})"),
        (Some(c), None) => format!(" (column \"{c}\")"),
        (None, Some(g)) => format!(" (row group {g})"),
        (None, None) => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::workers::WorkerPanic> for Error {
    fn from(p: crate::workers::WorkerPanic) -> Self {
        Error::WorkerPanicked {
            task: p.task,
            message: p.message,
        }
    }
}

/// For the arrow interfaces (row filters, record batch readers): our error
/// inside `ArrowError::ExternalError`, from which the readers take it back.
///
/// ```
/// use geoparquet_io::Error;
/// use geoparquet_io::arrow_schema::ArrowError;
///
/// let e = ArrowError::from(Error::NotGeoParquet { path: "x.parquet".into() });
/// assert!(matches!(&e, ArrowError::ExternalError(b) if b.is::<Error>()));
/// ```
impl From<Error> for arrow_schema::ArrowError {
    fn from(e: Error) -> Self {
        arrow_schema::ArrowError::ExternalError(Box::new(e))
    }
}
