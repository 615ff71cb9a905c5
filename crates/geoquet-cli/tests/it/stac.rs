//! `geoquet stac` end to end: to-parquet, to-ndjson, search, exit codes.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::{command, geoquet, stderr};

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn items_of(path: &std::path::Path) -> Vec<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match v {
        Value::Object(ref o) if o.contains_key("features") => {
            o["features"].as_array().unwrap().clone()
        }
        Value::Array(a) => a,
        other => vec![other],
    }
}

#[test]
fn to_parquet_then_to_ndjson_gives_the_same_items() {
    let Some(stac) = test_support::corpus("stac") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let inputs = [
        stac.join("rustac/item-collection.json"),
        stac.join("stac-geoparquet-py/3dep-lidar-dsm-pc.json"),
        stac.join("synthetic-edge-cases/int-vs-string-same-field.json"),
    ];
    let mut args: Vec<String> = vec!["stac".into(), "to-parquet".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.push(out.display().to_string());
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = geoquet(&argv);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    let want: Vec<Value> = inputs.iter().flat_map(|p| items_of(p)).collect();
    assert_eq!(summary["items"], want.len());
    let o = geoquet(&["stac", "to-ndjson", out.to_str().unwrap(), "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o), want);
    // To a file, atomically, with a summary line.
    let nd = dir.path().join("o.ndjson");
    let o = geoquet(&[
        "stac",
        "to-ndjson",
        out.to_str().unwrap(),
        nd.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.starts_with(&format!("wrote {} items", want.len())),
        "{said}"
    );
    let back: Vec<Value> = std::fs::read_to_string(&nd)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, want);
}

#[test]
fn standard_input_and_quiet() {
    let Some(stac) = test_support::corpus("stac") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let text = std::fs::read(stac.join("rustac/items.ndjson")).unwrap();
    let mut child = command()
        .args(["-q", "stac", "to-parquet", "-", out.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let o = geoquet(&["stac", "to-ndjson", out.to_str().unwrap(), "-"]);
    let want: Vec<Value> = String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines(&o), want);
}

#[test]
fn search_like_a_stac_api() {
    let Some(stac) = test_support::corpus("stac") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.parquet");
    let o = geoquet(&[
        "stac",
        "to-parquet",
        stac.join("rustac/sentinel-2-item-collection.json")
            .to_str()
            .unwrap(),
        out.to_str().unwrap(),
        "--row-group-size",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = lines(&geoquet(&["stac", "search", out.to_str().unwrap()]));
    assert_eq!(all.len(), 10);
    let first = &all[0];
    let id = first["id"].as_str().unwrap();
    let o = geoquet(&[
        "stac",
        "search",
        out.to_str().unwrap(),
        "--ids",
        id,
        "--fields",
        "properties.datetime,-type",
    ]);
    let got = lines(&o);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0],
        serde_json::json!({"id": id, "properties": {"datetime": first["properties"]["datetime"]}})
    );
    let b = first["bbox"].as_array().unwrap();
    let bbox = format!("{},{},{},{}", b[0], b[1], b[2], b[3]);
    let o = geoquet(&[
        "-v",
        "stac",
        "search",
        out.to_str().unwrap(),
        "--bbox",
        &bbox,
        "--limit",
        "1",
        "--format",
        "itemcollection",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["numberReturned"], 1);
    assert!(stderr(&o).contains("row groups:"), "{}", stderr(&o));
    let dt = first["properties"]["datetime"].as_str().unwrap();
    let o = geoquet(&[
        "stac",
        "search",
        out.to_str().unwrap(),
        "--datetime",
        &format!("{dt}/{dt}"),
    ]);
    assert!(lines(&o).iter().any(|i| i["id"] == id));
    let o = geoquet(&[
        "stac",
        "search",
        out.to_str().unwrap(),
        "--datetime",
        "1900-01-01T00:00:00Z/1900-01-02T00:00:00Z",
    ]);
    assert!(lines(&o).is_empty());
}

#[test]
fn errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"type\": \"Feature\", ").unwrap();
    let out = dir.path().join("o.parquet");
    for args in [
        vec![
            "stac",
            "to-parquet",
            bad.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
        vec!["stac", "to-parquet", bad.to_str().unwrap(), "o.txt"],
        vec!["stac", "to-ndjson", bad.to_str().unwrap(), "-"],
        vec!["stac", "search", "missing.parquet"],
        vec![
            "stac",
            "search",
            bad.to_str().unwrap(),
            "--datetime",
            "soon",
        ],
        vec!["stac", "search", bad.to_str().unwrap(), "--format", "csv"],
    ] {
        let o = geoquet(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    // Parsed before the input is opened: the message is about the flag.
    for (flag, value) in [
        ("--fields", "id,-"),
        ("--datetime", "soon"),
        ("--format", "csv"),
    ] {
        let o = geoquet(&["stac", "search", bad.to_str().unwrap(), flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let err = stderr(&o);
        assert!(
            err.contains(flag.trim_start_matches('-')) && err.contains(value),
            "{flag}: {err}"
        );
    }
    assert!(!out.exists());
}

/// A stac-geoparquet file with damaged pages: the decoder's errors (which name no
/// file) come out as one line naming the input, for `search` and `to-ndjson`.
#[test]
fn damaged_pages_name_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("items.ndjson");
    let text: Vec<String> = (0..20)
        .map(|i| small_item(&format!("i{i}"), f64::from(i), "2024-01-01T00:00:00Z").to_string())
        .collect();
    std::fs::write(&items, text.join("\n")).unwrap();
    let good = dir.path().join("good.parquet");
    let o = geoquet(&[
        "stac",
        "to-parquet",
        items.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("damaged.parquet");
    let out = dir.path().join("out.ndjson");
    let mut failures = 0;
    for i in (4..bytes.len().min(600)).step_by(5) {
        let mut b = bytes.clone();
        b[i] = 0xFF;
        std::fs::write(&bad, &b).unwrap();
        for args in [
            vec!["stac", "search", bad.to_str().unwrap()],
            vec![
                "stac",
                "to-ndjson",
                bad.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        ] {
            let o = geoquet(&args);
            let err = stderr(&o);
            assert!(
                matches!(o.status.code(), Some(0 | 2)),
                "byte {i} {args:?}: {err}"
            );
            if o.status.code() == Some(2) {
                failures += 1;
                assert_eq!(err.trim_end().lines().count(), 1, "byte {i}: {err}");
                assert!(err.contains("damaged.parquet"), "byte {i} {args:?}: {err}");
            }
        }
    }
    assert!(failures > 0);
}

/// An endless standard input that is neither JSON nor Parquet is refused at its
/// first byte instead of being copied into the temporary directory until it fills.
#[cfg(target_os = "linux")]
#[test]
fn endless_standard_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = dir.path().join("o.parquet");
    let o = command()
        .args(["stac", "to-parquet", "-", out.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(
        err.trim_end(),
        "error: standard input: neither JSON nor Parquet: byte 0x00 at offset 0"
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    // Endless nesting: refused at its second byte.
    let mut child = command()
        .args(["stac", "to-parquet", "-", out.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let block = vec![b'['; 1 << 16];
        while stdin.write_all(&block).is_ok() {}
    });
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "error: standard input: neither JSON nor Parquet: byte 0x5B at offset 1"
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

fn small_item(id: &str, x: f64, dt: &str) -> Value {
    serde_json::json!({
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": id,
        "geometry": {"type": "Point", "coordinates": [x, 1.5]},
        "bbox": [x, 1.5, x, 1.5],
        "properties": {"datetime": dt},
        "links": [], "assets": {}
    })
}

#[test]
fn directories_and_input_lists() {
    // A directory is read recursively in path order; --inputs-from reads a
    // list of paths (a file or standard input) without the argument limit.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("2021/06")).unwrap();
    std::fs::create_dir_all(tree.join("2020")).unwrap();
    let mut want = Vec::new();
    for (i, name) in ["2020/a.json", "2021/06/b.json", "2021/c.ndjson"]
        .iter()
        .enumerate()
    {
        let it = small_item(&format!("d{i}"), i as f64, "2020-01-01T00:00:00Z");
        std::fs::write(tree.join(name), format!("{it}\n")).unwrap();
        want.push(it);
    }
    std::fs::write(tree.join("README.md"), "not items").unwrap();
    let out = dir.path().join("o.parquet");
    let o = geoquet(&[
        "stac",
        "to-parquet",
        tree.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = geoquet(&["stac", "to-ndjson", out.to_str().unwrap(), "-"]);
    assert_eq!(lines(&o), want);

    // 3000 single-item files through a list.
    let many = dir.path().join("many");
    std::fs::create_dir_all(&many).unwrap();
    let mut list = String::new();
    let mut want = Vec::new();
    for i in 0..3000 {
        let it = small_item(
            &format!("m{i:04}"),
            f64::from(i) / 100.0,
            "2020-01-01T00:00:00Z",
        );
        let p = many.join(format!("m{i:04}.json"));
        std::fs::write(&p, it.to_string()).unwrap();
        list.push_str(&format!("{}\n", p.display()));
        want.push(it);
    }
    list.push_str("\n   \n");
    let list_file = dir.path().join("inputs.txt");
    std::fs::write(&list_file, &list).unwrap();
    let o = geoquet(&[
        "stac",
        "to-parquet",
        "--inputs-from",
        list_file.to_str().unwrap(),
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["items"], 3000);
    let o = geoquet(&["stac", "to-ndjson", out.to_str().unwrap(), "-"]);
    assert_eq!(lines(&o), want);
    // The same list on standard input.
    let mut child = command()
        .args([
            "-q",
            "stac",
            "to-parquet",
            "--inputs-from",
            "-",
            out.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = geoquet(&["stac", "to-ndjson", out.to_str().unwrap(), "-"]);
    assert_eq!(lines(&o).len(), 3000);
    // An empty list, and no input at all: one-line errors.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    for args in [
        vec![
            "stac",
            "to-parquet",
            "--inputs-from",
            empty.to_str().unwrap(),
            "x.parquet",
        ],
        vec!["stac", "to-parquet", "x.parquet"],
    ] {
        let o = geoquet(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
}

#[test]
fn datetime_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let items: Vec<Value> = (1..=4)
        .map(|m| small_item(&format!("t{m}"), 1.0, &format!("2020-0{m}-15T12:00:00Z")))
        .collect();
    let text: String = items.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("o.parquet");
    let o = geoquet(&[
        "stac",
        "to-parquet",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids = |dt: &str| -> Vec<String> {
        let o = geoquet(&["stac", "search", out.to_str().unwrap(), "--datetime", dt]);
        assert_eq!(o.status.code(), Some(0), "{dt}: {}", stderr(&o));
        lines(&o)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids("2020-02-01T00:00:00Z/2020-03-31T00:00:00Z"),
        ["t2", "t3"]
    );
    assert_eq!(ids("../2020-02-15T12:00:00Z"), ["t1", "t2"]);
    assert_eq!(ids("2020-03-15T12:00:00Z/.."), ["t3", "t4"]);
    assert_eq!(ids("2020-03-15T12:00:00+00:00/"), ["t3", "t4"]);
    assert_eq!(ids("/2020-01-31T00:00:00Z"), ["t1"]);
    assert_eq!(ids("2020-04-15"), ["t4"], "a date is the whole day");
    assert_eq!(ids("2020-02-01/2020-03-15"), ["t2", "t3"]);
    assert_eq!(ids("2020-02-15T12:00:00Z"), ["t2"]);
    for bad in [
        "../..",
        "2020-03-01T00:00:00Z/2020-02-01T00:00:00Z",
        "2020-01-01T00:00:00Z/2020-02-01T00:00:00Z/2020-03-01T00:00:00Z",
        "2020-13-01",
        "",
    ] {
        let o = geoquet(&["stac", "search", out.to_str().unwrap(), "--datetime", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("datetime"), "{err}");
    }
}
