//! The strips and tiles of a TIFF, decoded by us: where they are, what they may decode
//! to (checked against the file before anything is allocated), and their codecs
//! (none, LZW, deflate, PackBits, ZSTD, JPEG incl. YCbCr, WebP) and predictors (2, 3).
//!
//! The `tiff` crate reads the tags; it does not decode the pixels, because it decodes
//! for display: it drops an unspecified extra sample of an RGB image (4-band NAIP
//! imagery came out with 3 samples a pixel, read as 4), returns JPEG YCbCr
//! unconverted, inverts WhiteIsZero, and panics on some inconsistent chunk indexes.
//! GDAL returns the stored samples; so do we.

use std::io::{Read, Seek, SeekFrom};

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// The most bytes one compressed strip or tile may decode to (and the most compressed
/// bytes one may have): larger ones are refused, not allocated.
pub(crate) const MAX_CHUNK_BYTES: u64 = 512 << 20;

/// The longest ASCII tag value read (GDAL metadata, GeoAsciiParams, nodata).
const MAX_ASCII_BYTES: u64 = 16 << 20;

/// The name of a TIFF compression code, for messages.
pub(crate) fn codec_name(code: u16) -> &'static str {
    match code {
        1 => "none",
        2 => "CCITT RLE",
        3 => "CCITT Group 3 fax",
        4 => "CCITT Group 4 fax",
        5 => "LZW",
        6 => "old-style JPEG",
        7 => "JPEG",
        8 | 32946 => "deflate",
        32773 => "PackBits",
        34676 | 34677 => "SGI LogLuv",
        34712 => "JPEG 2000",
        34887 => "LERC",
        34925 => "LZMA",
        50000 => "ZSTD",
        50001 => "WebP",
        50002 => "JPEG XL",
        _ => "unknown",
    }
}

/// How many bytes one compressed byte can at most decode to, per codec: a decoded size
/// beyond `compressed bytes × ratio` cannot be in the file, whatever the header says.
fn max_ratio(code: u16) -> u64 {
    match code {
        1 => 1,
        // A run of 128 bytes costs 2.
        32773 => 64,
        // deflate's own bound (258-byte matches in about 2 bits) is 1032:1.
        8 | 32946 => 1100,
        // 12-bit codes of strings at most 4096 bytes long.
        5 => 2800,
        // ZSTD, JPEG and WebP have no useful bound: a generous one, and the absolute
        // MAX_CHUNK_BYTES.
        _ => 1 << 16,
    }
}

/// Where the chunks of an image are and how they are stored.
#[derive(Debug)]
pub(crate) struct Chunks {
    pub(crate) offsets: Vec<u64>,
    pub(crate) counts: Vec<u64>,
    pub(crate) compression: u16,
    pub(crate) predictor: u16,
    /// Bytes of one sample (1, 2, 4 or 8).
    pub(crate) bytes_per_sample: usize,
    /// Samples of one pixel inside a chunk (all bands when pixel-interleaved, else 1).
    pub(crate) samples: usize,
    pub(crate) big_endian: bool,
    pub(crate) tiled: bool,
    /// Chunk width (the image width for strips) and height (rows per strip, tile length).
    pub(crate) chunk_w: u32,
    pub(crate) chunk_h: u32,
    /// Chunks across the image and chunks in one plane.
    pub(crate) across: u32,
    pub(crate) per_plane: u32,
    pub(crate) height: u32,
    /// JPEGTables (347), shared by every JPEG chunk.
    pub(crate) jpeg_tables: Option<Vec<u8>>,
    /// PhotometricInterpretation YCbCr: JPEG chunks are converted to RGB, as GDAL does.
    pub(crate) ycbcr: bool,
}

impl Chunks {
    /// Bytes of one decoded chunk row (padding included, as stored).
    pub(crate) fn row_bytes(&self) -> u64 {
        u64::from(self.chunk_w) * self.samples as u64 * self.bytes_per_sample as u64
    }

    /// Rows of data in chunk `idx` (the last strip may be shorter; tiles are padded).
    pub(crate) fn data_rows(&self, idx: u32) -> u32 {
        if self.tiled {
            return self.chunk_h;
        }
        let s = idx % self.per_plane.max(1);
        let top = u64::from(s) * u64::from(self.chunk_h);
        let left = u64::from(self.height).saturating_sub(top);
        u32::try_from(left.min(u64::from(self.chunk_h))).unwrap_or(self.chunk_h)
    }

