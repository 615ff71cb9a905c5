//! `geoquet sliderule`: SlideRule-compatible exports of ICESat-2 records
//! (`export`) and rebuilding files from a framed stream (`decode-stream`).

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use geoquet::io::output::Output;
use geoquet::sliderule::input::{
    Row, atl03_from_rows, atl06_from_row, atl08_from_row, csv_rows, ndjson_rows,
};
use geoquet::sliderule::output::{Destination, ParseOptions};
use geoquet::sliderule::{
    Compat, Delivery, ExportOptions, Exported, OutputParams, Record, RecordKind, export,
};
use serde_json::json;

use crate::{Cli, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet sliderule`.
#[derive(Debug, Args)]
pub struct SlideRuleArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: SlideRuleCommand,
}

/// The `sliderule` subcommands.
#[derive(Debug, Subcommand)]
pub enum SlideRuleCommand {
    /// Build a SlideRule-compatible file (GeoParquet, Parquet, Feather or CSV)
    /// from records and deliver it as the `output` parameters say: a local
    /// path (atomic), `file://`, a framed stream (`--stream`), or `s3://`.
    Export(ExportArgs),
    /// Rebuild the files carried by a framed `arrowrec.*` stream (checksums
    /// verified) into a folder, or one file when the stream holds one.
    DecodeStream(DecodeArgs),
    /// Upload an existing file to the `s3://` path of the `output` parameters
    /// (temporary credentials, region or endpoint), as `export` does.
    Upload(UploadArgs),
}

/// Arguments of `geoquet sliderule upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file to upload.
    pub file: PathBuf,
    /// The `output` parameters (an `s3://` path, region or endpoint, credentials).
    #[arg(long, value_name = "JSON")]
    pub output_json: String,
    /// Part size of multipart uploads in MiB (at least 5).
    #[arg(long, value_name = "MIB", default_value_t = 8)]
    pub part_mib: usize,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// The record types.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RecordArg {
    /// ATL06 elevations (`atl06rec`).
    Atl06,
    /// ATL08 vegetation (`atl08rec`).
    Atl08,
    /// ATL03 photons (`atl03rec`, one row per photon).
    Atl03,
}

