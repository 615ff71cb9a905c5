//! Property tests with a seeded generator: no panic on any `u64`, tile ⇄ cell,
//! parent of children, quadkeys, points inside their cell, siblings, k-rings
//! against a brute-force model of the toolbox, and polyfill against per-cell
//! geometric predicates.

use std::collections::{BTreeMap, BTreeSet};

use quadbin::{Cell, Direction, PolyfillMode, Tile, polyfill_bbox, polyfill_polygon};

use test_support::Rng;

/// A random tile of zoom `z`.
fn tile(rng: &mut Rng, z: u8) -> Tile {
    let n = 1u64 << z;
    Tile {
        x: u32::try_from(rng.below(n)).expect("x"),
        y: u32::try_from(rng.below(n)).expect("y"),
        z,
    }
}

/// Mostly-valid cells with random flips, to reach every validation branch.
fn index(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => rng.next_u64(),
        1 => {
            let z = u8::try_from(rng.below(27)).expect("z");
            let t = tile(rng, z);
            Cell::from_tile(t).expect("tile").get() ^ (1 << rng.below(64))
        }
        _ => {
            let z = u8::try_from(rng.below(27)).expect("z");
            Cell::from_tile(tile(rng, z)).expect("tile").get()
        }
    }
}

const DIRS: [Direction; 4] = [
    Direction::Up,
    Direction::Down,
    Direction::Left,
    Direction::Right,
];

#[test]
fn no_panic_on_any_u64() {
    let mut rng = Rng::new(1);
    let mut valid = 0;
    let specials = [0, 1, u64::MAX, i64::MAX as u64, 1 << 63, quadbin::HEADER];
    for i in 0..200_000 {
        let v = if i < specials.len() {
            specials[i]
        } else {
            index(&mut rng)
        };
        let _ = quadbin::is_valid_index(v);
        let _ = quadbin::parse_index(&v.to_string());
        let Ok(cell) = Cell::new(v) else {
            assert!(!quadbin::is_valid_cell(v));
            continue;
        };
        valid += 1;
        let z = cell.resolution();
        assert!(z <= 26);
        let t = cell.tile();
        assert_eq!(Cell::from_tile(t).expect("tile"), cell);
        assert_eq!(cell.to_string().parse::<Cell>().expect("parse"), cell);
        assert_eq!(Cell::from_quadkey(&cell.quadkey()).expect("quadkey"), cell);
        for r in 0..=27 {
            assert_eq!(cell.parent(r).is_ok(), r <= z);
            assert_eq!(cell.children(r).is_ok(), r >= z && r <= 26);
        }
        for d in DIRS {
            let _ = cell.sibling(d);
            let _ = cell.sibling_no_wrap(d);
        }
        assert!(cell.k_ring(u32::MAX).take(3).count() > 0);
        let [w, s, e, n] = cell.bbox();
        assert!(w < e && s < n);
        let [lon, lat] = cell.center();
        assert!(w < lon && lon < e && s < lat && lat < n);
    }
    assert!(valid > 100_000, "{valid}");
}

#[test]
fn tile_cell_round_trip() {
    let mut rng = Rng::new(2);
    for z in 0..=26u8 {
        for _ in 0..2_000 {
            let t = tile(&mut rng, z);
            let c = Cell::from_tile(t).expect("tile");
            assert_eq!(c.tile(), t);
            assert_eq!(c.resolution(), z);
            assert_eq!(Cell::from_quadkey(&c.quadkey()).expect("quadkey"), c);
            assert_eq!(c.quadkey().len(), usize::from(z));
        }
        let n = 1u64 << z;
        let off = u32::try_from(n).unwrap_or(u32::MAX);
        if n <= u64::from(u32::MAX) {
            assert!(Cell::from_tile(Tile { x: off, y: 0, z }).is_err());
            assert!(Cell::from_tile(Tile { x: 0, y: off, z }).is_err());
        }
    }
    assert!(Cell::from_tile(Tile { x: 0, y: 0, z: 27 }).is_err());
}

