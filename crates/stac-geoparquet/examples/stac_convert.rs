//! `stac_convert to-parquet IN.. OUT` / `stac_convert to-ndjson IN OUT`: the
//! library's two directions as a small command-line program, a starting point
//! for a converter of your own (and what we profile; the `geoquet stac` command
//! adds URLs, standard input, search and progress). See `items_round_trip.rs`
//! for the API step by step.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use stac_geoparquet::{ReadOptions, Source, WriterOptions, write_ndjson, write_parquet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "to-parquet" && rest.len() >= 2 => {
            let (out, inputs) = rest.split_last().ok_or("IN.. OUT")?;
            let sources: Vec<Source> = inputs
                .iter()
                .map(|p| Source::Path(PathBuf::from(p)))
                .collect();
            let s = write_parquet(&sources, out, &WriterOptions::default())?;
            eprintln!("{} items, {} row groups", s.items, s.row_groups);
        }
        Some((cmd, rest)) if cmd == "to-ndjson" && rest.len() == 2 => {
            let file = std::fs::File::create(&rest[1])?;
            let n = write_ndjson(&rest[0], ReadOptions::default(), file, None)?;
            eprintln!("{n} items");
        }
        _ => return Err("usage: stac_convert to-parquet IN.. OUT | to-ndjson IN OUT".into()),
    }
    Ok(())
}
