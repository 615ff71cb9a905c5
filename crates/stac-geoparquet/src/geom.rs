//! GeoJSON geometry objects to ISO WKB (little endian) and back, keeping Z and
//! M, the exact geometry type, empty geometries and GeometryCollections, through
//! the workspace's geometry codec (`geoparquet_meta::geometry`); the bounds of
//! GeoJSON geometries over either JSON tree.

use geoparquet_io::meta::geometry::{
    EmptyPositions, GeoJsonToWkbOptions, PositionDimensions, WkbToGeoJsonOptions, geojson_to_wkb,
    wkb_to_geojson,
};
use serde_json::Value;

use crate::lite::Json;

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

/// The ISO WKB of a GeoJSON geometry object, through the workspace codec:
/// every position of one length, 2 or 3 numbers (GeoParquet 1.1 cannot
/// declare M values: such geometries are kept verbatim instead, see the crate
/// docs, "Lossless"); an empty position `[]` is a NaN (empty) point; open
/// polygon rings are closed (WKB readers such as GEOS, so GeoPandas and
/// Python stac-geoparquet, refuse open rings, and RFC 7946 requires closed
/// ones; the original is kept as a patch, since it does not read back equal).
pub(crate) fn to_wkb(v: &Value) -> Result<Vec<u8>, String> {
    let options = GeoJsonToWkbOptions::default()
        .with_dimensions(PositionDimensions::Uniform)
        .with_close_rings(true);
    let mut out = Vec::with_capacity(64);
    let t = geojson_to_wkb(v, options, &mut out, None).map_err(|e| e.to_string())?;
    if t.dimension.has_m() {
        return Err("positions must have 2 or 3 coordinates, not 4".to_owned());
    }
    Ok(out)
}

/// The GeoJSON geometry object of WKB (ISO or extended, either byte order),
/// through the workspace codec: M kept as the last number of a position, an
/// empty (all-NaN) position written `[]` wherever it is, so that
/// [`to_wkb`] writes the same bytes back.
pub(crate) fn from_wkb(b: &[u8]) -> Result<Value, String> {
    let options = WkbToGeoJsonOptions::default()
        .with_keep_m(true)
        .with_empty_positions(EmptyPositions::Lossless);
    wkb_to_geojson(b, options).map_err(|e| e.to_string())
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
