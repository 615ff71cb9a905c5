//! GeoJSON geometry objects to ISO WKB (little endian).

use geoparquet_meta::{BoundingBox, Dimension, GeometryType, GeometryTypeAndDimension};
use serde_json::{Map, Value};

/// One position: X, Y and an optional Z (further values are ignored).
#[derive(Debug, Clone, Copy)]
struct Position {
    x: f64,
    y: f64,
    z: Option<f64>,
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

    fn has_z(&self) -> bool {
        fn any(ps: &[Position]) -> bool {
            ps.iter().any(|p| p.z.is_some())
        }
        match self {
            Geometry::Point(p) => p.is_some_and(|p| p.z.is_some()),
            Geometry::LineString(ps) | Geometry::MultiPoint(ps) => any(ps),
            Geometry::Polygon(rings) | Geometry::MultiLineString(rings) => {
                rings.iter().any(|r| any(r))
            }
            Geometry::MultiPolygon(polys) => polys.iter().flatten().any(|r| any(r)),
            Geometry::Collection(gs) => gs.iter().any(Geometry::has_z),
        }
    }
}

/// The X/Y box and Z range of everything written, for the reader's summary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extent {
    bbox: BoundingBox,
    z: Option<(f64, f64)>,
}

impl Default for Extent {
    fn default() -> Self {
        Self::new()
    }
}

impl Extent {
    /// An extent of nothing.
    pub(crate) fn new() -> Self {
        Self {
            bbox: BoundingBox::empty(),
            z: None,
        }
    }

    pub(crate) fn add(&mut self, x: f64, y: f64, z: Option<f64>) {
        self.bbox.expand_xy(x, y);
        if let Some(z) = z.filter(|z| !z.is_nan()) {
            self.z = Some(match self.z {
                Some((lo, hi)) => (lo.min(z), hi.max(z)),
                None => (z, z),
            });
        }
    }

    /// Grows this extent to hold `other` too.
    pub(crate) fn merge(&mut self, other: &Extent) {
        self.bbox = self.bbox.union(&other.bbox);
        if let Some((lo, hi)) = other.z {
            self.z = Some(match self.z {
                Some((a, b)) => (a.min(lo), b.max(hi)),
                None => (lo, hi),
            });
        }
    }

    /// The box, `None` when no coordinate was seen.
    pub(crate) fn to_bbox(self) -> Option<BoundingBox> {
        if self.bbox.is_empty() {
            return None;
        }
        Some(match self.z {
            Some((lo, hi)) => self.bbox.with_z(lo, hi),
            None => self.bbox,
        })
    }
}

fn position(v: &Value) -> Result<Position, String> {
    let Value::Array(items) = v else {
        return Err(format!(
            "expected a position (an array of numbers), found {}",
            geoparquet_meta::metadata::json_kind(v)
        ));
    };
    let mut numbers = [0.0_f64; 3];
    for (i, item) in items.iter().enumerate() {
        let n = item
            .as_f64()
            .ok_or_else(|| format!("non-numeric coordinate {item} in position {v}"))?;
        if let Some(slot) = numbers.get_mut(i) {
            *slot = n;
        }
    }
    match (items.len(), numbers) {
        (0 | 1, _) => Err(format!("a position needs at least two numbers, found {v}")),
        (2, [x, y, _]) => Ok(Position { x, y, z: None }),
        (_, [x, y, z]) => Ok(Position { x, y, z: Some(z) }),
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(format!(
            "expected {what}, found {}",
            geoparquet_meta::metadata::json_kind(other)
        )),
    }
}

fn positions(v: &Value) -> Result<Vec<Position>, String> {
    array(v, "an array of positions")?
        .iter()
        .map(position)
        .collect()
}

fn rings(v: &Value) -> Result<Vec<Vec<Position>>, String> {
    array(v, "an array of arrays of positions")?
        .iter()
        .map(positions)
        .collect()
}

fn polygons(v: &Value) -> Result<Vec<Vec<Vec<Position>>>, String> {
    array(v, "an array of polygons (arrays of rings)")?
        .iter()
        .map(rings)
        .collect()
}

fn member<'a>(obj: &'a Map<String, Value>, key: &str, ty: &str) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("a {ty} needs a \"{key}\" member"))
}

