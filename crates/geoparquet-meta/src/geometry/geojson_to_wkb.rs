//! GeoJSON geometry objects to ISO WKB (little endian).

use std::cell::Cell;

use serde_json::{Map, Value};

use super::{Extent, WkbWriter};
use crate::error::{Error, GeoJsonProblem, Result};
use crate::metadata::json_kind;
use crate::{Dimension, GeometryType, GeometryTypeAndDimension};

/// How the positions of a GeoJSON geometry decide its WKB dimension.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{GeoJsonToWkbOptions, PositionDimensions, geojson_to_wkb};
/// use serde_json::json;
///
/// let mixed = json!({"type": "LineString", "coordinates": [[0, 0], [1, 1, 5]]});
/// let mut out = Vec::new();
/// let t = geojson_to_wkb(&mixed, GeoJsonToWkbOptions::default(), &mut out, None)?;
/// assert_eq!(t.to_string(), "LineString Z"); // [0, 0] got Z = 0
/// let uniform = GeoJsonToWkbOptions::default().with_dimensions(PositionDimensions::Uniform);
/// assert!(geojson_to_wkb(&mixed, uniform, &mut Vec::new(), None).is_err());
/// let zm = json!({"type": "Point", "coordinates": [1, 2, 3, 4]});
/// let t = geojson_to_wkb(&zm, uniform, &mut Vec::new(), None)?;
/// assert_eq!(t.to_string(), "Point ZM");
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PositionDimensions {
    /// The geometry is XYZ when any of its positions has three or more
    /// numbers (2D positions in it get Z = 0, as GDAL does), else XY; numbers
    /// after the third are ignored. `[]` is only accepted as the coordinates
    /// of a whole Point (the empty point). What the GeoJSON reader does.
    #[default]
    Widest,
    /// Every position of the geometry has the same length, which gives the
    /// dimension: 2 numbers XY, 3 XYZ, 4 XYZM. An empty position `[]` is
    /// accepted anywhere and written with NaN ordinates (the WKB empty
    /// point), so that it reads back. What stac-geoparquet does.
    Uniform,
}

/// How [`geojson_to_wkb`] encodes.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{GeoJsonToWkbOptions, PositionDimensions};
///
/// let options = GeoJsonToWkbOptions::default()
///     .with_dimensions(PositionDimensions::Uniform)
///     .with_close_rings(true);
/// assert!(options.close_rings);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct GeoJsonToWkbOptions {
    /// How positions decide the dimension. Default: [`PositionDimensions::Widest`].
    pub dimensions: PositionDimensions,
    /// Whether an open polygon ring (first and last positions differ) gets
    /// its first position repeated at the end: WKB readers such as GEOS
    /// refuse open rings, and RFC 7946 requires closed ones. Default: `false`
    /// (rings are written as they are).
    pub close_rings: bool,
}

impl GeoJsonToWkbOptions {
    /// Sets [`Self::dimensions`].
    #[must_use]
    pub fn with_dimensions(mut self, dimensions: PositionDimensions) -> Self {
        self.dimensions = dimensions;
        self
    }

    /// Sets [`Self::close_rings`].
    #[must_use]
    pub fn with_close_rings(mut self, close_rings: bool) -> Self {
        self.close_rings = close_rings;
        self
    }
}

/// One position: up to four numbers, the missing ones 0 (so that a 2D
/// position in an XYZ geometry has Z = 0); the empty position `[]` is all NaN
/// (JSON numbers never are).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Position {
    v: [f64; 4],
}

/// The parser's errors are boxed: the `Ok` path of every nested `collect`
/// stays as small as the values it carries.
type R<T> = std::result::Result<T, Box<Error>>;

impl Position {
    fn is_empty(&self) -> bool {
        self.v[0].is_nan()
    }

    /// The same point (numbers compared as numbers; two empty positions are
    /// the same).
    fn same(&self, other: &Position) -> bool {
        (self.is_empty() && other.is_empty()) || self.v == other.v
    }
}

