//! `validate` over the corpus and over files broken on purpose.

use raquet::validate::Code;
use raquet::{Severity, validate};

#[test]
fn corpus_findings() {
    let Some(dir) = test_support::corpus("raquet") else {
        return;
    };
    for f in test_support::files_with_suffix(&dir, ".parquet") {
        let r = validate(&f).unwrap();
        println!(
            "{}: valid={} tiles={} {:?}",
            f.display(),
            r.is_valid(),
            r.tiles,
            r.tiles_per_zoom
        );
        for x in &r.report.findings {
            println!("   {:?} {} {}", x.severity, x.code, x.message);
        }
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('A')
            || name.starts_with('B')
            || name.starts_with('C')
            || name.starts_with("europe_c")
            || name.starts_with("n37")
            || name.starts_with("nlcd")
        {
            assert!(r.is_valid(), "{name}: {:?}", r.report.findings);
        }
        if name == "example_data.parquet" {
            assert!(r.report.has(Code::VersionMissing));
            assert!(r.report.has(Code::Unsorted));
            assert!(
                r.report
                    .findings
                    .iter()
                    .any(|f| f.code == Code::NumBlocks && f.severity == Severity::Warning)
            );
        }
    }
}

mod crafted {
    //! Files broken on purpose, written with arrow-rs directly.

    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use raquet::validate::Code;
    use raquet::{Error, Reader, validate};
    use serde_json::{Value, json};

    const Z8: (u8, u32, u32) = (8, 130, 86);

    fn cell(z: u8, x: u32, y: u32) -> u64 {
        raquet::cell::cell_from_tile(z, x, y).unwrap()
    }

