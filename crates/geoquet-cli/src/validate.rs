//! `geoquet validate`.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use geoquet::io::ValidateOptions;
use geoquet::meta::validate::{Code, Finding, Report, Severity, validate_geo_json};
use serde_json::Value;

use crate::{Cli, EXIT_INVALID, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The file: a GeoParquet file (path or URL), or with --metadata a JSON
    /// document holding the `geo` object (bare or as `{"geo": {...}}`).
    pub file: String,
    /// FILE is a bare metadata document, not a Parquet file.
    #[arg(long)]
    pub metadata: bool,
    /// Print `{"valid": bool, "findings": [...]}` instead of text.
    #[arg(long)]
    pub json: bool,
    /// Check the footer only (metadata, schema, statistics); skip the data
    /// rules that read every geometry.
    #[arg(long)]
    pub footer_only: bool,
    /// Treat warnings as errors (exit 1 when any warning is found).
    #[arg(long)]
    pub strict: bool,
    /// Offending rows listed per data finding.
    #[arg(long, value_name = "N", default_value_t = geoquet::io::DEFAULT_EXAMPLE_ROWS)]
    pub rows: usize,
    /// Worker threads for the data rules (0 = one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

pub(crate) fn run(cli: &Cli, args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let report = if args.metadata {
        validate_document(args)?
    } else if args.footer_only {
        let footer = crate::source::Source::parse(&args.file)?.footer()?;
        geoquet::meta::validate::validate_file(&footer.facts)
    } else {
        // Data rules read every row group in parallel from a local file; an
        // object behind a URL is downloaded to a temporary file first.
        let source = crate::source::Source::parse(&args.file)?;
        let (path, _guard) = source.local_copy()?;
        let options = ValidateOptions::default()
            .with_example_rows(args.rows)
            .with_threads(args.threads);
        geoquet::io::validate(&path, &options)?
    };
    let valid = report.is_valid()
        && !(args.strict && report.with_severity(Severity::Warning).next().is_some());
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report.to_json())?)
            .context("writing to stdout")?;
    } else if !cli.quiet || !valid {
        text(&args.file, &report, cli, out).context("writing to stdout")?;
    }
    Ok(Outcome(if valid { EXIT_OK } else { EXIT_INVALID }))
}

/// The largest bare metadata document read (real `geo` values are kilobytes; a
/// PROJJSON CRS tens of them): more, such as an endless stream, is refused
/// before it fills memory.
const MAX_DOCUMENT: u64 = 64 << 20;

fn validate_document(args: &ValidateArgs) -> anyhow::Result<Report> {
    use std::io::Read;
    let path = &args.file;
    let file = std::fs::File::open(&args.file).map_err(|e| Unreadable(format!("{path}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Unreadable(format!("{path}: {e}")))?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(Unreadable(format!(
            "{path}: larger than {} MiB: not a `geo` metadata document",
            MAX_DOCUMENT >> 20
        ))
        .into());
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|e| Unreadable(format!("{path}: not UTF-8: {e}")))?;
    let doc: Value =
        serde_json::from_str(text).map_err(|e| Unreadable(format!("{path}: not JSON: {e}")))?;
    Ok(validate_geo_json(unwrap_geo(&doc)))
}

/// `{"geo": {...}}` → the inner object, when the outer object is nothing but
/// that wrapper; anything else is taken as the `geo` object itself.
fn unwrap_geo(doc: &Value) -> &Value {
    match doc {
        Value::Object(m) if m.len() == 1 && m.contains_key("geo") => &m["geo"],
        _ => doc,
    }
}

/// Human report: a summary line, then the findings grouped by rule (errors
/// first), each group with its count.
fn text(name: &str, report: &Report, cli: &Cli, out: &mut dyn Write) -> std::io::Result<()> {
    let errors = report.with_severity(Severity::Error).count();
    let warnings = report.with_severity(Severity::Warning).count();
    // A file without `geo` but with Parquet GEOMETRY/GEOGRAPHY columns is
    // valid as a Parquet-native geospatial file: say so on the summary line.
    let native_only = report
        .with_severity(Severity::Info)
        .any(|f| f.code == Code::MetadataMissing);
    if report.is_valid() && native_only {
        writeln!(
            out,
            "{name}: valid Parquet-native geospatial file, no \"geo\" key ({warnings} warning(s))"
        )?;
    } else if report.is_valid() {
        writeln!(out, "{name}: valid ({warnings} warning(s))")?;
    } else {
        writeln!(
            out,
            "{name}: INVALID ({errors} error(s), {warnings} warning(s))"
        )?;
    }
    let mut groups: Vec<(Severity, Code, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        if (f.severity == Severity::Info && cli.verbose == 0)
            || (cli.quiet && f.severity != Severity::Error)
        {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(s, c, _)| *s == f.severity && *c == f.code)
        {
            Some((_, _, v)) => v.push(f),
            None => groups.push((f.severity, f.code, vec![f])),
        }
    }
    groups.sort_by_key(|(s, _, _)| *s);
    for (severity, code, findings) in groups {
        let rows: u64 = findings.iter().filter_map(|f| f.count).sum();
        let rows = if rows > 0 {
            format!(", {rows} row(s)")
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {} {code} ({} finding(s){rows})",
            severity.as_str(),
            findings.len()
        )?;
        for f in findings {
            let column = f
                .column
                .as_deref()
                .map(|c| format!("column \"{c}\": "))
                .unwrap_or_default();
            write!(out, "    - {column}{}", f.message)?;
            if let Some(n) = f.count {
                let first: Vec<String> = f.rows.iter().map(u64::to_string).collect();
                write!(out, " [{n} row(s); first: {}]", first.join(", "))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unwraps_only_the_wrapper() {
        let inner = json!({"version": "1.1.0"});
        assert_eq!(unwrap_geo(&json!({"geo": inner.clone()})), &inner);
        let bare = json!({"version": "1.1.0", "geo": 1});
        assert_eq!(unwrap_geo(&bare), &bare);
    }
}
