//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong reading or writing stac-geoparquet.
///
/// Each variant says what was wrong and where (file, item number, row, text):
///
/// ```
/// use stac_geoparquet::{DatetimeInterval, DatetimeProblem, Error};
///
/// match "2021-01-01/2020-01-01".parse::<DatetimeInterval>() {
///     Err(Error::InvalidDatetime { text, problem: DatetimeProblem::StartAfterEnd }) => {
///         assert_eq!(text, "2021-01-01/2020-01-01");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file (`-` for standard input or output).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Input that is not JSON (a syntax error, or the end of a document
    /// where more was expected).
    #[error("{}{}: {source}", .path.display(), item_suffix(*.item))]
    Json {
        /// The file (`standard input` for standard input).
        path: PathBuf,
        /// The 1-based item number (for NDJSON, the line number), when known.
        item: Option<u64>,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// JSON that is not a STAC Item, ItemCollection, Catalog or Collection
    /// where one is expected.
    #[error("{}{}: expected {expected}, found {found}", .path.display(), item_suffix(*.item))]
    NotStac {
        /// The file.
        path: PathBuf,
        /// The 1-based item number (for NDJSON, the line number), when known.
        item: Option<u64>,
        /// What was expected there.
        expected: &'static str,
        /// What was found (a JSON type, or the `type` member's value).
        found: String,
    },
    /// A link of a catalog that is not local (only relative and `file://`
    /// links of static catalogs are followed).
    #[error(
        "{}: link {href}: only local (relative or file://) links of static catalogs are followed",
        .path.display()
    )]
    RemoteLink {
        /// The catalog file.
        path: PathBuf,
        /// The link's `href`.
        href: String,
    },
    /// Input (standard input) that can be neither JSON nor Parquet, refused
    /// at its first significant bytes.
    #[error("{}: neither JSON nor Parquet: byte 0x{byte:02X} at offset {offset}", .path.display())]
    NotJsonOrParquet {
        /// The input as shown (`standard input`).
        path: PathBuf,
        /// The byte that cannot start (or continue) JSON or Parquet.
        byte: u8,
        /// Its offset in the input.
        offset: u64,
    },
    /// A file that is not a readable Parquet file (missing or damaged footer).
    #[error("{}: not a readable Parquet file: {source}", .path.display())]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Data pages of a Parquet file that do not decode (damaged data; a panic
    /// of the upstream decoder is reported here too).
    #[error("{}: {message}", .path.display())]
    CorruptData {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        message: String,
    },
    /// A row of a Parquet file that cannot be turned back into an item.
    #[error("{}: {message} (row {row} of the file)", .path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The 0-based row of the file.
        row: u64,
        /// The column and what is wrong with its value.
        message: String,
    },
    /// The patches footer key of one of our files cannot be read.
    #[error("{}: {reason}", .path.display())]
    BadPatches {
        /// The file.
        path: PathBuf,
        /// What is wrong with the key's value.
        reason: String,
    },
    /// Items whose values the columns cannot hold exactly need more patches
    /// than a footer can carry.
    #[error(
        "{}{}the values that the columns cannot hold exactly need more than {} of {limit_kind}, more than the file's footer can carry; split the input or make its values uniform (same types, datetime formats, closed rings and float coordinates)",
        .path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default(),
        item_prefix(*.item),
        mib(*.limit)
    )]
    PatchesTooLarge {
        /// The input of that item, when known.
        path: Option<PathBuf>,
        /// The 1-based item number at which the limit was passed, when known.
        item: Option<u64>,
        /// Which limit was passed.
        limit_kind: PatchLimit,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The patches could not be compressed (zstd).
    #[error("compressing the patches: {source}")]
    PatchCompression {
        /// What zstd said.
        #[source]
        source: std::io::Error,
    },
    /// A search `datetime` that is not an RFC 3339 instant or interval.
    #[error(
        "datetime \"{text}\": {problem} (expected an RFC 3339 instant such as 2020-01-01T00:00:00Z, or an interval a/b, ../b, a/..)"
    )]
    InvalidDatetime {
        /// The text given.
        text: String,
        /// What is wrong with it.
        problem: DatetimeProblem,
    },
    /// A `fields` selection with an empty path (`-`, `a..b`).
    #[error(
        "fields \"{text}\": \"{part}\" is not a path (expected dotted paths such as properties.datetime, - before those to exclude)"
    )]
    InvalidFields {
        /// The text given.
        text: String,
        /// The part that is not a path.
        part: String,
    },
    /// A Collection given for the `collections` metadata, or met while
    /// following a catalog, that cannot be stored.
    #[error("collection {number}: {problem}")]
    InvalidCollection {
        /// Its 1-based position among the collections (those of the options
        /// first, then those met in catalogs).
        number: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The input gave a different number of items in the second pass than in
    /// the first (it changed while being read).
    #[error("the input changed between passes ({first} items, then {second})")]
    InputChanged {
        /// Items seen by the first pass.
        first: u64,
        /// Items seen by the second pass.
        second: u64,
    },
    /// A worker thread panicked (a bug, not bad input), or could not be started.
    #[error("internal error (please report it): worker thread \"{task}\" panicked: {message}")]
    WorkerPanicked {
        /// What the thread was doing.
        task: &'static str,
        /// The panic message.
        message: String,
    },
    /// A broken internal assumption (a bug): reported instead of writing a
    /// file that would not read back as its input.
    #[error("internal error (please report it): {what}")]
    Internal {
        /// The assumption that did not hold.
        what: &'static str,
    },
    /// An error of the GeoParquet layer (footer, `geo` metadata, writer); a
    /// panic of one of its worker threads is [`Error::WorkerPanicked`] instead.
    #[error(transparent)]
    GeoParquet(geoparquet_io::Error),
    /// An error from the Parquet library.
    #[error(transparent)]
    ParquetLib(#[from] parquet::errors::ParquetError),
    /// An error from the Arrow library.
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Which limit of the patches a write passed (see [`Error::PatchesTooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchLimit {
    /// The patch text before compression ([`crate::MAX_PATCH_BYTES`]).
    Text,
    /// The footer value, compressed and in base64 ([`crate::MAX_PATCH_FOOTER_BYTES`]).
    Footer,
}

impl fmt::Display for PatchLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatchLimit::Text => "patches",
            PatchLimit::Footer => "footer value",
        })
    }
}

/// What is wrong with a search `datetime` (see [`Error::InvalidDatetime`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatetimeProblem {
    /// Nothing but spaces.
    Empty,
    /// More than one `/`.
    MoreThanTwoEnds,
    /// `../..`, `/` or similar.
    BothEndsOpen,
    /// The start is after the end.
    StartAfterEnd,
    /// An end that is neither an RFC 3339 date-time nor a full date.
    NotRfc3339 {
        /// The end as written.
        end: String,
    },
}

impl fmt::Display for DatetimeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatetimeProblem::Empty => f.write_str("empty"),
            DatetimeProblem::MoreThanTwoEnds => f.write_str("more than two ends"),
            DatetimeProblem::BothEndsOpen => f.write_str("both ends are open"),
            DatetimeProblem::StartAfterEnd => f.write_str("the start is after the end"),
            DatetimeProblem::NotRfc3339 { end } => {
                write!(f, "\"{end}\" is not an RFC 3339 date-time")
            }
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn item_suffix(item: Option<u64>) -> String {
    item.map(|n| format!(" (item {n})")).unwrap_or_default()
}

fn item_prefix(item: Option<u64>) -> String {
    item.map(|n| format!("item {n}: ")).unwrap_or_default()
}

/// Bytes as MiB with one decimal.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<geoparquet_io::workers::WorkerPanic> for Error {
    fn from(p: geoparquet_io::workers::WorkerPanic) -> Self {
        Error::WorkerPanicked {
            task: p.task,
            message: p.message,
        }
    }
}

impl From<geoparquet_io::Error> for Error {
    fn from(e: geoparquet_io::Error) -> Self {
        match e {
            geoparquet_io::Error::WorkerPanicked { task, message } => {
                Error::WorkerPanicked { task, message }
            }
            other => Error::GeoParquet(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_panics_of_every_layer_are_worker_panicked() {
        let ours: Error = geoparquet_io::workers::WorkerPanic {
            task: "t",
            message: "m".into(),
        }
        .into();
        let below: Error = geoparquet_io::Error::WorkerPanicked {
            task: "t",
            message: "m".into(),
        }
        .into();
        for e in [ours, below] {
            assert!(
                matches!(&e, Error::WorkerPanicked { task: "t", message } if message == "m"),
                "{e:?}"
            );
            assert!(e.to_string().starts_with("internal error"), "{e}");
        }
    }
}
