//! STAC Items → stac-geoparquet → Items: the crate's two directions and a search.
//!
//! Run with `cargo run -p stac-geoparquet --example items_round_trip`, or give
//! your own inputs and an output path:
//! `cargo run -p stac-geoparquet --example items_round_trip -- items.ndjson catalog/ out.parquet`.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use serde_json::{Value, json};
use stac_geoparquet::{
    DatetimeInterval, ReadOptions, Search, Source, WriterOptions, open_with, read_items,
    write_parquet,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    // A scratch directory for the sample input and output (removed at the end).
    let scratch = tempfile::tempdir()?;
    let (inputs, output) = match args.split_last() {
        Some((output, inputs)) if !inputs.is_empty() => (inputs.to_vec(), output.clone()),
        _ => {
            // No arguments: three small Items as NDJSON, one per line.
            let sample = scratch.path().join("items.ndjson");
            let mut text = String::new();
            for (i, (x, day)) in [(1.5, "01"), (8.0, "15"), (120.0, "28")].iter().enumerate() {
                let item = json!({
                    "type": "Feature",
                    "stac_version": "1.1.0",
                    "stac_extensions": [],
                    "id": format!("scene-{i}"),
                    "geometry": {"type": "Point", "coordinates": [x, 45.0]},
                    "bbox": [x, 45.0, x, 45.0],
                    "properties": {"datetime": format!("2024-06-{day}T10:30:00Z"), "eo:cloud_cover": 12.5},
                    "links": [],
                    "assets": {"data": {"href": format!("s3://bucket/scene-{i}.tif")}},
                });
                text.push_str(&item.to_string());
                text.push('\n');
            }
            std::fs::write(&sample, text)?;
            (vec![sample], scratch.path().join("items.parquet"))
        }
    };

    // 1. Items → stac-geoparquet. A source is a file (Item, ItemCollection, NDJSON,
    //    JSON array, or a Catalog/Collection whose links are followed) or a directory.
    //    The schema is inferred over all items, then the file is written atomically.
    let sources: Vec<Source> = inputs.into_iter().map(Source::Path).collect();
    let options = WriterOptions::default().with_row_group_rows(10_000);
    let summary = write_parquet(&sources, &output, &options)?;
    println!(
        "wrote {} items to {} ({} row groups, {} columns, {} patches)",
        summary.items,
        output.display(),
        summary.row_groups,
        summary.columns,
        summary.patches
    );

    // 2. stac-geoparquet → Items: the same JSON values come back (key order aside).
    let items: Vec<Value> = read_items(&output)?;
    println!("read back {} items", items.len());

    // 3. A STAC API-like search: row groups are skipped by their statistics, then
    //    each item is tested. A datetime interval is parsed from its RFC 3339 text.
    let june: DatetimeInterval = "2024-06-01/2024-06-20".parse()?;
    let search = Search::default()
        .with_bbox([0.0, 40.0, 10.0, 50.0])
        .with_datetime(june);
    for item in open_with(&output, ReadOptions::default().with_search(search))? {
        let item = item?;
        println!(
            "match: {} at {}",
            item["id"], item["properties"]["datetime"]
        );
    }
    Ok(())
}
