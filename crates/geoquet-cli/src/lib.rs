#![doc = include_str!("../README.md")]
#![allow(clippy::print_stdout)]

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
use geoquet::io::arrow_schema::ArrowError;
use geoquet::io::parquet::errors::ParquetError;

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
    /// Silence summaries and progress; errors and the data a command writes
    /// to standard output still print.
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

/// The first panic of the run: its message and where it happened.
struct PanicNote {
    message: String,
    /// The panic happened inside a dependency (a crate from the registry),
    /// not in this workspace's code.
    in_dependency: bool,
    location: String,
}

static PANIC: std::sync::Mutex<Option<PanicNote>> = std::sync::Mutex::new(None);

/// Remembers the first panic (on any thread) instead of printing it: what to
/// say is decided once the command has ended (corrupt input, a closed pipe,
/// or a bug).
fn panic_hook(info: &std::panic::PanicHookInfo<'_>) {
    let message = geoquet::io::workers::panic_message(info.payload());
    let (location, in_dependency) = info.location().map_or_else(
        || (String::new(), false),
        |l| {
            let file = l.file();
            let dep = file.contains("registry/src/") || file.contains("git/checkouts/");
            // `parquet-59.3.2/src/…` rather than the build machine's path.
            let short = file
                .split_once("registry/src/")
                .or_else(|| file.split_once("git/checkouts/"))
                .and_then(|(_, rest)| rest.split_once('/'))
                .map_or(file, |(_, crate_path)| crate_path);
            (format!("{short}:{}", l.line()), dep)
        },
    );
    if let Ok(mut slot) = PANIC.lock()
        && slot.is_none()
    {
        *slot = Some(PanicNote {
            message,
            in_dependency,
            location,
        });
    }
}

/// The whole program: parse, run, print errors as one line, exit with the
/// documented code.
///
/// - Standard output closed early (`geoquet convert x.parquet - | head`):
///   exit 0 quietly, like a pipeline stage that was simply done.
/// - Damaged Parquet data (a decoder error, or a panic inside the decoder):
///   `FILE: corrupt data (column "c", row group g): …`, exit 2, after
///   re-reading the file one column chunk at a time to find where.
/// - A panic in our own code: one line naming it a bug, exit 2.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(panic_hook));
    let result = std::panic::catch_unwind(|| {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        run(&cli, &mut lock)
    });
    let note = PANIC.lock().ok().and_then(|mut n| n.take());
    match result {
        Ok(Ok(Outcome(code))) => ExitCode::from(code),
        Ok(Err(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_OK);
            }
            // A hidden copy of standard input or a download is named as the input.
            let line = explain(&cli, &e, note.as_ref());
            eprintln!("error: {}", geoquet::io::output::with_input_names(&line));
            ExitCode::from(EXIT_UNREADABLE)
        }
        Err(payload) => {
            let message = geoquet::io::workers::panic_message(&*payload);
            // `println!` panics when standard output is a closed pipe.
            if message.contains("Broken pipe") {
                return ExitCode::from(EXIT_OK);
            }
            let note = note.unwrap_or(PanicNote {
                message,
                in_dependency: false,
                location: String::new(),
            });
            let corrupt = note
                .in_dependency
                .then(|| {
                    corrupt_input(
                        &cli,
                        &format!(
                            "the Parquet decoder failed: {} (at {})",
                            note.message, note.location
                        ),
                    )
                })
                .flatten();
            match corrupt {
                Some((line, _)) => eprintln!("error: {line}"),
                None => eprintln!(
                    "error: internal error (a bug, please report it): {} at {}",
                    note.message, note.location
                ),
            }
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// Whether an error is a write to a closed pipe: an `io::Error` of that kind in the
/// chain, or, for the commands that still flatten their errors to text (`stac`'s
/// messages that name a hidden copy of the input), the operating system's words.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) || one_line(e).contains("Broken pipe (os error 32)")
}

/// The input (path or URL) of the commands that read GeoParquet.
fn command_input(cli: &Cli) -> Option<&String> {
    Some(match &cli.command {
        Command::Inspect(a) => &a.file,
        Command::Validate(a) if !a.metadata => &a.file,
        Command::Convert(a) => &a.input,
        Command::Extract(a) => &a.input,
        Command::Check(a) => &a.file,
        Command::Sort(a) => &a.input,
        _ => return None,
    })
}

