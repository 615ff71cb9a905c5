//! `cargo xtask interop`: URLs through object stores, against local emulators.
//!
//! Each store gets `test-data/sample.parquet` uploaded by a client that is not
//! ours, then `geoquet` reads it back through its URL with the options in the
//! environment, as a user would set them:
//!
//! - `s3://`: moto's S3 server (PyPI), uploaded with boto3; `AWS_ENDPOINT`,
//!   `AWS_ALLOW_HTTP`, keys, region.
//! - `az://` (and `abfs://`, `abfss://…@account.dfs.core.windows.net`,
//!   `azure://`, `adl://`, `https://account.blob.core.windows.net`): Azurite
//!   from npm, pinned, installed under `target/azurite` when missing; uploaded
//!   with Microsoft's `azure-storage-blob`; `AZURE_STORAGE_USE_EMULATOR=true`
//!   and `AZURITE_BLOB_STORAGE_URL`.
//! - `gs://`: gcp-storage-emulator (PyPI), uploaded through its JSON API;
//!   `GOOGLE_SERVICE_ACCOUNT_KEY` with `gcs_base_url` and `disable_oauth`.
//!   object_store reads GCS through the XML API and needs `HEAD` plus `ETag`
//!   and `Last-Modified`, which this emulator does not send: the emulator as
//!   shipped is one row (a known issue while its `HEAD` is answered 501 Not
//!   Implemented; any other failure fails it), the emulator
//!   with those two things added (`gcs_emulator.py --xml-headers`) another.
//!
//! What is compared: `inspect --json` equals the local file's (but the path),
//! `validate` passes, `extract --bbox` to NDJSON equals the local file's,
//! `convert` to a local `.parquet` is byte-identical to converting the local
//! file, and a missing object exits 2. A store whose emulator cannot be
//! installed or started here (no npm, no registry) is skipped with the reason.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use crate::interop::{Ctx, Row, Verdict, row, run_python, verdict};

/// Azurite from npm, pinned. 3.36 and later need Node 21+; 3.35 runs on the
/// Node 20 of Debian-based CI images.
const AZURITE: &str = "3.35.0";
/// Where Azurite is installed, relative to the workspace root.
const AZURITE_DIR: &str = "target/azurite";
/// Azurite's blob service entry point inside its package.
const AZURITE_BLOB_MAIN: &str = "node_modules/azurite/dist/src/blob/main.js";
/// The sample every store serves (7 points).
const SAMPLE: &str = "test-data/sample.parquet";
/// The box `extract` uses (2 of the 7 points).
const BBOX: &str = "-20,-40,60,60";
/// Environment prefixes object_store (or our `parse_location`) reads: cleared
/// in every child so that the caller's own settings never leak into a check.
const STORE_ENV: &[&str] = &["AWS_", "GOOGLE_", "AZURE_", "AZURITE_", "OBJECT_STORE_"];

