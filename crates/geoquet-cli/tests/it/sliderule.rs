//! `geoquet sliderule export` and `decode-stream` end to end.

use std::path::Path;

use serde_json::Value;

use crate::support::{atl06_line, code, command, geoquet_in, stderr};

const SECRET: &str = "SECRETwJalrXUtnFEMIK7MDENGbPxRfiCY";

fn write_atl06(dir: &Path, n: u32) -> String {
    let lines: Vec<String> = (0..n).map(atl06_line).collect();
    let p = dir.join("atl06.ndjson");
    std::fs::write(&p, lines.join("\n")).unwrap();
    p.display().to_string()
}

#[test]
fn export_geoparquet_and_parquet_locally() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_atl06(dir.path(), 25);
    let out = dir.path().join("out.parquet");
    let spec = format!(r#"{{"path": "{}", "format": "geoparquet"}}"#, out.display());
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            &input,
            "--output-json",
            &spec,
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 25);
    assert_eq!(v["delivery"], "local");
    let inspect = geoquet_in(dir.path(), &["validate", out.to_str().unwrap()]);
    assert_eq!(
        code(&inspect),
        0,
        "{}",
        String::from_utf8_lossy(&inspect.stdout)
    );

    let plain = dir.path().join("plain.parquet");
    let spec = format!(
        r#"{{"path": "file://{}", "format": "parquet"}}"#,
        plain.display()
    );
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            &input,
            "--output-json",
            &spec,
            "-q",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(plain.exists());
}

#[test]
fn stream_and_decode_back_byte_for_byte_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_atl06(dir.path(), 40);
    let spec = format!(
        r#"{{"path": "atl06.parquet", "format": "parquet", "with_checksum": true, "credentials": {{"aws_secret_access_key": "{SECRET}"}}}}"#
    );
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            &input,
            "--output-json",
            &spec,
            "--stream",
            "framed.bin",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let framed = std::fs::read(dir.path().join("framed.bin")).unwrap();
    assert_eq!(&framed[..8], &[0, 2, 0, 14, 0, 0, 0, 136]);
    assert!(!framed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "decode-stream",
            "framed.bin",
            "rebuilt.parquet",
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["name"], "atl06.parquet");
    assert!(v["files"][0]["checksum"].is_u64());
    let rebuilt = std::fs::read(dir.path().join("rebuilt.parquet")).unwrap();
    assert_eq!(&rebuilt[..4], b"PAR1");
    // Corrupt one data byte: decoding fails on the checksum, exit 2, nothing written.
    let mut bad = framed.clone();
    let last = bad.len() - 200;
    bad[last] ^= 0xFF;
    std::fs::write(dir.path().join("bad.bin"), &bad).unwrap();
    let o = geoquet_in(
        dir.path(),
        &["sliderule", "decode-stream", "bad.bin", "bad.parquet"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("checksum"), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: bad.bin: "), "{}", stderr(&o));
    assert!(!dir.path().join("bad.parquet").exists());
    // A truncated stream: the error names the input and the offset.
    std::fs::write(dir.path().join("short.bin"), &framed[..framed.len() / 2]).unwrap();
    let o = geoquet_in(
        dir.path(),
        &["sliderule", "decode-stream", "short.bin", "short.parquet"],
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.starts_with("error: short.bin: stream, byte "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!dir.path().join("short.parquet").exists());
}

#[test]
fn csv_input_and_atl03() {
    let dir = tempfile::tempdir().unwrap();
    let header = "extent_id,region,track,pair,sc_orient,rgt,cycle,segment_id,segment_dist,background_rate,solar_elevation,time,latitude,longitude,x_atc,y_atc,height,relief,landcover,snowcover,atl08_class,atl03_cnf,quality_ph,yapc_score";
    let mut lines = vec![header.to_owned()];
    for i in 0..30u64 {
        let eid = 4 * (i / 10);
        lines.push(format!("{eid},3,1,0,1,1160,2,{},8000000.5,1000.0,-4.5,{},72.8,-26.2,1.5,2.5,100.25,0,255,255,4,4,0,{}", 500 + i / 10, 1_552_556_446_894_008_576u64 + i * 256, i * 10));
    }
    std::fs::write(dir.path().join("photons.csv"), lines.join("\n")).unwrap();
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl03",
            "--input",
            "photons.csv",
            "--output-json",
            r#"{"path": "atl03.geoparquet"}"#,
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 30);
    assert_eq!(v["format"], "geoparquet");
    // Sorted by time (the input is already in time order) and spatially.
    for order in ["time", "hilbert"] {
        let o = geoquet_in(
            dir.path(),
            &[
                "sliderule",
                "export",
                "--record",
                "atl03",
                "--sort",
                order,
                "--row-group-rows",
                "7",
                "--input",
                "photons.csv",
                "--output-json",
                r#"{"path": "sorted.parquet"}"#,
                "--json",
            ],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (v["rows"].as_u64(), v["row_groups"].as_u64()),
            (Some(30), Some(5))
        );
    }
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl03",
            "--sort",
            "size",
            "--input",
            "photons.csv",
            "--output-json",
            r#"{"path": "x.parquet"}"#,
        ],
    );
    assert_eq!(code(&o), 2);
    // Compact layout: one row per extent.
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl03",
            "--compact",
            "--input",
            "photons.csv",
            "--output-json",
            r#"{"path": "compact.parquet", "format": "parquet", "as_geo": true}"#,
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 3);
}

