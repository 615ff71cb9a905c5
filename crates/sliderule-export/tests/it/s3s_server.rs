//! Uploads against an in-process S3 server (s3s-fs) that verifies SigV4
//! signatures and body hashes, on 127.0.0.1, with a proxy in front that can
//! corrupt request bodies in flight.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use sliderule_export::output::{OutputParams, ParseOptions};
use sliderule_export::s3::{S3Target, UploadOptions, upload_file};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const AK: &str = "AKIDS3SLOCALTEST";
const SK: &str = "s3sSECRETkeyForLoopbackTests0123";
const BUCKET: &str = "bucket";

/// Serves s3s-fs over `root` on a free loopback port; returns the port.
async fn start_server(root: &Path) -> u16 {
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let fs = s3s_fs::FileSystem::new(root).unwrap();
    let mut b = S3ServiceBuilder::new(fs);
    b.set_auth(SimpleAuth::from_single(AK, SK));
    let service = b.build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    port
}

/// A TCP proxy to `upstream` that flips the first body byte of requests
/// (the byte after each header block) while `corrupt` is above zero,
/// decrementing it per corrupted request.
async fn start_proxy(upstream: u16, corrupt: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            let corrupt = corrupt.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut tail: Vec<u8> = Vec::new();
                    let mut flip_next = false;
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let chunk = &mut buf[..n];
                        for byte in chunk.iter_mut() {
                            if flip_next {
                                *byte ^= 0x01;
                                flip_next = false;
                            }
                            tail.push(*byte);
                            if tail.len() > 4 {
                                tail.remove(0);
                            }
                            if tail == b"\r\n\r\n" && corrupt.load(Ordering::SeqCst) > 0 {
                                corrupt.fetch_sub(1, Ordering::SeqCst);
                                flip_next = true;
                            }
                        }
                        if sw.write_all(chunk).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    port
}

fn target(port: u16, key: &str, secret: &str) -> S3Target {
    let json = format!(
        r#"{{"path": "s3://{BUCKET}/{key}", "endpoint": "http://127.0.0.1:{port}", "credentials": {{"aws_access_key_id": "{AK}", "aws_secret_access_key": "{secret}"}}}}"#
    );
    S3Target::from_params(
        &OutputParams::parse(&json, ParseOptions::default())
            .unwrap()
            .params,
    )
    .unwrap()
}

fn quick() -> UploadOptions {
    UploadOptions::default()
        .with_attempts(2)
        .with_request_retries(1)
        .with_backoff(Duration::from_millis(10))
        .with_timeout(Duration::from_secs(30))
}

/// Files under the bucket folder (s3s-fs keeps objects as files).
fn objects(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(BUCKET)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A body without CRLF pairs, so the proxy only ever flips the first body byte.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_uploads_single_and_multipart_arrive_intact() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    let port = start_server(&root).await;
    let src = dir.path().join("src.bin");
    for (key, len) in [
        ("small.parquet", 100_000usize),
        ("big/multi.bin", 21 * 1024 * 1024),
    ] {
        std::fs::write(&src, body(len)).unwrap();
        let mut alerts = Vec::new();
        let size = upload_file(&src, &target(port, key, SK), &quick(), &mut alerts)
            .await
            .unwrap();
        assert_eq!(size as usize, len);
        let stored = std::fs::read(root.join(BUCKET).join(key)).unwrap();
        assert!(stored == std::fs::read(&src).unwrap(), "{key} differs");
        assert!(
            alerts
                .last()
                .unwrap()
                .text
                .starts_with("Upload to S3 completed")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_rejected_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    let port = start_server(&root).await;
    let src = dir.path().join("src.bin");
    std::fs::write(&src, body(10_000)).unwrap();
    let mut alerts = Vec::new();
    let err = upload_file(
        &src,
        &target(port, "x.parquet", "WRONGsecretWRONGsecret"),
        &quick(),
        &mut alerts,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("upload to S3 failed, bucket = bucket, key = x.parquet"),
        "{err}"
    );
    assert!(
        !err.contains("WRONGsecretWRONGsecret") && !err.contains(AK),
        "{err}"
    );
    assert!(objects(&root).is_empty(), "{:?}", objects(&root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_bodies_are_refused_by_their_signed_hash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3");
    let upstream = start_server(&root).await;
    let src = dir.path().join("src.bin");
    std::fs::write(&src, body(50_000)).unwrap();

    // Every request corrupted: the upload fails and no object appears.
    let always = Arc::new(AtomicUsize::new(usize::MAX));
    let port = start_proxy(upstream, always).await;
    let mut alerts = Vec::new();
    let r = upload_file(
        &src,
        &target(port, "corrupt.parquet", SK),
        &quick(),
        &mut alerts,
    )
    .await;
    assert!(r.is_err(), "a corrupted body was accepted");
    assert!(objects(&root).is_empty(), "{:?}", objects(&root));

    // Only the first request corrupted: refused, retried, stored intact.
    let once = Arc::new(AtomicUsize::new(1));
    let port = start_proxy(upstream, once.clone()).await;
    let mut alerts = Vec::new();
    upload_file(
        &src,
        &target(port, "retried.parquet", SK),
        &quick(),
        &mut alerts,
    )
    .await
    .unwrap();
    assert_eq!(
        once.load(Ordering::SeqCst),
        0,
        "the proxy corrupted nothing"
    );
    let stored = std::fs::read(root.join(BUCKET).join("retried.parquet")).unwrap();
    assert!(stored == std::fs::read(&src).unwrap());
}
