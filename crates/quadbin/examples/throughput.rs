//! Point → cell throughput as a whole process, for timing with `/usr/bin/time`
//! (user CPU time is steadier than wall time on a busy machine):
//!
//! ```sh
//! cargo build --release -p quadbin --example throughput
//! /usr/bin/time -f '%U s user, %e s wall' target/release/examples/throughput batch 17 30
//! /usr/bin/time -f '%U s user, %e s wall' target/release/examples/throughput none 17 30
//! ```
//!
//! Arguments: mode (`single`: `Cell::from_lonlat` in a loop; `batch`:
//! `cells_from_lonlat`; `none`: only the set-up and the loop, to subtract),
//! resolution, and passes over 1 Mi seeded random points. It prints the
//! wall-clock rate and a checksum.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use quadbin::Cell;

const N: usize = 1 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "batch".into());
    let res: u8 = args.next().map_or(17, |s| s.parse().unwrap());
    let passes: usize = args.next().map_or(30, |s| s.parse().unwrap());
    // splitmix64, seeded: every run converts the same points.
    let mut state = 42u64;
    let mut unit = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    let lons: Vec<f64> = (0..N).map(|_| unit() * 360.0 - 180.0).collect();
    let lats: Vec<f64> = (0..N).map(|_| unit() * 170.0 - 85.0).collect();
    let mut out = Vec::with_capacity(N);
    let mut sum = 0u64;
    let start = Instant::now();
    for pass in 0..passes {
        match mode.as_str() {
            "single" => {
                for (&lon, &lat) in lons.iter().zip(&lats) {
                    sum = sum.wrapping_add(Cell::from_lonlat(lon, lat, res).unwrap().get());
                }
            }
            "batch" => {
                out.clear();
                quadbin::cells_from_lonlat(&lons, &lats, res, &mut out).unwrap();
                sum = sum.wrapping_add(out[pass % N].get());
            }
            _ => {
                for (&lon, &lat) in lons.iter().zip(&lats) {
                    sum = sum.wrapping_add(black_box(lon + lat).to_bits());
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let points = (N * passes) as f64;
    println!(
        "{mode} res {res}: {points} points in {secs:.3} s wall = {:.1} M/s (checksum {sum})",
        points / secs / 1e6
    );
}
