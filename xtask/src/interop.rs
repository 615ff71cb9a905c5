//! `cargo xtask interop`: cross-checks with the real Python clients.
//!
//! 1. A venv at `target/interop-venv` with the pinned `xtask/interop/requirements.txt`
//!    (reinstalled only when that file changes; offline afterwards).
//! 2. `cargo build -p geoquet-cli`, then `target/debug/geoquet`.
//! 3. They write, we read: `write_theirs.py` writes GeoParquet with GeoPandas and
//!    DuckDB in every option they offer; `geoquet validate --json` and
//!    `geoquet inspect --json` must agree with each file's sidecar.
//! 4. We write, they read: `geoquet convert` in every version/encoding/covering
//!    combination, read back by `read_ours.py` (GeoPandas, pyarrow, DuckDB).
//! 5. A table `check | client | result`, also written to `target/interop/report.md`;
//!    any `FAILED` makes the command fail.
//!
//! Client bugs we confirmed are listed in [`KNOWN_ISSUES`] (and in
//! `xtask/interop/README.md`); they are reported as `known issue`, not as failures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{cargo, project_root};

/// The venv, relative to the workspace root.
const VENV: &str = "target/interop-venv";
/// Where the files and the report go, relative to the workspace root.
const OUT: &str = "target/interop";
/// The scripts and the pinned requirements, relative to the workspace root.
const SCRIPTS: &str = "xtask/interop";
/// The file in the venv that records which requirements it was built from.
const MARKER: &str = ".geoquet-requirements-hash";

/// A client bug we reproduced: files whose name matches are allowed to fail
/// with exactly these finding codes / inspect mismatches.
struct KnownIssue {
    /// Short name, shown in the table.
    id: &'static str,
    /// The file stem starts with one of these ...
    prefixes: &'static [&'static str],
    /// ... contains this ...
    contains: &'static str,
    /// ... and ends with this.
    suffix: &'static str,
    /// Finding codes (`validate`) and `inspect:<field>` tags the issue explains.
    tags: &'static [&'static str],
    /// Why, with the upstream reference.
    reason: &'static str,
}

/// Confirmed client bugs (keep in sync with the table in `xtask/interop/README.md`).
const KNOWN_ISSUES: &[KnownIssue] = &[
    KnownIssue {
        id: "duckdb-m-zm-no-geo",
        prefixes: &["duckdb_V1_", "duckdb_V2_", "duckdb_BOTH_"],
        contains: "",
        suffix: "_m",
        tags: &["metadata_missing", "inspect:exit", "inspect:version"],
        reason: "DuckDB writes no geo key at all when any geometry has M or ZM (V1, V2, BOTH); duckdb/duckdb-spatial#847",
    },
    KnownIssue {
        id: "duckdb-v2-identifier-crs",
        prefixes: &["duckdb_V2_id-"],
        contains: "",
        suffix: "",
        tags: &["crs_mismatch", "inspect:crs"],
        reason: "DuckDB V2 with a CRS given as an identifier ('EPSG:32618') writes it to the GEOMETRY type but omits crs from geo, which then means OGC:CRS84",
    },
    KnownIssue {
        id: "geopandas-m-types",
        prefixes: &["gp_2.0.0_"],
        contains: "",
        suffix: "_m",
        tags: &["zm_mismatch", "stats_mismatch", "inspect:geometry_types"],
        reason: "GeoPandas derives geometry_types from has_z only: POINT M is listed as \"Point\", POINT ZM as \"Point Z\" (the Z fix, geopandas#2824, never covered M)",
    },
    KnownIssue {
        id: "pyarrow-null-crs",
        prefixes: &["gp_2.0.0_"],
        contains: "_nocrs_",
        suffix: "",
        tags: &["crs_mismatch"],
        reason: "GeoPandas 2.0.0 without a CRS writes geo crs null, but pyarrow writes the GEOMETRY type without crs (= OGC:CRS84) instead of srid:0 (GeoParquet PR #286; arrow-rs fixed the same mapping in apache/arrow-rs#10065)",
    },
];

impl KnownIssue {
    fn matches(&self, stem: &str) -> bool {
        self.prefixes.iter().any(|p| stem.starts_with(p))
            && stem.contains(self.contains)
            && stem.ends_with(self.suffix)
    }

