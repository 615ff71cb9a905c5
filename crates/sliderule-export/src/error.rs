//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while parsing `output` parameters, building a
/// file, framing a stream or uploading. Messages name the key, column, row or
/// file at fault; none ever contains a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `output` parameters are not JSON at all.
    #[error("output parameters: not JSON: {0}")]
    OutputNotJson(#[source] serde_json::Error),
    /// The `output` parameters are JSON, but not an object.
    #[error("output parameters: output parameters must be supplied as an object, found {found}")]
    OutputNotObject {
        /// What was found instead (`a list`, `a string`, ...).
        found: &'static str,
    },
    /// A name given as text (a sort order, a compatibility mode, a record
    /// type) is not one of those accepted.
    #[error("{what} \"{value}\": expected {expected}")]
    UnknownName {
        /// What the text names (`sort order`, `compatibility mode`, `record type`).
        what: &'static str,
        /// The text as given.
        value: String,
        /// The accepted names.
        expected: &'static str,
    },
    /// A key of `output` has a value of the wrong kind (strict mode, or where
    /// no default can stand in).
    #[error("output parameter \"{key}\": {message}")]
    InvalidParameter {
        /// The key, e.g. `format`.
        key: String,
        /// What is wrong with its value.
        message: String,
    },
    /// A lenient fallback that strict mode turns into an error.
    #[error("strict mode: output parameter \"{key}\": {message}")]
    Strict {
        /// The key the warning is about.
        key: String,
        /// The warning.
        message: String,
    },
    /// `path` is 128 bytes or longer; SlideRule would cut it to 127 bytes.
    #[error(
        "output path is {len} bytes long; it must be shorter than 128 bytes (SlideRule cuts it to 127 and the client then cannot find the file)"
    )]
    PathTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// An `s3://` path without a bucket or without a key.
    #[error("invalid S3 url \"{url}\": expected s3://bucket/key")]
    InvalidS3Url {
        /// The path as given.
        url: String,
    },
    /// An `s3://` path without `region` or `endpoint`.
    #[error("output path \"{url}\" is on S3 but neither \"region\" nor \"endpoint\" is given")]
    MissingRegion {
        /// The path as given.
        url: String,
    },
    /// An S3 upload without an access key id and secret.
    #[error("output path \"{url}\" is on S3 but the credentials lack {missing}")]
    MissingCredentials {
        /// The path as given.
        url: String,
        /// Which spelling group is missing (`aws_access_key_id`, `aws_secret_access_key`).
        missing: &'static str,
    },
    /// A format this exporter does not write (`h5`, `las`, `laz`).
    #[error(
        "output format \"{format}\" is not written by this exporter (geoparquet, parquet, feather and csv are)"
    )]
    UnsupportedFormat {
        /// The format asked for.
        format: String,
    },
    /// An input row is not a valid record (missing or mistyped field).
    #[error("record {row}: field \"{field}\": {message}")]
    InvalidRecord {
        /// Index of the row in its input (0-based).
        row: u64,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A Parquet file does not have the columns of the record type asked for.
    #[error("{file}: column \"{column}\": {message}")]
    InvalidColumn {
        /// The file (or a description of the batch source).
        file: String,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A framed stream is malformed.
    #[error("stream, byte {offset}: {message}")]
    InvalidStream {
        /// Offset of the record header in the stream.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The checksum in an `arrowrec.eof` record does not match the file.
    #[error("stream: checksum of \"{file}\" is {actual}, the arrowrec.eof record says {expected}")]
    ChecksumMismatch {
        /// The file name in the stream.
        file: String,
        /// The checksum in the stream.
        expected: u64,
        /// The checksum of the bytes received.
        actual: u64,
    },
    /// The S3 upload failed after all attempts; nothing was left behind.
    #[error("upload to S3 failed, bucket = {bucket}, key = {key}: {message}")]
    Upload {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The last error (object_store's message, which never includes credentials).
        message: String,
    },
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing to a caller's sink.
    #[error("writing output: {0}")]
    Sink(#[source] std::io::Error),
    /// Parquet encoding or decoding.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow (array building, IPC).
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    /// GeoParquet encoding (`geo` metadata, covering), scratch files, sorting.
    #[error(transparent)]
    GeoParquet(geoparquet_io::Error),
    /// A worker thread panicked (a bug, not bad input).
    #[error("internal error: worker thread \"{task}\" panicked: {message}")]
    WorkerPanicked {
        /// What the thread was doing.
        task: &'static str,
        /// The panic message.
        message: String,
    },
    /// JSON (en/de)coding.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<geoparquet_io::Error> for Error {
    /// geoparquet-io's errors, its worker panics as this crate's [`Error::WorkerPanicked`].
    fn from(e: geoparquet_io::Error) -> Self {
        match e {
            geoparquet_io::Error::WorkerPanicked { task, message } => {
                Self::WorkerPanicked { task, message }
            }
            e => Self::GeoParquet(e),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
