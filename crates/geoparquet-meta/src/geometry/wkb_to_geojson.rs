//! WKB (ISO and extended/EWKB, either byte order) to GeoJSON geometry objects.
//!
//! Every length is checked against the bytes that remain before anything is
//! allocated, and nesting is limited, so damaged or hostile input is an error,
//! never a panic or a huge allocation.

use serde_json::{Map, Value};

use crate::GeometryType;
use crate::error::{Error, Result, WkbProblem};

/// How deeply collections may nest.
const MAX_DEPTH: usize = 64;

/// What a position whose every ordinate is NaN (the WKB form of an empty
/// point) becomes inside a line, ring or MultiPoint. A Point of NaN is
/// `"coordinates": []` either way.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{EmptyPositions, WkbToGeoJsonOptions, wkb_to_geojson};
/// use serde_json::json;
///
/// // LINESTRING (1 2, NaN NaN)
/// let mut wkb = vec![1u8, 2, 0, 0, 0, 2, 0, 0, 0];
/// for v in [1.0f64, 2.0, f64::NAN, f64::NAN] { wkb.extend_from_slice(&v.to_le_bytes()); }
/// let rfc = wkb_to_geojson(&wkb, WkbToGeoJsonOptions::default())?;
/// assert_eq!(rfc["coordinates"], json!([[1.0, 2.0], [null, null]]));
/// let lossless = WkbToGeoJsonOptions::default().with_empty_positions(EmptyPositions::Lossless);
/// assert_eq!(wkb_to_geojson(&wkb, lossless)?["coordinates"], json!([[1.0, 2.0], []]));
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EmptyPositions {
    /// Valid RFC 7946: a vertex of nulls (`[null, null]`) in a line or ring;
    /// an empty point of a MultiPoint is left out.
    #[default]
    Rfc7946,
    /// `[]` wherever it is, so that
    /// [`PositionDimensions::Uniform`](super::PositionDimensions::Uniform)
    /// writes the same WKB back.
    Lossless,
}

/// How [`wkb_to_geojson`] writes GeoJSON.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{EmptyPositions, WkbToGeoJsonOptions};
///
/// let options = WkbToGeoJsonOptions::default()
///     .with_keep_m(true)
///     .with_empty_positions(EmptyPositions::Lossless);
/// assert!(options.keep_m);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct WkbToGeoJsonOptions {
    /// Whether M is written as the last number of each position (`[x, y, m]`
    /// for XYM, `[x, y, z, m]` for XYZM). GeoJSON has no M: RFC 7946 readers
    /// take a third number for Z. Default: `false` (M dropped).
    pub keep_m: bool,
    /// What an all-NaN position becomes. Default: [`EmptyPositions::Rfc7946`].
    pub empty_positions: EmptyPositions,
}

impl WkbToGeoJsonOptions {
    /// Sets [`Self::keep_m`].
    #[must_use]
    pub fn with_keep_m(mut self, keep_m: bool) -> Self {
        self.keep_m = keep_m;
        self
    }

    /// Sets [`Self::empty_positions`].
    #[must_use]
    pub fn with_empty_positions(mut self, empty_positions: EmptyPositions) -> Self {
        self.empty_positions = empty_positions;
        self
    }
}

fn invalid(problem: WkbProblem) -> Error {
    Error::InvalidWkb { problem }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    options: WkbToGeoJsonOptions,
}

