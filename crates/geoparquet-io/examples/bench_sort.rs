//! Sorts a file with the library (benchmark driver): `bench_sort IN OUT [MEMORY_MB] [hilbert|quadkey|column:NAME]`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let memory = args.get(2).map_or(Ok(256), |m| m.parse::<usize>())? << 20;
    let key: geoparquet_io::sort::SortKey =
        args.get(3).map_or("hilbert", String::as_str).parse()?;
    let options = geoparquet_io::sort::SortOptions::default()
        .with_key(key)
        .with_memory(memory);
    let s = geoparquet_io::sort::sort_file(args[0].as_ref(), args[1].as_ref(), &options)?;
    println!(
        "{{\"rows\": {}, \"runs\": {}, \"overlap_before\": {:?}, \"overlap_after\": {:?}}}",
        s.written.rows, s.runs, s.overlap_before, s.overlap_after
    );
    Ok(())
}
