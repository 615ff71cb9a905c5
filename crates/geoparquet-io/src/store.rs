//! URLs through `object_store`: `file://` (and local paths), `s3://`,
//! `gs://`, `az://`/`abfs://`, `http(s)://`, with credentials and options
//! from the environment as `object_store` reads them (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*`).
//!
//! Objects are read through [`StoreReader`], the parquet [`AsyncFileReader`]
//! over an object store that upstream recommends writing (parquet 59.2
//! deprecated its own `ParquetObjectReader` in favour of implementing the trait
//! directly, apache/arrow-rs#10308). Ours is that recommended shape plus what
//! upstream's never had: the object's size from one `HEAD` (bounded range
//! requests, no suffix requests, which some S3-compatible servers refuse), a
//! 64 KiB footer prefetch, and a `Debug` that never shows the store (whose
//! own `Debug` prints credentials).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::error::{Error, Result};
use crate::footer::{Footer, facts_from_metadata};
use crate::reader::{GeoParquetStream, ReadOptions, open_async};

/// Bytes read at once from the end of an object for its footer (most
/// GeoParquet footers, `geo` key included, fit).
pub const FOOTER_PREFETCH: usize = 64 * 1024;

/// An object in a store.
///
/// Its `Debug` output shows the URL and path only: the store may hold
/// credentials read from the environment, which must never reach logs.
#[derive(Clone)]
pub struct Location {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// The object's path in the store.
    pub path: StorePath,
    /// The URL as given (for messages; never carries credentials from the environment).
    pub url: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location")
            .field("url", &self.url)
            .field("path", &self.path.as_ref())
            .finish_non_exhaustive()
    }
}

/// Whether `s` looks like a URL rather than a local path.
pub fn is_url(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
    })
}

fn store_error(url: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Store {
        url: url.to_owned(),
        source: Box::new(e),
    }
}

/// Resolves a URL (or a local path) to a store and an object path.
///
/// ```
/// let here = std::env::current_dir()?;
/// let url = format!("file://{}/Cargo.toml", here.display());
/// let loc = geoparquet_io::store::parse_location(&url)?;
/// assert!(loc.path.as_ref().ends_with("Cargo.toml"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_location(url: &str) -> Result<Location> {
    let full = if is_url(url) {
        url.to_owned()
    } else {
        let abs = std::path::absolute(url).map_err(|source| Error::Io {
            path: url.into(),
            source,
        })?;
        format!("file://{}", abs.display())
    };
    let parsed = url_parse(&full)?;
    let mut options: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            let k = k.to_ascii_uppercase();
            k.starts_with("AWS_")
                || k.starts_with("GOOGLE_")
                || k.starts_with("AZURE_")
                || k.starts_with("OBJECT_STORE_")
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    if full.starts_with("http://") {
        options.push(("allow_http".into(), "true".into()));
    }
    let (store, path) =
        object_store::parse_url_opts(&parsed, options).map_err(|e| store_error(url, e))?;
    Ok(Location {
        store: Arc::from(store),
        path,
        url: url.to_owned(),
    })
}

fn url_parse(s: &str) -> Result<url::Url> {
    url::Url::parse(s).map_err(|e| store_error(s, e))
}

