//! `cargo xtask docs [--check]`: the generated pages of the mdBook.
//!
//! - `docs/src/cli-reference.md` from clap: xtask depends on no workspace crate,
//!   so it builds the `geoquet` binary and runs `geoquet --help`, then
//!   `geoquet <command> --help` for every command found in a "Commands:" section,
//!   recursively. `--check` regenerates in memory and fails when the committed
//!   page differs (a step of `cargo xtask ci`).
//! - `docs/src/compatibility.md`: when `target/interop/report.md` exists (written
//!   by `cargo xtask interop`), a summary of it is copied between the markers
//!   [`MATRIX_BEGIN`] and [`MATRIX_END`]. This needs the Python venv, so it is not
//!   part of the staleness check; without a report the page is left alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{cargo, project_root};

/// The generated CLI reference, relative to the workspace root.
const CLI_REFERENCE: &str = "docs/src/cli-reference.md";
/// The compatibility page, relative to the workspace root.
const COMPATIBILITY: &str = "docs/src/compatibility.md";
/// The interop report, relative to the workspace root.
const INTEROP_REPORT: &str = "target/interop/report.md";
/// Start of the generated matrix in [`COMPATIBILITY`].
pub(crate) const MATRIX_BEGIN: &str = "<!-- interop-matrix:begin -->";
/// End of the generated matrix in [`COMPATIBILITY`].
pub(crate) const MATRIX_END: &str = "<!-- interop-matrix:end -->";
/// Terminal width the help is rendered for (clap reads `COLUMNS` when the
/// output is not a terminal), so that the page is the same on every machine.
const HELP_WIDTH: &str = "100";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let check = args.iter().any(|a| a == "--check");
    if let Some(other) = args.iter().find(|a| *a != "--check") {
        bail!("cargo xtask docs: unknown argument {other:?} (usage: cargo xtask docs [--check])");
    }
    let root = project_root();
    if check {
        return check_cli_reference(&root);
    }
    let page = cli_reference(&root)?;
    let path = root.join(CLI_REFERENCE);
    write_atomically(&path, &page)?;
    println!("docs: wrote {}", path.display());
    match update_compatibility(&root)? {
        Some(n) => {
            println!("docs: {COMPATIBILITY}: matrix from {INTEROP_REPORT} ({n} interop rows)")
        }
        None => println!(
            "docs: {INTEROP_REPORT} is absent (run `cargo xtask interop` first); {COMPATIBILITY} left as it is"
        ),
    }
    Ok(())
}

/// Fails when the committed CLI reference is not what the binary prints now.
pub(crate) fn check_cli_reference(root: &Path) -> anyhow::Result<()> {
    let page = cli_reference(root)?;
    let path = root.join(CLI_REFERENCE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != page {
        let first = first_difference(&committed, &page);
        bail!("{CLI_REFERENCE} is stale ({first}): run `cargo xtask docs` and commit the result");
    }
    println!("docs: {CLI_REFERENCE} is up to date");
    Ok(())
}

/// Where the two texts first differ, for the error message.
fn first_difference(old: &str, new: &str) -> String {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for n in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => break,
            (a, b) if a == b => {}
            (a, b) => {
                return format!(
                    "line {n}: committed {:?}, generated {:?}",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                );
            }
        }
    }
    "only whitespace at the end differs".to_owned()
}

/// Builds the CLI and renders the whole reference page.
fn cli_reference(root: &Path) -> anyhow::Result<String> {
    let status = cargo()
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "--package",
            "geoquet-cli",
            "--bin",
            "geoquet",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --package geoquet-cli failed");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let exe = target
        .join("debug")
        .join(format!("geoquet{}", std::env::consts::EXE_SUFFIX));
    let mut pages = Vec::new();
    collect_help(&exe, &mut Vec::new(), &mut pages)?;
    Ok(render_reference(&pages))
}

/// `geoquet <path> --help`, then the same for each command it lists.
fn collect_help(
    exe: &Path,
    path: &mut Vec<String>,
    pages: &mut Vec<(Vec<String>, String)>,
) -> anyhow::Result<()> {
    let out = Command::new(exe)
        .args(path.iter())
        .arg("--help")
        .env("COLUMNS", HELP_WIDTH)
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "`geoquet {} --help` exited with {}: {}",
            path.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let help = String::from_utf8(out.stdout).context("the help is not UTF-8")?;
    let commands = subcommands(&help);
    pages.push((path.clone(), help));
    for command in commands {
        path.push(command);
        collect_help(exe, path, pages)?;
        path.pop();
    }
    Ok(())
}

