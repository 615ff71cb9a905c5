//! The geometry codec of the workspace: what the writer, the reader's exact
//! filter and the validator need to know about one WKB value (strict ISO
//! parsing through the `wkb` crate, its type and dimension, its bounding box,
//! whether it intersects a query box, ring orientation), the one WKB encoder
//! ([`WkbWriter`]) and the one GeoJSON ⇄ WKB pair ([`geojson_to_wkb`],
//! [`wkb_to_geojson`]).
//!
//! Errors are [`Error::InvalidWkb`] (with a [`WkbProblem`] saying what and at
//! which byte) and [`Error::InvalidGeoJsonGeometry`].

use geo_traits::{
    CoordTrait, Dimensions, GeometryCollectionTrait, GeometryTrait, GeometryType as GT,
    LineStringTrait, MultiLineStringTrait, MultiPointTrait, MultiPolygonTrait, PointTrait,
    PolygonTrait,
};
use wkb::reader::Wkb;

use crate::error::{Error, Result, WkbProblem};
use crate::{BoundingBox, Dimension, GeometryType, GeometryTypeAndDimension};

mod geojson_to_wkb;
mod wkb_to_geojson;
mod wkb_writer;

pub use geojson_to_wkb::{GeoJsonToWkbOptions, PositionDimensions, geojson_to_wkb};
pub use wkb_to_geojson::{EmptyPositions, WkbToGeoJsonOptions, wkb_to_geojson};
pub use wkb_writer::WkbWriter;

/// The error of a WKB problem.
fn invalid(problem: WkbProblem) -> Error {
    Error::InvalidWkb { problem }
}

/// Parses a WKB value strictly: ISO type codes only (no EWKB flags or SRID
/// prefix, no curve types), and the value must end exactly where the geometry
/// ends (no truncation, no trailing bytes).
///
/// ```
/// use geoparquet_meta::geometry::parse_wkb;
///
/// let mut point = vec![1u8, 1, 0, 0, 0];
/// point.extend_from_slice(&1.0f64.to_le_bytes());
/// point.extend_from_slice(&2.0f64.to_le_bytes());
/// assert!(parse_wkb(&point).is_ok());
/// assert!(parse_wkb(&point[..13]).is_err()); // truncated
/// let mut ewkb = point.clone();
/// ewkb[4] = 0x20; // the PostGIS SRID flag
/// assert!(parse_wkb(&ewkb).is_err());
/// ```
pub fn parse_wkb(bytes: &[u8]) -> Result<Wkb<'_>> {
    check_header(bytes)?;
    let geom = wkb::reader::read_wkb(bytes).map_err(|e| {
        invalid(WkbProblem::Decoder {
            message: e.to_string(),
        })
    })?;
    let used = geom.buf().len();
    if used != bytes.len() {
        return Err(invalid(WkbProblem::TrailingBytes {
            end: used,
            len: bytes.len(),
        }));
    }
    Ok(geom)
}

fn check_header(bytes: &[u8]) -> Result<()> {
    let [order, b0, b1, b2, b3, ..] = *bytes else {
        return Err(invalid(WkbProblem::HeaderTooShort { len: bytes.len() }));
    };
    let code = match order {
        0 => u32::from_be_bytes([b0, b1, b2, b3]),
        1 => u32::from_le_bytes([b0, b1, b2, b3]),
        byte => return Err(invalid(WkbProblem::ByteOrder { byte, offset: 0 })),
    };
    if code & 0xE000_0000 != 0 {
        return Err(invalid(WkbProblem::ExtendedWkb { code }));
    }
    if GeometryTypeAndDimension::from_wkb_code(code).is_none() {
        return Err(invalid(WkbProblem::UnknownTypeCode { code, offset: 0 }));
    }
    Ok(())
}

/// The type, dimension and box of one geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeometryInfo {
    /// Geometry type and dimension, from the WKB header.
    pub type_and_dimension: GeometryTypeAndDimension,
    /// The bounding box of the coordinates (NaN coordinates skipped), with Z
    /// and M ranges when the geometry has them; `None` for an empty geometry.
    pub bbox: Option<BoundingBox>,
}

/// A box accumulated over coordinates, the Parquet statistics way: NaN
/// ordinates skipped; Z and M ranges kept when some coordinate has them.
///
/// ```
/// use geoparquet_meta::geometry::Extent;
///
/// let mut e = Extent::new();
/// assert_eq!(e.to_bbox(), None);
/// e.add(1.0, 2.0, Some(5.0), None);
/// e.add(-1.0, f64::NAN, Some(f64::NAN), None); // skipped: Y is NaN
/// let mut other = Extent::new();
/// other.add(3.0, 0.0, None, Some(7.0));
/// e.merge(&other);
/// let b = e.to_bbox().unwrap();
/// assert_eq!((b.xmin, b.ymin, b.xmax, b.ymax), (1.0, 0.0, 3.0, 2.0));
/// assert_eq!((b.z(), b.m()), (Some((5.0, 5.0)), Some((7.0, 7.0))));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Extent {
    b: BoundingBox,
    z: (f64, f64),
    m: (f64, f64),
}

impl Default for Extent {
    fn default() -> Self {
        Self::new()
    }
}

impl Extent {
    /// An extent of nothing.
    pub fn new() -> Self {
        Self {
            b: BoundingBox::empty(),
            z: (f64::INFINITY, f64::NEG_INFINITY),
            m: (f64::INFINITY, f64::NEG_INFINITY),
        }
    }

