//! The error type of this crate.

use std::path::PathBuf;

use arrow_schema::DataType;

/// Everything that can go wrong reading or writing GeoJSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file (`-` for standard input, `output` for the writer's sink).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
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
    /// GeoJSON input that cannot be read: not JSON, not GeoJSON, or a Feature
    /// that is not one, with where it went wrong.
    #[error("{source_name}{}: {message}", .feature.map(|n| format!(" (feature {n})")).unwrap_or_default())]
    GeoJson {
        /// The file, `-` for standard input.
        source_name: String,
        /// The 1-based feature number (or line number for NDJSON), when known.
        feature: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A Feature's geometry object cannot be encoded as WKB.
    #[error("{source_name}{}: geometry: {source}", .feature.map(|n| format!(" (feature {n})")).unwrap_or_default())]
    Geometry {
        /// The file, `-` for standard input.
        source_name: String,
        /// The 1-based feature number (or line number for NDJSON), when known.
        feature: Option<u64>,
        /// What is wrong with the geometry.
        #[source]
        source: geoparquet_meta::Error,
    },
    /// A geometry value that is not valid WKB.
    #[error("column \"{column}\", row {row}: invalid WKB: {source}")]
    InvalidWkb {
        /// The geometry column.
        column: String,
        /// The 0-based row, counted over all batches written.
        row: u64,
        /// What the decoder said.
        #[source]
        source: geoparquet_meta::Error,
    },
    /// [`ReadOptions::with_batch_size`](crate::ReadOptions::with_batch_size) of 0.
    #[error("the batch size must be at least 1")]
    ZeroBatchSize,
    /// The writer's geometry column does not exist.
    #[error("no geometry column named \"{column}\"")]
    NoGeometryColumn {
        /// The name asked for.
        column: String,
    },
    /// The writer's geometry column does not hold WKB.
    #[error("geometry column \"{column}\" must hold WKB (Binary, LargeBinary or BinaryView), not {}", .data_type.as_ref().map_or_else(|| "nothing".to_owned(), |t| t.to_string()))]
    GeometryNotWkb {
        /// The column.
        column: String,
        /// Its type.
        data_type: Option<DataType>,
    },
    /// The id column asked for does not exist or holds neither strings nor numbers.
    #[error("no id column \"{column}\" holding strings or numbers")]
    NoIdColumn {
        /// The name asked for.
        column: String,
    },
    /// A column's type has no GeoJSON form.
    #[error("column \"{column}\": {}", unsupported(.data_type))]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its type (or the nested type that has no form).
        data_type: DataType,
    },
    /// A record batch's columns differ from the writer's schema.
    #[error("a record batch's columns differ from the writer's schema")]
    SchemaMismatch,
    /// A value that cannot be written as JSON.
    #[error("{}{message}", .column.as_ref().map(|c| format!("column \"{c}\", row {row}: ")).unwrap_or_default())]
    Value {
        /// The column (`None` for the id and folded properties, as before).
        column: Option<String>,
        /// The 0-based row, counted over all batches written.
        row: u64,
        /// What is wrong.
        message: String,
    },
    /// A worker thread panicked (a bug, not bad input).
    #[error("internal error: worker thread \"{task}\" panicked: {message}")]
    WorkerPanicked {
        /// What the thread was doing.
        task: &'static str,
        /// The panic message.
        message: String,
    },
    /// An error of `geoparquet-io` (scratch files, threads).
    #[error(transparent)]
    GeoParquet(geoparquet_io::Error),
    /// An Arrow error.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
}

fn unsupported(t: &DataType) -> String {
    format!("type {t} has no GeoJSON mapping here; cast the column first (for example to Utf8)")
}

impl From<geoparquet_io::Error> for Error {
    fn from(e: geoparquet_io::Error) -> Self {
        match e {
            geoparquet_io::Error::TempDir { dir, source } => Error::TempDir { dir, source },
            geoparquet_io::Error::WorkerPanicked { task, message } => {
                Error::WorkerPanicked { task, message }
            }
            other => Error::GeoParquet(other),
        }
    }
}

/// For the readers' [`RecordBatchReader`](arrow_array::RecordBatchReader)
/// implementation: the error travels as [`ArrowError::ExternalError`](arrow_schema::ArrowError::ExternalError).
impl From<Error> for arrow_schema::ArrowError {
    fn from(e: Error) -> Self {
        match e {
            Error::Arrow(a) => a,
            other => arrow_schema::ArrowError::ExternalError(Box::new(other)),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