/// The command names in the "Commands:" section of a clap help text, without
/// clap's own `help`.
pub(crate) fn subcommands(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end() == "Commands:" {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.is_empty() || !line.starts_with(' ') {
            // A blank line or the next heading ends the section.
            break;
        }
        // "  name  description" names a command; deeper indentation continues
        // the description of the previous one.
        let indent = line.len() - line.trim_start().len();
        if indent > 2 {
            continue;
        }
        if let Some(name) = line.split_whitespace().next() {
            let name = name.trim_end_matches(',');
            if name != "help" {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// The markdown page: an index, then one section per command with its help.
pub(crate) fn render_reference(pages: &[(Vec<String>, String)]) -> String {
    let mut md = String::from(
        "# CLI reference\n\n\
         <!-- Generated by `cargo xtask docs` from `geoquet --help`; do not edit by hand.\n     \
         `cargo xtask ci` fails when this page is stale. -->\n\n\
         The output of `--help` for `geoquet` and each of its subcommands.\n\
         [The geoquet command](cli.md) explains them with examples.\n\n",
    );
    for (path, _) in pages {
        let name = command_name(path);
        let depth = path.len();
        let _ = writeln!(md, "{}- [`{name}`](#{})", "  ".repeat(depth), anchor(&name));
    }
    for (path, help) in pages {
        let name = command_name(path);
        let _ = write!(md, "\n## `{name}`\n\n```text\n{}\n```\n", help.trim_end());
    }
    md
}

fn command_name(path: &[String]) -> String {
    let mut name = String::from("geoquet");
    for p in path {
        name.push(' ');
        name.push_str(p);
    }
    name
}

/// The id mdBook gives a heading: lower case, alphanumerics kept, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_ascii_lowercase())
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Copies the interop summary into the compatibility page; `None` when there
/// is no report. Returns the number of rows summarised.
fn update_compatibility(root: &Path) -> anyhow::Result<Option<usize>> {
    let report_path = root.join(INTEROP_REPORT);
    let Ok(report) = std::fs::read_to_string(&report_path) else {
        return Ok(None);
    };
    let rows = parse_report(&report);
    if rows.is_empty() {
        bail!(
            "{} has no `check | client | result` rows",
            report_path.display()
        );
    }
    let summary = summarize(&report, &rows);
    let page_path = root.join(COMPATIBILITY);
    let page = std::fs::read_to_string(&page_path)
        .with_context(|| format!("reading {}", page_path.display()))?;
    let updated = replace_between(&page, MATRIX_BEGIN, MATRIX_END, &summary)
        .with_context(|| format!("in {}", page_path.display()))?;
    write_atomically(&page_path, &updated)?;
    Ok(Some(rows.len()))
}

/// One row of the interop table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportRow {
    check: String,
    client: String,
    result: String,
}

/// The `| check | client | result |` rows of `target/interop/report.md`.
pub(crate) fn parse_report(report: &str) -> Vec<ReportRow> {
    report
        .lines()
        .filter_map(|line| {
            let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
            let mut cells = inner.splitn(3, " | ").map(str::trim);
            let (check, client, result) = (cells.next()?, cells.next()?, cells.next()?);
            let header = check == "check" && client == "client";
            let rule = check.chars().all(|c| c == '-' || c == ':');
            (!header && !rule).then(|| ReportRow {
                check: check.to_owned(),
                client: client.to_owned(),
                result: result.to_owned(),
            })
        })
        .collect()
}

/// The verdict class of a result cell.
fn verdict(result: &str) -> &'static str {
    if result.starts_with("ok") {
        "ok"
    } else if result.starts_with("known issue") {
        "known issue"
    } else if result.starts_with("skipped") {
        "skipped"
    } else {
        "FAILED"
    }
}

/// The GeoParquet target of a `we write: <input>__to_<target>` row.
fn output_target(check: &str) -> Option<String> {
    check
        .strip_prefix("we write: ")
        .and_then(|rest| rest.rsplit_once("__to_"))
        .map(|(_, t)| t.to_owned())
}

fn in_matrix(check: &str) -> bool {
    output_target(check).is_some()
}

/// The family of a check outside the matrix: "they write, we read" for the
/// clients' files, else the check up to its first colon (domain rows are
/// `domain: what`).
fn family(check: &str) -> String {
    if let Some(what) = check.strip_prefix("we read ") {
        if let Some((scheme, _)) = what.split_once("://") {
            return format!("we read {scheme}:// URLs");
        }
        return "they write, we read".to_owned();
    }
    match check.split_once(':') {
        Some((head, _)) => head.trim().to_owned(),
        None => check.to_owned(),
    }
}

#[derive(Default)]
struct Tally {
    ok: usize,
    known: usize,
    skipped: usize,
    failed: usize,
}

impl Tally {
    fn add(&mut self, result: &str) {
        match verdict(result) {
            "ok" => self.ok += 1,
            "known issue" => self.known += 1,
            "skipped" => self.skipped += 1,
            _ => self.failed += 1,
        }
    }

    /// A short cell: `ok 12`, `ok 10, known 2`, …
    fn cell(&self) -> String {
        let mut parts = Vec::new();
        for (label, n) in [
            ("ok", self.ok),
            ("known issue", self.known),
            ("skipped", self.skipped),
            ("FAILED", self.failed),
        ] {
            if n > 0 {
                parts.push(format!("{label} {n}"));
            }
        }
        parts.join(", ")
    }
}

/// The markdown put between the markers: the clients' versions, a matrix of
/// our GeoParquet outputs × readers, and a tally per family and client.
pub(crate) fn summarize(report: &str, rows: &[ReportRow]) -> String {
    let mut md = String::new();
    if let Some(clients) = report.lines().find_map(|l| l.strip_prefix("Clients: ")) {
        let _ = writeln!(md, "Clients: {clients}.\n");
    }
    let mut totals = Tally::default();
    for r in rows {
        totals.add(&r.result);
    }
    let _ = writeln!(
        md,
        "{} checks: {}. Counts are checks (one file, one client each); \
         a known issue is a confirmed client bug, listed in `xtask/interop/README.md`.\n",
        rows.len(),
        totals.cell()
    );

    // Our outputs (rows `we write: <input>__to_<target>`) × the clients reading them.
    let mut matrix: BTreeMap<String, BTreeMap<String, Tally>> = BTreeMap::new();
    let mut readers: Vec<String> = Vec::new();
    for r in rows {
        if let Some(target) = output_target(&r.check) {
            if !readers.contains(&r.client) {
                readers.push(r.client.clone());
            }
            matrix
                .entry(target)
                .or_default()
                .entry(r.client.clone())
                .or_default()
                .add(&r.result);
        }
    }
    if !matrix.is_empty() {
        md.push_str("### Our GeoParquet outputs, read by each client\n\n| our output |");
        for c in &readers {
            let _ = write!(md, " {c} |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---|".repeat(readers.len()));
        md.push('\n');
        for (target, by_client) in &matrix {
            let _ = write!(md, "| `{target}` |");
            for c in &readers {
                let cell = by_client.get(c).map_or_else(|| "–".to_owned(), Tally::cell);
                let _ = write!(md, " {cell} |");
            }
            md.push('\n');
        }
        md.push('\n');
    }

    // Every other family of checks, per client.
    let mut families: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for r in rows.iter().filter(|r| !in_matrix(&r.check)) {
        let key = (family(&r.check), r.client.clone());
        if !families.contains_key(&key) {
            order.push(key.clone());
        }
        families.entry(key).or_default().add(&r.result);
    }
    if order.is_empty() {
        return md;
    }
    md.push_str(
        "### Other checks, by kind and client\n\n| checks | client | results |\n|---|---|---|\n",
    );
    for key in &order {
        if let Some(t) = families.get(key) {
            let _ = writeln!(md, "| {} | {} | {} |", key.0, key.1, t.cell());
        }
    }
    md
}

/// `text` with whatever lies between `begin` and `end` replaced by `body`.
pub(crate) fn replace_between(
    text: &str,
    begin: &str,
    end: &str,
    body: &str,
) -> anyhow::Result<String> {
    let Some(start) = text.find(begin) else {
        bail!("marker {begin} not found");
    };
    let after_begin = start + begin.len();
    let Some(stop) = text[after_begin..].find(end).map(|i| i + after_begin) else {
        bail!("marker {end} not found after {begin}");
    };
    Ok(format!(
        "{}\n{}\n{}",
        &text[..after_begin],
        body.trim_end(),
        &text[stop..]
    ))
}

/// Writes `path` through a temporary file beside it and a rename.
pub(crate) fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: &str = "\
Parquet as the everyday container for geospatial data

Usage: geoquet [OPTIONS] <COMMAND>

Commands:
  inspect      Summarise a GeoParquet file from its footer: version, geometry columns
               (encoding, types)
  validate     Validate GeoParquet metadata
  stac         STAC items
  help         Print this message or the help of the given subcommand(s)

Options:
  -q, --quiet
          Print nothing but errors
";

    #[test]
    fn commands_are_read_from_the_commands_section_only() {
        assert_eq!(subcommands(TOP), ["inspect", "validate", "stac"]);
        assert!(subcommands("Usage: geoquet inspect FILE\n\nOptions:\n  --json\n").is_empty());
    }

    #[test]
    fn the_reference_has_an_index_and_one_section_per_command() {
        let pages = vec![
            (vec![], TOP.to_owned()),
            (
                vec!["stac".to_owned()],
                "Usage: geoquet stac <COMMAND>\n".to_owned(),
            ),
            (
                vec!["stac".to_owned(), "to-parquet".to_owned()],
                "Usage: geoquet stac to-parquet IN OUT\n".to_owned(),
            ),
        ];
        let md = render_reference(&pages);
        assert!(md.contains("- [`geoquet`](#geoquet)\n"));
        assert!(md.contains("  - [`geoquet stac`](#geoquet-stac)\n"));
        assert!(md.contains("    - [`geoquet stac to-parquet`](#geoquet-stac-to-parquet)\n"));
        assert!(md.contains(
            "## `geoquet stac to-parquet`\n\n```text\nUsage: geoquet stac to-parquet IN OUT\n```\n"
        ));
        assert_eq!(md.matches("```text").count(), 3);
        assert!(md.contains("do not edit by hand"));
    }

    const REPORT: &str = "\
# geoquet interop report

Clients: duckdb 2.0.0, geopandas 1.2.0

| check | client | result |
|---|---|---|
| we read gp_1.1.0_wkb | geopandas 1.2.0 (writer) | ok |
| we read gp_2.0.0_wkb | geopandas 1.2.0 (writer) | known issue: pyarrow-null-crs: x | y |
| we write: gp_a__to_1.0_wkb | geopandas 1.2.0 | ok |
| we write: gp_b__to_1.0_wkb | geopandas 1.2.0 | ok |
| we write: gp_a__to_1.0_wkb | duckdb 2.0.0 | FAILED: boom |
| we write: gp_a__to_native_wkb | duckdb 2.0.0 | ok (no geo key) |
| stac: items round trip | stac-geoparquet 0.8 | skipped: no venv |
| we read s3://bucket/a.parquet (inspect) | moto S3 server | ok (7 rows) |
";

    #[test]
    fn the_report_is_summarised_per_output_and_client() {
        let rows = parse_report(REPORT);
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[1].result, "known issue: pyarrow-null-crs: x | y");
        let md = summarize(REPORT, &rows);
        assert!(
            md.contains("Clients: duckdb 2.0.0, geopandas 1.2.0."),
            "{md}"
        );
        assert!(
            md.contains("8 checks: ok 5, known issue 1, skipped 1, FAILED 1."),
            "{md}"
        );
        assert!(
            md.contains("| our output | geopandas 1.2.0 | duckdb 2.0.0 |"),
            "{md}"
        );
        assert!(md.contains("| `1.0_wkb` | ok 2 | FAILED 1 |"), "{md}");
        assert!(md.contains("| `native_wkb` | – | ok 1 |"), "{md}");
        assert!(
            md.contains("| they write, we read | geopandas 1.2.0 (writer) | ok 1, known issue 1 |"),
            "{md}"
        );
        assert!(
            md.contains("| stac | stac-geoparquet 0.8 | skipped 1 |"),
            "{md}"
        );
        assert!(
            md.contains("| we read s3:// URLs | moto S3 server | ok 1 |"),
            "{md}"
        );
        assert!(md.contains("### Other checks"), "{md}");
        assert!(
            !md.contains("| we write"),
            "matrix rows are not repeated: {md}"
        );
    }

    #[test]
    fn markers_keep_what_surrounds_them() {
        let page = format!("intro\n{MATRIX_BEGIN}\nold\n{MATRIX_END}\noutro\n");
        let new = replace_between(&page, MATRIX_BEGIN, MATRIX_END, "new\n").unwrap();
        assert_eq!(
            new,
            format!("intro\n{MATRIX_BEGIN}\nnew\n{MATRIX_END}\noutro\n")
        );
        assert!(replace_between("no markers", MATRIX_BEGIN, MATRIX_END, "x").is_err());
    }

    #[test]
    fn staleness_names_the_first_differing_line() {
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            "line 2: committed \"b\", generated \"c\""
        );
        assert!(first_difference("a\n", "a\nb\n").contains("<end>"));
    }
}
