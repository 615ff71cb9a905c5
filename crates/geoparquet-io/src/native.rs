//! GeoArrow native (separated) encodings of GeoParquet 1.1: WKB to nested
//! list/struct arrays and back.
//!
//! The conversions are written here rather than through `geoarrow-array`:
//! ARCHITECTURE.md ("Decision: GeoArrow native encodings") has the figures and
//! the behaviours that crate does not keep.
//!
//! ```
//! use geoparquet_io::arrow_array::{Array, BinaryArray};
//! use geoparquet_io::meta::{Dimension, GeometryType};
//! use geoparquet_io::native;
//! use geoparquet_io::wkb_column::wkb_values;
//!
//! // POINT (1 2), then a null.
//! let mut point = vec![1u8, 1, 0, 0, 0];
//! point.extend_from_slice(&1f64.to_le_bytes());
//! point.extend_from_slice(&2f64.to_le_bytes());
//! let wkb: BinaryArray = vec![Some(point.as_slice()), None].into_iter().collect();
//!
//! let column = native::from_wkb(&wkb_values(&wkb)?, GeometryType::Point, Dimension::Xy, "geometry", 0)?;
//! assert_eq!(column.data_type(), &native::data_type(GeometryType::Point, Dimension::Xy));
//! assert!(column.is_null(1));
//! assert_eq!(native::to_wkb(column.as_ref(), GeometryType::Point, "geometry")?, wkb);
//! # Ok::<(), geoparquet_io::Error>(())
//! ```

use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, BinaryArray, Float64Array, ListArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};
use geo_traits::{
    CoordTrait, GeometryTrait, GeometryType as GT, LineStringTrait, MultiLineStringTrait,
    MultiPointTrait, MultiPolygonTrait, PointTrait, PolygonTrait,
};
use geoparquet_meta::geometry::{WkbWriter, parse_wkb};
use geoparquet_meta::{Dimension, GeometryType, GeometryTypeAndDimension};

use crate::error::{Error, Result};
use crate::wkb_column::WkbColumn;

/// Picks the one native type a column can be stored as: a single type, or a
/// type with its Multi form (stored as the Multi form), all of one dimension.
///
/// ```
/// use geoparquet_io::meta::{Dimension, GeometryType, GeometryTypeAndDimension};
/// use geoparquet_io::native::choose_type;
///
/// let declared: Vec<GeometryTypeAndDimension> =
///     vec!["Polygon Z".parse()?, "MultiPolygon Z".parse()?];
/// assert_eq!(choose_type(&declared), Some((GeometryType::MultiPolygon, Dimension::Xyz)));
/// assert_eq!(choose_type(&["Point".parse()?, "LineString".parse()?]), None);
/// # Ok::<(), geoparquet_io::meta::Error>(())
/// ```
pub fn choose_type(declared: &[GeometryTypeAndDimension]) -> Option<(GeometryType, Dimension)> {
    let first = declared.first()?;
    if declared.iter().any(|t| t.dimension != first.dimension) {
        return None;
    }
    let multi_of = |t: GeometryType| match t {
        GeometryType::Point => Some(GeometryType::MultiPoint),
        GeometryType::LineString => Some(GeometryType::MultiLineString),
        GeometryType::Polygon => Some(GeometryType::MultiPolygon),
        GeometryType::MultiPoint | GeometryType::MultiLineString | GeometryType::MultiPolygon => {
            Some(t)
        }
        GeometryType::GeometryCollection => None,
    };
    let family = multi_of(first.geometry_type)?;
    let mut has_multi = false;
    for t in declared {
        if multi_of(t.geometry_type)? != family {
            return None;
        }
        has_multi |= t.geometry_type == family;
    }
    let t = if has_multi {
        family
    } else {
        first.geometry_type
    };
    if declared.iter().any(|d| d.geometry_type != t && !has_multi) {
        return None;
    }
    Some((t, first.dimension))
}

fn coord_fields(dim: Dimension) -> Fields {
    let mut names = vec!["x", "y"];
    if dim.has_z() {
        names.push("z");
    }
    if dim.has_m() {
        names.push("m");
    }
    Fields::from(
        names
            .into_iter()
            .map(|n| Field::new(n, DataType::Float64, false))
            .collect::<Vec<_>>(),
    )
}

fn list_of(name: &str, inner: DataType) -> DataType {
    DataType::List(Arc::new(Field::new(name, inner, false)))
}

