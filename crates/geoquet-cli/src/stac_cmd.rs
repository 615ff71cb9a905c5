//! `geoquet stac`: STAC Items to stac-geoparquet and back, and item search.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use geoquet::io::output::{Output, ScratchPath};
use geoquet::stac::{
    DatetimeInterval, Fields, ReadOptions, Search, Source as ItemSource, WriterOptions,
};
use serde_json::Value;

use crate::convert::{Progress, parse_bbox, parse_compression};
use crate::source::Source;
use crate::{Cli, EXIT_OK, Outcome, Unreadable};

/// Arguments of `geoquet stac`.
#[derive(Debug, Args)]
pub struct StacArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: StacCommand,
}

/// The `stac` subcommands.
#[derive(Debug, Subcommand)]
pub enum StacCommand {
    /// Write STAC Items (Item, ItemCollection, NDJSON, JSON array, or a
    /// static Catalog/Collection whose links are followed) to stac-geoparquet,
    /// losslessly, with the schema inferred over all items; the output is
    /// written atomically.
    ToParquet(ToParquetArgs),
    /// Write the items of a stac-geoparquet file (ours, Python
    /// stac-geoparquet's, rustac's or a legacy layout) as NDJSON.
    ToNdjson(ToNdjsonArgs),
    /// Search a stac-geoparquet file like a STAC API item search, pruning row
    /// groups by their bbox and datetime statistics.
    Search(SearchArgs),
}

/// Arguments of `geoquet stac to-parquet`.
#[derive(Debug, Args)]
pub struct ToParquetArgs {
    /// Inputs then the output: IN.. OUT. An input is a file, a directory (its
    /// .json, .ndjson and .geojson files at any depth, in path order), a URL
    /// (file://, s3://, gs://, az://, http(s)://) or - (standard input); OUT a
    /// .parquet path.
    #[arg(required = true, num_args = 1.., value_name = "IN.. OUT")]
    pub paths: Vec<String>,
    /// Also read the inputs listed in FILE, one per line (- for standard
    /// input), after those on the command line: for more inputs than the
    /// command line can hold.
    #[arg(long, value_name = "FILE")]
    pub inputs_from: Option<String>,
    /// A STAC Collection JSON file to store in the `collections` metadata
    /// (repeatable).
    #[arg(long, value_name = "FILE")]
    pub collection: Vec<PathBuf>,
    /// Compression: zstd[:LEVEL] (default zstd:3), snappy, gzip[:LEVEL],
    /// brotli[:LEVEL], lz4, none.
    #[arg(long, value_name = "CODEC", default_value = "zstd")]
    pub compression: String,
    /// Maximum rows per row group.
    #[arg(long, value_name = "ROWS")]
    pub row_group_size: Option<usize>,
    /// Store the geometry in a GeoArrow native encoding instead of WKB.
    #[arg(long)]
    pub geoarrow: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `geoquet stac to-ndjson`.
#[derive(Debug, Args)]
pub struct ToNdjsonArgs {
    /// Input stac-geoparquet file: a path or a URL.
    pub input: String,
    /// Output NDJSON file, or - for standard output.
    pub output: String,
}

/// Arguments of `geoquet stac search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The stac-geoparquet file: a path or a URL.
    pub input: String,
    /// Items whose bbox intersects xmin,ymin,xmax,ymax (xmin > xmax crosses the antimeridian).
    #[arg(long, value_name = "XMIN,YMIN,XMAX,YMAX", allow_hyphen_values = true)]
    pub bbox: Option<String>,
    /// An RFC 3339 instant or interval (`start/end`, `..` for an open end).
    #[arg(long, value_name = "DATETIME")]
    pub datetime: Option<String>,
    /// Items of these collections (comma-separated).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub collections: Vec<String>,
    /// Items with these ids (comma-separated).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub ids: Vec<String>,
    /// At most N items.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Fields to include (dotted paths, e.g. properties.datetime) or, with a
    /// leading -, to exclude (comma-separated).
    #[arg(
        long,
        value_name = "F,-G,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub fields: Vec<String>,
    /// Output: ndjson (one item per line) or itemcollection (a FeatureCollection).
    #[arg(long, value_name = "FORMAT", default_value = "ndjson")]
    pub format: String,
}

/// What `geoquet stac search` prints (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchFormat {
    /// One item per line.
    Ndjson,
    /// One FeatureCollection (`itemcollection`, also `item-collection`, `geojson`).
    ItemCollection,
}

impl std::str::FromStr for SearchFormat {
    type Err = Unreadable;

    fn from_str(s: &str) -> Result<Self, Unreadable> {
        match s {
            "ndjson" => Ok(SearchFormat::Ndjson),
            "itemcollection" | "item-collection" | "geojson" => Ok(SearchFormat::ItemCollection),
            other => Err(Unreadable(format!(
                "--format {other}: expected ndjson or itemcollection"
            ))),
        }
    }
}

