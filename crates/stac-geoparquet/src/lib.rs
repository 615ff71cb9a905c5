#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod datetime;
mod decode;
mod encode;
mod error;
mod geom;
mod infer;
mod input;
mod lite;
mod patches;
mod read;
mod write;

pub use error::{DatetimeProblem, Error, PatchLimit, Result};
pub use infer::{CORE_COLUMNS, DATETIME_PROPERTIES, PATCHES_COLUMN};
pub use input::{Source, files_below, spill};
pub use patches::{MAX_PATCH_BYTES, MAX_PATCH_FOOTER_BYTES, PATCHES_METADATA_KEY};
pub use read::{
    DEFAULT_READ_BATCH_ROWS, DatetimeInterval, Fields, ItemReader, ReadOptions, Search,
    StacMetadata, open, open_with, read_items, write_ndjson,
};
pub use write::{
    DEFAULT_BATCH_ROWS, DEFAULT_ROW_GROUP_ROWS, DEFAULT_ZSTD_LEVEL, LAYOUT_METADATA_KEY,
    MAX_BATCH_CELLS, Progress, STAC_GEOPARQUET_METADATA_KEY, WIDE_COLUMNS, WriteSummary,
    WriterOptions, write_parquet, write_parquet_with_progress, write_to,
};

/// The `parquet` crate this crate writes with (for compression codecs).
pub use parquet;
