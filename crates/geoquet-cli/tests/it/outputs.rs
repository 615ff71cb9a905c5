//! Outputs and temporary files, end to end (issue 14, classes 24 to 26 and full disks):
//! non-regular destinations refused and left as they were, symbolic links followed,
//! `--stream FILE` atomic, the same permissions for every writer, nothing left behind
//! by SIGINT/SIGTERM, unnamed scratch files, errors naming the output or the
//! temporary directory.
#![cfg(unix)]

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{atl06_line, code, command, geoquet_in, s, sample, stderr};

/// Runs `geoquet ARGS` in `dir` with `TMPDIR` set to `tmp`.
fn geoquet_with_tmpdir(dir: &Path, tmp: &Path, args: &[&str]) -> Output {
    command()
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

/// Hidden temporary files (ours or tempfile's) in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".geoquet-") || n.starts_with(".tmp"))
        .collect()
}

/// `n` GeoJSON point features, one per line, with a few properties.
fn write_ndjson(path: &Path, n: u32) {
    let mut rng = test_support::Rng::new(14);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{"i":{i},"v":{},"name":"feature number {i}"}}}}"#,
            rng.range(-180.0, 180.0),
            rng.range(-90.0, 90.0),
            rng.unit(),
        )
        .unwrap();
    }
    f.flush().unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A character device at `path` (`mknod c 1 7`, /dev/full's numbers) when root, else a
/// symbolic link to /dev/full (a device behind a link is refused the same way).
fn make_device(path: &Path) {
    let made = is_root()
        && Command::new("mknod")
            .args([s(path), "c", "1", "7"])
            .status()
            .is_ok_and(|st| st.success());
    if !made {
        println!("not root (or mknod failed): a link to /dev/full stands for the device");
        std::os::unix::fs::symlink("/dev/full", path).unwrap();
    }
}

fn make_fifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

/// Runs a command against a FIFO with a bound: should it open the FIFO for writing it
/// would block forever, so it is killed after 60 s and the test fails.
fn run_bounded(dir: &Path, args: &[&str]) -> Output {
    let mut child = command()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("geoquet {args:?} still running after 60 s (blocked on the FIFO?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

const ITEM: &str = r#"{"type":"Feature","stac_version":"1.1.0","stac_extensions":[],"id":"a","geometry":{"type":"Point","coordinates":[1.5,2.5]},"bbox":[1.5,2.5,1.5,2.5],"properties":{"datetime":"2020-01-01T00:00:00Z"},"links":[],"assets":{}}"#;

/// Every writer as (arguments, output): the output of the `i`th is `dir/stem-i.EXT`
/// (the extension its format needs). The inputs they need are made in `dir`.
fn writers(dir: &Path, stem: &str) -> Vec<(Vec<String>, PathBuf)> {
    let ndjson = dir.join("in.ndjson");
    if !ndjson.exists() {
        write_ndjson(&ndjson, 20);
        std::fs::write(dir.join("atl06.ndjson"), atl06_line(0) + "\n").unwrap();
        std::fs::write(dir.join("items.ndjson"), format!("{ITEM}\n")).unwrap();
        let o = geoquet_in(
            dir,
            &["stac", "to-parquet", "items.ndjson", "items.parquet"],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let sample = s(&sample()).to_owned();
    let list: Vec<(&str, Vec<&str>)> = vec![
        ("parquet", vec!["convert", &sample, "OUT"]),
        ("geojson", vec!["convert", &sample, "OUT"]),
        ("ndjson", vec!["convert", &sample, "OUT"]),
        ("parquet", vec!["convert", "in.ndjson", "OUT"]),
        ("parquet", vec!["sort", &sample, "OUT"]),
        ("parquet", vec!["check", &sample, "--fix", "OUT"]),
        ("parquet", vec!["stac", "to-parquet", "items.ndjson", "OUT"]),
        ("ndjson", vec!["stac", "to-ndjson", "items.parquet", "OUT"]),
        (
            "parquet",
            vec![
                "sliderule",
                "export",
                "--record",
                "atl06",
                "--input",
                "atl06.ndjson",
                "--output-json",
                "PATHJSON",
            ],
        ),
        (
            "bin",
            vec![
                "sliderule",
                "export",
                "--record",
                "atl06",
                "--input",
                "atl06.ndjson",
                "--output-json",
                r#"{"path": "x.parquet", "format": "parquet"}"#,
                "--stream",
                "OUT",
            ],
        ),
    ];
    list.into_iter()
        .enumerate()
        .map(|(i, (ext, args))| {
            let out = dir.join(format!("{stem}-{i}.{ext}"));
            let json = format!(r#"{{"path": "{}", "format": "parquet"}}"#, out.display());
            let args = args
                .into_iter()
                .map(|a| match a {
                    "OUT" => s(&out).to_owned(),
                    "PATHJSON" => json.clone(),
                    a => a.to_owned(),
                })
                .collect();
            (args, out)
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Odd {
    Device,
    Fifo,
    Directory,
}

#[test]
fn devices_fifos_and_directories_are_refused_and_left_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for odd in [Odd::Device, Odd::Fifo, Odd::Directory] {
        for (args, out) in writers(d, "odd") {
            match odd {
                Odd::Device => make_device(&out),
                Odd::Fifo => make_fifo(&out),
                Odd::Directory => std::fs::create_dir(&out).unwrap(),
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = run_bounded(d, &args);
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{odd:?} {args:?}: {err}");
            assert!(
                err.contains("not a regular file"),
                "{odd:?} {args:?}: {err}"
            );
            assert!(err.contains(s(&out)), "{odd:?} {args:?}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
            assert!(leftovers(d).is_empty(), "{args:?}: {:?}", leftovers(d));
            let ft = std::fs::symlink_metadata(&out).unwrap().file_type();
            match odd {
                Odd::Device => assert!(ft.is_char_device() || ft.is_symlink(), "{ft:?}"),
                Odd::Fifo => assert!(ft.is_fifo(), "{ft:?}"),
                Odd::Directory => {
                    assert!(ft.is_dir() && std::fs::read_dir(&out).unwrap().count() == 0);
                }
            }
            if ft.is_dir() {
                std::fs::remove_dir(&out).unwrap();
            } else {
                std::fs::remove_file(&out).unwrap();
            }
        }
    }
    // RaQuet (from the shared corpus, when present) and `sliderule decode-stream`.
    let mut more: Vec<Vec<String>> = Vec::new();
    let o = geoquet_in(
        d,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "atl06.ndjson",
            "--output-json",
            r#"{"path": "x.parquet", "format": "parquet"}"#,
            "--stream",
            "framed.bin",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    more.push(vec![
        "sliderule".into(),
        "decode-stream".into(),
        "framed.bin".into(),
    ]);
    if let Some(raquet) = test_support::corpus("raquet") {
        let tif = raquet.join("generated/synthetic_uint16_3857.tif");
        let o = geoquet_in(d, &["raquet", "from-geotiff", s(&tif), "r.parquet"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        more.push(vec!["raquet".into(), "from-geotiff".into(), s(&tif).into()]);
        more.push(vec![
            "raquet".into(),
            "to-geotiff".into(),
            "r.parquet".into(),
        ]);
    } else {
        println!("no shared corpus: raquet outputs not checked here");
    }
    for odd in [Odd::Device, Odd::Fifo] {
        for args in &more {
            let out = d.join("odd-more.out");
            match odd {
                Odd::Device => make_device(&out),
                _ => make_fifo(&out),
            }
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.push(s(&out));
            let o = run_bounded(d, &args);
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{odd:?} {args:?}: {err}");
            assert!(
                err.contains("not a regular file"),
                "{odd:?} {args:?}: {err}"
            );
            let ft = std::fs::symlink_metadata(&out).unwrap().file_type();
            assert!(
                ft.is_char_device() || ft.is_symlink() || ft.is_fifo(),
                "{ft:?}"
            );
            assert!(leftovers(d).is_empty(), "{args:?}: {:?}", leftovers(d));
            std::fs::remove_file(&out).unwrap();
        }
    }
    // /dev/full named directly (what `"path": "/dev/full"` did as root).
    let o = geoquet_in(
        d,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "atl06.ndjson",
            "--output-json",
            r#"{"path": "/dev/full", "format": "parquet"}"#,
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/full: is a character device"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::symlink_metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn a_symbolic_link_is_followed_its_target_replaced_and_the_link_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real_dir = d.join("real");
    std::fs::create_dir(&real_dir).unwrap();
    for (i, (args, link)) in writers(d, "link").into_iter().enumerate() {
        let target = real_dir.join(format!("target-{i}"));
        std::fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink(format!("real/target-{i}"), &link).unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = geoquet_in(d, &args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let bytes = std::fs::read(&target).unwrap();
        assert_ne!(
            bytes, b"old",
            "{args:?}: the link's target was not replaced"
        );
        assert!(bytes.len() > 3, "{args:?}");
        assert!(leftovers(d).is_empty() && leftovers(&real_dir).is_empty());
    }
}

#[test]
fn every_writer_creates_files_with_the_same_permissions_and_keeps_a_replaced_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // What a new file gets here (0666 less the umask).
    let probe = d.join("probe");
    std::fs::write(&probe, b"").unwrap();
    let expected = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    let mut outputs = Vec::new();
    for (args, out) in writers(d, "out") {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = geoquet_in(d, &args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        outputs.push((args.join(" "), out));
    }
    if let Some(raquet) = test_support::corpus("raquet") {
        let tif = raquet.join("generated/synthetic_uint16_3857.tif");
        let out = d.join("raster.parquet");
        let o = geoquet_in(d, &["raquet", "from-geotiff", s(&tif), s(&out)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        outputs.push(("raquet from-geotiff".into(), out));
    } else {
        println!("no shared corpus: raquet from-geotiff not checked here");
    }
    for (what, out) in &outputs {
        let mode = std::fs::metadata(out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{what}: {mode:o} instead of {expected:o}");
    }
    // Replacing a file keeps its mode.
    let (_, first) = &outputs[0];
    std::fs::set_permissions(first, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = geoquet_in(d, &["convert", s(&sample()), s(first)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(first).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_failed_stream_export_keeps_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("bad.ndjson"),
        format!("{}\nnot json\n", atl06_line(0)),
    )
    .unwrap();
    let framed = d.join("framed.bin");
    std::fs::write(&framed, b"previous bytes").unwrap();
    let o = geoquet_in(
        d,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "bad.ndjson",
            "--output-json",
            r#"{"path": "x.parquet", "format": "parquet"}"#,
            "--stream",
            "framed.bin",
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(std::fs::read(&framed).unwrap(), b"previous bytes");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    // The same export with good input replaces it.
    std::fs::write(d.join("good.ndjson"), atl06_line(0) + "\n").unwrap();
    let o = geoquet_in(
        d,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "good.ndjson",
            "--output-json",
            r#"{"path": "x.parquet", "format": "parquet"}"#,
            "--stream",
            "framed.bin",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_ne!(std::fs::read(&framed).unwrap(), b"previous bytes");
}

/// Waits (at most 60 s) until `dir` holds a file whose name starts with `prefix`.
fn wait_for_file(dir: &Path, prefix: &str, child: &mut Child) {
    let start = Instant::now();
    loop {
        let found = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with(prefix));
        if found {
            return;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "geoquet ended ({st}) before creating {prefix}* in {}",
                dir.display()
            );
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no {prefix}* in {} after 60 s", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most 60 s) until the child has a file open in `dir` (on Linux the output
/// is an unnamed file there, `/dir/#N (deleted)`; elsewhere a hidden named one).
fn wait_for_open_file(dir: &Path, child: &mut Child) {
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    if !fds.exists() {
        return wait_for_file(dir, ".geoquet-", child);
    }
    let start = Instant::now();
    loop {
        let open = std::fs::read_dir(&fds).is_ok_and(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .any(|target| target.starts_with(dir))
        });
        if open {
            return;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!("geoquet ended ({st}) before opening its output");
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no open file in {} after 60 s", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    let st = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

fn wait_bounded(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("geoquet did not exit within 60 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_removes_the_output_being_written_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = d.join("out.parquet");
    std::fs::write(&out, b"old output").unwrap();
    // Records come from standard input, kept open: the export is midway, its
    // temporary output beside `out`, when the signal comes.
    let mut child = command()
        .args([
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "-",
            "--sort",
            "time",
            "--row-group-rows",
            "100",
            "--output-json",
            &format!(r#"{{"path": "{}", "format": "parquet"}}"#, out.display()),
        ])
        .current_dir(d)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..1000 {
        writeln!(stdin, "{}", atl06_line(i)).unwrap();
    }
    stdin.flush().unwrap();
    wait_for_open_file(d, &mut child);
    signal(&child, "TERM");
    let st = wait_bounded(&mut child);
    drop(stdin);
    assert_eq!(st.code(), Some(143), "{st}");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    assert_eq!(std::fs::read(&out).unwrap(), b"old output");
    // Sort runs are unnamed: nothing in the temporary directory either.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// On Linux outputs and scratch files are unnamed until complete: even SIGKILL, which
/// no handler sees, leaves nothing beside the output or in the temporary directory.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = d.join("out.parquet");
    std::fs::write(&out, b"old output").unwrap();
    let mut child = command()
        .args([
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "-",
            "--sort",
            "time",
            "--row-group-rows",
            "100",
            "--output-json",
            &format!(r#"{{"path": "{}", "format": "parquet"}}"#, out.display()),
        ])
        .current_dir(d)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..1000 {
        writeln!(stdin, "{}", atl06_line(i)).unwrap();
    }
    stdin.flush().unwrap();
    wait_for_open_file(d, &mut child);
    signal(&child, "KILL");
    let st = wait_bounded(&mut child);
    drop(stdin);
    assert_eq!(st.code(), None, "{st}");
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}"); // out.parquet and tmp/
    assert_eq!(std::fs::read(&out).unwrap(), b"old output");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

#[test]
fn sigint_removes_the_copy_of_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = command()
        .args(["stac", "to-parquet", "-", "items.parquet"])
        .current_dir(d)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(br#"{"type":"Feature","id":"a","#).unwrap();
    stdin.flush().unwrap();
    wait_for_file(&tmp, ".geoquet-stdin-", &mut child);
    signal(&child, "INT");
    let st = wait_bounded(&mut child);
    drop(stdin);
    assert_eq!(st.code(), Some(130), "{st}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

#[test]
fn scratch_files_are_unnamed_and_a_missing_temporary_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_ndjson(&d.join("big.ndjson"), 60_000);
    let o = geoquet_in(d, &["convert", "big.ndjson", "big.parquet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // The sort spills runs: unnamed, so the temporary directory stays empty.
    let o = geoquet_with_tmpdir(
        d,
        &tmp,
        &[
            "sort",
            "big.parquet",
            "sorted.parquet",
            "--memory",
            "1M",
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["runs"].as_u64().unwrap_or(0) > 1, "{v}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    // A missing temporary directory is named as such, not blamed on the input.
    let missing = d.join("no-such-tmp");
    for args in [
        &["sort", "big.parquet", "sorted2.parquet", "--memory", "1M"][..],
        &["stac", "to-parquet", "-", "items.parquet"][..],
    ] {
        let o = geoquet_with_tmpdir(d, &missing, args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("temporary directory {}", missing.display())),
            "{args:?}: {err}"
        );
    }
    assert!(!d.join("sorted2.parquet").exists());
}

#[test]
fn standard_input_is_named_as_such_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut child = command()
        .args(["stac", "to-ndjson", "-", "-"])
        .current_dir(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"this is not a Parquet file").unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("standard input"), "{err}");
    assert!(
        !err.contains(".geoquet-stdin-") && !err.contains("/tmp"),
        "{err}"
    );
}

/// A small tmpfs, unmounted on drop.
struct SmallDisk(PathBuf);

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_reported_with_the_output_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mnt = d.join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = is_root()
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", s(&mnt)])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
    if !mounted {
        println!(
            "cannot mount a small tmpfs here: the full-disk case is covered by the unit test of geoparquet_io::output only"
        );
        return;
    }
    let _disk = SmallDisk(mnt.clone());
    write_ndjson(&d.join("big.ndjson"), 20_000);
    // A full temporary directory is named as such, not blamed on the input.
    let o = geoquet_in(d, &["convert", "big.ndjson", "big.parquet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = geoquet_with_tmpdir(
        d,
        &mnt,
        &["sort", "big.parquet", "sorted.parquet", "--memory", "1M"],
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains(&format!(
            "temporary directory {}: No space left on device",
            mnt.display()
        )),
        "{err}"
    );
    assert!(!d.join("sorted.parquet").exists());
    assert_eq!(std::fs::read_dir(&mnt).unwrap().count(), 0);
    // SlideRule's staged export (for --stream) in a full temporary directory.
    let tiny = d.join("tiny");
    std::fs::create_dir(&tiny).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4k", "tmpfs", s(&tiny)])
        .status()
        .unwrap();
    assert!(st.success());
    let _tiny = SmallDisk(tiny.clone());
    let lines: Vec<String> = (0..3000).map(atl06_line).collect();
    std::fs::write(d.join("atl06.ndjson"), lines.join("\n")).unwrap();
    std::fs::write(d.join("framed.bin"), b"old").unwrap();
    let o = geoquet_with_tmpdir(
        d,
        &tiny,
        &[
            "sliderule",
            "export",
            "--record",
            "atl06",
            "--input",
            "atl06.ndjson",
            "--output-json",
            r#"{"path": "x.parquet", "format": "parquet"}"#,
            "--stream",
            "framed.bin",
        ],
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: temporary directory {}: No space left",
            tiny.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("framed.bin")).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(&tiny).unwrap().count(), 0);
    // The GeoJSON reader's spill of parsed columns, from a file and from standard input.
    let o = geoquet_with_tmpdir(d, &mnt, &["convert", "big.ndjson", "b.parquet"]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: temporary directory {}: No space left",
            mnt.display()
        )),
        "{err}"
    );
    let o = command()
        .args(["convert", "-", "b.parquet"])
        .current_dir(d)
        .env("TMPDIR", &mnt)
        .stdin(std::fs::File::open(d.join("big.ndjson")).unwrap())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: temporary directory {}: No space left",
            mnt.display()
        )),
        "{err}"
    );
    assert!(!d.join("b.parquet").exists());
    assert_eq!(std::fs::read_dir(&mnt).unwrap().count(), 0);
    for name in ["out.parquet", "out.geojson"] {
        let full_out = mnt.join(name);
        std::fs::write(&full_out, b"old").unwrap();
        let args = ["convert", "big.ndjson", s(&full_out)];
        let o = geoquet_in(d, &args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("{}: No space left on device", full_out.display())),
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read(&full_out).unwrap(), b"old");
        assert!(leftovers(&mnt).is_empty(), "{:?}", leftovers(&mnt));
    }
}
