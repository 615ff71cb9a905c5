//! GeoJSON and NDJSON on either side of `convert` / `extract`.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use geoquet::geojson::{GeoJsonFormat, GeoJsonReader, ReadOptions, WriteOptions, write_batches};
use geoquet::io::arrow_array::RecordBatch;
use geoquet::io::arrow_schema::SchemaRef;
use geoquet::io::writer::{WriterOptions, write_file};
use geoquet::meta::{Encoding, GeoParquetColumnMetadata, GeoParquetMetadata};

use crate::convert::{Format, Progress, format_of};

/// A write error with `writing OUT: ` before it, unless it already names OUT (the
/// output's own errors: not a regular file, a full disk).
pub(crate) fn writing<E>(output: &str, e: E) -> anyhow::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    if e.to_string().starts_with(output) {
        anyhow::Error::new(e)
    } else {
        anyhow::Error::new(e).context(format!("writing {output}"))
    }
}

/// Streams batches out as GeoJSON (a FeatureCollection) or NDJSON, to a file
/// (atomically) or to standard output for `-`. Returns the rows written.
pub(crate) fn write<I, E>(
    output: &str,
    schema: SchemaRef,
    batches: I,
    geometry: &str,
    ndjson: bool,
) -> anyhow::Result<u64>
where
    I: Iterator<Item = Result<RecordBatch, E>>,
    geoquet::geojson::Error: From<E>,
{
    let format = if ndjson {
        GeoJsonFormat::NewlineDelimited
    } else {
        GeoJsonFormat::FeatureCollection
    };
    let options = WriteOptions::default()
        .with_format(format)
        .with_geometry_column(geometry);
    let mut rows = 0u64;
    let counted = batches.inspect(|b| {
        if let Ok(b) = b {
            rows += b.num_rows() as u64;
        }
    });
    if output == "-" {
        let stdout = std::io::stdout();
        let mut w = write_batches(BufWriter::new(stdout.lock()), schema, counted, options)?;
        w.flush().context("writing to standard output")?;
        return Ok(rows);
    }
    // Checked before any work, written beside, renamed into place when complete; a
    // write error (a full disk) names the output.
    let out = geoquet::io::output::Output::create(Path::new(output))?;
    let sink = out.writer()?;
    let written =
        write_batches(BufWriter::new(sink), schema, counted, options).and_then(|mut w| {
            w.flush().map_err(|source| geoquet::geojson::Error::Io {
                path: output.into(),
                source,
            })
        });
    out.finish(written)?;
    Ok(rows)
}

/// GeoJSON/NDJSON (file or `-`) to any output format. Returns the rows written.
pub(crate) fn convert_geojson(
    cli: &crate::Cli,
    input: &str,
    output: &str,
    write_options: &WriterOptions,
) -> anyhow::Result<u64> {
    let options = ReadOptions::default().with_source_name(if input == "-" {
        "standard input"
    } else {
        input
    });
    let mut _download = None;
    let reader = if input == "-" {
        GeoJsonReader::try_from_reader(std::io::stdin().lock(), options)
    } else {
        let (path, guard) = crate::source::Source::parse(input)?.local_copy()?;
        _download = guard;
        GeoJsonReader::try_from_path(path, options)
    }?;
    let schema = reader.schema();
    let geometry = geoquet::geojson::GEOMETRY_COLUMN;
    match format_of(output)? {
        Format::Parquet => {
            // GeoJSON is OGC:CRS84 (RFC 7946); the first pass knows the types.
            let types = reader.geometry_types().iter().copied().collect();
            let input_meta = GeoParquetMetadata::new(
                geometry,
                GeoParquetColumnMetadata::new(Encoding::Wkb, types),
            );
            let mut progress = Progress::new(cli, "converting");
            let mut rows = 0u64;
            // The reader's own error ends the batches; it is reported as it is
            // (the writer sees only that the input failed).
            let failed = std::cell::RefCell::new(None);
            let batches = geoquet::io::workers::prefetch("geojson: parse", reader, 2)
                .map(|r| match r {
                    Ok(Ok(b)) => Ok(b),
                    Ok(Err(e)) => {
                        let stand_in = geoquet::io::Error::Arrow(
                            geoquet::io::arrow_schema::ArrowError::ExternalError(
                                e.to_string().into(),
                            ),
                        );
                        *failed.borrow_mut() = Some(e);
                        Err(stand_in)
                    }
                    Err(panic) => Err(geoquet::io::Error::from(panic)),
                })
                .inspect(|b| {
                    if let Ok(b) = b {
                        rows += b.num_rows() as u64;
                        progress.rows(rows);
                    }
                });
            let summary = write_file(
                Path::new(output),
                schema,
                batches,
                Some(&input_meta),
                write_options,
            )
            .map_err(|e| match failed.take() {
                Some(input_error) => writing(output, input_error),
                None => writing(output, e),
            })?;
            progress.done();
            Ok(summary.rows)
        }
        f => write(output, schema, reader, geometry, f == Format::NdJson),
    }
}
