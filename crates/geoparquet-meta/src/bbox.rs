//! Bounding boxes of 4, 6 or 8 numbers, antimeridian-aware.
//!
//! One type serves the three boxes GeoParquet knows (the file-level `bbox`
//! of a column, a row's covering box, a row group's Parquet
//! `GeospatialStatistics` box). On X, `xmin > xmax` means that the box
//! crosses the antimeridian and covers `x >= xmin OR x <= xmax` (RFC 7946
//! section 5, Parquet geospatial statistics). A box with NaN in X or Y is
//! *unusable*: it prunes nothing and contains nothing. Missing or NaN Z/M
//! ranges are unknown and never exclude anything.

use crate::error::{Error, Result};

/// Slack, in degrees, beyond longitude ±180 and latitude ±90 before a
/// coordinate counts as outside the range of a geographic CRS: a millionth of
/// a degree (about 0.1 m), so that floating-point noise from a reprojection
/// (`180.00000000000006`) is not reported, while projected coordinates
/// (metres, far outside) always are.
pub const LON_LAT_TOLERANCE: f64 = 1e-6;

/// A bounding box: X/Y always, Z and M optionally.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::BoundingBox;
///
/// // Fiji: crosses the antimeridian.
/// let fiji = BoundingBox::new(177.0, -20.0, -178.0, -12.0);
/// assert!(fiji.wraps());
/// assert!(fiji.contains_xy(179.5, -17.0));
/// assert!(fiji.contains_xy(-179.5, -17.0));
/// assert!(!fiji.contains_xy(0.0, -17.0));
///
/// let query = BoundingBox::new(-179.9, -18.0, -179.0, -16.0);
/// assert!(fiji.intersects(&query));
///
/// let b = BoundingBox::from_slice(&[0.0, 0.0, 5.0, 10.0, 10.0, 15.0])?;
/// assert_eq!(b.z(), Some((5.0, 15.0)));
/// assert_eq!(b.to_vec(), vec![0.0, 0.0, 5.0, 10.0, 10.0, 15.0]);
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// West (minimum X); greater than `xmax` when the box wraps.
    pub xmin: f64,
    /// South (minimum Y).
    pub ymin: f64,
    /// East (maximum X).
    pub xmax: f64,
    /// North (maximum Y).
    pub ymax: f64,
    /// Z range, if known.
    pub zrange: Option<(f64, f64)>,
    /// M range, if known.
    pub mrange: Option<(f64, f64)>,
}