/// Nesting depth (list levels) of each native type.
fn depth(t: GeometryType) -> usize {
    match t {
        GeometryType::Point | GeometryType::GeometryCollection => 0,
        GeometryType::LineString | GeometryType::MultiPoint => 1,
        GeometryType::Polygon | GeometryType::MultiLineString => 2,
        GeometryType::MultiPolygon => 3,
    }
}

fn level_names(t: GeometryType) -> &'static [&'static str] {
    match t {
        GeometryType::LineString => &["vertices"],
        GeometryType::MultiPoint => &["points"],
        GeometryType::Polygon => &["rings", "vertices"],
        GeometryType::MultiLineString => &["linestrings", "vertices"],
        GeometryType::MultiPolygon => &["polygons", "rings", "vertices"],
        GeometryType::Point | GeometryType::GeometryCollection => &[],
    }
}

/// The Arrow type of a native column: a struct of `x`, `y`[, `z`][, `m`]
/// doubles inside the encoding's list levels (`vertices`, `rings`, `polygons`, …),
/// nothing nullable below the top level.
///
/// ```
/// use geoparquet_io::arrow_schema::DataType;
/// use geoparquet_io::meta::{Dimension, GeometryType};
/// use geoparquet_io::native::data_type;
///
/// let DataType::List(rings) = data_type(GeometryType::Polygon, Dimension::Xy) else {
///     unreachable!()
/// };
/// assert_eq!(rings.name(), "rings");
/// ```
pub fn data_type(t: GeometryType, dim: Dimension) -> DataType {
    let mut dt = DataType::Struct(coord_fields(dim));
    for name in level_names(t).iter().rev() {
        dt = list_of(name, dt);
    }
    dt
}

/// Collected coordinates and offsets for up to three list levels.
struct Parts<'c> {
    coords: [Vec<f64>; 4],
    offsets: Vec<Vec<i32>>,
    dim: Dimension,
    column: &'c str,
}

impl<'c> Parts<'c> {
    fn new(levels: usize, dim: Dimension, column: &'c str) -> Self {
        Self {
            coords: Default::default(),
            offsets: (0..levels).map(|_| vec![0]).collect(),
            dim,
            column,
        }
    }

    fn push_coord<C: CoordTrait<T = f64>>(&mut self, c: &C) {
        let (zi, mi) = match self.dim {
            Dimension::Xy => (None, None),
            Dimension::Xyz => (Some(2), None),
            Dimension::Xym => (None, Some(2)),
            Dimension::Xyzm => (Some(2), Some(3)),
        };
        self.coords[0].push(c.x());
        self.coords[1].push(c.y());
        if let Some(i) = zi {
            self.coords[2].push(c.nth(i).unwrap_or(f64::NAN));
        }
        if let Some(i) = mi {
            self.coords[3].push(c.nth(i).unwrap_or(f64::NAN));
        }
    }

    fn push_empty_coord(&mut self) {
        self.coords[0].push(f64::NAN);
        self.coords[1].push(f64::NAN);
        if self.dim.has_z() {
            self.coords[2].push(f64::NAN);
        }
        if self.dim.has_m() {
            self.coords[3].push(f64::NAN);
        }
    }

    /// Closes the current item at `level` (its end = the current length of the level below).
    fn close(&mut self, level: usize) -> Result<()> {
        let end = if level + 1 < self.offsets.len() {
            self.offsets[level + 1].len() - 1
        } else {
            self.coords[0].len()
        };
        let end = i32::try_from(end).map_err(|_| Error::NativeTooLarge {
            column: self.column.to_owned(),
        })?;
        self.offsets[level].push(end);
        Ok(())
    }

    fn line<L: LineStringTrait<T = f64>>(&mut self, l: &L, level: usize) -> Result<()> {
        l.coords().for_each(|c| self.push_coord(&c));
        self.close(level)
    }

    fn polygon<P: PolygonTrait<T = f64>>(&mut self, p: &P, level: usize) -> Result<()> {
        for ring in p.exterior().into_iter().chain(p.interiors()) {
            self.line(&ring, level + 1)?;
        }
        self.close(level)
    }

