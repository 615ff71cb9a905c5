#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use geoparquet_meta as meta;

#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub use geoparquet_io as io;

#[cfg(feature = "geojson")]
#[cfg_attr(docsrs, doc(cfg(feature = "geojson")))]
pub use geoquet_geojson as geojson;

#[cfg(feature = "stac")]
#[cfg_attr(docsrs, doc(cfg(feature = "stac")))]
pub use stac_geoparquet as stac;

#[cfg(feature = "raquet")]
#[cfg_attr(docsrs, doc(cfg(feature = "raquet")))]
pub use quadbin;

#[cfg(feature = "raquet")]
#[cfg_attr(docsrs, doc(cfg(feature = "raquet")))]
pub use raquet;

#[cfg(feature = "sliderule")]
#[cfg_attr(docsrs, doc(cfg(feature = "sliderule")))]
pub use sliderule_export as sliderule;