/// A parsed geometry, borrowing nothing.
#[derive(Debug)]
enum Geometry {
    /// `None` is the empty point (`"coordinates": []`).
    Point(Option<Position>),
    LineString(Vec<Position>),
    Polygon(Vec<Vec<Position>>),
    MultiPoint(Vec<Position>),
    MultiLineString(Vec<Vec<Position>>),
    MultiPolygon(Vec<Vec<Vec<Position>>>),
    Collection(Vec<Geometry>),
}

impl Geometry {
    fn geometry_type(&self) -> GeometryType {
        match self {
            Geometry::Point(_) => GeometryType::Point,
            Geometry::LineString(_) => GeometryType::LineString,
            Geometry::Polygon(_) => GeometryType::Polygon,
            Geometry::MultiPoint(_) => GeometryType::MultiPoint,
            Geometry::MultiLineString(_) => GeometryType::MultiLineString,
            Geometry::MultiPolygon(_) => GeometryType::MultiPolygon,
            Geometry::Collection(_) => GeometryType::GeometryCollection,
        }
    }
}

fn problem(problem: GeoJsonProblem) -> Box<Error> {
    Box::new(Error::InvalidGeoJsonGeometry {
        path: Vec::new(),
        problem,
    })
}

/// Puts `t` in front of the path of a GeoJSON error.
fn inside(t: GeometryType) -> impl Fn(Box<Error>) -> Box<Error> {
    move |mut e| {
        if let Error::InvalidGeoJsonGeometry { path, .. } = e.as_mut() {
            path.insert(0, t);
        }
        e
    }
}

/// Parses a geometry and notes, on the way, what its positions say about
/// its dimension.
struct Parser {
    uniform: bool,
    /// Widest: whether some position has three or more numbers.
    any_z: Cell<bool>,
    /// Uniform: the length of the first non-empty position, and the first
    /// length that differs from it.
    first: Cell<Option<u8>>,
    mixed: Cell<Option<u8>>,
}

impl Parser {
    #[inline]
    fn position(&self, v: &Value) -> R<Position> {
        let Value::Array(items) = v else {
            return Err(problem(GeoJsonProblem::NotAnArray {
                expected: "a position (an array of numbers)",
                found: json_kind(v),
            }));
        };
        let mut p = Position { v: [0.0; 4] };
        let keep = if self.uniform { 4 } else { 3 };
        for (i, item) in items.iter().enumerate() {
            let n = item.as_f64().ok_or_else(|| {
                problem(GeoJsonProblem::NonNumeric {
                    value: item.to_string(),
                    position: v.to_string(),
                })
            })?;
            if let Some(slot) = p.v.get_mut(i).filter(|_| i < keep) {
                *slot = n;
            }
        }
        let n = u8::try_from(items.len().min(keep)).unwrap_or(4);
        if self.uniform {
            match self.first.get() {
                _ if n == 0 => p.v = [f64::NAN; 4],
                None => self.first.set(Some(n)),
                Some(f) if f != n && self.mixed.get().is_none() => self.mixed.set(Some(n)),
                Some(_) => {}
            }
        } else if n >= 3 {
            self.any_z.set(true);
        }
        match items.len() {
            0 if self.uniform => Ok(p),
            0 | 1 => Err(problem(GeoJsonProblem::TooFewNumbers {
                position: v.to_string(),
            })),
            count @ 5.. if self.uniform => Err(problem(GeoJsonProblem::TooManyNumbers { count })),
            _ => Ok(p),
        }
    }

    fn positions(&self, v: &Value) -> R<Vec<Position>> {
        array(v, "an array of positions")?
            .iter()
            .map(|p| self.position(p))
            .collect()
    }

    fn rings(&self, v: &Value) -> R<Vec<Vec<Position>>> {
        array(v, "an array of arrays of positions")?
            .iter()
            .map(|r| self.positions(r))
            .collect()
    }

    fn polygons(&self, v: &Value) -> R<Vec<Vec<Vec<Position>>>> {
        array(v, "an array of polygons (arrays of rings)")?
            .iter()
            .map(|p| self.rings(p))
            .collect()
    }

