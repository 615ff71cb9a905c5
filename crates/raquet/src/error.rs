//! The crate's one error type.

use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading, writing or converting RaQuet.
///
/// Every variant names what it is about (file, column, block, band, rule), so that
/// the message alone says where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The output could not be created or put in place (a directory, device or FIFO at
    /// its path, a full disk): `geoparquet_io::output`'s error, naming the output.
    #[error(transparent)]
    Output(#[from] geoparquet_io::Error),
    /// The Parquet layer failed (not a Parquet file, corrupt pages, …).
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The Arrow layer failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A required column is missing or has the wrong type.
    #[error("column `{column}`: {message}")]
    Column {
        /// The column name.
        column: String,
        /// What is wrong with it.
        message: String,
    },
    /// No `block = 0` row with a metadata document was found.
    #[error("no metadata row (block = 0 with a non-null `metadata`)")]
    MissingMetadata,
    /// The metadata JSON could not be parsed or lacks a required field.
    #[error("metadata: {0}")]
    Metadata(String),
    /// A `block` value is not a valid Quadbin cell.
    #[error("block {block}: not a valid Quadbin cell")]
    InvalidCell {
        /// The raw value.
        block: u64,
    },
    /// A tile blob could not be decoded (bad compression, wrong length, too large).
    #[error("block {block} (z{z}/{x}/{y}), column `{column}`: {message}")]
    Blob {
        /// The block (Quadbin cell) the blob belongs to.
        block: u64,
        /// Tile zoom.
        z: u8,
        /// Tile column.
        x: u32,
        /// Tile row.
        y: u32,
        /// The column holding the blob.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A tile coordinate, zoom or option is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The GeoTIFF input cannot be used (unsupported layout, no georeferencing, …).
    #[error("{path}: {message}")]
    GeoTiff {
        /// The input file.
        path: PathBuf,
        /// What is wrong or unsupported.
        message: String,
    },
    /// The `tiff` crate failed to decode or encode.
    #[error("{path}: tiff: {source}")]
    Tiff {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: tiff::TiffError,
    },
    /// The source CRS cannot be transformed to Web Mercator.
    #[error("CRS EPSG:{epsg}: {message}")]
    Crs {
        /// The EPSG code of the source CRS.
        epsg: u32,
        /// Why it cannot be used.
        message: String,
    },
    /// Encoding a PNG failed.
    #[error("png: {0}")]
    Png(#[from] png::EncodingError),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn tiff(path: impl Into<PathBuf>, source: tiff::TiffError) -> Self {
        Self::Tiff {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn geotiff(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::GeoTiff {
            path: path.into(),
            message: message.into(),
        }
    }
}