    fn finish(self, t: GeometryType, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
        let dim = self.dim;
        let fields = coord_fields(dim);
        let [x, y, z, m] = self.coords;
        let mut children: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(x)),
            Arc::new(Float64Array::from(y)),
        ];
        if dim.has_z() {
            children.push(Arc::new(Float64Array::from(z)));
        }
        if dim.has_m() {
            children.push(Arc::new(Float64Array::from(m)));
        }
        let levels = self.offsets.len();
        let struct_nulls = if levels == 0 { nulls.clone() } else { None };
        let mut array: ArrayRef = Arc::new(StructArray::try_new(fields, children, struct_nulls)?);
        let names = level_names(t);
        for (level, offsets) in self.offsets.into_iter().enumerate().rev() {
            let field = Arc::new(Field::new(
                names.get(level).copied().unwrap_or("item"),
                array.data_type().clone(),
                false,
            ));
            let level_nulls = if level == 0 { nulls.clone() } else { None };
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            array = Arc::new(ListArray::try_new(field, offsets, array, level_nulls)?);
        }
        debug_assert_eq!(levels, depth(t));
        Ok(array)
    }
}

/// Builds the native column of type `t` and dimension `dim` from WKB values.
/// Single geometries in a Multi column become one-part Multi geometries; a
/// null or empty point holds NaN coordinates, a null list no items, and an
/// empty point inside a MultiPoint is left out. Another type or dimension is
/// [`Error::NativeGeometryMismatch`] naming `column` and the row (`base_row` +
/// index); invalid WKB is [`Error::InvalidWkb`]. See the [module](self) example.
pub fn from_wkb(
    values: &WkbColumn<'_>,
    t: GeometryType,
    dim: Dimension,
    column: &str,
    base_row: u64,
) -> Result<ArrayRef> {
    let levels = depth(t);
    let mut parts = Parts::new(levels, dim, column);
    let mut validity = Vec::with_capacity(values.len());
    for row in 0..values.len() {
        let row_no = base_row + row as u64;
        let bad = |message: String| Error::InvalidWkb {
            column: column.to_owned(),
            row: row_no,
            message,
        };
        let Some(bytes) = values.value(row) else {
            validity.push(false);
            // An empty item keeps offsets aligned.
            if levels == 0 {
                parts.push_empty_coord();
            } else {
                parts.close(0)?;
            }
            continue;
        };
        validity.push(true);
        let g = parse_wkb(bytes).map_err(|e| bad(e.to_string()))?;
        let gdim = match g.dim() {
            geo_traits::Dimensions::Xyz => Dimension::Xyz,
            geo_traits::Dimensions::Xym => Dimension::Xym,
            geo_traits::Dimensions::Xyzm => Dimension::Xyzm,
            _ => Dimension::Xy,
        };
        let mismatch = |found: GeometryType| Error::NativeGeometryMismatch {
            column: column.to_owned(),
            row: row_no,
            found: GeometryTypeAndDimension::new(found, gdim),
            expected: GeometryTypeAndDimension::new(t, dim),
        };
        let found = match g.as_type() {
            GT::Point(_) => GeometryType::Point,
            GT::LineString(_) => GeometryType::LineString,
            GT::Polygon(_) => GeometryType::Polygon,
            GT::MultiPoint(_) => GeometryType::MultiPoint,
            GT::MultiLineString(_) => GeometryType::MultiLineString,
            GT::MultiPolygon(_) => GeometryType::MultiPolygon,
            GT::GeometryCollection(_) => GeometryType::GeometryCollection,
            // The WKB reader yields only the seven ISO types.
            GT::Rect(_) | GT::Triangle(_) | GT::Line(_) => {
                return Err(Error::Internal {
                    invariant: "the WKB reader yields only the seven ISO geometry types",
                });
            }
        };
        if gdim != dim {
            return Err(mismatch(found));
        }
        match (t, g.as_type()) {
            (GeometryType::Point, GT::Point(p)) => match p.coord() {
                Some(c) => parts.push_coord(&c),
                None => parts.push_empty_coord(),
            },
            (GeometryType::LineString, GT::LineString(l)) => parts.line(l, 0)?,
            (GeometryType::Polygon, GT::Polygon(p)) => parts.polygon(p, 0)?,
            (GeometryType::MultiPoint, GT::Point(p)) => {
                if let Some(c) = p.coord() {
                    parts.push_coord(&c);
                }
                parts.close(0)?;
            }
            (GeometryType::MultiPoint, GT::MultiPoint(mp)) => {
                for p in mp.points() {
                    if let Some(c) = p.coord() {
                        parts.push_coord(&c);
                    }
                }
                parts.close(0)?;
            }
            (GeometryType::MultiLineString, GT::LineString(l)) => {
                parts.line(l, 1)?;
                parts.close(0)?;
            }
            (GeometryType::MultiLineString, GT::MultiLineString(ml)) => {
                for l in ml.line_strings() {
                    parts.line(&l, 1)?;
                }
                parts.close(0)?;
            }
            (GeometryType::MultiPolygon, GT::Polygon(p)) => {
                parts.polygon(p, 1)?;
                parts.close(0)?;
            }
            (GeometryType::MultiPolygon, GT::MultiPolygon(mp)) => {
                for p in mp.polygons() {
                    parts.polygon(&p, 1)?;
                }
                parts.close(0)?;
            }
            _ => return Err(mismatch(found)),
        }
    }
    let nulls = validity
        .iter()
        .any(|v| !v)
        .then(|| NullBuffer::from(validity));
    parts.finish(t, nulls)
}

