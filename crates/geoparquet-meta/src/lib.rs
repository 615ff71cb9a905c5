#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bbox;
pub mod crs;
mod error;
pub mod file;
pub mod geometry;
pub mod geometry_type;
pub mod metadata;
pub mod normalize;
pub mod validate;
pub mod version;

pub use bbox::BoundingBox;
pub use crs::{Crs, CrsComparison, DatumKind, ParquetCrs};
pub use error::{Error, GeoJsonProblem, Result, WkbProblem};
pub use geometry_type::{Dimension, GeometryType, GeometryTypeAndDimension};
pub use metadata::{
    Covering, CoveringBbox, Edges, Encoding, GEO_METADATA_KEY, GeoParquetColumnMetadata,
    GeoParquetMetadata, Orientation,
};
pub use version::{DEFAULT_VERSION, Version};
