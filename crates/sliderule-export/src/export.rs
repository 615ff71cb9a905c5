//! One call from records to a delivered file: build into a staging file,
//! then write it locally (atomically), stream it as framed records, or
//! upload it to S3 — as SlideRule's `send2User` does.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::builder::{ExportOptions, ExportSummary, Exporter};
use crate::error::{Error, Result};
use crate::output::{Destination, Format, OutputParams};
use crate::records::Record;
use crate::stream::{self, Alert, MAX_DATA_CHUNK};

/// How the file was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Written at a local path (and its sidecar, if any).
    Local {
        /// The file.
        path: PathBuf,
        /// The `_metadata.json` sidecar.
        sidecar: Option<PathBuf>,
    },
    /// Framed into the caller's sink.
    Streamed {
        /// The `filename` of the records.
        name: String,
        /// Bytes of the file.
        size: u64,
        /// The byte-sum checksum (sent only with `with_checksum`).
        checksum: u64,
    },
    /// Uploaded.
    Uploaded {
        /// `s3://bucket/key`.
        url: String,
        /// Bytes uploaded.
        size: u64,
        /// The alerts sent (SlideRule's texts).
        alerts: Vec<Alert>,
    },
}

/// `<path without extension>_metadata.json`.
#[must_use]
pub fn sidecar_name(path: &str) -> String {
    let file_start = path.rfind('/').map_or(0, |i| i + 1);
    let stem = match path[file_start..].rfind('.') {
        Some(dot) if dot > 0 => &path[..file_start + dot],
        _ => path,
    };
    format!("{stem}_metadata.json")
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Builds the file into `sink` from fallible records.
pub fn build<W, R, I>(sink: W, records: I, options: ExportOptions) -> Result<ExportSummary>
where
    W: Write + Send,
    R: Record,
    I: IntoIterator<Item = Result<R>>,
{
    let mut exporter = Exporter::try_new(sink, R::KIND, options)?;
    for r in records {
        exporter.push(&r?)?;
    }
    exporter.finish()
}

/// Builds the file into `sink` from an async stream of record batches (for
/// example the records of a proxied server stream as they arrive). Encoding
/// is CPU work done inline; memory stays bounded as with [`build`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use sliderule_export::export::build_stream;
/// use sliderule_export::records::Atl06Elevation;
/// use sliderule_export::ExportOptions;
/// let batches = futures::stream::iter(vec![Ok(vec![Atl06Elevation::default(); 2]), Ok(vec![Atl06Elevation::default()])]);
/// let mut out = Vec::new();
/// let summary = build_stream(&mut out, batches, ExportOptions::default()).await?;
/// assert_eq!(summary.rows, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub async fn build_stream<W, R, S>(
    sink: W,
    mut batches: S,
    options: ExportOptions,
) -> Result<ExportSummary>
where
    W: Write + Send,
    R: Record,
    S: futures::Stream<Item = Result<Vec<R>>> + Unpin,
{
    use futures::StreamExt;
    let mut exporter = Exporter::try_new(sink, R::KIND, options)?;
    while let Some(batch) = batches.next().await {
        for r in &batch? {
            exporter.push(r)?;
        }
    }
    exporter.finish()
}

/// Writes a local file atomically (a temporary file beside it, renamed into
/// place only when complete), and its sidecar for Feather/CSV.
///
/// ```
/// use sliderule_export::{export_to_path, ExportOptions};
/// use sliderule_export::records::{Atl06Elevation, Atl06Record};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("atl06.parquet");
/// let rec = Atl06Record { elevations: vec![Atl06Elevation::default(); 3] };
/// let s = export_to_path(&path, [Ok(rec)], ExportOptions::default())?;
/// assert_eq!(s.rows, 3);
/// assert!(path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_to_path<R, I>(
    path: &Path,
    records: I,
    options: ExportOptions,
) -> Result<ExportSummary>
where
    R: Record,
    I: IntoIterator<Item = Result<R>>,
{
    // A device, FIFO or directory at `path` is refused here, before any work.
    let out = geoparquet_io::output::Output::create(path)?;
    let summary = match build(
        BufWriter::with_capacity(1 << 20, out.writer()?),
        records,
        options,
    ) {
        Ok(s) => s,
        // A write error names the file (a full disk), not the encoder's wrapping.
        Err(e) => return Err(out.write_error().map_or(e, Error::from)),
    };
    if let Some(side) = &summary.sidecar {
        let side_path = PathBuf::from(sidecar_name(&path.to_string_lossy()));
        let side_out = geoparquet_io::output::Output::create(&side_path)?;
        let written = side_out
            .writer()?
            .write_all(side.as_bytes())
            .map_err(io_err(&side_path));
        side_out.finish(written)?;
    }
    out.persist()?;
    Ok(summary)
}

/// The result of [`export`].
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// What the file holds.
    pub summary: ExportSummary,
    /// Where it went (`None` when the parameters name no destination).
    pub delivery: Option<Delivery>,
}