impl Cursor<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    #[inline]
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let Some(chunk) = self
            .pos
            .checked_add(N)
            .and_then(|end| self.bytes.get(self.pos..end))
        else {
            return Err(invalid(WkbProblem::Truncated { offset: self.pos }));
        };
        let mut out = [0_u8; N];
        out.copy_from_slice(chunk);
        self.pos += N;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        let [b] = self.take::<1>()?;
        Ok(b)
    }

    fn u32(&mut self, le: bool) -> Result<u32> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    #[inline]
    fn f64(&mut self, le: bool) -> Result<f64> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count of elements that each need at least `min_size` bytes.
    fn count(&mut self, le: bool, min_size: usize) -> Result<usize> {
        let n = self.u32(le)?;
        let too_large = || {
            invalid(WkbProblem::CountTooLarge {
                count: u64::from(n),
                offset: self.pos.saturating_sub(4),
                remaining: self.remaining(),
            })
        };
        let n = usize::try_from(n).map_err(|_| too_large())?;
        if n.checked_mul(min_size)
            .is_none_or(|need| need > self.remaining())
        {
            return Err(too_large());
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

/// One coordinate as GeoJSON (`[x, y]`, `[x, y, z]`, with M last when it is
/// kept), or `None` when every ordinate written is NaN (the WKB encoding of
/// an empty point).
fn coordinate(cur: &mut Cursor<'_>, l: Layout) -> Result<Option<Value>> {
    let x = cur.f64(l.le)?;
    let y = cur.f64(l.le)?;
    let z = if l.z { Some(cur.f64(l.le)?) } else { None };
    let m = if l.m { Some(cur.f64(l.le)?) } else { None };
    let m = m.filter(|_| cur.options.keep_m);
    if x.is_nan() && y.is_nan() && z.is_none_or(f64::is_nan) && m.is_none_or(f64::is_nan) {
        return Ok(None);
    }
    let mut c = Vec::with_capacity(4);
    c.push(Value::from(x));
    c.push(Value::from(y));
    c.extend(z.map(Value::from));
    c.extend(m.map(Value::from));
    Ok(Some(Value::Array(c)))
}

/// An all-NaN position inside a line or ring.
fn empty_vertex(cur: &Cursor<'_>, l: Layout) -> Value {
    match cur.options.empty_positions {
        EmptyPositions::Lossless => Value::Array(Vec::new()),
        // A NaN vertex inside a line has no GeoJSON form; it is written as nulls.
        EmptyPositions::Rfc7946 => {
            let n = 2 + usize::from(l.z) + usize::from(l.m && cur.options.keep_m);
            Value::Array(vec![Value::Null; n])
        }
    }
}

fn coordinates(cur: &mut Cursor<'_>, l: Layout) -> Result<Value> {
    let n = cur.count(l.le, l.size())?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let c = match coordinate(cur, l)? {
            Some(c) => c,
            None => empty_vertex(cur, l),
        };
        out.push(c);
    }
    Ok(Value::Array(out))
}

fn rings(cur: &mut Cursor<'_>, l: Layout) -> Result<Value> {
    let n = cur.count(l.le, 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(coordinates(cur, l)?);
    }
    Ok(Value::Array(out))
}

fn object(t: GeometryType, key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert("type".to_owned(), Value::from(t.name()));
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// A header: the byte order, the type and the coordinate layout (EWKB flags
/// and an SRID, which is skipped, are understood).
fn header(cur: &mut Cursor<'_>) -> Result<(GeometryType, Layout)> {
    let start = cur.pos;
    let le = match cur.u8()? {
        0 => false,
        1 => true,
        byte => {
            return Err(invalid(WkbProblem::ByteOrder {
                byte,
                offset: start,
            }));
        }
    };
    let code = cur.u32(le)?;
    let unknown = || {
        invalid(WkbProblem::UnknownTypeCode {
            code,
            offset: start,
        })
    };
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
        _ => return Err(unknown()),
    }
    let t = GeometryType::from_wkb_code(iso % 1000).ok_or_else(unknown)?;
    if srid {
        cur.u32(le)?;
    }
    Ok((t, Layout { le, z, m }))
}

/// The coordinates of a Point, `[]` when empty.
fn point(cur: &mut Cursor<'_>, l: Layout) -> Result<Value> {
    Ok(coordinate(cur, l)?.unwrap_or_else(|| Value::Array(Vec::new())))
}

/// The `"coordinates"` of one part of a multi geometry of type `outer`, or
/// `None` for an empty point of a MultiPoint that is left out.
fn part(cur: &mut Cursor<'_>, outer: GeometryType) -> Result<Option<Value>> {
    let (t, l) = header(cur)?;
    let expected = match outer {
        GeometryType::MultiPoint => GeometryType::Point,
        GeometryType::MultiLineString => GeometryType::LineString,
        _ => GeometryType::Polygon,
    };
    if t != expected {
        return Err(invalid(WkbProblem::PartType { outer, part: t }));
    }
    Ok(Some(match t {
        GeometryType::Point => match coordinate(cur, l)? {
            Some(c) => c,
            // An empty point has no position a MultiPoint could hold.
            None if cur.options.empty_positions == EmptyPositions::Rfc7946 => return Ok(None),
            None => Value::Array(Vec::new()),
        },
        GeometryType::LineString => coordinates(cur, l)?,
        _ => rings(cur, l)?,
    }))
}

/// Reads one geometry.
fn geometry(cur: &mut Cursor<'_>, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid(WkbProblem::TooDeep { limit: MAX_DEPTH }));
    }
    let (t, l) = header(cur)?;
    Ok(match t {
        GeometryType::Point => object(t, "coordinates", point(cur, l)?),
        GeometryType::LineString => object(t, "coordinates", coordinates(cur, l)?),
        GeometryType::Polygon => object(t, "coordinates", rings(cur, l)?),
        GeometryType::MultiPoint | GeometryType::MultiLineString | GeometryType::MultiPolygon => {
            let n = cur.count(l.le, 5)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                parts.extend(part(cur, t)?);
            }
            object(t, "coordinates", Value::Array(parts))
        }
        GeometryType::GeometryCollection => {
            let n = cur.count(l.le, 5)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                parts.push(geometry(cur, depth + 1)?);
            }
            object(t, "geometries", Value::Array(parts))
        }
    })
}

