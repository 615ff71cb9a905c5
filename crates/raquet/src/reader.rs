//! Reading RaQuet files: metadata, tiles, values at a point, windows.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};

use crate::cell::{self, tile_from_cell};
use crate::metadata::{BandLayout, Compression, Metadata};
use crate::{Error, Pixels, Result, blob};

/// Options for [`Reader::open_with`].
///
/// ```
/// let options = raquet::ReaderOptions::default().with_byte_interleaved(true);
/// assert!(options.byte_interleaved);
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ReaderOptions {
    /// Decode interleaved multi-byte tiles as raquet-io 0.9.0 wrote them (bytes
    /// interleaved rather than whole samples). Off by default: the spec layout.
    pub byte_interleaved: bool,
}

impl ReaderOptions {
    /// Sets [`ReaderOptions::byte_interleaved`].
    #[must_use]
    pub fn with_byte_interleaved(mut self, on: bool) -> Self {
        self.byte_interleaved = on;
        self
    }
}

/// One decoded tile: a typed pixel array per band.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// Zoom of the tile as requested.
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// The zoom the pixels were read at (differs from `z` when the request was
    /// outside `min_zoom..=max_zoom`).
    pub source_zoom: u8,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// One array per band, in metadata order, row-major.
    pub bands: Vec<Pixels>,
    /// Each band's nodata value.
    pub nodata: Vec<Option<f64>>,
    /// The alpha band ([`Metadata::alpha_band`]): where it is 0 no band has a value.
    pub alpha: Option<usize>,
}

impl Tile {
    /// The value of `band` at `(row, col)`, `None` for nodata, for a pixel whose
    /// alpha is 0 (fill), or out of range.
    pub fn value(&self, band: usize, row: u32, col: u32) -> Option<f64> {
        if row >= self.height || col >= self.width {
            return None;
        }
        let i = row as usize * self.width as usize + col as usize;
        if let Some(a) = self.alpha
            && self.bands.get(a).and_then(|p| p.get(i)) == Some(0.0)
        {
            return None;
        }
        let v = self.bands.get(band)?.get(i)?;
        match self.nodata.get(band).copied().flatten() {
            Some(n) if n.is_nan() && v.is_nan() => None,
            Some(n) if n == v => None,
            _ => Some(v),
        }
    }

    /// The Quadbin cell of the tile.
    pub fn block(&self) -> Option<u64> {
        cell::cell_from_tile(self.z, self.x, self.y)
    }
}

/// A rectangular mosaic of tiles at one zoom.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Zoom the pixels come from.
    pub zoom: u8,
    /// Left pixel column in the global pixel grid of `zoom`.
    pub col_off: u64,
    /// Top pixel row in the global pixel grid of `zoom`.
    pub row_off: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bounds in Web-Mercator metres `[xmin, ymin, xmax, ymax]` (pixel edges).
    pub bounds_mercator: [f64; 4],
    /// One array per band, row-major; pixels without a tile hold nodata (or 0).
    pub bands: Vec<Pixels>,
}

/// Largest window [`Reader::window`] builds, in pixels.
pub const MAX_WINDOW_PIXELS: u64 = 1 << 28;

/// Where a tile sits in the file.
#[derive(Debug, Clone, Copy)]
struct Location {
    row_group: usize,
    row: usize,
}

/// An open RaQuet file.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    file: File,
    arrow: ArrowReaderMetadata,
    metadata: Metadata,
    metadata_json: String,
    metadata_rows: Vec<usize>,
    blocks: Vec<u64>,
    index: HashMap<u64, Location>,
    data_columns: Vec<String>,
    options: ReaderOptions,
}

fn blocks_of(col: &ArrayRef) -> Result<Vec<Option<u64>>> {
    match col.data_type() {
        DataType::UInt64 => Ok(col.as_primitive::<UInt64Type>().iter().collect()),
        DataType::Int64 => Ok(col
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as u64))
            .collect()),
        other => Err(Error::Column {
            column: "block".into(),
            message: format!("must be uint64 or int64, found {other}"),
        }),
    }
}

