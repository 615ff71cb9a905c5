#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blob;
pub mod cell;
mod chunks;
mod convert;
mod error;
mod export;
mod geotiff;
mod lossy;
pub mod metadata;
mod pixels;
mod proj;
mod reader;
mod stats;
pub mod validate;

pub use convert::{
    ConvertOptions, ConvertSummary, DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, DEFAULT_ROW_GROUP_SIZE,
    HISTOGRAM_BUCKETS, Resampling, ZoomStrategy, geotiff_to_raquet,
};
pub use error::{Error, Result};
pub use export::{GeoTiffSummary, raquet_to_geotiff, render_rgba, write_png};
pub use metadata::{
    Band, BandLayout, BandStatistics, BandType, Compression, Histogram, Metadata, MetadataProblem,
    RAQUET_VERSION, RAQUET_VERSION_KEY, Tiling,
};
pub use pixels::Pixels;
pub use reader::{MAX_WINDOW_PIXELS, Reader, ReaderOptions, Tile, TileIter, Window};
pub use validate::{Finding, Report, Severity, Validation, validate};