impl std::fmt::Display for SearchFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SearchFormat::Ndjson => "ndjson",
            SearchFormat::ItemCollection => "itemcollection",
        })
    }
}

/// Runs `geoquet stac ...`.
pub(crate) fn run(cli: &Cli, args: &StacArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &args.command {
        StacCommand::ToParquet(a) => to_parquet(cli, a, out),
        StacCommand::ToNdjson(a) => to_ndjson(cli, a, out),
        StacCommand::Search(a) => search(cli, a, out),
    }
}

/// A temporary local copy of an input (standard input, a download), kept alive while
/// in use (and removed on SIGINT/SIGTERM); messages name the input as the user gave it,
/// not the hidden copy.
struct LocalCopy {
    _tmp: ScratchPath,
    /// The copy's path as messages print it.
    hidden: String,
    /// What to say instead: "standard input" or the URL.
    shown: String,
}

/// An error message with the hidden copies' paths replaced by the inputs' names.
fn named(copies: &[Option<LocalCopy>], e: impl std::fmt::Display) -> Unreadable {
    let mut msg = e.to_string();
    for c in copies.iter().flatten() {
        msg = msg.replace(&c.hidden, &c.shown);
    }
    Unreadable(msg)
}

/// [`named`] for a command with one input: a message that does not name it yet
/// (an error of the Parquet decoder on a damaged page) is prefixed with its name.
fn named_input(copies: &[Option<LocalCopy>], input: &str, e: impl std::fmt::Display) -> Unreadable {
    let Unreadable(msg) = named(copies, e);
    let shown = if input == "-" {
        "standard input"
    } else {
        input
    };
    if msg.contains(shown) {
        Unreadable(msg)
    } else {
        Unreadable(format!("{shown}: {msg}"))
    }
}

/// A local path for an input (a download for URLs, a copy of standard
/// input), with the guard that keeps a temporary copy alive.
fn local_input(input: &str) -> anyhow::Result<(PathBuf, Option<LocalCopy>)> {
    let (path, tmp, shown) = if input == "-" {
        let tmp = geoquet::stac::spill(std::io::stdin().lock(), "standard input")
            .map_err(|e| Unreadable(e.to_string()))?;
        (tmp.path().to_path_buf(), tmp, "standard input".to_owned())
    } else {
        let source = Source::parse(input)?;
        let (path, guard) = source.local_copy()?;
        let Some(tmp) = guard else {
            if !path.exists() {
                return Err(Unreadable(format!("{input}: no such file")).into());
            }
            return Ok((path, None));
        };
        (path, tmp, input.to_owned())
    };
    let hidden = path.display().to_string();
    Ok((
        path,
        Some(LocalCopy {
            _tmp: tmp,
            hidden,
            shown,
        }),
    ))
}

