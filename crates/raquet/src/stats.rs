//! Exact streaming statistics: count, min, max, sum, mean and population variance,
//! mergeable (Chan et al.) so that per-tile results pool exactly.

/// Running statistics over valid values.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunningStats {
    pub(crate) count: u64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
    pub(crate) sum: f64,
}

impl RunningStats {
    pub(crate) fn add(&mut self, v: f64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        self.sum += v;
        let d = v - self.mean;
        let n = self.count as f64;
        self.mean += d / n;
        self.m2 += d * (v - self.mean);
    }

    /// The statistics of the finite values of a slice, in two passes (sum, then the
    /// squared deviations from the mean): as exact as Welford's, without a division per
    /// value. Each pass keeps four partial sums (summed pairwise at the end), so that
    /// the additions do not wait on one another.
    pub(crate) fn from_slice(values: &[f64]) -> RunningStats {
        const L: usize = 4;
        let mut count = [0u64; L];
        let mut sum = [0.0f64; L];
        let mut min = [f64::INFINITY; L];
        let mut max = [f64::NEG_INFINITY; L];
        let chunks = values.chunks_exact(L);
        let tail = chunks.remainder();
        let mut take = |k: usize, v: f64| {
            let ok = v.is_finite();
            count[k] += u64::from(ok);
            sum[k] += if ok { v } else { 0.0 };
            min[k] = if ok { min[k].min(v) } else { min[k] };
            max[k] = if ok { max[k].max(v) } else { max[k] };
        };
        for c in chunks {
            for (k, v) in c.iter().enumerate() {
                take(k, *v);
            }
        }
        for (k, v) in tail.iter().enumerate() {
            take(k, *v);
        }
        let count: u64 = count.iter().sum();
        if count == 0 {
            return RunningStats::default();
        }
        let sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        let mean = sum / count as f64;
        let mut m2 = [0.0f64; L];
        let mut dev = |k: usize, v: f64| {
            let d = v - mean;
            m2[k] += if v.is_finite() { d * d } else { 0.0 };
        };
        let chunks = values.chunks_exact(L);
        for c in chunks {
            for (k, v) in c.iter().enumerate() {
                dev(k, *v);
            }
        }
        for (k, v) in tail.iter().enumerate() {
            dev(k, *v);
        }
        RunningStats {
            count,
            min: min.iter().copied().fold(f64::INFINITY, f64::min),
            max: max.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            m2: (m2[0] + m2[1]) + (m2[2] + m2[3]),
            sum,
        }
    }

    pub(crate) fn merge(&mut self, o: &RunningStats) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.count as f64, o.count as f64);
        let n = na + nb;
        let d = o.mean - self.mean;
        self.m2 += o.m2 + d * d * na * nb / n;
        self.mean += d * nb / n;
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Population standard deviation.
    pub(crate) fn stddev(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            let n = self.count as f64;
            (self.m2 / n).max(0.0).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_equals_direct() {
        let a: Vec<f64> = (0..1000).map(|i| f64::from(i % 37) * 1.5).collect();
        let mut all = RunningStats::default();
        a.iter().for_each(|v| all.add(*v));
        let mut left = RunningStats::default();
        let mut right = RunningStats::default();
        a[..300].iter().for_each(|v| left.add(*v));
        a[300..].iter().for_each(|v| right.add(*v));
        left.merge(&right);
        assert_eq!(left.count, 1000);
        assert!((left.mean - all.mean).abs() < 1e-12);
        assert!((left.stddev() - all.stddev()).abs() < 1e-12);
        let mean = a.iter().sum::<f64>() / 1000.0;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 1000.0;
        assert!((all.stddev() - var.sqrt()).abs() < 1e-9);
        let two = RunningStats::from_slice(&a);
        assert_eq!((two.count, two.min, two.max), (all.count, all.min, all.max));
        assert!((two.mean - all.mean).abs() < 1e-12 && (two.stddev() - all.stddev()).abs() < 1e-9);
        let mut with_nan = a.clone();
        with_nan.push(f64::NAN);
        assert_eq!(RunningStats::from_slice(&with_nan).count, 1000);
        assert_eq!(RunningStats::from_slice(&[f64::NAN]).count, 0);
    }
}
