//! GeoArrow native (separated) encodings, `geoparquet_io::native`: the exact
//! arrays written for every type and dimension (they decide the bytes of a
//! GeoParquet 1.1 GeoArrow file), WKB ⇄ native round trips, what a column
//! accepts on reading (List/LargeList, Float32 coordinates, slices) and the
//! typed errors for what it cannot hold.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, Float32Array, Float64Array, Int32Array, LargeListArray,
    ListArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};
use geoparquet_io::Error;
use geoparquet_io::meta::{Dimension, GeometryType, GeometryTypeAndDimension};
use geoparquet_io::native::{data_type, from_wkb, to_wkb};
use geoparquet_io::wkb_column::wkb_values;

const DIMS: [Dimension; 4] = [
    Dimension::Xy,
    Dimension::Xyz,
    Dimension::Xym,
    Dimension::Xyzm,
];

/// A little-endian ISO WKB writer for the test inputs (independent of the crate's).
struct W(Vec<u8>, Dimension);

impl W {
    fn new(dim: Dimension) -> Self {
        W(Vec::new(), dim)
    }
    fn header(&mut self, t: GeometryType) -> &mut Self {
        self.0.push(1);
        let code = GeometryTypeAndDimension::new(t, self.1).wkb_code();
        self.0.extend_from_slice(&code.to_le_bytes());
        self
    }
    fn count(&mut self, n: u32) -> &mut Self {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }
    /// One vertex: x, y, then z and/or m derived from x.
    fn coord(&mut self, x: f64, y: f64) -> &mut Self {
        let mut vals = vec![x, y];
        if self.1.has_z() {
            vals.push(x + 100.0);
        }
        if self.1.has_m() {
            vals.push(x + 1000.0);
        }
        for v in vals {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        self
    }
    fn empty_coord(&mut self) -> &mut Self {
        for _ in 0..self.1.size() {
            self.0.extend_from_slice(&f64::NAN.to_le_bytes());
        }
        self
    }
    fn ring(&mut self, pts: &[(f64, f64)]) -> &mut Self {
        self.count(pts.len() as u32);
        for (x, y) in pts {
            self.coord(*x, *y);
        }
        self
    }
    fn done(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

const SQUARE: [(f64, f64); 5] = [(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)];
const HOLE: [(f64, f64); 4] = [(1., 1.), (2., 1.), (1., 2.), (1., 1.)];

fn point(d: Dimension, x: f64, y: f64) -> Vec<u8> {
    W::new(d).header(GeometryType::Point).coord(x, y).done()
}
fn point_empty(d: Dimension) -> Vec<u8> {
    W::new(d).header(GeometryType::Point).empty_coord().done()
}
fn line(d: Dimension, pts: &[(f64, f64)]) -> Vec<u8> {
    W::new(d).header(GeometryType::LineString).ring(pts).done()
}
fn polygon(d: Dimension, rings: &[&[(f64, f64)]]) -> Vec<u8> {
    let mut w = W::new(d);
    w.header(GeometryType::Polygon).count(rings.len() as u32);
    for r in rings {
        w.ring(r);
    }
    w.done()
}
fn multi(d: Dimension, t: GeometryType, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut w = W::new(d);
    w.header(t).count(parts.len() as u32);
    let mut v = w.done();
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

fn binary(values: &[Option<Vec<u8>>]) -> BinaryArray {
    values.iter().map(|v| v.as_deref()).collect()
}

/// WKB values of one column, `None` for null.
type Values = Vec<Option<Vec<u8>>>;

/// WKB values of one column of type `t` (with a null, empties and, for Multi
/// types, single geometries promoted), and the WKB read back from the native column.
fn column_of(t: GeometryType, d: Dimension) -> (Values, Values) {
    use GeometryType as G;
    let p = |x, y| point(d, x, y);
    let l = || line(d, &[(0., 0.), (1., 1.), (2., 0.)]);
    let poly = || polygon(d, &[&SQUARE, &HOLE]);
    match t {
        G::Point => {
            let v = vec![
                Some(p(1., 2.)),
                None,
                Some(point_empty(d)),
                Some(p(-3., 4.5)),
            ];
            (v.clone(), v)
        }
        G::LineString => {
            let v = vec![Some(l()), None, Some(line(d, &[])), Some(l())];
            (v.clone(), v)
        }
        G::Polygon => {
            let v = vec![Some(poly()), None, Some(polygon(d, &[])), Some(poly())];
            (v.clone(), v)
        }
        G::MultiPoint => {
            let mp = multi(d, t, &[p(1., 2.), p(3., 4.)]);
            (
                vec![
                    Some(mp.clone()),
                    None,
                    Some(p(5., 6.)),
                    Some(multi(d, t, &[])),
                ],
                vec![
                    Some(mp),
                    None,
                    Some(multi(d, t, &[p(5., 6.)])),
                    Some(multi(d, t, &[])),
                ],
            )
        }
        G::MultiLineString => {
            let ml = multi(d, t, &[l(), line(d, &[(5., 5.), (6., 6.)])]);
            (
                vec![Some(ml.clone()), Some(l()), None, Some(multi(d, t, &[]))],
                vec![
                    Some(ml),
                    Some(multi(d, t, &[l()])),
                    None,
                    Some(multi(d, t, &[])),
                ],
            )
        }
        G::MultiPolygon => {
            let mp = multi(d, t, &[poly(), polygon(d, &[&SQUARE])]);
            (
                vec![Some(poly()), None, Some(mp.clone()), Some(multi(d, t, &[]))],
                vec![
                    Some(multi(d, t, &[poly()])),
                    None,
                    Some(mp),
                    Some(multi(d, t, &[])),
                ],
            )
        }
        G::GeometryCollection => unreachable!(),
    }
}

const NATIVE: [GeometryType; 6] = [
    GeometryType::Point,
    GeometryType::LineString,
    GeometryType::Polygon,
    GeometryType::MultiPoint,
    GeometryType::MultiLineString,
    GeometryType::MultiPolygon,
];

#[test]
fn every_type_and_dimension_round_trips() {
    for t in NATIVE {
        for d in DIMS {
            let (input, expected) = column_of(t, d);
            let wkb = binary(&input);
            let native = from_wkb(&wkb_values(&wkb).unwrap(), t, d, "geometry", 0).unwrap();
            assert_eq!(native.data_type(), &data_type(t, d), "{t:?} {d:?}");
            assert_eq!(native.len(), input.len());
            for (row, v) in input.iter().enumerate() {
                assert_eq!(native.is_null(row), v.is_none(), "{t:?} {d:?} row {row}");
            }
            let back = to_wkb(native.as_ref(), t, "geometry").unwrap();
            assert_eq!(back, binary(&expected), "{t:?} {d:?}");
        }
    }
}

/// The layout GeoParquet 1.1 prescribes, field names and nullability included.
#[test]
fn data_types_are_the_geoarrow_ones() {
    let xyz = DataType::Struct(Fields::from(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
        Field::new("z", DataType::Float64, false),
    ]));
    let list =
        |name: &str, inner: DataType| DataType::List(Arc::new(Field::new(name, inner, false)));
    assert_eq!(data_type(GeometryType::Point, Dimension::Xyz), xyz);
    assert_eq!(
        data_type(GeometryType::MultiPolygon, Dimension::Xyz),
        list("polygons", list("rings", list("vertices", xyz.clone())))
    );
    assert_eq!(
        data_type(GeometryType::MultiLineString, Dimension::Xyz),
        list("linestrings", list("vertices", xyz.clone()))
    );
    assert_eq!(
        data_type(GeometryType::MultiPoint, Dimension::Xyz),
        list("points", xyz.clone())
    );
    assert_eq!(
        data_type(GeometryType::Polygon, Dimension::Xyz),
        list("rings", list("vertices", xyz.clone()))
    );
    let DataType::Struct(f) = data_type(GeometryType::Point, Dimension::Xym) else {
        panic!("a point is a struct");
    };
    let names: Vec<_> = f.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["x", "y", "m"]);
}

fn f64s(a: &dyn Array) -> Vec<f64> {
    a.as_primitive::<Float64Type>().values().to_vec()
}

fn same_floats(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The exact values, offsets and nulls of a point and a multipolygon column:
/// nulls and empty points hold NaN coordinates, null and empty lists hold no
/// items, a promoted polygon is a multipolygon of one part, an empty polygon a
/// polygon without rings, and an empty point inside a multipoint adds no point.
#[test]
fn exact_arrays() {
    let d = Dimension::Xy;
    let wkb = binary(&[Some(point(d, 1., 2.)), None, Some(point_empty(d))]);
    let native = from_wkb(&wkb_values(&wkb).unwrap(), GeometryType::Point, d, "g", 0).unwrap();
    let st = native.as_struct();
    assert_eq!(
        st.nulls().map(|n| n.iter().collect::<Vec<_>>()),
        Some(vec![true, false, true])
    );
    assert!(st.column(0).nulls().is_none());
    assert!(same_floats(&f64s(st.column(0)), &[1., f64::NAN, f64::NAN]));
    assert!(same_floats(&f64s(st.column(1)), &[2., f64::NAN, f64::NAN]));

    // No nulls: no validity buffer at all.
    let wkb = binary(&[Some(point(d, 1., 2.))]);
    let native = from_wkb(&wkb_values(&wkb).unwrap(), GeometryType::Point, d, "g", 0).unwrap();
    assert!(native.nulls().is_none());

    let t = GeometryType::MultiPolygon;
    let wkb = binary(&[
        Some(polygon(d, &[&SQUARE, &HOLE])),
        None,
        Some(multi(d, t, &[polygon(d, &[&HOLE]), polygon(d, &[])])),
        Some(polygon(d, &[])),
    ]);
    let native = from_wkb(&wkb_values(&wkb).unwrap(), t, d, "g", 10).unwrap();
    let polys = native.as_list::<i32>();
    assert_eq!(polys.value_offsets(), &[0, 1, 1, 3, 4]);
    assert_eq!(
        polys.nulls().map(|n| n.iter().collect::<Vec<_>>()),
        Some(vec![true, false, true, true])
    );
    let rings = polys.values().as_list::<i32>();
    assert_eq!(rings.value_offsets(), &[0, 2, 3, 3, 3]);
    assert!(rings.nulls().is_none());
    let verts = rings.values().as_list::<i32>();
    assert_eq!(verts.value_offsets(), &[0, 5, 9, 13]);
    let xy = verts.values().as_struct();
    assert!(xy.nulls().is_none());
    let xs = f64s(xy.column(0));
    assert_eq!(&xs[..5], &[0., 4., 4., 0., 0.]);
    assert_eq!(&xs[5..], &[1., 2., 1., 1., 1., 2., 1., 1.]);

    let t = GeometryType::MultiPoint;
    let wkb = binary(&[
        Some(point_empty(d)),
        Some(multi(d, t, &[point_empty(d), point(d, 7., 8.)])),
    ]);
    let native = from_wkb(&wkb_values(&wkb).unwrap(), t, d, "g", 0).unwrap();
    let pts = native.as_list::<i32>();
    assert_eq!(pts.value_offsets(), &[0, 0, 1]);
    assert_eq!(f64s(pts.values().as_struct().column(0)), [7.]);
}

fn xy_struct(xs: Vec<f64>, ys: Vec<f64>) -> StructArray {
    StructArray::new(
        Fields::from(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Float64, false),
        ]),
        vec![
            Arc::new(Float64Array::from(xs)) as ArrayRef,
            Arc::new(Float64Array::from(ys)),
        ],
        None,
    )
}

/// Reading accepts LargeList levels, Float32 coordinates and sliced arrays.
#[test]
fn reading_accepts_large_lists_floats_and_slices() {
    let d = Dimension::Xy;
    let pts = [(0., 0.), (1., 1.), (2., 0.)];
    // LargeList linestrings.
    let coords = xy_struct(vec![0., 1., 2., 9.], vec![0., 1., 0., 9.]);
    let field = Arc::new(Field::new("vertices", coords.data_type().clone(), false));
    let large = LargeListArray::new(
        field,
        OffsetBuffer::new(ScalarBuffer::from(vec![0i64, 3, 4])),
        Arc::new(coords),
        Some(NullBuffer::from(vec![true, false])),
    );
    let back = to_wkb(&large, GeometryType::LineString, "g").unwrap();
    assert_eq!(back, binary(&[Some(line(d, &pts)), None]));

    // Float32 coordinates are widened.
    let fields = Fields::from(vec![
        Field::new("x", DataType::Float32, false),
        Field::new("y", DataType::Float32, false),
    ]);
    let st = StructArray::new(
        fields,
        vec![
            Arc::new(Float32Array::from(vec![1.5f32])) as ArrayRef,
            Arc::new(Float32Array::from(vec![-2.25f32])),
        ],
        None,
    );
    let back = to_wkb(&st, GeometryType::Point, "g").unwrap();
    assert_eq!(back, binary(&[Some(point(d, 1.5, -2.25))]));

    // A slice of a native column reads as those rows.
    let (input, _) = column_of(GeometryType::MultiPolygon, d);
    let wkb = binary(&input);
    let native = from_wkb(
        &wkb_values(&wkb).unwrap(),
        GeometryType::MultiPolygon,
        d,
        "g",
        0,
    )
    .unwrap();
    let all = to_wkb(native.as_ref(), GeometryType::MultiPolygon, "g").unwrap();
    let sliced = to_wkb(native.slice(2, 2).as_ref(), GeometryType::MultiPolygon, "g").unwrap();
    assert_eq!(sliced, all.slice(2, 2));
}

/// Geometries a native column cannot hold are typed errors naming the column and row.
#[test]
fn writing_refuses_other_types_and_dimensions() {
    let d = Dimension::Xy;
    let cases = [
        // A line in a point column.
        (
            GeometryType::Point,
            d,
            line(d, &[(0., 0.), (1., 1.)]),
            "LineString",
            "Point",
        ),
        // A multipoint of one point is not demoted.
        (
            GeometryType::Point,
            d,
            multi(d, GeometryType::MultiPoint, &[point(d, 1., 1.)]),
            "MultiPoint",
            "Point",
        ),
        // A Z point in an XY column.
        (
            GeometryType::Point,
            d,
            point(Dimension::Xyz, 1., 1.),
            "Point Z",
            "Point",
        ),
        // A polygon in a multilinestring column.
        (
            GeometryType::MultiLineString,
            Dimension::Xym,
            polygon(Dimension::Xym, &[&SQUARE]),
            "Polygon M",
            "MultiLineString M",
        ),
    ];
    for (t, dim, value, found, expected) in cases {
        let wkb = binary(&[None, Some(value)]);
        let err = from_wkb(&wkb_values(&wkb).unwrap(), t, dim, "geom", 40).unwrap_err();
        let Error::NativeGeometryMismatch {
            column,
            row,
            found: f,
            expected: e,
        } = &err
        else {
            panic!("{t:?}: {err}");
        };
        assert_eq!((column.as_str(), *row), ("geom", 41));
        assert_eq!(
            (f.to_string(), e.to_string()),
            (found.into(), expected.into())
        );
        let msg = err.to_string();
        assert!(
            msg.contains("column \"geom\", row 41") && msg.contains("native"),
            "{msg}"
        );
    }
    // Invalid WKB is InvalidWkb, with the row.
    let wkb = binary(&[Some(vec![1, 1, 0, 0])]);
    let err = from_wkb(&wkb_values(&wkb).unwrap(), GeometryType::Point, d, "g", 3).unwrap_err();
    assert!(matches!(err, Error::InvalidWkb { row: 3, .. }), "{err}");
}

/// Columns whose layout does not fit the declared encoding are typed errors,
/// never panics.
#[test]
fn reading_refuses_wrong_layouts() {
    let layout = |r: Result<BinaryArray, Error>, want: &str| match r {
        Err(Error::NativeLayout {
            column, expected, ..
        }) => {
            assert_eq!(column, "g");
            assert_eq!(expected, want);
        }
        other => panic!("expected a layout error ({want}), got {other:?}"),
    };
    let pts = xy_struct(vec![0., 1.], vec![0., 1.]);
    // A struct where a list level is expected.
    layout(to_wkb(&pts, GeometryType::LineString, "g"), "a list level");
    // A list of numbers where the coordinate struct is expected.
    let numbers = ListArray::new(
        Arc::new(Field::new("vertices", DataType::Float64, false)),
        OffsetBuffer::new(ScalarBuffer::from(vec![0, 2])),
        Arc::new(Float64Array::from(vec![0., 1.])),
        None,
    );
    layout(
        to_wkb(&numbers, GeometryType::LineString, "g"),
        "a coordinate struct",
    );
    // Coordinate fields with other names.
    let ab = StructArray::new(
        Fields::from(vec![
            Field::new("a", DataType::Float64, false),
            Field::new("b", DataType::Float64, false),
        ]),
        vec![
            Arc::new(Float64Array::from(vec![0.])) as ArrayRef,
            Arc::new(Float64Array::from(vec![0.])),
        ],
        None,
    );
    layout(
        to_wkb(&ab, GeometryType::Point, "g"),
        "coordinate fields x, y[, z][, m]",
    );
    // Integer coordinates.
    let ints = StructArray::new(
        Fields::from(vec![
            Field::new("x", DataType::Int32, false),
            Field::new("y", DataType::Int32, false),
        ]),
        vec![
            Arc::new(Int32Array::from(vec![0])) as ArrayRef,
            Arc::new(Int32Array::from(vec![0])),
        ],
        None,
    );
    layout(
        to_wkb(&ints, GeometryType::Point, "g"),
        "DOUBLE coordinates",
    );
    // GeometryCollection has no native encoding.
    let err = to_wkb(&pts, GeometryType::GeometryCollection, "g").unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoNativeEncoding {
                geometry_type: GeometryType::GeometryCollection,
                ..
            }
        ),
        "{err}"
    );
}
