//! `validate` over the corpus and over files broken on purpose.

use raquet::{Severity, validate};

#[test]
fn corpus_findings() {
    let Some(dir) = test_support::corpus("raquet") else { return };
    for f in test_support::files_with_suffix(&dir, ".parquet") {
        let r = validate(&f).unwrap();
        println!("{}: valid={} tiles={} {:?}", f.display(), r.is_valid(), r.tiles, r.tiles_per_zoom);
        for x in &r.findings {
            println!("   {:?} {} {}", x.severity, x.code, x.message);
        }
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('A') || name.starts_with('B') || name.starts_with('C') || name.starts_with("europe_c") || name.starts_with("n37") || name.starts_with("nlcd") {
            assert!(r.is_valid(), "{name}: {:?}", r.findings);
        }
        if name == "example_data.parquet" {
            assert!(!r.with_code("version_missing").is_empty());
            assert!(!r.with_code("unsorted").is_empty());
            assert!(r.findings.iter().any(|f| f.code == "num_blocks" && f.severity == Severity::Warning));
        }
    }
}
