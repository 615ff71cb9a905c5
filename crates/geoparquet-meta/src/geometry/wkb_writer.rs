//! The one WKB encoder of the workspace.

use crate::error::{Error, GeoJsonProblem, Result};
use crate::{Dimension, GeometryType, GeometryTypeAndDimension};

/// A push-style encoder of little-endian ISO WKB: headers, counts and
/// coordinates are appended to a byte vector in the order WKB lays them out.
/// Every crate that writes WKB (the GeoJSON reader, stac-geoparquet, the
/// GeoArrow conversions) writes through it.
///
/// The writer does not check that what is pushed forms a geometry: a header
/// must be followed by the body its type needs (a coordinate for a Point; a
/// count and that many coordinates for a LineString; a count of rings, each
/// a count and coordinates, for a Polygon; a count and that many geometries,
/// each with its header, for the multi types and collections).
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{WkbWriter, wkb_info};
/// use geoparquet_meta::{Dimension, GeometryType};
///
/// // LINESTRING Z (0 0 1, 2 3 4)
/// let mut out = Vec::new();
/// let mut w = WkbWriter::new(&mut out, Dimension::Xyz);
/// w.header(GeometryType::LineString);
/// w.count(2)?;
/// w.coord(0.0, 0.0, 1.0, f64::NAN);
/// w.coord(2.0, 3.0, 4.0, f64::NAN);
/// let info = wkb_info(&out)?;
/// assert_eq!(info.type_and_dimension.to_string(), "LineString Z");
/// assert_eq!(out.len(), 1 + 4 + 4 + 2 * 24);
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug)]
pub struct WkbWriter<'a> {
    out: &'a mut Vec<u8>,
    dimension: Dimension,
}

impl<'a> WkbWriter<'a> {
    /// A writer appending to `out` geometries of the given dimension.
    #[inline]
    pub fn new(out: &'a mut Vec<u8>, dimension: Dimension) -> Self {
        Self { out, dimension }
    }

    /// The dimension of what is written.
    #[inline]
    pub fn dimension(&self) -> Dimension {
        self.dimension
    }

    /// The bytes written so far (and whatever `out` held before).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.out
    }

    /// Appends a header: byte order 1 (little endian) and the ISO type code
    /// of `geometry_type` in the writer's dimension.
    #[inline]
    pub fn header(&mut self, geometry_type: GeometryType) {
        let code = GeometryTypeAndDimension::new(geometry_type, self.dimension).wkb_code();
        self.out.push(1);
        self.out.extend_from_slice(&code.to_le_bytes());
    }

    /// Appends a count of points, rings or parts; a count beyond `u32::MAX`
    /// is [`GeoJsonProblem::TooManyParts`].
    #[inline]
    pub fn count(&mut self, n: usize) -> Result<()> {
        match u32::try_from(n) {
            Ok(n) => {
                self.count_u32(n);
                Ok(())
            }
            Err(_) => Err(too_many_parts(n)),
        }
    }

    /// Appends a count known to fit.
    #[inline]
    pub fn count_u32(&mut self, n: u32) {
        self.out.extend_from_slice(&n.to_le_bytes());
    }

    /// Appends one coordinate: X and Y, then Z and M as the writer's
    /// dimension has them (the others are ignored).
    #[inline]
    pub fn coord(&mut self, x: f64, y: f64, z: f64, m: f64) {
        self.out.extend_from_slice(&x.to_le_bytes());
        self.out.extend_from_slice(&y.to_le_bytes());
        match self.dimension {
            Dimension::Xy => {}
            Dimension::Xyz => self.out.extend_from_slice(&z.to_le_bytes()),
            Dimension::Xym => self.out.extend_from_slice(&m.to_le_bytes()),
            Dimension::Xyzm => {
                self.out.extend_from_slice(&z.to_le_bytes());
                self.out.extend_from_slice(&m.to_le_bytes());
            }
        }
    }

    /// Appends the coordinates `(x[i], y[i], z[i], m[i])` for every `i` of `x` (with
    /// Z and M as the writer's dimension has them; an absent or shorter `z`/`m`
    /// reads as NaN), reserving the room once: the fast way to write a ring, line
    /// or point list from separated coordinate arrays.
    ///
    /// ```
    /// use geoparquet_meta::Dimension;
    /// use geoparquet_meta::geometry::WkbWriter;
    ///
    /// let (mut one, mut all) = (Vec::new(), Vec::new());
    /// let (x, y, z) = ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]);
    /// let mut w = WkbWriter::new(&mut one, Dimension::Xyz);
    /// w.coord(1.0, 3.0, 5.0, f64::NAN);
    /// w.coord(2.0, 4.0, 6.0, f64::NAN);
    /// WkbWriter::new(&mut all, Dimension::Xyz).coords(&x, &y, Some(&z), None);
    /// assert_eq!(one, all);
    /// ```
    #[inline]
    pub fn coords(&mut self, x: &[f64], y: &[f64], z: Option<&[f64]>, m: Option<&[f64]>) {
        let n = x.len().min(y.len());
        self.out.reserve(n * 8 * self.dimension.size());
        let at =
            |v: Option<&[f64]>, i: usize| v.and_then(|v| v.get(i)).copied().unwrap_or(f64::NAN);
        match self.dimension {
            Dimension::Xy => {
                for (x, y) in x.iter().zip(y) {
                    self.out.extend_from_slice(&x.to_le_bytes());
                    self.out.extend_from_slice(&y.to_le_bytes());
                }
            }
            _ => {
                for i in 0..n {
                    self.coord(x[i], y[i], at(z, i), at(m, i));
                }
            }
        }
    }

    /// Appends the coordinate of an empty point: NaN for every ordinate.
    #[inline]
    pub fn empty_coord(&mut self) {
        self.coord(f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
}

#[cold]
fn too_many_parts(count: usize) -> Error {
    Error::InvalidGeoJsonGeometry {
        path: Vec::new(),
        problem: GeoJsonProblem::TooManyParts { count },
    }
}
