//! WKB (ISO and extended/EWKB, either byte order) to GeoJSON geometry objects.
//!
//! Every length is checked against the bytes that remain before anything is
//! allocated, and nesting is limited, so damaged or hostile input is an error,
//! never a panic or a huge allocation.

use serde_json::{Map, Value};

/// How deeply collections may nest.
const MAX_DEPTH: usize = 64;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self
            .pos
            .checked_add(N)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| format!("unexpected end of WKB at byte {}", self.pos))?;
        let mut out = [0_u8; N];
        out.copy_from_slice(self.bytes.get(self.pos..end).unwrap_or_default());
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        let [b] = self.take::<1>()?;
        Ok(b)
    }

    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count of elements that each need at least `min_size` bytes.
    fn count(&mut self, le: bool, min_size: usize) -> Result<usize, String> {
        let n = self.u32(le)?;
        let n = usize::try_from(n).map_err(|_| format!("count {n} is too large"))?;
        if n.checked_mul(min_size)
            .is_none_or(|need| need > self.remaining())
        {
            return Err(format!(
                "count {n} at byte {} exceeds the {} bytes that remain",
                self.pos.saturating_sub(4),
                self.remaining()
            ));
        }
        Ok(n)
    }
}

/// The layout of one geometry's coordinates.
#[derive(Clone, Copy)]
struct Layout {
    le: bool,
    z: bool,
    m: bool,
}

impl Layout {
    fn size(self) -> usize {
        8 * (2 + usize::from(self.z) + usize::from(self.m))
    }
}

/// One coordinate as GeoJSON (`[x, y]` or `[x, y, z]`; M dropped), or `None`
/// when every ordinate is NaN (the WKB encoding of an empty point).
fn coordinate(cur: &mut Cursor<'_>, l: Layout) -> Result<Option<Value>, String> {
    let x = cur.f64(l.le)?;
    let y = cur.f64(l.le)?;
    let z = if l.z { Some(cur.f64(l.le)?) } else { None };
    if l.m {
        cur.f64(l.le)?;
    }
    if x.is_nan() && y.is_nan() && z.is_none_or(f64::is_nan) {
        return Ok(None);
    }
    let mut c = vec![Value::from(x), Value::from(y)];
    if let Some(z) = z {
        c.push(Value::from(z));
    }
    Ok(Some(Value::Array(c)))
}

fn coordinates(cur: &mut Cursor<'_>, l: Layout) -> Result<Value, String> {
    let n = cur.count(l.le, l.size())?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        // A NaN vertex inside a line has no GeoJSON form; it is written as nulls.
        out.push(coordinate(cur, l)?.unwrap_or_else(|| {
            let nan = if l.z { 3 } else { 2 };
            Value::Array(vec![Value::Null; nan])
        }));
    }
    Ok(Value::Array(out))
}

fn rings(cur: &mut Cursor<'_>, l: Layout) -> Result<Value, String> {
    let n = cur.count(l.le, 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(coordinates(cur, l)?);
    }
    Ok(Value::Array(out))
}

fn name(ty: u32) -> &'static str {
    geoparquet_meta::GeometryType::from_wkb_code(ty)
        .map_or("Unknown", geoparquet_meta::GeometryType::name)
}

