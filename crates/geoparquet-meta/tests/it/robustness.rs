//! Random damage to real metadata documents never panics the parser, the
//! serialiser or the validators, and whatever parses still round-trips.

use geoparquet_meta::GeoParquetMetadata;
use geoparquet_meta::file::{ColumnFacts, FileFacts, NativeGeoType, PhysicalType, Repetition};
use geoparquet_meta::validate::{validate_file, validate_geo_json, validate_geo_text};
use serde_json::{Value, json};

use test_support::Rng;

fn random_value(rng: &mut Rng) -> Value {
    match rng.index(12) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1e308),
        3 => json!(u64::MAX),
        4 => json!(""),
        5 => json!("Point ZM"),
        6 => json!("WKB"),
        7 => json!([1, 2, 3, 4, 5, 6, 7, 8]),
        8 => json!(["bbox", "xmin"]),
        9 => json!({"bbox": {"xmin": ["b", "xmin"]}}),
        10 => json!({"type": "ProjectedCRS", "base_crs": {"type": "GeographicCRS"}}),
        _ => json!({"id": {"authority": "EPSG", "code": 4326}}),
    }
}

/// Replaces a random node (or inserts a random key) somewhere in `v`.
fn damage(v: &mut Value, rng: &mut Rng, depth: usize) {
    let stop = depth > 4 || rng.index(3) == 0;
    match v {
        Value::Object(m) if !m.is_empty() && !stop => {
            let i = rng.index(m.len() + 1);
            if i == m.len() {
                let keys = [
                    "version",
                    "primary_column",
                    "columns",
                    "crs",
                    "bbox",
                    "covering",
                    "encoding",
                    "geometry_types",
                    "",
                ];
                m.insert(keys[rng.index(keys.len())].to_owned(), random_value(rng));
            } else if let Some((_, child)) = m.iter_mut().nth(i) {
                damage(child, rng, depth + 1);
            }
        }
        Value::Array(a) if !a.is_empty() && !stop => {
            let i = rng.index(a.len());
            damage(&mut a[i], rng, depth + 1);
        }
        _ => *v = random_value(rng),
    }
}

#[test]
fn damaged_documents_never_panic() {
    let Some(dir) = test_support::corpus("geoparquet/metadata-cases") else {
        return;
    };
    let docs: Vec<Value> = test_support::files_with_suffix(&dir, ".json")
        .iter()
        .map(|p| {
            serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap()["geo"]
                .clone()
        })
        .collect();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for round in 0..4000 {
        let mut doc = docs[round % docs.len()].clone();
        for _ in 0..=rng.index(3) {
            damage(&mut doc, &mut rng, 0);
        }
        let _ = validate_geo_json(&doc);
        let text = doc.to_string();
        let _ = validate_geo_text(text.as_bytes());
        let _ = validate_geo_text(&text.as_bytes()[..text.len() / 2]);
        if let Ok(meta) = GeoParquetMetadata::from_json(&doc) {
            parsed += 1;
            assert_eq!(meta.to_json(), doc, "round trip of {doc}");
            let facts = FileFacts {
                key_value: vec![("geo".into(), Some(text.clone()))],
                columns: meta
                    .columns
                    .keys()
                    .map(|k| {
                        let mut c = ColumnFacts::leaf(
                            k.clone(),
                            PhysicalType::ByteArray,
                            Repetition::Optional,
                        );
                        c.native = Some(NativeGeoType::Geography {
                            crs: Some("projjson:nope".into()),
                            algorithm: None,
                        });
                        c
                    })
                    .collect(),
                footer_problem: None,
            };
            let _ = validate_file(&facts);
            let _ = facts.synthesize_metadata();
        }
    }
    println!("{parsed} damaged documents still parsed and round-tripped");
    assert!(parsed > 100);
}