/// Builds the file the `output` parameters ask for and delivers it:
/// `file://` → local (atomic); `s3://` → upload (feature `aws`; alerts and
/// `arrowrec.remote` are framed into `stream_sink` when given); any other
/// path → framed into `stream_sink` (required). The staging file is always
/// removed.
pub fn export<R, I>(
    records: I,
    params: &OutputParams,
    options: ExportOptions,
    stream_sink: Option<&mut dyn Write>,
) -> Result<Exported>
where
    R: Record,
    I: IntoIterator<Item = Result<R>>,
{
    let dest = params.destination()?;
    if let Destination::Local(p) = &dest {
        let path = PathBuf::from(p);
        let summary = export_to_path(&path, records, options)?;
        let sidecar = summary
            .sidecar
            .as_ref()
            .map(|_| PathBuf::from(sidecar_name(p)));
        return Ok(Exported {
            summary,
            delivery: Some(Delivery::Local { path, sidecar }),
        });
    }
    if dest == Destination::None {
        return Err(Error::InvalidParameter {
            key: "path".into(),
            message: "no output path and no asset: nothing to write".into(),
        });
    }
    // Staged in the temporary directory, registered for removal on SIGINT/SIGTERM
    // (read back by path for the upload).
    let staged = geoparquet_io::output::ScratchPath::new_in(None, ".geoquet-staged-")?;
    let summary = match build(
        BufWriter::with_capacity(1 << 20, staged.writer()?),
        records,
        options,
    ) {
        Ok(s) => s,
        // A full temporary directory is named as such.
        Err(e) => return Err(staged.write_error().map_or(e, Error::from)),
    };
    let size = std::fs::metadata(staged.path())
        .map_err(io_err(staged.path()))?
        .len();
    let delivery = match dest {
        Destination::Stream(name) => {
            let sink = stream_sink.ok_or_else(|| Error::InvalidParameter {
                key: "path".into(),
                message: format!("\"{name}\" is streamed, but no stream sink was given"),
            })?;
            let file = File::open(staged.path()).map_err(io_err(staged.path()))?;
            let sum = stream::write_file(
                sink,
                &name,
                file,
                size,
                params.with_checksum,
                MAX_DATA_CHUNK,
            )?;
            if let Some(side) = &summary.sidecar {
                stream::write_file(
                    sink,
                    &sidecar_name(&name),
                    side.as_bytes(),
                    side.len() as u64,
                    params.with_checksum,
                    MAX_DATA_CHUNK,
                )?;
            }
            sink.flush().map_err(Error::Sink)?;
            Delivery::Streamed {
                name,
                size,
                checksum: sum.0,
            }
        }
        Destination::S3 { .. } => upload(staged.path(), &summary, params, stream_sink)?,
        Destination::Local(_) | Destination::None => {
            return Err(Error::InvalidParameter {
                key: "path".into(),
                message: "unreachable destination".into(),
            });
        }
    };
    drop(staged);
    Ok(Exported {
        summary,
        delivery: Some(delivery),
    })
}

#[cfg(feature = "aws")]
fn upload(
    staged: &Path,
    summary: &ExportSummary,
    params: &OutputParams,
    stream_sink: Option<&mut dyn Write>,
) -> Result<Delivery> {
    use crate::s3::{S3Target, UploadOptions, upload_file_blocking};
    let target = S3Target::from_params(params)?;
    let mut alerts = Vec::new();
    let result = upload_file_blocking(staged, &target, &UploadOptions::default(), &mut alerts);
    let result = result.and_then(|size| {
        if let Some(side) = &summary.sidecar {
            let mut scratch =
                geoparquet_io::output::ScratchPath::new_in(None, ".geoquet-sidecar-")?;
            scratch
                .file_mut()
                .write_all(side.as_bytes())
                .map_err(io_err(scratch.path()))?;
            let p = scratch.path().to_path_buf();
            let side_target = S3Target {
                key: sidecar_name(&target.key),
                ..target.clone()
            };
            upload_file_blocking(&p, &side_target, &UploadOptions::default(), &mut alerts)?;
        }
        Ok(size)
    });
    if let Some(sink) = stream_sink {
        for a in &alerts {
            sink.write_all(&stream::alert_record(a.code, a.level, &a.text))
                .map_err(Error::Sink)?;
        }
        if let Ok(size) = &result {
            sink.write_all(&stream::remote_record(&target.url(), *size))
                .map_err(Error::Sink)?;
        }
        sink.flush().map_err(Error::Sink)?;
    }
    let size = result?;
    Ok(Delivery::Uploaded {
        url: target.url(),
        size,
        alerts,
    })
}

#[cfg(not(feature = "aws"))]
fn upload(
    _staged: &Path,
    _summary: &ExportSummary,
    params: &OutputParams,
    _stream_sink: Option<&mut dyn Write>,
) -> Result<Delivery> {
    let (bucket, key) = match params.destination()? {
        Destination::S3 { bucket, key } => (bucket, key),
        _ => (String::new(), String::new()),
    };
    Err(Error::Upload {
        bucket,
        key,
        message: "Output path specifies S3, but sliderule-export was built without the aws feature"
            .into(),
    })
}

/// Whether a format writes a sidecar.
#[must_use]
pub fn has_sidecar(format: Format) -> bool {
    matches!(format, Format::Feather | Format::Csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_names() {
        assert_eq!(sidecar_name("out.feather"), "out_metadata.json");
        assert_eq!(sidecar_name("dir.v1/out.csv"), "dir.v1/out_metadata.json");
        assert_eq!(sidecar_name("noext"), "noext_metadata.json");
    }
}