    fn add_coord<C: CoordTrait<T = f64>>(&mut self, c: &C, dim: Dimension) {
        let (zi, mi) = match dim {
            Dimension::Xy => (None, None),
            Dimension::Xyz => (Some(2), None),
            Dimension::Xym => (None, Some(2)),
            Dimension::Xyzm => (Some(2), Some(3)),
        };
        self.add(
            c.x(),
            c.y(),
            zi.and_then(|i| c.nth(i)),
            mi.and_then(|i| c.nth(i)),
        );
    }

    /// Adds one coordinate: X and Y (skipped if either is NaN), and Z and M
    /// when given (each skipped if NaN).
    #[inline]
    pub fn add(&mut self, x: f64, y: f64, z: Option<f64>, m: Option<f64>) {
        self.b.expand_xy(x, y);
        if let Some(z) = z.filter(|v| !v.is_nan()) {
            self.z = (self.z.0.min(z), self.z.1.max(z));
        }
        if let Some(m) = m.filter(|v| !v.is_nan()) {
            self.m = (self.m.0.min(m), self.m.1.max(m));
        }
    }

    /// Grows this extent to hold `other` too.
    pub fn merge(&mut self, other: &Extent) {
        self.b = self.b.union(&other.b);
        self.z = (self.z.0.min(other.z.0), self.z.1.max(other.z.1));
        self.m = (self.m.0.min(other.m.0), self.m.1.max(other.m.1));
    }

    /// The box, with the Z and M ranges seen; `None` when no coordinate had
    /// a non-NaN X and Y.
    pub fn to_bbox(self) -> Option<BoundingBox> {
        if self.b.is_empty() {
            return None;
        }
        let mut b = self.b;
        if self.z.0 <= self.z.1 {
            b = b.with_z(self.z.0, self.z.1);
        }
        if self.m.0 <= self.m.1 {
            b = b.with_m(self.m.0, self.m.1);
        }
        Some(b)
    }
}

fn dimension(d: Dimensions) -> Dimension {
    match d {
        Dimensions::Xyz => Dimension::Xyz,
        Dimensions::Xym => Dimension::Xym,
        Dimensions::Xyzm => Dimension::Xyzm,
        _ => Dimension::Xy,
    }
}

fn geometry_type<G: GeometryTrait>(g: &G) -> GeometryType {
    match g.as_type() {
        GT::Point(_) => GeometryType::Point,
        GT::LineString(_) | GT::Line(_) => GeometryType::LineString,
        GT::Polygon(_) | GT::Rect(_) | GT::Triangle(_) => GeometryType::Polygon,
        GT::MultiPoint(_) => GeometryType::MultiPoint,
        GT::MultiLineString(_) => GeometryType::MultiLineString,
        GT::MultiPolygon(_) => GeometryType::MultiPolygon,
        GT::GeometryCollection(_) => GeometryType::GeometryCollection,
    }
}

/// Calls `f` on every coordinate of the geometry.
fn for_each_coord<G, F>(g: &G, f: &mut F)
where
    G: GeometryTrait<T = f64>,
    F: FnMut(Xyzm),
{
    match g.as_type() {
        GT::Point(p) => {
            if let Some(c) = p.coord() {
                f(Xyzm::of(&c));
            }
        }
        GT::LineString(ls) => ls.coords().for_each(|c| f(Xyzm::of(&c))),
        GT::Polygon(p) => {
            for ring in p.exterior().into_iter().chain(p.interiors()) {
                ring.coords().for_each(|c| f(Xyzm::of(&c)));
            }
        }
        GT::MultiPoint(mp) => {
            for p in mp.points() {
                if let Some(c) = p.coord() {
                    f(Xyzm::of(&c));
                }
            }
        }
        GT::MultiLineString(ml) => {
            for ls in ml.line_strings() {
                ls.coords().for_each(|c| f(Xyzm::of(&c)));
            }
        }
        GT::MultiPolygon(mp) => {
            for p in mp.polygons() {
                for ring in p.exterior().into_iter().chain(p.interiors()) {
                    ring.coords().for_each(|c| f(Xyzm::of(&c)));
                }
            }
        }
        GT::GeometryCollection(gc) => {
            for child in gc.geometries() {
                for_each_coord(&child, f);
            }
        }
        GT::Rect(_) | GT::Triangle(_) | GT::Line(_) => {}
    }
}

/// Calls `f` on the X and Y of every coordinate of the geometry.
///
/// ```
/// use geoparquet_meta::geometry::{for_each_xy, parse_wkb};
///
/// let mut wkb = vec![1u8, 2, 0, 0, 0, 2, 0, 0, 0];
/// for v in [0.0f64, 1.0, 2.0, 3.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let mut seen = Vec::new();
/// for_each_xy(&parse_wkb(&wkb)?, &mut |x, y| seen.push((x, y)));
/// assert_eq!(seen, [(0.0, 1.0), (2.0, 3.0)]);
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn for_each_xy<G, F>(g: &G, f: &mut F)
where
    G: GeometryTrait<T = f64>,
    F: FnMut(f64, f64),
{
    for_each_coord(g, &mut |c| f(c.v[0], c.v[1]));
}

/// A coordinate copied out of any [`CoordTrait`].
#[derive(Debug, Clone, Copy)]
struct Xyzm {
    v: [f64; 4],
}

impl Xyzm {
    fn of<C: CoordTrait<T = f64>>(c: &C) -> Self {
        let mut v = [c.x(), c.y(), f64::NAN, f64::NAN];
        for (i, slot) in v.iter_mut().enumerate().skip(2) {
            if let Some(x) = c.nth(i) {
                *slot = x;
            }
        }
        Self { v }
    }
}

