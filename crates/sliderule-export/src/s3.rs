//! Uploads to S3 (or any S3-compatible endpoint) with caller-supplied
//! temporary credentials, through `object_store`: one PUT for small files,
//! a multipart upload for large ones, retried with backoff; only operations
//! an `s3:PutObject`-only policy allows (PUT, CreateMultipartUpload,
//! UploadPart, CompleteMultipartUpload). A failed upload never completes, so
//! no object appears; the unfinished multipart upload is aborted when the
//! policy allows it.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};

use crate::error::{Error, Result};
use crate::output::{Credentials, Destination, OutputParams};
use crate::stream::{Alert, LEVEL_CRITICAL, LEVEL_INFO, RTE_FAILURE, RTE_STATUS};

/// Default part size of multipart uploads (S3 needs at least 5 MiB).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// Files larger than this are uploaded in parts.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// Whole-upload attempts (SlideRule's `send2S3` tries 3 times).
pub const DEFAULT_ATTEMPTS: usize = 3;

/// Where and as whom to upload. `Debug` never shows the credentials.
#[derive(Debug, Clone)]
pub struct S3Target {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Endpoint URL (`https://s3.<region>.amazonaws.com` or a custom one).
    pub endpoint: String,
    /// Region used for signing.
    pub region: String,
    /// Credentials.
    pub credentials: Credentials,
}

impl S3Target {
    /// The target of parsed `output` parameters (an `s3://` path with region
    /// or endpoint and credentials).
    pub fn from_params(params: &OutputParams) -> Result<Self> {
        let Destination::S3 { bucket, key } = params.destination()? else {
            return Err(Error::InvalidS3Url {
                url: params.path.clone(),
            });
        };
        let (endpoint, region) = params.s3_endpoint()?;
        if params.credentials.access_key_id.is_none() {
            return Err(Error::MissingCredentials {
                url: params.path.clone(),
                missing: "aws_access_key_id",
            });
        }
        if params.credentials.secret_access_key.is_none() {
            return Err(Error::MissingCredentials {
                url: params.path.clone(),
                missing: "aws_secret_access_key",
            });
        }
        Ok(Self {
            bucket,
            key,
            endpoint,
            region,
            credentials: params.credentials.clone(),
        })
    }

    /// `s3://bucket/key`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn store(&self, options: &UploadOptions) -> Result<Arc<dyn ObjectStore>> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_endpoint(&self.endpoint)
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: options.backoff,
                    max_backoff: Duration::from_secs(15),
                    base: 2.0,
                },
                max_retries: options.request_retries,
                retry_timeout: options.timeout,
            })
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(options.timeout)
                    .with_connect_timeout(Duration::from_secs(10)),
            )
            // After the client options, which would reset it.
            .with_allow_http(self.endpoint.starts_with("http://"));
        if let Some(k) = &self.credentials.access_key_id {
            b = b.with_access_key_id(k.expose());
        }
        if let Some(s) = &self.credentials.secret_access_key {
            b = b.with_secret_access_key(s.expose());
        }
        if let Some(t) = &self.credentials.session_token {
            b = b.with_token(t.expose());
        }
        let store = b.build().map_err(|e| Error::Upload {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            message: scrub(&e.to_string(), &self.credentials),
        })?;
        Ok(Arc::new(store))
    }
}

/// How to upload.
///
/// ```
/// use std::time::Duration;
/// use sliderule_export::s3::UploadOptions;
///
/// let options = UploadOptions::default()
///     .with_attempts(2)
///     .with_timeout(Duration::from_secs(5));
/// assert_eq!(options.attempts, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UploadOptions {
    /// Part size of multipart uploads (at least 5 MiB on AWS); default
    /// [`DEFAULT_PART_SIZE`].
    pub part_size: usize,
    /// Files larger than this use a multipart upload; default
    /// [`DEFAULT_MULTIPART_THRESHOLD`].
    pub multipart_threshold: u64,
    /// Whole-upload attempts; default [`DEFAULT_ATTEMPTS`].
    pub attempts: usize,
    /// Retries of each HTTP request inside an attempt (object_store's); default 3.
    pub request_retries: usize,
    /// First backoff between retries (doubling); default 200 ms.
    pub backoff: Duration,
    /// Timeout of each request; default 60 s.
    pub timeout: Duration,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            part_size: DEFAULT_PART_SIZE,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
            attempts: DEFAULT_ATTEMPTS,
            request_retries: 3,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(60),
        }
    }
}

