//! Cells covering a bounding box or a polygon (`QUADBIN_POLYFILL_MODE`).
//!
//! The work is done row by row of tiles: for each row the polygon is cut by
//! horizontal scanlines and the qualifying columns are computed as ranges, so
//! memory stays proportional to the number of polygon edges, whatever the
//! number of cells.

use crate::cell::{Cell, MAX_RESOLUTION, encode, tile_lat, tile_lon};
use crate::error::{Error, Result};
use crate::point::point_to_tile;

/// Which cells [`polyfill_polygon`] and [`polyfill_bbox`] keep, as in the
/// Analytics Toolbox's `QUADBIN_POLYFILL_MODE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PolyfillMode {
    /// Cells whose centre is inside the polygon or on its boundary (the
    /// default, `QUADBIN_POLYFILL`).
    #[default]
    Center,
    /// Cells that share at least one point with the polygon (a cover; cells
    /// touching it only along an edge or at a corner count).
    Intersects,
    /// Cells entirely inside the polygon (touching its boundary from inside is allowed).
    Contains,
}

impl std::str::FromStr for PolyfillMode {
    type Err = Error;

    /// Parses `center`, `intersects` or `contains` (any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "center" | "centre" => Ok(Self::Center),
            "intersects" => Ok(Self::Intersects),
            "contains" => Ok(Self::Contains),
            _ => Err(Error::Parse {
                text: crate::error::truncate(s),
                rule: "a polyfill mode is center, intersects or contains",
            }),
        }
    }
}

/// One polygon edge from `a` to `b`, as `[lon, lat]`.
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: [f64; 2],
    b: [f64; 2],
}

impl Edge {
    fn lat_range(&self) -> (f64, f64) {
        (self.a[1].min(self.b[1]), self.a[1].max(self.b[1]))
    }

    /// The longitude range of the part of the edge with latitude in `[s, n]`,
    /// or `None` when it does not reach the band.
    fn lon_range_in_band(&self, s: f64, n: f64) -> Option<(f64, f64)> {
        let (lo, hi) = self.lat_range();
        if hi < s || lo > n {
            return None;
        }
        let (a, b) = (self.a, self.b);
        if a[1] == b[1] {
            return Some((a[0].min(b[0]), a[0].max(b[0])));
        }
        let at = |lat: f64| {
            let t = ((lat - a[1]) / (b[1] - a[1])).clamp(0.0, 1.0);
            a[0] + t * (b[0] - a[0])
        };
        let (p, q) = (at(s), at(n));
        Some((p.min(q), p.max(q)))
    }
}

/// The lazy iterator of [`polyfill_polygon`] and [`polyfill_bbox`]: cells row
/// by row from north to south, west to east within a row, each once.
#[derive(Debug, Clone)]
pub struct Polyfill {
    edges: Vec<Edge>,
    mode: PolyfillMode,
    z: u8,
    n: u64,
    /// The next row to compute.
    next_row: u64,
    /// The last candidate row (inclusive); `None` when there are none.
    last_row: Option<u64>,
    /// The row being emitted and its column ranges (inclusive), in order.
    row: u64,
    ranges: Vec<(u64, u64)>,
    range_index: usize,
    next_x: u64,
    /// Scratch buffers reused from row to row.
    crossings: Vec<f64>,
    excluded: Vec<(u64, u64)>,
}

