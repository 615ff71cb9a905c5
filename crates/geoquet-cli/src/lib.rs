#![doc = include_str!("../README.md")]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod check;
mod completions;
mod convert;
mod geojson_out;
mod inspect;
mod quadbin_cmd;
mod raquet_cmd;
mod sliderule_cmd;
mod source;
mod stac_cmd;
mod validate;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success (for `validate`: the input is valid).
pub const EXIT_OK: u8 = 0;
/// Exit code: the input was read but is invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code: the input could not be read (missing, not Parquet, not JSON, …) or
/// the arguments are wrong.
pub const EXIT_UNREADABLE: u8 = 2;

/// Parquet as the everyday container for geospatial data.
#[derive(Debug, Parser)]
#[command(name = "geoquet", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a GeoParquet file from its footer: version, geometry columns
    /// (encoding, types, CRS, bbox, covering), rows, row groups, compression, schema.
    Inspect(inspect::InspectArgs),
    /// Validate GeoParquet metadata (a file's footer, or a bare `geo` document
    /// with --metadata). Exit 0 valid, 1 invalid, 2 unreadable.
    Validate(validate::ValidateArgs),
    /// Convert between GeoParquet versions and encodings, and GeoJSON / NDJSON,
    /// streaming with bounded memory; the output is written atomically.
    Convert(convert::ConvertArgs),
    /// Write the rows whose geometry intersects a bbox to a new file
    /// (GeoParquet, GeoJSON or NDJSON), pruning row groups and pages first.
    Extract(convert::ExtractArgs),
    /// Best practice: is the file good to publish (compression, row groups,
    /// covering, spatial order, bbox, statistics, page index, extension)?
    /// With --fix OUT, rewrite it so that every rule passes.
    Check(check::CheckArgs),
    /// Sort a GeoParquet file spatially (Hilbert or quadkey of each geometry's
    /// bbox centre) or by a column, with memory capped (external merge sort).
    Sort(check::SortArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to
    /// standard output.
    Completions(completions::CompletionsArgs),
    /// STAC Items to stac-geoparquet and back (lossless, streaming), and
    /// STAC API-like item search over a stac-geoparquet file.
    Stac(stac_cmd::StacArgs),
    /// Quadbin cells: from tiles, points and quadkeys; info, parent,
    /// children, k-ring, sibling and bbox polyfill (CARTO toolbox semantics).
    Quadbin(quadbin_cmd::QuadbinArgs),
    /// SlideRule-compatible ICESat-2 exports (ATL03/ATL06/ATL08 records to
    /// GeoParquet, Parquet, Feather or CSV; local, streamed or S3) and
    /// decoding of framed `arrowrec` streams.
    Sliderule(sliderule_cmd::SlideRuleArgs),
    /// RaQuet rasters: GeoTIFF to RaQuet, info, tiles (PNG), values, back to
    /// GeoTIFF, validation.
    Raquet(raquet_cmd::RaquetArgs),
}

/// What a command decided: the exit code (what it printed is already out).
pub struct Outcome(pub u8);

/// An error that maps to exit code 2, printed as one line.
#[derive(Debug)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreadable {}

/// Runs a parsed command line.
pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Inspect(args) => inspect::run(cli, args, out),
        Command::Validate(args) => validate::run(cli, args, out),
        Command::Convert(args) => convert::run_convert(cli, args, out),
        Command::Extract(args) => convert::run_extract(cli, args, out),
        Command::Check(args) => check::run_check(cli, args, out),
        Command::Sort(args) => check::run_sort(cli, args, out),
        Command::Completions(args) => completions::run(cli, args, out),
        Command::Stac(args) => stac_cmd::run(cli, args, out),
        Command::Quadbin(args) => quadbin_cmd::run(cli, args, out),
        Command::Sliderule(args) => sliderule_cmd::run(cli, args, out),
        Command::Raquet(args) => raquet_cmd::run(cli, args, out),
    }
}

/// The whole program: parse, run, print errors as one line, exit with the
/// documented code. A panic (a bug) is reported as one line too.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: internal error (a bug, please report it): {msg}");
    }));
    let result = std::panic::catch_unwind(|| {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        run(&cli, &mut lock)
    });
    match result {
        Ok(Ok(Outcome(code))) => ExitCode::from(code),
        Ok(Err(e)) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(EXIT_UNREADABLE)
        }
        Err(_) => ExitCode::from(EXIT_UNREADABLE),
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}