impl UploadOptions {
    /// The same options with another part size.
    #[must_use]
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size;
        self
    }

    /// The same options with another multipart threshold.
    #[must_use]
    pub fn with_multipart_threshold(mut self, multipart_threshold: u64) -> Self {
        self.multipart_threshold = multipart_threshold;
        self
    }

    /// The same options with another number of attempts.
    #[must_use]
    pub fn with_attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts;
        self
    }

    /// The same options with another number of request retries.
    #[must_use]
    pub fn with_request_retries(mut self, request_retries: usize) -> Self {
        self.request_retries = request_retries;
        self
    }

    /// The same options with another first backoff.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The same options with another request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Replaces any credential string in a message (S3 error bodies can echo
/// the access key id).
fn scrub(message: &str, creds: &Credentials) -> String {
    let mut m = message.to_owned();
    for s in creds.secrets() {
        if !s.is_empty() {
            m = m.replace(s, "<redacted>");
        }
    }
    m
}

/// Uploads a file; alerts (SlideRule's texts) are appended to `alerts`.
/// Returns the size uploaded.
pub async fn upload_file(
    path: &Path,
    target: &S3Target,
    options: &UploadOptions,
    alerts: &mut Vec<Alert>,
) -> Result<u64> {
    let size = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let store = target.store(options)?;
    let location = ObjectPath::from(target.key.as_str());
    alerts.push(Alert {
        code: RTE_STATUS,
        level: LEVEL_INFO,
        text: format!(
            "Initiated upload of results to S3, bucket = {}, key = {}",
            target.bucket, target.key
        ),
    });
    let mut last = String::new();
    for attempt in 1..=options.attempts.max(1) {
        match upload_once(store.as_ref(), &location, path, size, options).await {
            Ok(()) => {
                alerts.push(Alert {
                    code: RTE_STATUS,
                    level: LEVEL_INFO,
                    text: format!(
                        "Upload to S3 completed, bucket = {}, key = {}, size = {size}",
                        target.bucket, target.key
                    ),
                });
                return Ok(size);
            }
            Err(e) => {
                last = scrub(&e, &target.credentials);
                alerts.push(Alert {
                    code: RTE_FAILURE,
                    level: LEVEL_CRITICAL,
                    text: format!(
                        "S3 PUT failed attempt {attempt}, bucket = {}, key = {}, error = {last}",
                        target.bucket, target.key
                    ),
                });
                if attempt < options.attempts {
                    tokio::time::sleep(options.backoff * (1 << attempt.min(6))).await;
                }
            }
        }
    }
    alerts.push(Alert {
        code: RTE_FAILURE,
        level: LEVEL_CRITICAL,
        text: format!(
            "Upload to S3 failed, bucket = {}, key = {}",
            target.bucket, target.key
        ),
    });
    Err(Error::Upload {
        bucket: target.bucket.clone(),
        key: target.key.clone(),
        message: last,
    })
}