/// The cells at `resolution` covering the polygon given by `rings` (the
/// exterior first, then holes; each a list of `[lon, lat]` points in degrees,
/// closed or not), by `mode`.
///
/// The polygon is filled by the even-odd rule, so holes (and several disjoint
/// parts listed as rings) work whatever their orientation. Edges are straight
/// lines in longitude/latitude (planar, as GeoParquet's default `edges`);
/// polygons crossing the antimeridian must be split at ±180° first.
///
/// # Errors
///
/// [`Error::ResolutionOutOfRange`] above 26; [`Error::InvalidPolygon`] for no
/// rings, a ring with fewer than 3 distinct points, or a coordinate that is
/// not finite or outside ±180/±90 (naming the ring and vertex).
///
/// # Examples
///
/// ```
/// use quadbin::{PolyfillMode, polyfill_polygon};
/// // A square with a square hole, at resolution 4 (tiles of 22.5° in longitude).
/// let outer = [[-45.0, -40.0], [45.0, -40.0], [45.0, 40.0], [-45.0, 40.0]];
/// let hole = [[-20.0, -20.0], [20.0, -20.0], [20.0, 20.0], [-20.0, 20.0]];
/// let all = polyfill_polygon(&[&outer[..]], 4, PolyfillMode::Center)?.count();
/// let holed = polyfill_polygon(&[&outer[..], &hole[..]], 4, PolyfillMode::Center)?.count();
/// assert_eq!(all, 16);
/// assert_eq!(holed, 12);
/// # Ok::<(), quadbin::Error>(())
/// ```
pub fn polyfill_polygon<R: AsRef<[[f64; 2]]>>(
    rings: &[R],
    resolution: u8,
    mode: PolyfillMode,
) -> Result<Polyfill> {
    if rings.is_empty() {
        return Err(Error::InvalidPolygon {
            rule: "the polygon has no rings".into(),
        });
    }
    let mut edges = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        let mut pts = ring.as_ref();
        for (i, p) in pts.iter().enumerate() {
            if !p[0].is_finite() || !p[1].is_finite() || p[0].abs() > 180.0 || p[1].abs() > 90.0 {
                return Err(Error::InvalidPolygon {
                    rule: format!(
                        "ring {r} vertex {i} ({}, {}) is not a longitude/latitude within ±180/±90",
                        p[0], p[1]
                    ),
                });
            }
        }
        if pts.len() > 1 && pts.first() == pts.last() {
            pts = &pts[..pts.len() - 1];
        }
        // At least 3 distinct points, found in one pass (no quadratic scan).
        let distinct = pts.first().is_some_and(|&p0| {
            pts.iter()
                .find(|&&p| p != p0)
                .is_some_and(|&p1| pts.iter().any(|&p| p != p0 && p != p1))
        });
        if !distinct {
            return Err(Error::InvalidPolygon {
                rule: format!("ring {r} has fewer than 3 distinct points"),
            });
        }
        for (i, &a) in pts.iter().enumerate() {
            let b = pts[(i + 1) % pts.len()];
            if a != b {
                edges.push(Edge { a, b });
            }
        }
    }
    Polyfill::new(edges, resolution, mode)
}

/// The cells at `resolution` covering the bounding box `[west, south, east,
/// north]` in degrees, by `mode`.
///
/// When `west > east` the box crosses the antimeridian and covers
/// `[west, 180]` and `[-180, east]`.
///
/// # Errors
///
/// [`Error::ResolutionOutOfRange`] above 26; [`Error::InvalidPolygon`] for a
/// value that is not finite or outside ±180/±90, or `south > north`.
///
/// # Examples
///
/// ```
/// use quadbin::{Cell, PolyfillMode, Tile, polyfill_bbox};
/// let cells: Vec<Tile> = polyfill_bbox([-10.0, 30.0, 10.0, 45.0], 4, PolyfillMode::Intersects)?
///     .map(Cell::tile)
///     .collect();
/// assert_eq!(cells, [
///     Tile { x: 7, y: 5, z: 4 }, Tile { x: 8, y: 5, z: 4 },
///     Tile { x: 7, y: 6, z: 4 }, Tile { x: 8, y: 6, z: 4 },
/// ]);
/// # Ok::<(), quadbin::Error>(())
/// ```
pub fn polyfill_bbox(bbox: [f64; 4], resolution: u8, mode: PolyfillMode) -> Result<Polyfill> {
    let [west, south, east, north] = bbox;
    let bad = |what: &str| Error::InvalidPolygon {
        rule: format!("bounding box [{west}, {south}, {east}, {north}]: {what}"),
    };
    if bbox.iter().any(|v| !v.is_finite()) {
        return Err(bad("a value is not finite"));
    }
    if west.abs() > 180.0 || east.abs() > 180.0 || south.abs() > 90.0 || north.abs() > 90.0 {
        return Err(bad("outside ±180 longitude / ±90 latitude"));
    }
    if south > north {
        return Err(bad("south is above north"));
    }
    let rect = |w: f64, e: f64| {
        [
            Edge {
                a: [w, south],
                b: [e, south],
            },
            Edge {
                a: [e, south],
                b: [e, north],
            },
            Edge {
                a: [e, north],
                b: [w, north],
            },
            Edge {
                a: [w, north],
                b: [w, south],
            },
        ]
    };
    let mut edges = Vec::with_capacity(8);
    if west <= east {
        edges.extend(rect(west, east));
    } else {
        edges.extend(rect(west, 180.0));
        edges.extend(rect(-180.0, east));
    }
    Polyfill::new(edges, resolution, mode)
}

