//! Points to cells.

use crate::cell::{Cell, MAX_RESOLUTION, encode};
use crate::error::{Error, Result};

/// The latitude limit of [`Cell::from_lonlat`] (degrees), as in the Analytics
/// Toolbox since PR #461 and quadbin-py 0.2.2.
pub const MAX_LATITUDE: f64 = 89.0;

impl Cell {
    /// The cell at `resolution` containing the point (`QUADBIN_FROMLONGLAT`).
    ///
    /// As the toolbox does: longitude is clamped to ±180 and latitude to ±89;
    /// the column wraps (180° and -180° both give column 0); the row is clamped
    /// to the grid, so any latitude beyond ±85.0511° lands in the first or last row.
    ///
    /// # Errors
    ///
    /// [`Error::ResolutionOutOfRange`] above 26; [`Error::InvalidCoordinate`]
    /// for NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let cell = Cell::from_lonlat(-3.7038, 40.4168, 4)?;
    /// assert_eq!(cell.tile(), Tile { x: 7, y: 6, z: 4 });
    /// assert_eq!(Cell::from_lonlat(-3.7038, 40.4168, 10)?.get(), 5_234_261_499_580_514_303);
    /// assert_eq!(Cell::from_lonlat(180.0, 0.0, 26)?.tile().x, 0);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[inline]
    pub fn from_lonlat(lon: f64, lat: f64, resolution: u8) -> Result<Self> {
        if resolution > MAX_RESOLUTION {
            return Err(Error::ResolutionOutOfRange {
                resolution: u32::from(resolution),
            });
        }
        if lon.is_nan() || lat.is_nan() {
            return Err(Error::InvalidCoordinate { lon, lat });
        }
        let (x, y) = point_to_tile(lon, lat, resolution);
        Ok(Self(encode(x, y, resolution)))
    }
}

/// How many points [`cells_from_lonlat`] prepares at a time.
const CHUNK: usize = 256;

/// The cells at `resolution` of many points, appended to `out` in order: the
/// same answers as [`Cell::from_lonlat`] for each, computed in chunks so the
/// processor overlaps the work of neighbouring points (about 1.5 times the
/// throughput of calling [`Cell::from_lonlat`] in a loop).
///
/// # Errors
///
/// [`Error::ResolutionOutOfRange`] above 26; [`Error::LengthMismatch`] when
/// the slices differ in length; [`Error::InvalidPoint`] naming the index of
/// the first NaN coordinate. On error `out` is left as it was.
///
/// # Examples
///
/// ```
/// use quadbin::{Cell, cells_from_lonlat};
/// let (lons, lats) = ([-3.7038, 2.3522, 180.0], [40.4168, 48.8566, 0.0]);
/// let mut cells = Vec::new();
/// cells_from_lonlat(&lons, &lats, 10, &mut cells)?;
/// assert_eq!(cells[0], Cell::from_lonlat(-3.7038, 40.4168, 10)?);
/// assert_eq!(cells.len(), 3);
/// assert!(cells_from_lonlat(&[0.0, f64::NAN], &[0.0, 0.0], 10, &mut cells).is_err());
/// assert_eq!(cells.len(), 3);
/// # Ok::<(), quadbin::Error>(())
/// ```
pub fn cells_from_lonlat(
    lons: &[f64],
    lats: &[f64],
    resolution: u8,
    out: &mut Vec<Cell>,
) -> Result<()> {
    if resolution > MAX_RESOLUTION {
        return Err(Error::ResolutionOutOfRange {
            resolution: u32::from(resolution),
        });
    }
    if lons.len() != lats.len() {
        return Err(Error::LengthMismatch {
            lons: lons.len(),
            lats: lats.len(),
        });
    }
    if let Some(index) = lons
        .iter()
        .zip(lats)
        .position(|(lon, lat)| lon.is_nan() || lat.is_nan())
    {
        return Err(Error::InvalidPoint {
            index,
            lon: lons[index],
            lat: lats[index],
        });
    }
    out.reserve(lons.len());
    let z = resolution;
    let mut q = [0.0f64; CHUNK];
    let mut cos2 = [0.0f64; CHUNK];
    for (lo, la) in lons.chunks(CHUNK).zip(lats.chunks(CHUNK)) {
        // Three passes, so that the calls to `ln` do not serialise the rest.
        for ((q, c), &lat) in q.iter_mut().zip(cos2.iter_mut()).zip(la) {
            (*q, *c) = row_terms(lat);
        }
        for q in &mut q[..la.len()] {
            *q = q.ln();
        }
        for (i, (&lon, &lat)) in lo.iter().zip(la).enumerate() {
            let (x, y) = finish(lon, lat, z, q[i], cos2[i]);
            out.push(Cell(encode(x, y, z)));
        }
    }
    Ok(())
}

