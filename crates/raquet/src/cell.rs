//! Quadbin cells for tiles, through the `quadbin` crate, plus the Web-Mercator tile
//! arithmetic the writer needs (mercantile's conventions).

use std::f64::consts::PI;

/// Earth circumference in Web-Mercator metres (`2·π·6378137`).
pub const CE: f64 = 2.0 * PI * 6_378_137.0;
/// Largest latitude of the Web-Mercator square.
pub(crate) const MAX_LAT: f64 = 85.051_128_779_806_59;

/// The Quadbin cell of tile `z/x/y`, or `None` when out of range.
pub fn cell_from_tile(z: u8, x: u32, y: u32) -> Option<u64> {
    quadbin::Cell::from_tile(quadbin::Tile { x, y, z })
        .ok()
        .map(|c| c.get())
}

/// The tile `(z, x, y)` of a Quadbin cell, or `None` when the value is not a valid cell.
pub fn tile_from_cell(cell: u64) -> Option<(u8, u32, u32)> {
    let c = quadbin::Cell::new(cell).ok()?;
    let t = c.tile();
    Some((t.z, t.x, t.y))
}

/// Tile bounds in Web-Mercator metres `[xmin, ymin, xmax, ymax]`.
pub fn tile_bounds_mercator(z: u8, x: u32, y: u32) -> [f64; 4] {
    let size = CE / f64::from(1u32 << z.min(31)).max(1.0);
    let size = if z >= 31 {
        CE / 2f64.powi(i32::from(z))
    } else {
        size
    };
    let left = f64::from(x) * size - CE / 2.0;
    let top = CE / 2.0 - f64::from(y) * size;
    [left, top - size, left + size, top]
}

/// Tile bounds in degrees `[west, south, east, north]`.
pub fn tile_bounds_lonlat(z: u8, x: u32, y: u32) -> [f64; 4] {
    let n = 2f64.powi(i32::from(z));
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    [
        lon(f64::from(x)),
        lat(f64::from(y) + 1.0),
        lon(f64::from(x) + 1.0),
        lat(f64::from(y)),
    ]
}

/// Web-Mercator metres from degrees.
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = 6_378_137.0 * lon.to_radians();
    let y = 6_378_137.0 * (PI / 4.0 + lat.to_radians() / 2.0).tan().ln();
    (x, y)
}

/// Degrees from Web-Mercator metres.
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / 6_378_137.0).to_degrees();
    let lat = (2.0 * (y / 6_378_137.0).exp().atan() - PI / 2.0).to_degrees();
    (lon, lat)
}

/// Fractional Web-Mercator tile coordinates (0..1 over the world) of a lon/lat.
fn unit_xy(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon / 360.0 + 0.5;
    let s = lat.to_radians().sin();
    let y = 0.5 - 0.25 * ((1.0 + s) / (1.0 - s)).ln() / PI;
    (x, y)
}

/// The tile holding a lon/lat at zoom `z`, as mercantile's `tile()` decides it
/// (points within 1e-14 of a tile's right/bottom edge count in the next tile).
pub(crate) fn tile_of(lon: f64, lat: f64, z: u8) -> (u64, u64) {
    let (x, y) = unit_xy(lon, lat);
    let n = 2f64.powi(i32::from(z));
    let last = n - 1.0;
    let f = |v: f64| {
        if v <= 0.0 {
            0.0
        } else if v >= 1.0 {
            last
        } else {
            ((v + 1e-14) * n).floor().min(last)
        }
    };
    // Values are in 0..2^z, z <= 32.
    (f(x) as u64, f(y) as u64)
}

/// The tile range `(xmin, ymin, xmax, ymax)` (inclusive) covering a lon/lat box at zoom
/// `z`, as mercantile's `tiles()` enumerates it. An east edge past 180° (a box across
/// the antimeridian, west in -180..180) gives `xmax` past the last column: column
/// `x` there is tile `x - 2^z`; the range never holds a column twice.
pub(crate) fn tile_range(bounds: [f64; 4], z: u8) -> (u32, u32, u32, u32) {
    let [w, s, e, n] = bounds;
    let w = w.max(-180.0);
    let s = s.max(-MAX_LAT);
    let n = n.min(MAX_LAT);
    let world = 1u64 << z.min(31);
    let (x0, y0) = tile_of(w, n, z);
    let (x1, y1) = if e > 180.0 {
        let (x, y) = tile_of(e.min(w + 360.0) - 360.0 - 1e-11, s + 1e-11, z);
        (x + world, y)
    } else {
        tile_of(e - 1e-11, s + 1e-11, z)
    };
    let x1 = x1.min(x0 + world - 1);
    let c = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    (c(x0), c(y0), c(x1.max(x0)), c(y1.max(y0)))
}

/// The minimum zoom raquet-io picks: the zoom at which the raster's diagonal is about
/// `128·√2` pixels, clamped to `0..=max_zoom`.
pub(crate) fn auto_min_zoom(bounds: [f64; 4], block_zoom: u8, max_zoom: u8) -> u8 {
    let [w, s, e, n] = bounds;
    let (ux, uy) = tile_of(w, n, 32);
    let (lx, ly) = if e > 180.0 {
        let (x, y) = tile_of(e - 360.0, s, 32);
        (x + (1u64 << 32), y)
    } else {
        tile_of(e, s, 32)
    };
    let hyp = ((lx as f64 - ux as f64).powi(2) + (ly as f64 - uy as f64).powi(2)).sqrt();
    let target = (128.0f64 * 128.0 * 2.0).sqrt();
    let z = 32.0 - (hyp / target).log2() - f64::from(block_zoom);
    if !z.is_finite() {
        return max_zoom;
    }
    z.round().clamp(0.0, f64::from(max_zoom)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_known_tiles() {
        let b = tile_bounds_lonlat(6, 32, 21);
        assert!((b[0] - 0.0).abs() < 1e-12);
        let m = tile_bounds_mercator(0, 0, 0);
        assert!((m[2] - CE / 2.0).abs() < 1e-6);
        let (x, y) = lonlat_to_mercator(2.8125, 50.0);
        let (lon, lat) = mercator_to_lonlat(x, y);
        assert!((lon - 2.8125).abs() < 1e-9 && (lat - 50.0).abs() < 1e-9);
    }

    #[test]
    fn tile_ranges_like_mercantile() {
        // Exactly tile z10/520/350.
        let b = tile_bounds_lonlat(10, 520, 350);
        assert_eq!(tile_range(b, 10), (520, 350, 520, 350));
        assert_eq!(tile_range(b, 9), (260, 175, 260, 175));
    }
}