    fn explains(&self, problems: &[Problem]) -> bool {
        problems.iter().all(|p| self.tags.contains(&p.tag.as_str()))
    }
}

/// What one check concluded.
pub(crate) enum Verdict {
    Ok(Option<String>),
    Failed(String),
    Skipped(String),
    Known(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok(None) => f.write_str("ok"),
            Self::Ok(Some(note)) => write!(f, "ok ({note})"),
            Self::Failed(why) => write!(f, "FAILED: {why}"),
            Self::Skipped(why) => write!(f, "skipped: {why}"),
            Self::Known(why) => write!(f, "known issue: {why}"),
        }
    }
}

/// `Ok(note)` passes with the note; `Err` fails with the whole error chain.
pub(crate) fn verdict(r: anyhow::Result<String>) -> Verdict {
    match r {
        Ok(note) => Verdict::Ok(Some(note)),
        Err(e) => Verdict::Failed(format!("{e:#}")),
    }
}

/// One line of the table.
pub(crate) struct Row {
    pub(crate) check: String,
    pub(crate) client: String,
    pub(crate) verdict: Verdict,
}

pub(crate) fn row(check: impl Into<String>, client: impl Into<String>, verdict: Verdict) -> Row {
    Row {
        check: check.into(),
        client: client.into(),
        verdict,
    }
}

/// What a domain's cross-checks get: the venv's python, the workspace root,
/// the debug `geoquet` binary and the output directory (`target/interop`).
#[allow(dead_code)] // until every domain module reads its context (remove then)
pub(crate) struct Ctx<'a> {
    pub(crate) python: &'a Path,
    pub(crate) root: &'a Path,
    pub(crate) geoquet: &'a Path,
    pub(crate) out: &'a Path,
}

/// A domain's cross-checks: push one [`Row`] per check; an `Err` becomes a FAILED row.
type DomainChecks = fn(&Ctx<'_>, &mut Vec<Row>) -> anyhow::Result<()>;

/// The domain crates' cross-checks, run after the GeoParquet ones.
const DOMAINS: &[(&str, DomainChecks)] = &[
    (
        "object stores: s3://, az://, gs:// on local emulators",
        crate::interop_stores::checks,
    ),
    ("stac-geoparquet", crate::interop_stac::checks),
    ("quadbin", crate::interop_quadbin::checks),
    ("raquet", crate::interop_raquet::checks),
    ("sliderule-export", crate::interop_sliderule::checks),
];

/// One difference between what `geoquet` said and the sidecar.
struct Problem {
    /// A finding code, or `inspect:<field>`, or `validate:exit`.
    tag: String,
    message: String,
}

fn problem(tag: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        tag: tag.into(),
        message: message.into(),
    }
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(a) = args.first() {
        if a == "-h" || a == "--help" {
            println!(
                "usage: cargo xtask interop\n\ncross-checks geoquet against GeoPandas, pyarrow and DuckDB (see xtask/interop/README.md)"
            );
            return Ok(());
        }
        bail!("interop: unexpected argument {a:?} (try --help)");
    }
    let start = Instant::now();
    let root = project_root();
    let python = ensure_venv(&root)?;
    let geoquet = build_cli(&root)?;
    let out = root.join(OUT);
    for dir in ["theirs", "ours"] {
        let d = out.join(dir);
        if d.exists() {
            std::fs::remove_dir_all(&d).with_context(|| format!("removing {}", d.display()))?;
        }
    }
    std::fs::create_dir_all(out.join("theirs"))?;

    println!("==> they write: {SCRIPTS}/write_theirs.py");
    let theirs = run_python(
        &python,
        &root.join(SCRIPTS).join("write_theirs.py"),
        &[out.join("theirs").into_os_string()],
    )?;
    let versions = theirs.get("versions").cloned().unwrap_or(Value::Null);
    println!("    clients: {}", versions_line(&versions));
    let mut rows = Vec::new();
    if let Some(d) = theirs.get("duckdb") {
        for key in ["geometry", "reason", "error"] {
            if let Some(s) = d.get(key).and_then(Value::as_str) {
                println!("    duckdb {key}: {s}");
            }
        }
        if let Some(e) = d.get("error").and_then(Value::as_str) {
            let why = format!("write_theirs.py raised: {}", e.trim().replace('\n', " | "));
            rows.push(row(
                "they write: DuckDB files",
                "duckdb",
                Verdict::Failed(why),
            ));
        }
    }

    println!("==> we read: geoquet validate/inspect");
    let clean = check_theirs(&geoquet, &theirs, &mut rows)?;
    reader_self_test(&python, &root, &clean, &mut rows)?;
    println!("==> we write, they read: geoquet convert");
    check_ours(&python, &root, &geoquet, &clean, &mut rows)?;
    // The domain crates' cross-checks, each in its own module.
    let ctx = Ctx {
        python: &python,
        root: &root,
        geoquet: &geoquet,
        out: &out,
    };
    for (name, checks) in DOMAINS {
        println!("==> {name}");
        if let Err(e) = checks(&ctx, &mut rows) {
            rows.push(row(
                format!("{name}: cross-checks ran to the end"),
                "xtask",
                Verdict::Failed(format!("{e:#}")),
            ));
        }
    }

    let took = start.elapsed();
    let table = render(&rows, false);
    println!("\n{table}");
    let failed = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Failed(_)))
        .count();
    let report = format!(
        "# geoquet interop report\n\nClients: {}\n\nRuntime: {:.1} s. Regenerate with `cargo xtask interop`.\n\n{}",
        versions_line(&versions),
        took.as_secs_f64(),
        render(&rows, true)
    );
    let report_path = out.join("report.md");
    std::fs::write(&report_path, report)
        .with_context(|| format!("writing {}", report_path.display()))?;
    let count = |f: fn(&Verdict) -> bool| rows.iter().filter(|r| f(&r.verdict)).count();
    println!(
        "interop: {} ok, {} known issue(s), {} skipped, {failed} FAILED in {:.1} s; report: {}",
        count(|v| matches!(v, Verdict::Ok(_))),
        count(|v| matches!(v, Verdict::Known(_))),
        count(|v| matches!(v, Verdict::Skipped(_))),
        took.as_secs_f64(),
        report_path.display()
    );
    if failed > 0 {
        bail!("{failed} interop check(s) FAILED");
    }
    Ok(())
}