/// For a latitude: `(1 + s) / (1 - s)` and `1 - s^2`, with `s` the polynomial
/// sine of the clamped latitude.
#[inline(always)]
fn row_terms(lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE);
    let s = fast_sin(lat * (std::f64::consts::PI / 180.0));
    let (up, down) = (1.0 + s, 1.0 - s);
    (up / down, up * down)
}

/// The tile of a (non-NaN) point from its [`row_terms`] (`ln_q` the logarithm
/// of the first), or from [`point_to_tile_exact`] when the row is too close to
/// call.
///
/// The row is floor(n yf) clamped to [0, n - 1], so only the edges 1 to n - 1
/// matter. |yf - yf_reference| < 1e-14 (1 + 1 / (1 - s^2)) (the `sin`
/// difference is amplified by d ln((1+s)/(1-s)) / ds = 2 / (1 - s^2)); the
/// tests show the real error stays below a hundredth of that. The function
/// falls back when n yf is within that margin of a relevant edge (the test is
/// written without a division).
#[inline(always)]
fn finish(lon: f64, lat: f64, z: u8, ln_q: f64, cos2: f64) -> (u32, u32) {
    // From u32 (z <= 26): a cheap, exact conversion.
    let nf = f64::from(1u32 << z);
    let last = (1i64 << z) - 1;
    let yf = 0.5 - (0.25 * std::f64::consts::FRAC_1_PI) * ln_q;
    let v = (nf * yf).clamp(0.0, nf - 1.0);
    // Non-negative, so the cast is floor (and needs no libm call); through
    // i64, which x86-64 converts in one instruction, unlike u64.
    #[allow(clippy::cast_possible_truncation)]
    let y = v as i64;
    #[allow(clippy::cast_precision_loss)] // below 2^26, exact
    let frac = v - y as f64;
    let margin = nf * 1e-14 * (cos2 + 1.0);
    if (y > 0 && frac * cos2 <= margin) || (y < last && (1.0 - frac) * cos2 <= margin) {
        return point_to_tile_exact(lon, lat, z);
    }
    let lon = lon.clamp(-180.0, 180.0);
    // In [0, n]: the cast is floor; column n (longitude 180) wraps to 0.
    #[allow(clippy::cast_possible_truncation)]
    let x = (nf * (lon / 360.0 + 0.5)) as i64 & last;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in [0, 2^26)
    (x as u32, y as u32)
}

/// The tile column and row of a (non-NaN) point at zoom `z <= 26`, with the
/// toolbox's clamping.
///
/// The row is first computed with a polynomial `sin` (about five times as fast
/// as the platform's and free of a call); when that result lies within a
/// generous error margin of a row edge, it is recomputed by
/// [`point_to_tile_exact`], so the answer is always the reference formula's.
#[inline]
pub(crate) fn point_to_tile(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let (q, cos2) = row_terms(lat);
    finish(lon, lat, z, q.ln(), cos2)
}