/// Reads a Parquet object by ranges: the parquet [`AsyncFileReader`] over any
/// store, with the object's size known (bounded range requests only) and the
/// footer prefetched ([`FOOTER_PREFETCH`]). `Debug` shows the path and size
/// only, never the store's credentials.
///
/// ```
/// use std::sync::Arc;
/// use geoparquet_io::parquet::arrow::ParquetRecordBatchStreamBuilder;
/// use geoparquet_io::store::StoreReader;
///
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data");
/// let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?);
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let reader = StoreReader::open(store, "sample.parquet".into()).await?;
/// assert!(format!("{reader:?}").contains("sample.parquet"));
/// let builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
/// assert_eq!(builder.metadata().file_metadata().num_rows(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct StoreReader {
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    size: u64,
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreReader")
            .field("path", &self.path.as_ref())
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl StoreReader {
    /// A reader of `path` in `store`, its size taken from one `HEAD` request.
    /// Errors name the path (`Error::Store`).
    pub async fn open(store: Arc<dyn ObjectStore>, path: StorePath) -> Result<Self> {
        let meta = store
            .head(&path)
            .await
            .map_err(|e| store_error(path.as_ref(), e))?;
        Ok(Self::with_size(store, path, meta.size))
    }

    /// A reader of `path` in `store` whose size is already known.
    pub fn with_size(store: Arc<dyn ObjectStore>, path: StorePath, size: u64) -> Self {
        Self { store, path, size }
    }

    /// The object's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

fn to_parquet_error(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for StoreReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        self.store
            .get_range(&self.path, range)
            .map_err(to_parquet_error)
            .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(to_parquet_error)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

impl Location {
    /// A reader of the object (one `HEAD` request for its size); errors name the URL.
    pub async fn reader(&self) -> Result<StoreReader> {
        let meta = self
            .store
            .head(&self.path)
            .await
            .map_err(|e| store_error(&self.url, e))?;
        Ok(StoreReader::with_size(
            self.store.clone(),
            self.path.clone(),
            meta.size,
        ))
    }

    /// Reads the Parquet footer of the object.
    pub async fn read_footer(&self) -> Result<Footer> {
        let mut reader = self.reader().await?;
        let size = reader.size;
        let metadata = match ParquetMetaDataReader::new()
            .with_prefetch_hint(Some(FOOTER_PREFETCH))
            .load_and_finish(&mut reader, size)
            .await
        {
            Ok(m) => m,
            Err(e) => return crate::footer::footer_error(std::path::Path::new(&self.url), e, size),
        };
        Ok(Footer {
            facts: facts_from_metadata(&metadata),
            metadata: Some(metadata),
            file_size: size,
        })
    }

    /// Opens the object for reading, every row and column but the covering
    /// (as [`crate::reader::open`]).
    pub async fn open(&self) -> Result<GeoParquetStream<StoreReader>> {
        self.open_with(ReadOptions::default()).await
    }

    /// Opens the object for reading, with pruning and filters as
    /// [`crate::reader::open_with`]; errors name the URL. The stream is a
    /// `futures::Stream` of batches.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use geoparquet_io::meta::BoundingBox;
    /// use geoparquet_io::reader::ReadOptions;
    ///
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/sample.parquet");
    /// let location = geoparquet_io::store::parse_location(&format!("file://{path}"))?;
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let options = ReadOptions::default().with_bbox(BoundingBox::new(-20.0, -40.0, 60.0, 60.0));
    /// let stream = location.open_with(options).await?;
    /// let batches: Vec<_> = stream.try_collect().await?;
    /// assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2); // Paris, Nairobi
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn open_with(&self, options: ReadOptions) -> Result<GeoParquetStream<StoreReader>> {
        open_async(self.reader().await?, &self.url, options).await
    }

    /// Whether the store answers a byte-range request with that range:
    /// `false` for an HTTP server that ignores `Range` (a `200` with the whole
    /// body) or refuses it (`416`, `501`); such objects must be downloaded
    /// whole ([`Location::download_to`]). Other errors (a missing object)
    /// count as `true`, so that the usual reads report them.
    pub async fn supports_ranges(&self) -> bool {
        match self.store.get_range(&self.path, 0..1).await {
            Ok(_) => true,
            Err(e) => {
                // object_store: "Received non-partial response when range requested"
                // (a 200 with the whole body), "Range request not supported" (no
                // `Accept-Ranges`); 416/501 from servers that refuse Range.
                let text = e.to_string();
                !(text.contains("non-partial response")
                    || text.contains("Range request not supported")
                    || text.contains("416")
                    || text.contains("501")
                    || text.contains("Range Not Satisfiable"))
            }
        }
    }

    /// Copies the object into a local file (for inputs that are read twice,
    /// like GeoJSON, and servers without range requests), chunk by chunk.
    pub async fn download_to(&self, file: &mut std::fs::File) -> Result<u64> {
        use futures::StreamExt;
        use std::io::Write;
        let got = self
            .store
            .get(&self.path)
            .await
            .map_err(|e| store_error(&self.url, e))?;
        let mut stream = got.into_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| store_error(&self.url, e))?;
            n += chunk.len() as u64;
            file.write_all(&chunk).map_err(|source| Error::Io {
                path: self.url.clone().into(),
                source,
            })?;
        }
        Ok(n)
    }
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_credentials() {
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name("bucket")
            .with_region("us-east-1")
            .with_access_key_id("AKIDEXAMPLE")
            .with_secret_access_key("do-not-print-me")
            .build()
            .unwrap();
        let loc = Location {
            store: Arc::new(store),
            path: StorePath::from("key.parquet"),
            url: "s3://bucket/key.parquet".into(),
        };
        let reader = StoreReader::with_size(loc.store.clone(), loc.path.clone(), 1);
        // object_store's own Debug does print them: ours must not delegate to it.
        assert!(
            format!("{:?}", loc.store).contains("do-not-print-me")
                || format!("{:?}", loc.store).contains("AKIDEXAMPLE")
        );
        for text in [format!("{loc:?}"), format!("{reader:?}")] {
            assert!(
                !text.contains("do-not-print-me") && !text.contains("AKIDEXAMPLE"),
                "{text}"
            );
            assert!(text.contains("key.parquet"));
        }
    }
}
