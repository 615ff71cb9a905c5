//! Optional sorting of exports, by time or spatially along a Hilbert curve: the
//! keys of each row group's rows are computed here and the rows sorted by
//! geoparquet-io's external merge sort ([`geoparquet_io::sort::ExternalSorter`]:
//! sorted runs spilled to temporary Arrow IPC files and merged, memory capped
//! by [`crate::ExportOptions::sort_memory`]).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use geoparquet_io::sort::hilbert_with_bits;

use crate::error::{Error, Result};

/// Rows per sorted batch handed to the writer (row groups are cut from them).
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

/// Bits per axis of the Hilbert grid over longitude/latitude (a 2^16 × 2^16 grid).
pub const HILBERT_BITS: u32 = 16;

/// The Hilbert key of a longitude/latitude: the cell of a 2^[`HILBERT_BITS`] grid
/// over the world (values clamped to it, NaN as its lower edge), along
/// geoparquet-io's curve ([`geoparquet_io::sort::hilbert_with_bits`]).
fn lonlat_key(lon: f64, lat: f64) -> u64 {
    let scale = |v: f64, lo: f64, hi: f64| -> u64 {
        if v.is_nan() {
            return 0;
        }
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        (t * 65_535.0) as u64
    };
    hilbert_with_bits(
        scale(lon, -180.0, 180.0),
        scale(lat, -90.0, 90.0),
        HILBERT_BITS,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The curve this crate published before it sorted through geoparquet-io
    /// (its own 16-bit `hilbert`), kept here as the reference order.
    fn published_hilbert(x: u32, y: u32) -> u64 {
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

    fn hilbert(x: u32, y: u32) -> u64 {
        hilbert_with_bits(u64::from(x), u64::from(y), HILBERT_BITS)
    }

    #[test]
    fn the_curve_is_the_published_one() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (x, y) = ((state & 0xFFFF) as u32, ((state >> 16) & 0xFFFF) as u32);
            assert_eq!(hilbert(x, y), published_hilbert(x, y), "({x}, {y})");
        }
        for (x, y) in [
            (0, 0),
            (65_535, 0),
            (0, 65_535),
            (65_535, 65_535),
            (32_767, 32_768),
        ] {
            assert_eq!(hilbert(x, y), published_hilbert(x, y), "({x}, {y})");
        }
        assert_eq!(hilbert(65_535, 0), (1u64 << 32) - 1);
    }

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