    fn parse(&self, v: &Value) -> R<Geometry> {
        let Value::Object(obj) = v else {
            return Err(problem(GeoJsonProblem::NotAnObject {
                found: json_kind(v),
            }));
        };
        let name = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(other) => {
                return Err(problem(GeoJsonProblem::TypeNotAString {
                    found: other.to_string(),
                }));
            }
            None => return Err(problem(GeoJsonProblem::NoType)),
        };
        let Some(ty) = GeometryType::from_name(name) else {
            return Err(problem(GeoJsonProblem::UnknownType {
                name: name.to_owned(),
            }));
        };
        let in_type = inside(ty);
        let coords = || member(obj, "coordinates", ty);
        Ok(match ty {
            GeometryType::Point => {
                let c = coords()?;
                match c {
                    Value::Array(items) if items.is_empty() => Geometry::Point(None),
                    _ => Geometry::Point(Some(self.position(c).map_err(in_type)?)),
                }
            }
            GeometryType::LineString => {
                Geometry::LineString(self.positions(coords()?).map_err(in_type)?)
            }
            GeometryType::Polygon => Geometry::Polygon(self.rings(coords()?).map_err(in_type)?),
            GeometryType::MultiPoint => {
                Geometry::MultiPoint(self.positions(coords()?).map_err(in_type)?)
            }
            GeometryType::MultiLineString => {
                Geometry::MultiLineString(self.rings(coords()?).map_err(in_type)?)
            }
            GeometryType::MultiPolygon => {
                Geometry::MultiPolygon(self.polygons(coords()?).map_err(in_type)?)
            }
            GeometryType::GeometryCollection => {
                let members = array(member(obj, "geometries", ty)?, "an array of geometries")
                    .map_err(&in_type)?;
                Geometry::Collection(
                    members
                        .iter()
                        .map(|m| self.parse(m))
                        .collect::<R<_>>()
                        .map_err(in_type)?,
                )
            }
        })
    }
}

fn array<'a>(v: &'a Value, expected: &'static str) -> R<&'a [Value]> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(problem(GeoJsonProblem::NotAnArray {
            expected,
            found: json_kind(other),
        })),
    }
}

fn member<'a>(
    obj: &'a Map<String, Value>,
    key: &'static str,
    geometry_type: GeometryType,
) -> R<&'a Value> {
    obj.get(key)
        .ok_or_else(|| problem(GeoJsonProblem::MissingMember { geometry_type, key }))
}

struct Writer<'a, 'e> {
    w: WkbWriter<'a>,
    uniform: bool,
    close_rings: bool,
    extent: Option<&'e mut Extent>,
}

impl Writer<'_, '_> {
    #[inline]
    fn position(&mut self, p: &Position) {
        let dim = self.w.dimension();
        if self.uniform {
            if p.is_empty() {
                self.w.empty_coord();
                return;
            }
            let [x, y, a, b] = p.v;
            let (z, m) = match dim {
                Dimension::Xym => (f64::NAN, a),
                _ => (a, b),
            };
            if let Some(e) = self.extent.as_deref_mut() {
                e.add(x, y, dim.has_z().then_some(z), dim.has_m().then_some(m));
            }
            self.w.coord(x, y, z, m);
        } else {
            // A 2D position inside a 3D geometry gets Z = 0, as GDAL does.
            let [x, y, z, _] = p.v;
            if let Some(e) = self.extent.as_deref_mut() {
                e.add(x, y, (dim == Dimension::Xyz).then_some(z), None);
            }
            self.w.coord(x, y, z, f64::NAN);
        }
    }

    fn positions(&mut self, ps: &[Position]) -> Result<()> {
        self.w.count(ps.len())?;
        ps.iter().for_each(|p| self.position(p));
        Ok(())
    }

    fn ring(&mut self, ps: &[Position]) -> Result<()> {
        let open = self.close_rings
            && match (ps.first(), ps.last()) {
                (Some(first), Some(last)) => !first.same(last),
                _ => false,
            };
        self.w.count(ps.len() + usize::from(open))?;
        ps.iter().for_each(|p| self.position(p));
        if open && let Some(first) = ps.first() {
            self.position(first);
        }
        Ok(())
    }

