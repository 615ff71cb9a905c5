//! Prints the full validation report of each file given (a development aid).
#![allow(clippy::print_stdout, clippy::unwrap_used)]
fn main() {
    for a in std::env::args().skip(1) {
        let r = geoparquet_io::validate(a.as_ref(), &geoparquet_io::ValidateOptions::default());
        match r {
            Ok(r) => {
                println!("{a}: valid={}", r.is_valid());
                for f in &r.findings {
                    println!("  {f}");
                }
            }
            Err(e) => println!("{a}: ERR {e}"),
        }
    }
}