fn object(ty: u32, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("type".to_owned(), Value::from(name(ty)));
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// Reads one geometry; returns its base type code (1 to 7) and GeoJSON.
fn geometry(cur: &mut Cursor<'_>, depth: usize) -> Result<(u32, Value), String> {
    if depth > MAX_DEPTH {
        return Err(format!("collections nest more than {MAX_DEPTH} deep"));
    }
    let start = cur.pos;
    let le = match cur.u8()? {
        0 => false,
        1 => true,
        b => return Err(format!("invalid byte order {b} at byte {start}")),
    };
    let code = cur.u32(le)?;
    // EWKB flags, then the ISO thousands.
    let mut z = code & 0x8000_0000 != 0;
    let mut m = code & 0x4000_0000 != 0;
    let srid = code & 0x2000_0000 != 0;
    let iso = code & 0x0FFF_FFFF;
    match iso / 1000 {
        0 => {}
        1 => z = true,
        2 => m = true,
        3 => (z, m) = (true, true),
        _ => return Err(format!("unknown geometry type code {code} at byte {start}")),
    }
    if srid {
        cur.u32(le)?;
    }
    let l = Layout { le, z, m };
    let base = iso % 1000;
    let value = match base {
        1 => {
            let c = coordinate(cur, l)?.unwrap_or_else(|| Value::Array(Vec::new()));
            object(base, "coordinates", c)
        }
        2 => object(base, "coordinates", coordinates(cur, l)?),
        3 => object(base, "coordinates", rings(cur, l)?),
        4..=6 => {
            let n = cur.count(le, 5)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                let (part_type, part) = geometry(cur, depth + 1)?;
                if part_type != base - 3 {
                    return Err(format!("a {} holds a {}", name(base), name(part_type)));
                }
                match part {
                    Value::Object(mut o) => match o.remove("coordinates") {
                        // An empty point has no position a MultiPoint could hold: it is left out.
                        Some(Value::Array(a)) if a.is_empty() && base == 4 => {}
                        Some(c) => parts.push(c),
                        None => {}
                    },
                    _ => return Err("internal: a part is not an object".to_owned()),
                }
            }
            object(base, "coordinates", Value::Array(parts))
        }
        7 => {
            let n = cur.count(le, 5)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                parts.push(geometry(cur, depth + 1)?.1);
            }
            object(base, "geometries", Value::Array(parts))
        }
        _ => return Err(format!("unknown geometry type code {code} at byte {start}")),
    };
    Ok((base, value))
}

/// The GeoJSON geometry object of one WKB value. Z is kept as the third
/// coordinate, M is dropped, an SRID is ignored; trailing bytes are an error.
pub(crate) fn wkb_to_geojson(bytes: &[u8]) -> Result<Value, String> {
    let mut cur = Cursor { bytes, pos: 0 };
    let (_, value) = geometry(&mut cur, 0)?;
    if cur.remaining() > 0 {
        return Err(format!(
            "{} trailing bytes after the geometry",
            cur.remaining()
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn big_endian_ewkb_point_z_with_srid() {
        let mut b = vec![0];
        b.extend_from_slice(&(0xA000_0001_u32).to_be_bytes());
        b.extend_from_slice(&4326_u32.to_be_bytes());
        for v in [1.5_f64, -2.0, 3.0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            wkb_to_geojson(&b),
            Ok(json!({"type": "Point", "coordinates": [1.5, -2.0, 3.0]}))
        );
    }

    #[test]
    fn m_is_dropped_and_empty_point_is_empty() {
        let mut b = vec![1];
        b.extend_from_slice(&2001_u32.to_le_bytes());
        for v in [1.0_f64, 2.0, 9.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(
            wkb_to_geojson(&b),
            Ok(json!({"type": "Point", "coordinates": [1.0, 2.0]}))
        );
        let mut e = vec![1, 1, 0, 0, 0];
        e.extend_from_slice(&f64::NAN.to_le_bytes());
        e.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(
            wkb_to_geojson(&e),
            Ok(json!({"type": "Point", "coordinates": []}))
        );
    }

    #[test]
    fn damaged_input_is_an_error() {
        assert!(wkb_to_geojson(&[]).is_err());
        assert!(wkb_to_geojson(&[7]).is_err());
        // A line claiming u32::MAX points.
        assert!(wkb_to_geojson(&[1, 2, 0, 0, 0, 255, 255, 255, 255]).is_err());
        // Deeply nested collections.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[1, 7, 0, 0, 0, 1, 0, 0, 0]);
        }
        assert!(wkb_to_geojson(&deep).is_err());
        // Trailing bytes.
        let mut t = vec![1, 7, 0, 0, 0, 0, 0, 0, 0];
        t.push(0);
        assert!(wkb_to_geojson(&t).is_err());
    }
}