/// The GeoJSON geometry object of one WKB value: ISO or extended (EWKB)
/// WKB, either byte order, each part in its own. Z is the third number of a
/// position; M is dropped unless [`WkbToGeoJsonOptions::keep_m`]; an SRID is
/// ignored; a Point whose ordinates are all NaN is `"coordinates": []`.
///
/// A value that is not WKB is [`Error::InvalidWkb`] saying what is wrong at
/// which byte: an unknown byte order or type code, a count larger than the
/// bytes that remain, a multi geometry holding a part of another type,
/// collections nested more than 64 deep, bytes after the end.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::geometry::{WkbToGeoJsonOptions, wkb_to_geojson};
/// use serde_json::json;
///
/// // POINT ZM (1 2 3 4), big endian
/// let mut wkb = vec![0u8];
/// wkb.extend_from_slice(&3001u32.to_be_bytes());
/// for v in [1.0f64, 2.0, 3.0, 4.0] { wkb.extend_from_slice(&v.to_be_bytes()); }
/// let options = WkbToGeoJsonOptions::default();
/// assert_eq!(wkb_to_geojson(&wkb, options)?, json!({"type": "Point", "coordinates": [1.0, 2.0, 3.0]}));
/// let with_m = wkb_to_geojson(&wkb, options.with_keep_m(true))?;
/// assert_eq!(with_m["coordinates"], json!([1.0, 2.0, 3.0, 4.0]));
/// assert!(wkb_to_geojson(&wkb[..20], options).is_err());
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
pub fn wkb_to_geojson(bytes: &[u8], options: WkbToGeoJsonOptions) -> Result<Value> {
    let mut cur = Cursor {
        bytes,
        pos: 0,
        options,
    };
    let value = geometry(&mut cur, 0)?;
    if cur.remaining() > 0 {
        return Err(invalid(WkbProblem::TrailingBytes {
            end: cur.pos,
            len: bytes.len(),
        }));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rfc(b: &[u8]) -> Result<Value> {
        wkb_to_geojson(b, WkbToGeoJsonOptions::default())
    }

    #[test]
    fn big_endian_ewkb_point_z_with_srid() {
        let mut b = vec![0];
        b.extend_from_slice(&(0xA000_0001_u32).to_be_bytes());
        b.extend_from_slice(&4326_u32.to_be_bytes());
        for v in [1.5_f64, -2.0, 3.0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            rfc(&b).unwrap(),
            json!({"type": "Point", "coordinates": [1.5, -2.0, 3.0]})
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
            rfc(&b).unwrap(),
            json!({"type": "Point", "coordinates": [1.0, 2.0]})
        );
        let kept = wkb_to_geojson(&b, WkbToGeoJsonOptions::default().with_keep_m(true));
        assert_eq!(kept.unwrap()["coordinates"], json!([1.0, 2.0, 9.0]));
        let mut e = vec![1, 1, 0, 0, 0];
        e.extend_from_slice(&f64::NAN.to_le_bytes());
        e.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(
            rfc(&e).unwrap(),
            json!({"type": "Point", "coordinates": []})
        );
        // In a MultiPoint the empty point is left out, or kept as [].
        let mut mp = vec![1, 4, 0, 0, 0, 1, 0, 0, 0];
        mp.extend_from_slice(&e);
        assert_eq!(rfc(&mp).unwrap()["coordinates"], json!([]));
        let lossless =
            WkbToGeoJsonOptions::default().with_empty_positions(EmptyPositions::Lossless);
        assert_eq!(
            wkb_to_geojson(&mp, lossless).unwrap()["coordinates"],
            json!([[]])
        );
    }

    #[test]
    fn damaged_input_is_an_error() {
        assert!(rfc(&[]).is_err());
        assert!(rfc(&[7]).is_err());
        // A line claiming u32::MAX points.
        let huge = rfc(&[1, 2, 0, 0, 0, 255, 255, 255, 255]).unwrap_err();
        assert_eq!(
            huge.to_string(),
            "count 4294967295 at byte 5 exceeds the 0 bytes that remain"
        );
        // Deeply nested collections.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[1, 7, 0, 0, 0, 1, 0, 0, 0]);
        }
        assert!(rfc(&deep).is_err());
        // Trailing bytes.
        let mut t = vec![1, 7, 0, 0, 0, 0, 0, 0, 0];
        t.push(0);
        assert!(rfc(&t).is_err());
        // A MultiPoint holding a LineString.
        let mut mp = vec![1, 4, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            rfc(&mp).unwrap_err().to_string(),
            "a MultiPoint holds a LineString"
        );
        mp[1] = 9;
        assert_eq!(
            rfc(&mp).unwrap_err().to_string(),
            "unknown geometry type code 9 at byte 0"
        );
    }
}
