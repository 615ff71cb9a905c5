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
    Metadata(crate::MetadataProblem),
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
    /// A tile asked for is not on the Quadbin grid (zoom above 26, or x or y past the
    /// zoom's last column or row).
    #[error("invalid argument: tile {z}/{x}/{y} is off the grid")]
    TileOffGrid {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A point asked for is not a longitude/latitude.
    #[error("invalid argument: ({lon}, {lat}) is not a longitude/latitude")]
    NotLonLat {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
    },
    /// A window asked for is empty or not finite.
    #[error("invalid argument: window {bounds:?} is empty or not finite")]
    EmptyWindow {
        /// `[west, south, east, north]` in degrees.
        bounds: [f64; 4],
    },
    /// A window asked for covers no pixel, or more than the limit.
    #[error(
        "invalid argument: window of {width}x{height} pixels at zoom {zoom} is empty or larger than {limit} pixels"
    )]
    WindowSize {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The zoom read.
        zoom: u8,
        /// The most pixels a window may hold.
        limit: u64,
    },
    /// [`ConvertOptions::block_size`](crate::ConvertOptions::block_size) is not a power
    /// of two in 16..=4096.
    #[error("invalid argument: block size {size} must be a power of two in 16..=4096")]
    BlockSize {
        /// The size asked for.
        size: u32,
    },
    /// The writer compresses blobs with gzip or not at all.
    #[error("invalid argument: the writer compresses blobs with gzip or not at all")]
    UnwritableCompression {
        /// The compression asked for.
        compression: crate::Compression,
    },
    /// GeoTIFF output needs one type for every band.
    #[error("invalid argument: to GeoTIFF: every band must have the same type")]
    MixedBandTypes,
    /// A file has no tile at its native zoom (nothing to write out).
    #[error("invalid argument: no tiles at the native zoom {zoom}")]
    NoNativeTiles {
        /// The native zoom.
        zoom: u8,
    },
    /// Something written would pass a format's size limit.
    #[error("invalid argument: {what}")]
    TooLarge {
        /// What (`"raster too wide"`, `"strip beyond 4 GiB"`, …).
        what: &'static str,
    },
    /// The blobs of one row group would pass Arrow's 2 GiB of binary offsets.
    #[error(
        "invalid argument: the blobs of a row group exceed 2 GiB; use a smaller row group size than {row_group_size}"
    )]
    RowGroupTooLarge {
        /// The row group size used.
        row_group_size: usize,
    },
    /// A tile has no Quadbin cell (a bug of the tiler).
    #[error("invalid argument: tile {z}/{x}/{y} has no Quadbin cell")]
    NoCell {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A tile read back from the conversion's spill file does not decode.
    #[error("invalid argument: spilled tile {block}: {message}")]
    SpilledTile {
        /// The tile's block.
        block: u64,
        /// What is wrong.
        message: String,
    },
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
    /// A name parsed from text (a band type, a compression, a resampling, …) is not
    /// one of those accepted.
    #[error("unknown {what} `{text}` (expected {expected})")]
    UnknownName {
        /// What was parsed (`"band type"`, `"compression"`, …).
        what: &'static str,
        /// The text.
        text: String,
        /// The accepted names.
        expected: &'static str,
    },
    /// A worker thread panicked (a bug, not bad input).
    #[error("worker thread \"{task}\" panicked: {message}")]
    WorkerPanicked {
        /// What the thread was doing.
        task: &'static str,
        /// The panic message.
        message: String,
    },
}

impl From<crate::MetadataProblem> for Error {
    fn from(p: crate::MetadataProblem) -> Self {
        Self::Metadata(p)
    }
}

impl From<geoparquet_io::workers::WorkerPanic> for Error {
    fn from(p: geoparquet_io::workers::WorkerPanic) -> Self {
        Self::WorkerPanicked {
            task: p.task,
            message: p.message,
        }
    }
}

/// For the arrow interfaces: our error inside `ArrowError::ExternalError`.
///
/// ```
/// let e = arrow_schema::ArrowError::from(raquet::Error::MissingMetadata);
/// assert!(matches!(e, arrow_schema::ArrowError::ExternalError(_)));
/// ```
impl From<Error> for arrow_schema::ArrowError {
    fn from(e: Error) -> Self {
        arrow_schema::ArrowError::ExternalError(Box::new(e))
    }
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

    pub(crate) fn unknown_name(what: &'static str, text: &str, expected: &'static str) -> Self {
        Self::UnknownName {
            what,
            text: text.to_owned(),
            expected,
        }
    }

    pub(crate) fn geotiff(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::GeoTiff {
            path: path.into(),
            message: message.into(),
        }
    }
}