/// Reads a native column back to WKB. `t` is the declared encoding; the
/// dimension comes from the coordinate struct's fields. List or LargeList
/// levels and Float64 or Float32 coordinates are accepted; any other layout is
/// [`Error::NativeLayout`]. See the [module](self) example.
pub fn to_wkb(array: &dyn Array, t: GeometryType, column: &str) -> Result<BinaryArray> {
    let layout = |expected: &'static str, found: String| Error::NativeLayout {
        column: column.to_owned(),
        encoding: t,
        expected,
        found,
    };
    if t == GeometryType::GeometryCollection {
        return Err(Error::NoNativeEncoding {
            column: column.to_owned(),
            geometry_type: t,
        });
    }
    // Peel list levels.
    let mut lists: Vec<(Vec<i64>, Option<NullBuffer>)> = Vec::new();
    let mut node: ArrayRef = array.slice(0, array.len());
    for _ in 0..depth(t) {
        let (offsets, nulls, values): (Vec<i64>, Option<NullBuffer>, ArrayRef) =
            match node.data_type() {
                DataType::List(_) => {
                    let l = node.as_list::<i32>();
                    (
                        l.value_offsets().iter().map(|o| i64::from(*o)).collect(),
                        l.nulls().cloned(),
                        l.values().clone(),
                    )
                }
                DataType::LargeList(_) => {
                    let l = node.as_list::<i64>();
                    (
                        l.value_offsets().to_vec(),
                        l.nulls().cloned(),
                        l.values().clone(),
                    )
                }
                other => return Err(layout("a list level", other.to_string())),
            };
        // WKB counts are u32: a level of more items cannot be written.
        if u32::try_from(values.len()).is_err() {
            return Err(Error::NativeTooLarge {
                column: column.to_owned(),
            });
        }
        lists.push((offsets, nulls));
        node = values;
    }
    let DataType::Struct(fields) = node.data_type() else {
        return Err(layout("a coordinate struct", node.data_type().to_string()));
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let dim = match names.as_slice() {
        ["x", "y"] => Dimension::Xy,
        ["x", "y", "z"] => Dimension::Xyz,
        ["x", "y", "m"] => Dimension::Xym,
        ["x", "y", "z", "m"] => Dimension::Xyzm,
        other => {
            return Err(layout(
                "coordinate fields x, y[, z][, m]",
                format!("{other:?}"),
            ));
        }
    };
    let st = node.as_struct();
    let mut coords: Vec<Float64Array> = Vec::new();
    for c in st.columns() {
        let c = arrow_cast_f64(c.as_ref())
            .ok_or_else(|| layout("DOUBLE coordinates", c.data_type().to_string()))?;
        coords.push(c);
    }
    let outer_nulls = match lists.first() {
        Some((_, n)) => n.clone(),
        None => st.nulls().cloned(),
    };
    let n_rows = array.len();
    let mut out = BinaryBuilder::with_capacity(n_rows, n_rows * 21);
    let mut buf: Vec<u8> = Vec::new();
    // The coordinate columns by role (the struct's fields decided `dim`).
    let (Some(xs), Some(ys)) = (coords.first(), coords.get(1)) else {
        return Err(layout(
            "coordinate fields x, y[, z][, m]",
            format!("{names:?}"),
        ));
    };
    let (zs, ms) = match dim {
        Dimension::Xy => (None, None),
        Dimension::Xyz => (coords.get(2), None),
        Dimension::Xym => (None, coords.get(2)),
        Dimension::Xyzm => (coords.get(2), coords.get(3)),
    };
    let (xv, yv) = (xs.values(), ys.values());
    let (zv, mv) = (zs.map(|c| c.values()), ms.map(|c| c.values()));
    let coord = |w: &mut WkbWriter<'_>, i: usize| -> Result<()> {
        let (Some(x), Some(y)) = (xv.get(i), yv.get(i)) else {
            return Err(out_of_range(
                column,
                t,
                "offsets within its coordinates",
                i,
                xv.len(),
            ));
        };
        let z = zv.and_then(|v| v.get(i)).copied().unwrap_or(f64::NAN);
        let m = mv.and_then(|v| v.get(i)).copied().unwrap_or(f64::NAN);
        w.coord(*x, *y, z, m);
        Ok(())
    };
    // Coordinates a..b at once (one bounds check, one reservation).
    let coords = |w: &mut WkbWriter<'_>, a: usize, b: usize| -> Result<()> {
        let (Some(x), Some(y)) = (xv.get(a..b), yv.get(a..b)) else {
            return Err(out_of_range(
                column,
                t,
                "offsets within its coordinates",
                b,
                xv.len(),
            ));
        };
        let z = zv.and_then(|v| v.get(a..b));
        let m = mv.and_then(|v| v.get(a..b));
        w.coords(x, y, z, m);
        Ok(())
    };
    let range = |level: usize, i: usize| -> Result<(usize, usize)> {
        let offs = &lists[level].0;
        match (offs.get(i), offs.get(i + 1)) {
            (Some(a), Some(b)) if *a >= 0 && b >= a => Ok((*a as usize, *b as usize)),
            _ => Err(out_of_range(
                column,
                t,
                "offsets within its list levels",
                i,
                offs.len(),
            )),
        }
    };
    // A count is at most the length of the level below, checked to fit WKB's u32 once above.
    let count = |w: &mut WkbWriter<'_>, n: usize| w.count_u32(u32::try_from(n).unwrap_or(u32::MAX));
    for row in 0..n_rows {
        if outer_nulls.as_ref().is_some_and(|n| n.is_null(row)) {
            out.append_null();
            continue;
        }
        buf.clear();
        let w = &mut WkbWriter::new(&mut buf, dim);
        match t {
            GeometryType::Point => {
                w.header(GeometryType::Point);
                coord(w, row)?;
            }
            GeometryType::LineString | GeometryType::MultiPoint => {
                let (a, b) = range(0, row)?;
                w.header(t);
                count(w, b - a);
                if t == GeometryType::LineString {
                    coords(w, a, b)?;
                } else {
                    for i in a..b {
                        w.header(GeometryType::Point);
                        coord(w, i)?;
                    }
                }
            }
            GeometryType::Polygon | GeometryType::MultiLineString => {
                let (a, b) = range(0, row)?;
                w.header(t);
                count(w, b - a);
                for part in a..b {
                    let (c0, c1) = range(1, part)?;
                    if t == GeometryType::MultiLineString {
                        w.header(GeometryType::LineString);
                    }
                    count(w, c1 - c0);
                    coords(w, c0, c1)?;
                }
            }
            GeometryType::MultiPolygon => {
                let (a, b) = range(0, row)?;
                w.header(t);
                count(w, b - a);
                for poly in a..b {
                    let (r0, r1) = range(1, poly)?;
                    w.header(GeometryType::Polygon);
                    count(w, r1 - r0);
                    for ring in r0..r1 {
                        let (c0, c1) = range(2, ring)?;
                        count(w, c1 - c0);
                        coords(w, c0, c1)?;
                    }
                }
            }
            GeometryType::GeometryCollection => {
                return Err(Error::NoNativeEncoding {
                    column: column.to_owned(),
                    geometry_type: t,
                });
            }
        }
        out.append_value(&buf);
    }
    Ok(out.finish())
}