/// Binary value `i` of a column in any of Arrow's binary layouts.
fn binary_value(col: &ArrayRef, i: usize) -> Option<&[u8]> {
    if col.is_null(i) {
        return None;
    }
    if let Some(a) = col.as_binary_opt::<i32>() {
        return Some(a.value(i));
    }
    if let Some(a) = col.as_binary_opt::<i64>() {
        return Some(a.value(i));
    }
    col.as_binary_view_opt().map(|a| a.value(i))
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

fn string_value(col: &ArrayRef, i: usize) -> Option<&str> {
    if col.is_null(i) {
        return None;
    }
    if let Some(a) = col.as_string_opt::<i32>() {
        return Some(a.value(i));
    }
    if let Some(a) = col.as_string_opt::<i64>() {
        return Some(a.value(i));
    }
    col.as_string_view_opt().map(|a| a.value(i))
}

/// The `block` and `metadata` columns (`metadata` a string).
fn key_columns(schema: &arrow_schema::Schema) -> Result<(usize, usize)> {
    let block_idx = schema.index_of("block").map_err(|_| Error::Column {
        column: "block".into(),
        message: "missing".into(),
    })?;
    let meta_idx = schema.index_of("metadata").map_err(|_| Error::Column {
        column: "metadata".into(),
        message: "missing".into(),
    })?;
    if !matches!(
        schema.field(meta_idx).data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return Err(Error::Column {
            column: "metadata".into(),
            message: format!(
                "must be a string, found {}",
                schema.field(meta_idx).data_type()
            ),
        });
    }
    Ok((block_idx, meta_idx))
}

/// What one pass over the `block` and `metadata` columns finds.
struct BlockScan {
    blocks: Vec<u64>,
    index: HashMap<u64, Location>,
    metadata_rows: Vec<usize>,
    metadata_json: Option<String>,
}

/// Reads the `block` and `metadata` columns: the data rows' cells and where they are,
/// the metadata rows and the first metadata document.
fn scan_blocks(
    file: &File,
    path: &Path,
    arrow: &ArrowReaderMetadata,
    block_idx: usize,
    meta_idx: usize,
) -> Result<BlockScan> {
    let mask = ProjectionMask::roots(arrow.parquet_schema(), [block_idx, meta_idx]);
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
        file.try_clone().map_err(|e| Error::io(path, e))?,
        arrow.clone(),
    )
    .with_projection(mask)
    .with_batch_size(8192)
    .with_limit(declared_rows(arrow))
    .build()?;
    let mut row_group_ends = Vec::new();
    let mut acc = 0usize;
    for rg in arrow.metadata().row_groups() {
        acc += usize::try_from(rg.num_rows()).unwrap_or(0);
        row_group_ends.push(acc);
    }
    let mut blocks = Vec::new();
    let mut index = HashMap::new();
    let mut metadata_rows = Vec::new();
    let mut metadata_json = None;
    let mut row = 0usize;
    let mut rg = 0usize;
    for batch in Guarded::new(reader) {
        let batch = batch?;
        let b = blocks_of(batch.column(0))?;
        let m = batch.column(1);
        for (i, block) in b.into_iter().enumerate() {
            while rg < row_group_ends.len() && row >= row_group_ends[rg] {
                rg += 1;
            }
            let start = if rg == 0 { 0 } else { row_group_ends[rg - 1] };
            match block {
                Some(0) => {
                    metadata_rows.push(row);
                    if metadata_json.is_none() {
                        metadata_json = string_value(m, i).map(str::to_string);
                    }
                }
                Some(cell) => {
                    blocks.push(cell);
                    let _ = index.entry(cell).or_insert(Location {
                        row_group: rg,
                        row: row - start,
                    });
                }
                None => {
                    return Err(Error::Column {
                        column: "block".into(),
                        message: format!("null at row {row}"),
                    });
                }
            }
            row += 1;
        }
    }
    Ok(BlockScan {
        blocks,
        index,
        metadata_rows,
        metadata_json,
    })
}