// --- venv and build ------------------------------------------------------------------

/// FNV-1a, 64 bits: a stable content hash (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Creates or reuses the venv; installs the requirements when they changed.
pub(crate) fn ensure_venv(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(VENV);
    let python = venv_python(&venv);
    let requirements = root.join(SCRIPTS).join("requirements.txt");
    let pins = std::fs::read(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let hash = format!("{:016x}", fnv1a(&pins));
    if !python.exists() {
        println!("==> creating {VENV}");
        let status = Command::new(if cfg!(windows) { "python" } else { "python3" })
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("running python3 -m venv (is Python 3 installed?)")?;
        if !status.success() {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    let marker = venv.join(MARKER);
    if std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() == hash) {
        println!("==> reusing {VENV} (requirements unchanged)");
        return Ok(python);
    }
    println!("==> pip install -r {SCRIPTS}/requirements.txt (first run or pins changed)");
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip install -r {} failed", requirements.display());
    }
    std::fs::write(&marker, format!("{hash}\n"))?;
    Ok(python)
}

fn build_cli(root: &Path) -> anyhow::Result<PathBuf> {
    println!("==> cargo build -p geoquet-cli");
    let status = cargo()
        .args(["build", "-q", "-p", "geoquet-cli"])
        .status()?;
    if !status.success() {
        bail!("cargo build -p geoquet-cli failed");
    }
    let target = crate::target_dir(root);
    let exe = if cfg!(windows) {
        "geoquet.exe"
    } else {
        "geoquet"
    };
    Ok(target.join("debug").join(exe))
}

pub(crate) fn run_python(
    python: &Path,
    script: &Path,
    args: &[std::ffi::OsString],
) -> anyhow::Result<Value> {
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{} printed no JSON: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

fn versions_line(v: &Value) -> String {
    let Some(map) = v.as_object() else {
        return "?".into();
    };
    map.iter()
        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("-")))
        .collect::<Vec<_>>()
        .join(", ")
}

