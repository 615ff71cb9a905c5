//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong reading or writing stac-geoparquet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file (`-` for standard input or output).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Input that is not JSON, or JSON that is not a STAC Item, ItemCollection,
    /// Catalog or Collection where one is expected.
    #[error("{source_name}{}: {message}", .item.map(|n| format!(" (item {n})")).unwrap_or_default())]
    Json {
        /// The file, `-` for standard input.
        source_name: String,
        /// The 1-based item number (for NDJSON, the line number), when known.
        item: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A Parquet file that cannot be read as stac-geoparquet.
    #[error("{file}: {message}")]
    Parquet {
        /// The file.
        file: String,
        /// What is wrong (with the column and row where known).
        message: String,
    },
    /// Items whose values cannot be stored within the limits of the format
    /// (what is wrong, and what to do).
    #[error("{0}")]
    Unrepresentable(String),
    /// A search or writer option that makes no sense.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A broken internal assumption (a bug): reported instead of writing a
    /// file that would not read back as its input.
    #[error("internal error (please report it): {0}")]
    Internal(String),
    /// An error of the GeoParquet layer (footer, `geo` metadata, writer).
    #[error(transparent)]
    GeoParquet(#[from] geoparquet_io::Error),
    /// An error from the Parquet library.
    #[error(transparent)]
    ParquetLib(#[from] parquet::errors::ParquetError),
    /// An error from the Arrow library.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
