//! `geoquet check` (best practice, optional `--fix`) and `geoquet sort`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use geoquet::io::check::{CheckReport, FixOptions, Status, check_file, fix_file, to_json};
use geoquet::io::sort::{SortKey, SortOptions, sort_file};
use geoquet::io::writer::TargetVersion;
use serde_json::json;

use crate::convert::WriteArgs;
use crate::{Cli, EXIT_INVALID, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The GeoParquet file (a path, or a URL: it is downloaded first).
    pub file: String,
    /// Print `{"passed": bool, "checks": [...]}` (with --fix:
    /// `{"before": ..., "after": ..., ...}`) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Rewrite the file to OUT so that every rule passes (sorted, covering,
    /// ZSTD, row groups resized), atomically; FILE is left untouched.
    #[arg(long, value_name = "OUT")]
    pub fix: Option<String>,
    /// With --fix: write this GeoParquet version (1.0, 1.1, 2.0, native);
    /// default: the input's when 1.1 or later, else 1.1.
    #[arg(long, value_name = "VERSION", requires = "fix")]
    pub upgrade: Option<String>,
    /// Memory cap of the sort that --fix may run (e.g. 512M, 2G); see `sort
    /// --memory`.
    #[arg(long, value_name = "SIZE", requires = "fix")]
    pub memory: Option<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// Arguments of `geoquet sort`.
#[derive(Debug, Args)]
pub struct SortArgs {
    /// Input GeoParquet file (a path, or a URL: it is downloaded first).
    pub input: String,
    /// Output .parquet file (written atomically).
    pub output: String,
    /// Order: hilbert (of each geometry's bbox centre), quadkey, or column:NAME.
    #[arg(long, value_name = "KEY", default_value = "hilbert")]
    pub by: String,
    /// Memory cap (bytes, or with a K/M/G suffix, at least 4M) for the rows the
    /// sort holds: runs, merge buffers and the two row groups being written (each
    /// at most an eighth of the cap, so a small cap makes small row groups). The
    /// process needs about 64 MiB more, plus about 2 MiB per column (decoder,
    /// compressors). Larger
    /// inputs are sorted in runs spilled to a temporary directory and merged.
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    pub memory: String,
    /// Where spilled runs go (default: the system temporary directory).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<String>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
    /// Writer options.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `512M`, `2G`, `1048576`, `64k` → bytes.
pub(crate) fn parse_size(s: &str) -> anyhow::Result<usize> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: usize = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(Unreadable(format!("size {s:?}: unknown unit {c}")).into()),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| {
        Unreadable(format!(
            "size {s:?}: expected a number with an optional K, M or G"
        ))
    })?;
    if !(n.is_finite() && n > 0.0) {
        return Err(Unreadable(format!("size {s:?} must be positive")).into());
    }
    Ok((n * mult as f64) as usize)
}

/// One line of verdict and one per rule. With `--quiet` (callers print a
/// report then only when it fails) only the rules that fail it are listed:
/// failures, and warnings under `--strict`.
fn print_report(
    out: &mut dyn Write,
    name: &str,
    report: &CheckReport,
    cli: &Cli,
    strict: bool,
) -> std::io::Result<()> {
    let count = |s: Status| {
        report
            .findings
            .iter()
            .filter(|f| Status::of(f) == s)
            .count()
    };
    let (fails, warns) = (count(Status::Fail), count(Status::Warn));
    writeln!(
        out,
        "{name}: {} ({fails} failed, {warns} warning(s), {} rule(s))",
        if report.is_valid() {
            "good to publish"
        } else {
            "NOT good to publish"
        },
        report.findings.len()
    )?;
    for f in &report.findings {
        let status = Status::of(f);
        let counts = status == Status::Fail || (strict && status == Status::Warn);
        if cli.quiet && !counts {
            continue;
        }
        writeln!(
            out,
            "  {:<4} {:<15} {} [threshold: {}]",
            status.as_str(),
            f.code.as_str(),
            f.message,
            f.code.threshold()
        )?;
    }
    Ok(())
}

