#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cell;
mod error;
mod point;
mod polyfill;

pub use cell::{
    CELL_MODE, Cell, Children, Direction, FOOTER, HEADER, KRing, MAX_RESOLUTION,
    MERCATOR_ORIGIN_SHIFT, Tile, is_valid_cell, is_valid_index, parse_index,
};
pub use error::{Error, Result};
pub use point::{MAX_LATITUDE, cells_from_lonlat};
pub use polyfill::{Polyfill, PolyfillMode, polyfill_bbox, polyfill_polygon};
