//! A summary of a GeoParquet file, from its footer only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use geoparquet_meta::file::NativeGeoType;
use geoparquet_meta::{Crs, GeoParquetMetadata};
use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::footer::read_footer;

/// Where the metadata of an inspected file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataSource {
    /// The file's `geo` key.
    GeoKey,
    /// Synthesised from Parquet GEOMETRY/GEOGRAPHY columns (no `geo` key).
    NativeTypes,
}

/// What one geometry column looks like.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryColumnInfo {
    /// Column name.
    pub name: String,
    /// Whether it is the primary column.
    pub primary: bool,
    /// Its metadata.
    pub metadata: geoparquet_meta::GeoParquetColumnMetadata,
    /// The Parquet native logical type, if any.
    pub native: Option<NativeGeoType>,
    /// The CRS of the logical type, resolved (`projjson:KEY` looked up), if any.
    pub native_crs: Option<Crs>,
    /// Union of the row groups' geospatial statistics boxes.
    pub stats_bbox: Option<geoparquet_meta::BoundingBox>,
    /// Geometry types (ISO WKB codes) the statistics list.
    pub stats_types: Vec<u32>,
}

/// A summary of a file: metadata, geometry columns, size and layout.
///
/// ```
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
/// let info = geoparquet_io::inspect(path.as_ref())?;
/// assert_eq!((info.num_rows, info.row_groups), (7, 1));
/// assert_eq!(info.metadata.version.as_str(), "1.1.0");
/// assert_eq!(info.to_json()["geometry_columns"][0]["geometry_types"][0], "Point");
/// # Ok::<(), geoparquet_io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The file inspected, as given.
    pub path: PathBuf,
    /// Size in bytes.
    pub file_size: u64,
    /// Where the metadata came from.
    pub source: MetadataSource,
    /// The (possibly synthesised) metadata.
    pub metadata: GeoParquetMetadata,
    /// Geometry columns, in metadata order.
    pub geometry_columns: Vec<GeometryColumnInfo>,
    /// Rows.
    pub num_rows: i64,
    /// Row groups.
    pub row_groups: usize,
    /// Codecs used, over all column chunks.
    pub compression: BTreeSet<String>,
    /// Whether every column chunk has min/max statistics (geometry columns excluded).
    pub statistics: bool,
    /// Whether a column index (page index) is present for every column chunk.
    pub page_index: bool,
    /// The writer that made the file.
    pub created_by: Option<String>,
    /// Root fields: name and type description.
    pub fields: Vec<(String, String)>,
    /// The Parquet schema as text.
    pub schema_text: String,
}

fn codec_name(c: Compression) -> &'static str {
    match c {
        Compression::UNCOMPRESSED => "UNCOMPRESSED",
        Compression::SNAPPY => "SNAPPY",
        Compression::GZIP(_) => "GZIP",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "BROTLI",
        Compression::LZ4 => "LZ4",
        Compression::ZSTD(_) => "ZSTD",
        Compression::LZ4_RAW => "LZ4_RAW",
    }
}