#[test]
fn parent_of_children() {
    let mut rng = Rng::new(3);
    for _ in 0..3_000 {
        let z = u8::try_from(rng.below(27)).expect("z");
        let cell = Cell::from_tile(tile(&mut rng, z)).expect("tile");
        for r in z..=(z + 3).min(26) {
            let children: Vec<Cell> = cell.children(r).expect("children").collect();
            assert_eq!(children.len(), 1 << (2 * (r - z)));
            assert!(children.windows(2).all(|w| w[0] < w[1]), "ascending");
            let t = cell.tile();
            let scale = 1u32 << (r - z);
            for c in &children {
                assert_eq!(c.resolution(), r);
                assert_eq!(c.parent(z).expect("parent"), cell);
                let ct = c.tile();
                assert_eq!((ct.x / scale, ct.y / scale), (t.x, t.y));
            }
        }
        for r in 0..=z {
            let p = cell.parent(r).expect("parent");
            let pt = p.tile();
            let t = cell.tile();
            assert_eq!(
                pt,
                Tile {
                    x: t.x >> (z - r),
                    y: t.y >> (z - r),
                    z: r
                }
            );
        }
    }
}

#[test]
fn point_lies_in_its_cell() {
    let mut rng = Rng::new(4);
    for _ in 0..100_000 {
        let lon = rng.range(-180.0, 180.0);
        let lat = rng.range(-85.0, 85.0);
        let z = u8::try_from(rng.below(27)).expect("z");
        let c = Cell::from_lonlat(lon, lat, z).expect("point");
        let [w, s, e, n] = c.bbox();
        let eps = 1e-9;
        assert!(w - eps <= lon && lon <= e + eps, "{lon} {lat} {z} {c:?}");
        assert!(s - eps <= lat && lat <= n + eps, "{lon} {lat} {z} {c:?}");
        assert_eq!(Cell::from_lonlat(lon, lat, 0).expect("z0"), Cell::WORLD);
        assert_eq!(
            c.parent(z / 2).expect("parent"),
            Cell::from_lonlat(lon, lat, z / 2).expect("coarse")
        );
    }
    // Clamping and errors.
    let c = Cell::from_lonlat(0.0, 90.0, 5).expect("pole");
    assert_eq!(c.tile().y, 0);
    let c = Cell::from_lonlat(0.0, -1e300, 5).expect("south");
    assert_eq!(c.tile().y, 31);
    assert_eq!(
        Cell::from_lonlat(f64::INFINITY, 0.0, 5)
            .expect("inf")
            .tile()
            .x,
        0
    );
    assert!(Cell::from_lonlat(f64::NAN, 0.0, 5).is_err());
    assert!(Cell::from_lonlat(0.0, 0.0, 27).is_err());
}

#[test]
fn siblings_are_inverse() {
    let mut rng = Rng::new(5);
    for _ in 0..20_000 {
        let z = u8::try_from(1 + rng.below(26)).expect("z");
        let cell = Cell::from_tile(tile(&mut rng, z)).expect("tile");
        let back = |d| match d {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
            Direction::Left => Direction::Right,
            Direction::Right => Direction::Left,
        };
        for d in DIRS {
            if let Some(s) = cell.sibling(d) {
                assert_eq!(s.sibling(back(d)), Some(cell));
                // One step, or a wrap across the antimeridian (which `distance` does not wrap).
                let d = s.distance(cell).expect("same resolution");
                assert!(d == 1 || d == (1u32 << z) - 1, "{d}");
            } else {
                assert!(matches!(d, Direction::Up | Direction::Down));
            }
            if let Some(s) = cell.sibling_no_wrap(d) {
                assert_eq!(Some(s), cell.sibling(d));
                assert_eq!(s.distance(cell), Some(1));
            }
        }
    }
    for d in DIRS {
        assert_eq!(Cell::WORLD.sibling(d), None);
        assert_eq!(Cell::WORLD.sibling_no_wrap(d), None);
    }
}