/// The binary columns the metadata's layout names: present and binary.
fn data_columns(schema: &arrow_schema::Schema, metadata: &Metadata) -> Result<Vec<String>> {
    let data_columns = match metadata.band_layout {
        BandLayout::Sequential => metadata.bands.iter().map(|b| b.name.clone()).collect(),
        BandLayout::Interleaved => vec!["pixels".to_string()],
    };
    for c in &data_columns {
        let f = schema.field_with_name(c).map_err(|_| Error::Column {
            column: c.clone(),
            message: "named in the metadata but missing".into(),
        })?;
        if !is_binary(f.data_type()) {
            return Err(Error::Column {
                column: c.clone(),
                message: format!("must be binary, found {}", f.data_type()),
            });
        }
    }
    Ok(data_columns)
}

impl Reader {
    /// Opens a file with default options.
    ///
    /// ```no_run
    /// let r = raquet::Reader::open("raster.parquet")?;
    /// println!("zooms {}..={}", r.metadata().tiling.min_zoom, r.metadata().tiling.max_zoom);
    /// if let Some(tile) = r.tile(8, 130, 86)? {
    ///     println!("first pixel {:?}", tile.value(0, 0, 0));
    /// }
    /// # Ok::<(), raquet::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, ReaderOptions::default())
    }

    /// Opens a file: reads the footer, the `block` column and the metadata row.
    pub fn open_with(path: impl AsRef<Path>, options: ReaderOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let arrow = load_metadata(
            &file,
            ArrowReaderOptions::new()
                .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional),
        )?;
        let schema = arrow.schema().clone();
        let (block_idx, meta_idx) = key_columns(&schema)?;
        let scan = scan_blocks(&file, &path, &arrow, block_idx, meta_idx)?;
        let metadata_json = scan.metadata_json.ok_or(Error::MissingMetadata)?;
        let metadata = Metadata::parse(&metadata_json)?;
        let data_columns = data_columns(&schema, &metadata)?;
        Ok(Reader {
            path,
            file,
            arrow,
            metadata,
            metadata_json,
            metadata_rows: scan.metadata_rows,
            blocks: scan.blocks,
            index: scan.index,
            data_columns,
            options,
        })
    }

    /// The parsed metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The metadata document as stored.
    pub fn metadata_json(&self) -> &str {
        &self.metadata_json
    }

    /// Row indices of the `block = 0` rows.
    pub fn metadata_rows(&self) -> &[usize] {
        &self.metadata_rows
    }

    /// Every non-metadata `block` value, in file order.
    pub fn blocks(&self) -> &[u64] {
        &self.blocks
    }

    /// The Parquet footer.
    pub fn parquet_metadata(&self) -> &parquet::file::metadata::ParquetMetaData {
        self.arrow.metadata()
    }

    /// The Arrow schema.
    pub fn schema(&self) -> &arrow_schema::SchemaRef {
        self.arrow.schema()
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a tile with this block exists in the file.
    pub fn contains(&self, block: u64) -> bool {
        self.index.contains_key(&block)
    }

    fn data_mask(&self) -> Result<ProjectionMask> {
        let schema = self.arrow.schema();
        let mut roots = vec![schema.index_of("block")?];
        for c in &self.data_columns {
            roots.push(schema.index_of(c)?);
        }
        Ok(ProjectionMask::roots(self.arrow.parquet_schema(), roots))
    }

    /// A reader builder over the file, limited to the rows the footer declares: a
    /// damaged page header may claim billions of (null) values, which upstream would
    /// otherwise decode as rows for minutes.
    fn builder(&self) -> Result<ParquetRecordBatchReaderBuilder<File>> {
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file
                .try_clone()
                .map_err(|e| Error::io(&self.path, e))?,
            self.arrow.clone(),
        )
        .with_limit(declared_rows(&self.arrow)))
    }

    /// Reads the tile stored under `block`, exactly (no zoom clamping); `None` when
    /// the file has no such tile.
    pub fn read_block(&self, block: u64) -> Result<Option<Tile>> {
        let Some(loc) = self.index.get(&block).copied() else {
            return Ok(None);
        };
        let reader = self
            .builder()?
            .with_row_groups(vec![loc.row_group])
            .with_row_selection(RowSelection::from(vec![
                RowSelector::skip(loc.row),
                RowSelector::select(1),
            ]))
            .with_projection(self.data_mask()?)
            .build()?;
        for batch in Guarded::new(reader) {
            let batch = batch?;
            if batch.num_rows() > 0 {
                return self.decode_row(&batch, 0).map(Some);
            }
        }
        Ok(None)
    }

    /// Decodes row `i` of a batch whose first column is `block` and the rest the data
    /// columns.
    fn decode_row(&self, batch: &RecordBatch, i: usize) -> Result<Tile> {
        let block = blocks_of(batch.column(0))?
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| Error::Column {
                column: "block".into(),
                message: "null".into(),
            })?;
        let (z, x, y) = tile_from_cell(block).ok_or(Error::InvalidCell { block })?;
        let m = &self.metadata;
        let w = m.tiling.block_width;
        let h = m.tiling.block_height;
        let n = w as usize * h as usize;
        let blob_err = |column: &str, message: String| Error::Blob {
            block,
            z,
            x,
            y,
            column: column.to_string(),
            message,
        };
        let nodata: Vec<Option<f64>> = m.bands.iter().map(|b| b.nodata).collect();
        let bands = match m.band_layout {
            BandLayout::Sequential => {
                let mut out = Vec::with_capacity(m.bands.len());
                for (k, band) in m.bands.iter().enumerate() {
                    let col = batch.column(k + 1);
                    let expected = n * band.band_type.size();
                    let pixels = match binary_value(col, i) {
                        None => Pixels::filled(band.band_type, band.nodata.unwrap_or(0.0), n),
                        Some(data) => {
                            let raw = self
                                .decompress(data, expected)
                                .map_err(|e| blob_err(&band.name, e))?;
                            Pixels::from_le_bytes(band.band_type, &raw)
                        }
                    };
                    out.push(pixels);
                }
                out
            }
            BandLayout::Interleaved => {
                let col = batch.column(1);
                let sizes: Vec<usize> = m.bands.iter().map(|b| b.band_type.size()).collect();
                let stride: usize = sizes.iter().sum();
                match binary_value(col, i) {
                    None => m
                        .bands
                        .iter()
                        .map(|b| Pixels::filled(b.band_type, b.nodata.unwrap_or(0.0), n))
                        .collect(),
                    Some(data) => {
                        let raw = match m.compression {
                            Compression::Jpeg | Compression::Webp => {
                                if m.bands
                                    .iter()
                                    .any(|b| b.band_type != crate::BandType::Uint8)
                                {
                                    return Err(blob_err(
                                        "pixels",
                                        "lossy tiles must be uint8".into(),
                                    ));
                                }
                                let decoded = if m.compression == Compression::Jpeg {
                                    crate::lossy::jpeg(data, w, h, m.bands.len())
                                } else {
                                    crate::lossy::webp(data, w, h, m.bands.len())
                                };
                                decoded.map_err(|e| blob_err("pixels", e))?
                            }
                            _ => self
                                .decompress(data, n * stride)
                                .map_err(|e| blob_err("pixels", e))?,
                        };
                        let mut out = Vec::with_capacity(m.bands.len());
                        let mut offset = 0;
                        let nb = m.bands.len();
                        for (k, band) in m.bands.iter().enumerate() {
                            let size = sizes[k];
                            let mut bytes = Vec::with_capacity(n * size);
                            if self.options.byte_interleaved && sizes.iter().all(|s| *s == size) {
                                for j in 0..n * size {
                                    bytes.push(raw[j * nb + k]);
                                }
                            } else {
                                for p in 0..n {
                                    let s = p * stride + offset;
                                    bytes.extend_from_slice(&raw[s..s + size]);
                                }
                            }
                            offset += size;
                            out.push(Pixels::from_le_bytes(band.band_type, &bytes));
                        }
                        out
                    }
                }
            }
        };
        Ok(Tile {
            z,
            x,
            y,
            source_zoom: z,
            width: w,
            height: h,
            bands,
            nodata,
            alpha: m.alpha_band(),
        })
    }

    fn decompress(&self, data: &[u8], expected: usize) -> Result<Vec<u8>, String> {
        blob::decode(data, expected)
    }

    /// All tiles in file order (metadata row skipped), streaming row group by row group.
    pub fn tiles(&self) -> Result<TileIter<'_>> {
        let reader = self
            .builder()?
            .with_projection(self.data_mask()?)
            .with_batch_size(64)
            .build()?;
        Ok(TileIter {
            reader: self,
            inner: Guarded::new(reader),
            batch: None,
            blocks: Vec::new(),
            next: 0,
        })
    }

    /// The tile `z/x/y`. Within `min_zoom..=max_zoom` it is the stored tile (`None`
    /// when absent: a sparse pyramid). Outside, the request is served from the nearest
    /// available zoom (the spec's clamping): pixels of the ancestor at `max_zoom`
    /// (enlarged) or of the descendants at `min_zoom` (nearest-neighbour reduced).
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Tile>> {
        if z > 26 || (x as u64) >> z != 0 || (y as u64) >> z != 0 {
            return Err(Error::TileOffGrid { z, x, y });
        }
        let t = &self.metadata.tiling;
        if (t.min_zoom..=t.max_zoom).contains(&z) {
            let Some(block) = cell::cell_from_tile(z, x, y) else {
                return Ok(None);
            };
            return self.read_block(block);
        }
        let src = z.clamp(t.min_zoom, t.max_zoom);
        let bz = u32::from(self.metadata.block_zoom());
        let w = u64::from(t.block_width);
        let col_off = u64::from(x) * w;
        let row_off = u64::from(y) * w;
        let win =
            self.window_pixels(z, src, col_off, row_off, t.block_width, t.block_height, bz)?;
        let Some(win) = win else { return Ok(None) };
        Ok(Some(Tile {
            z,
            x,
            y,
            source_zoom: src,
            width: win.width,
            height: win.height,
            nodata: self.metadata.bands.iter().map(|b| b.nodata).collect(),
            bands: win.bands,
            alpha: self.metadata.alpha_band(),
        }))
    }

    /// Builds a `width × height` window whose top-left pixel is `(col_off, row_off)`
    /// in the global pixel grid of zoom `z`, sampling (nearest) the tiles at `src`.
    /// `None` when no tile at `src` touches it.
    #[allow(clippy::too_many_arguments)]
    fn window_pixels(
        &self,
        z: u8,
        src: u8,
        col_off: u64,
        row_off: u64,
        width: u32,
        height: u32,
        bz: u32,
    ) -> Result<Option<Window>> {
        let m = &self.metadata;
        let bw = u64::from(m.tiling.block_width);
        let bh = u64::from(m.tiling.block_height);
        let n = width as usize * height as usize;
        let mut bands: Vec<Pixels> = m
            .bands
            .iter()
            .map(|b| Pixels::filled(b.band_type, b.nodata.unwrap_or(0.0), n))
            .collect();
        let scale = 2f64.powi(i32::from(src) - i32::from(z));
        let mut cache: HashMap<(u64, u64), Option<Tile>> = HashMap::new();
        let mut any = false;
        let max_tile = 1u64 << src;
        for r in 0..u64::from(height) {
            let sy = ((row_off + r) as f64 + 0.5) * scale;
            let sy = sy.floor() as u64;
            let ty = sy / bh;
            if ty >= max_tile {
                continue;
            }
            for c in 0..u64::from(width) {
                let sx = (((col_off + c) as f64 + 0.5) * scale).floor() as u64;
                let tx = sx / bw;
                if tx >= max_tile {
                    continue;
                }
                let entry = match cache.get(&(tx, ty)) {
                    Some(t) => t,
                    None => {
                        let tile = match cell::cell_from_tile(src, tx as u32, ty as u32) {
                            Some(b) => self.read_block(b)?,
                            None => None,
                        };
                        cache.entry((tx, ty)).or_insert(tile)
                    }
                };
                if let Some(tile) = entry {
                    any = true;
                    let i = ((sy % bh) * bw + sx % bw) as usize;
                    let o = (r * u64::from(width) + c) as usize;
                    for (dst, srcb) in bands.iter_mut().zip(&tile.bands) {
                        if let Some(v) = srcb.get(i) {
                            dst.set(o, v);
                        }
                    }
                }
            }
        }
        let _ = bz;
        if !any {
            return Ok(None);
        }
        let px = cell::CE / 2f64.powi(i32::from(z)) / bw as f64;
        let xmin = col_off as f64 * px - cell::CE / 2.0;
        let ymax = cell::CE / 2.0 - row_off as f64 * px;
        Ok(Some(Window {
            zoom: z,
            col_off,
            row_off,
            width,
            height,
            bounds_mercator: [
                xmin,
                ymax - f64::from(height) * px,
                xmin + f64::from(width) * px,
                ymax,
            ],
            bands,
        }))
    }

    /// The band values at a lon/lat, from the native zoom: `None` when no tile covers
    /// the point, else one entry per band (`None` for nodata).
    ///
    /// ```no_run
    /// let r = raquet::Reader::open("raster.parquet")?;
    /// if let Some(values) = r.value_at(-3.7038, 40.4168)? {
    ///     println!("{values:?}");
    /// }
    /// # Ok::<(), raquet::Error>(())
    /// ```
    pub fn value_at(&self, lon: f64, lat: f64) -> Result<Option<Vec<Option<f64>>>> {
        if !lon.is_finite() || !lat.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Error::NotLonLat { lon, lat });
        }
        if lat.abs() > cell::MAX_LAT {
            return Ok(None);
        }
        let t = &self.metadata.tiling;
        let z = t.max_zoom;
        let (mx, my) = cell::lonlat_to_mercator(lon, lat);
        let npx = 2f64.powi(i32::from(z)) * f64::from(t.block_width);
        let gx = ((mx + cell::CE / 2.0) / cell::CE * npx)
            .floor()
            .clamp(0.0, npx - 1.0) as u64;
        let gy = ((cell::CE / 2.0 - my) / cell::CE * npx)
            .floor()
            .clamp(0.0, npx - 1.0) as u64;
        let bw = u64::from(t.block_width);
        let bh = u64::from(t.block_height);
        let (tx, ty) = (gx / bw, gy / bh);
        let Some(block) = cell::cell_from_tile(z, tx as u32, ty as u32) else {
            return Ok(None);
        };
        let Some(tile) = self.read_block(block)? else {
            return Ok(None);
        };
        let (row, col) = ((gy % bh) as u32, (gx % bw) as u32);
        Ok(Some(
            (0..tile.bands.len())
                .map(|b| tile.value(b, row, col))
                .collect(),
        ))
    }

    /// The pixels covering a lon/lat box at a zoom (clamped to the file's range), as
    /// one mosaic; pixels without a tile hold nodata (or 0).
    pub fn window(&self, bounds: [f64; 4], zoom: u8) -> Result<Window> {
        let t = &self.metadata.tiling;
        let z = zoom.clamp(t.min_zoom, t.max_zoom);
        let [w, s, e, n] = bounds;
        if !(w < e && s < n) || bounds.iter().any(|v| !v.is_finite()) {
            return Err(Error::EmptyWindow { bounds });
        }
        let (x0, y0) = cell::lonlat_to_mercator(w, n);
        let (x1, y1) = cell::lonlat_to_mercator(e, s);
        let npx = 2f64.powi(i32::from(z)) * f64::from(t.block_width);
        let to_px = |m: f64| (m + cell::CE / 2.0) / cell::CE * npx;
        let to_py = |m: f64| (cell::CE / 2.0 - m) / cell::CE * npx;
        let c0 = to_px(x0).floor().max(0.0) as u64;
        let c1 = to_px(x1).ceil().min(npx) as u64;
        let r0 = to_py(y0).floor().max(0.0) as u64;
        let r1 = to_py(y1).ceil().min(npx) as u64;
        let width = c1.saturating_sub(c0);
        let height = r1.saturating_sub(r0);
        if width == 0 || height == 0 || width * height > MAX_WINDOW_PIXELS {
            return Err(Error::WindowSize {
                width,
                height,
                zoom: z,
                limit: MAX_WINDOW_PIXELS,
            });
        }
        let bz = u32::from(self.metadata.block_zoom());
        let win = self.window_pixels(
            z,
            z,
            c0,
            r0,
            u32::try_from(width).unwrap_or(u32::MAX),
            u32::try_from(height).unwrap_or(u32::MAX),
            bz,
        )?;
        Ok(win.unwrap_or_else(|| {
            let px = cell::CE / npx;
            let n = (width * height) as usize;
            Window {
                zoom: z,
                col_off: c0,
                row_off: r0,
                width: width as u32,
                height: height as u32,
                bounds_mercator: [
                    c0 as f64 * px - cell::CE / 2.0,
                    cell::CE / 2.0 - r1 as f64 * px,
                    c1 as f64 * px - cell::CE / 2.0,
                    cell::CE / 2.0 - r0 as f64 * px,
                ],
                bands: self
                    .metadata
                    .bands
                    .iter()
                    .map(|b| Pixels::filled(b.band_type, b.nodata.unwrap_or(0.0), n))
                    .collect(),
            }
        }))
    }
}