/// For an `s3://` input that failed: which credentials are missing, by
/// variable name (never a value), or that the ones given were refused.
///
/// Only an `object_store` error in the chain is considered: a 401/403 answer is
/// its `Unauthenticated`/`PermissionDenied` variant; what else the store says
/// (the S3 error code of a refusal answered with another status, a failed
/// credential lookup from the instance metadata service) has no type upstream,
/// so that error's own text is read.
fn s3_credentials_hint(cli: &Cli, e: &anyhow::Error) -> Option<String> {
    let input = command_input(cli)?;
    let s3 = input.starts_with("s3://")
        || input.starts_with("s3a://")
        || (input.starts_with("https://") && input.contains(".amazonaws.com"));
    if !s3 {
        return None;
    }
    let store = e
        .chain()
        .find_map(|c| c.downcast_ref::<object_store::Error>())?;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    // The store's words: its message and its causes (upstream types without variants).
    let mut said = store.to_string();
    let mut cause = std::error::Error::source(store);
    while let Some(c) = cause {
        said.push_str(": ");
        said.push_str(&c.to_string());
        cause = c.source();
    }
    let refused = matches!(
        store,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
    ]
    .iter()
    .any(|p| said.contains(p));
    let credentials_error = refused
        || [
            "169.254.169.254",
            "/latest/api/token",
            "/latest/meta-data",
            "redential",
            "SecretAccessKey",
            "AccessKeyId",
        ]
        .iter()
        .any(|p| said.contains(p));
    if !credentials_error || set("AWS_SKIP_SIGNATURE") {
        return None;
    }
    let others = [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];
    Some(match (set("AWS_ACCESS_KEY_ID"), set("AWS_SECRET_ACCESS_KEY")) {
        (true, true) if refused => "the store refused the credentials of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (check them, AWS_SESSION_TOKEN for temporary ones, and AWS_REGION)".to_owned(),
        (true, true) => return None,
        (true, false) => "AWS_SECRET_ACCESS_KEY is not set (AWS_ACCESS_KEY_ID is): set both".to_owned(),
        (false, true) => "AWS_ACCESS_KEY_ID is not set (AWS_SECRET_ACCESS_KEY is): set both".to_owned(),
        (false, false) if others.iter().any(|v| set(v)) => return None,
        (false, false) => "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (nor AWS_WEB_IDENTITY_TOKEN_FILE or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), and no instance metadata service (IMDS) answered; set them, or AWS_SKIP_SIGNATURE=true for a public bucket".to_owned(),
    })
}

/// The local Parquet file a command reads, when it reads one.
fn parquet_input(cli: &Cli) -> Option<&str> {
    let input = command_input(cli)?;
    let parquet = std::path::Path::new(input)
        .extension()
        .is_none_or(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("geoparquet"));
    (parquet && input != "-" && !geoquet::io::store::is_url(input)).then_some(input.as_str())
}

/// `INPUT: corrupt data (column "c", row group g): …` when the command's
/// Parquet input has a column chunk that does not decode; `fallback` is the
/// message when the spot cannot be found but the failure was the decoder's.
/// The flag says whether the re-read found the damage itself (a column chunk,
/// or a footer that does not decode).
fn corrupt_input(cli: &Cli, fallback: &str) -> Option<(String, bool)> {
    let input = parquet_input(cli)?;
    let e = match geoquet::io::corrupt::locate(std::path::Path::new(input)) {
        // The footer itself does not decode (or makes the decoder panic).
        Err(e @ geoquet::io::Error::NotParquet { .. }) => return Some((e.to_string(), true)),
        Err(_) => return None,
        Ok(Some(c)) => {
            let e = geoquet::io::Error::CorruptData {
                path: input.into(),
                column: Some(c.column),
                row_group: Some(c.row_group),
                message: c.message,
            };
            return Some((e.to_string(), true));
        }
        Ok(None) => geoquet::io::Error::CorruptData {
            path: input.into(),
            column: None,
            row_group: None,
            message: fallback.to_owned(),
        },
    };
    Some((e.to_string(), false))
}