    fn meta(min: u8, max: u8, num_blocks: u64, compression: Value) -> Value {
        json!({"file_format": "raquet", "version": "0.5.0", "width": 256, "height": 256, "crs": "EPSG:3857",
            "bounds": [2.8125, 49.15, 4.21875, 50.0], "bounds_crs": "EPSG:4326",
            "tiling": {"scheme": "quadbin", "block_width": 256, "block_height": 256, "min_zoom": min, "max_zoom": max,
                "pixel_zoom": max + 8, "num_blocks": num_blocks},
            "compression": compression,
            "bands": [{"name": "band_1", "type": "uint8", "nodata": 0,
                "STATISTICS_MINIMUM": 1, "STATISTICS_MAXIMUM": 1, "STATISTICS_MEAN": 1, "STATISTICS_STDDEV": 0}]})
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// rows: (block, metadata, blob)
    fn write(path: &Path, rows: &[(u64, Option<String>, Option<Vec<u8>>)], signed: bool) {
        let bt = if signed {
            DataType::Int64
        } else {
            DataType::UInt64
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("block", bt, false),
            Field::new("metadata", DataType::Utf8, true),
            Field::new("band_1", DataType::Binary, true),
        ]));
        let blocks: ArrayRef = if signed {
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.0 as i64),
            ))
        } else {
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.0)))
        };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                blocks,
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
                )),
                Arc::new(BinaryArray::from(
                    rows.iter().map(|r| r.2.as_deref()).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn codes(path: &Path) -> Vec<&'static str> {
        let r = validate(path).unwrap();
        r.report
            .findings
            .iter()
            .filter(|f| f.severity == raquet::Severity::Error)
            .map(|f| f.code.as_str())
            .collect()
    }

    fn ones() -> Vec<u8> {
        vec![1u8; 65536]
    }

    #[test]
    fn good_file_metadata_first_and_int64_blocks() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("ok.parquet");
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        write(
            &p,
            &[
                (0, Some(m), None),
                (cell(Z8.0, Z8.1, Z8.2), None, Some(gz(&ones()))),
            ],
            true,
        );
        assert_eq!(codes(&p), Vec::<&str>::new());
        let r = Reader::open(&p).unwrap();
        assert_eq!(r.metadata_rows(), &[0]);
        assert_eq!(
            r.tile(8, 130, 86).unwrap().unwrap().value(0, 5, 5),
            Some(1.0)
        );
    }

    #[test]
    fn gzip_bomb_and_wrong_lengths_name_the_block() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("bomb.parquet");
        let block = cell(Z8.0, Z8.1, Z8.2);
        let bomb = gz(&vec![0u8; 50_000_000]);
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        write(
            &p,
            &[(block, None, Some(bomb)), (0, Some(m.clone()), None)],
            false,
        );
        let err = Reader::open(&p).unwrap().tile(8, 130, 86).unwrap_err();
        assert!(
            matches!(err, Error::Blob { block: b, .. } if b == block),
            "{err}"
        );
        assert!(
            err.to_string().contains("beyond the declared 65536 bytes"),
            "{err}"
        );
        assert!(err.to_string().contains(&block.to_string()), "{err}");
        assert!(codes(&p).contains(&"blob_size"));

        let p = tmp.path().join("short.parquet");
        write(
            &p,
            &[
                (block, None, Some(gz(&[1u8; 100]))),
                (0, Some(m.clone()), None),
            ],
            false,
        );
        assert!(codes(&p).contains(&"blob_size"));

        let p = tmp.path().join("raw.parquet");
        let m0 = meta(8, 8, 1, Value::Null).to_string();
        write(
            &p,
            &[(block, None, Some(vec![1u8; 10])), (0, Some(m0), None)],
            false,
        );
        assert!(codes(&p).contains(&"blob_size"));

        let p = tmp.path().join("corrupt.parquet");
        let mut bad = gz(&ones());
        bad.truncate(15);
        write(&p, &[(block, None, Some(bad)), (0, Some(m), None)], false);
        assert!(codes(&p).contains(&"blob_decode"), "{:?}", codes(&p));
    }

    #[test]
    fn pyramid_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let blob = || Some(gz(&ones()));
        // A missing zoom, a wrong num_blocks, unsorted and duplicate rows, a bad cell.
        let p = tmp.path().join("pyr.parquet");
        let m = meta(6, 8, 5, json!("gzip")).to_string();
        write(
            &p,
            &[
                (cell(8, 131, 86), None, blob()),
                (cell(8, 130, 86), None, blob()),
                (cell(8, 130, 86), None, blob()),
                (cell(6, 32, 21), None, blob()),
                (12345, None, blob()),
                (0, Some(m), None),
            ],
            false,
        );
        let c = codes(&p);
        for code in [
            "zoom_missing",
            "num_blocks",
            "duplicate_block",
            "invalid_block",
        ] {
            assert!(c.contains(&code), "{code} not in {c:?}");
        }
        let r = validate(&p).unwrap();
        assert!(r.report.has(Code::Unsorted));
        // A zoom outside min..=max.
        let p = tmp.path().join("range.parquet");
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        write(
            &p,
            &[
                (cell(8, 130, 86), None, blob()),
                (cell(9, 260, 172), None, blob()),
                (0, Some(m), None),
            ],
            false,
        );
        assert!(codes(&p).contains(&"zoom_out_of_range"));
    }

    #[test]
    fn metadata_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let blob = || Some(gz(&ones()));
        let b = cell(8, 130, 86);
        let p = tmp.path().join("nometa.parquet");
        write(&p, &[(b, None, blob())], false);
        assert_eq!(codes(&p), ["metadata_row_missing"]);

        let p = tmp.path().join("notnull.parquet");
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        write(
            &p,
            &[(b, Some("{}".into()), blob()), (0, Some(m), None)],
            false,
        );
        assert!(codes(&p).contains(&"metadata_not_null"));

        let p = tmp.path().join("fields.parquet");
        let mut m = meta(8, 8, 1, json!("gzip"));
        m.as_object_mut().unwrap().remove("bounds_crs");
        m["crs"] = json!("EPSG:4326");
        m["bands"][0]["STATISTICS_MINIMUM"] = json!(5);
        m["bands"][0]["STATISTICS_MAXIMUM"] = json!(2);
        m["tiling"]["pixel_zoom"] = json!(15);
        write(
            &p,
            &[(b, None, blob()), (0, Some(m.to_string()), None)],
            false,
        );
        let c = codes(&p);
        for code in [
            "metadata_field_missing",
            "crs",
            "statistics_inconsistent",
            "pixel_zoom",
        ] {
            assert!(c.contains(&code), "{code} not in {c:?}");
        }

        let p = tmp.path().join("json.parquet");
        write(
            &p,
            &[(b, None, blob()), (0, Some("{not json".into()), None)],
            false,
        );
        assert_eq!(codes(&p), ["metadata_invalid"]);

        let p = tmp.path().join("col.parquet");
        let mut m = meta(8, 8, 1, json!("gzip"));
        m["bands"][0]["name"] = json!("elevation");
        write(
            &p,
            &[(b, None, blob()), (0, Some(m.to_string()), None)],
            false,
        );
        assert_eq!(codes(&p), ["band_column"]);
    }

    /// A damaged Parquet page in a band column (here the Snappy-compressed dictionary
    /// page's bytes overwritten one at a time) makes the upstream reader fail on every
    /// call; `validate` reports the failure once and ends instead of looping forever.
    #[test]
    fn damaged_band_page_ends_validation() {
        use parquet::basic::Compression;
        use parquet::file::properties::WriterProperties;
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("snappy.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("block", DataType::UInt64, false),
            Field::new("metadata", DataType::Utf8, true),
            Field::new("band_1", DataType::Binary, true),
        ]));
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        let block = cell(Z8.0, Z8.1, Z8.2);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(UInt64Array::from(vec![0, block])),
                Arc::new(StringArray::from(vec![Some(m), None])),
                Arc::new(BinaryArray::from(vec![None, Some(gz(&ones()).as_slice())])),
            ],
        )
        .unwrap();
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&p).unwrap(), schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let good = std::fs::read(&p).unwrap();
        let chunk = {
            use parquet::file::reader::FileReader;
            let f = std::fs::File::open(&p).unwrap();
            let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
            let c = r.metadata().row_group(0).column(2).clone();
            usize::try_from(c.dictionary_page_offset().unwrap_or(c.data_page_offset())).unwrap()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = tmp.path().to_path_buf();
        std::thread::spawn(move || {
            let mut decode_errors = 0;
            for i in chunk..chunk + 48 {
                for v in [0x00u8, 0xFF] {
                    let mut bad = good.clone();
                    bad[i] = v;
                    let q = dir.join(format!("bad-{i}-{v}.parquet"));
                    std::fs::write(&q, &bad).unwrap();
                    if let Ok(r) = validate(&q) {
                        decode_errors += usize::from(r.report.has(Code::BlobDecode));
                    }
                }
            }
            tx.send(decode_errors).unwrap();
        });
        let n = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("validate of a damaged page did not end within 60 s");
        assert!(n > 0, "no damaged page was reported");
    }

    fn b64_decode(s: &str) -> Vec<u8> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in s.bytes().filter(|&c| c != b'=') {
            acc = (acc << 6) | A.iter().position(|&a| a == c).unwrap() as u32;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        out
    }

    fn b64_encode(b: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// A damaged `ARROW:schema` footer key (an integer 8390720 bits wide) panicked
    /// upstream's IPC schema decoder inside `Reader::open` and `validate`: now an error.
    #[test]
    fn damaged_arrow_schema_is_an_error() {
        use parquet::arrow::arrow_writer::ArrowWriterOptions;
        use parquet::file::metadata::KeyValue;
        use parquet::file::properties::WriterProperties;
        use parquet::file::reader::FileReader;
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("ok.parquet");
        let m = meta(8, 8, 1, json!("gzip")).to_string();
        let block = cell(Z8.0, Z8.1, Z8.2);
        write(
            &p,
            &[(0, Some(m.clone()), None), (block, None, Some(gz(&ones())))],
            false,
        );
        let r = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&p).unwrap())
            .unwrap();
        let kv = r.metadata().file_metadata().key_value_metadata().unwrap();
        let encoded = kv.iter().find(|k| k.key == "ARROW:schema").unwrap();
        let ipc = b64_decode(encoded.value.as_deref().unwrap());
        // Every 64 (among them the UInt64 `block` column's bit width) becomes 0x800840.
        let spots: Vec<usize> = ipc
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == [64, 0, 0, 0])
            .map(|(i, _)| i)
            .collect();
        let mut decoded_panic = 0;
        for at in spots {
            let mut ipc = ipc.clone();
            ipc[at..at + 4].copy_from_slice(&[0x40, 0x08, 0x80, 0x00]);
            let schema = Arc::new(Schema::new(vec![
                Field::new("block", DataType::UInt64, false),
                Field::new("metadata", DataType::Utf8, true),
                Field::new("band_1", DataType::Binary, true),
            ]));
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(UInt64Array::from(vec![0, block])),
                    Arc::new(StringArray::from(vec![Some(m.clone()), None])),
                    Arc::new(BinaryArray::from(vec![None, Some(gz(&ones()).as_slice())])),
                ],
            )
            .unwrap();
            let props = WriterProperties::builder()
                .set_key_value_metadata(Some(vec![KeyValue::new(
                    "ARROW:schema".to_owned(),
                    b64_encode(&ipc),
                )]))
                .build();
            let bad = tmp.path().join("bad.parquet");
            let mut w = ArrowWriter::try_new_with_options(
                std::fs::File::create(&bad).unwrap(),
                schema,
                ArrowWriterOptions::new()
                    .with_properties(props)
                    .with_skip_arrow_metadata(true),
            )
            .unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            let err = Reader::open(&bad).unwrap_err().to_string();
            if err.contains("the footer cannot be decoded") {
                decoded_panic += 1;
                let err = validate(&bad).unwrap_err().to_string();
                assert!(err.contains("bit width of 8390720"), "{err}");
            }
        }
        assert!(decoded_panic > 0);
    }
}