    /// Whether chunk `idx` is absent (a sparse file's empty block): read as fill.
    pub(crate) fn absent(&self, idx: u32) -> bool {
        self.counts.get(idx as usize).is_none_or(|c| *c == 0)
    }

    /// Checks the codec, and every chunk against the file: inside it, and able to hold
    /// what the header says it decodes to. Nothing has been allocated from the header yet.
    pub(crate) fn check(&self, file_len: u64) -> Result<(), String> {
        let c = self.compression;
        if !matches!(c, 1 | 5 | 7 | 8 | 32946 | 32773 | 50000 | 50001) {
            return Err(format!(
                "compression {c} ({}) is not supported (none, LZW, deflate, PackBits, ZSTD, JPEG, WebP are)",
                codec_name(c)
            ));
        }
        if !matches!(self.predictor, 1..=3) {
            return Err(format!("predictor {} is not supported", self.predictor));
        }
        if self.predictor == 3 && !matches!(self.bytes_per_sample, 2 | 4 | 8) {
            return Err("the floating-point predictor (3) needs 16-, 32- or 64-bit samples".into());
        }
        if matches!(c, 7 | 50001) && self.bytes_per_sample != 1 {
            return Err(format!(
                "{} compression of {}-bit samples is not supported (8-bit only)",
                codec_name(c),
                self.bytes_per_sample * 8
            ));
        }
        if self.ycbcr && c != 7 {
            return Err(format!(
                "YCbCr colour without JPEG compression ({}) is not supported",
                codec_name(c)
            ));
        }
        if self.offsets.len() != self.counts.len() {
            return Err(format!(
                "{} chunk offsets but {} byte counts",
                self.offsets.len(),
                self.counts.len()
            ));
        }
        let what = if self.tiled { "tile" } else { "strip" };
        let row = self.row_bytes();
        for (i, (&off, &count)) in self.offsets.iter().zip(&self.counts).enumerate() {
            if count == 0 {
                continue;
            }
            let end = off.saturating_add(count);
            if end > file_len {
                return Err(format!(
                    "{what} {i} ({count} bytes at offset {off}) lies past the end of the file ({file_len} bytes)"
                ));
            }
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            let expected = row.saturating_mul(u64::from(self.data_rows(idx)));
            let holds = count.saturating_mul(max_ratio(c));
            if expected > holds {
                return Err(format!(
                    "{what} {i} should decode to {expected} bytes ({}x{} pixels of {} byte(s)), but its {count} bytes of {} data can hold at most {holds}: the header is corrupt",
                    self.chunk_w,
                    self.data_rows(idx),
                    self.samples * self.bytes_per_sample,
                    if c == 1 {
                        "uncompressed"
                    } else {
                        codec_name(c)
                    }
                ));
            }
            if c != 1 && (expected > MAX_CHUNK_BYTES || count > MAX_CHUNK_BYTES) {
                return Err(format!(
                    "{what} {i} decodes to {expected} bytes from {count}: compressed {what}s over {MAX_CHUNK_BYTES} bytes are not supported (rewrite with smaller {what}s, e.g. gdal_translate -co TILED=YES)"
                ));
            }
        }
        Ok(())
    }

