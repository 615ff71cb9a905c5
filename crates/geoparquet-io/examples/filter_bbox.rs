//! Copy the rows of a GeoParquet file that fall in a box into a new file.
//!
//! ```sh
//! cargo run -p geoparquet-io --example filter_bbox -- test-data/sample.parquet out.parquet -180,-90,180,90
//! ```
//!
//! Arguments: the input file, the output file, and `xmin,ymin,xmax,ymax` in the CRS of
//! the primary geometry column (`xmin > xmax` crosses the antimeridian). Row groups and
//! pages whose statistics or covering lie outside the box are never read; the rows left
//! are tested exactly against the box. The output is GeoParquet 1.1 with a bbox covering,
//! written to a temporary file and renamed into place when complete.

#![allow(clippy::print_stdout)]

use geoparquet_io::meta::BoundingBox;
use geoparquet_io::reader::{ReadOptions, open_with};
use geoparquet_io::writer::{WriterOptions, write_file};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, bbox] = args.as_slice() else {
        return Err("expected: INPUT OUTPUT xmin,ymin,xmax,ymax".into());
    };
    let numbers: Vec<f64> = bbox.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let [xmin, ymin, xmax, ymax] = numbers[..] else {
        return Err("the box needs four numbers: xmin,ymin,xmax,ymax".into());
    };

    // The reader prunes with the file's statistics, then filters rows exactly.
    let options = ReadOptions::default().with_bbox(BoundingBox::new(xmin, ymin, xmax, ymax));
    let reader = open_with(input, options)?;
    let schema = reader.schema();
    // The input's metadata (CRS, edges, …) carries over to the output.
    let metadata = reader.metadata().clone();
    let summary = write_file(
        output.as_ref(),
        schema,
        reader,
        Some(&metadata),
        &WriterOptions::default(),
    )?;
    println!("{} rows written to {output}", summary.rows);
    Ok(())
}