/// Iterator over every tile of a file (see [`Reader::tiles`]).
#[derive(Debug)]
pub struct TileIter<'a> {
    reader: &'a Reader,
    inner: Guarded,
    batch: Option<RecordBatch>,
    blocks: Vec<Option<u64>>,
    next: usize,
}

impl Iterator for TileIter<'_> {
    type Item = Result<Tile>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(b) = &self.batch {
                while self.next < b.num_rows() {
                    let i = self.next;
                    self.next += 1;
                    if self.blocks.get(i).copied().flatten() == Some(0) {
                        continue;
                    }
                    return Some(self.reader.decode_row(b, i));
                }
            }
            match self.inner.next()? {
                Ok(b) => {
                    match blocks_of(b.column(0)) {
                        Ok(v) => self.blocks = v,
                        Err(e) => return Some(Err(e)),
                    }
                    self.batch = Some(b);
                    self.next = 0;
                }
                Err(e) => return Some(Err(e.into())),
            }
        }
    }
}

/// The number of rows the footer's row groups declare (what a reader may return).
fn declared_rows(arrow: &parquet::arrow::arrow_reader::ArrowReaderMetadata) -> usize {
    arrow
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| usize::try_from(rg.num_rows()).unwrap_or(0))
        .fold(0usize, usize::saturating_add)
}