impl BoundingBox {
    /// A 2D box.
    pub fn new(xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> Self {
        Self {
            xmin,
            ymin,
            xmax,
            ymax,
            zrange: None,
            mrange: None,
        }
    }

    /// The same box with a Z range.
    pub fn with_z(mut self, zmin: f64, zmax: f64) -> Self {
        self.zrange = Some((zmin, zmax));
        self
    }

    /// The same box with an M range.
    pub fn with_m(mut self, mmin: f64, mmax: f64) -> Self {
        self.mrange = Some((mmin, mmax));
        self
    }

    /// An "empty" box that any [`BoundingBox::expand_xy`] replaces: infinite
    /// minimums and maximums the wrong way round.
    pub fn empty() -> Self {
        Self::new(
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        )
    }

    /// Whether nothing was added to an [`BoundingBox::empty`] box.
    pub fn is_empty(&self) -> bool {
        self.xmin == f64::INFINITY && self.xmax == f64::NEG_INFINITY
    }

    /// Parses the GeoParquet array form: 4 values `[xmin, ymin, xmax, ymax]`,
    /// 6 values with Z, or 8 values with Z and M.
    pub fn from_slice(values: &[f64]) -> Result<Self> {
        match *values {
            [xmin, ymin, xmax, ymax] => Ok(Self::new(xmin, ymin, xmax, ymax)),
            [xmin, ymin, zmin, xmax, ymax, zmax] => {
                Ok(Self::new(xmin, ymin, xmax, ymax).with_z(zmin, zmax))
            }
            [xmin, ymin, zmin, mmin, xmax, ymax, zmax, mmax] => {
                Ok(Self::new(xmin, ymin, xmax, ymax)
                    .with_z(zmin, zmax)
                    .with_m(mmin, mmax))
            }
            _ => Err(Error::InvalidBboxLength { len: values.len() }),
        }
    }

    /// The GeoParquet array form. An M range is written only together with a
    /// Z range (8 values): the specification cannot express XYM, so an XYM box
    /// is written as XY.
    pub fn to_vec(&self) -> Vec<f64> {
        match (self.zrange, self.mrange) {
            (Some((z0, z1)), Some((m0, m1))) => {
                vec![self.xmin, self.ymin, z0, m0, self.xmax, self.ymax, z1, m1]
            }
            (Some((z0, z1)), None) => vec![self.xmin, self.ymin, z0, self.xmax, self.ymax, z1],
            _ => vec![self.xmin, self.ymin, self.xmax, self.ymax],
        }
    }

    /// The Z range if both ends are numbers.
    pub fn z(&self) -> Option<(f64, f64)> {
        self.zrange.filter(|(a, b)| !a.is_nan() && !b.is_nan())
    }

    /// The M range if both ends are numbers.
    pub fn m(&self) -> Option<(f64, f64)> {
        self.mrange.filter(|(a, b)| !a.is_nan() && !b.is_nan())
    }

    /// Whether the box crosses the antimeridian (`xmin > xmax`).
    pub fn wraps(&self) -> bool {
        self.xmin > self.xmax
    }

    /// Whether the X/Y box lies within longitude [-180, 180] and latitude
    /// [-90, 90], allowing [`LON_LAT_TOLERANCE`] of floating-point noise
    /// (a reprojected `180.00000000000006` is in range). A wrapping box is in
    /// range when both its ends are. NaN is out of range.
    ///
    /// ```
    /// use geoparquet_meta::BoundingBox;
    ///
    /// assert!(BoundingBox::new(-180.0, -90.0, 180.00000000000006, 90.0).is_within_lon_lat());
    /// assert!(BoundingBox::new(170.0, -10.0, -170.0, 10.0).is_within_lon_lat());
    /// assert!(!BoundingBox::new(0.0, 0.0, 180.01, 1.0).is_within_lon_lat());
    /// assert!(!BoundingBox::new(500_000.0, 4_000_000.0, 500_001.0, 4_000_001.0).is_within_lon_lat());
    /// ```
    #[inline]
    #[must_use]
    pub fn is_within_lon_lat(&self) -> bool {
        // Called per row by data validation: plain comparisons, inlined
        // across crates. NaN fails every comparison, so it is out of range.
        let lon = 180.0 + LON_LAT_TOLERANCE;
        let lat = 90.0 + LON_LAT_TOLERANCE;
        self.xmin.abs() <= lon
            && self.xmax.abs() <= lon
            && self.ymin.abs() <= lat
            && self.ymax.abs() <= lat
    }

    /// Whether X and Y are all numbers (not NaN). An unusable box must not be
    /// used to prune or to judge containment.
    pub fn is_usable(&self) -> bool {
        ![self.xmin, self.ymin, self.xmax, self.ymax]
            .iter()
            .any(|v| v.is_nan())
    }

    /// Whether every value (including Z/M when present) is finite.
    pub fn is_finite(&self) -> bool {
        let zm = self
            .zrange
            .into_iter()
            .chain(self.mrange)
            .flat_map(|(a, b)| [a, b]);
        [self.xmin, self.ymin, self.xmax, self.ymax]
            .into_iter()
            .chain(zm)
            .all(f64::is_finite)
    }

    /// The X extent as one or two plain intervals.
    fn x_intervals(&self) -> [(f64, f64); 2] {
        if self.wraps() {
            [(self.xmin, f64::INFINITY), (f64::NEG_INFINITY, self.xmax)]
        } else {
            [(self.xmin, self.xmax), (f64::NAN, f64::NAN)]
        }
    }

    /// Whether the point lies in the box (edges included). Z and M are not
    /// looked at. An unusable box contains nothing.
    pub fn contains_xy(&self, x: f64, y: f64) -> bool {
        if !self.is_usable() || x.is_nan() || y.is_nan() {
            return false;
        }
        let in_x = if self.wraps() {
            x >= self.xmin || x <= self.xmax
        } else {
            x >= self.xmin && x <= self.xmax
        };
        in_x && y >= self.ymin && y <= self.ymax
    }

    /// Whether `other` lies entirely in this box, on X/Y and on Z/M where both
    /// boxes know them.
    pub fn contains(&self, other: &BoundingBox) -> bool {
        if !self.is_usable() || !other.is_usable() {
            return false;
        }
        let x_ok = match (self.wraps(), other.wraps()) {
            (false, false) => other.xmin >= self.xmin && other.xmax <= self.xmax,
            // A plain interval must fit in the eastern or the western part.
            (true, false) => other.xmin >= self.xmin || other.xmax <= self.xmax,
            (true, true) => other.xmin >= self.xmin && other.xmax <= self.xmax,
            // Only a box spanning the whole circle holds a wrapping one
            // (up to floating-point noise at ±180).
            (false, true) => {
                self.xmin <= -180.0 + LON_LAT_TOLERANCE && self.xmax >= 180.0 - LON_LAT_TOLERANCE
            }
        };
        x_ok && other.ymin >= self.ymin
            && other.ymax <= self.ymax
            && range_contains(self.z(), other.z())
            && range_contains(self.m(), other.m())
    }

    /// Whether the two boxes share at least one point, antimeridian-aware.
    /// A box that is not [usable](BoundingBox::is_usable) intersects
    /// everything, so that it never prunes data by mistake.
    pub fn intersects(&self, other: &BoundingBox) -> bool {
        if !self.is_usable() || !other.is_usable() {
            return true;
        }
        let x_hit = self
            .x_intervals()
            .iter()
            .any(|a| other.x_intervals().iter().any(|b| a.0 <= b.1 && b.0 <= a.1));
        x_hit
            && self.ymin <= other.ymax
            && other.ymin <= self.ymax
            && range_overlaps(self.z(), other.z())
            && range_overlaps(self.m(), other.m())
    }

    /// Grows the box (never wrapping) to include a point; NaN coordinates are
    /// skipped, as the Parquet geospatial statistics rules ask.
    pub fn expand_xy(&mut self, x: f64, y: f64) {
        if x.is_nan() || y.is_nan() {
            return;
        }
        self.xmin = self.xmin.min(x);
        self.xmax = self.xmax.max(x);
        self.ymin = self.ymin.min(y);
        self.ymax = self.ymax.max(y);
    }

    /// The smallest box containing both. When neither wraps, this is the plain
    /// min/max union. When one does, the X extent is the shorter arc around the
    /// longitude circle that covers both extents.
    pub fn union(&self, other: &BoundingBox) -> BoundingBox {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let (xmin, xmax) = if !self.wraps() && !other.wraps() {
            (self.xmin.min(other.xmin), self.xmax.max(other.xmax))
        } else {
            union_arc((self.xmin, self.xmax), (other.xmin, other.xmax))
        };
        BoundingBox {
            xmin,
            ymin: self.ymin.min(other.ymin),
            xmax,
            ymax: self.ymax.max(other.ymax),
            zrange: union_range(self.zrange, other.zrange),
            mrange: union_range(self.mrange, other.mrange),
        }
    }
}

fn range_overlaps(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.0 <= b.1 && b.0 <= a.1,
        _ => true,
    }
}