fn parse(v: &Value) -> Result<Geometry, String> {
    let Value::Object(obj) = v else {
        return Err(format!(
            "expected a geometry object, found {}",
            geoparquet_meta::metadata::json_kind(v)
        ));
    };
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(format!("geometry \"type\" must be a string, found {other}")),
        None => return Err("geometry has no \"type\"".to_owned()),
    };
    let in_type = |e: String| format!("{ty}: {e}");
    let coords = || member(obj, "coordinates", ty);
    Ok(match ty {
        "Point" => {
            let c = coords()?;
            match c {
                Value::Array(items) if items.is_empty() => Geometry::Point(None),
                _ => Geometry::Point(Some(position(c).map_err(in_type)?)),
            }
        }
        "LineString" => Geometry::LineString(positions(coords()?).map_err(in_type)?),
        "Polygon" => Geometry::Polygon(rings(coords()?).map_err(in_type)?),
        "MultiPoint" => Geometry::MultiPoint(positions(coords()?).map_err(in_type)?),
        "MultiLineString" => Geometry::MultiLineString(rings(coords()?).map_err(in_type)?),
        "MultiPolygon" => Geometry::MultiPolygon(polygons(coords()?).map_err(in_type)?),
        "GeometryCollection" => {
            let members =
                array(member(obj, "geometries", ty)?, "an array of geometries").map_err(in_type)?;
            Geometry::Collection(
                members
                    .iter()
                    .map(parse)
                    .collect::<Result<_, _>>()
                    .map_err(in_type)?,
            )
        }
        other => return Err(format!("unknown geometry type \"{other}\"")),
    })
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    has_z: bool,
    extent: Option<&'a mut Extent>,
}

/// Writes the header of a little-endian ISO WKB geometry of type `ty`
/// (2D, or with Z when `has_z`).
pub(crate) fn wkb_header(out: &mut Vec<u8>, ty: GeometryType, has_z: bool) {
    let dimension = if has_z { Dimension::Xyz } else { Dimension::Xy };
    out.push(1);
    let code = GeometryTypeAndDimension::new(ty, dimension).wkb_code();
    out.extend_from_slice(&code.to_le_bytes());
}

impl Writer<'_> {
    fn header(&mut self, ty: GeometryType) {
        wkb_header(self.out, ty, self.has_z);
    }

    fn count(&mut self, n: usize) -> Result<(), String> {
        let n = u32::try_from(n).map_err(|_| format!("{n} parts do not fit in WKB"))?;
        self.out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn coord(&mut self, x: f64, y: f64, z: Option<f64>) {
        self.out.extend_from_slice(&x.to_le_bytes());
        self.out.extend_from_slice(&y.to_le_bytes());
        if self.has_z {
            // A 2D position inside a 3D geometry gets Z = 0, as GDAL does.
            self.out.extend_from_slice(&z.unwrap_or(0.0).to_le_bytes());
        }
    }

    fn position(&mut self, p: Position) {
        let z = if self.has_z { p.z.or(Some(0.0)) } else { None };
        if let Some(e) = self.extent.as_deref_mut() {
            e.add(p.x, p.y, z);
        }
        self.coord(p.x, p.y, z);
    }

    fn positions(&mut self, ps: &[Position]) -> Result<(), String> {
        self.count(ps.len())?;
        for &p in ps {
            self.position(p);
        }
        Ok(())
    }

    fn rings(&mut self, rings: &[Vec<Position>]) -> Result<(), String> {
        self.count(rings.len())?;
        for r in rings {
            self.positions(r)?;
        }
        Ok(())
    }

    fn geometry(&mut self, g: &Geometry) -> Result<(), String> {
        self.header(g.geometry_type());
        match g {
            Geometry::Point(Some(p)) => self.position(*p),
            Geometry::Point(None) => self.coord(f64::NAN, f64::NAN, Some(f64::NAN)),
            Geometry::LineString(ps) => self.positions(ps)?,
            Geometry::Polygon(rs) => self.rings(rs)?,
            Geometry::MultiPoint(ps) => {
                self.count(ps.len())?;
                for &p in ps {
                    self.header(GeometryType::Point);
                    self.position(p);
                }
            }
            Geometry::MultiLineString(ls) => {
                self.count(ls.len())?;
                for l in ls {
                    self.header(GeometryType::LineString);
                    self.positions(l)?;
                }
            }
            Geometry::MultiPolygon(polys) => {
                self.count(polys.len())?;
                for p in polys {
                    self.header(GeometryType::Polygon);
                    self.rings(p)?;
                }
            }
            Geometry::Collection(gs) => {
                self.count(gs.len())?;
                for g in gs {
                    self.geometry(g)?;
                }
            }
        }
        Ok(())
    }
}

/// Appends the ISO WKB of a GeoJSON geometry object to `out` and returns its
/// type. A geometry is XYZ when any of its positions has three or more
/// numbers (then 2D positions in it get Z = 0); values after the third are
/// ignored. On error `out` may hold a partial geometry.
pub(crate) fn geometry_to_wkb(
    geometry: &Value,
    out: &mut Vec<u8>,
    extent: Option<&mut Extent>,
) -> Result<GeometryTypeAndDimension, String> {
    let g = parse(geometry)?;
    let has_z = g.has_z();
    let mut w = Writer { out, has_z, extent };
    w.geometry(&g)?;
    let dimension = if has_z { Dimension::Xyz } else { Dimension::Xy };
    Ok(GeometryTypeAndDimension::new(g.geometry_type(), dimension))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wkb(v: Value) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        geometry_to_wkb(&v, &mut out, None).map(|_| out)
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
    }
}