#[test]
fn bad_parameters_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_atl06(dir.path(), 2);
    let run = |spec: &str, extra: &[&str]| {
        let mut args = vec![
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            input.as_str(),
            "--output-json",
            spec,
        ];
        args.extend_from_slice(extra);
        geoquet_in(dir.path(), &args)
    };
    for (spec, needle) in [
        (r#"{"path": "s3://bucket-only"}"#, "invalid S3 url"),
        (
            r#"{"path": "s3://b/k.parquet"}"#,
            "neither \"region\" nor \"endpoint\"",
        ),
        (r#"{"format": "parquet"}"#, "no path"),
        ("[1]", "must be supplied as an object"),
    ] {
        let o = run(spec, &[]);
        assert_eq!(code(&o), 2, "{spec}");
        let err = stderr(&o);
        assert!(err.lines().last().unwrap().starts_with("error: "), "{err}");
        assert!(err.contains(needle), "{spec}: {err}");
    }
    let long = format!(r#"{{"path": "{}.parquet"}}"#, "x".repeat(130));
    assert!(stderr(&run(&long, &[])).contains("shorter than 128 bytes"));
    // Lenient: a warning, success; strict: an error.
    let o = run(r#"{"path": "w.parquet", "format": "xyz"}"#, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("warning: Field format using default value: format is an invalid value: xyz")
    );
    let o = run(r#"{"path": "w2.parquet", "format": "xyz"}"#, &["--strict"]);
    assert_eq!(code(&o), 2);
    assert!(!dir.path().join("w2.parquet").exists());
    // A bad record names the row and field.
    std::fs::write(
        dir.path().join("bad.ndjson"),
        format!("{}\n{{\"extent_id\": 1}}", atl06_line(0)),
    )
    .unwrap();
    let o = geoquet_in(
        dir.path(),
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "bad.ndjson",
            "--output-json",
            r#"{"path": "bad.parquet"}"#,
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("record 1: field \"segment_id\": missing"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("bad.parquet").exists());
}

/// Standard input without a newline (`< /dev/zero`) ends with a one-line
/// error naming the input and the line, not an abort.
#[cfg(unix)]
#[test]
fn endless_input_without_newlines_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let spec = format!(r#"{{"path": "{}", "format": "parquet"}}"#, out.display());
    let o = command()
        .args([
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "-",
            "--output-json",
            &spec,
        ])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("standard input") && err.contains("line 1 is longer than 64 MiB"),
        "{err}"
    );
    assert!(!out.exists());
}

/// A CSV saved with a UTF-8 byte-order mark (and CRLF) reads like any other;
/// a bad record names the file and its line.
#[test]
fn csv_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let v: Value = serde_json::from_str(&atl06_line(0)).unwrap();
    let obj = v.as_object().unwrap();
    let header: Vec<&str> = obj.keys().map(String::as_str).collect();
    let row = |i: u32| {
        let v: Value = serde_json::from_str(&atl06_line(i)).unwrap();
        header
            .iter()
            .map(|k| v[*k].to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut text = format!("\u{feff}{}\r\n", header.join(","));
    for i in 0..5 {
        text.push_str(&row(i));
        text.push_str("\r\n");
    }
    let csv = dir.path().join("bom.csv");
    std::fs::write(&csv, &text).unwrap();
    let out = dir.path().join("out.parquet");
    let spec = format!(r#"{{"path": "{}", "format": "geoparquet"}}"#, out.display());
    let args = |input: &str| {
        vec![
            "sliderule".to_string(),
            "export".into(),
            "--record".into(),
            "atl06".into(),
            "--input".into(),
            input.into(),
            "--output-json".into(),
            spec.clone(),
            "--json".into(),
        ]
    };
    let a = args(csv.to_str().unwrap());
    let o = geoquet_in(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 5);
    // One short row: the error names the file and line 4.
    text.push_str("1,2\r\n");
    let bad = dir.path().join("bad.csv");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(3, 6);
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let a = args(bad.to_str().unwrap());
    let o = geoquet_in(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("bad.csv") && err.contains("line 4"), "{err}");
}