impl CoordTrait for Xyzm {
    type T = f64;
    fn dim(&self) -> Dimensions {
        Dimensions::Xyzm
    }
    fn x(&self) -> f64 {
        self.v[0]
    }
    fn y(&self) -> f64 {
        self.v[1]
    }
    fn nth_or_panic(&self, n: usize) -> f64 {
        self.v.get(n).copied().unwrap_or(f64::NAN)
    }
}

/// Type, dimension and box of a parsed geometry.
///
/// ```
/// use geoparquet_meta::geometry::{geometry_info, parse_wkb};
///
/// let mut wkb = vec![1u8, 1, 0, 0, 0];
/// for v in [1.0f64, 2.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let info = geometry_info(&parse_wkb(&wkb)?);
/// assert_eq!(info.type_and_dimension.to_string(), "Point");
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn geometry_info<G: GeometryTrait<T = f64>>(g: &G) -> GeometryInfo {
    let dim = dimension(g.dim());
    let mut bounder = Extent::new();
    // The third and fourth ordinates are Z or M as the dimension says.
    for_each_coord(g, &mut |c| bounder.add_coord(&c, dim));
    GeometryInfo {
        type_and_dimension: GeometryTypeAndDimension::new(geometry_type(g), dim),
        bbox: bounder.to_bbox(),
    }
}

/// [`wkb_info`] straight from the bytes, without building the geometry, for
/// the shapes nearly all data has: a Point, LineString, Polygon, MultiPoint,
/// MultiLineString or MultiPolygon (any dimension, either byte order) whose
/// parts repeat the outer byte order and carry exactly the part type and
/// dimension the outer type implies. `None` for anything else (a
/// GeometryCollection, a malformed or unusual value): [`wkb_info`] then
/// decides, with its error message. What this accepts, [`parse_wkb`] accepts
/// too, and the answer is the same.
fn fast_wkb_info(bytes: &[u8]) -> Option<GeometryInfo> {
    let (&order, _) = bytes.split_first()?;
    let le = match order {
        0 => false,
        1 => true,
        _ => return None,
    };
    let mut scan = Scan {
        bytes,
        pos: 1,
        le,
        dim: Dimension::Xy,
        bounder: Extent::new(),
    };
    let code = scan.u32()?;
    let td = GeometryTypeAndDimension::from_wkb_code(code)?;
    scan.dim = td.dimension;
    let dim_code = code - code % 1000;
    match td.geometry_type {
        GeometryType::Point => scan.coords(1)?,
        GeometryType::LineString => scan.counted_coords()?,
        GeometryType::Polygon => scan.polygon_body()?,
        GeometryType::MultiPoint => {
            for _ in 0..scan.u32()? {
                scan.part_header(dim_code + 1)?;
                scan.coords(1)?;
            }
        }
        GeometryType::MultiLineString => {
            for _ in 0..scan.u32()? {
                scan.part_header(dim_code + 2)?;
                scan.counted_coords()?;
            }
        }
        GeometryType::MultiPolygon => {
            for _ in 0..scan.u32()? {
                scan.part_header(dim_code + 3)?;
                scan.polygon_body()?;
            }
        }
        GeometryType::GeometryCollection => return None,
    }
    (scan.pos == bytes.len()).then(|| GeometryInfo {
        type_and_dimension: td,
        bbox: scan.bounder.to_bbox(),
    })
}

/// A cursor over one WKB value for [`fast_wkb_info`].
struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
    le: bool,
    dim: Dimension,
    bounder: Extent,
}

impl Scan<'_> {
    #[inline]
    fn u32(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(self.pos..self.pos + 4)?.try_into().ok()?;
        self.pos += 4;
        Some(if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// A part's header: the outer byte order and exactly `code`.
    #[inline]
    fn part_header(&mut self, code: u32) -> Option<()> {
        let order = *self.bytes.get(self.pos)?;
        if order != u8::from(self.le) {
            return None;
        }
        self.pos += 1;
        (self.u32()? == code).then_some(())
    }

    fn counted_coords(&mut self) -> Option<()> {
        let n = self.u32()?;
        self.coords(n)
    }

    fn polygon_body(&mut self) -> Option<()> {
        for _ in 0..self.u32()? {
            self.counted_coords()?;
        }
        Some(())
    }

    /// `n` coordinates into the box.
    fn coords(&mut self, n: u32) -> Option<()> {
        let width = match self.dim {
            Dimension::Xy => 16,
            Dimension::Xyz | Dimension::Xym => 24,
            Dimension::Xyzm => 32,
        };
        let len = usize::try_from(n).ok()?.checked_mul(width)?;
        let end = self.pos.checked_add(len)?;
        let raw = self.bytes.get(self.pos..end)?;
        self.pos = end;
        let le = self.le;
        let f = |c: &[u8], i: usize| -> f64 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&c[i * 8..i * 8 + 8]);
            if le {
                f64::from_le_bytes(b)
            } else {
                f64::from_be_bytes(b)
            }
        };
        for c in raw.chunks_exact(width) {
            let (z, m) = match self.dim {
                Dimension::Xy => (None, None),
                Dimension::Xyz => (Some(f(c, 2)), None),
                Dimension::Xym => (None, Some(f(c, 2))),
                Dimension::Xyzm => (Some(f(c, 2)), Some(f(c, 3))),
            };
            self.bounder.add(f(c, 0), f(c, 1), z, m);
        }
        Some(())
    }
}