    fn polygon(&mut self, rings: &[Vec<Position>]) -> Result<()> {
        self.w.count(rings.len())?;
        for r in rings {
            self.ring(r)?;
        }
        Ok(())
    }

    fn geometry(&mut self, g: &Geometry) -> Result<()> {
        self.w.header(g.geometry_type());
        match g {
            Geometry::Point(Some(p)) => self.position(p),
            Geometry::Point(None) => self.w.empty_coord(),
            Geometry::LineString(ps) => self.positions(ps)?,
            Geometry::Polygon(rs) => self.polygon(rs)?,
            Geometry::MultiPoint(ps) => {
                self.w.count(ps.len())?;
                for p in ps {
                    self.w.header(GeometryType::Point);
                    self.position(p);
                }
            }
            Geometry::MultiLineString(ls) => {
                self.w.count(ls.len())?;
                for l in ls {
                    self.w.header(GeometryType::LineString);
                    self.positions(l)?;
                }
            }
            Geometry::MultiPolygon(polys) => {
                self.w.count(polys.len())?;
                for p in polys {
                    self.w.header(GeometryType::Polygon);
                    self.polygon(p)?;
                }
            }
            Geometry::Collection(gs) => {
                self.w.count(gs.len())?;
                for g in gs {
                    self.geometry(g)?;
                }
            }
        }
        Ok(())
    }
}

impl Parser {
    /// The dimension of what was parsed.
    fn dimension(&self) -> std::result::Result<Dimension, Box<Error>> {
        if let (Some(first), Some(other)) = (self.first.get(), self.mixed.get()) {
            return Err(problem(GeoJsonProblem::MixedDimensions {
                first: usize::from(first),
                other: usize::from(other),
            }));
        }
        Ok(match (self.uniform, self.first.get()) {
            (false, _) if self.any_z.get() => Dimension::Xyz,
            (true, Some(3)) => Dimension::Xyz,
            (true, Some(4)) => Dimension::Xyzm,
            _ => Dimension::Xy,
        })
    }
}