fn range_contains(outer: Option<(f64, f64)>, inner: Option<(f64, f64)>) -> bool {
    match (outer, inner) {
        (Some(o), Some(i)) => i.0 >= o.0 && i.1 <= o.1,
        _ => true,
    }
}

fn union_range(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        _ => None,
    }
}

/// Width of an arc on the longitude circle, wrapping when start > end.
fn arc_width((s, e): (f64, f64)) -> f64 {
    if s <= e { e - s } else { 360.0 - (s - e) }
}

fn arc_contains(outer: (f64, f64), inner: (f64, f64)) -> bool {
    let point_in = |x: f64| {
        if outer.0 <= outer.1 {
            x >= outer.0 && x <= outer.1
        } else {
            x >= outer.0 || x <= outer.1
        }
    };
    point_in(inner.0) && point_in(inner.1) && arc_width(inner) <= arc_width(outer)
}

fn union_arc(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let candidates = [(a.0, b.1), (b.0, a.1), a, b];
    candidates
        .into_iter()
        .filter(|c| arc_contains(*c, a) && arc_contains(*c, b))
        .min_by(|p, q| arc_width(*p).total_cmp(&arc_width(*q)))
        .unwrap_or((-180.0, 180.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(BoundingBox::from_slice(&[1.0, 2.0, 3.0]).is_err());
        assert!(BoundingBox::from_slice(&[1.0; 5]).is_err());
        assert!(BoundingBox::from_slice(&[1.0; 7]).is_err());
        let b8 = BoundingBox::from_slice(&[0., 1., 2., 3., 4., 5., 6., 7.]).unwrap();
        assert_eq!(b8.z(), Some((2., 6.)));
        assert_eq!(b8.m(), Some((3., 7.)));
        assert_eq!(b8.to_vec(), vec![0., 1., 2., 3., 4., 5., 6., 7.]);
        let xym = BoundingBox::new(0., 0., 1., 1.).with_m(5., 6.);
        assert_eq!(xym.to_vec().len(), 4);
    }

    #[test]
    fn gpq_antimeridian_cases() {
        let b = BoundingBox::new(170.0, -10.0, -170.0, 10.0);
        assert!(b.contains_xy(175.0, 0.0));
        assert!(b.contains_xy(-175.0, 0.0));
        assert!(!b.contains_xy(-155.0, 0.0));
        assert!(!b.contains_xy(175.0, 11.0));
    }

    #[test]
    fn intersects_with_wraps() {
        let wrap = BoundingBox::new(170.0, -10.0, -170.0, 10.0);
        assert!(wrap.intersects(&BoundingBox::new(175.0, 0.0, 176.0, 1.0)));
        assert!(wrap.intersects(&BoundingBox::new(-179.0, 0.0, -175.0, 1.0)));
        assert!(!wrap.intersects(&BoundingBox::new(0.0, 0.0, 10.0, 1.0)));
        assert!(!wrap.intersects(&BoundingBox::new(175.0, 20.0, 176.0, 21.0)));
        let other_wrap = BoundingBox::new(179.0, 0.0, -179.5, 1.0);
        assert!(wrap.intersects(&other_wrap));
        let plain = BoundingBox::new(-10.0, -10.0, 10.0, 10.0);
        assert!(!plain.intersects(&BoundingBox::new(11.0, 0.0, 12.0, 1.0)));
        assert!(plain.intersects(&BoundingBox::new(10.0, 10.0, 12.0, 12.0)));
    }

    #[test]
    fn nan_rules() {
        let nan = BoundingBox::new(f64::NAN, 0.0, 1.0, 1.0);
        assert!(!nan.is_usable());
        assert!(nan.intersects(&BoundingBox::new(100.0, 100.0, 101.0, 101.0)));
        assert!(!nan.contains_xy(0.5, 0.5));
        let z_nan = BoundingBox::new(0., 0., 1., 1.).with_z(f64::NAN, 3.0);
        assert_eq!(z_nan.z(), None);
        let q = BoundingBox::new(0., 0., 1., 1.).with_z(100.0, 200.0);
        assert!(z_nan.intersects(&q));
        let z_known = BoundingBox::new(0., 0., 1., 1.).with_z(0.0, 3.0);
        assert!(!z_known.intersects(&q));
        let mut e = BoundingBox::empty();
        e.expand_xy(f64::NAN, 1.0);
        assert!(e.is_empty());
        e.expand_xy(2.0, 1.0);
        e.expand_xy(-2.0, 3.0);
        assert_eq!(e, BoundingBox::new(-2.0, 1.0, 2.0, 3.0));
    }

    #[test]
    fn unions() {
        let a = BoundingBox::new(0., 0., 1., 1.);
        let b = BoundingBox::new(5., -1., 6., 0.5);
        assert_eq!(a.union(&b), BoundingBox::new(0., -1., 6., 1.));
        let w = BoundingBox::new(170., 0., -170., 1.);
        let east = BoundingBox::new(160., 0., 165., 1.);
        assert_eq!(w.union(&east), BoundingBox::new(160., 0., -170., 1.));
        let west = BoundingBox::new(-165., 0., -160., 1.);
        assert_eq!(w.union(&west), BoundingBox::new(170., 0., -160., 1.));
        assert_eq!(BoundingBox::empty().union(&a), a);
    }

    #[test]
    fn containment() {
        let outer = BoundingBox::new(0., 0., 10., 10.);
        assert!(outer.contains(&BoundingBox::new(1., 1., 2., 2.)));
        assert!(!outer.contains(&BoundingBox::new(1., 1., 11., 2.)));
        let w = BoundingBox::new(170., -10., -170., 10.);
        assert!(w.contains(&BoundingBox::new(171., 0., 175., 1.)));
        assert!(w.contains(&BoundingBox::new(-179., 0., -175., 1.)));
        assert!(!w.contains(&BoundingBox::new(-179., 0., 175., 1.)));
        assert!(!w.contains(&BoundingBox::new(0., 0., 1., 1.)));
        assert!(w.contains(&BoundingBox::new(175., 0., -175., 1.)));
    }
}