/// [`parse_wkb`] then [`geometry_info`].
///
/// ```
/// use geoparquet_meta::geometry::wkb_info;
///
/// // POINT Z (1 2 3), little endian, ISO code 1001.
/// let mut wkb = vec![1u8];
/// wkb.extend_from_slice(&1001u32.to_le_bytes());
/// for v in [1.0f64, 2.0, 3.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let info = wkb_info(&wkb).unwrap();
/// assert_eq!(info.type_and_dimension.to_string(), "Point Z");
/// assert_eq!(info.bbox.unwrap().z(), Some((3.0, 3.0)));
/// ```
pub fn wkb_info(bytes: &[u8]) -> Result<GeometryInfo> {
    if let Some(info) = fast_wkb_info(bytes) {
        return Ok(info);
    }
    Ok(geometry_info(&parse_wkb(bytes)?))
}

/// Whether the geometry (as planar geometry) shares at least one point with
/// the query box; the box may cross the antimeridian (`xmin > xmax`), in which
/// case it is tested as its two halves. Only X and Y are considered.
///
/// ```
/// use geoparquet_meta::BoundingBox;
/// use geoparquet_meta::geometry::{intersects, parse_wkb};
///
/// let mut wkb = vec![1u8, 1, 0, 0, 0];
/// for v in [175.0f64, 0.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let point = parse_wkb(&wkb)?;
/// assert!(intersects(&point, &BoundingBox::new(170.0, -1.0, -170.0, 1.0)));
/// assert!(!intersects(&point, &BoundingBox::new(0.0, -1.0, 1.0, 1.0)));
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn intersects<G: GeometryTrait<T = f64>>(g: &G, query: &BoundingBox) -> bool {
    intersects_with_edges(g, query, false)
}

/// Like [`intersects`]; with `wrap_edges` (for non-planar edges on
/// longitude/latitude) an edge whose longitudes differ by more than 180
/// degrees goes the short way, across the antimeridian, as a geodesic does.
/// Edges are otherwise straight in longitude/latitude (the bulge of great
/// circles toward the poles is not modelled).
///
/// ```
/// use geoparquet_meta::BoundingBox;
/// use geoparquet_meta::geometry::{intersects_with_edges, parse_wkb};
///
/// // LINESTRING (179 0, -179 0)
/// let mut wkb = vec![1u8, 2, 0, 0, 0, 2, 0, 0, 0];
/// for v in [179.0f64, 0.0, -179.0, 0.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let line = parse_wkb(&wkb)?;
/// let europe = BoundingBox::new(-10.0, -5.0, 30.0, 5.0);
/// assert!(intersects_with_edges(&line, &europe, false)); // planar: through 0
/// assert!(!intersects_with_edges(&line, &europe, true)); // across the antimeridian
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn intersects_with_edges<G: GeometryTrait<T = f64>>(
    g: &G,
    query: &BoundingBox,
    wrap_edges: bool,
) -> bool {
    if !query.is_usable() {
        return true;
    }
    let ctx = Ctx { wrap: wrap_edges };
    if query.wraps() {
        let east = BoundingBox::new(
            query.xmin,
            query.ymin,
            180.0_f64.max(query.xmin),
            query.ymax,
        );
        let west = BoundingBox::new(
            (-180.0_f64).min(query.xmax),
            query.ymin,
            query.xmax,
            query.ymax,
        );
        return ctx.hits(g, &east) || ctx.hits(g, &west);
    }
    ctx.hits(g, query)
}

/// [`parse_wkb`] then [`intersects`].
///
/// ```
/// use geoparquet_meta::BoundingBox;
/// use geoparquet_meta::geometry::wkb_intersects;
///
/// let mut wkb = vec![1u8, 1, 0, 0, 0];
/// for v in [1.0f64, 2.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// assert!(wkb_intersects(&wkb, &BoundingBox::new(0.0, 0.0, 5.0, 5.0))?);
/// assert!(wkb_intersects(&wkb[..7], &BoundingBox::new(0.0, 0.0, 5.0, 5.0)).is_err());
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn wkb_intersects(bytes: &[u8], query: &BoundingBox) -> Result<bool> {
    Ok(intersects(&parse_wkb(bytes)?, query))
}

#[derive(Clone, Copy)]
struct Ctx {
    wrap: bool,
}

type Pt = (f64, f64);

fn in_box(p: Pt, b: &BoundingBox) -> bool {
    p.0 >= b.xmin && p.0 <= b.xmax && p.1 >= b.ymin && p.1 <= b.ymax
}

