//! Corrupt Parquet data: where in a file the decoder fails, and the decoder's
//! panics turned into errors.
//!
//! The upstream decoder trusts a page's bytes in a few places and panics on
//! some damaged pages (a bit width beyond the reader's capacity, a page header
//! missing a required part, a dictionary page where none was declared, an
//! unsupported physical type). Reads of file data go through
//! [`catch_panic`] so that such a panic becomes an [`Error::CorruptData`]
//! naming the file; [`locate`] re-reads a file one column chunk at a time to
//! name the column and row group that fail.

use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};

use crate::error::{Error, Result};
use crate::workers::panic_message;

/// Where a file's data cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Corruption {
    /// The 0-based row group.
    pub row_group: usize,
    /// The leaf column's dotted path (`bbox.xmin` for a struct field).
    pub column: String,
    /// What the decoder said (or the message of its panic).
    pub message: String,
}

/// A panic of a dependency (a decoder given damaged bytes), caught by [`catch_panic`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecoderPanic {
    /// The panic's message (`"(no message)"` when it carried none).
    pub message: String,
}

/// Runs `f`; a panic (inside a dependency decoding damaged bytes) comes back
/// as a [`DecoderPanic`] instead of unwinding further.
///
/// A process-wide panic hook still runs first: applications that do not want
/// the default hook's output on standard error install their own.
///
/// ```
/// use geoparquet_io::corrupt::catch_panic;
///
/// assert_eq!(catch_panic(|| 2 + 2), Ok(4));
/// let caught = catch_panic(|| -> u8 { panic!("bad page") }).unwrap_err();
/// assert_eq!(caught.to_string(), "bad page");
/// ```
///
/// # Errors
///
/// The panic, with its message.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, DecoderPanic> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| DecoderPanic {
        message: panic_message(&*payload),
    })
}

/// Reads every column chunk of every row group of the Parquet file at `path`,
/// one at a time, and returns the first that cannot be decoded (an error or a
/// panic of the decoder), or `None` when all decode.
///
/// This reads the whole file (one column chunk in memory at a time, in
/// batches): use it to explain a failure, not on every read.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened, [`Error::NotParquet`] when
/// its footer cannot be read.
pub fn locate(path: &Path) -> Result<Option<Corruption>> {
    let open = || {
        File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let not_parquet = |message: String| Error::NotParquet {
        path: path.to_path_buf(),
        message,
    };
    let file = open()?;
    let meta = catch_panic(|| ArrowReaderMetadata::load(&file, Default::default()))
        .map_err(|panic| not_parquet(panic.message))?
        .map_err(|e| not_parquet(e.to_string()))?;
    let parquet = meta.metadata().clone();
    let schema = parquet.file_metadata().schema_descr_ptr();
    for row_group in 0..parquet.num_row_groups() {
        for leaf in 0..schema.num_columns() {
            let column = schema.column(leaf).path().string();
            let failure = catch_panic(|| -> std::result::Result<(), String> {
                let file = open().map_err(|e| e.to_string())?;
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                    .with_row_groups(vec![row_group])
                    .with_projection(ProjectionMask::leaves(&schema, [leaf]))
                    .build()
                    .map_err(|e| e.to_string())?;
                for batch in reader {
                    batch.map_err(|e| e.to_string())?;
                }
                Ok(())
            });
            let message = match failure {
                Ok(Ok(())) => continue,
                Ok(Err(m)) => m,
                Err(panic) => format!("the Parquet decoder failed: {panic}"),
            };
            return Ok(Some(Corruption {
                row_group,
                column,
                message,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        let r: std::result::Result<(), DecoderPanic> = catch_panic(|| panic!("bit width {}", 99));
        assert_eq!(
            r,
            Err(DecoderPanic {
                message: "bit width 99".to_string()
            })
        );
        assert_eq!(catch_panic(|| 7), Ok(7));
    }
}