pub(crate) fn run_check(
    cli: &Cli,
    args: &CheckArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let source = crate::source::Source::parse(&args.file)?;
    let (path, _guard) = source.local_copy()?;
    let verdict = |r: &CheckReport| {
        r.is_valid() && !(args.strict && r.findings.iter().any(|f| Status::of(f) == Status::Warn))
    };
    let Some(fix) = &args.fix else {
        let report = check_file(&path)?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&to_json(&report))?)?;
        } else if !cli.quiet || !verdict(&report) {
            // Quiet: nothing on success; the exit code says it.
            print_report(out, &args.file, &report, cli, args.strict)
                .context("writing to stdout")?;
        }
        return Ok(Outcome(if verdict(&report) {
            EXIT_OK
        } else {
            EXIT_INVALID
        }));
    };
    if Path::new(fix) == path.as_path() {
        return Err(Unreadable("--fix OUT must differ from the input".into()).into());
    }
    let mut options = FixOptions::default();
    if let Some(v) = args.upgrade.as_deref() {
        options = options.with_version(v.parse::<TargetVersion>()?);
    }
    if let Some(m) = args.memory.as_deref() {
        options = options.with_memory(parse_size(m)?);
    }
    let started = Instant::now();
    let summary = fix_file(&path, Path::new(fix), &options)?;
    crate::convert::print_warnings(&args.file, &summary.warnings);
    if args.json {
        let doc = json!({
            "before": to_json(&summary.before),
            "after": to_json(&summary.after),
            "sorted": summary.sorted,
            "rows": summary.rows,
            "output": fix,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        // Quiet: only an output that still fails is reported.
        if !cli.quiet {
            print_report(out, &args.file, &summary.before, cli, args.strict)?;
        }
        if !cli.quiet || !verdict(&summary.after) {
            print_report(out, fix, &summary.after, cli, args.strict)?;
        }
        if !cli.quiet {
            writeln!(
                out,
                "{fix}: {} rows written{} in {:.2} s",
                summary.rows,
                if summary.sorted {
                    " (Hilbert-sorted)"
                } else {
                    ""
                },
                started.elapsed().as_secs_f64()
            )?;
        }
    }
    Ok(Outcome(if verdict(&summary.after) {
        EXIT_OK
    } else {
        EXIT_INVALID
    }))
}

pub(crate) fn run_sort(cli: &Cli, args: &SortArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let source = crate::source::Source::parse(&args.input)?;
    let (path, _guard) = source.local_copy()?;
    if Path::new(&args.output) == path.as_path() {
        return Err(Unreadable("the output must differ from the input".into()).into());
    }
    let key = args.by.parse::<SortKey>()?;
    let options = SortOptions::default()
        .with_key(key)
        .with_memory(parse_size(&args.memory)?)
        .with_temp_dir(args.temp_dir.as_ref().map(Into::into))
        .with_writer(args.write.options()?)
        // A sort keeps the input's version and encoding unless told otherwise.
        .with_keep_input_format(!args.write.format_given());
    let started = Instant::now();
    let s = sort_file(&path, Path::new(&args.output), &options)?;
    crate::convert::print_warnings(&args.input, &s.written.warnings);
    if args.json {
        let doc = json!({
            "output": args.output,
            "rows": s.written.rows,
            "row_groups": s.written.row_groups,
            "runs": s.runs,
            "overlap_before": s.overlap_before,
            "overlap_after": s.overlap_after,
            "seconds": started.elapsed().as_secs_f64(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else if !cli.quiet {
        let f =
            |o: Option<f64>| o.map_or_else(|| "n/a (one row group)".into(), |v| format!("{v:.3}"));
        writeln!(
            out,
            "{}: {} rows in {} row group(s), sorted by {} in {:.2} s ({} spilled run(s))\nrow-group overlap: {} before, {} after",
            args.output,
            s.written.rows,
            s.written.row_groups,
            args.by,
            started.elapsed().as_secs_f64(),
            s.runs,
            f(s.overlap_before),
            f(s.overlap_after)
        )?;
    }
    Ok(Outcome(EXIT_OK))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("3Q").is_err());
    }
}
