//! SlideRule's record framing for streamed files (`arrowrec.meta`,
//! `arrowrec.data`, `arrowrec.eof`, `arrowrec.remote`, and `exceptrec`
//! alerts), byte for byte, to any `Write` (or, with feature `async`, any
//! tokio `AsyncWrite`); and a decoder that rebuilds files from a stream.
//!
//! Each record: `u16` version 2 (big-endian), `u16` type size (name + NUL),
//! `u32` data size, the NUL-terminated type name, then the little-endian data.

use std::io::{Read, Write};

use crate::error::{Error, Result};

/// Largest `arrowrec.data` payload (32 MiB).
pub const MAX_DATA_CHUNK: usize = 0x200_0000;
/// Bytes of the `filename` field (127 characters and a NUL).
pub const FILENAME_BYTES: usize = 128;
/// Bytes of the `url` field of `arrowrec.remote`.
pub const URL_BYTES: usize = 512;
/// Bytes of the `text` field of `exceptrec`.
pub const ALERT_TEXT_BYTES: usize = 256;
/// The record format version.
pub const RECORD_VERSION: u16 = 2;

/// Alert code: status (`RTE_STATUS`).
pub const RTE_STATUS: i32 = 0;
/// Alert code: failure (`RTE_FAILURE`).
pub const RTE_FAILURE: i32 = -1;
/// Event level INFO.
pub const LEVEL_INFO: u32 = 2;
/// Event level CRITICAL.
pub const LEVEL_CRITICAL: u32 = 4;

/// The record definitions (as the server's `/source/definition` answers
/// them), for pre-filling a client's cache.
pub const DEFINITIONS_JSON: &str = r#"{"arrowrec.meta": {"__datasize": 136, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "size": {"type": "INT64", "offset": 1024, "elements": 1, "flags": "LE"}}, "arrowrec.data": {"__datasize": 128, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "data": {"type": "UINT8", "offset": 1024, "elements": 0, "flags": "LE"}}, "arrowrec.eof": {"__datasize": 136, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "checksum": {"type": "UINT64", "offset": 1024, "elements": 1, "flags": "LE"}}, "arrowrec.remote": {"__datasize": 520, "url": {"type": "STRING", "offset": 0, "elements": 512, "flags": "LE"}, "size": {"type": "INT64", "offset": 4096, "elements": 1, "flags": "LE"}}}"#;

/// The `arrowrec.eof` checksum: the sum of all bytes, wrapping in 64 bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum(pub u64);

impl Checksum {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        let s: u64 = bytes.iter().map(|b| u64::from(*b)).sum();
        self.0 = self.0.wrapping_add(s);
    }
}

/// The header and type name of one record carrying `data_len` bytes.
#[must_use]
pub fn record_header(rectype: &str, data_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + rectype.len() + 1);
    out.extend_from_slice(&RECORD_VERSION.to_be_bytes());
    out.extend_from_slice(&((rectype.len() + 1) as u16).to_be_bytes());
    out.extend_from_slice(&(data_len as u32).to_be_bytes());
    out.extend_from_slice(rectype.as_bytes());
    out.push(0);
    out
}

/// A fixed, NUL-padded string field (cut to `len − 1` bytes).
fn fixed(s: &str, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    let b = s.as_bytes();
    let n = b.len().min(len - 1);
    v[..n].copy_from_slice(&b[..n]);
    v
}

/// A whole record: header, name, data.
#[must_use]
pub fn record(rectype: &str, data: &[u8]) -> Vec<u8> {
    let mut out = record_header(rectype, data.len());
    out.extend_from_slice(data);
    out
}

/// `arrowrec.meta {filename, size}`.
#[must_use]
pub fn meta_record(filename: &str, size: u64) -> Vec<u8> {
    let mut d = fixed(filename, FILENAME_BYTES);
    d.extend_from_slice(&(size as i64).to_le_bytes());
    record("arrowrec.meta", &d)
}

/// `arrowrec.eof {filename, checksum}`.
#[must_use]
pub fn eof_record(filename: &str, checksum: u64) -> Vec<u8> {
    let mut d = fixed(filename, FILENAME_BYTES);
    d.extend_from_slice(&checksum.to_le_bytes());
    record("arrowrec.eof", &d)
}

/// `arrowrec.remote {url, size}` (after an upload).
#[must_use]
pub fn remote_record(url: &str, size: u64) -> Vec<u8> {
    let mut d = fixed(url, URL_BYTES);
    d.extend_from_slice(&(size as i64).to_le_bytes());
    record("arrowrec.remote", &d)
}