/// The `geoparquet-io` error an error of the chain is, also where another library
/// wraps it transparently (its `Display` and `source` are the inner error's, so the
/// chain never yields the inner error itself).
fn io_error<'a>(c: &'a (dyn std::error::Error + 'static)) -> Option<&'a geoquet::io::Error> {
    if let Some(e) = c.downcast_ref::<geoquet::io::Error>() {
        return Some(e);
    }
    if let Some(geoquet::stac::Error::GeoParquet(e)) = c.downcast_ref::<geoquet::stac::Error>() {
        return Some(e);
    }
    if let Some(geoquet::raquet::Error::Output(e)) = c.downcast_ref::<geoquet::raquet::Error>() {
        return Some(e);
    }
    if let Some(geoquet::sliderule::Error::GeoParquet(e)) =
        c.downcast_ref::<geoquet::sliderule::Error>()
    {
        return Some(e);
    }
    if let Some(geoquet::geojson::Error::GeoParquet(e)) =
        c.downcast_ref::<geoquet::geojson::Error>()
    {
        return Some(e);
    }
    None
}

/// An error of the chain that is a geometry value that is not valid WKB (read from
/// Parquet, or met while writing GeoJSON).
fn is_invalid_wkb(c: &(dyn std::error::Error + 'static)) -> bool {
    matches!(io_error(c), Some(geoquet::io::Error::InvalidWkb { .. }))
        || matches!(
            c.downcast_ref::<geoquet::geojson::Error>(),
            Some(geoquet::geojson::Error::InvalidWkb { .. })
        )
}

/// An error of the chain that comes from decoding Parquet data: the Parquet or
/// Arrow decoder's own errors, a panic caught inside it, or ours saying the data
/// (or the footer) does not decode.
fn is_decoder_error(c: &(dyn std::error::Error + 'static)) -> bool {
    use geoquet::io::Error as IoError;
    matches!(
        io_error(c),
        Some(
            IoError::CorruptData { .. }
                | IoError::NotParquet { .. }
                | IoError::Parquet(_)
                | IoError::Arrow(_)
        )
    ) || c.is::<ParquetError>()
        || c.is::<ArrowError>()
        || c.is::<geoquet::io::corrupt::DecoderPanic>()
}

/// The decoder's own complaint about the bytes (`Parquet error: …`, `EOF: …`, a
/// Parquet argument error), as opposed to an I/O error underneath it.
fn is_decoder_complaint(c: &(dyn std::error::Error + 'static)) -> bool {
    use geoquet::io::Error as IoError;
    let parquet = |p: &ParquetError| matches!(p, ParquetError::General(_) | ParquetError::EOF(_));
    let arrow = |a: &ArrowError| matches!(a, ArrowError::ParquetError(_));
    c.downcast_ref::<ParquetError>().is_some_and(parquet)
        || c.downcast_ref::<ArrowError>().is_some_and(arrow)
        || match io_error(c) {
            Some(IoError::Parquet(p)) => parquet(p),
            Some(IoError::Arrow(a)) => arrow(a),
            _ => false,
        }
}

/// An error of the chain that is a worker thread's panic (a bug, not bad input),
/// from any of the libraries.
fn is_worker_panic(c: &(dyn std::error::Error + 'static)) -> bool {
    matches!(io_error(c), Some(geoquet::io::Error::WorkerPanicked { .. }))
        || matches!(
            c.downcast_ref::<geoquet::stac::Error>(),
            Some(geoquet::stac::Error::WorkerPanicked { .. })
        )
        || matches!(
            c.downcast_ref::<geoquet::raquet::Error>(),
            Some(geoquet::raquet::Error::WorkerPanicked { .. })
        )
        || matches!(
            c.downcast_ref::<geoquet::sliderule::Error>(),
            Some(geoquet::sliderule::Error::WorkerPanicked { .. })
        )
        || matches!(
            c.downcast_ref::<geoquet::geojson::Error>(),
            Some(geoquet::geojson::Error::WorkerPanicked { .. })
        )
        || c.is::<geoquet::io::workers::WorkerPanic>()
}

/// The one line for an error: decoder failures on the input become
/// "INPUT: corrupt data (column, row group): …", invalid geometry names the
/// input; anything else is the error and its causes. What the error is comes
/// from its types (`downcast_ref` over the chain), never from its text.
fn explain(cli: &Cli, e: &anyhow::Error, panic: Option<&PanicNote>) -> String {
    let line = one_line(e);
    if let Some(hint) = s3_credentials_hint(cli, e)
        && let Some(input) = command_input(cli)
    {
        return format!("{input}: {hint} (the store said: {line})");
    }
    let dependency_panic = panic.is_some_and(|p| p.in_dependency);
    let worker_panic = e.chain().any(is_worker_panic);
    let decoder = dependency_panic || worker_panic || e.chain().any(is_decoder_error);
    if decoder {
        let fallback = panic.filter(|p| p.in_dependency).map_or_else(
            || line.clone(),
            |p| {
                format!(
                    "the Parquet decoder failed: {} (at {})",
                    p.message, p.location
                )
            },
        );
        if let (Some((located, found)), Some(input)) =
            (corrupt_input(cli, &fallback), parquet_input(cli))
        {
            // Where it is (column, row group), or a footer that does not decode.
            if found {
                return located;
            }
            // The decoder's own words (a failure with the page index or a row
            // filter, which the column-by-column re-read does not use), not an
            // operating-system error of the output; or a panic inside it.
            let decoder_words =
                e.chain().any(is_decoder_complaint) && !e.chain().any(|c| c.is::<std::io::Error>());
            if dependency_panic || (decoder_words && !line.contains(input)) {
                return located;
            }
        }
    }
    // Invalid WKB in the input: name the input, not the output being written.
    if let Some(input) = parquet_input(cli)
        && let Some(wkb) = e.chain().find(|c| is_invalid_wkb(*c))
    {
        return format!("{input}: {wkb}");
    }
    // A worker's panic that a library turned into an error: say what it was.
    if let Some(p) = panic.filter(|p| !p.in_dependency)
        && worker_panic
    {
        return format!(
            "{line} (internal error, a bug, please report it: {} at {})",
            p.message, p.location
        );
    }
    line
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

#[cfg(test)]
mod tests {
    use super::*;

    fn corrupt() -> geoquet::io::Error {
        geoquet::io::Error::CorruptData {
            path: "x.parquet".into(),
            column: Some("geometry".into()),
            row_group: Some(0),
            message: "Parquet error: bad page".into(),
        }
    }

    /// What an error is comes from its type: the same words as plain text are not
    /// a decoder failure nor a worker panic.
    #[test]
    fn error_kinds_come_from_types_not_text() {
        let typed = anyhow::Error::new(corrupt());
        assert!(typed.chain().any(is_decoder_error));
        let text = anyhow::anyhow!("{typed}: EOF: panicked");
        assert!(!text.chain().any(is_decoder_error));
        assert!(!text.chain().any(is_worker_panic));

        let parquet = anyhow::Error::new(ParquetError::EOF("short page".into()));
        assert!(parquet.chain().any(is_decoder_error));
        assert!(parquet.chain().any(is_decoder_complaint));
        let external = anyhow::Error::new(ParquetError::External(Box::new(std::io::Error::other(
            "disk",
        ))));
        assert!(!external.chain().any(is_decoder_complaint));
    }

    /// geoparquet-io's error is seen through the transparent wrappers of the other
    /// libraries, whose chain never yields it.
    #[test]
    fn io_errors_are_seen_through_wrappers() {
        let panicked = || geoquet::io::Error::WorkerPanicked {
            task: "encode",
            message: "boom".into(),
        };
        for e in [
            anyhow::Error::new(geoquet::stac::Error::GeoParquet(corrupt())),
            anyhow::Error::new(geoquet::raquet::Error::Output(corrupt())),
            anyhow::Error::new(geoquet::sliderule::Error::GeoParquet(corrupt())),
            anyhow::Error::new(geoquet::geojson::Error::GeoParquet(corrupt())),
        ] {
            assert!(e.chain().any(is_decoder_error), "{e}");
            assert!(!e.chain().any(is_worker_panic), "{e}");
        }
        for e in [
            anyhow::Error::new(panicked()),
            anyhow::Error::new(geoquet::stac::Error::GeoParquet(panicked())),
            anyhow::Error::new(geoquet::sliderule::Error::GeoParquet(panicked())),
        ] {
            assert!(e.chain().any(is_worker_panic), "{e}");
        }
    }
}
