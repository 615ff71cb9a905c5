//! GeoJSON geometry objects to ISO WKB (little endian) and back, keeping Z and
//! M, the exact geometry type, empty geometries and GeometryCollections.

use serde_json::{Map, Value};

use crate::lite::Json;

const TYPES: [&str; 7] = [
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
];

/// Coordinates per position of a geometry: 2, 3 (Z) or 4 (ZM); `None` when
/// it has no position at all.
fn dims_of(v: &Value, depth: usize) -> Result<Option<usize>, String> {
    let arr = v.as_array().ok_or("coordinates must be arrays")?;
    if depth == 0 {
        return Ok(if arr.is_empty() {
            None
        } else {
            Some(arr.len())
        });
    }
    for c in arr {
        if let Some(d) = dims_of(c, depth - 1)? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

fn depth_of(t: usize) -> usize {
    match t {
        0 => 0,
        1 | 3 => 1,
        2 | 4 => 2,
        _ => 3,
    }
}

fn geometry_dims(obj: &Map<String, Value>) -> Result<Option<usize>, String> {
    let t = type_index(obj)?;
    if t == 6 {
        let geoms = obj
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or("GeometryCollection without a \"geometries\" array")?;
        for g in geoms {
            let g = g.as_object().ok_or("a geometry must be an object")?;
            if let Some(d) = geometry_dims(g)? {
                return Ok(Some(d));
            }
        }
        return Ok(None);
    }
    let c = obj
        .get("coordinates")
        .ok_or("geometry without \"coordinates\"")?;
    dims_of(c, depth_of(t))
}

fn type_index(obj: &Map<String, Value>) -> Result<usize, String> {
    let t = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry without a \"type\" string")?;
    TYPES
        .iter()
        .position(|n| *n == t)
        .ok_or_else(|| format!("unknown geometry type \"{t}\""))
}

fn code(t: usize, dims: usize) -> u32 {
    let base = u32::try_from(t + 1).unwrap_or(0);
    match dims {
        3 => base + 1000,
        4 => base + 3000,
        _ => base,
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_position(out: &mut Vec<u8>, v: &Value, dims: usize) -> Result<(), String> {
    let arr = v.as_array().ok_or("a position must be an array")?;
    if arr.is_empty() {
        // An empty point.
        for _ in 0..dims {
            out.extend_from_slice(&f64::NAN.to_le_bytes());
        }
        return Ok(());
    }
    if arr.len() != dims {
        return Err(format!(
            "positions of {} and {dims} coordinates in one geometry",
            arr.len()
        ));
    }
    for c in arr {
        let f = c.as_f64().ok_or("a coordinate must be a number")?;
        out.extend_from_slice(&f.to_le_bytes());
    }
    Ok(())
}

fn put_array<F>(out: &mut Vec<u8>, v: &Value, mut each: F) -> Result<(), String>
where
    F: FnMut(&mut Vec<u8>, &Value) -> Result<(), String>,
{
    let arr = v.as_array().ok_or("coordinates must be arrays")?;
    put_u32(out, u32::try_from(arr.len()).map_err(|_| "too many parts")?);
    for x in arr {
        each(out, x)?;
    }
    Ok(())
}

/// Whether two positions are the same point (numbers compared as numbers:
/// `1` and `1.0` are equal).
fn same_position(a: &Value, b: &Value) -> bool {
    match (a.as_array(), b.as_array()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y)) if x == y))
        }
        _ => false,
    }
}

/// A polygon ring, closed: WKB readers (GEOS, so GeoPandas and Python
/// stac-geoparquet) refuse open rings, and RFC 7946 requires closed ones. An
/// open ring of the JSON gets its first position repeated at the end (the
/// original is kept as a patch, since it does not read back equal).
fn closed_ring(out: &mut Vec<u8>, r: &Value, dims: usize) -> Result<(), String> {
    let arr = r.as_array().ok_or("coordinates must be arrays")?;
    let open = match (arr.first(), arr.last()) {
        (Some(first), Some(last)) => !same_position(first, last),
        _ => false,
    };
    let n = arr.len() + usize::from(open);
    put_u32(out, u32::try_from(n).map_err(|_| "too many parts")?);
    for p in arr {
        put_position(out, p, dims)?;
    }
    if open && let Some(first) = arr.first() {
        put_position(out, first, dims)?;
    }
    Ok(())
}

/// The bounds of a geometry: `[xmin, ymin, xmax, ymax]`, and the Z range
/// when its positions have a third coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) xy: [f64; 4],
    pub(crate) z: Option<(f64, f64)>,
}