/// The error of an offset beyond what it indexes (out of the hot loops).
#[cold]
#[inline(never)]
fn out_of_range(
    column: &str,
    encoding: GeometryType,
    expected: &'static str,
    index: usize,
    len: usize,
) -> Error {
    Error::NativeLayout {
        column: column.to_owned(),
        encoding,
        expected,
        found: format!("index {index} of {len}"),
    }
}

fn arrow_cast_f64(a: &dyn Array) -> Option<Float64Array> {
    match a.data_type() {
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().clone()),
        DataType::Float32 => Some(
            a.as_primitive::<arrow_array::types::Float32Type>()
                .unary::<_, Float64Type>(f64::from),
        ),
        _ => None,
    }
}

/// The native type a column's Arrow type has, from its nesting (for files
/// whose metadata does not say: empty `geometry_types` with a native
/// encoding is resolved through the encoding name, this is the check).
///
/// ```
/// use geoparquet_io::meta::{Dimension, GeometryType};
/// use geoparquet_io::native::{data_type, nesting_depth};
///
/// assert_eq!(nesting_depth(&data_type(GeometryType::MultiPolygon, Dimension::Xy)), 3);
/// assert_eq!(nesting_depth(&data_type(GeometryType::Point, Dimension::Xy)), 0);
/// ```
pub fn nesting_depth(dt: &DataType) -> usize {
    match dt {
        DataType::List(f) | DataType::LargeList(f) => 1 + nesting_depth(f.data_type()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wkb_column::wkb_values;

    fn wkb_of(code: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend_from_slice(&code.to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    fn le(xs: &[f64]) -> Vec<u8> {
        xs.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn u(n: u32) -> Vec<u8> {
        n.to_le_bytes().to_vec()
    }

    #[test]
    fn round_trip_every_type() {
        let point = wkb_of(1, &le(&[1., 2.]));
        let line = wkb_of(2, &[u(2), le(&[0., 0., 1., 1.])].concat());
        let ring = [u(4), le(&[0., 0., 1., 0., 1., 1., 0., 0.])].concat();
        let poly = wkb_of(3, &[u(1), ring.clone()].concat());
        let mpoly = wkb_of(6, &[u(2), poly.clone(), poly.clone()].concat());
        let mline = wkb_of(5, &[u(1), line.clone()].concat());
        let mpoint = wkb_of(4, &[u(2), point.clone(), point.clone()].concat());
        for (t, values) in [
            (GeometryType::Point, vec![Some(point.clone()), None]),
            (
                GeometryType::LineString,
                vec![Some(line.clone()), None, Some(line.clone())],
            ),
            (GeometryType::Polygon, vec![Some(poly.clone()), None]),
            (
                GeometryType::MultiPolygon,
                vec![Some(mpoly.clone()), None, Some(mpoly.clone())],
            ),
            (GeometryType::MultiLineString, vec![Some(mline.clone())]),
            (GeometryType::MultiPoint, vec![Some(mpoint.clone()), None]),
        ] {
            let arr: BinaryArray = values.iter().map(|v| v.as_deref()).collect();
            let col = wkb_values(&arr).unwrap();
            let native = from_wkb(&col, t, Dimension::Xy, "g", 0).unwrap();
            assert_eq!(native.data_type(), &data_type(t, Dimension::Xy));
            let back = to_wkb(native.as_ref(), t, "g").unwrap();
            assert_eq!(back, arr, "{t:?}");
        }
        // Promotion of a single polygon into a MultiPolygon column.
        let arr: BinaryArray = vec![Some(poly.as_slice())].into_iter().collect();
        let native = from_wkb(
            &wkb_values(&arr).unwrap(),
            GeometryType::MultiPolygon,
            Dimension::Xy,
            "g",
            0,
        )
        .unwrap();
        let back = to_wkb(native.as_ref(), GeometryType::MultiPolygon, "g").unwrap();
        assert_eq!(back.value(0), wkb_of(6, &[u(1), poly].concat()).as_slice());
        // A line in a point column is an error naming the row.
        let arr: BinaryArray = vec![Some(line.as_slice())].into_iter().collect();
        let err = from_wkb(
            &wkb_values(&arr).unwrap(),
            GeometryType::Point,
            Dimension::Xy,
            "g",
            7,
        )
        .unwrap_err();
        assert!(err.to_string().contains("row 7"), "{err}");
    }

    #[test]
    fn choose() {
        let p = |s: &str| s.parse::<GeometryTypeAndDimension>().unwrap();
        assert_eq!(
            choose_type(&[p("Polygon"), p("MultiPolygon")]),
            Some((GeometryType::MultiPolygon, Dimension::Xy))
        );
        assert_eq!(
            choose_type(&[p("Point Z")]),
            Some((GeometryType::Point, Dimension::Xyz))
        );
        assert_eq!(choose_type(&[p("Point"), p("LineString")]), None);
        assert_eq!(choose_type(&[p("Point"), p("Point Z")]), None);
        assert_eq!(choose_type(&[]), None);
        assert_eq!(choose_type(&[p("GeometryCollection")]), None);
    }
}
