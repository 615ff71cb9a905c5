//! From a Parquet footer to [`FileFacts`]: the schema, logical types,
//! geospatial statistics and key/value metadata that GeoParquet rules need.

use std::fs::File;
use std::path::Path;

use geoparquet_meta::file::{
    ColumnFacts, FileFacts, FooterProblem, GeoStatsFacts, NativeGeoType, PhysicalType, Repetition,
};
use geoparquet_meta::{BoundingBox, GeoParquetMetadata};
use parquet::basic::{ConvertedType, LogicalType, Repetition as PqRepetition, Type as PqPhysical};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::schema::types::Type;

use crate::error::{Error, Result};

/// What a footer read gives: the decoded metadata, or only the facts
/// (when the footer could not be decoded for a reason GeoParquet names).
#[derive(Debug)]
pub struct Footer {
    /// The decoded Parquet metadata (`None` when [`FileFacts::footer_problem`] is set).
    pub metadata: Option<ParquetMetaData>,
    /// The GeoParquet view of it.
    pub facts: FileFacts,
    /// The file size in bytes.
    pub file_size: u64,
}

impl Footer {
    /// The file's GeoParquet metadata (the `geo` key, else metadata synthesised
    /// from native GEOMETRY/GEOGRAPHY columns), with errors naming `path`:
    /// [`Error::NotGeoParquet`] when there is neither, [`Error::Meta`] when it
    /// does not parse.
    ///
    /// ```
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
    /// let footer = geoparquet_io::read_footer(path.as_ref())?;
    /// let meta = footer.geoparquet_metadata(path.as_ref())?;
    /// assert_eq!(meta.primary_column, "geometry");
    /// # Ok::<(), geoparquet_io::Error>(())
    /// ```
    pub fn geoparquet_metadata(&self, path: &Path) -> Result<GeoParquetMetadata> {
        self.facts
            .geoparquet_metadata()
            .ok_or_else(|| Error::NotGeoParquet {
                path: path.to_path_buf(),
            })?
            .map_err(|source| Error::Meta {
                path: path.to_path_buf(),
                source,
            })
    }
}

/// Reads a local file's footer.
///
/// A footer whose key/value metadata is not UTF-8 is not an error here: it
/// yields facts with [`FooterProblem::InvalidUtf8`], so that a validator can
/// report it as `metadata_invalid_utf8`. Anything else that prevents reading
/// the footer is an [`Error::NotParquet`].
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let footer = geoparquet_io::read_footer(path.as_ref())?;
/// assert_eq!(footer.facts.columns.len(), 5);
/// assert!(footer.facts.key_value("geo").is_some());
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
pub fn read_footer(path: &Path) -> Result<Footer> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let file_size = file.metadata().map_err(io)?.len();
    if file.metadata().map_err(io)?.is_dir() {
        return Err(io(std::io::Error::other("is a directory")));
    }
    match ParquetMetaDataReader::new().parse_and_finish(&file) {
        Ok(metadata) => Ok(Footer {
            facts: facts_from_metadata(&metadata),
            metadata: Some(metadata),
            file_size,
        }),
        Err(e) => footer_error(path, e, file_size),
    }
}

/// A footer that failed to decode: invalid UTF-8 in the key/value metadata is
/// a fact for the validator; anything else is [`Error::NotParquet`].
pub(crate) fn footer_error(
    path: &Path,
    e: parquet::errors::ParquetError,
    file_size: u64,
) -> Result<Footer> {
    let message = e.to_string();
    if message.contains("utf-8") || message.contains("utf8") || message.contains("UTF-8") {
        Ok(Footer {
            metadata: None,
            facts: FileFacts {
                footer_problem: Some(FooterProblem::InvalidUtf8(message)),
                ..FileFacts::default()
            },
            file_size,
        })
    } else {
        Err(Error::NotParquet {
            path: path.to_path_buf(),
            message,
        })
    }
}