/// The toolbox's k-ring, brute force: wrap x, drop rows, distinct, min distance.
fn brute_k_ring(t: Tile, k: u32) -> BTreeMap<Cell, u32> {
    let n = 1i64 << t.z;
    let k = i64::from(k);
    let mut out = BTreeMap::new();
    for dy in -k..=k {
        for dx in -k..=k {
            let y = i64::from(t.y) + dy;
            if y < 0 || y >= n {
                continue;
            }
            let x = (i64::from(t.x) + dx).rem_euclid(n);
            let c = Cell::from_tile(Tile {
                x: u32::try_from(x).expect("x"),
                y: u32::try_from(y).expect("y"),
                z: t.z,
            })
            .expect("tile");
            let d = u32::try_from(dx.abs().max(dy.abs())).expect("d");
            let e = out.entry(c).or_insert(d);
            *e = (*e).min(d);
        }
    }
    out
}

#[test]
fn k_ring_matches_toolbox_model() {
    for z in 0..=4u8 {
        let n = 1u32 << z;
        for x in 0..n {
            for y in 0..n {
                let t = Tile { x, y, z };
                let cell = Cell::from_tile(t).expect("tile");
                for k in 0..=5 {
                    let got: Vec<(Cell, u32)> = cell.k_ring(k).collect();
                    let map: BTreeMap<Cell, u32> = got.iter().copied().collect();
                    assert_eq!(map.len(), got.len(), "distinct {t:?} k {k}");
                    assert_eq!(map, brute_k_ring(t, k), "{t:?} k {k}");
                    assert_eq!(cell.k_ring(k).len(), got.len());
                }
            }
        }
    }
    let mut rng = Rng::new(6);
    for _ in 0..500 {
        let z = u8::try_from(5 + rng.below(22)).expect("z");
        let t = tile(&mut rng, z);
        let k = u32::try_from(rng.below(4)).expect("k");
        let cell = Cell::from_tile(t).expect("tile");
        let map: BTreeMap<Cell, u32> = cell.k_ring(k).collect();
        assert_eq!(map, brute_k_ring(t, k), "{t:?} k {k}");
    }
    // A huge k stays lazy.
    let c = Cell::from_lonlat(1.0, 2.0, 26).expect("point");
    assert_eq!(c.k_ring(u32::MAX).take(5).count(), 5);
}

fn inside(rings: &[Vec<[f64; 2]>], p: [f64; 2]) -> bool {
    let mut inside = false;
    for ring in rings {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            {
                inside = !inside;
            }
        }
    }
    inside
}