impl Polyfill {
    fn new(edges: Vec<Edge>, z: u8, mode: PolyfillMode) -> Result<Self> {
        if z > MAX_RESOLUTION {
            return Err(Error::ResolutionOutOfRange {
                resolution: u32::from(z),
            });
        }
        let n = 1u64 << z;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for e in &edges {
            let (a, b) = e.lat_range();
            lo = lo.min(a);
            hi = hi.max(b);
        }
        let (first, last) = if edges.is_empty() {
            (1, None)
        } else {
            // Rows of the extreme latitudes, widened by one to catch touching cells.
            let top = u64::from(point_to_tile(0.0, hi, z).1).saturating_sub(1);
            let bottom = (u64::from(point_to_tile(0.0, lo, z).1) + 1).min(n - 1);
            (top, Some(bottom))
        };
        Ok(Self {
            edges,
            mode,
            z,
            n,
            next_row: first,
            last_row: last,
            row: 0,
            ranges: Vec::new(),
            range_index: 0,
            next_x: 0,
            crossings: Vec::new(),
            excluded: Vec::new(),
        })
    }

    /// The resolution of the cells.
    #[must_use]
    pub fn resolution(&self) -> u8 {
        self.z
    }

    /// Fills `self.crossings` with the sorted longitudes where the polygon
    /// boundary crosses latitude `lat` (half-open rule, so pairs are inside runs).
    fn scanline(&mut self, lat: f64) {
        self.crossings.clear();
        for e in &self.edges {
            let (a, b) = (e.a, e.b);
            if (a[1] > lat) != (b[1] > lat) {
                self.crossings
                    .push(a[0] + (lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        self.crossings.sort_by(f64::total_cmp);
    }

    /// Computes the column ranges of `row` into `self.ranges`.
    fn compute_row(&mut self, row: u64) {
        let nf = self.n as f64;
        let y = row as f64;
        let (south, north, centre) = (
            tile_lat(y + 1.0, nf),
            tile_lat(y, nf),
            tile_lat(y + 0.5, nf),
        );
        let n = self.n;
        self.ranges.clear();
        match self.mode {
            PolyfillMode::Center => {
                self.scanline(centre);
                for pair in self.crossings.chunks_exact(2) {
                    let a = first_x(n, 0.5, pair[0], false);
                    let b = last_x(n, 0.5, pair[1], false);
                    push_range(&mut self.ranges, a, b);
                }
            }
            PolyfillMode::Intersects => {
                self.scanline(north);
                for pair in self.crossings.chunks_exact(2) {
                    let a = first_x(n, 1.0, pair[0], false);
                    let b = last_x(n, 0.0, pair[1], false);
                    push_range(&mut self.ranges, a, b);
                }
                for e in &self.edges {
                    if let Some((l, r)) = e.lon_range_in_band(south, north) {
                        let a = first_x(n, 1.0, l, false);
                        let b = last_x(n, 0.0, r, false);
                        push_range(&mut self.ranges, a, b);
                    }
                }
            }
            PolyfillMode::Contains => {
                self.scanline(centre);
                for pair in self.crossings.chunks_exact(2) {
                    let a = first_x(n, 0.5, pair[0], false);
                    let b = last_x(n, 0.5, pair[1], false);
                    push_range(&mut self.ranges, a, b);
                }
                self.excluded.clear();
                for e in &self.edges {
                    let (lo, hi) = e.lat_range();
                    if hi <= south || lo >= north {
                        continue;
                    }
                    if let Some((l, r)) = e.lon_range_in_band(south, north) {
                        // Cells whose open interior meets the edge.
                        let a = first_x(n, 1.0, l, true);
                        let b = last_x(n, 0.0, r, true);
                        push_range(&mut self.excluded, a, b);
                    }
                }
                merge(&mut self.excluded);
            }
        }
        merge(&mut self.ranges);
        if self.mode == PolyfillMode::Contains && !self.excluded.is_empty() {
            self.ranges = subtract(&self.ranges, &self.excluded);
        }
    }
}

/// The smallest column `x` with `lon(x + off) >= l` (`> l` if `strict`), or `n`.
fn first_x(n: u64, off: f64, l: f64, strict: bool) -> u64 {
    let nf = n as f64;
    let ok = |x: u64| {
        let lon = tile_lon(x as f64 + off, nf);
        if strict { lon > l } else { lon >= l }
    };
    let mut x = ((l / 360.0 + 0.5) * nf - off).floor().clamp(0.0, nf) as u64;
    while x > 0 && ok(x - 1) {
        x -= 1;
    }
    while x < n && !ok(x) {
        x += 1;
    }
    x
}

/// The largest column `x` with `lon(x + off) <= r` (`< r` if `strict`), or
/// `None` when there is none.
fn last_x(n: u64, off: f64, r: f64, strict: bool) -> Option<u64> {
    let nf = n as f64;
    let ok = |x: u64| {
        let lon = tile_lon(x as f64 + off, nf);
        if strict { lon < r } else { lon <= r }
    };
    let mut x = ((r / 360.0 + 0.5) * nf - off).floor().clamp(0.0, nf - 1.0) as u64;
    while x + 1 < n && ok(x + 1) {
        x += 1;
    }
    loop {
        if ok(x) {
            return Some(x);
        }
        x = x.checked_sub(1)?;
    }
}

fn push_range(ranges: &mut Vec<(u64, u64)>, a: u64, b: Option<u64>) {
    if let Some(b) = b.filter(|&b| a <= b) {
        ranges.push((a, b));
    }
}

/// Sorts and merges overlapping or adjacent ranges in place.
fn merge(ranges: &mut Vec<(u64, u64)>) {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(a, b) in ranges.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *ranges = out;
}

/// `keep` minus `drop`, both sorted and merged.
fn subtract(keep: &[(u64, u64)], drop: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(a, b) in keep {
        let mut start = a;
        for &(c, d) in drop {
            if d < start || c > b {
                continue;
            }
            if c > start {
                out.push((start, c - 1));
            }
            start = d.saturating_add(1);
            if start > b {
                break;
            }
        }
        if start <= b {
            out.push((start, b));
        }
    }
    out
}

impl Iterator for Polyfill {
    type Item = Cell;

    fn next(&mut self) -> Option<Cell> {
        loop {
            if let Some(&(_, b)) = self.ranges.get(self.range_index) {
                if self.next_x <= b {
                    let x = self.next_x;
                    self.next_x += 1;
                    return Some(Cell(encode(x as u32, self.row as u32, self.z)));
                }
                self.range_index += 1;
                if let Some(&(a, _)) = self.ranges.get(self.range_index) {
                    self.next_x = a;
                }
                continue;
            }
            let last = self.last_row?;
            if self.next_row > last {
                return None;
            }
            let row = self.next_row;
            self.next_row += 1;
            self.compute_row(row);
            self.row = row;
            self.range_index = 0;
            self.next_x = self.ranges.first().map_or(0, |r| r.0);
        }
    }
}