/// A record batch reader that ends after its first error and turns a panic of the
/// upstream decoder (damaged pages can trip its arithmetic) into an error: upstream
/// may fail again on every call after a damaged page, and a caller that reports an
/// error and goes on must still come to an end.
#[derive(Debug)]
pub(crate) struct Guarded {
    inner: ParquetRecordBatchReader,
    done: bool,
}

impl Guarded {
    pub(crate) fn new(inner: ParquetRecordBatchReader) -> Self {
        Self { inner, done: false }
    }
}

impl Iterator for Guarded {
    type Item = std::result::Result<RecordBatch, arrow_schema::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match geoparquet_io::corrupt::catch_panic(|| self.inner.next()) {
            Ok(Some(Ok(b))) => Some(Ok(b)),
            Ok(Some(Err(e))) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(message) => {
                self.done = true;
                Some(Err(arrow_schema::ArrowError::ParquetError(format!(
                    "the decoder failed on damaged data: {message}"
                ))))
            }
        }
    }
}

/// The footer and its Arrow schema. A damaged `ARROW:schema` key can trip upstream's
/// IPC schema decoder into a panic (`arrow-ipc` `convert.rs`: an integer of bit width
/// 8390720): that is an error here, as any other damaged footer.
pub(crate) fn load_metadata(
    file: &File,
    options: ArrowReaderOptions,
) -> Result<ArrowReaderMetadata> {
    geoparquet_io::corrupt::catch_panic(|| ArrowReaderMetadata::load(file, options))
        .unwrap_or_else(|panic| {
            Err(parquet::errors::ParquetError::General(format!(
                "the footer cannot be decoded: {panic}"
            )))
        })
        .map_err(Error::from)
}