fn cross(o: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

fn segments_cross(p: [f64; 2], q: [f64; 2], r: [f64; 2], s: [f64; 2]) -> bool {
    let d1 = cross(r, s, p);
    let d2 = cross(r, s, q);
    let d3 = cross(p, q, r);
    let d4 = cross(p, q, s);
    (d1 > 0.0) != (d2 > 0.0) && (d3 > 0.0) != (d4 > 0.0)
}

/// Per-cell predicates for random (general-position) polygons.
fn brute_polyfill(rings: &[Vec<[f64; 2]>], z: u8, mode: PolyfillMode) -> BTreeSet<Cell> {
    let n = 1u32 << z;
    let mut out = BTreeSet::new();
    for y in 0..n {
        for x in 0..n {
            let cell = Cell::from_tile(Tile { x, y, z }).expect("tile");
            let [w, s, e, nn] = cell.bbox();
            let corners = [[w, nn], [w, s], [e, s], [e, nn]];
            let in_rect = |p: [f64; 2]| w < p[0] && p[0] < e && s < p[1] && p[1] < nn;
            let edges_cross = rings.iter().any(|ring| {
                (0..ring.len()).any(|i| {
                    let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                    (0..4).any(|j| segments_cross(a, b, corners[j], corners[(j + 1) % 4]))
                })
            });
            let vertex_in = rings.iter().flatten().any(|&p| in_rect(p));
            let keep = match mode {
                PolyfillMode::Center => inside(rings, cell.center()),
                PolyfillMode::Intersects => {
                    vertex_in || edges_cross || corners.iter().any(|&c| inside(rings, c))
                }
                PolyfillMode::Contains => {
                    !vertex_in && !edges_cross && corners.iter().all(|&c| inside(rings, c))
                }
            };
            if keep {
                out.insert(cell);
            }
        }
    }
    out
}

fn random_ring(rng: &mut Rng, cx: f64, cy: f64, r: f64, k: usize) -> Vec<[f64; 2]> {
    // A star-shaped ring around (cx, cy): simple by construction.
    let mut angles: Vec<f64> = (0..k)
        .map(|_| rng.range(0.0, std::f64::consts::TAU))
        .collect();
    angles.sort_by(f64::total_cmp);
    angles
        .iter()
        .map(|a| {
            let rr = r * rng.range(0.3, 1.0);
            [
                (cx + rr * a.cos()).clamp(-180.0, 180.0),
                (cy + rr * a.sin()).clamp(-89.0, 89.0),
            ]
        })
        .collect()
}

#[test]
fn polyfill_matches_per_cell_predicates() {
    let mut rng = Rng::new(7);
    let mut total = [0usize; 3];
    for case in 0..300 {
        let z = u8::try_from(1 + rng.below(5)).expect("z");
        let (cx, cy) = (rng.range(-150.0, 150.0), rng.range(-70.0, 70.0));
        let r = rng.range(5.0, 60.0);
        let k = 3 + usize::try_from(rng.below(8)).expect("k");
        let mut rings = vec![random_ring(&mut rng, cx, cy, r, k)];
        if case % 3 == 0 {
            // A hole: a smaller star inside the inner radius of the outer one.
            rings.push(random_ring(&mut rng, cx, cy, r * 0.25, 3 + case % 5));
        }
        for (m, mode) in [
            PolyfillMode::Center,
            PolyfillMode::Intersects,
            PolyfillMode::Contains,
        ]
        .into_iter()
        .enumerate()
        {
            let got: Vec<Cell> = polyfill_polygon(&rings, z, mode)
                .expect("polyfill")
                .collect();
            total[m] += got.len();
            let set: BTreeSet<Cell> = got.iter().copied().collect();
            assert_eq!(set.len(), got.len(), "each cell once");
            assert_eq!(
                set,
                brute_polyfill(&rings, z, mode),
                "case {case} z {z} {mode:?} {rings:?}"
            );
        }
    }
    // The cases are not vacuous: intersects ⊇ center ⊇ contains, all non-trivial.
    assert!(
        total[1] > total[0] && total[0] > total[2] && total[2] > 100,
        "{total:?}"
    );
}

#[test]
fn polyfill_bbox_cases() {
    let tile = Tile { x: 7, y: 6, z: 4 };
    let b = tile.bounds_lonlat();
    let count = |bbox, mode| polyfill_bbox(bbox, 4, mode).expect("bbox").count();
    assert_eq!(count(b, PolyfillMode::Contains), 1);
    assert_eq!(count(b, PolyfillMode::Center), 1);
    // Touching counts for `intersects`: the tile and its 8 neighbours.
    assert_eq!(count(b, PolyfillMode::Intersects), 9);
    // The whole world.
    let world = [-180.0, -90.0, 180.0, 90.0];
    for mode in [
        PolyfillMode::Center,
        PolyfillMode::Intersects,
        PolyfillMode::Contains,
    ] {
        assert_eq!(count(world, mode), 256, "{mode:?}");
    }
    // Across the antimeridian: columns 15 and 0 only, no duplicates.
    let cells: BTreeSet<u32> =
        polyfill_bbox([170.0, -5.0, -170.0, 5.0], 4, PolyfillMode::Intersects)
            .expect("bbox")
            .map(|c| c.tile().x)
            .collect();
    assert_eq!(cells, BTreeSet::from([0, 15]));
    // Matches brute force for random boxes.
    let mut rng = Rng::new(8);
    for _ in 0..200 {
        let z = u8::try_from(1 + rng.below(5)).expect("z");
        let (w, e) = (rng.range(-180.0, 0.0), rng.range(0.0, 180.0));
        let (s, n) = (rng.range(-89.0, 0.0), rng.range(0.0, 89.0));
        let ring = vec![vec![[w, s], [e, s], [e, n], [w, n]]];
        for mode in [
            PolyfillMode::Center,
            PolyfillMode::Intersects,
            PolyfillMode::Contains,
        ] {
            let got: BTreeSet<Cell> = polyfill_bbox([w, s, e, n], z, mode)
                .expect("bbox")
                .collect();
            assert_eq!(got, brute_polyfill(&ring, z, mode), "{mode:?}");
        }
    }
    // Laziness: the world at resolution 26 is 2^52 cells.
    assert_eq!(
        polyfill_bbox(world, 26, PolyfillMode::Center)
            .expect("bbox")
            .take(3)
            .count(),
        3
    );
    // Errors name the problem.
    let err = polyfill_bbox([0.0, 10.0, 1.0, 5.0], 4, PolyfillMode::Center).unwrap_err();
    assert!(err.to_string().contains("south is above north"), "{err}");
    assert!(polyfill_bbox([f64::NAN, 0.0, 1.0, 1.0], 4, PolyfillMode::Center).is_err());
    assert!(polyfill_bbox([0.0, 0.0, 1.0, 1.0], 27, PolyfillMode::Center).is_err());
    let err = polyfill_polygon(
        &[vec![[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
        4,
        PolyfillMode::Center,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ring 0"), "{err}");
    let err = polyfill_polygon(
        &[vec![[0.0, 0.0], [1.0, 100.0], [2.0, 0.0]]],
        4,
        PolyfillMode::Center,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ring 0 vertex 1"), "{err}");
    let none: [Vec<[f64; 2]>; 0] = [];
    assert!(polyfill_polygon(&none, 4, PolyfillMode::Center).is_err());
}

#[test]
fn parse_rules() {
    let world = Cell::WORLD;
    for text in [
        "5192650370358181887",
        "0x480fffffffffffff",
        "0X480FFFFFFFFFFFFF",
        "480fffffffffffff",
        " 480fffffffffffff ",
    ] {
        assert_eq!(text.parse::<Cell>().expect(text), world, "{text}");
    }
    for text in [
        "",
        "480fff",
        "0x",
        "0x1ffffffffffffffff",
        "-1",
        "18446744073709551616",
        "48.0",
    ] {
        assert!(quadbin::parse_index(text).is_err(), "{text}");
    }
    let err = "1234".parse::<Cell>().unwrap_err();
    assert!(err.to_string().contains("header bit 62"), "{err}");
    let err = "0x49bfffffffffffff".parse::<Cell>().unwrap_err();
    assert!(err.to_string().contains("resolution"), "{err}");
    assert_eq!(format!("{world:#x}"), "0x480fffffffffffff");
    assert_eq!(
        Cell::try_from(world.get().cast_signed()).expect("i64"),
        world
    );
}

#[test]
fn batch_equals_one_by_one() {
    let mut rng = Rng::new(9);
    for z in [0u8, 1, 5, 10, 17, 22, 26] {
        let n = 1 << 10;
        let mut lons = Vec::with_capacity(n);
        let mut lats = Vec::with_capacity(n);
        for i in 0..n {
            lons.push(rng.range(-200.0, 200.0));
            lats.push(if i % 3 == 0 {
                // On a row edge of this zoom.
                let t = Tile {
                    x: 0,
                    y: u32::try_from(rng.below(1 << z)).expect("y"),
                    z,
                };
                t.bounds_lonlat()[3]
            } else {
                rng.range(-95.0, 95.0)
            });
        }
        let mut cells = vec![Cell::WORLD];
        quadbin::cells_from_lonlat(&lons, &lats, z, &mut cells).expect("batch");
        assert_eq!(cells.len(), n + 1);
        for (i, c) in cells[1..].iter().enumerate() {
            assert_eq!(
                *c,
                Cell::from_lonlat(lons[i], lats[i], z).expect("one"),
                "{i}"
            );
        }
    }
    let mut out = Vec::new();
    let err = quadbin::cells_from_lonlat(&[0.0, 1.0, 2.0], &[0.0, f64::NAN, 0.0], 4, &mut out)
        .unwrap_err();
    assert!(
        matches!(err, quadbin::Error::InvalidPoint { index: 1, .. }),
        "{err}"
    );
    assert!(out.is_empty());
    assert!(quadbin::cells_from_lonlat(&[0.0], &[], 4, &mut out).is_err());
    assert!(quadbin::cells_from_lonlat(&[0.0], &[0.0], 27, &mut out).is_err());
}
