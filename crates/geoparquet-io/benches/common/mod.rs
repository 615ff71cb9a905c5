//! Seeded WKB test data shared by the benchmarks (no `rand` dependency).

pub(crate) use test_support::Rng;

fn header(out: &mut Vec<u8>, code: u32) {
    out.push(1);
    out.extend_from_slice(&code.to_le_bytes());
}

fn xy(out: &mut Vec<u8>, x: f64, y: f64) {
    out.extend_from_slice(&x.to_le_bytes());
    out.extend_from_slice(&y.to_le_bytes());
}

/// `n` random world points as little-endian ISO WKB.
pub(crate) fn points(rng: &mut Rng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let mut w = Vec::with_capacity(21);
            header(&mut w, 1);
            xy(&mut w, rng.range(-180.0, 180.0), rng.range(-90.0, 90.0));
            w
        })
        .collect()
}

/// `n` small star-shaped polygons (a few km across) with `vertices` vertices
/// each around random world centres, as little-endian ISO WKB.
pub(crate) fn polygons(rng: &mut Rng, n: usize, vertices: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let (cx, cy) = (rng.range(-179.0, 179.0), rng.range(-80.0, 80.0));
            let r = rng.range(1.0, 5.0) / 111.32;
            let mut w = Vec::with_capacity(13 + 16 * (vertices + 1));
            header(&mut w, 3);
            w.extend_from_slice(&1u32.to_le_bytes());
            w.extend_from_slice(
                &u32::try_from(vertices + 1)
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
            let mut first = None;
            for i in 0..vertices {
                let a = std::f64::consts::TAU * (i as f64 + rng.range(0.0, 0.9)) / vertices as f64;
                let rr = r * rng.range(0.6, 1.0);
                let p = (cx + rr * a.cos(), cy + rr * a.sin());
                first.get_or_insert(p);
                xy(&mut w, p.0, p.1);
            }
            if let Some((x, y)) = first {
                xy(&mut w, x, y);
            }
            w
        })
        .collect()
}