/// Arguments of `geoquet sliderule export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The record type.
    #[arg(long, value_enum)]
    pub record: RecordArg,
    /// Records, one per line: NDJSON (`.ndjson`, `.jsonl`, `.json`) or CSV
    /// with a header (`.csv`); `-` reads NDJSON from standard input.
    #[arg(long, value_name = "RECORDS")]
    pub input: String,
    /// The `output` request parameter as JSON (SlideRule's keys and aliases).
    #[arg(long, value_name = "JSON")]
    pub output_json: String,
    /// The whole request to echo into the `sliderule` metadata (JSON;
    /// credentials are removed). Default: `{"output": ...}`.
    #[arg(long, value_name = "JSON")]
    pub request_json: Option<String>,
    /// Turn every lenient fallback (a warning) into an error.
    #[arg(long)]
    pub strict: bool,
    /// `sliderule-4.20`: write the exact metadata bytes a v4.20 server writes.
    #[arg(long, value_name = "MODE")]
    pub compat: Option<String>,
    /// Add a GeoParquet 1.1 covering column `bbox`.
    #[arg(long)]
    pub covering: bool,
    /// ATL03: one row per extent, photons as a list of structs.
    #[arg(long)]
    pub compact: bool,
    /// Sort the rows: `time`, or `hilbert` (spatially); bounded memory
    /// (sorted runs spilled to temporary files). Default: arrival order.
    #[arg(long, value_name = "ORDER")]
    pub sort: Option<String>,
    /// Rows per row group (default: SlideRule's 64 MiB budget for the record).
    #[arg(long, value_name = "N")]
    pub row_group_rows: Option<usize>,
    /// Write the framed stream (`arrowrec.meta`/`data`/`eof`) to this file
    /// (`-` = standard output) instead of writing the file at `path`.
    #[arg(long, value_name = "FILE")]
    pub stream: Option<String>,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet sliderule decode-stream`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The framed stream (`-` = standard input).
    pub input: String,
    /// Where to write: a file (when the stream carries one file) or a folder
    /// (files keep their stream names' last component).
    pub output: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn run(cli: &Cli, args: &SlideRuleArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &args.command {
        SlideRuleCommand::Export(a) => run_export(cli, a, out),
        SlideRuleCommand::DecodeStream(a) => run_decode(cli, a, out),
        SlideRuleCommand::Upload(a) => run_upload(cli, a, out),
    }
}

fn rows(input: &str) -> anyhow::Result<Box<dyn Iterator<Item = geoquet::sliderule::Result<Row>>>> {
    if input == "-" {
        let stdin = std::io::stdin();
        return Ok(Box::new(ndjson_rows(BufReader::new(stdin))));
    }
    let file = File::open(input).map_err(|e| Unreadable(format!("{input}: {e}")))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    if input.to_ascii_lowercase().ends_with(".csv") {
        Ok(Box::new(csv_rows(reader)))
    } else {
        Ok(Box::new(ndjson_rows(reader)))
    }
}

fn run_export(cli: &Cli, args: &ExportArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let parsed = OutputParams::parse(
        &args.output_json,
        ParseOptions::default().with_strict(args.strict),
    )
    .map_err(|e| Unreadable(e.to_string()))?;
    if !cli.quiet {
        for w in &parsed.warnings {
            eprintln!("warning: {w}");
        }
    }
    let mut params = parsed.params;
    let mut options = ExportOptions::from_output(&params);
    if let Some(c) = &args.compat {
        options.compat = c.parse::<Compat>().map_err(|e| Unreadable(e.to_string()))?;
    }
    options.request = args.request_json.clone();
    options.covering = args.covering;
    options.compact_atl03 = args.compact;
    options.max_rows_in_group = args.row_group_rows;
    if let Some(by) = &args.sort {
        options.sort = Some(
            by.parse::<geoquet::sliderule::sort::SortBy>()
                .map_err(|e| Unreadable(e.to_string()))?,
        );
    }
    // The flag's name (clap lists the values in --help) parsed by the library.
    let kind = args
        .record
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
        .parse::<RecordKind>()?;
    // A streamed path without --stream: write the file the client would
    // have written, at that path (atomically).
    let dest = params
        .destination()
        .map_err(|e| Unreadable(e.to_string()))?;
    let mut stream_file: Option<Box<dyn Write>> = None;
    // `--stream FILE` is written like every other output: checked before any work,
    // beside FILE, renamed over it only when the export succeeded.
    let mut stream_output: Option<Output> = None;
    match (&dest, &args.stream) {
        (Destination::None, _) => {
            return Err(Unreadable(
                "the output parameters name no path: nothing to write (give \"path\")".into(),
            )
            .into());
        }
        (_, Some(s)) if s == "-" => stream_file = Some(Box::new(std::io::stdout())),
        (_, Some(s)) => {
            let o = Output::create(Path::new(s)).map_err(|e| Unreadable(e.to_string()))?;
            stream_file = Some(Box::new(std::io::BufWriter::new(
                o.writer().map_err(|e| Unreadable(e.to_string()))?,
            )));
            stream_output = Some(o);
        }
        (Destination::Stream(p), None) => params.path = format!("file://{p}"),
        _ => {}
    }
    let sink: Option<&mut dyn Write> = match stream_file.as_mut() {
        Some(w) => Some(w.as_mut()),
        None => None,
    };
    let input = rows(&args.input)?;
    let done = match kind {
        RecordKind::Atl06 => run_kind(
            input.map(|r| r.and_then(|r| atl06_from_row(&r))),
            &params,
            options,
            sink,
        ),
        RecordKind::Atl08 => run_kind(
            input.map(|r| r.and_then(|r| atl08_from_row(&r))),
            &params,
            options,
            sink,
        ),
        _ => run_kind(atl03_from_rows(input), &params, options, sink),
    }
    .map_err(|e| match e {
        // A record's error is about the input: name it.
        geoquet::sliderule::Error::InvalidRecord { .. } => {
            let name = if args.input == "-" {
                "standard input"
            } else {
                &args.input
            };
            Unreadable(format!("{name}: {e}"))
        }
        // A write error on the stream file (a full disk) names it.
        other => match stream_output.as_ref().and_then(Output::write_error) {
            Some(w) => Unreadable(w.to_string()),
            None => Unreadable(other.to_string()),
        },
    })?;
    if let Some(mut w) = stream_file {
        let flushed = w.flush();
        drop(w);
        if let Some(o) = stream_output {
            let flushed = flushed.map_err(|source| geoquet::io::Error::Io {
                path: o.path().to_path_buf(),
                source,
            });
            o.finish(flushed).map_err(|e| Unreadable(e.to_string()))?;
        } else {
            flushed?;
        }
    }
    report(cli, args, &done, &params, out)?;
    Ok(Outcome(EXIT_OK))
}

fn run_kind<R: Record>(
    records: impl Iterator<Item = geoquet::sliderule::Result<R>>,
    params: &OutputParams,
    options: ExportOptions,
    sink: Option<&mut dyn Write>,
) -> geoquet::sliderule::Result<Exported> {
    export(records, params, options, sink)
}

fn report(
    cli: &Cli,
    args: &ExportArgs,
    done: &Exported,
    params: &OutputParams,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (kind, target, size) = match &done.delivery {
        Some(Delivery::Local { path, .. }) => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            ("local", path.display().to_string(), size)
        }
        Some(Delivery::Streamed { name, size, .. }) => ("stream", name.clone(), *size),
        Some(Delivery::Uploaded { url, size, .. }) => ("s3", url.clone(), *size),
        _ => ("none", String::new(), 0),
    };
    if args.json {
        let alerts: Vec<String> = match &done.delivery {
            Some(Delivery::Uploaded { alerts, .. }) => {
                alerts.iter().map(|a| a.text.clone()).collect()
            }
            _ => Vec::new(),
        };
        let v = json!({
            "rows": done.summary.rows,
            "row_groups": done.summary.row_groups,
            "format": params.format.as_str(),
            "as_geo": params.as_geo,
            "delivery": kind,
            "target": target,
            "bytes": size,
            "alerts": alerts,
        });
        // With the stream on standard output, the summary goes to stderr.
        if args.stream.as_deref() == Some("-") {
            eprintln!("{v}");
        } else {
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
    } else if !cli.quiet && args.stream.as_deref() != Some("-") {
        writeln!(
            out,
            "{} rows, {} row groups, {} ({} bytes) -> {kind} {target}",
            done.summary.rows,
            done.summary.row_groups,
            params.format.as_str(),
            size
        )?;
    }
    Ok(())
}

fn run_decode(cli: &Cli, args: &DecodeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let decoded = if args.input == "-" {
        geoquet::sliderule::stream::decode(std::io::stdin().lock())
    } else {
        let f = File::open(&args.input).map_err(|e| Unreadable(format!("{}: {e}", args.input)))?;
        geoquet::sliderule::stream::decode(BufReader::with_capacity(1 << 20, f))
    }
    .map_err(|e| {
        // The stream's own errors say where in the stream; the line names the input.
        let name = if args.input == "-" {
            "standard input"
        } else {
            args.input.as_str()
        };
        Unreadable(format!("{name}: {e}"))
    })?;
    let mut written = Vec::new();
    if decoded.files.len() == 1 && !args.output.is_dir() {
        let f = &decoded.files[0];
        write_atomic(&args.output, &f.bytes)?;
        written.push((
            f.name.clone(),
            args.output.clone(),
            f.bytes.len(),
            f.checksum,
        ));
    } else {
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
        for f in &decoded.files {
            let base = Path::new(&f.name)
                .file_name()
                .map_or_else(|| "file.bin".into(), |n| n.to_os_string());
            let p = args.output.join(base);
            write_atomic(&p, &f.bytes)?;
            written.push((f.name.clone(), p, f.bytes.len(), f.checksum));
        }
    }
    if args.json {
        let files: Vec<_> = written
            .iter()
            .map(|(n, p, len, sum)| json!({"name": n, "path": p.display().to_string(), "bytes": len, "checksum": sum}))
            .collect();
        let remotes: Vec<_> = decoded
            .remotes
            .iter()
            .map(|r| json!({"url": r.url, "size": r.size}))
            .collect();
        let alerts: Vec<_> = decoded
            .alerts
            .iter()
            .map(|a| json!({"code": a.code, "text": a.text}))
            .collect();
        let v = json!({"files": files, "remotes": remotes, "alerts": alerts, "other_records": decoded.other.len()});
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if !cli.quiet {
        for (n, p, len, sum) in &written {
            let check = sum.map_or(String::new(), |s| format!(", checksum {s} ok"));
            writeln!(out, "{n}: {len} bytes{check} -> {}", p.display())?;
        }
        for r in &decoded.remotes {
            writeln!(out, "remote: {} ({} bytes)", r.url, r.size)?;
        }
    }
    Ok(Outcome(EXIT_OK))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let out = Output::create(path).map_err(|e| Unreadable(e.to_string()))?;
    let written = out.writer().and_then(|mut w| {
        w.write_all(bytes).map_err(|source| geoquet::io::Error::Io {
            path: path.to_path_buf(),
            source,
        })
    });
    out.finish(written).map_err(|e| Unreadable(e.to_string()))?;
    Ok(())
}

fn run_upload(cli: &Cli, args: &UploadArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    use geoquet::sliderule::s3::{S3Target, UploadOptions, upload_file_blocking};
    let parsed = OutputParams::parse(&args.output_json, ParseOptions::default())
        .map_err(|e| Unreadable(e.to_string()))?;
    let target = S3Target::from_params(&parsed.params).map_err(|e| Unreadable(e.to_string()))?;
    let options = UploadOptions::default().with_part_size(args.part_mib.max(5) * 1024 * 1024);
    let mut alerts = Vec::new();
    let result = upload_file_blocking(&args.file, &target, &options, &mut alerts);
    if !cli.quiet && !args.json {
        for a in &alerts {
            eprintln!("alert {}: {}", a.code, a.text);
        }
    }
    let size = result.map_err(|e| Unreadable(e.to_string()))?;
    if args.json {
        let texts: Vec<&str> = alerts.iter().map(|a| a.text.as_str()).collect();
        let v = json!({"url": target.url(), "bytes": size, "alerts": texts});
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if !cli.quiet {
        writeln!(out, "{} bytes -> {}", size, target.url())?;
    }
    Ok(Outcome(EXIT_OK))
}
