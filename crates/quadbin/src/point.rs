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
/// processor overlaps the work of neighbouring points (about 1.4 times the
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
            *q = fast_ln(*q);
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

/// For a latitude: `ln((1 + s) / (1 - s))` and `1 - s^2`, with `s` the
/// polynomial sine of the clamped latitude, and no call to the platform's `ln`.
#[inline(always)]
fn row_terms_ln(lat: f64) -> (f64, f64) {
    let (q, cos2) = row_terms(lat);
    (fast_ln(q), cos2)
}

/// Subintervals of [1, 2) in [`LN_TABLE`].
const LN_TABLE_SIZE: usize = 64;

/// `ln x` for `x` in [1, 2]: `2 atanh((x - 1) / (x + 1))` summed to convergence
/// (|t| <= 1/3, so 40 terms are far beyond double precision), at compile time.
const fn const_ln(x: f64) -> f64 {
    let t = (x - 1.0) / (x + 1.0);
    let t2 = t * t;
    let mut sum = 0.0;
    let mut power = t;
    let mut k = 0;
    while k < 40 {
        sum += power / (2 * k + 1) as f64;
        power *= t2;
        k += 1;
    }
    2.0 * sum
}

/// For each subinterval `[1 + i/64, 1 + (i+1)/64)` of [1, 2): `1 / c` (rounded)
/// for its midpoint `c`, and `ln` of the inverse of that rounded value, so that
/// `ln m = ln(m * inv) + ln(1 / inv)` exactly for any `m`.
const LN_TABLE: [(f64, f64); LN_TABLE_SIZE] = {
    let mut table = [(0.0, 0.0); LN_TABLE_SIZE];
    let mut i = 0;
    while i < LN_TABLE_SIZE {
        let c = 1.0 + (i as f64 + 0.5) / LN_TABLE_SIZE as f64;
        let inv = 1.0 / c;
        // ln(1 / inv) = ln(2) - ln(2 inv), with 2 inv in [1, 2].
        table[i] = (inv, std::f64::consts::LN_2 - const_ln(2.0 * inv));
        i += 1;
    }
    table
};

/// `ln x` for positive normal `x`, with an absolute error below 1e-15 (a small
/// part of [`finish`]'s margin; the tests measure it) and no call: `x = 2^e m`
/// with `m` in [1, 2); `m` times the table's inverse of its subinterval's
/// midpoint is `1 + r` with |r| <= 1/128, whose `ln` is its series to `r^6`
/// (truncation below 3e-16).
#[inline(always)]
fn fast_ln(x: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    const ONE: u64 = 0x3FF0_0000_0000_0000;
    let bits = x.to_bits();
    let e = (bits >> 52) as i64 - 1023;
    let (inv, ln_c) = LN_TABLE[(bits >> 46) as usize & (LN_TABLE_SIZE - 1)];
    let m = f64::from_bits((bits & MANTISSA) | ONE);
    let r = m * inv - 1.0;
    let r2 = r * r;
    let r4 = r2 * r2;
    // r - r^2/2 + r^3/3 - r^4/4 + r^5/5 - r^6/6, in short dependency chains.
    let p = (r - 0.5 * r2) + r2 * (r * (1.0 / 3.0) - 0.25 * r2) + r4 * (r * 0.2 - r2 * (1.0 / 6.0));
    (e as f64 * std::f64::consts::LN_2 + ln_c) + p
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
    let y = v as i64;
    let frac = v - y as f64;
    let margin = nf * 1e-14 * (cos2 + 1.0);
    if (y > 0 && frac * cos2 <= margin) || (y < last && (1.0 - frac) * cos2 <= margin) {
        return point_to_tile_exact(lon, lat, z);
    }
    let lon = lon.clamp(-180.0, 180.0);
    // In [0, n]: the cast is floor; column n (longitude 180) wraps to 0.
    let x = (nf * (lon / 360.0 + 0.5)) as i64 & last;
    (x as u32, y as u32)
}

/// The tile column and row of a (non-NaN) point at zoom `z <= 26`, with the
/// toolbox's clamping.
///
/// The row is first computed with a polynomial `sin` (about five times as fast
/// as the platform's and free of a call) and a table `ln` ([`fast_ln`], inline,
/// with shorter dependency chains than a call); when that result lies within a
/// generous error margin of a row edge, it is recomputed by
/// [`point_to_tile_exact`], so the answer is always the reference formula's.
#[inline]
pub(crate) fn point_to_tile(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let (ln_q, cos2) = row_terms_ln(lat);
    finish(lon, lat, z, ln_q, cos2)
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
    let (x, y) = (xf as i64 & (n as i64 - 1), yf as i64);
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
            // The whole fast path: polynomial sine and table logarithm.
            let fast = 0.5 - (0.25 * std::f64::consts::FRAC_1_PI) * row_terms_ln(lat).0;
            let exact = 0.5 - 0.25 * ((1.0 + se) / (1.0 - se)).ln() / std::f64::consts::PI;
            let margin = 1e-14 * (1.0 + 1.0 / ((1.0 + sf) * (1.0 - sf)));
            worst = worst.max((fast - exact).abs() / margin);
        }
        println!("worst error as a fraction of the margin: {worst:e}");
        assert!(worst < 0.05, "{worst}");
    }

    #[test]
    fn fast_ln_is_within_its_bound() {
        // The table is what a runtime `ln` gives.
        for (i, &(inv, ln_c)) in LN_TABLE.iter().enumerate() {
            assert!((ln_c + inv.ln()).abs() <= f64::EPSILON, "entry {i}");
        }
        let mut st = 13;
        let mut worst = 0.0f64;
        for i in 0..2_000_000u32 {
            // Every ratio (1 + s) / (1 - s) a clamped latitude gives lies in
            // [1.7e-4, 5.8e3]; also powers of two and subinterval edges.
            let x = match i % 4 {
                0 => (rng(&mut st) * 18.0 - 9.0).exp(),
                1 => 2f64.powi(i32::try_from(i % 40).unwrap() - 20),
                2 => {
                    (1.0 + f64::from(i % 64) / 64.0)
                        * 2f64.powi(i32::try_from(i % 26).unwrap() - 13)
                }
                _ => 1.0 + rng(&mut st),
            };
            let err = (fast_ln(x) - x.ln()).abs();
            worst = worst.max(err);
        }
        println!("worst absolute error of fast_ln: {worst:e}");
        // The row margin allows 4 pi 1e-14 (1.2e-13) in ln q.
        assert!(worst < 4e-15, "{worst}");
    }

    #[test]
    fn fast_path_equals_reference_formula() {
        let mut st = 12;
        for i in 0..3_000_000u32 {
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
