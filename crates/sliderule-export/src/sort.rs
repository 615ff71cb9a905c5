//! Optional sorting of exports (by time, or spatially along a Hilbert curve)
//! with bounded memory: each row group's worth of rows is sorted and spilled
//! to a temporary Arrow IPC file (a run); the runs are merged at the end,
//! holding one chunk per run.

use std::fs::File;
use std::io::{Seek, Write};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use arrow_ipc::reader::FileReader;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// Rows per spilled or merged chunk.
pub const SORT_CHUNK_ROWS: usize = 65_536;

/// The sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SortBy {
    /// By `time`, ascending (stable: ties keep arrival order).
    Time,
    /// Along a Hilbert curve over longitude/latitude (16 bits per axis), so
    /// that row groups cover compact areas.
    Hilbert,
}

impl std::str::FromStr for SortBy {
    type Err = Error;

    /// Parses `time` or `hilbert`.
    ///
    /// ```
    /// use sliderule_export::sort::SortBy;
    /// assert_eq!("hilbert".parse::<SortBy>()?, SortBy::Hilbert);
    /// assert_eq!(SortBy::Time.to_string().parse::<SortBy>()?, SortBy::Time);
    /// assert!("space".parse::<SortBy>().is_err());
    /// # Ok::<(), sliderule_export::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "time" => Ok(Self::Time),
            "hilbert" => Ok(Self::Hilbert),
            other => Err(Error::UnknownName {
                what: "sort order",
                value: other.to_owned(),
                expected: "time or hilbert",
            }),
        }
    }
}

impl std::fmt::Display for SortBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Time => "time",
            Self::Hilbert => "hilbert",
        })
    }
}

/// Hilbert index of a cell of a 2^16 × 2^16 grid.
///
/// ```
/// use sliderule_export::sort::hilbert;
/// // The curve starts at the origin and ends in the opposite bottom corner;
/// // neighbouring cells along it are adjacent.
/// assert_eq!(hilbert(0, 0), 0);
/// assert_eq!(hilbert(65_535, 0), (1u64 << 32) - 1);
/// ```
#[must_use]
pub fn hilbert(x: u32, y: u32) -> u64 {
    let n: u64 = 1 << 16;
    let (mut x, mut y) = (u64::from(x) & (n - 1), u64::from(y) & (n - 1));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

fn lonlat_key(lon: f64, lat: f64) -> u64 {
    let scale = |v: f64, lo: f64, hi: f64| -> u32 {
        if v.is_nan() {
            return 0;
        }
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        (t * 65_535.0) as u32
    };
    hilbert(scale(lon, -180.0, 180.0), scale(lat, -90.0, 90.0))
}

/// First x/y of a WKB point or multipoint (little-endian, as written here).
fn wkb_first_xy(b: &[u8]) -> Option<(f64, f64)> {
    let t = u32::from_le_bytes(b.get(1..5)?.try_into().ok()?);
    let at = match t {
        1 => 5,
        4 => 14,
        _ => return None,
    };
    let x = f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
    let y = f64::from_le_bytes(b.get(at + 8..at + 16)?.try_into().ok()?);
    Some((x, y))
}

/// The sort key of every row of a final-layout batch.
pub(crate) fn keys(batch: &RecordBatch, by: SortBy) -> Result<Vec<u64>> {
    let missing = |c: &str, m: &str| Error::InvalidColumn {
        file: "sort".into(),
        column: c.into(),
        message: m.into(),
    };
    match by {
        SortBy::Time => {
            let t = batch
                .column_by_name("time")
                .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
                .ok_or_else(|| missing("time", "no timestamp[ns] column to sort by"))?;
            // Order-preserving map of i64 to u64.
            Ok(t.values().iter().map(|v| (*v as u64) ^ (1 << 63)).collect())
        }
        SortBy::Hilbert => {
            if let Some(g) = batch
                .column_by_name("geometry")
                .and_then(|c| c.as_binary_opt::<i32>())
            {
                return Ok((0..g.len())
                    .map(|i| wkb_first_xy(g.value(i)).map_or(0, |(x, y)| lonlat_key(x, y)))
                    .collect());
            }
            let lon = batch
                .column_by_name("longitude")
                .and_then(|c| c.as_primitive_opt::<Float64Type>());
            let lat = batch
                .column_by_name("latitude")
                .and_then(|c| c.as_primitive_opt::<Float64Type>());
            match (lon, lat) {
                (Some(lon), Some(lat)) => Ok(lon
                    .values()
                    .iter()
                    .zip(lat.values().iter())
                    .map(|(x, y)| lonlat_key(*x, *y))
                    .collect()),
                _ => Err(missing(
                    "geometry",
                    "a Hilbert sort needs geometry or latitude/longitude columns (the compact plain layout has neither)",
                )),
            }
        }
    }
}

const KEY: &str = "__sort_key";

/// Sorted runs spilled to unnamed temporary IPC files (nothing is left behind,
/// whatever ends the process).
pub(crate) struct Spill {
    runs: Vec<File>,
    schema: SchemaRef,
    by: SortBy,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("runs", &self.runs.len())
            .finish_non_exhaustive()
    }
}

fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Spill {
    pub(crate) fn new(schema: &SchemaRef, by: SortBy) -> Result<Self> {
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new(KEY, DataType::UInt64, false)));
        Ok(Self {
            runs: Vec::new(),
            schema: Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            by,
        })
    }

    /// Sorts one batch (stable) and writes it as a run.
    pub(crate) fn add_run(&mut self, batch: &RecordBatch) -> Result<()> {
        let keys = keys(batch, self.by)?;
        let mut order: Vec<u32> = (0..u32::try_from(keys.len()).unwrap_or(u32::MAX)).collect();
        order.sort_by_key(|i| keys.get(*i as usize).copied().unwrap_or(u64::MAX));
        let idx = UInt32Array::from(order);
        let mut cols: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| arrow_select::take::take(c.as_ref(), &idx, None))
            .collect::<std::result::Result<_, _>>()?;
        let sorted_keys: Vec<u64> = idx
            .values()
            .iter()
            .map(|i| keys.get(*i as usize).copied().unwrap_or(u64::MAX))
            .collect();
        cols.push(Arc::new(UInt64Array::from(sorted_keys)));
        let run = RecordBatch::try_new(self.schema.clone(), cols)?;
        let file = geoparquet_io::output::scratch_file(None)?;
        let temp_dir = std::env::temp_dir();
        let scratch = |source| geoparquet_io::Error::TempDir {
            dir: temp_dir.clone(),
            source,
        };
        let mut w = FileWriter::try_new(
            std::io::BufWriter::new(file.try_clone().map_err(scratch)?),
            &self.schema,
        )?;
        let mut at = 0;
        while at < run.num_rows() {
            let n = SORT_CHUNK_ROWS.min(run.num_rows() - at);
            w.write(&run.slice(at, n))?;
            at += n;
        }
        w.finish()
            .and_then(|()| w.get_mut().flush().map_err(ArrowError::from))
            .map_err(|e| match e {
                ArrowError::IoError(_, source) => Error::from(scratch(source)),
                e => Error::from(e),
            })?;
        self.runs.push(file);
        Ok(())
    }

    /// Merges the runs in key order, handing batches of up to
    /// [`SORT_CHUNK_ROWS`] rows (without the key column) to `emit`.
    pub(crate) fn merge(self, mut emit: impl FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        struct Cursor {
            reader: FileReader<std::io::BufReader<File>>,
            batch: Option<RecordBatch>,
            row: usize,
        }
        impl Cursor {
            fn key(&self) -> Option<u64> {
                let b = self.batch.as_ref()?;
                let k = b
                    .columns()
                    .last()?
                    .as_primitive_opt::<arrow_array::types::UInt64Type>()?;
                k.values().get(self.row).copied()
            }
            fn advance(&mut self) -> Result<()> {
                self.row += 1;
                if self
                    .batch
                    .as_ref()
                    .is_some_and(|b| self.row >= b.num_rows())
                {
                    self.batch = self.reader.next().transpose()?;
                    self.row = 0;
                }
                Ok(())
            }
        }
        let mut cursors = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            // The writer's handle shared this one's position: start over.
            let mut f = run.try_clone().map_err(io(&std::env::temp_dir()))?;
            let _ = f
                .seek(std::io::SeekFrom::Start(0))
                .map_err(io(&std::env::temp_dir()))?;
            let mut reader = FileReader::try_new(std::io::BufReader::new(f), None)?;
            let batch = reader.next().transpose()?;
            cursors.push(Cursor {
                reader,
                batch,
                row: 0,
            });
        }
        let out_fields = self.schema.fields().len() - 1;
        let out_schema = Arc::new(Schema::new_with_metadata(
            self.schema
                .fields()
                .iter()
                .take(out_fields)
                .cloned()
                .collect::<Vec<_>>(),
            self.schema.metadata().clone(),
        ));
        // A heap of (key, run); ties go to the lower run (runs are in arrival order).
        let mut heap = std::collections::BinaryHeap::new();
        for (i, c) in cursors.iter().enumerate() {
            if let Some(k) = c.key() {
                heap.push(std::cmp::Reverse((k, i)));
            }
        }
        let mut held: Vec<RecordBatch> = Vec::new();
        let mut held_of: Vec<Option<usize>> = vec![None; cursors.len()];
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(SORT_CHUNK_ROWS);
        let flush = |held: &mut Vec<RecordBatch>,
                     picks: &mut Vec<(usize, usize)>,
                     held_of: &mut Vec<Option<usize>>,
                     emit: &mut dyn FnMut(RecordBatch) -> Result<()>|
         -> Result<()> {
            if picks.is_empty() {
                return Ok(());
            }
            let mut cols = Vec::with_capacity(out_fields);
            for c in 0..out_fields {
                let arrays: Vec<&dyn Array> = held.iter().map(|b| b.column(c).as_ref()).collect();
                cols.push(arrow_select::interleave::interleave(&arrays, picks)?);
            }
            emit(RecordBatch::try_new(out_schema.clone(), cols)?)?;
            picks.clear();
            held.clear();
            held_of.iter_mut().for_each(|h| *h = None);
            Ok(())
        };
        while let Some(std::cmp::Reverse((_, run))) = heap.pop() {
            let Some(c) = cursors.get_mut(run) else { break };
            let Some(batch) = c.batch.as_ref() else {
                continue;
            };
            let slot = match held_of.get(run).copied().flatten() {
                Some(s) => s,
                None => {
                    held.push(batch.clone());
                    let s = held.len() - 1;
                    if let Some(h) = held_of.get_mut(run) {
                        *h = Some(s);
                    }
                    s
                }
            };
            picks.push((slot, c.row));
            let before = c.batch.as_ref().map(RecordBatch::num_rows);
            let row_before = c.row;
            c.advance()?;
            // A new batch of this run needs a new slot.
            if c.row == 0
                && before.is_some_and(|n| row_before + 1 >= n)
                && let Some(h) = held_of.get_mut(run)
            {
                *h = None;
            }
            if let Some(k) = c.key() {
                heap.push(std::cmp::Reverse((k, run)));
            }
            if picks.len() >= SORT_CHUNK_ROWS {
                flush(&mut held, &mut picks, &mut held_of, &mut emit)?;
            }
        }
        flush(&mut held, &mut picks, &mut held_of, &mut emit)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_is_a_bijection_on_a_small_grid() {
        let mut seen = std::collections::BTreeSet::new();
        for x in 0..64u32 {
            for y in 0..64u32 {
                seen.insert(hilbert(x << 10, y << 10) >> 20);
            }
        }
        assert_eq!(seen.len(), 64 * 64);
        // Consecutive indices are neighbouring cells (on a 16 x 16 corner of the grid).
        let mut cells = std::collections::BTreeMap::new();
        for x in 0..256u32 {
            for y in 0..256u32 {
                cells.insert(hilbert(x, y), (x, y));
            }
        }
        let first: Vec<(u32, u32)> = (0..256u64).filter_map(|d| cells.get(&d).copied()).collect();
        assert_eq!(first.len(), 256);
        for w in first.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn nan_sorts_first_and_bounds_clamp() {
        assert_eq!(lonlat_key(f64::NAN, f64::NAN), hilbert(0, 0));
        assert_eq!(lonlat_key(f64::NAN, 0.0), hilbert(0, 32_767));
        assert_eq!(lonlat_key(500.0, 100.0), lonlat_key(180.0, 90.0));
    }
}
