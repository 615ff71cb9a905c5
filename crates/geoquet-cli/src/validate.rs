//! `geoquet validate`.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use geoquet::meta::validate::{Report, Severity, validate_geo_json};
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
}

pub(crate) fn run(cli: &Cli, args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let report = if args.metadata {
        validate_document(args)?
    } else {
        let footer = crate::source::Source::parse(&args.file)?.footer()?;
        geoquet::meta::validate::validate_file(&footer.facts)
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report.to_json())?)
            .context("writing to stdout")?;
    } else if !cli.quiet || !report.is_valid() {
        text(&args.file, &report, cli, out).context("writing to stdout")?;
    }
    Ok(Outcome(if report.is_valid() {
        EXIT_OK
    } else {
        EXIT_INVALID
    }))
}

fn validate_document(args: &ValidateArgs) -> anyhow::Result<Report> {
    let path = &args.file;
    let bytes = std::fs::read(&args.file).map_err(|e| Unreadable(format!("{path}: {e}")))?;
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

fn text(name: &str, report: &Report, cli: &Cli, out: &mut dyn Write) -> std::io::Result<()> {
    let shown: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info || cli.verbose > 0)
        .collect();
    let errors = report.with_severity(Severity::Error).count();
    let warnings = report.with_severity(Severity::Warning).count();
    if report.is_valid() {
        writeln!(out, "{name}: valid ({warnings} warning(s))")?;
    } else {
        writeln!(
            out,
            "{name}: INVALID ({errors} error(s), {warnings} warning(s))"
        )?;
    }
    for f in shown {
        if cli.quiet && f.severity != Severity::Error {
            continue;
        }
        writeln!(out, "  {f}")?;
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