/// Appends the little-endian ISO WKB of a GeoJSON geometry object to `out`
/// and returns its type and dimension; `extent`, when given, grows to hold
/// every position written (NaN skipped). [`GeoJsonToWkbOptions`] says how
/// positions set the dimension and whether open rings are closed.
///
/// Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon and
/// GeometryCollection are known; `"coordinates": []` of a Point is the empty
/// point (NaN ordinates). An unknown type, a wrong nesting of coordinate
/// arrays, a position with fewer than two numbers or a non-numeric coordinate
/// is [`Error::InvalidGeoJsonGeometry`] naming the problem and the geometry
/// types it is inside. On error `out` may hold a partial geometry. Ring
/// orientation is not checked.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{Extent, GeoJsonToWkbOptions, geojson_to_wkb};
/// use serde_json::json;
///
/// let point = json!({"type": "Point", "coordinates": [1.0, 2.0]});
/// let mut out = Vec::new();
/// let mut extent = Extent::new();
/// let t = geojson_to_wkb(&point, GeoJsonToWkbOptions::default(), &mut out, Some(&mut extent))?;
/// assert_eq!(t.to_string(), "Point");
/// assert_eq!(&out[..5], &[1, 1, 0, 0, 0]);
/// assert_eq!(extent.to_bbox().map(|b| (b.xmin, b.ymax)), Some((1.0, 2.0)));
///
/// let bad = json!({"type": "GeometryCollection", "geometries": [
///     {"type": "Point", "coordinates": [1, "2"]}]});
/// let err = geojson_to_wkb(&bad, GeoJsonToWkbOptions::default(), &mut Vec::new(), None);
/// assert_eq!(
///     err.unwrap_err().to_string(),
///     r#"GeometryCollection: Point: non-numeric coordinate "2" in position [1,"2"]"#
/// );
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn geojson_to_wkb(
    geometry: &Value,
    options: GeoJsonToWkbOptions,
    out: &mut Vec<u8>,
    extent: Option<&mut Extent>,
) -> Result<GeometryTypeAndDimension> {
    let uniform = options.dimensions == PositionDimensions::Uniform;
    let parser = Parser {
        uniform,
        any_z: Cell::new(false),
        first: Cell::new(None),
        mixed: Cell::new(None),
    };
    let g = parser.parse(geometry).map_err(|e| *e)?;
    let dimension = parser.dimension().map_err(|e| *e)?;
    let mut w = Writer {
        w: WkbWriter::new(out, dimension),
        uniform,
        close_rings: options.close_rings,
        extent,
    };
    w.geometry(&g)?;
    Ok(GeometryTypeAndDimension::new(g.geometry_type(), dimension))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wkb(v: Value) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::new();
        geojson_to_wkb(&v, GeoJsonToWkbOptions::default(), &mut out, None)
            .map(|_| out)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn point_xy_and_xyz() {
        let mut expected = vec![1, 1, 0, 0, 0];
        expected.extend_from_slice(&1.0_f64.to_le_bytes());
        expected.extend_from_slice(&2.0_f64.to_le_bytes());
        assert_eq!(
            wkb(json!({"type": "Point", "coordinates": [1, 2]})),
            Ok(expected)
        );
        let z = wkb(json!({"type": "Point", "coordinates": [1, 2, 3, 4]})).unwrap_or_default();
        assert_eq!(z.get(1..5), Some(&1001_u32.to_le_bytes()[..]));
        assert_eq!(z.len(), 5 + 24);
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |v: Value| wkb(v).err().unwrap_or_default();
        assert!(
            err(json!({"type": "Pointy", "coordinates": [1, 2]})).contains("unknown geometry type")
        );
        assert!(err(json!({"type": "Point", "coordinates": [1, "2"]})).contains("non-numeric"));
        assert!(err(json!({"type": "LineString", "coordinates": [1, 2]})).contains("position"));
        assert!(err(json!({"type": "Polygon"})).contains("coordinates"));
        assert!(err(json!([1, 2])).contains("geometry object"));
        assert_eq!(
            err(json!({"type": "LineString", "coordinates": [[1, 2], [3]]})),
            "LineString: a position needs at least two numbers, found [3]"
        );
        assert_eq!(
            err(json!({"type": "GeometryCollection", "geometries": 5})),
            "GeometryCollection: expected an array of geometries, found a number"
        );
    }

    fn uniform(v: Value) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let options = GeoJsonToWkbOptions::default()
            .with_dimensions(PositionDimensions::Uniform)
            .with_close_rings(true);
        geojson_to_wkb(&v, options, &mut out, None).map(|_| out)
    }

    #[test]
    fn uniform_positions_keep_m_and_empty_positions() {
        let zm = uniform(json!({"type": "LineString", "coordinates": [[1, 2, 3, 4], []]})).unwrap();
        assert_eq!(zm.get(1..5), Some(&3002_u32.to_le_bytes()[..]));
        assert_eq!(zm.len(), 9 + 2 * 32);
        assert!(f64::from_le_bytes(zm[41..49].try_into().unwrap()).is_nan());
        assert!(
            uniform(json!({"type": "LineString", "coordinates": [[1, 2], [1, 2, 3]]})).is_err()
        );
        assert!(uniform(json!({"type": "Point", "coordinates": [1, 2, 3, 4, 5]})).is_err());
        // A MultiPoint with an empty part: a NaN point.
        let mp = uniform(json!({"type": "MultiPoint", "coordinates": [[]]})).unwrap();
        assert_eq!(mp.len(), 9 + 5 + 16);
    }

    #[test]
    fn open_rings_are_closed_when_asked() {
        let open = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]});
        let closed = uniform(open.clone()).unwrap();
        assert_eq!(closed.len(), 9 + 4 + 4 * 16);
        assert_eq!(&closed[13..29], &closed[closed.len() - 16..]);
        assert_eq!(wkb(open).unwrap().len(), 9 + 4 + 3 * 16);
        // An integer first position equals its float last one.
        let same =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0.0, 0.0]]]});
        assert_eq!(uniform(same).unwrap().len(), 9 + 4 + 4 * 16);
    }
}
