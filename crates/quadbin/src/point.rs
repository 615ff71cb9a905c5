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

/// The tile column and row of a (non-NaN) point at zoom `z <= 26`, with the
/// toolbox's clamping. The arithmetic follows quadbin-py's expression order,
/// with the platform's `sin` and `ln`, so that points on tile edges land where
/// the reference puts them.
#[inline]
pub(crate) fn point_to_tile(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let lon = lon.clamp(-180.0, 180.0);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE);
    let n = 1u64 << z;
    #[allow(clippy::cast_precision_loss)] // at most 2^26, exact
    let nf = n as f64;
    let sin_lat = (lat * std::f64::consts::PI / 180.0).sin();
    let xf = nf * (lon / 360.0 + 0.5);
    let yf = 0.5 - 0.25 * ((1.0 + sin_lat) / (1.0 - sin_lat)).ln() / std::f64::consts::PI;
    let yf = (nf * yf).clamp(0.0, nf - 1.0);
    // Both are in [0, n] here: the casts are exact after floor.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (x, y) = (xf.floor() as u64 & (n - 1), yf.floor() as u64);
    #[allow(clippy::cast_possible_truncation)] // below 2^26
    (x as u32, y as u32)
}