// --- they write, we read -----------------------------------------------------------

/// A file from `write_theirs.py` (or `geoquet convert`) and its sidecar.
struct Written {
    stem: String,
    path: PathBuf,
    sidecar: Value,
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Checks every file the Python clients wrote; returns the ones that passed
/// cleanly (inputs for the reader self-test and for `geoquet convert`).
fn check_theirs(
    geoquet: &Path,
    theirs: &Value,
    rows: &mut Vec<Row>,
) -> anyhow::Result<Vec<Written>> {
    let mut clean = Vec::new();
    let files = theirs
        .get("files")
        .and_then(Value::as_array)
        .context("write_theirs.py printed no \"files\"")?;
    for f in files {
        let stem = str_of(f, "name").to_owned();
        let client = format!("{} (writer)", str_of(f, "client"));
        let check = format!("we read {stem}");
        match str_of(f, "status") {
            "written" => {}
            "skipped" => {
                rows.push(row(
                    check,
                    client,
                    Verdict::Skipped(str_of(f, "reason").into()),
                ));
                continue;
            }
            other => {
                let why = format!("writer {other}: {}", str_of(f, "reason"));
                rows.push(row(check, client, Verdict::Failed(why)));
                continue;
            }
        }
        let path = PathBuf::from(str_of(f, "path"));
        let sidecar_path = PathBuf::from(str_of(f, "sidecar"));
        let sidecar: Value = serde_json::from_slice(
            &std::fs::read(&sidecar_path)
                .with_context(|| format!("reading {}", sidecar_path.display()))?,
        )?;
        let written = Written {
            stem,
            path,
            sidecar,
        };
        let verdict = judge(&written.stem, &check_with_geoquet(geoquet, &written)?);
        if matches!(verdict, Verdict::Ok(_)) {
            clean.push(written);
        }
        rows.push(row(check, client, verdict));
    }
    Ok(clean)
}

/// What `geoquet validate` and `geoquet inspect` disagree on with the sidecar;
/// plus notes (warnings) when they agree.
struct GeoquetResult {
    problems: Vec<Problem>,
    notes: Vec<String>,
}

fn run_geoquet(geoquet: &Path, args: &[&str], file: &Path) -> anyhow::Result<Output> {
    Command::new(geoquet)
        .args(args)
        .arg(file)
        .output()
        .with_context(|| format!("running {}", geoquet.display()))
}

fn check_with_geoquet(geoquet: &Path, w: &Written) -> anyhow::Result<GeoquetResult> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let side = &w.sidecar;
    let expect_geo = side.get("version").is_some_and(|v| !v.is_null());

