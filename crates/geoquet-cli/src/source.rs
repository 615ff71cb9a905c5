//! Inputs: local paths or URLs (`file://`, `s3://`, `gs://`, `az://`,
//! `http(s)://`), read through one interface.

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;

use geoquet::io::Footer;
use geoquet::io::arrow_array::RecordBatch;
use geoquet::io::arrow_schema::SchemaRef;
use geoquet::io::output::ScratchPath;
use geoquet::io::reader::{ReadOptions, ScanStats};
use geoquet::io::store::{Location, is_url, parse_location};
use geoquet::meta::GeoParquetMetadata;

use crate::Unreadable;

/// Where an input lives.
pub(crate) enum Source {
    /// A local file.
    Local(PathBuf),
    /// An object behind a URL, with the runtime that reads it.
    Url(Box<Location>, Rc<tokio::runtime::Runtime>),
    /// An object behind an HTTP server without range requests, downloaded
    /// whole into a temporary file (removed when the source is dropped).
    Downloaded {
        /// The URL, for messages.
        url: String,
        /// The download.
        file: ScratchPath,
    },
}

fn runtime() -> anyhow::Result<Rc<tokio::runtime::Runtime>> {
    Ok(Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Unreadable(format!("cannot start the I/O runtime: {e}")))?,
    ))
}

impl Source {
    pub(crate) fn parse(input: &str) -> anyhow::Result<Self> {
        if is_url(input) {
            let loc = parse_location(input)?;
            let rt = runtime()?;
            let http = input.starts_with("http://") || input.starts_with("https://");
            if http && !rt.block_on(loc.supports_ranges()) {
                // The server ignores or refuses Range: download it whole.
                let mut file = ScratchPath::new_in(None, ".geoquet-download-")?;
                rt.block_on(loc.download_to(file.file_mut()))?;
                return Ok(Source::Downloaded {
                    url: input.to_owned(),
                    file,
                });
            }
            Ok(Source::Url(Box::new(loc), rt))
        } else {
            Ok(Source::Local(PathBuf::from(input)))
        }
    }

    /// The name for messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Local(p) => p.display().to_string(),
            Source::Url(l, _) => l.url.clone(),
            Source::Downloaded { url, .. } => url.clone(),
        }
    }

    /// The file to read, for local files and downloads.
    fn local_path(&self) -> Option<&std::path::Path> {
        match self {
            Source::Local(p) => Some(p),
            Source::Downloaded { file, .. } => Some(file.path()),
            Source::Url(..) => None,
        }
    }

    /// An error reading the input: kept as it is (its type tells the CLI what
    /// went wrong), except for a download, whose message names the URL instead of
    /// the temporary path.
    fn downloaded_error(&self, e: geoquet::io::Error) -> anyhow::Error {
        match self {
            Source::Downloaded { url, file } => Unreadable(
                e.to_string()
                    .replace(&file.path().display().to_string(), url),
            )
            .into(),
            _ => e.into(),
        }
    }

    pub(crate) fn footer(&self) -> anyhow::Result<Footer> {
        let r = match self {
            Source::Local(p) => geoquet::io::read_footer(p),
            Source::Url(l, rt) => rt.block_on(l.read_footer()),
            Source::Downloaded { file, .. } => geoquet::io::read_footer(file.path()),
        };
        r.map_err(|e| self.downloaded_error(e))
    }

    /// Batches with geometry as WKB, the metadata and a handle on the scan counts.
    pub(crate) fn open(&self, options: &ReadOptions) -> anyhow::Result<Batches> {
        let stats = Rc::new(Cell::new(ScanStats::default()));
        match self {
            Source::Local(_) | Source::Downloaded { .. } => {
                let Some(p) = self.local_path() else {
                    return Err(Unreadable(format!("{}: not a local file", self.name())).into());
                };
                let mut reader = geoquet::io::reader::open_with(p, options.clone())
                    .map_err(|e| self.downloaded_error(e))?;
                let (schema, metadata) = (reader.schema(), reader.metadata().clone());
                let s = stats.clone();
                let iter = std::iter::from_fn(move || {
                    let next = reader.next();
                    s.set(reader.stats());
                    next
                });
                Ok(Batches {
                    schema,
                    metadata,
                    stats,
                    iter: Box::new(iter),
                })
            }
            Source::Url(l, rt) => {
                let mut stream = rt.block_on(l.open_with(options.clone()))?;
                let (schema, metadata) = (stream.schema(), stream.metadata().clone());
                let s = stats.clone();
                let rt = rt.clone();
                let iter = std::iter::from_fn(move || {
                    let next = rt.block_on(stream.next_batch());
                    s.set(stream.stats());
                    next
                });
                Ok(Batches {
                    schema,
                    metadata,
                    stats,
                    iter: Box::new(iter),
                })
            }
        }
    }

    /// A local path holding the input's bytes: the file itself, or a
    /// temporary download of the object (kept alive by the returned guard).
    /// The download is registered for removal on SIGINT/SIGTERM.
    pub(crate) fn local_copy(&self) -> anyhow::Result<(PathBuf, Option<ScratchPath>)> {
        match self {
            Source::Local(p) => Ok((p.clone(), None)),
            Source::Downloaded { file, .. } => Ok((file.path().to_path_buf(), None)),
            Source::Url(l, rt) => {
                let mut tmp = ScratchPath::new_in(None, ".geoquet-download-")?;
                // Messages name the URL, not the hidden download.
                tmp.show_as(&l.url);
                rt.block_on(l.download_to(tmp.file_mut()))?;
                Ok((tmp.path().to_path_buf(), Some(tmp)))
            }
        }
    }
}

/// An open input.
pub(crate) struct Batches {
    pub(crate) schema: SchemaRef,
    pub(crate) metadata: GeoParquetMetadata,
    pub(crate) stats: Rc<Cell<ScanStats>>,
    pub(crate) iter: Box<dyn Iterator<Item = geoquet::io::Result<RecordBatch>>>,
}
