//! The `geoquet` binary end to end: exit codes, one-line errors, JSON shapes.

use serde_json::Value;

use crate::support::{assert_one_line_error, code, command, geoquet, stderr};

#[test]
fn readme_quick_start_inspect() {
    let o = geoquet(&["inspect", "test-data/sample.parquet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "version:       1.1.0",
        "rows:          7",
        "geometry types: Point",
        "OGC:CRS84",
        "covering:       bbox column \"bbox\"",
        "ZSTD",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn inspect_json_has_the_documented_keys() {
    let o = geoquet(&["inspect", "--json", "test-data/sample.parquet"]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "version",
        "geometry_columns",
        "num_rows",
        "row_groups",
        "compression",
        "fields",
        "geo",
        "primary_column",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let col = &v["geometry_columns"][0];
    assert_eq!(col["encoding"], "WKB");
    assert_eq!(col["crs"]["crs84_equivalent"], true);
    assert_eq!(col["covering"]["column"], "bbox");
    assert_eq!(col["bbox"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_inputs_get_one_line_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.parquet");
    std::fs::write(&text, "not parquet at all").unwrap();
    let missing = dir.path().join("missing.parquet");
    let plain = dir.path().join("plain.json");
    for args in [
        vec!["inspect", missing.to_str().unwrap()],
        vec!["inspect", text.to_str().unwrap()],
        vec!["inspect", dir.path().to_str().unwrap()],
        vec!["validate", missing.to_str().unwrap()],
        vec!["validate", text.to_str().unwrap()],
        vec!["validate", "--metadata", missing.to_str().unwrap()],
        vec!["validate", "--metadata", text.to_str().unwrap()],
    ] {
        let o = geoquet(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_one_line_error(&o);
    }
    std::fs::write(&plain, [0xff, 0xfe, b'{']).unwrap();
    let o = geoquet(&["validate", "--metadata", plain.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert_one_line_error(&o);
    // Usage errors are exit 2 as well.
    assert_eq!(code(&geoquet(&["inspect"])), 2);
    assert_eq!(code(&geoquet(&["frobnicate"])), 2);
}

#[test]
fn broken_geo_metadata_in_files() {
    let Some(bad) = test_support::corpus("geoparquet/geoparquet-testing/bad_data") else {
        return;
    };
    for (file, code_expected) in [
        ("geo-invalid-json.parquet", "metadata_invalid_json"),
        ("geo-invalid-utf8.parquet", "metadata_invalid_utf8"),
        ("missing-geo-metadata.parquet", "metadata_missing"),
        ("missing-version.parquet", "schema_validation_error"),
    ] {
        let path = bad.join(file);
        let p = path.to_str().unwrap();
        // inspect cannot summarise them: one-line error, exit 2 (the file without
        // geo has a native column, so inspect synthesises metadata instead).
        let o = geoquet(&["inspect", p]);
        if file == "missing-geo-metadata.parquet" {
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        } else {
            assert_eq!(code(&o), 2, "{file}");
            assert_one_line_error(&o);
        }
        // validate reads them and says why they are invalid: exit 1. The file
        // without geo but with a GEOMETRY column is a valid Parquet-native
        // geospatial file (metadata_missing at info severity): exit 0.
        let native_only = file == "missing-geo-metadata.parquet";
        let o = geoquet(&["validate", "--json", p]);
        assert_eq!(
            code(&o),
            if native_only { 0 } else { 1 },
            "{file}: {}",
            stderr(&o)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["valid"], native_only);
        let codes: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code_expected), "{file}: {codes:?}");
    }
    // A plain Parquet file without any geometry: inspect says it is not GeoParquet.
    if let Some(sr) = test_support::corpus("sliderule") {
        let f = test_support::files_with_suffix(&sr, ".parquet")
            .into_iter()
            .find(|f| {
                !String::from_utf8_lossy(&std::fs::read(f).unwrap()).contains("\"primary_column\"")
            });
        if let Some(f) = f {
            let o = geoquet(&["inspect", f.to_str().unwrap()]);
            assert_eq!(code(&o), 2);
            assert_one_line_error(&o);
            assert!(stderr(&o).contains("not a GeoParquet file"));
        }
    }
}

#[test]
fn validate_metadata_verdicts_on_every_case() {
    let Some(dir) = test_support::corpus("geoparquet/metadata-cases") else {
        return;
    };
    let files = test_support::files_with_suffix(&dir, ".json");
    assert_eq!(files.len(), 105);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let expected = if name.starts_with("metadata_valid_") {
            0
        } else {
            1
        };
        let o = geoquet(&["validate", "--metadata", "--json", f.to_str().unwrap()]);
        assert_eq!(
            code(&o),
            expected,
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["valid"], expected == 0);
        for finding in v["findings"].as_array().unwrap() {
            assert!(
                finding["code"].is_string()
                    && finding["severity"].is_string()
                    && finding["message"].is_string()
            );
        }
    }
}

#[test]
fn validate_metadata_accepts_bare_and_wrapped_documents() {
    let dir = tempfile::tempdir().unwrap();
    let geo = r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#;
    let bare = dir.path().join("bare.json");
    let wrapped = dir.path().join("wrapped.json");
    std::fs::write(&bare, geo).unwrap();
    std::fs::write(&wrapped, format!("{{\"geo\": {geo}}}")).unwrap();
    for p in [&bare, &wrapped] {
        let o = geoquet(&["validate", "--metadata", p.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    }
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"geo": {"version": "1.1.0", "primary_column": "g", "columns": {"g": {"encoding": "WKT", "geometry_types": []}}}}"#).unwrap();
    let o = geoquet(&["validate", "--metadata", broken.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("schema_validation_error"));
}

#[test]
fn inspect_json_never_crashes_on_the_corpus() {
    let Some(root) = test_support::test_data_dir() else {
        return;
    };
    let files = test_support::files_with_suffix(&root, ".parquet");
    let mut ok = 0;
    for f in &files {
        let o = geoquet(&["inspect", "--json", f.to_str().unwrap()]);
        match code(&o) {
            0 => {
                let v: Value = serde_json::from_slice(&o.stdout)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                assert!(v["geometry_columns"].is_array());
                ok += 1;
            }
            2 => assert_one_line_error(&o),
            other => panic!("{}: exit {other}: {}", f.display(), stderr(&o)),
        }
    }
    println!("{ok} of {} corpus files inspected", files.len());
    assert!(ok > 200);
}

#[test]
fn arguments_parse() {
    use clap::Parser;
    let cli = geoquet_cli::Cli::try_parse_from([
        "geoquet",
        "-q",
        "validate",
        "--metadata",
        "--json",
        "x.json",
    ])
    .unwrap();
    assert!(cli.quiet);
    assert!(matches!(cli.command, geoquet_cli::Command::Validate(ref a) if a.metadata && a.json));
    assert!(geoquet_cli::Cli::try_parse_from(["geoquet", "inspect"]).is_err());
}

#[test]
fn convert_to_every_version_gives_valid_files() {
    let dir = tempfile::tempdir().unwrap();
    for (version, encoding, expect) in [
        ("1.0", "wkb", "1.0.0"),
        ("1.1", "wkb", "1.1.0"),
        ("1.1", "geoarrow", "1.1.0"),
        ("2.0", "wkb", "2.0.0"),
    ] {
        let out = dir.path().join(format!("{version}-{encoding}.parquet"));
        let o = geoquet(&[
            "convert",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--geoparquet-version",
            version,
            "--encoding",
            encoding,
        ]);
        assert_eq!(code(&o), 0, "{version} {encoding}: {}", stderr(&o));
        let v = geoquet(&["validate", "--json", out.to_str().unwrap()]);
        assert_eq!(code(&v), 0, "{}", String::from_utf8_lossy(&v.stdout));
        let i = geoquet(&["inspect", "--json", out.to_str().unwrap()]);
        let info: Value = serde_json::from_slice(&i.stdout).unwrap();
        assert_eq!(info["version"], expect);
        assert_eq!(info["num_rows"], 7);
        let enc = if encoding == "wkb" { "WKB" } else { "point" };
        assert_eq!(info["geometry_columns"][0]["encoding"], enc);
    }
    // Native types only: no geo key, GEOMETRY logical type.
    let out = dir.path().join("native.parquet");
    let o = geoquet(&[
        "convert",
        "test-data/sample.parquet",
        out.to_str().unwrap(),
        "--geoparquet-version",
        "native",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let i = geoquet(&["inspect", "--json", out.to_str().unwrap()]);
    let info: Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(info["metadata_source"], "native-types");
    assert_eq!(
        info["geometry_columns"][0]["logical_type"]["type"],
        "GEOMETRY"
    );
}

#[test]
fn geojson_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let gj = dir.path().join("s.geojson");
    let nd = dir.path().join("s.ndjson");
    let back = dir.path().join("back.parquet");
    for (from, to) in [
        ("test-data/sample.parquet", gj.to_str().unwrap()),
        (gj.to_str().unwrap(), nd.to_str().unwrap()),
        (nd.to_str().unwrap(), back.to_str().unwrap()),
    ] {
        let o = geoquet(&["convert", from, to]);
        assert_eq!(code(&o), 0, "{from} -> {to}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(&nd).unwrap().lines().count(), 7);
    let i = geoquet(&["inspect", "--json", back.to_str().unwrap()]);
    let info: Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(info["num_rows"], 7);
    assert_eq!(info["geometry_columns"][0]["geometry_types"][0], "Point");
    assert_eq!(info["geometry_columns"][0]["covering"]["column"], "bbox");
    // NDJSON to standard output.
    let o = geoquet(&[
        "extract",
        "test-data/sample.parquet",
        "-",
        "--bbox",
        "-20,-40,60,60",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("Paris") && out.contains("Nairobi"));
}

#[test]
fn extract_prunes_and_reports() {
    let Some(dir) = test_support::corpus("geoarrow/quadrangles") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Write a file with small row groups, so that pruning shows.
    let src = dir.join("quadrangles_100k_geo.parquet");
    let small = tmp.path().join("small-rg.parquet");
    let o = geoquet(&[
        "convert",
        src.to_str().unwrap(),
        small.to_str().unwrap(),
        "--row-group-size",
        "100",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = tmp.path().join("x.parquet");
    let o = geoquet(&[
        "-v",
        "extract",
        small.to_str().unwrap(),
        out.to_str().unwrap(),
        "--bbox",
        "-75,40,-73,42",
        "--columns",
        "quadrangle_id",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let counts = err
        .split("row groups read ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap();
    let (read, total) = counts.split_once('/').unwrap();
    let (read, total): (usize, usize) = (read.parse().unwrap(), total.parse().unwrap());
    assert!(total >= 18 && read < total / 2, "{err}");
    let i = geoquet(&["inspect", "--json", out.to_str().unwrap()]);
    let info: Value = serde_json::from_slice(&i.stdout).unwrap();
    assert!(info["num_rows"].as_u64().unwrap() > 0);
    let fields: Vec<&str> = info["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"geometry") && fields.contains(&"quadrangle_id"),
        "{fields:?}"
    );
}

#[test]
fn failed_conversions_leave_nothing_and_keep_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    std::fs::write(&out, b"precious").unwrap();
    for args in [
        vec![
            "convert",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--geoparquet-version",
            "3.0",
        ],
        vec![
            "convert",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--encoding",
            "geoarrow",
            "--geoparquet-version",
            "2.0",
        ],
        vec![
            "convert",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--compression",
            "zip",
        ],
        vec![
            "convert",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--crs",
            "EPSG:notanumber",
        ],
        vec![
            "extract",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--bbox",
            "1,2,3",
        ],
        vec![
            "extract",
            "test-data/sample.parquet",
            out.to_str().unwrap(),
            "--bbox",
            "0,0,1,1",
            "--columns",
            "nope",
        ],
        vec!["convert", "test-data/sample.parquet", "out.txt"],
        vec![
            "convert",
            "test-data/sample.parquet",
            "test-data/sample.parquet",
        ],
    ] {
        let o = geoquet(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_one_line_error(&o);
        assert_eq!(std::fs::read(&out).unwrap(), b"precious", "{args:?}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

/// A minimal HTTP/1.1 file server on 127.0.0.1 with HEAD and byte ranges,
/// enough for object_store's HTTP client. Serves `root`; stops when the test ends.
fn serve(root: std::path::PathBuf) -> u16 {
    serve_with(root, true)
}

/// [`serve`], honouring `Range` or (`ranges == false`) ignoring it: a 200
/// with the whole body, as some servers do.
fn serve_with(root: std::path::PathBuf, ranges: bool) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut range: Option<(u64, Option<u64>)> = None;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        let lower = h.to_ascii_lowercase();
                        if let Some(r) = lower.strip_prefix("range: bytes=").filter(|_| ranges) {
                            let (a, b) = r.trim().split_once('-').unwrap();
                            range = Some((a.parse().unwrap(), b.parse().ok()));
                        }
                    }
                    let mut parts = request.split_whitespace();
                    let method = parts.next().unwrap_or("").to_owned();
                    let path = parts
                        .next()
                        .unwrap_or("/")
                        .trim_start_matches('/')
                        .to_owned();
                    let body = std::fs::read(root.join(&path));
                    let head = if ranges {
                        "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nETag: \"1\"\r\nAccept-Ranges: bytes\r\nConnection: keep-alive\r\n"
                    } else {
                        "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nETag: \"1\"\r\nConnection: keep-alive\r\n"
                    };
                    let response: Vec<u8> = match body {
                        Err(_) => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                        Ok(data) => {
                            let len = data.len() as u64;
                            let (status, slice, extra) = match range {
                                Some((a, b)) => {
                                    let end = b.unwrap_or(len - 1).min(len - 1);
                                    (
                                        "206 Partial Content",
                                        data[a as usize..=end as usize].to_vec(),
                                        format!("Content-Range: bytes {a}-{end}/{len}\r\n"),
                                    )
                                }
                                None => ("200 OK", data.clone(), String::new()),
                            };
                            let mut r = format!(
                                "HTTP/1.1 {status}\r\n{head}{extra}Content-Length: {}\r\n\r\n",
                                slice.len()
                            )
                            .into_bytes();
                            if method != "HEAD" {
                                r.extend_from_slice(&slice);
                            }
                            r
                        }
                    };
                    if stream.write_all(&response).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn urls_are_inputs_too() {
    let root = test_support::workspace_root();
    let port = serve(root.join("test-data"));
    let http = format!("http://127.0.0.1:{port}/sample.parquet");
    let file_url = format!("file://{}", root.join("test-data/sample.parquet").display());
    for url in [&http, &file_url] {
        let o = geoquet(&["inspect", "--json", url]);
        assert_eq!(code(&o), 0, "{url}: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["num_rows"], 7);
        let o = geoquet(&["validate", url]);
        assert_eq!(code(&o), 0, "{url}: {}", stderr(&o));
        let o = geoquet(&["extract", url, "-", "--bbox", "-20,-40,60,60"]);
        assert_eq!(code(&o), 0, "{url}: {}", stderr(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 2);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("from-http.parquet");
    let o = geoquet(&[
        "convert",
        &http,
        out.to_str().unwrap(),
        "--geoparquet-version",
        "2.0",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // GeoJSON behind a URL: downloaded, then read in two passes.
    let gj = dir.path().join("s.geojson");
    assert_eq!(
        code(&geoquet(&[
            "convert",
            "test-data/sample.parquet",
            gj.to_str().unwrap()
        ])),
        0
    );
    let o = geoquet(&[
        "convert",
        &format!("file://{}", gj.display()),
        dir.path().join("g.parquet").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A missing object is a one-line error, exit 2.
    let o = geoquet(&[
        "inspect",
        &format!("http://127.0.0.1:{port}/missing.parquet"),
    ]);
    assert_eq!(code(&o), 2);
    assert_one_line_error(&o);
}

#[cfg(unix)]
#[test]
fn outputs_get_the_usual_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref");
    std::fs::write(&reference, b"x").unwrap();
    let want = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
    for name in ["o.parquet", "o.geojson"] {
        let out = dir.path().join(name);
        assert_eq!(
            code(&geoquet(&[
                "convert",
                "test-data/sample.parquet",
                out.to_str().unwrap()
            ])),
            0
        );
        let got = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, want, "{name}: {got:o} vs {want:o}");
    }
}

// --- validate (data rules), check, sort ------------------------------------------------

fn bad_data(name: &str) -> Option<String> {
    let dir = test_support::corpus("geoparquet/geoparquet-testing/bad_data")?;
    Some(dir.join(name).to_string_lossy().to_string())
}

#[test]
fn validate_reads_the_data_and_names_rows() {
    let Some(f) = bad_data("wkb-with-srid-prefix.parquet") else {
        return;
    };
    let o = geoquet(&["validate", "--json", &f]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let wkb = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "wkb_parse_error")
        .expect("wkb_parse_error");
    assert_eq!(wkb["count"], 1);
    assert_eq!(wkb["rows"], serde_json::json!([0]));
    // --footer-only does not look at the values.
    let o = geoquet(&["validate", "--json", "--footer-only", &f]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "wkb_parse_error")
    );
    // Text groups findings by rule with counts.
    let o = geoquet(&["validate", &f]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("error wkb_parse_error (1 finding(s), 1 row(s))"),
        "{text}"
    );
}

#[test]
fn validate_strict_fails_on_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("two.parquet");
    // Our own output has exact types, a bbox and a covering: no warnings.
    let o = geoquet(&["convert", "test-data/sample.parquet", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        code(&geoquet(&["validate", "--strict", out.to_str().unwrap()])),
        0
    );
    let Some(f) = bad_data("geometry-types-mismatch-declared-point-actual-linestring.parquet")
    else {
        return;
    };
    // A warning-only corpus file is valid without --strict and invalid with it.
    let good = test_support::corpus("geoparquet/geoparquet-testing/data/edges")
        .unwrap()
        .join("edges-planar.parquet");
    let plain = geoquet(&["validate", "--json", good.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&plain.stdout).unwrap();
    let warnings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "warning");
    let strict = geoquet(&["validate", "--strict", good.to_str().unwrap()]);
    assert_eq!(code(&strict), if warnings { 1 } else { 0 });
    assert_eq!(code(&geoquet(&["validate", &f])), 1);
}

#[test]
fn check_reports_and_fix_repairs() {
    let Some(dir) = test_support::corpus("geoparquet/geoparquet-testing/samples") else {
        return;
    };
    // Airports in random order, in row groups of 100 rows.
    let tmp = tempfile::tempdir().unwrap();
    let random = tmp.path().join("random.parquet");
    let src = dir.join("airports-global.parquet");
    let o = geoquet(&[
        "convert",
        src.to_str().unwrap(),
        random.to_str().unwrap(),
        "--row-group-size",
        "100",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let f = random.to_str().unwrap();
    let o = geoquet(&["check", "--json", f]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let order = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "spatial_order")
        .unwrap();
    assert_eq!(order["status"], "fail");
    let out = tmp.path().join("fixed.parquet");
    let o = geoquet(&[
        "check",
        f,
        "--fix",
        out.to_str().unwrap(),
        "--upgrade",
        "1.1",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["after"]["passed"], true);
    assert_eq!(v["sorted"], true);
    assert_eq!(v["rows"], 1178);
    let o = geoquet(&["inspect", "--json", out.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "1.1.0");
    assert_eq!(code(&geoquet(&["validate", out.to_str().unwrap()])), 0);
    // --upgrade without --fix is an argument error.
    assert_eq!(code(&geoquet(&["check", f, "--upgrade", "2.0"])), 2);
}

#[test]
fn sort_reports_overlap_and_keeps_rows() {
    let Some(dir) = test_support::corpus("geoparquet/geoparquet-testing/samples") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("random.parquet");
    let src = dir.join("airports-global.parquet");
    let o = geoquet(&[
        "convert",
        src.to_str().unwrap(),
        f.to_str().unwrap(),
        "--row-group-size",
        "100",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = tmp.path().join("sorted.parquet");
    let o = geoquet(&[
        "sort",
        f.to_str().unwrap(),
        out.to_str().unwrap(),
        "--memory",
        "1M",
        "--row-group-size",
        "100",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 1178);
    assert!(v["overlap_before"].as_f64().unwrap() > 0.3, "{v}");
    assert!(v["overlap_after"].as_f64().unwrap() < 0.3, "{v}");
    assert_eq!(code(&geoquet(&["validate", out.to_str().unwrap()])), 0);
    // Bad keys and sizes are argument errors; nothing is written.
    let bad = tmp.path().join("bad.parquet");
    for args in [
        ["--by", "zorder"],
        ["--memory", "lots"],
        ["--by", "column:missing"],
    ] {
        let mut all = vec!["sort", f.to_str().unwrap(), bad.to_str().unwrap()];
        all.extend(args);
        let o = geoquet(&all);
        assert_eq!(code(&o), 2, "{args:?}");
        assert_one_line_error(&o);
        assert!(!bad.exists());
    }
}

/// A GeoParquet file of `n` points with a few property types, written by our
/// own `convert` from generated GeoJSON: `compression`, row groups of 250.
fn generated_parquet(dir: &std::path::Path, name: &str, compression: &str) -> std::path::PathBuf {
    let mut rng = test_support::Rng::new(14);
    let features: Vec<Value> = (0..1000)
        .map(|i| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [rng.range(-180.0, 180.0), rng.range(-80.0, 80.0)]},
                "properties": {"id": i, "name": format!("n{}", i % 13), "v": rng.unit(), "s": "x".repeat(i % 40)},
            })
        })
        .collect();
    let json = dir.join(format!("{name}.geojson"));
    std::fs::write(
        &json,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let out = dir.join(format!("{name}.parquet"));
    let o = geoquet(&[
        "convert",
        json.to_str().unwrap(),
        out.to_str().unwrap(),
        "--compression",
        compression,
        "--row-group-size",
        "250",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    out
}

/// The byte range of a column chunk, from the file's own footer.
fn chunk_range(path: &std::path::Path, row_group: usize, column: &str) -> std::ops::Range<usize> {
    use geoquet::io::parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let rg = reader.metadata().row_group(row_group);
    let c = rg
        .columns()
        .iter()
        .find(|c| c.column_path().string() == column)
        .unwrap();
    let (start, len) = c.byte_range();
    start as usize..(start + len) as usize
}

/// Damaged pages are reported as "FILE: corrupt data (column C, row group G)"
/// by every command that reads data, exit 2, never a panic or an internal error.
#[test]
fn corrupt_pages_name_the_file_column_and_row_group() {
    let dir = tempfile::tempdir().unwrap();
    for compression in ["snappy", "zstd", "uncompressed"] {
        let good = generated_parquet(dir.path(), compression, compression);
        let range = chunk_range(&good, 1, "geometry");
        let mut bytes = std::fs::read(&good).unwrap();
        // Past the page header: damage the page data (every other byte).
        let data = range.start + 32..range.end;
        for i in data.step_by(2) {
            bytes[i] ^= 0x5a;
        }
        let bad = dir.path().join(format!("bad-{compression}.parquet"));
        std::fs::write(&bad, &bytes).unwrap();
        let bad_name = bad.to_str().unwrap();
        let out = dir.path().join("out.parquet");
        for args in [
            vec!["convert", bad_name, out.to_str().unwrap()],
            vec!["extract", bad_name, "-", "--bbox", "-180,-90,180,90"],
            vec!["validate", bad_name],
        ] {
            let o = geoquet(&args);
            let err = stderr(&o);
            assert!(
                !err.contains("internal error") && !err.contains("panicked"),
                "{args:?}: {err}"
            );
            if args[0] == "validate" && code(&o) == 1 {
                // Decoded into garbage that validate reports as invalid WKB.
                continue;
            }
            assert_eq!(code(&o), 2, "{args:?}: {err}");
            assert_one_line_error(&o);
            assert!(
                err.contains(bad_name)
                    && (err.contains("corrupt data (column \"geometry\", row group 1)")
                        || err.contains("invalid WKB")),
                "{args:?}: {err}"
            );
        }
        assert!(!out.exists());
    }
}

/// Seeded byte flips in page headers and data: every command ends with exit
/// 0, 1 or 2, one line on stderr, no panic text, and a failure on the data
/// names the file.
#[test]
fn mutated_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = generated_parquet(dir.path(), "seed", "snappy");
    let original = std::fs::read(&good).unwrap();
    let footer_len = u32::from_le_bytes(
        original[original.len() - 8..original.len() - 4]
            .try_into()
            .unwrap(),
    ) as usize;
    let data_end = original.len() - 8 - footer_len;
    let mut rng = test_support::Rng::new(28);
    let bad = dir.path().join("mutant.parquet");
    let bad_name = bad.to_str().unwrap().to_owned();
    let out = dir.path().join("out.parquet");
    for _ in 0..40 {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.index(6) {
            let at = 4 + rng.index(data_end - 4);
            bytes[at] = rng.below(256) as u8;
        }
        std::fs::write(&bad, &bytes).unwrap();
        for args in [
            vec!["convert", &bad_name, out.to_str().unwrap()],
            vec!["validate", &bad_name],
        ] {
            let o = geoquet(&args);
            let err = stderr(&o);
            assert!(
                !err.contains("internal error") && !err.contains("panicked"),
                "{args:?}: {err}"
            );
            assert!([0, 1, 2].contains(&code(&o)), "{args:?}: {err}");
            if code(&o) == 2 {
                assert_one_line_error(&o);
                assert!(err.contains(&bad_name), "{args:?}: {err}");
            }
        }
    }
}

/// Standard output closed early (`geoquet ... - | head -c 100`): a quiet exit 0.
#[test]
fn closed_stdout_is_a_quiet_exit() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let input = generated_parquet(dir.path(), "pipe", "snappy");
    // Enough STAC items that to-ndjson outlives the pipe's buffer.
    let stac = test_support::corpus("stac").map(|d| d.join("rustac/1000-sentinel-2-items.parquet"));
    if let Some(p) = &stac {
        assert!(p.is_file(), "{}", p.display());
    }
    let stac = stac.unwrap_or_default();
    let stac_run = vec!["stac", "to-ndjson", stac.to_str().unwrap(), "-"];
    for args in [
        vec!["convert", input.to_str().unwrap(), "-"],
        vec![
            "extract",
            input.to_str().unwrap(),
            "-",
            "--bbox",
            "-180,-90,180,90",
        ],
        vec!["quadbin", "children", "5192650370358181887", "10"],
        stac_run,
    ] {
        // Without the corpus (outside CI) the STAC case is skipped.
        if args[0] == "stac" && stac.as_os_str().is_empty() {
            continue;
        }
        let mut child = command()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(code(&o), 0, "{args:?}: {err}");
        assert!(
            !err.contains("error") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// A server that ignores `Range` (a 200 with the whole body): the input is
/// downloaded whole, and every command reads it as from a server with ranges.
#[test]
fn http_without_ranges_falls_back_to_a_download() {
    let root = test_support::workspace_root();
    let port = serve_with(root.join("test-data"), false);
    let url = format!("http://127.0.0.1:{port}/sample.parquet");
    let o = geoquet(&["inspect", "--json", &url]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["num_rows"], 7);
    let o = geoquet(&["validate", &url]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = geoquet(&["extract", &url, "-", "--bbox", "-20,-40,60,60"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 2);
    // Missing is still a one-line error naming the URL.
    let missing = format!("http://127.0.0.1:{port}/missing.parquet");
    let o = geoquet(&["inspect", &missing]);
    assert_eq!(code(&o), 2);
    assert_one_line_error(&o);
    assert!(stderr(&o).contains(&missing), "{}", stderr(&o));
}

/// `s3://` without credentials names the variables to set (never a value).
#[test]
fn s3_without_credentials_names_the_variables() {
    let o = command()
        .args(["inspect", "s3://geoquet-test-bucket/none.parquet"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_SKIP_SIGNATURE")
        .env("AWS_REGION", "us-east-1")
        // Nowhere to fetch instance credentials from, quickly.
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert_one_line_error(&o);
    let err = stderr(&o);
    assert!(
        err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_SECRET_ACCESS_KEY"),
        "{err}"
    );
    // Only the key id set: the message names the missing one.
    let o = command()
        .args(["inspect", "s3://geoquet-test-bucket/none.parquet"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLEONLY")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SKIP_SIGNATURE")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("AWS_SECRET_ACCESS_KEY is not set"), "{err}");
    assert!(!err.contains("AKIDEXAMPLEONLY"), "{err}");
}

/// `-q` silences summaries: commands that write files print nothing.
#[test]
fn quiet_silences_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let input = generated_parquet(dir.path(), "quiet", "zstd");
    let input = input.to_str().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    for args in [
        vec!["convert", input, &out("a.parquet")],
        vec!["convert", input, &out("a.geojson")],
        vec!["extract", input, &out("b.parquet"), "--bbox", "0,0,10,10"],
        vec!["sort", input, &out("c.parquet")],
        vec!["validate", input],
        vec!["inspect", input],
    ] {
        let mut all = vec!["-q"];
        all.extend(args.iter().copied());
        let o = geoquet(&all);
        assert_eq!(code(&o), 0, "{all:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{all:?}: {o:?}");
        // Without -q, something is said.
        let o = geoquet(&args);
        assert!(!(o.stdout.is_empty() && o.stderr.is_empty()), "{args:?}");
    }
}

/// `check -q`: nothing on success (with `--fix` too: neither report), the
/// exit code is the verdict; a failing file lists only its failing rules;
/// `--json` is data and still prints.
#[test]
fn quiet_check_prints_nothing_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let input = generated_parquet(dir.path(), "quiet-check", "snappy");
    let input = input.to_str().unwrap();
    let fixed = dir.path().join("fixed.parquet");
    let fixed = fixed.to_str().unwrap();
    let o = geoquet(&["-q", "check", input, "--fix", fixed]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    for quiet in ["-q", "--quiet"] {
        let o = geoquet(&[quiet, "check", fixed]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{o:?}");
    }
    // Without -q, both reports and the rules that pass are printed.
    let o = geoquet(&["check", fixed]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("pass"), "{o:?}");
    // The input fails (snappy): only the failing rules, exit 1.
    let o = geoquet(&["-q", "check", input]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("NOT good to publish"), "{text}");
    assert!(text.contains("  fail "), "{text}");
    for line in text.lines().skip(1) {
        assert!(line.trim_start().starts_with("fail"), "{text}");
    }
    // JSON is data: printed with -q.
    let o = geoquet(&["-q", "check", fixed, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["passed"], true);
}

/// Damaged page indexes (written just before the footer): `extract`, which
/// prunes pages with them, never panics and names the file.
#[test]
fn damaged_page_indexes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let input = generated_parquet(dir.path(), "pi", "zstd");
    let fixed = dir.path().join("fixed.parquet");
    let o = geoquet(&[
        "-q",
        "check",
        input.to_str().unwrap(),
        "--fix",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let original = std::fs::read(&fixed).unwrap();
    let footer_len = u32::from_le_bytes(
        original[original.len() - 8..original.len() - 4]
            .try_into()
            .unwrap(),
    ) as usize;
    let end = original.len() - 8 - footer_len;
    let mut rng = test_support::Rng::new(31);
    let bad = dir.path().join("pi-bad.parquet");
    let name = bad.to_str().unwrap().to_owned();
    for _ in 0..40 {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.index(3) {
            let at = end - 1 - rng.index(2000.min(end - 4));
            bytes[at] = rng.below(256) as u8;
        }
        std::fs::write(&bad, &bytes).unwrap();
        let o = geoquet(&["extract", &name, "-", "--bbox", "-10,-10,50,50"]);
        let err = stderr(&o);
        assert!(
            !err.contains("internal error") && !err.contains("panicked"),
            "{err}"
        );
        assert!([0, 2].contains(&code(&o)), "{err}");
        if code(&o) == 2 {
            assert_one_line_error(&o);
            assert!(err.contains(&name), "{err}");
        }
    }
}

/// 20,000 distinct property names over 2,000 features: the GeoParquet file is
/// valid, has at most 1024 property columns, and converts back to the same
/// properties.
#[test]
fn many_property_names_round_trip_through_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let features: Vec<Value> = (0..2000)
        .map(|i| {
            let props: serde_json::Map<String, Value> = (0..10)
                .map(|j| (format!("p{}", i * 10 + j), serde_json::json!(i * 10 + j)))
                .collect();
            serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "properties": props})
        })
        .collect();
    let input = dir.path().join("wide.ndjson");
    let text: Vec<String> = features.iter().map(Value::to_string).collect();
    std::fs::write(&input, text.join("\n")).unwrap();
    let parquet = dir.path().join("wide.parquet");
    let back = dir.path().join("back.ndjson");
    for args in [
        vec![
            "convert",
            input.to_str().unwrap(),
            parquet.to_str().unwrap(),
        ],
        vec!["validate", parquet.to_str().unwrap()],
        vec!["convert", parquet.to_str().unwrap(), back.to_str().unwrap()],
    ] {
        let o = geoquet(&args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    }
    let o = geoquet(&["inspect", "--json", parquet.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // 1023 properties, the folded column, the geometry, the covering.
    assert_eq!(v["fields"].as_array().unwrap().len(), 1026);
    let back: Vec<Value> = std::fs::read_to_string(&back)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back.len(), features.len());
    for (a, b) in features.iter().zip(&back) {
        let kept: serde_json::Map<String, Value> = b["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(a["properties"], Value::Object(kept));
    }
}

/// `convert - OUT < /dev/zero` ends at once with a one-line error naming
/// standard input, and writes nothing.
#[cfg(unix)]
#[test]
fn endless_zeros_on_standard_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("z.parquet");
    let o = command()
        .args(["convert", "-", out.to_str().unwrap()])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_one_line_error(&o);
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
    assert!(!out.exists());
}