/// The [`Bounds`] of a GeoJSON geometry object; `None` when it has no
/// position (empty, or not a geometry).
pub(crate) fn bounds_of<J: Json>(v: &J) -> Option<Bounds> {
    fn walk<J: Json>(v: &J, b: &mut [f64; 6], depth: usize) {
        let Some(a) = v.array() else {
            return;
        };
        if let (Some((x, _)), Some((y, _))) = (
            a.first().and_then(Json::float),
            a.get(1).and_then(Json::float),
        ) {
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y);
            if let Some((z, _)) = a.get(2).and_then(Json::float) {
                b[4] = b[4].min(z);
                b[5] = b[5].max(z);
            }
            return;
        }
        if depth < 64 {
            for x in a {
                walk(x, b, depth + 1);
            }
        }
    }
    fn geometry<J: Json>(v: &J, b: &mut [f64; 6], depth: usize) {
        if let Some(c) = v.member("coordinates", &mut 0) {
            walk(c, b, 0);
        }
        if depth < 64
            && let Some(gs) = v.member("geometries", &mut 0).and_then(Json::array)
        {
            for g in gs {
                geometry(g, b, depth + 1);
            }
        }
    }
    if !v.is_object() {
        return None;
    }
    let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut b = [inf, inf, ninf, ninf, inf, ninf];
    geometry(v, &mut b, 0);
    (b[0] <= b[2] && b[1] <= b[3]).then_some(Bounds {
        xy: [b[0], b[1], b[2], b[3]],
        z: (b[4] <= b[5]).then_some((b[4], b[5])),
    })
}

/// The 2D bounding box `[xmin, ymin, xmax, ymax]` of a GeoJSON geometry
/// object; `None` when it has no position (empty, or not a geometry).
pub(crate) fn bbox_of<J: Json>(v: &J) -> Option<[f64; 4]> {
    bounds_of(v).map(|b| b.xy)
}

/// Whether every vertex of a GeoJSON geometry lies in a box crossing the
/// antimeridian (`x >= x0` or `x <= x1`, with `x0 > x1`), and every segment
/// joining its two parts does so across the antimeridian (more than 180
/// degrees apart), not across the gap: what a covering must hold.
pub(crate) fn fits_wrapped<J: Json>(v: &J, x0: f64, x1: f64) -> bool {
    fn position<J: Json>(p: &J) -> Option<f64> {
        p.array()?.first()?.float().map(|f| f.0)
    }
    fn walk<J: Json>(v: &J, x0: f64, x1: f64, depth: usize) -> bool {
        let Some(a) = v.array() else {
            return true;
        };
        if a.first().is_some_and(|p| position(p).is_some()) {
            // A sequence of positions (a line string or a ring).
            let mut previous: Option<(f64, bool)> = None;
            for x in a.iter().filter_map(position) {
                let east = if x >= x0 {
                    true
                } else if x <= x1 {
                    false
                } else {
                    return false;
                };
                if let Some((px, peast)) = previous
                    && peast != east
                    && (x - px).abs() <= 180.0
                {
                    return false;
                }
                previous = Some((x, east));
            }
            return true;
        }
        if a.first().and_then(Json::float).is_some() {
            // A single position (a Point).
            return position(v).is_none_or(|x| x >= x0 || x <= x1);
        }
        depth < 64 && a.iter().all(|x| walk(x, x0, x1, depth + 1))
    }
    fn geometry<J: Json>(v: &J, x0: f64, x1: f64, depth: usize) -> bool {
        v.member("coordinates", &mut 0)
            .is_none_or(|c| walk(c, x0, x1, 0))
            && v.member("geometries", &mut 0)
                .and_then(Json::array)
                .is_none_or(|gs| depth < 64 && gs.iter().all(|g| geometry(g, x0, x1, depth + 1)))
    }
    geometry(v, x0, x1, 0)
}

fn put_geometry(out: &mut Vec<u8>, obj: &Map<String, Value>, dims: usize) -> Result<(), String> {
    let t = type_index(obj)?;
    out.push(1);
    put_u32(out, code(t, dims));
    if t == 6 {
        let geoms = obj
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or("GeometryCollection without a \"geometries\" array")?;
        put_u32(
            out,
            u32::try_from(geoms.len()).map_err(|_| "too many parts")?,
        );
        for g in geoms {
            let g = g.as_object().ok_or("a geometry must be an object")?;
            put_geometry(out, g, dims)?;
        }
        return Ok(());
    }
    let c = obj
        .get("coordinates")
        .ok_or("geometry without \"coordinates\"")?;
    let ring = |out: &mut Vec<u8>, r: &Value| put_array(out, r, |o, p| put_position(o, p, dims));
    let polygon = |out: &mut Vec<u8>, p: &Value| put_array(out, p, |o, r| closed_ring(o, r, dims));
    match t {
        0 => put_position(out, c, dims),
        1 => ring(out, c),
        2 => polygon(out, c),
        3 => put_array(out, c, |o, p| {
            o.push(1);
            put_u32(o, code(0, dims));
            put_position(o, p, dims)
        }),
        4 => put_array(out, c, |o, l| {
            o.push(1);
            put_u32(o, code(1, dims));
            ring(o, l)
        }),
        _ => put_array(out, c, |o, p| {
            o.push(1);
            put_u32(o, code(2, dims));
            polygon(o, p)
        }),
    }
}

