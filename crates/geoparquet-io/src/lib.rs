#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod check;
pub mod corrupt;
mod error;
mod footer;
mod inspect;
pub mod native;
pub mod output;
pub mod reader;
pub mod sort;
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub mod store;
mod validate;
pub mod wkb_column;
pub mod workers;
pub mod writer;

pub use error::{Error, Result};
pub use footer::{Footer, facts_from_metadata, read_footer};
pub use inspect::{GeometryColumnInfo, Inspection, MetadataSource, inspect, inspect_footer};
pub use validate::{DEFAULT_EXAMPLE_ROWS, ValidateOptions, validate, validate_footer};

/// The metadata model this crate reads and writes, re-exported.
pub use geoparquet_meta as meta;

/// The `parquet` crate this crate is built on (for writer properties,
/// compression codecs and the reader builders), re-exported so that versions match.
pub use parquet;

/// The `arrow-array` crate of the record batches this crate reads and writes.
pub use arrow_array;

/// The `arrow-schema` crate of the schemas this crate reads and writes.
pub use arrow_schema;
