#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod builder;
pub mod columns;
mod error;
pub mod export;
pub mod input;
pub mod metadata;
pub mod output;
pub mod records;
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub mod s3;
pub mod sort;
pub mod stream;
pub mod time;

pub use builder::{ExportOptions, ExportSummary, Exporter};
pub use error::{Error, Result};
pub use export::{Delivery, Exported, export, export_to_path};
pub use metadata::{Compat, ServerInfo};
pub use output::{Format, OutputParams, ParseOptions, Warning};
pub use records::{
    Atl03Extent, Atl03Photon, Atl06Elevation, Atl06Record, Atl08Record, Atl08Vegetation, Record,
    RecordKind,
};