/// The ISO WKB of a GeoJSON geometry object.
pub(crate) fn to_wkb(v: &Value) -> Result<Vec<u8>, String> {
    let obj = v.as_object().ok_or("a geometry must be an object")?;
    let dims = geometry_dims(obj)?.unwrap_or(2);
    if !(2..=3).contains(&dims) {
        // GeoParquet 1.1 cannot declare M values: such geometries are kept
        // verbatim instead (see the crate docs, "Lossless").
        return Err(format!(
            "positions must have 2 or 3 coordinates, not {dims}"
        ));
    }
    let mut out = Vec::with_capacity(64);
    put_geometry(&mut out, obj, dims)?;
    Ok(out)
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    le: bool,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self
            .b
            .get(self.pos..self.pos + N)
            .ok_or("WKB ends too early")?;
        self.pos += N;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let a = self.take::<4>()?;
        Ok(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    fn f64(&mut self) -> Result<f64, String> {
        let a = self.take::<8>()?;
        Ok(if self.le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })
    }
    fn count(&mut self) -> Result<usize, String> {
        let n = usize::try_from(self.u32()?).map_err(|_| "count too large")?;
        if n > self.b.len() {
            return Err("WKB count larger than the data".into());
        }
        Ok(n)
    }
}

fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn read_position(c: &mut Cursor<'_>, dims: usize) -> Result<Value, String> {
    let mut v = Vec::with_capacity(dims);
    for _ in 0..dims {
        v.push(c.f64()?);
    }
    if v.iter().all(|f| f.is_nan()) {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(Value::Array(v.into_iter().map(number).collect()))
}

fn read_geometry(c: &mut Cursor<'_>, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("WKB nested too deeply".into());
    }
    let order = c.take::<1>()?[0];
    c.le = match order {
        0 => false,
        1 => true,
        _ => return Err(format!("bad WKB byte order {order}")),
    };
    let raw = c.u32()?;
    // ISO codes (1000s) and EWKB flags.
    let (mut t, mut z, mut m) = (raw & 0xffff, raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
    if raw & 0x2000_0000 != 0 {
        c.u32()?; // EWKB SRID, ignored
    }
    match t / 1000 {
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => {}
    }
    t %= 1000;
    let dims = 2 + usize::from(z) + usize::from(m);
    let idx = usize::try_from(t).unwrap_or(0);
    let name = *TYPES
        .get(idx.wrapping_sub(1))
        .ok_or_else(|| format!("unknown WKB geometry type {raw}"))?;
    let mut obj = Map::new();
    obj.insert("type".into(), Value::String(name.into()));
    let le = c.le;
    let ring = |c: &mut Cursor<'_>| -> Result<Value, String> {
        let n = c.count()?;
        (0..n)
            .map(|_| read_position(c, dims))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    };
    let polygon = |c: &mut Cursor<'_>| -> Result<Value, String> {
        let n = c.count()?;
        (0..n)
            .map(|_| ring(c))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    };
    let coords = match t {
        1 => read_position(c, dims)?,
        2 => ring(c)?,
        3 => polygon(c)?,
        4..=6 => {
            let n = c.count()?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                let part = read_geometry(c, depth + 1)?;
                c.le = le;
                parts.push(part.get("coordinates").cloned().unwrap_or(Value::Null));
            }
            Value::Array(parts)
        }
        _ => {
            let n = c.count()?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                parts.push(read_geometry(c, depth + 1)?);
                c.le = le;
            }
            obj.insert("geometries".into(), Value::Array(parts));
            return Ok(Value::Object(obj));
        }
    };
    obj.insert("coordinates".into(), coords);
    Ok(Value::Object(obj))
}