/// Runs the object-store checks, one [`Row`] per check.
pub(crate) fn checks(ctx: &Ctx<'_>, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let out = ctx.out.join("stores");
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    let start = Instant::now();
    let local = Expected::of(ctx, &out)?;

    println!("    s3:// (moto)");
    rows.push(row(
        "we read s3://interop/sample.parquet (inspect, validate, extract, convert = local)",
        "moto S3 server",
        verdict(s3(ctx, &out, &local)),
    ));

    println!("    az:// (Azurite {AZURITE} from npm)");
    azure(ctx, &out, &local, rows);

    println!("    gs:// (gcp-storage-emulator)");
    gcs(ctx, &out, &local, rows);
    println!(
        "    object stores took {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

// --- what the local file gives ---------------------------------------------------------

/// `geoquet`'s answers for the local sample, which every URL must reproduce.
struct Expected {
    inspect: Value,
    extract: Vec<u8>,
    converted: Vec<u8>,
}

impl Expected {
    fn of(ctx: &Ctx<'_>, out: &Path) -> anyhow::Result<Self> {
        let sample = ctx.root.join(SAMPLE);
        let sample = sample.to_str().context("non-UTF-8 workspace path")?;
        let run = |args: &[&str]| -> anyhow::Result<Output> {
            let o = Command::new(ctx.geoquet).args(args).output()?;
            ensure!(
                o.status.success(),
                "geoquet {} on the local sample: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            Ok(o)
        };
        let inspect = without_path(serde_json::from_slice(
            &run(&["inspect", "--json", sample])?.stdout,
        )?);
        let extract = run(&["extract", sample, "-", "--bbox", BBOX])?.stdout;
        ensure!(
            extract
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
                == 2,
            "the local sample should give 2 features in {BBOX}"
        );
        let converted = out.join("local.parquet");
        let converted_s = converted.to_str().context("non-UTF-8 path")?;
        run(&["convert", "-q", sample, converted_s])?;
        Ok(Self {
            inspect,
            extract,
            converted: std::fs::read(&converted)?,
        })
    }
}

/// `inspect --json` without the field that names the input.
fn without_path(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.remove("path");
    }
    v
}

// --- one read-back, whatever the store ---------------------------------------------------

/// `geoquet` with only the given store settings in its environment.
fn geoquet(ctx: &Ctx<'_>, env: &[(&str, String)], args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = Command::new(ctx.geoquet);
    cmd.args(args);
    for (k, _) in std::env::vars_os() {
        let upper = k.to_string_lossy().to_ascii_uppercase();
        if STORE_ENV.iter().any(|p| upper.starts_with(p)) {
            cmd.env_remove(&k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .with_context(|| format!("running {}", ctx.geoquet.display()))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

/// Reads `url` (the sample) and `missing` (no such object) back and compares
/// with the local file; `tag` names the scratch files.
fn read_back(
    ctx: &Ctx<'_>,
    out: &Path,
    local: &Expected,
    env: &[(&str, String)],
    url: &str,
    missing: &str,
    tag: &str,
) -> anyhow::Result<String> {
    let o = geoquet(ctx, env, &["inspect", "--json", url])?;
    ensure!(o.status.success(), "inspect {url}: {}", stderr(&o));
    let info = without_path(serde_json::from_slice(&o.stdout).context("inspect --json")?);
    ensure!(
        info == local.inspect,
        "inspect {url} differs from the local file's: {info} vs {}",
        local.inspect
    );

    let o = geoquet(ctx, env, &["validate", url])?;
    ensure!(
        o.status.success(),
        "validate {url}: {} {}",
        String::from_utf8_lossy(&o.stdout).trim(),
        stderr(&o)
    );

    let o = geoquet(ctx, env, &["extract", url, "-", "--bbox", BBOX])?;
    ensure!(o.status.success(), "extract {url}: {}", stderr(&o));
    ensure!(
        o.stdout == local.extract,
        "extract {url} --bbox {BBOX} differs from the local file's:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let converted = out.join(format!("{tag}.parquet"));
    let converted_s = converted.to_str().context("non-UTF-8 path")?;
    let o = geoquet(ctx, env, &["convert", "-q", url, converted_s])?;
    ensure!(o.status.success(), "convert {url}: {}", stderr(&o));
    ensure!(
        std::fs::read(&converted)? == local.converted,
        "convert {url} is not byte-identical to converting the local file"
    );

    let o = geoquet(ctx, env, &["inspect", missing])?;
    ensure!(
        o.status.code() == Some(2),
        "inspect {missing} (no such object) exited {:?}, expected 2: {}",
        o.status.code(),
        stderr(&o)
    );
    Ok(format!(
        "{} rows; extract, convert = local; missing object exit 2",
        local.inspect["num_rows"]
    ))
}

// --- servers ---------------------------------------------------------------------------

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How long a server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Waits until something listens on `port` (or the server exits).
fn wait_listening(server: &mut Server, port: u16, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.0.try_wait()? {
            bail!("{what} exited ({status}) before listening on port {port}");
        }
        ensure!(
            Instant::now() < deadline,
            "{what} did not listen on port {port} within {} s",
            START_TIMEOUT.as_secs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn log_file(out: &Path, name: &str) -> anyhow::Result<Stdio> {
    Ok(std::fs::File::create(out.join(name))?.into())
}

/// Starts `cmd`, a server on `port`, waits until it listens, then uploads the
/// sample as `interop/KEY` with `xtask/interop/PUT_SCRIPT ENDPOINT interop KEY FILE`;
/// returns the server and its endpoint.
fn serve_sample(
    ctx: &Ctx<'_>,
    cmd: &mut Command,
    port: u16,
    what: &str,
    put_script: &str,
    key: &str,
) -> anyhow::Result<(Server, String)> {
    let mut server = Server(cmd.spawn().with_context(|| format!("starting {what}"))?);
    wait_listening(&mut server, port, what)?;
    let endpoint = format!("http://127.0.0.1:{port}");
    run_python(
        ctx.python,
        &ctx.root.join("xtask/interop").join(put_script),
        &[
            OsString::from(&endpoint),
            "interop".into(),
            key.into(),
            ctx.root.join(SAMPLE).into_os_string(),
        ],
    )?;
    Ok((server, endpoint))
}

// --- s3:// -------------------------------------------------------------------------------

fn s3(ctx: &Ctx<'_>, out: &Path, local: &Expected) -> anyhow::Result<String> {
    let port = free_port()?;
    let (_server, endpoint) = serve_sample(
        ctx,
        Command::new(ctx.python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdout(log_file(out, "moto.log")?)
            .stderr(Stdio::null()),
        port,
        "moto.server",
        "s3_put.py",
        "sample.parquet",
    )?;
    let env = [
        ("AWS_ENDPOINT", endpoint),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "interop".into()),
        ("AWS_SECRET_ACCESS_KEY", "interop".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    read_back(
        ctx,
        out,
        local,
        &env,
        "s3://interop/sample.parquet",
        "s3://interop/missing.parquet",
        "s3",
    )
}

// --- az:// -------------------------------------------------------------------------------

/// The installed Azurite's version, if any.
fn azurite_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules/azurite/package.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_owned)
}

/// Installs the pinned Azurite under `target/azurite` unless it is there;
/// `Err` carries the reason to skip (no npm, no registry).
fn ensure_azurite(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join(AZURITE_DIR);
    if azurite_version(&dir).as_deref() == Some(AZURITE) {
        return Ok(dir);
    }
    for tool in ["node", "npm"] {
        match Command::new(tool).arg("--version").output() {
            Ok(o) if o.status.success() => {}
            _ => {
                return Err(format!(
                    "`{tool}` not found (Azurite needs Node.js and npm)"
                ));
            }
        }
    }
    println!("    npm install azurite@{AZURITE} into {AZURITE_DIR}");
    let o = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--omit=dev",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .arg(format!("azurite@{AZURITE}"))
        .output()
        .map_err(|e| format!("running npm: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let last = err.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
        return Err(format!("npm install azurite@{AZURITE} failed: {last}"));
    }
    match azurite_version(&dir) {
        Some(v) if v == AZURITE => Ok(dir),
        v => Err(format!("npm installed azurite {v:?}, expected {AZURITE}")),
    }
}

fn azure(ctx: &Ctx<'_>, out: &Path, local: &Expected, rows: &mut Vec<Row>) {
    let client = format!("Azurite {AZURITE} (npm)");
    let main_check =
        "we read az://interop/dir/sample.parquet (inspect, validate, extract, convert = local)";
    let forms_check = "we read az:// in its other URL forms (abfs://, abfss://…@account.dfs.core.windows.net, azure://, adl://, https://account.blob.core.windows.net)";
    let dir = match ensure_azurite(ctx.root) {
        Ok(d) => d,
        Err(why) => {
            for check in [main_check, forms_check] {
                rows.push(row(check, client.clone(), Verdict::Skipped(why.clone())));
            }
            return;
        }
    };
    match azure_rounds(ctx, out, local, &dir) {
        Ok((main, forms)) => {
            rows.push(row(main_check, client.clone(), verdict(main)));
            rows.push(row(forms_check, client, verdict(forms)));
        }
        Err(e) => {
            for check in [main_check, forms_check] {
                rows.push(row(
                    check,
                    client.clone(),
                    Verdict::Failed(format!("{e:#}")),
                ));
            }
        }
    }
}

/// Starts Azurite, uploads the sample, then the two read-backs (the outer
/// `Err` is a setup failure that fails both rows).
#[allow(clippy::type_complexity)]
fn azure_rounds(
    ctx: &Ctx<'_>,
    out: &Path,
    local: &Expected,
    dir: &Path,
) -> anyhow::Result<(anyhow::Result<String>, anyhow::Result<String>)> {
    let port = free_port()?;
    let workspace = out.join("azurite");
    std::fs::create_dir_all(&workspace)?;
    let (server, endpoint) = serve_sample(
        ctx,
        Command::new("node")
            .arg(dir.join(AZURITE_BLOB_MAIN))
            .args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(port.to_string())
            .args([
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--silent",
                "--location",
            ])
            .arg(&workspace)
            .stdout(log_file(out, "azurite.log")?)
            .stderr(log_file(out, "azurite.err")?),
        port,
        "Azurite (node)",
        "az_put.py",
        "dir/sample.parquet",
    )?;
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true".to_owned()),
        ("AZURITE_BLOB_STORAGE_URL", endpoint),
    ];
    let main = read_back(
        ctx,
        out,
        local,
        &env,
        "az://interop/dir/sample.parquet",
        "az://interop/dir/missing.parquet",
        "az",
    );
    let forms = (|| -> anyhow::Result<String> {
        let urls = [
            "abfs://interop/dir/sample.parquet",
            "abfss://interop@devstoreaccount1.dfs.core.windows.net/dir/sample.parquet",
            "azure://interop/dir/sample.parquet",
            "adl://interop/dir/sample.parquet",
            "https://devstoreaccount1.blob.core.windows.net/interop/dir/sample.parquet",
        ];
        for url in urls {
            let o = geoquet(ctx, &env, &["inspect", "--json", url])?;
            ensure!(o.status.success(), "inspect {url}: {}", stderr(&o));
            let info = without_path(serde_json::from_slice(&o.stdout)?);
            ensure!(
                info == local.inspect,
                "inspect {url} differs from the local file's"
            );
        }
        Ok(format!("{} forms, inspect = local", urls.len()))
    })();
    drop(server);
    Ok((main, forms))
}

// --- gs:// -------------------------------------------------------------------------------

/// gcp-storage-emulator serving the sample (through `gcs_emulator.py`), and
/// the emulator's version.
fn start_gcs(
    ctx: &Ctx<'_>,
    out: &Path,
    xml_headers: bool,
) -> anyhow::Result<(Server, u16, String)> {
    let port = free_port()?;
    let log = out.join(if xml_headers {
        "gcs-xml.err"
    } else {
        "gcs.err"
    });
    let mut cmd = Command::new(ctx.python);
    cmd.arg(ctx.root.join("xtask/interop/gcs_emulator.py"))
        .arg(port.to_string())
        .args(["interop", "dir/sample.parquet"])
        .arg(ctx.root.join(SAMPLE))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log)?));
    if xml_headers {
        cmd.arg("--xml-headers");
    }
    let mut server = Server(cmd.spawn().context("starting gcs_emulator.py")?);
    let stdout = server.0.stdout.take().context("no stdout")?;
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    // The ready line, read on a thread so that a hung emulator times out (killing
    // it on return closes the pipe, which ends the thread).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let Ok(line) = rx.recv_timeout(START_TIMEOUT) else {
        bail!(
            "gcs_emulator.py printed nothing within {} s: {}",
            START_TIMEOUT.as_secs(),
            log_text().trim()
        );
    };
    let ready: Value = serde_json::from_str(&line?)
        .with_context(|| format!("gcs_emulator.py did not start: {}", log_text().trim()))?;
    let version = ready["version"].as_str().unwrap_or("?").to_owned();
    Ok((server, port, version))
}

/// Whether `line` is object_store's error for a `HEAD` answered 501 Not
/// Implemented (`Error performing HEAD <url> … - Server returned non-2xx status
/// code: 501 Not Implemented: …`, from `client/retry.rs`); matching the status
/// text, not a bare `501`, which the URL's port may contain.
fn is_head_501(line: &str) -> bool {
    line.find("Error performing HEAD ").is_some_and(|at| {
        line[at..].contains("Server returned non-2xx status code: 501 Not Implemented")
    })
}

fn gcs_env(port: u16) -> [(&'static str, String); 1] {
    // A service-account document with no key: object_store then sends no
    // token (`disable_oauth`) to `gcs_base_url`.
    let key = serde_json::json!({
        "private_key": "",
        "private_key_id": "",
        "client_email": "",
        "gcs_base_url": format!("http://127.0.0.1:{port}"),
        "disable_oauth": true,
    });
    [("GOOGLE_SERVICE_ACCOUNT_KEY", key.to_string())]
}

fn gcs(ctx: &Ctx<'_>, out: &Path, local: &Expected, rows: &mut Vec<Row>) {
    let url = "gs://interop/dir/sample.parquet";
    let missing = "gs://interop/dir/missing.parquet";

    // The emulator as shipped.
    let check = "we read gs://interop/dir/sample.parquet (gcp-storage-emulator as shipped)";
    match start_gcs(ctx, out, false) {
        Err(e) => rows.push(row(
            check,
            "gcp-storage-emulator",
            Verdict::Failed(format!("{e:#}")),
        )),
        Ok((server, port, version)) => {
            let env = gcs_env(port);
            let verdict = match read_back(ctx, out, local, &env, url, missing, "gs-as-shipped") {
                Ok(note) => Verdict::Ok(Some(note)),
                Err(e) => {
                    let e = format!("{e:#}");
                    let first = e.lines().next().unwrap_or_default();
                    if is_head_501(first) {
                        Verdict::Known(format!(
                            "object_store's GCS client reads through the XML API, and the emulator \
                             answers its HEAD with 501 Not Implemented: {first}"
                        ))
                    } else {
                        Verdict::Failed(e)
                    }
                }
            };
            drop(server);
            rows.push(row(
                check,
                format!("gcp-storage-emulator {version}"),
                verdict,
            ));
        }
    }

    // With HEAD, ETag and Last-Modified added.
    let check =
        "we read gs://interop/dir/sample.parquet (inspect, validate, extract, convert = local)";
    match start_gcs(ctx, out, true) {
        Err(e) => rows.push(row(
            check,
            "gcp-storage-emulator",
            Verdict::Failed(format!("{e:#}")),
        )),
        Ok((server, port, version)) => {
            let verdict = verdict(read_back(
                ctx,
                out,
                local,
                &gcs_env(port),
                url,
                missing,
                "gs",
            ));
            drop(server);
            rows.push(row(
                check,
                format!(
                    "gcp-storage-emulator {version} + HEAD/ETag/Last-Modified (gcs_emulator.py)"
                ),
                verdict,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_head_501;

    #[test]
    fn head_501_is_the_status_not_the_port() {
        let head = "inspect gs://interop/dir/sample.parquet: error: gs://interop/dir/sample.parquet: \
                    Generic GCS error: Error performing HEAD http://127.0.0.1:45017/interop/dir%2Fsample%2Eparquet \
                    in 3.7s, after 10 retries, max_retries: 10, retry_timeout: 180s  - \
                    Server returned non-2xx status code: 501 Not Implemented: ";
        assert!(is_head_501(head));
        let refused = "inspect gs://interop/dir/sample.parquet: error: Generic GCS error: \
                       Error performing HEAD http://127.0.0.1:50123/interop/dir%2Fsample%2Eparquet \
                       in 1s - HTTP error: error sending request";
        assert!(!is_head_501(refused));
        let get_501 = "Error performing GET http://127.0.0.1:5010/x in 1s - \
                       Server returned non-2xx status code: 501 Not Implemented: ";
        assert!(!is_head_501(get_501));
    }
}
