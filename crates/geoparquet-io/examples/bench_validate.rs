//! Validates a file with the library (benchmark driver): `bench_validate FILE [THREADS]`.
#![allow(clippy::print_stdout)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: bench_validate FILE [THREADS]")?;
    let options = geoparquet_io::ValidateOptions::default()
        .with_threads(args.get(1).map_or(Ok(0), |t| t.parse())?);
    let report = geoparquet_io::validate(path.as_ref(), &options)?;
    println!(
        "{{\"valid\": {}, \"findings\": {}}}",
        report.is_valid(),
        report.findings.len()
    );
    for f in &report.findings {
        eprintln!("{f}");
    }
    Ok(())
}