/// The GeoJSON geometry object of WKB (ISO or extended, either byte order).
pub(crate) fn from_wkb(b: &[u8]) -> Result<Value, String> {
    let mut c = Cursor {
        b,
        pos: 0,
        le: true,
    };
    read_geometry(&mut c, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        for g in [
            json!({"type": "Point", "coordinates": [1.5, 2.5]}),
            json!({"type": "Point", "coordinates": [1.5, 2.5, 3.0]}),
            json!({"type": "Point", "coordinates": []}),
            json!({"type": "MultiPolygon", "coordinates": []}),
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.0, 2.0]}, {"type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}]}),
        ] {
            let wkb = to_wkb(&g).unwrap();
            assert_eq!(from_wkb(&wkb).unwrap(), g);
        }
        assert!(
            to_wkb(&json!({"type": "LineString", "coordinates": [[1.0, 2.0], [1.0, 2.0, 3.0]]}))
                .is_err()
        );
        assert!(from_wkb(&[1, 1, 0]).is_err());
        assert!(
            to_wkb(&json!({"type": "MultiPoint", "coordinates": [[1.0, 2.0, 3.0, 4.0]]})).is_err()
        );
    }

    #[test]
    fn open_rings_are_closed_in_the_wkb() {
        let open = json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1.0, 0.0], [1.0, 1.0]], [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]]]});
        let back = from_wkb(&to_wkb(&open).unwrap()).unwrap();
        let rings = &back["coordinates"][0];
        assert_eq!(
            rings[0],
            json!([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        );
        assert_eq!(
            rings[1], open["coordinates"][0][1],
            "closed rings are untouched"
        );
        // An integer first position equals its float last one.
        let closed = json!({"type": "Polygon", "coordinates": [[[0, 0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]});
        let back = from_wkb(&to_wkb(&closed).unwrap()).unwrap();
        assert_eq!(back["coordinates"][0].as_array().unwrap().len(), 4);
        // LineStrings are not rings.
        let line = json!({"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]});
        assert_eq!(from_wkb(&to_wkb(&line).unwrap()).unwrap(), line);
    }

    #[test]
    fn geometries_in_boxes_crossing_the_antimeridian() {
        let split = json!({"type": "MultiPolygon", "coordinates": [
            [[[170, 0], [180, 0], [180, 5], [170, 0]]],
            [[[-180, 0], [-175, 0], [-175, 5], [-180, 0]]]]});
        assert!(fits_wrapped(&split, 170.0, -175.0));
        assert!(!fits_wrapped(&split, 171.0, -175.0), "a vertex in the gap");
        // A line from 170 to -170 the short way crosses the antimeridian;
        // one from -6 to 6 (box: all but the gap (-5, 5)) crosses the gap.
        let across = json!({"type": "LineString", "coordinates": [[170, 0], [-170, 0]]});
        assert!(fits_wrapped(&across, 170.0, -170.0));
        let gap = json!({"type": "LineString", "coordinates": [[-6, 0], [6, 0]]});
        assert!(!fits_wrapped(&gap, 5.0, -5.0));
        let in_gap = json!({"type": "LineString", "coordinates": [[175, 0], [-175, 0], [-100, 0]]});
        assert!(!fits_wrapped(&in_gap, 170.0, -170.0));
        assert!(!fits_wrapped(
            &json!({"type": "Point", "coordinates": [1.5, 2.5]}),
            170.0,
            -170.0
        ));
        assert!(fits_wrapped(
            &json!({"type": "Point", "coordinates": [175, 2.5]}),
            170.0,
            -170.0
        ));
    }

    #[test]
    fn bounds_with_z() {
        let b =
            bounds_of(&json!({"type": "LineString", "coordinates": [[0, 5, 7], [3.5, -1, -2]]}))
                .unwrap();
        assert_eq!(b.xy, [0.0, -1.0, 3.5, 5.0]);
        assert_eq!(b.z, Some((-2.0, 7.0)));
        let b = bounds_of(&json!({"type": "Point", "coordinates": [1, 2]})).unwrap();
        assert_eq!(b.z, None);
    }

    #[test]
    fn bbox_of_geometries() {
        assert_eq!(
            bbox_of(
                &json!({"type": "Polygon", "coordinates": [[[0, 5], [3.5, -1], [2, 2, 9], [0, 5]]]})
            ),
            Some([0.0, -1.0, 3.5, 5.0])
        );
        assert_eq!(
            bbox_of(
                &json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}, {"type": "Point", "coordinates": [-1, 4]}]})
            ),
            Some([-1.0, 2.0, 1.0, 4.0])
        );
        assert_eq!(bbox_of(&json!({"type": "Point", "coordinates": []})), None);
        assert_eq!(bbox_of(&json!(null)), None);
    }
}