fn to_parquet(cli: &Cli, args: &ToParquetArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let Some((output, inputs)) = args.paths.split_last() else {
        return Err(Unreadable("expected IN.. OUT".into()).into());
    };
    if args.inputs_from.as_deref() == Some("-") && inputs.iter().any(|i| i == "-") {
        return Err(Unreadable(
            "standard input cannot be both an input and --inputs-from -".into(),
        )
        .into());
    }
    let listed = match &args.inputs_from {
        Some(list) => read_input_list(list)?,
        None => Vec::new(),
    };
    if inputs.is_empty() && args.inputs_from.is_none() {
        return Err(Unreadable(format!(
            "{output}: no input (give IN.. OUT, or --inputs-from FILE OUT)"
        ))
        .into());
    }
    if inputs.is_empty() && listed.is_empty() {
        return Err(Unreadable(format!(
            "{}: lists no input",
            args.inputs_from.as_deref().unwrap_or("-")
        ))
        .into());
    }
    if !output.to_ascii_lowercase().ends_with(".parquet") && !output.ends_with(".geoparquet") {
        return Err(Unreadable(format!("{output}: the output must be a .parquet file")).into());
    }
    let mut guards = Vec::new();
    let mut sources = Vec::new();
    let output_canonical = std::fs::canonicalize(output).ok();
    for input in inputs.iter().chain(&listed) {
        let (path, guard) = local_input(input)?;
        if Path::new(output) == path
            || output_canonical.is_some() && output_canonical == std::fs::canonicalize(&path).ok()
        {
            return Err(
                Unreadable(format!("{output}: the output would overwrite an input")).into(),
            );
        }
        guards.push(guard);
        sources.push(ItemSource::Path(path));
    }
    let mut options = WriterOptions::default()
        .with_compression(parse_compression(&args.compression)?)
        .with_geoarrow(args.geoarrow);
    if let Some(rows) = args.row_group_size {
        options = options.with_row_group_rows(rows);
    }
    for c in &args.collection {
        let text =
            std::fs::read_to_string(c).map_err(|e| Unreadable(format!("{}: {e}", c.display())))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| Unreadable(format!("{}: {e}", c.display())))?;
        options = options.with_collection(v);
    }
    let mut infer = Progress::new(cli, "stac to-parquet: pass 1/2 (schema)");
    let mut write = Progress::new(cli, "stac to-parquet: pass 2/2 (writing)");
    let mut report = |pass: u8, n: u64| {
        if pass == 1 {
            infer.rows(n);
        } else {
            if n > 0 {
                infer.done();
            }
            write.rows(n);
        }
    };
    let summary =
        geoquet::stac::write_parquet_with_progress(&sources, output, &options, Some(&mut report));
    write.done();
    let summary = summary.map_err(|e| named(&guards, e))?;
    if args.json {
        let v = serde_json::json!({
            "output": output,
            "items": summary.items,
            "row_groups": summary.row_groups,
            "columns": summary.columns,
            "patches": summary.patches,
            "stac-geoparquet": summary.stac_metadata,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if !cli.quiet {
        writeln!(
            out,
            "wrote {} items to {output} ({} row groups, {} columns)",
            summary.items, summary.row_groups, summary.columns
        )?;
    }
    drop(guards);
    Ok(Outcome(EXIT_OK))
}

/// The inputs listed in `list` (a file, or - for standard input): one per
/// line, blank lines and surrounding whitespace ignored.
fn read_input_list(list: &str) -> anyhow::Result<Vec<String>> {
    use std::io::BufRead;
    let reader: Box<dyn std::io::BufRead> = if list == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(list).map_err(|e| Unreadable(format!("{list}: {e}")))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(|e| Unreadable(format!("{list}: {e}")))?;
        let line = line.trim();
        if line == "-" {
            return Err(Unreadable(format!(
                "{list}: - (standard input) cannot be listed; give it on the command line"
            ))
            .into());
        }
        if !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    Ok(out)
}

fn to_ndjson(cli: &Cli, args: &ToNdjsonArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let (path, copy) = local_input(&args.input)?;
    let copy = [copy];
    let mut progress = Progress::new(cli, "stac to-ndjson");
    let mut report = |n: u64| progress.rows(n);
    if args.output == "-" {
        geoquet::stac::write_ndjson(&path, ReadOptions::default(), out, Some(&mut report))
            .map_err(|e| named_input(&copy, &args.input, e))?;
        progress.done();
        return Ok(Outcome(EXIT_OK));
    }
    // Checked before any work, written beside, renamed into place when complete.
    let output = Output::create(Path::new(&args.output)).map_err(|e| Unreadable(e.to_string()))?;
    let written = geoquet::stac::write_ndjson(
        &path,
        ReadOptions::default(),
        output.writer().map_err(|e| Unreadable(e.to_string()))?,
        Some(&mut report),
    );
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            return Err(match output.write_error() {
                Some(w) => Unreadable(w.to_string()),
                None => named_input(&copy, &args.input, e),
            }
            .into());
        }
    };
    progress.done();
    output.persist().map_err(|e| Unreadable(e.to_string()))?;
    if !cli.quiet {
        writeln!(out, "wrote {n} items to {}", args.output)?;
    }
    Ok(Outcome(EXIT_OK))
}

fn search(cli: &Cli, args: &SearchArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let collection = args.format.parse::<SearchFormat>()? == SearchFormat::ItemCollection;
    let mut s = Search::default()
        .with_collections(args.collections.clone())
        .with_ids(args.ids.clone());
    if let Some(limit) = args.limit {
        s = s.with_limit(limit);
    }
    if let Some(b) = &args.bbox {
        let b = parse_bbox(b)?;
        s = s.with_bbox([b.xmin, b.ymin, b.xmax, b.ymax]);
    }
    if let Some(d) = &args.datetime {
        let interval: DatetimeInterval = d.parse().map_err(|e| Unreadable(format!("{e}")))?;
        s = s.with_datetime(interval);
    }
    let fields: Fields = args
        .fields
        .join(",")
        .parse()
        .map_err(|e| Unreadable(format!("--fields: {e}")))?;
    let (path, copy) = local_input(&args.input)?;
    let copy = [copy];
    let reader = geoquet::stac::open_with(&path, ReadOptions::default().with_search(s))
        .map_err(|e| named_input(&copy, &args.input, e))?;
    let (total, read) = reader.row_groups();
    if cli.verbose > 0 {
        eprintln!("row groups: {read} of {total} read after pruning");
    }
    let mut w = std::io::BufWriter::new(out);
    if collection {
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    }
    let mut n = 0u64;
    for item in reader {
        let mut item = item.map_err(|e| named_input(&copy, &args.input, e))?;
        fields.select(&mut item);
        if collection && n > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut w, &item)?;
        if !collection {
            w.write_all(b"\n")?;
        }
        n += 1;
    }
    if collection {
        write!(w, "],\"numberReturned\":{n}}}")?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(Outcome(EXIT_OK))
}
