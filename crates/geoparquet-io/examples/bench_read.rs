//! Reads a GeoParquet file to Arrow record batches, for `cargo xtask bench`.
//!
//! ```text
//! bench_read FILE [--bbox XMIN,YMIN,XMAX,YMAX] [--no-exact] [--stream] [--batch-size N]
//! ```
//!
//! By default every batch is kept in memory until the end, as
//! `pyarrow.parquet.read_table` or `geopandas.read_parquet` hold the whole
//! table; `--stream` drops each batch as soon as it is counted. `--bbox`
//! keeps the rows whose geometry intersects the box (row groups, pages, the
//! covering and the geometry itself, see `geoparquet_io::reader`);
//! `--no-exact` skips the test of the geometry itself (`ReadOptions::exact`).
//!
//! Prints one JSON object: rows, batches, in-memory Arrow bytes, the
//! `ScanStats` of the scan and `bytes_read` (= `bytes_total - bytes_skipped`,
//! the compressed bytes of the row groups that were not pruned).
//!
//! Build and run from the workspace root:
//! `cargo build --release -p geoparquet-io --example bench_read`, then
//! `target/release/examples/bench_read FILE`.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use geoparquet_io::arrow_array::RecordBatch;
use geoparquet_io::meta::BoundingBox;
use geoparquet_io::reader::{DEFAULT_BATCH_SIZE, ReadOptions, open_with};

struct Args {
    file: PathBuf,
    bbox: Option<BoundingBox>,
    stream: bool,
    exact: bool,
    batch_size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut file = None;
    let mut bbox = None;
    let mut stream = false;
    let mut exact = true;
    let mut batch_size = DEFAULT_BATCH_SIZE;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bbox" => {
                let v = it.next().ok_or("--bbox needs XMIN,YMIN,XMAX,YMAX")?;
                let n: Vec<f64> = v
                    .split(',')
                    .map(|s| s.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--bbox {v}: {e}"))?;
                let [xmin, ymin, xmax, ymax] = n[..] else {
                    return Err(format!("--bbox {v}: expected four numbers"));
                };
                bbox = Some(BoundingBox::new(xmin, ymin, xmax, ymax));
            }
            "--stream" => stream = true,
            "--no-exact" => exact = false,
            "--batch-size" => {
                let v = it.next().ok_or("--batch-size needs a number")?;
                batch_size = v.parse().map_err(|e| format!("--batch-size {v}: {e}"))?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: bench_read FILE [--bbox XMIN,YMIN,XMAX,YMAX] [--no-exact] [--stream] [--batch-size N]"
                        .into(),
                );
            }
            other if file.is_none() && !other.starts_with("--") => file = Some(PathBuf::from(a)),
            other => return Err(format!("unexpected argument {other:?} (try --help)")),
        }
    }
    Ok(Args {
        file: file.ok_or("missing FILE (try --help)")?,
        bbox,
        stream,
        exact,
        batch_size,
    })
}

fn run(args: &Args) -> Result<serde_json::Value, geoparquet_io::Error> {
    let started = Instant::now();
    let mut options = ReadOptions::default()
        .with_batch_size(args.batch_size)
        .with_exact(args.exact);
    options.bbox = args.bbox;
    let mut reader = open_with(&args.file, options)?;
    let mut kept: Vec<RecordBatch> = Vec::new();
    let (mut rows, mut batches, mut arrow_bytes) = (0u64, 0u64, 0u64);
    for batch in reader.by_ref() {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        batches += 1;
        arrow_bytes += batch.get_array_memory_size() as u64;
        if !args.stream {
            kept.push(batch);
        }
    }
    let s = reader.stats();
    Ok(serde_json::json!({
        "file": args.file.display().to_string(),
        "bbox": args.bbox.map(|b| [b.xmin, b.ymin, b.xmax, b.ymax]),
        "rows": rows,
        "batches": batches,
        "kept_batches": kept.len(),
        "arrow_bytes": arrow_bytes,
        "bytes_read": s.bytes_total.saturating_sub(s.bytes_skipped),
        "stats": {
            "row_groups_total": s.row_groups_total,
            "row_groups_read": s.row_groups_read,
            "bytes_total": s.bytes_total,
            "bytes_skipped": s.bytes_skipped,
            "rows_total": s.rows_total,
            "rows_skipped_by_pages": s.rows_skipped_by_pages,
            "rows_returned": s.rows_returned,
        },
        "elapsed_s": started.elapsed().as_secs_f64(),
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_read: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(doc) => {
            println!("{doc}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_read: {e}");
            ExitCode::FAILURE
        }
    }
}