    // validate
    let out = run_geoquet(geoquet, &["validate", "--json"], &w.path)?;
    let code = out.status.code().unwrap_or(-1);
    let report: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let findings: Vec<(String, String, String)> = report
        .as_ref()
        .and_then(|r| r.get("findings"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        str_of(f, "code").to_owned(),
                        str_of(f, "severity").to_owned(),
                        str_of(f, "message").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if report.is_none() && matches!(code, 0 | 1) {
        problems.push(problem(
            "validate:json",
            format!("validate exit {code} but printed no JSON report"),
        ));
    }
    let only_missing = findings.iter().all(|(c, _, _)| c == "metadata_missing");
    match (code, expect_geo) {
        (0, true) => {
            for (c, s, _) in &findings {
                notes.push(format!("{s} {c}"));
            }
        }
        (1, false) if only_missing && !findings.is_empty() => {
            notes.push("no geo key by design: validate reports metadata_missing".into());
        }
        (0 | 1, _) => {
            if findings.is_empty() {
                problems.push(problem("validate:exit", format!("validate exit {code}")));
            }
            // Errors are what made it invalid; warnings are only noted.
            for (c, s, m) in findings {
                if s == "error" {
                    problems.push(problem(c.clone(), format!("validate {s} {c}: {m}")));
                } else {
                    notes.push(format!("{s} {c}"));
                }
            }
        }
        _ => problems.push(problem(
            "validate:exit",
            format!(
                "validate exit {code}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )),
    }

    // inspect
    let out = run_geoquet(geoquet, &["inspect", "--json"], &w.path)?;
    if !out.status.success() {
        problems.push(problem(
            "inspect:exit",
            format!(
                "inspect exit {}: {}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
        return Ok(GeoquetResult { problems, notes });
    }
    let info: Value =
        serde_json::from_slice(&out.stdout).context("inspect --json printed no JSON")?;
    compare_inspect(&info, side, &mut problems);
    Ok(GeoquetResult { problems, notes })
}

fn compare_inspect(info: &Value, side: &Value, problems: &mut Vec<Problem>) {
    let mut differ = |tag: &str, got: String, want: String| {
        if got != want {
            problems.push(problem(
                format!("inspect:{tag}"),
                format!("inspect {tag} {got}, expected {want}"),
            ));
        }
    };
    differ(
        "rows",
        info.get("num_rows")
            .map(ToString::to_string)
            .unwrap_or_default(),
        side.get("rows")
            .map(ToString::to_string)
            .unwrap_or_default(),
    );
    let primary = str_of(side, "primary_column");
    differ(
        "primary_column",
        str_of(info, "primary_column").into(),
        primary.into(),
    );
    let source = str_of(info, "metadata_source");
    let got_version = if source == "geo" {
        str_of(info, "version").to_owned()
    } else {
        format!("none ({source})")
    };
    let want_version = side
        .get("version")
        .and_then(Value::as_str)
        .map_or_else(|| "none (native-types)".to_owned(), str::to_owned);
    differ("version", got_version, want_version);

    let column = info
        .get("geometry_columns")
        .and_then(Value::as_array)
        .and_then(|cols| cols.iter().find(|c| str_of(c, "name") == primary));
    let Some(column) = column else {
        problems.push(problem(
            "inspect:geometry_columns",
            format!("inspect lists no geometry column {primary:?}"),
        ));
        return;
    };
    differ(
        "encoding",
        str_of(column, "encoding").into(),
        str_of(side, "encoding").into(),
    );
    let sorted = |v: Option<&Value>| {
        let mut t: Vec<String> = v
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        t.sort();
        t.join(", ")
    };
    differ(
        "geometry_types",
        format!("[{}]", sorted(column.get("geometry_types"))),
        format!("[{}]", sorted(side.get("geometry_types"))),
    );
    let covering = |b: bool| if b { "present" } else { "absent" }.to_owned();
    differ(
        "covering",
        covering(column.get("covering").is_some_and(|c| !c.is_null())),
        covering(
            side.get("covering")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
    );
    let crs = column.get("crs").unwrap_or(&Value::Null);
    let want = side.get("crs").and_then(Value::as_str);
    let (ok, want_label) = match want {
        None => (
            str_of(crs, "kind") == "unknown",
            "unknown (null)".to_owned(),
        ),
        // GeoParquet treats EPSG:4326 as OGC:CRS84 (lon/lat axis order either way),
        // and writers may spell one as the other (or omit it, meaning OGC:CRS84).
        Some(id @ ("OGC:CRS84" | "EPSG:4326")) => (
            crs.get("crs84_equivalent").and_then(Value::as_bool) == Some(true),
            format!("{id} or an equivalent"),
        ),
        Some(id) => {
            let code = id.strip_prefix("EPSG:").and_then(|c| c.parse::<u64>().ok());
            (
                code.is_some() && crs.get("epsg").and_then(Value::as_u64) == code,
                id.to_owned(),
            )
        }
    };
    if !ok {
        problems.push(problem(
            "inspect:crs",
            format!(
                "inspect crs {}, expected {want_label}",
                str_of(crs, "label")
            ),
        ));
    }
}

/// Turns problems into a verdict, consulting the known client bugs.
fn judge(stem: &str, result: &GeoquetResult) -> Verdict {
    let known = KNOWN_ISSUES.iter().find(|k| k.matches(stem));
    if result.problems.is_empty() {
        let mut notes = result.notes.clone();
        if let Some(k) = known {
            notes.push(format!("known issue {} did not reproduce", k.id));
        }
        return Verdict::Ok((!notes.is_empty()).then(|| notes.join("; ")));
    }
    let details = result
        .problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    match known {
        Some(k) if k.explains(&result.problems) => {
            Verdict::Known(format!("{}: {} [{details}]", k.id, k.reason))
        }
        _ => Verdict::Failed(details),
    }
}

// --- reader self-test ------------------------------------------------------------------

/// Runs `read_ours.py` on the GeoPandas files that passed (1.0.0 and later): the
/// readers must agree with the sidecars before they can judge our files.
fn reader_self_test(
    python: &Path,
    root: &Path,
    clean: &[Written],
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let inputs: Vec<&Written> = clean
        .iter()
        .filter(|w| {
            w.stem.starts_with("gp_")
                && !w.stem.starts_with("gp_0.")
                && w.sidecar.get("version").is_some_and(|v| !v.is_null())
        })
        .collect();
    println!(
        "==> reader self-test: {SCRIPTS}/read_ours.py on {} GeoPandas files",
        inputs.len()
    );
    if inputs.is_empty() {
        rows.push(row(
            "reader self-test",
            "read_ours.py",
            Verdict::Skipped("no clean GeoPandas files".into()),
        ));
        return Ok(());
    }
    let results = read_ours(python, root, &inputs)?;
    let mut by_reader: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (path, reader, result) in results {
        let stem = stem_of(&path);
        match by_reader.iter_mut().find(|(r, _)| *r == reader) {
            Some((_, list)) => list.push((stem, result)),
            None => by_reader.push((reader, vec![(stem, result)])),
        }
    }
    for (reader, list) in by_reader {
        let ok = list.iter().filter(|(_, r)| r == "ok").count();
        let failed: Vec<String> = list
            .iter()
            .filter(|(_, r)| r.starts_with("FAILED"))
            .map(|(s, r)| format!("{s}: {r}"))
            .collect();
        let skipped: Vec<&str> = list
            .iter()
            .filter(|(_, r)| r.starts_with("skipped"))
            .map(|(_, r)| r.as_str())
            .collect();
        let check = format!("reader self-test ({} GeoPandas files)", list.len());
        let verdict = if !failed.is_empty() {
            Verdict::Failed(failed.join("; "))
        } else if ok == 0 {
            Verdict::Skipped(skipped.first().copied().unwrap_or("nothing ran").into())
        } else if skipped.is_empty() {
            Verdict::Ok(Some(format!("{ok} files")))
        } else {
            let mut reasons: Vec<&str> = skipped.clone();
            reasons.sort_unstable();
            reasons.dedup();
            Verdict::Ok(Some(format!(
                "{ok} files; {} {}",
                skipped.len(),
                reasons.join("; ")
            )))
        };
        rows.push(row(check, reader, verdict));
    }
    Ok(())
}

fn stem_of(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

/// `read_ours.py FILES...` → (path, reader, result) per file and reader.
fn read_ours(
    python: &Path,
    root: &Path,
    files: &[&Written],
) -> anyhow::Result<Vec<(String, String, String)>> {
    let args: Vec<std::ffi::OsString> = files
        .iter()
        .map(|w| w.path.clone().into_os_string())
        .collect();
    let doc = run_python(python, &root.join(SCRIPTS).join("read_ours.py"), &args)?;
    let results = doc
        .get("results")
        .and_then(Value::as_array)
        .context("read_ours.py printed no \"results\"")?;
    Ok(results
        .iter()
        .map(|r| {
            (
                str_of(r, "path").to_owned(),
                str_of(r, "reader").to_owned(),
                str_of(r, "result").to_owned(),
            )
        })
        .collect())
}

// --- we write, they read -------------------------------------------------------------

/// `geoquet convert` options: (--geoparquet-version, --encoding, --covering-bbox
/// or --no-covering-bbox).
const COMBOS: &[(&str, &str, bool)] = &[
    ("1.0", "wkb", false),
    ("1.1", "wkb", false),
    ("1.1", "wkb", true),
    ("1.1", "geoarrow", false),
    ("1.1", "geoarrow", true),
    ("2.0", "wkb", false),
    ("2.0", "wkb", true),
    ("native", "wkb", false),
];

/// Inputs for `geoquet convert` (stems of files from write_theirs.py).
const CONVERT_INPUTS: &[&str] = &[
    "gp_1.1.0_wkb_nobbox_nocrs_mixed",
    "gp_1.1.0_wkb_nobbox_epsg32618_mixed",
    "gp_1.1.0_wkb_nobbox_epsg4326_z",
    "gp_1.1.0_geoarrow_nobbox_epsg4326_point",
    "gp_1.1.0_geoarrow_bbox_epsg32618_polygon",
    "duckdb_V2_projjson-epsg32618_mixed",
    "gp_2.0.0_wkb_nobbox_epsg4326_mixed",
];

fn combo_label(version: &str, encoding: &str, covering: bool) -> String {
    format!(
        "--geoparquet-version {version} --encoding {encoding}{}",
        if covering {
            " --covering-bbox"
        } else {
            " --no-covering-bbox"
        }
    )
}

/// The GeoArrow encoding name for a single-type 2D/3D column, if there is one.
fn single_type_encoding(side: &Value) -> Option<String> {
    let types = side.get("geometry_types")?.as_array()?;
    let [only] = types.as_slice() else {
        return None;
    };
    let name = only.as_str()?;
    let base = name.strip_suffix(" Z").unwrap_or(name);
    let enc = base.to_ascii_lowercase();
    (enc != "geometrycollection" && !base.contains(' ')).then_some(enc)
}

fn has_m(side: &Value) -> bool {
    side.get("geometry_types")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|t| t.ends_with(" M") || t.ends_with(" ZM"))
        })
}

fn convert_available(geoquet: &Path) -> bool {
    Command::new(geoquet)
        .args(["convert", "--help"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn check_ours(
    python: &Path,
    root: &Path,
    geoquet: &Path,
    clean: &[Written],
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let readers = "geoquet, geopandas, pyarrow, duckdb";
    if !convert_available(geoquet) {
        for &(v, e, c) in COMBOS {
            rows.push(row(
                format!("we write: convert {}", combo_label(v, e, c)),
                readers,
                Verdict::Skipped("geoquet convert not available".into()),
            ));
        }
        return Ok(());
    }
    let dir = root.join(OUT).join("ours");
    std::fs::create_dir_all(&dir)?;
    let mut produced: Vec<Written> = Vec::new();
    let mut pending: Vec<(String, String)> = Vec::new(); // (stem, check label)
    for &input in CONVERT_INPUTS {
        let Some(src) = clean.iter().find(|w| w.stem == input) else {
            rows.push(row(
                format!("we write: convert {input}"),
                readers,
                Verdict::Skipped("input was not written or did not pass".into()),
            ));
            continue;
        };
        for &(version, encoding, covering) in COMBOS {
            let single = single_type_encoding(&src.sidecar);
            if encoding == "geoarrow" && single.is_none() {
                continue; // GeoArrow needs one geometry type
            }
            if has_m(&src.sidecar) && !matches!(version, "2.0" | "native") {
                continue; // only 2.0 can declare M
            }
            let stem = format!(
                "{input}__to_{version}_{encoding}{}",
                if covering { "_bbox" } else { "" }
            );
            let label = format!("we write: {stem}");
            let out_path = dir.join(format!("{stem}.parquet"));
            let mut cmd = Command::new(geoquet);
            cmd.arg("convert").arg(&src.path).arg(&out_path).args([
                "--geoparquet-version",
                version,
                "--encoding",
                encoding,
            ]);
            // Explicit both ways: 1.1 writes a covering by default.
            cmd.arg(if covering {
                "--covering-bbox"
            } else {
                "--no-covering-bbox"
            });
            let out = cmd.output().context("running geoquet convert")?;
            if !out.status.success() {
                let why = format!(
                    "convert {} exit {}: {}",
                    combo_label(version, encoding, covering),
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                rows.push(row(label, "geoquet convert", Verdict::Failed(why)));
                continue;
            }
            let mut side = src.sidecar.clone();
            if let Some(obj) = side.as_object_mut() {
                obj.insert(
                    "writer".into(),
                    Value::String(format!(
                        "geoquet convert {}",
                        combo_label(version, encoding, covering)
                    )),
                );
                let v = match version {
                    "1.0" => Value::String("1.0.0".into()),
                    "1.1" => Value::String("1.1.0".into()),
                    "2.0" => Value::String("2.0.0".into()),
                    _ => Value::Null,
                };
                obj.insert("version".into(), v);
                let enc = if encoding == "geoarrow" {
                    single.clone().unwrap_or_default()
                } else {
                    "WKB".into()
                };
                obj.insert("encoding".into(), Value::String(enc));
                obj.insert("covering".into(), Value::Bool(covering));
            }
            let sidecar_path = dir.join(format!("{stem}.expected.json"));
            std::fs::write(&sidecar_path, serde_json::to_vec_pretty(&side)?)?;
            let written = Written {
                stem: stem.clone(),
                path: out_path,
                sidecar: side,
            };
            let verdict = judge(&stem, &check_with_geoquet(geoquet, &written)?);
            rows.push(row(label.clone(), "geoquet validate/inspect", verdict));
            pending.push((stem, label));
            produced.push(written);
        }
    }
    if produced.is_empty() {
        return Ok(());
    }
    let refs: Vec<&Written> = produced.iter().collect();
    for (path, reader, result) in read_ours(python, root, &refs)? {
        let stem = stem_of(&path);
        let label = pending
            .iter()
            .find(|(s, _)| *s == stem)
            .map_or_else(|| stem.clone(), |(_, l)| l.clone());
        rows.push(row(label, reader, parse_result(&result)));
    }
    Ok(())
}

fn parse_result(result: &str) -> Verdict {
    if result == "ok" {
        Verdict::Ok(None)
    } else if let Some(why) = result.strip_prefix("skipped: ") {
        Verdict::Skipped(why.into())
    } else {
        Verdict::Failed(result.strip_prefix("FAILED: ").unwrap_or(result).into())
    }
}

// --- output ------------------------------------------------------------------------

fn render(rows: &[Row], markdown: bool) -> String {
    let cells: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            let cell = |s: &str| {
                if markdown {
                    s.replace('|', "\\|").replace('\n', " ")
                } else {
                    s.replace('\n', " ")
                }
            };
            [
                cell(&r.check),
                cell(&r.client),
                cell(&r.verdict.to_string()),
            ]
        })
        .collect();
    let header = ["check", "client", "result"];
    let mut out = String::new();
    if markdown {
        let _ = writeln!(out, "| {} | {} | {} |", header[0], header[1], header[2]);
        out.push_str("|---|---|---|\n");
        for [a, b, c] in &cells {
            let _ = writeln!(out, "| {a} | {b} | {c} |");
        }
        return out;
    }
    let w0 = cells
        .iter()
        .map(|c| c[0].chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let w1 = cells
        .iter()
        .map(|c| c[1].chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(out, "{:w0$} | {:w1$} | {}", header[0], header[1], header[2]);
    let _ = writeln!(
        out,
        "{}-+-{}-+-{}",
        "-".repeat(w0),
        "-".repeat(w1),
        "-".repeat(6)
    );
    for [a, b, c] in &cells {
        let _ = writeln!(out, "{a:w0$} | {b:w1$} | {c}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn known_issues_match_by_name() {
        let m = |stem: &str| KNOWN_ISSUES.iter().filter(|k| k.matches(stem)).count();
        assert_eq!(m("duckdb_V2_nocrs_m"), 1);
        assert_eq!(m("duckdb_V2_nocrs_mixed"), 0);
        assert_eq!(m("duckdb_NONE_nocrs_m"), 0);
        assert_eq!(m("gp_2.0.0_wkb_bbox_nocrs_mixed"), 1);
        assert_eq!(m("gp_1.1.0_wkb_bbox_nocrs_mixed"), 0);
    }

    #[test]
    fn single_type_encodings() {
        let side = |t: &[&str]| serde_json::json!({ "geometry_types": t });
        assert_eq!(
            single_type_encoding(&side(&["Point"])).as_deref(),
            Some("point")
        );
        assert_eq!(
            single_type_encoding(&side(&["MultiPolygon Z"])).as_deref(),
            Some("multipolygon")
        );
        assert_eq!(single_type_encoding(&side(&["Point", "Polygon"])), None);
        assert_eq!(single_type_encoding(&side(&["Point M"])), None);
    }
}