fn physical(t: PqPhysical) -> PhysicalType {
    match t {
        PqPhysical::BOOLEAN => PhysicalType::Boolean,
        PqPhysical::INT32 => PhysicalType::Int32,
        PqPhysical::INT64 => PhysicalType::Int64,
        PqPhysical::INT96 => PhysicalType::Int96,
        PqPhysical::FLOAT => PhysicalType::Float,
        PqPhysical::DOUBLE => PhysicalType::Double,
        PqPhysical::BYTE_ARRAY => PhysicalType::ByteArray,
        PqPhysical::FIXED_LEN_BYTE_ARRAY => PhysicalType::FixedLenByteArray,
    }
}

fn field_facts(t: &Type) -> ColumnFacts {
    let info = t.get_basic_info();
    let repetition = if info.has_repetition() {
        match info.repetition() {
            PqRepetition::REQUIRED => Repetition::Required,
            PqRepetition::OPTIONAL => Repetition::Optional,
            PqRepetition::REPEATED => Repetition::Repeated,
        }
    } else {
        Repetition::Required
    };
    let native = match info.logical_type_ref() {
        Some(LogicalType::Geometry(g)) => Some(NativeGeoType::Geometry { crs: g.crs.clone() }),
        Some(LogicalType::Geography(g)) => Some(NativeGeoType::Geography {
            crs: g.crs.clone(),
            algorithm: g.algorithm.map(|a| a.to_string()),
        }),
        _ => None,
    };
    let is_list = matches!(info.logical_type_ref(), Some(LogicalType::List))
        || info.converted_type() == ConvertedType::LIST;
    let (physical_type, children) = if t.is_group() {
        (
            PhysicalType::Group,
            t.get_fields().iter().map(|f| field_facts(f)).collect(),
        )
    } else {
        (physical(t.get_physical_type()), Vec::new())
    };
    ColumnFacts {
        name: info.name().to_owned(),
        physical: physical_type,
        repetition,
        is_list,
        native,
        children,
        geo_stats: None,
    }
}

/// Builds [`FileFacts`] from decoded Parquet metadata.
pub fn facts_from_metadata(metadata: &ParquetMetaData) -> FileFacts {
    let file = metadata.file_metadata();
    let key_value = file
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let schema = file.schema_descr();
    let mut columns: Vec<ColumnFacts> = schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| field_facts(f))
        .collect();
    // Geospatial statistics of root-level leaf columns.
    for (leaf_idx, leaf) in schema.columns().iter().enumerate() {
        let parts = leaf.path().parts();
        let [root_name] = parts else { continue };
        let Some(col) = columns.iter_mut().find(|c| &c.name == root_name) else {
            continue;
        };
        if col.native.is_none() {
            continue;
        }
        let mut stats = GeoStatsFacts::default();
        for rg in metadata.row_groups() {
            let Some(chunk) = rg.columns().get(leaf_idx) else {
                continue;
            };
            let (types, bbox) = match chunk.geo_statistics() {
                Some(gs) => (
                    gs.geospatial_types().map(Vec::as_slice),
                    gs.bounding_box().map(|b| {
                        let mut bb = BoundingBox::new(
                            b.get_xmin(),
                            b.get_ymin(),
                            b.get_xmax(),
                            b.get_ymax(),
                        );
                        if let (Some(z0), Some(z1)) = (b.get_zmin(), b.get_zmax()) {
                            bb = bb.with_z(z0, z1);
                        }
                        if let (Some(m0), Some(m1)) = (b.get_mmin(), b.get_mmax()) {
                            bb = bb.with_m(m0, m1);
                        }
                        bb
                    }),
                ),
                None => (None, None),
            };
            stats.add_row_group(types, bbox);
        }
        col.geo_stats = Some(stats);
    }
    FileFacts {
        key_value,
        columns: std::mem::take(&mut columns),
        footer_problem: None,
    }
}
