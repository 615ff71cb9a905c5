//! Seeded WKB test data shared by the benchmarks (no `rand` dependency).

/// SplitMix64: a tiny deterministic generator.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + unit * (hi - lo)
    }
}

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
            xy(&mut w, rng.uniform(-180.0, 180.0), rng.uniform(-90.0, 90.0));
            w
        })
        .collect()
}

/// `n` small star-shaped polygons (a few km across) with `vertices` vertices
/// each around random world centres, as little-endian ISO WKB.
pub(crate) fn polygons(rng: &mut Rng, n: usize, vertices: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let (cx, cy) = (rng.uniform(-179.0, 179.0), rng.uniform(-80.0, 80.0));
            let r = rng.uniform(1.0, 5.0) / 111.32;
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
                let a =
                    std::f64::consts::TAU * (i as f64 + rng.uniform(0.0, 0.9)) / vertices as f64;
                let rr = r * rng.uniform(0.6, 1.0);
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