/// `exceptrec {int32 code, uint32 level, char text[256]}`.
#[must_use]
pub fn alert_record(code: i32, level: u32, text: &str) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + ALERT_TEXT_BYTES);
    d.extend_from_slice(&code.to_le_bytes());
    d.extend_from_slice(&level.to_le_bytes());
    d.extend(fixed(text, ALERT_TEXT_BYTES));
    record("exceptrec", &d)
}

/// Streams a file's bytes as `arrowrec.meta`, `arrowrec.data` chunks of at
/// most `chunk` bytes (clamped to 1..=32 MiB), and `arrowrec.eof` when
/// `with_checksum`. Returns the checksum.
///
/// ```
/// use sliderule_export::stream::{write_file, decode, Checksum};
/// let file = b"PAR1 example bytes PAR1".to_vec();
/// let mut framed = Vec::new();
/// let sum = write_file(&mut framed, "out.parquet", &file[..], file.len() as u64, true, 8)?;
/// let files = decode(&framed[..])?;
/// assert_eq!(files.files[0].name, "out.parquet");
/// assert_eq!(files.files[0].bytes, file);
/// assert_eq!(files.files[0].checksum, Some(sum.0));
/// # Ok::<(), sliderule_export::Error>(())
/// ```
pub fn write_file<W: Write + ?Sized, R: Read>(
    sink: &mut W,
    filename: &str,
    mut file: R,
    size: u64,
    with_checksum: bool,
    chunk: usize,
) -> Result<Checksum> {
    let chunk = chunk.clamp(1, MAX_DATA_CHUNK);
    let name = fixed(filename, FILENAME_BYTES);
    sink.write_all(&meta_record(filename, size))
        .map_err(Error::Sink)?;
    let mut sum = Checksum::default();
    let mut buf = vec![0u8; chunk.min(usize::try_from(size).unwrap_or(chunk)).max(1)];
    let mut sent = 0u64;
    loop {
        let n = read_full(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        let data = &buf[..n];
        sum.update(data);
        sink.write_all(&record_header("arrowrec.data", FILENAME_BYTES + n))
            .map_err(Error::Sink)?;
        sink.write_all(&name).map_err(Error::Sink)?;
        sink.write_all(data).map_err(Error::Sink)?;
        sent += n as u64;
    }
    if sent != size {
        return Err(Error::InvalidStream {
            offset: sent,
            message: format!("file \"{filename}\" has {sent} bytes, {size} were announced"),
        });
    }
    if with_checksum {
        sink.write_all(&eof_record(filename, sum.0))
            .map_err(Error::Sink)?;
    }
    Ok(sum)
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Sink(e)),
        }
    }
    Ok(n)
}

/// As [`write_file`], to a tokio `AsyncWrite`, reading the file from an
/// `AsyncRead`.
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub async fn write_file_async<W, R>(
    sink: &mut W,
    filename: &str,
    mut file: R,
    size: u64,
    with_checksum: bool,
    chunk: usize,
) -> Result<Checksum>
where
    W: tokio::io::AsyncWrite + Unpin + ?Sized,
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let chunk = chunk.clamp(1, MAX_DATA_CHUNK);
    let name = fixed(filename, FILENAME_BYTES);
    sink.write_all(&meta_record(filename, size))
        .await
        .map_err(Error::Sink)?;
    let mut sum = Checksum::default();
    let mut buf = vec![0u8; chunk.min(usize::try_from(size).unwrap_or(chunk)).max(1)];
    let mut sent = 0u64;
    loop {
        let mut n = 0;
        while n < buf.len() {
            let k = file.read(&mut buf[n..]).await.map_err(Error::Sink)?;
            if k == 0 {
                break;
            }
            n += k;
        }
        if n == 0 {
            break;
        }
        let data = &buf[..n];
        sum.update(data);
        sink.write_all(&record_header("arrowrec.data", FILENAME_BYTES + n))
            .await
            .map_err(Error::Sink)?;
        sink.write_all(&name).await.map_err(Error::Sink)?;
        sink.write_all(data).await.map_err(Error::Sink)?;
        sent += n as u64;
    }
    if sent != size {
        return Err(Error::InvalidStream {
            offset: sent,
            message: format!("file \"{filename}\" has {sent} bytes, {size} were announced"),
        });
    }
    if with_checksum {
        sink.write_all(&eof_record(filename, sum.0))
            .await
            .map_err(Error::Sink)?;
    }
    sink.flush().await.map_err(Error::Sink)?;
    Ok(sum)
}