fn read_chunk(
    file: &mut std::fs::File,
    path: &Path,
    len: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    let mut n = 0;
    while n < len {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    buf.truncate(n);
    Ok(buf)
}

/// One attempt; the error is a message (object_store's, unscrubbed).
async fn upload_once(
    store: &dyn ObjectStore,
    location: &ObjectPath,
    path: &Path,
    size: u64,
    options: &UploadOptions,
) -> std::result::Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if size <= options.multipart_threshold {
        let data = read_chunk(
            &mut file,
            path,
            usize::try_from(size).map_err(|e| e.to_string())?,
        )?;
        store
            .put(location, PutPayload::from(data))
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut upload = store
        .put_multipart(location)
        .await
        .map_err(|e| e.to_string())?;
    let part = options.part_size.max(5 * 1024 * 1024);
    let mut sent = 0u64;
    let result: std::result::Result<(), String> = async {
        while sent < size {
            let data = read_chunk(&mut file, path, part)?;
            if data.is_empty() {
                return Err(format!(
                    "{} ended at {sent} of {size} bytes",
                    path.display()
                ));
            }
            sent += data.len() as u64;
            upload
                .put_part(PutPayload::from(data))
                .await
                .map_err(|e| e.to_string())?;
        }
        upload.complete().await.map_err(|e| e.to_string())?;
        Ok(())
    }
    .await;
    if result.is_err() {
        // Needs s3:AbortMultipartUpload, which a PutObject-only policy denies;
        // the upload never completed, so no object exists either way.
        let _ = upload.abort().await;
    }
    result
}

/// As [`upload_file`], blocking on a private current-thread runtime.
pub fn upload_file_blocking(
    path: &Path,
    target: &S3Target,
    options: &UploadOptions,
    alerts: &mut Vec<Alert>,
) -> Result<u64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    rt.block_on(upload_file(path, target, options, alerts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::ParseOptions;

    #[test]
    fn target_needs_credentials_and_hides_them() -> Result<()> {
        let p = OutputParams::parse(
            r#"{"path":"s3://b/dir/k.parquet","endpoint":"http://127.0.0.1:9","credentials":{"accessKeyId":"AKXYZ","secretAccessKey":"SKXYZ","sessionToken":"TKXYZ"}}"#,
            ParseOptions::default(),
        )?;
        let t = S3Target::from_params(&p.params)?;
        assert_eq!(t.url(), "s3://b/dir/k.parquet");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("XYZ"), "{dbg}");
        assert_eq!(scrub("key AKXYZ bad", &t.credentials), "key <redacted> bad");
        let p = OutputParams::parse(
            r#"{"path":"s3://b/k","region":"r"}"#,
            ParseOptions::default(),
        )?;
        assert!(matches!(
            S3Target::from_params(&p.params),
            Err(Error::MissingCredentials { .. })
        ));
        Ok(())
    }

    #[test]
    fn unreachable_endpoint_fails_after_all_attempts() -> Result<()> {
        let p = OutputParams::parse(
            r#"{"path":"s3://b/k.parquet","endpoint":"http://127.0.0.1:9","credentials":{"accessKeyId":"A","secretAccessKey":"S"}}"#,
            ParseOptions::default(),
        )?;
        let t = S3Target::from_params(&p.params)?;
        let dir = tempfile::tempdir().map_err(Error::Sink)?;
        let f = dir.path().join("x");
        std::fs::write(&f, b"data").map_err(Error::Sink)?;
        let opts = UploadOptions {
            attempts: 2,
            request_retries: 0,
            backoff: Duration::from_millis(1),
            timeout: Duration::from_secs(2),
            ..UploadOptions::default()
        };
        let mut alerts = Vec::new();
        let r = upload_file_blocking(&f, &t, &opts, &mut alerts);
        assert!(matches!(r, Err(Error::Upload { .. })), "{r:?}");
        let texts: Vec<&str> = alerts.iter().map(|a| a.text.as_str()).collect();
        assert!(
            texts[0].starts_with("Initiated upload of results to S3, bucket = b, key = k.parquet")
        );
        assert!(texts[1].starts_with("S3 PUT failed attempt 1"));
        assert_eq!(
            texts.last().copied(),
            Some("Upload to S3 failed, bucket = b, key = k.parquet")
        );
        Ok(())
    }
}