    /// Rows `rows` (within the chunk) of chunk `idx`, decoded into `out`: each row
    /// [`Self::row_bytes`] long, samples little-endian, predictor undone. `raw` and
    /// `full` are scratch buffers kept by the caller.
    pub(crate) fn read<R: Read + Seek>(
        &self,
        r: &mut R,
        idx: u32,
        rows: std::ops::Range<u32>,
        raw: &mut Vec<u8>,
        full: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let i = idx as usize;
        let (Some(&off), Some(&count)) = (self.offsets.get(i), self.counts.get(i)) else {
            return Err(format!("chunk {idx} has no offset or byte count"));
        };
        let row = usize::try_from(self.row_bytes()).map_err(|e| e.to_string())?;
        let data_rows = self.data_rows(idx) as usize;
        let (a, b) = (rows.start as usize, (rows.end as usize).min(data_rows));
        out.clear();
        if a >= b {
            return Ok(());
        }
        let io = |e: std::io::Error| format!("chunk {idx}: {e}");
        if self.compression == 1 {
            // Uncompressed: only the rows asked for (a strip may be larger than memory).
            let _ = r
                .seek(SeekFrom::Start(off + (a * row) as u64))
                .map_err(io)?;
            out.resize((b - a) * row, 0);
            r.read_exact(out).map_err(io)?;
        } else {
            let n = usize::try_from(count.min(MAX_CHUNK_BYTES)).map_err(|e| e.to_string())?;
            let _ = r.seek(SeekFrom::Start(off)).map_err(io)?;
            raw.clear();
            raw.resize(n, 0);
            r.read_exact(raw).map_err(io)?;
            let expected = row * data_rows;
            full.clear();
            match self.compression {
                7 => self.jpeg(raw, row, data_rows, full)?,
                50001 => self.webp(raw, row, data_rows, full)?,
                c => decompress(c, raw, expected, full).map_err(|m| format!("chunk {idx}: {m}"))?,
            }
            // A short stream leaves the rest as zeros, as libtiff does with a warning.
            full.resize(expected, 0);
            out.extend_from_slice(&full[a * row..b * row]);
        }
        if !matches!(self.compression, 7 | 50001) {
            for line in out.chunks_exact_mut(row) {
                self.undo_row(line, full);
            }
        }
        Ok(())
    }

    /// Byte order and predictor of one row, in place; `tmp` is scratch.
    fn undo_row(&self, row: &mut [u8], tmp: &mut Vec<u8>) {
        let (bps, spp) = (self.bytes_per_sample, self.samples);
        if self.predictor == 3 {
            // Bytes were differenced with the pixel's sample stride, after the samples'
            // bytes were split into planes, most significant first.
            for k in spp..row.len() {
                row[k] = row[k].wrapping_add(row[k - spp]);
            }
            let wc = row.len() / bps;
            tmp.clear();
            tmp.extend_from_slice(row);
            for k in 0..wc {
                for byte in 0..bps {
                    if let Some(v) = tmp.get((bps - byte - 1) * wc + k) {
                        row[bps * k + byte] = *v;
                    }
                }
            }
            return;
        }
        if self.big_endian && bps > 1 {
            for s in row.chunks_exact_mut(bps) {
                s.reverse();
            }
        }
        if self.predictor == 2 {
            macro_rules! undo {
                ($t:ty, $n:expr) => {{
                    let n = row.len() / $n;
                    for k in spp..n {
                        let mut p = [0u8; $n];
                        p.copy_from_slice(&row[(k - spp) * $n..(k - spp + 1) * $n]);
                        let mut c = [0u8; $n];
                        c.copy_from_slice(&row[k * $n..(k + 1) * $n]);
                        let v = <$t>::from_le_bytes(c).wrapping_add(<$t>::from_le_bytes(p));
                        row[k * $n..(k + 1) * $n].copy_from_slice(&v.to_le_bytes());
                    }
                }};
            }
            match bps {
                1 => {
                    for k in spp..row.len() {
                        row[k] = row[k].wrapping_add(row[k - spp]);
                    }
                }
                2 => undo!(u16, 2),
                4 => undo!(u32, 4),
                _ => undo!(u64, 8),
            }
        }
    }