fn describe(f: &geoparquet_meta::file::ColumnFacts) -> String {
    use geoparquet_meta::file::PhysicalType;
    let base = match f.physical {
        PhysicalType::Group if f.is_list => {
            let inner = f
                .children
                .first()
                .and_then(|r| r.children.first())
                .map_or_else(String::new, describe);
            format!("list<{inner}>")
        }
        PhysicalType::Group => format!(
            "struct<{}>",
            f.children
                .iter()
                .map(|c| format!("{}: {}", c.name, describe(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        p => p.as_str().to_owned(),
    };
    match &f.native {
        Some(n) => format!("{base} ({})", n.name()),
        None => base,
    }
}

/// Inspects a local file from its footer: nothing but the footer is read.
pub fn inspect(path: &Path) -> Result<Inspection> {
    inspect_footer(path, read_footer(path)?)
}

/// Inspects an already read footer (e.g. one read from an object store);
/// `path` names the file in the result and in errors.
pub fn inspect_footer(path: &Path, footer: crate::Footer) -> Result<Inspection> {
    if let Some(geoparquet_meta::file::FooterProblem::InvalidUtf8(detail)) =
        &footer.facts.footer_problem
    {
        return Err(Error::InvalidUtf8Metadata {
            path: path.to_path_buf(),
            detail: detail.clone(),
        });
    }
    let facts = &footer.facts;
    let meta_err = |source| Error::Meta {
        path: path.to_path_buf(),
        source,
    };
    let (metadata, source) = match facts.geo_metadata() {
        Some(m) => (m.map_err(meta_err)?, MetadataSource::GeoKey),
        None => match facts.synthesize_metadata() {
            Some(m) => (m.map_err(meta_err)?, MetadataSource::NativeTypes),
            None => {
                return Err(Error::NotGeoParquet {
                    path: path.to_path_buf(),
                });
            }
        },
    };
    let Some(pq) = footer.metadata.as_ref() else {
        return Err(Error::NotParquet {
            path: path.to_path_buf(),
            message: "footer missing".into(),
        });
    };
    let geometry_columns = metadata
        .columns
        .iter()
        .map(|(name, col)| {
            let field = facts.column(name);
            let native = field.and_then(|f| f.native.clone());
            let native_crs = native.as_ref().and_then(|n| {
                n.parquet_crs()
                    .resolve(|k| facts.key_value(k).map(str::to_owned))
                    .ok()
            });
            let stats = field.and_then(|f| f.geo_stats.as_ref());
            GeometryColumnInfo {
                name: name.clone(),
                primary: *name == metadata.primary_column,
                metadata: col.clone(),
                native,
                native_crs,
                stats_bbox: stats.and_then(|s| s.bbox),
                stats_types: stats
                    .map(|s| s.types.iter().copied().collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let (compression, statistics, page_index) = chunk_summary(pq, &metadata);
    let mut schema_text = Vec::new();
    parquet::schema::printer::print_schema(&mut schema_text, pq.file_metadata().schema());
    Ok(Inspection {
        path: path.to_path_buf(),
        file_size: footer.file_size,
        source,
        geometry_columns,
        num_rows: pq.file_metadata().num_rows(),
        row_groups: pq.num_row_groups(),
        compression,
        statistics,
        page_index,
        created_by: pq.file_metadata().created_by().map(str::to_owned),
        fields: facts
            .columns
            .iter()
            .map(|f| (f.name.clone(), describe(f)))
            .collect(),
        schema_text: String::from_utf8_lossy(&schema_text).into_owned(),
        metadata,
    })
}

fn chunk_summary(
    pq: &ParquetMetaData,
    meta: &GeoParquetMetadata,
) -> (BTreeSet<String>, bool, bool) {
    let mut codecs = BTreeSet::new();
    let mut stats = true;
    let mut index = pq.num_row_groups() > 0;
    for rg in pq.row_groups() {
        for chunk in rg.columns() {
            codecs.insert(codec_name(chunk.compression()).to_owned());
            let root = chunk
                .column_path()
                .parts()
                .first()
                .map(String::as_str)
                .unwrap_or("");
            if !meta.columns.contains_key(root) && chunk.statistics().is_none() {
                stats = false;
            }
            if chunk.column_index_offset().is_none() {
                index = false;
            }
        }
    }
    (codecs, stats, index)
}

fn crs_json(crs: &Crs) -> Value {
    let kind = match crs {
        Crs::Default => "default",
        Crs::Unknown => "unknown",
        Crs::Projjson(_) => "projjson",
        Crs::Identifier { .. } => "identifier",
        c if c.wkt().is_some() => "wkt",
        _ => "invalid",
    };
    json!({
        "kind": kind,
        "label": crs.label(),
        "name": crs.name(),
        "authority_code": crs.authority_code().map(|(a, c)| format!("{a}:{c}")),
        "epsg": crs.epsg(),
        "crs84_equivalent": crs.is_crs84_equivalent(),
    })
}

impl Inspection {
    /// A JSON document with everything above; stable keys for machines.
    pub fn to_json(&self) -> Value {
        let columns: Vec<Value> = self
            .geometry_columns
            .iter()
            .map(|c| {
                let m = &c.metadata;
                json!({
                    "name": c.name,
                    "primary": c.primary,
                    "encoding": m.encoding.as_str(),
                    "geometry_types": m.geometry_types.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "crs": crs_json(&m.crs),
                    "bbox": m.bbox.map(|b| b.to_vec()),
                    "covering": m.covering.as_ref().map(|cv| json!({
                        "column": cv.bbox.column(),
                        "xmin": cv.bbox.xmin, "ymin": cv.bbox.ymin, "xmax": cv.bbox.xmax, "ymax": cv.bbox.ymax,
                        "zmin": cv.bbox.zmin, "zmax": cv.bbox.zmax,
                    })),
                    "edges": m.effective_edges().as_str(),
                    "orientation": m.orientation.as_ref().map(|o| o.as_str().to_owned()),
                    "epoch": m.epoch,
                    "logical_type": c.native.as_ref().map(|n| json!({
                        "type": n.name(),
                        "crs": n.crs(),
                        "resolved_crs": c.native_crs.as_ref().map(crs_json),
                        "edges": n.edges().as_str(),
                    })),
                    "statistics": {
                        "bbox": c.stats_bbox.map(|b| b.to_vec()),
                        "geometry_types": c.stats_types,
                    },
                })
            })
            .collect();
        json!({
            "path": self.path.display().to_string(),
            "file_size": self.file_size,
            "version": self.metadata.version.as_str(),
            "metadata_source": match self.source { MetadataSource::GeoKey => "geo", MetadataSource::NativeTypes => "native-types" },
            "primary_column": self.metadata.primary_column,
            "geometry_columns": columns,
            "num_rows": self.num_rows,
            "row_groups": self.row_groups,
            "compression": self.compression,
            "statistics": self.statistics,
            "page_index": self.page_index,
            "created_by": self.created_by,
            "fields": self.fields.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "geo": self.metadata.to_json(),
        })
    }
}