/// [`point_to_tile`] by the reference formula with the platform's `sin` and
/// `ln`, in quadbin-py's expression order, so that points on tile edges land
/// where the reference puts them.
#[cold]
#[inline(never)]
pub(crate) fn point_to_tile_exact(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let lon = lon.clamp(-180.0, 180.0);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE);
    let n = 1u64 << z;
    // From u32 (z <= 26): a cheap, exact conversion.
    let nf = f64::from(1u32 << z);
    let sin_lat = (lat * std::f64::consts::PI / 180.0).sin();
    let xf = nf * (lon / 360.0 + 0.5);
    let yf = 0.5 - 0.25 * ((1.0 + sin_lat) / (1.0 - sin_lat)).ln() / std::f64::consts::PI;
    let yf = (nf * yf).clamp(0.0, nf - 1.0);
    // Both are in [0, n] here, so the casts are floor.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let (x, y) = (xf as i64 & (n as i64 - 1), yf as i64);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in [0, 2^26)
    (x as u32, y as u32)
}

/// `sin(x)` for `|x| <= 1.56` (89°): its Taylor series to `x^19` (truncation
/// error below 3e-16 there), evaluated by Estrin's scheme for short
/// dependency chains.
#[inline]
fn fast_sin(x: f64) -> f64 {
    const C3: f64 = -1.0 / 6.0;
    const C5: f64 = 1.0 / 120.0;
    const C7: f64 = -1.0 / 5040.0;
    const C9: f64 = 1.0 / 362_880.0;
    const C11: f64 = -1.0 / 39_916_800.0;
    const C13: f64 = 1.0 / 6_227_020_800.0;
    const C15: f64 = -1.0 / 1_307_674_368_000.0;
    const C17: f64 = 1.0 / 355_687_428_096_000.0;
    const C19: f64 = -1.0 / 121_645_100_408_832_000.0;
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let a = C3 + C5 * x2;
    let b = C7 + C9 * x2;
    let c = C11 + C13 * x2;
    let d = C15 + C17 * x2;
    let p = (a + b * x4) + (c + d * x4) * x8 + C19 * (x8 * x8);
    x + x * x2 * p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{tile_lat, tiles_per_side};

    /// splitmix64, as a float in [0, 1).
    fn rng(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn fast_sin_error_is_a_small_part_of_the_margin() {
        let mut st = 11;
        let mut worst = 0.0f64;
        for i in 0..2_000_000 {
            let lat = if i == 0 {
                89.0
            } else {
                rng(&mut st) * 178.0 - 89.0
            };
            let x = lat * std::f64::consts::PI / 180.0;
            let (sf, se) = (fast_sin(lat * (std::f64::consts::PI / 180.0)), x.sin());
            assert!((sf - se).abs() <= 4.0 * f64::EPSILON, "sin {x}");
            let fast = 0.5 - (0.25 * std::f64::consts::FRAC_1_PI) * ((1.0 + sf) / (1.0 - sf)).ln();
            let exact = 0.5 - 0.25 * ((1.0 + se) / (1.0 - se)).ln() / std::f64::consts::PI;
            let margin = 1e-14 * (1.0 + 1.0 / ((1.0 + sf) * (1.0 - sf)));
            worst = worst.max((fast - exact).abs() / margin);
        }
        println!("worst error as a fraction of the margin: {worst:e}");
        assert!(worst < 0.05, "{worst}");
    }

    #[test]
    fn fast_path_equals_reference_formula() {
        let mut st = 12;
        for i in 0..3_000_000u32 {
            #[allow(clippy::cast_possible_truncation)]
            let z = (i % 27) as u8;
            let lon = rng(&mut st) * 400.0 - 200.0;
            let lat = if i % 2 == 0 {
                rng(&mut st) * 200.0 - 100.0
            } else {
                // Exactly on a row edge, or one ulp either side.
                let n = tiles_per_side(z);
                let row = (rng(&mut st) * n).floor();
                let edge = tile_lat(row, n);
                match i % 3 {
                    0 => edge,
                    1 => edge.next_up(),
                    _ => edge.next_down(),
                }
            };
            let exact = point_to_tile_exact(lon, lat, z);
            assert_eq!(point_to_tile(lon, lat, z), exact, "{lon} {lat} {z}");
        }
    }
}