    /// One JPEG chunk (JPEGTables prepended), YCbCr converted to RGB, as rows of `row` bytes.
    fn jpeg(&self, data: &[u8], row: usize, rows: usize, out: &mut Vec<u8>) -> Result<(), String> {
        let stream: Vec<u8> = match &self.jpeg_tables {
            Some(t) if t.len() >= 4 && data.len() >= 2 => {
                let mut s = Vec::with_capacity(t.len() + data.len());
                s.extend_from_slice(&t[..t.len() - 2]);
                s.extend_from_slice(&data[2..]);
                s
            }
            _ => data.to_vec(),
        };
        let limit = 1 << 16;
        let opts = DecoderOptions::default()
            .set_max_width(limit)
            .set_max_height(limit);
        let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(&stream[..]), opts);
        dec.decode_headers().map_err(|e| format!("jpeg: {e:?}"))?;
        let input = dec.input_colorspace().unwrap_or(ColorSpace::Luma);
        let space = if self.ycbcr { ColorSpace::RGB } else { input };
        dec.set_options(opts.jpeg_set_out_colorspace(space));
        let (w, h) = dec.dimensions().ok_or("jpeg: no dimensions")?;
        let channels = space.num_components();
        if channels != self.samples {
            return Err(format!(
                "jpeg: {channels} component(s) where the TIFF has {} sample(s) a pixel",
                self.samples
            ));
        }
        if w > self.chunk_w as usize || h > self.chunk_h as usize {
            return Err(format!(
                "jpeg: a {w}x{h} image in a {}x{} chunk",
                self.chunk_w, self.chunk_h
            ));
        }
        let buf = dec.decode().map_err(|e| format!("jpeg: {e:?}"))?;
        copy_rows(&buf, w * channels, h, row, rows, out);
        Ok(())
    }

    /// One WebP chunk, as rows of `row` bytes (alpha added or dropped to fit).
    fn webp(&self, data: &[u8], row: usize, rows: usize, out: &mut Vec<u8>) -> Result<(), String> {
        let mut dec = image_webp::WebPDecoder::new(std::io::Cursor::new(data))
            .map_err(|e| format!("webp: {e}"))?;
        let (w, h) = dec.dimensions();
        let (w, h) = (w as usize, h as usize);
        if w > self.chunk_w as usize || h > rows.max(self.chunk_h as usize) {
            return Err(format!(
                "webp: a {w}x{h} image in a {}x{rows} chunk",
                self.chunk_w
            ));
        }
        let size = dec.output_buffer_size().ok_or("webp: image too large")?;
        let mut buf = vec![0u8; size];
        dec.read_image(&mut buf).map_err(|e| format!("webp: {e}"))?;
        let channels = if dec.has_alpha() { 4 } else { 3 };
        let buf = crate::lossy::select_channels(&buf, channels, self.samples);
        copy_rows(&buf, w * self.samples, h, row, rows, out);
        Ok(())
    }
}

/// Copies `h` rows of `w` bytes into rows of `row` bytes (at most `rows` of them).
fn copy_rows(buf: &[u8], w: usize, h: usize, row: usize, rows: usize, out: &mut Vec<u8>) {
    out.clear();
    out.resize(row * rows, 0);
    let n = w.min(row);
    for r in 0..h.min(rows) {
        if let (Some(src), Some(dst)) =
            (buf.get(r * w..r * w + n), out.get_mut(r * row..r * row + n))
        {
            dst.copy_from_slice(src);
        }
    }
}

/// Decompresses a lossless chunk into `out`, never producing more than `expected` bytes.
fn decompress(code: u16, data: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let limit = expected as u64;
    match code {
        8 | 32946 => {
            out.reserve(expected);
            let _ = flate2::read::ZlibDecoder::new(data)
                .take(limit)
                .read_to_end(out)
                .map_err(|e| format!("deflate: {e}"))?;
        }
        50000 => {
            out.reserve(expected);
            let dec =
                zstd::stream::read::Decoder::with_buffer(data).map_err(|e| format!("zstd: {e}"))?;
            let _ = dec
                .take(limit)
                .read_to_end(out)
                .map_err(|e| format!("zstd: {e}"))?;
        }
        5 => {
            out.resize(expected, 0);
            let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
            let (mut i, mut o) = (0, 0);
            while o < expected {
                let res = dec.decode_bytes(&data[i..], &mut out[o..]);
                i += res.consumed_in;
                o += res.consumed_out;
                if res.consumed_in == 0 && res.consumed_out == 0 {
                    break;
                }
                match res.status {
                    Ok(weezl::LzwStatus::Ok) => {}
                    Ok(weezl::LzwStatus::Done | weezl::LzwStatus::NoProgress) => break,
                    Err(e) => return Err(format!("lzw: {e}")),
                }
            }
            out.truncate(o);
        }
        32773 => {
            out.reserve(expected);
            let mut k = 0;
            while k < data.len() && out.len() < expected {
                let n = data[k] as i8;
                k += 1;
                if n >= 0 {
                    let c = usize::from(n.unsigned_abs()) + 1;
                    out.extend_from_slice(data.get(k..k + c).unwrap_or(&[]));
                    k += c;
                } else if n != -128 {
                    let c = usize::from(n.unsigned_abs()) + 1;
                    if let Some(b) = data.get(k) {
                        out.extend(std::iter::repeat_n(*b, c));
                    }
                    k += 1;
                }
            }
            out.truncate(expected);
        }
        other => {
            return Err(format!(
                "compression {other} ({}) is not supported",
                codec_name(other)
            ));
        }
    }
    Ok(())
}