/// One file rebuilt from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFile {
    /// The `filename` of its records.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The size `arrowrec.meta` announced.
    pub size: u64,
    /// The `arrowrec.eof` checksum, when sent (verified on decoding).
    pub checksum: Option<u64>,
}

/// An `arrowrec.remote` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// `s3://bucket/key`.
    pub url: String,
    /// Size uploaded.
    pub size: u64,
}

/// An `exceptrec` alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `RTE_STATUS` (0), `RTE_FAILURE` (−1), ….
    pub code: i32,
    /// Event level.
    pub level: u32,
    /// The text.
    pub text: String,
}

/// Everything a stream held.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// Files, in order of their `arrowrec.meta`.
    pub files: Vec<DecodedFile>,
    /// `arrowrec.remote` records.
    pub remotes: Vec<Remote>,
    /// `exceptrec` alerts.
    pub alerts: Vec<Alert>,
    /// Other records, untouched: (type, data).
    pub other: Vec<(String, Vec<u8>)>,
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)?.try_into().ok().map(u64::from_le_bytes)
}

/// Decodes a whole stream (files are verified against their size and, when
/// sent, their checksum).
pub fn decode<R: Read>(mut input: R) -> Result<Decoded> {
    let mut out = Decoded::default();
    let mut offset = 0u64;
    loop {
        let mut header = [0u8; 8];
        let n = read_full(&mut input, &mut header)?;
        if n == 0 {
            break;
        }
        let bad = |m: String| Error::InvalidStream { offset, message: m };
        if n < 8 {
            return Err(bad(format!("truncated record header ({n} of 8 bytes)")));
        }
        let version = u16::from_be_bytes([header[0], header[1]]);
        if version != RECORD_VERSION {
            return Err(bad(format!("record version {version}, expected 2")));
        }
        let type_size = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let data_size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if data_size > MAX_DATA_CHUNK + FILENAME_BYTES + 4096 {
            return Err(bad(format!(
                "record of {data_size} bytes is larger than any SlideRule record"
            )));
        }
        let mut body = vec![0u8; type_size + data_size];
        let got = read_full(&mut input, &mut body)?;
        if got < body.len() {
            return Err(bad(format!(
                "truncated record: {got} of {} bytes",
                body.len()
            )));
        }
        let rectype = cstr(&body[..type_size]);
        let data = &body[type_size..];
        match rectype.as_str() {
            "arrowrec.meta" => {
                let name = cstr(data.get(..FILENAME_BYTES).unwrap_or(data));
                let size = le_u64(data, FILENAME_BYTES)
                    .ok_or_else(|| bad("arrowrec.meta too short".into()))?;
                // As the client: a second meta for a file still being received is an error.
                if out
                    .files
                    .iter()
                    .any(|f| f.name == name && (f.bytes.len() as u64) < f.size)
                {
                    return Err(bad(format!("file transfer already in progress for {name}")));
                }
                out.files.push(DecodedFile {
                    name,
                    bytes: Vec::new(),
                    size,
                    checksum: None,
                });
            }
            "arrowrec.data" => {
                let name = cstr(data.get(..FILENAME_BYTES).unwrap_or(data));
                let f = out
                    .files
                    .iter_mut()
                    .rev()
                    .find(|f| f.name == name)
                    .ok_or_else(|| {
                        bad(format!(
                            "arrowrec.data for \"{name}\" without arrowrec.meta"
                        ))
                    })?;
                f.bytes
                    .extend_from_slice(data.get(FILENAME_BYTES..).unwrap_or_default());
                if f.bytes.len() as u64 > f.size {
                    return Err(bad(format!(
                        "\"{name}\" has more bytes than the {} announced",
                        f.size
                    )));
                }
            }
            "arrowrec.eof" => {
                let name = cstr(data.get(..FILENAME_BYTES).unwrap_or(data));
                let sum = le_u64(data, FILENAME_BYTES)
                    .ok_or_else(|| bad("arrowrec.eof too short".into()))?;
                let f = out
                    .files
                    .iter_mut()
                    .rev()
                    .find(|f| f.name == name)
                    .ok_or_else(|| {
                        bad(format!("arrowrec.eof for \"{name}\" without arrowrec.meta"))
                    })?;
                let mut actual = Checksum::default();
                actual.update(&f.bytes);
                if actual.0 != sum {
                    return Err(Error::ChecksumMismatch {
                        file: name,
                        expected: sum,
                        actual: actual.0,
                    });
                }
                f.checksum = Some(sum);
            }
            "arrowrec.remote" => {
                let url = cstr(data.get(..URL_BYTES).unwrap_or(data));
                let size = le_u64(data, URL_BYTES)
                    .ok_or_else(|| bad("arrowrec.remote too short".into()))?;
                out.remotes.push(Remote { url, size });
            }
            "exceptrec" => {
                let code = data
                    .get(0..4)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, i32::from_le_bytes);
                let level = data
                    .get(4..8)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u32::from_le_bytes);
                out.alerts.push(Alert {
                    code,
                    level,
                    text: cstr(data.get(8..).unwrap_or_default()),
                });
            }
            _ => out.other.push((rectype, data.to_vec())),
        }
        offset += 8 + body.len() as u64;
    }
    for f in &out.files {
        if f.bytes.len() as u64 != f.size {
            return Err(Error::InvalidStream {
                offset,
                message: format!(
                    "stream ended with \"{}\" at {} of {} bytes",
                    f.name,
                    f.bytes.len(),
                    f.size
                ),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_header_is_the_reference_bytes() {
        let r = meta_record("x.parquet", 5);
        assert_eq!(&r[..8], &[0, 2, 0, 0x0e, 0, 0, 0, 0x88]);
        assert_eq!(&r[8..22], b"arrowrec.meta\0");
        assert_eq!(r.len(), 8 + 14 + 136);
        assert_eq!(&r[r.len() - 8..], &5i64.to_le_bytes());
    }

    #[test]
    fn chunks_split_and_checksum_wraps_in_u64() -> Result<()> {
        let file: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut framed = Vec::new();
        let sum = write_file(&mut framed, "f", &file[..], 1000, true, 300)?;
        let expect: u64 = file.iter().map(|b| u64::from(*b)).sum();
        assert_eq!(sum.0, expect);
        let d = decode(&framed[..])?;
        assert_eq!(d.files[0].bytes, file);
        // 4 data records (300, 300, 300, 100).
        let data_records = framed
            .windows(14)
            .filter(|w| w == b"arrowrec.data\0")
            .count();
        assert_eq!(data_records, 4);
        let mut c = Checksum(u64::MAX);
        c.update(&[2]);
        assert_eq!(c.0, 1);
        Ok(())
    }

    #[test]
    fn corrupt_streams_are_errors() -> Result<()> {
        let mut framed = Vec::new();
        write_file(&mut framed, "f", &b"abcdef"[..], 6, true, 4)?;
        let mut bad = framed.clone();
        bad[0] = 9;
        assert!(matches!(decode(&bad[..]), Err(Error::InvalidStream { .. })));
        let cut = &framed[..framed.len() - 30];
        assert!(decode(cut).is_err());
        // Flip a data byte: the checksum catches it.
        let at = framed.windows(4).position(|w| w == b"abcd").unwrap_or(0);
        let mut flipped = framed.clone();
        flipped[at] = b'z';
        assert!(matches!(
            decode(&flipped[..]),
            Err(Error::ChecksumMismatch { .. })
        ));
        // Announcing more bytes than sent is an error when writing.
        let mut sink = Vec::new();
        assert!(write_file(&mut sink, "f", &b"abc"[..], 4, false, 4).is_err());
        Ok(())
    }

    #[test]
    fn a_second_meta_while_receiving_is_an_error() {
        let mut s = meta_record("f", 10);
        s.extend(meta_record("f", 10));
        assert!(matches!(decode(&s[..]), Err(Error::InvalidStream { .. })));
    }

    #[test]
    fn other_records_pass_through() -> Result<()> {
        let mut s = alert_record(RTE_STATUS, LEVEL_INFO, "hello");
        s.extend(record("atl06rec", &[1, 2, 3]));
        s.extend(remote_record("s3://b/k", 9));
        let d = decode(&s[..])?;
        assert_eq!(d.alerts[0].text, "hello");
        assert_eq!(d.other, vec![("atl06rec".to_owned(), vec![1, 2, 3])]);
        assert_eq!(
            d.remotes[0],
            Remote {
                url: "s3://b/k".into(),
                size: 9
            }
        );
        Ok(())
    }
}
