//! Decoding of lossy interleaved tiles (`compression: "jpeg" | "webp"`): uint8,
//! 1, 3 or 4 bands, one complete image per cell.

use std::io::Cursor;

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// Decodes a WebP tile into `bands`-interleaved bytes of a `width × height` tile.
pub(crate) fn webp(data: &[u8], width: u32, height: u32, bands: usize) -> Result<Vec<u8>, String> {
    let mut dec =
        image_webp::WebPDecoder::new(Cursor::new(data)).map_err(|e| format!("webp: {e}"))?;
    let (w, h) = dec.dimensions();
    if (w, h) != (width, height) {
        return Err(format!(
            "webp image is {w}x{h}, the block is {width}x{height}"
        ));
    }
    let channels = if dec.has_alpha() { 4 } else { 3 };
    let size = dec.output_buffer_size().ok_or("webp: image too large")?;
    let mut buf = vec![0u8; size];
    dec.read_image(&mut buf).map_err(|e| format!("webp: {e}"))?;
    Ok(select_channels(&buf, channels, bands))
}

/// Decodes a JPEG tile into `bands`-interleaved bytes of a `width × height` tile.
pub(crate) fn jpeg(data: &[u8], width: u32, height: u32, bands: usize) -> Result<Vec<u8>, String> {
    let space = if bands == 1 {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let opts = DecoderOptions::default().jpeg_set_out_colorspace(space);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), opts);
    dec.decode_headers().map_err(|e| format!("jpeg: {e:?}"))?;
    let (w, h) = dec.dimensions().ok_or("jpeg: no dimensions")?;
    if (w, h) != (width as usize, height as usize) {
        return Err(format!(
            "jpeg image is {w}x{h}, the block is {width}x{height}"
        ));
    }
    let buf = dec.decode().map_err(|e| format!("jpeg: {e:?}"))?;
    let channels = if bands == 1 { 1 } else { 3 };
    Ok(select_channels(&buf, channels, bands))
}

/// Keeps (or pads with opaque alpha) `bands` channels out of `channels`.
pub(crate) fn select_channels(buf: &[u8], channels: usize, bands: usize) -> Vec<u8> {
    if channels == bands {
        return buf.to_vec();
    }
    let mut out = Vec::with_capacity(buf.len() / channels * bands);
    for px in buf.chunks_exact(channels) {
        for b in 0..bands {
            out.push(px.get(b).copied().unwrap_or(255));
        }
    }
    out
}