/// Checks the first IFD before the `tiff` crate reads it: every tag's values lie inside
/// the file and no ASCII value is absurdly long. Crafted headers (huge strip counts,
/// offsets past the end) are refused here, before anything is allocated from them, and
/// the crate's debug print for over-long ASCII values (a `dbg!` that writes its build
/// path to stderr) is never reached.
pub(crate) fn check_ifd<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<(), String> {
    let (order, ifd) = read_tiff_header(r)?;
    let (count_len, entry_len) = if order.big { (8u64, 20u64) } else { (2, 12) };
    let mut cnt = [0u8; 8];
    if read_up_to(r, ifd, &mut cnt[..count_len as usize])? < count_len as usize {
        return Err(format!(
            "the first IFD (offset {ifd}) lies past the end of the file"
        ));
    }
    let entries = if order.big {
        order.u64_at(&cnt)
    } else {
        u64::from(order.u16_at(&cnt))
    };
    let table = entries
        .checked_mul(entry_len)
        .and_then(|t| t.checked_add(ifd + count_len))
        .unwrap_or(u64::MAX);
    if table > file_len {
        return Err(format!(
            "the first IFD declares {entries} entries, more than the file holds"
        ));
    }
    let mut buf = vec![0u8; (entries * entry_len) as usize];
    let _ = read_up_to(r, ifd + count_len, &mut buf)?;
    for e in buf.chunks_exact(entry_len as usize) {
        check_ifd_entry(order, e, file_len)?;
    }
    let _ = r.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    Ok(())
}

/// How a TIFF file writes numbers: its byte order, and whether it is a BigTIFF.
#[derive(Clone, Copy)]
struct ByteOrder {
    be: bool,
    big: bool,
}

impl ByteOrder {
    fn u16_at(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.be {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    fn u32_at(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.be {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    fn u64_at(self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.be {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        }
    }
}

/// The byte order, the kind (TIFF or BigTIFF) and the first IFD's offset.
fn read_tiff_header<R: Read + Seek>(r: &mut R) -> Result<(ByteOrder, u64), String> {
    let mut head = [0u8; 16];
    let n = read_up_to(r, 0, &mut head)?;
    if n < 8 {
        return Err("not a TIFF file (shorter than a header)".into());
    }
    let be = match &head[..2] {
        b"II" => false,
        b"MM" => true,
        _ => return Err("not a TIFF file (no II/MM byte-order mark)".into()),
    };
    let mut order = ByteOrder { be, big: false };
    order.big = match order.u16_at(&head[2..4]) {
        42 => false,
        43 if n >= 16 => true,
        m => return Err(format!("not a TIFF file (version {m})")),
    };
    let ifd = if order.big {
        order.u64_at(&head[8..16])
    } else {
        u64::from(order.u32_at(&head[4..8]))
    };
    Ok((order, ifd))
}

/// One IFD entry: an ASCII value of a sane length, values inside the file.
fn check_ifd_entry(order: ByteOrder, e: &[u8], file_len: u64) -> Result<(), String> {
    let inline = if order.big { 8u64 } else { 4 };
    let tag = order.u16_at(&e[0..2]);
    let ty = order.u16_at(&e[2..4]);
    let count = if order.big {
        order.u64_at(&e[4..12])
    } else {
        u64::from(order.u32_at(&e[4..8]))
    };
    let size: u64 = match ty {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return Ok(()),
    };
    let bytes = count.saturating_mul(size);
    if ty == 2 && bytes > MAX_ASCII_BYTES {
        return Err(format!(
            "tag {tag}: an ASCII value of {count} bytes (more than {MAX_ASCII_BYTES} is not read)"
        ));
    }
    if bytes <= inline {
        return Ok(());
    }
    let off = if order.big {
        order.u64_at(&e[12..20])
    } else {
        u64::from(order.u32_at(&e[8..12]))
    };
    if off.checked_add(bytes).is_none_or(|end| end > file_len) {
        return Err(format!(
            "tag {tag}: {count} value(s) at offset {off} lie past the end of the file ({file_len} bytes)"
        ));
    }
    Ok(())
}

/// Reads at most `buf.len()` bytes at `off`; returns how many.
fn read_up_to<R: Read + Seek>(r: &mut R, off: u64, buf: &mut [u8]) -> Result<usize, String> {
    let _ = r.seek(SeekFrom::Start(off)).map_err(|e| e.to_string())?;
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(n)
}