/// Whether segment `a`–`b` touches the box (Liang–Barsky clipping).
fn segment_hits_box(a: Pt, b: Pt, r: &BoundingBox) -> bool {
    if in_box(a, r) || in_box(b, r) {
        return true;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (p, q) in [
        (-dx, a.0 - r.xmin),
        (dx, r.xmax - a.0),
        (-dy, a.1 - r.ymin),
        (dy, r.ymax - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

fn ring_points<R: LineStringTrait<T = f64>>(r: &R) -> Vec<Pt> {
    r.coords()
        .map(|c| (c.x(), c.y()))
        .filter(|p| !p.0.is_nan() && !p.1.is_nan())
        .collect()
}

fn shifted(r: &BoundingBox, dx: f64) -> BoundingBox {
    BoundingBox::new(r.xmin + dx, r.ymin, r.xmax + dx, r.ymax)
}

impl Ctx {
    fn segment(self, a: Pt, b: Pt, r: &BoundingBox) -> bool {
        if self.wrap && (b.0 - a.0).abs() > 180.0 {
            // The short way round: continue past +-180 and test the box
            // where it repeats.
            let b = (if b.0 < a.0 { b.0 + 360.0 } else { b.0 - 360.0 }, b.1);
            return [0.0, 360.0, -360.0]
                .iter()
                .any(|dx| segment_hits_box(a, b, &shifted(r, *dx)));
        }
        segment_hits_box(a, b, r)
    }

    fn path(self, pts: &[Pt], r: &BoundingBox) -> bool {
        match pts {
            [] => false,
            [p] => in_box(*p, r),
            _ => pts.windows(2).any(|w| self.segment(w[0], w[1], r)),
        }
    }

    fn polygon<P: PolygonTrait<T = f64>>(self, p: &P, r: &BoundingBox) -> bool {
        let mut rings: Vec<Vec<Pt>> = p
            .exterior()
            .into_iter()
            .chain(p.interiors())
            .map(|ring| ring_points(&ring))
            .collect();
        if rings.iter().any(|ring| self.path(ring, r)) {
            return true;
        }
        // No edge touches the box: either the box lies inside the polygon, or they are apart.
        let corner = (r.xmin.max(-f64::MAX), r.ymin.max(-f64::MAX));
        if !self.wrap {
            return point_in_rings(corner, &rings);
        }
        for ring in &mut rings {
            unwrap_longitudes(ring);
        }
        [0.0, 360.0, -360.0]
            .iter()
            .any(|dx| point_in_rings((corner.0 + dx, corner.1), &rings))
    }

    fn hits<G: GeometryTrait<T = f64>>(self, g: &G, r: &BoundingBox) -> bool {
        match g.as_type() {
            GT::Point(p) => p.coord().is_some_and(|c| in_box((c.x(), c.y()), r)),
            GT::LineString(ls) => self.path(&ring_points(ls), r),
            GT::Polygon(p) => self.polygon(p, r),
            GT::MultiPoint(mp) => mp
                .points()
                .any(|p| p.coord().is_some_and(|c| in_box((c.x(), c.y()), r))),
            GT::MultiLineString(ml) => ml.line_strings().any(|ls| self.path(&ring_points(&ls), r)),
            GT::MultiPolygon(mp) => mp.polygons().any(|p| self.polygon(&p, r)),
            GT::GeometryCollection(gc) => gc.geometries().any(|child| self.hits(&child, r)),
            GT::Rect(_) | GT::Triangle(_) | GT::Line(_) => false,
        }
    }
}

/// Makes consecutive longitudes (the first of each pair) differ by at most
/// 180 degrees, by adding or subtracting 360.
///
/// ```
/// use geoparquet_meta::geometry::unwrap_longitudes;
///
/// let mut ring = [(179.0, 0.0), (-179.0, 1.0), (-178.0, 2.0)];
/// unwrap_longitudes(&mut ring);
/// assert_eq!(ring, [(179.0, 0.0), (181.0, 1.0), (182.0, 2.0)]);
/// ```
pub fn unwrap_longitudes(ring: &mut [(f64, f64)]) {
    for i in 1..ring.len() {
        let prev = ring[i - 1].0;
        let mut x = ring[i].0;
        while x - prev > 180.0 {
            x -= 360.0;
        }
        while prev - x > 180.0 {
            x += 360.0;
        }
        ring[i].0 = x;
    }
}

/// Even-odd point in polygon over all rings.
fn point_in_rings(p: Pt, rings: &[Vec<Pt>]) -> bool {
    let mut inside = false;
    for ring in rings {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (xi, yi) = ring[i];
            let (xj, yj) = ring[j];
            if (yi > p.1) != (yj > p.1) && p.0 < (xj - xi) * (p.1 - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
    }
    inside
}

/// Rewrites a WKB value so that polygon exterior rings are counterclockwise
/// and interior rings clockwise (by the signed area in x/y; with
/// `wrap_edges`, longitudes are unwrapped across the antimeridian first).
/// Returns `None` when nothing had to change. The byte order and every
/// coordinate are kept; only the order of ring vertices changes.
///
/// ```
/// use geoparquet_meta::geometry::rewind_wkb;
///
/// // POLYGON ((0 0, 0 1, 1 1, 0 0)): clockwise.
/// let mut wkb = vec![1u8, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0];
/// for v in [0.0f64, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let fixed = rewind_wkb(&wkb, false).unwrap().expect("reversed");
/// assert_eq!(rewind_wkb(&fixed, false).unwrap(), None);
/// ```
pub fn rewind_wkb(bytes: &[u8], wrap_edges: bool) -> Result<Option<Vec<u8>>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0usize;
    let mut changed = false;
    rewind_walk(bytes, &mut pos, &mut out, &mut changed, wrap_edges, 0)?;
    if pos != bytes.len() {
        return Err(invalid(WkbProblem::TrailingBytes {
            end: pos,
            len: bytes.len(),
        }));
    }
    Ok(changed.then_some(out))
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8]> {
    let end = pos
        .checked_add(n)
        .filter(|e| *e <= bytes.len())
        .ok_or(invalid(WkbProblem::Truncated { offset: *pos }))?;
    let s = &bytes[*pos..end];
    *pos = end;
    Ok(s)
}

/// `n` items of `size` bytes each, as a byte length, if that many remain.
fn byte_len(bytes: &[u8], pos: usize, n: usize, size: usize) -> Result<usize> {
    let remaining = bytes.len().saturating_sub(pos);
    n.checked_mul(size)
        .filter(|len| *len <= remaining)
        .ok_or(invalid(WkbProblem::CountTooLarge {
            count: n as u64,
            offset: pos.saturating_sub(4),
            remaining,
        }))
}

fn read_u32(bytes: &[u8], pos: &mut usize, little: bool) -> Result<u32> {
    let offset = *pos;
    let b: [u8; 4] = take(bytes, pos, 4)?
        .try_into()
        .map_err(|_| invalid(WkbProblem::Truncated { offset }))?;
    Ok(if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn rewind_walk(
    bytes: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
    changed: &mut bool,
    wrap: bool,
    depth: usize,
) -> Result<()> {
    if depth > 64 {
        return Err(invalid(WkbProblem::TooDeep { limit: 64 }));
    }
    let start = *pos;
    let order = *take(bytes, pos, 1)?
        .first()
        .ok_or(invalid(WkbProblem::Truncated { offset: start }))?;
    let little = match order {
        0 => false,
        1 => true,
        byte => {
            return Err(invalid(WkbProblem::ByteOrder {
                byte,
                offset: start,
            }));
        }
    };
    let code_start = *pos;
    let code = read_u32(bytes, pos, little)?;
    let td = GeometryTypeAndDimension::from_wkb_code(code).ok_or(invalid(
        WkbProblem::UnknownTypeCode {
            code,
            offset: start,
        },
    ))?;
    out.push(order);
    out.extend_from_slice(&bytes[code_start..*pos]);
    let coord = 8 * td.dimension.size();
    let count = |pos: &mut usize, out: &mut Vec<u8>| -> Result<usize> {
        let start = *pos;
        let n = read_u32(bytes, pos, little)? as usize;
        out.extend_from_slice(&bytes[start..*pos]);
        Ok(n)
    };
    match td.geometry_type {
        GeometryType::Point => out.extend_from_slice(take(bytes, pos, coord)?),
        GeometryType::LineString => {
            let n = count(pos, out)?;
            let len = byte_len(bytes, *pos, n, coord)?;
            out.extend_from_slice(take(bytes, pos, len)?);
        }
        GeometryType::Polygon => {
            let rings = count(pos, out)?;
            for r in 0..rings {
                let n = count(pos, out)?;
                let len = byte_len(bytes, *pos, n, coord)?;
                let raw = take(bytes, pos, len)?;
                let f = |i: usize, k: usize| -> f64 {
                    let o = i * coord + k * 8;
                    let b: [u8; 8] = raw[o..o + 8].try_into().unwrap_or([0; 8]);
                    if little {
                        f64::from_le_bytes(b)
                    } else {
                        f64::from_be_bytes(b)
                    }
                };
                let mut pts: Vec<Pt> = (0..n).map(|i| (f(i, 0), f(i, 1))).collect();
                if wrap {
                    unwrap_longitudes(&mut pts);
                }
                let area2: f64 = pts
                    .windows(2)
                    .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
                    .sum();
                let want_ccw = r == 0;
                let wrong = if want_ccw { area2 < 0.0 } else { area2 > 0.0 };
                if wrong {
                    *changed = true;
                    for i in (0..n).rev() {
                        out.extend_from_slice(&raw[i * coord..(i + 1) * coord]);
                    }
                } else {
                    out.extend_from_slice(raw);
                }
            }
        }
        GeometryType::MultiPoint
        | GeometryType::MultiLineString
        | GeometryType::MultiPolygon
        | GeometryType::GeometryCollection => {
            let n = count(pos, out)?;
            for _ in 0..n {
                rewind_walk(bytes, pos, out, changed, wrap, depth + 1)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(code: u32) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend_from_slice(&code.to_le_bytes());
        v
    }

    fn f(v: &mut Vec<u8>, xs: &[f64]) {
        for x in xs {
            v.extend_from_slice(&x.to_le_bytes());
        }
    }

    fn n(v: &mut Vec<u8>, k: u32) {
        v.extend_from_slice(&k.to_le_bytes());
    }

    fn point(x: f64, y: f64) -> Vec<u8> {
        let mut v = header(1);
        f(&mut v, &[x, y]);
        v
    }

    fn line(pts: &[(f64, f64)]) -> Vec<u8> {
        let mut v = header(2);
        n(&mut v, pts.len() as u32);
        for p in pts {
            f(&mut v, &[p.0, p.1]);
        }
        v
    }

    fn polygon(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        let mut v = header(3);
        n(&mut v, rings.len() as u32);
        for ring in rings {
            n(&mut v, ring.len() as u32);
            for p in *ring {
                f(&mut v, &[p.0, p.1]);
            }
        }
        v
    }

    const SQUARE: &[(f64, f64)] = &[(0., 0.), (10., 0.), (10., 10.), (0., 10.), (0., 0.)];
    const HOLE: &[(f64, f64)] = &[(4., 4.), (6., 4.), (6., 6.), (4., 6.), (4., 4.)];

    #[test]
    fn strict_parsing() {
        let p = point(1., 2.);
        assert!(parse_wkb(&p).is_ok());
        let mut trailing = p.clone();
        trailing.push(0);
        assert!(parse_wkb(&trailing).is_err());
        assert!(parse_wkb(&p[..20]).is_err());
        assert!(parse_wkb(&[]).is_err());
        assert!(parse_wkb(&[7, 1, 0, 0, 0]).is_err());
        let mut curve = header(8);
        f(&mut curve, &[0., 0.]);
        assert!(parse_wkb(&curve).is_err());
        // Header says LineString, body is a point: fails or leaves bytes over.
        let mut wrong = header(2);
        f(&mut wrong, &[1., 2.]);
        assert!(parse_wkb(&wrong).is_err());
    }

    #[test]
    fn info_of_each_kind() {
        let i = wkb_info(&line(&[(0., 1.), (5., -2.)])).unwrap();
        assert_eq!(i.type_and_dimension.to_string(), "LineString");
        assert_eq!(i.bbox, Some(BoundingBox::new(0., -2., 5., 1.)));
        let empty = wkb_info(&point(f64::NAN, f64::NAN)).unwrap();
        assert_eq!(empty.bbox, None);
        let mut zm = header(3001);
        f(&mut zm, &[1., 2., 3., 4.]);
        let i = wkb_info(&zm).unwrap();
        assert_eq!(i.type_and_dimension.to_string(), "Point ZM");
        let b = i.bbox.unwrap();
        assert_eq!((b.z(), b.m()), (Some((3., 3.)), Some((4., 4.))));
        let mut m = header(2001);
        f(&mut m, &[1., 2., 7.]);
        let b = wkb_info(&m).unwrap().bbox.unwrap();
        assert_eq!((b.z(), b.m()), (None, Some((7., 7.))));
    }

    #[test]
    fn exact_intersection() {
        let q = BoundingBox::new(4.5, 4.5, 5.5, 5.5);
        // The box sits in the hole: the polygon's bbox intersects, the polygon does not.
        assert!(!wkb_intersects(&polygon(&[SQUARE, HOLE]), &q).unwrap());
        assert!(wkb_intersects(&polygon(&[SQUARE]), &q).unwrap());
        // A diagonal line whose bbox covers the query box but that misses it.
        let l = line(&[(0., 10.), (10., 0.)]);
        assert!(!wkb_intersects(&l, &BoundingBox::new(0., 0., 2., 2.)).unwrap());
        assert!(wkb_intersects(&l, &BoundingBox::new(4., 4., 6., 6.)).unwrap());
        assert!(wkb_intersects(&point(5., 5.), &q).unwrap());
        assert!(!wkb_intersects(&point(7., 5.), &q).unwrap());
        // A wrapping query.
        let w = BoundingBox::new(170., -10., -170., 10.);
        assert!(wkb_intersects(&point(-175., 0.), &w).unwrap());
        assert!(!wkb_intersects(&point(0., 0.), &w).unwrap());
        // A line crossing the box without a vertex inside.
        assert!(wkb_intersects(&line(&[(0., 5.), (10., 5.)]), &q).unwrap());
    }

    #[test]
    fn edges_across_the_antimeridian() {
        let l = line(&[(179., 0.), (-179., 0.)]);
        let g = parse_wkb(&l).unwrap();
        let europe = BoundingBox::new(-10., -5., 30., 5.);
        // Planar: the segment runs through longitude 0.
        assert!(intersects(&g, &europe));
        // Geodesic: it crosses the antimeridian instead.
        assert!(!intersects_with_edges(&g, &europe, true));
        assert!(intersects_with_edges(
            &g,
            &BoundingBox::new(179.5, -1., 180., 1.),
            true
        ));
        assert!(intersects_with_edges(
            &g,
            &BoundingBox::new(-180., -1., -179.5, 1.),
            true
        ));
        assert!(intersects_with_edges(
            &g,
            &BoundingBox::new(179.9, -1., -179.9, 1.),
            true
        ));
        // A polygon around the antimeridian contains a box at 180.
        let p = polygon(&[&[
            (170., -10.),
            (-170., -10.),
            (-170., 10.),
            (170., 10.),
            (170., -10.),
        ]]);
        let g = parse_wkb(&p).unwrap();
        assert!(intersects_with_edges(
            &g,
            &BoundingBox::new(178., -1., 179., 1.),
            true
        ));
        assert!(!intersects_with_edges(
            &g,
            &BoundingBox::new(0., -1., 1., 1.),
            true
        ));
    }

    #[test]
    fn rewinding() {
        let cw: &[(f64, f64)] = &[(0., 0.), (0., 10.), (10., 10.), (10., 0.), (0., 0.)];
        let hole_ccw: &[(f64, f64)] = &[(4., 4.), (6., 4.), (6., 6.), (4., 6.), (4., 4.)];
        let p = polygon(&[cw, hole_ccw]);
        let fixed = rewind_wkb(&p, false).unwrap().unwrap();
        assert_eq!(fixed.len(), p.len());
        assert_eq!(rewind_wkb(&fixed, false).unwrap(), None);
        // Same vertices, same box.
        assert_eq!(wkb_info(&fixed).unwrap(), wkb_info(&p).unwrap());
        let good = polygon(&[SQUARE, &[(4., 4.), (4., 6.), (6., 6.), (6., 4.), (4., 4.)]]);
        assert_eq!(rewind_wkb(&good, false).unwrap(), None);
        // Inside a MultiPolygon, and errors on truncation instead of panics.
        let mut mp = header(6);
        n(&mut mp, 1);
        mp.extend_from_slice(&p);
        assert!(rewind_wkb(&mp, false).unwrap().is_some());
        for cut in 0..mp.len() {
            assert!(rewind_wkb(&mp[..cut], false).is_err());
        }
        assert_eq!(rewind_wkb(&point(1., 2.), false).unwrap(), None);
    }

    /// A generic WKB writer for the fast-path tests: `le` byte order, ISO
    /// `code`, then the body written by `body`.
    fn wkb(le: bool, code: u32, body: &dyn Fn(&mut Vec<u8>, bool)) -> Vec<u8> {
        let mut v = vec![u8::from(le)];
        v.extend_from_slice(&if le {
            code.to_le_bytes()
        } else {
            code.to_be_bytes()
        });
        body(&mut v, le);
        v
    }

    fn put_u32(v: &mut Vec<u8>, le: bool, k: u32) {
        v.extend_from_slice(&if le { k.to_le_bytes() } else { k.to_be_bytes() });
    }

    fn put_f64s(v: &mut Vec<u8>, le: bool, xs: &[f64]) {
        for x in xs {
            v.extend_from_slice(&if le { x.to_le_bytes() } else { x.to_be_bytes() });
        }
    }

    /// Every shape the fast path handles, in every dimension and byte order,
    /// with NaN and empty cases; plus values it must leave to `wkb_info`.
    fn fast_path_cases() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut handled = Vec::new();
        let mut others = Vec::new();
        let nan = f64::NAN;
        for le in [true, false] {
            for (dim_code, width) in [(0u32, 2usize), (1000, 3), (2000, 3), (3000, 4)] {
                let coord = move |i: usize| -> Vec<f64> {
                    let mut c: Vec<f64> = (0..width).map(|k| (i * 7 + k) as f64 - 3.5).collect();
                    if i == 2 {
                        c[width - 1] = nan; // a NaN Z or M (or Y in 2D)
                    }
                    c
                };
                let coords = move |v: &mut Vec<u8>, le: bool, n: usize| {
                    put_u32(v, le, n as u32);
                    for i in 0..n {
                        put_f64s(v, le, &coord(i));
                    }
                };
                // Point, empty point (all NaN), LineString (also empty), Polygon.
                handled.push(wkb(le, dim_code + 1, &|v, le| put_f64s(v, le, &coord(1))));
                handled.push(wkb(le, dim_code + 1, &|v, le| {
                    put_f64s(v, le, &vec![nan; width])
                }));
                handled.push(wkb(le, dim_code + 2, &|v, le| coords(v, le, 4)));
                handled.push(wkb(le, dim_code + 2, &|v, le| coords(v, le, 0)));
                let poly_body = move |v: &mut Vec<u8>, le: bool| {
                    put_u32(v, le, 2);
                    coords(v, le, 5);
                    coords(v, le, 4);
                };
                handled.push(wkb(le, dim_code + 3, &poly_body));
                handled.push(wkb(le, dim_code + 3, &|v, le| put_u32(v, le, 0)));
                // Multi types with parts of the right type and order.
                let part = move |v: &mut Vec<u8>,
                                 le: bool,
                                 code: u32,
                                 body: &dyn Fn(&mut Vec<u8>, bool)| {
                    v.extend_from_slice(&wkb(le, code, body));
                };
                handled.push(wkb(le, dim_code + 4, &|v, le| {
                    put_u32(v, le, 2);
                    part(v, le, dim_code + 1, &|v, le| put_f64s(v, le, &coord(3)));
                    part(v, le, dim_code + 1, &|v, le| put_f64s(v, le, &coord(5)));
                }));
                handled.push(wkb(le, dim_code + 5, &|v, le| {
                    put_u32(v, le, 2);
                    part(v, le, dim_code + 2, &|v, le| coords(v, le, 3));
                    part(v, le, dim_code + 2, &|v, le| coords(v, le, 2));
                }));
                handled.push(wkb(le, dim_code + 6, &|v, le| {
                    put_u32(v, le, 2);
                    part(v, le, dim_code + 3, &poly_body);
                    part(v, le, dim_code + 3, &|v, le| put_u32(v, le, 0));
                }));
                handled.push(wkb(le, dim_code + 6, &|v, le| put_u32(v, le, 0)));
                // Left to wkb_info: a collection, a part in the other byte
                // order or of another type or dimension.
                others.push(wkb(le, dim_code + 7, &|v, le| {
                    put_u32(v, le, 1);
                    part(v, le, dim_code + 1, &|v, le| put_f64s(v, le, &coord(0)));
                }));
                others.push(wkb(le, dim_code + 4, &|v, le| {
                    put_u32(v, le, 1);
                    part(v, !le, dim_code + 1, &|v, le| put_f64s(v, le, &coord(0)));
                }));
                others.push(wkb(le, dim_code + 6, &|v, le| {
                    put_u32(v, le, 1);
                    part(v, le, dim_code + 2, &poly_body);
                }));
                others.push(wkb(le, dim_code + 5, &|v, le| {
                    put_u32(v, le, 1);
                    part(v, le, (dim_code + 1000) % 4000 + 2, &|v, le| {
                        coords(v, le, 2)
                    });
                }));
            }
        }
        // Malformed: truncated, trailing bytes, EWKB, bad order, huge counts.
        let good = polygon(&[SQUARE, HOLE]);
        for cut in 0..good.len() {
            others.push(good[..cut].to_vec());
        }
        let mut trailing = good.clone();
        trailing.push(0);
        others.push(trailing);
        let mut ewkb = point(1., 2.);
        ewkb[4] = 0x20;
        others.push(ewkb);
        let mut order = point(1., 2.);
        order[0] = 2;
        others.push(order);
        others.push(wkb(true, 2, &|v, le| put_u32(v, le, u32::MAX)));
        others.push(wkb(true, 3, &|v, le| {
            put_u32(v, le, u32::MAX);
            put_u32(v, le, 0);
        }));
        (handled, others)
    }

    #[test]
    fn the_fast_path_agrees_with_the_parser() {
        let (handled, others) = fast_path_cases();
        for bytes in &handled {
            let fast = fast_wkb_info(bytes).expect("the fast path handles this value");
            let slow = geometry_info(&parse_wkb(bytes).expect("a valid value"));
            assert_eq!(
                fast.type_and_dimension, slow.type_and_dimension,
                "{bytes:?}"
            );
            // Compare the boxes as text, so that NaN ordinates compare equal.
            assert_eq!(
                format!("{:?}", fast.bbox),
                format!("{:?}", slow.bbox),
                "{bytes:?}"
            );
        }
        for bytes in &others {
            assert!(fast_wkb_info(bytes).is_none(), "{bytes:?}");
        }
        // What it leaves is still decided by the parser: the collection and
        // the odd parts are valid, the malformed ones are not.
        assert!(wkb_info(&others[0]).is_ok());
        assert!(wkb_info(&others[others.len() - 1]).is_err());
    }
}
