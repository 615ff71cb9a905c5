//! The patches: per row, what the typed columns cannot say exactly (a JSON
//! Pointer and the original JSON text, or a removal). Since layout 2 they are
//! stored in the footer, under [`PATCHES_METADATA_KEY`], where other readers
//! never see them (a column would be an extra item property to Python
//! stac-geoparquet and rustac).
//!
//! The value is the base64 text of a zstd frame holding one JSON array per
//! line: `[row, "pointer", value]` sets the value at the pointer of the
//! item of that (0-based) row, `[row, "pointer"]` removes the key. Rows are
//! in increasing order.

use std::io::{Read, Write};

use base64::Engine;
use serde_json::Value;

use crate::error::{Error, PatchLimit, Result, mib};

/// The Parquet key/value key holding the patches of a file we wrote.
pub const PATCHES_METADATA_KEY: &str = "geoquet:stac:patches";

/// At most this many bytes of patch text (uncompressed): the reader holds
/// them in memory while it reads the file.
pub const MAX_PATCH_BYTES: u64 = 512 << 20;

/// At most this many bytes of footer value (base64): Parquet readers load the
/// whole footer when they open a file, and pyarrow refuses footer strings over
/// 100 MB.
pub const MAX_PATCH_FOOTER_BYTES: usize = 64 << 20;

/// zstd level of the patch text (repetitive: pointers and similar values).
const LEVEL: i32 = 9;

/// Collects the patches of a write, compressed as they come.
pub(crate) struct PatchLog {
    encoder: Option<zstd::Encoder<'static, Vec<u8>>>,
    raw: u64,
    count: u64,
    line: String,
    /// Caps: patch text, footer value ([`MAX_PATCH_BYTES`],
    /// [`MAX_PATCH_FOOTER_BYTES`] but in tests).
    max_raw: u64,
    max_footer: usize,
}

fn too_many(limit_kind: PatchLimit, limit: u64) -> Error {
    Error::PatchesTooLarge {
        path: None,
        item: None,
        limit_kind,
        limit,
    }
}

impl PatchLog {
    pub(crate) fn new() -> Self {
        Self::with_limits(MAX_PATCH_BYTES, MAX_PATCH_FOOTER_BYTES)
    }

    fn with_limits(max_raw: u64, max_footer: usize) -> Self {
        PatchLog {
            encoder: None,
            raw: 0,
            count: 0,
            line: String::new(),
            max_raw,
            max_footer,
        }
    }

    /// Patches written so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Records one patch of row `row` (`value`: JSON text; `None` removes).
    pub(crate) fn push(&mut self, row: u64, pointer: &str, value: Option<&str>) -> Result<()> {
        use std::fmt::Write as _;
        let line = &mut self.line;
        line.clear();
        let pointer = Value::String(pointer.to_owned());
        let _ = match value {
            Some(v) => writeln!(line, "[{row},{pointer},{v}]"),
            None => writeln!(line, "[{row},{pointer}]"),
        };
        self.raw += line.len() as u64;
        if self.raw > self.max_raw {
            return Err(too_many(PatchLimit::Text, self.max_raw));
        }
        let encoder = match &mut self.encoder {
            Some(e) => e,
            None => self.encoder.insert(
                zstd::Encoder::new(Vec::new(), LEVEL)
                    .map_err(|source| Error::PatchCompression { source })?,
            ),
        };
        encoder
            .write_all(line.as_bytes())
            .map_err(|source| Error::PatchCompression { source })?;
        if encoder.get_ref().len() > self.max_footer {
            return Err(too_many(PatchLimit::Footer, self.max_footer as u64));
        }
        self.count += 1;
        Ok(())
    }

    /// The footer value (`None` when no row needed a patch).
    pub(crate) fn finish(self) -> Result<Option<String>> {
        let Some(encoder) = self.encoder else {
            return Ok(None);
        };
        let bytes = encoder
            .finish()
            .map_err(|source| Error::PatchCompression { source })?;
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        if text.len() > self.max_footer {
            return Err(too_many(PatchLimit::Footer, self.max_footer as u64));
        }
        Ok(Some(text))
    }
}

/// The patches of a file, by row.
#[derive(Debug, Default)]
pub(crate) struct FooterPatches {
    /// `(row, pointer, JSON text or None to remove)`, rows increasing.
    entries: Vec<(u64, String, Option<String>)>,
}

impl FooterPatches {
    /// Decodes a footer value (bounded: a value that inflates past
    /// [`MAX_PATCH_BYTES`] is refused).
    pub(crate) fn decode(text: &str) -> Result<Self, String> {
        Self::decode_with_limit(text, MAX_PATCH_BYTES)
    }

    fn decode_with_limit(text: &str, max_raw: u64) -> Result<Self, String> {
        if text.len() > MAX_PATCH_FOOTER_BYTES * 2 {
            return Err(format!(
                "{PATCHES_METADATA_KEY}: a footer value of {} MiB (larger than any we write)",
                text.len() >> 20
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("{PATCHES_METADATA_KEY}: not base64: {e}"))?;
        let decoder = zstd::Decoder::new(bytes.as_slice())
            .map_err(|e| format!("{PATCHES_METADATA_KEY}: {e}"))?;
        let mut raw = Vec::new();
        decoder
            .take(max_raw + 1)
            .read_to_end(&mut raw)
            .map_err(|e| format!("{PATCHES_METADATA_KEY}: not a zstd frame: {e}"))?;
        if raw.len() as u64 > max_raw {
            return Err(format!(
                "{PATCHES_METADATA_KEY}: more than {} of patches",
                mib(max_raw)
            ));
        }
        let text = String::from_utf8(raw)
            .map_err(|_| format!("{PATCHES_METADATA_KEY}: the patches are not UTF-8"))?;
        let mut entries = Vec::new();
        let mut last = 0u64;
        for (n, line) in text.lines().enumerate() {
            let bad = |m: &str| format!("{PATCHES_METADATA_KEY}: patch {}: {m}", n + 1);
            let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
            let Value::Array(mut a) = v else {
                return Err(bad("not an array"));
            };
            let value = match a.len() {
                2 => None,
                3 => a.pop().map(|v| v.to_string()),
                _ => return Err(bad("not [row, pointer(, value)]")),
            };
            let (Some(row), Some(Value::String(pointer))) =
                (a.first().and_then(Value::as_u64), a.pop())
            else {
                return Err(bad("not [row, pointer(, value)]"));
            };
            if row < last {
                return Err(bad("rows out of order"));
            }
            last = row;
            entries.push((row, pointer, value));
        }
        Ok(FooterPatches { entries })
    }

    /// The patches of `row`.
    pub(crate) fn of_row(&self, row: u64) -> &[(u64, String, Option<String>)] {
        let start = self.entries.partition_point(|e| e.0 < row);
        let end = start + self.entries[start..].partition_point(|e| e.0 == row);
        &self.entries[start..end]
    }
}

/// Maps the rows read (the row groups kept after pruning, one after the
/// other) to the rows of the file.
#[derive(Debug, Default, Clone)]
pub(crate) struct RowMap {
    /// `(first row read, first row of the file, rows)` per row group read.
    groups: Vec<(u64, u64, u64)>,
}

impl RowMap {
    /// From the row counts of every row group and the groups read.
    pub(crate) fn new(group_rows: &[u64], read: &[usize]) -> Self {
        let mut starts = Vec::with_capacity(group_rows.len());
        let mut at = 0u64;
        for n in group_rows {
            starts.push(at);
            at += n;
        }
        let mut groups = Vec::with_capacity(read.len());
        let mut seq = 0u64;
        for &g in read {
            let (Some(start), Some(n)) = (starts.get(g), group_rows.get(g)) else {
                continue;
            };
            groups.push((seq, *start, *n));
            seq += n;
        }
        RowMap { groups }
    }

    /// The row of the file of the `seq`-th row read.
    pub(crate) fn file_row(&self, seq: u64) -> u64 {
        let i = self.groups.partition_point(|g| g.0 <= seq);
        match i.checked_sub(1).and_then(|i| self.groups.get(i)) {
            Some((s, start, _)) => start + (seq - s),
            None => seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_round_trip_through_the_footer_value() {
        let mut log = PatchLog::new();
        log.push(0, "/bbox", None).unwrap();
        log.push(0, "/properties/a~1b", Some("\"x\"")).unwrap();
        log.push(
            7,
            "/geometry",
            Some("{\"type\":\"Point\",\"coordinates\":[1,2]}"),
        )
        .unwrap();
        assert_eq!(log.count(), 3);
        let text = log.finish().unwrap().unwrap();
        let p = FooterPatches::decode(&text).unwrap();
        assert_eq!(p.of_row(0).len(), 2);
        assert_eq!(p.of_row(0)[0].2, None);
        assert_eq!(p.of_row(0)[1].1, "/properties/a~1b");
        assert_eq!(p.of_row(3).len(), 0);
        assert_eq!(
            p.of_row(7)[0].2.as_deref(),
            Some("{\"type\":\"Point\",\"coordinates\":[1,2]}")
        );
        assert!(PatchLog::new().finish().unwrap().is_none());
        assert!(FooterPatches::decode("not base64!").is_err());
        assert!(FooterPatches::decode("AAAA").is_err());
    }

    #[test]
    fn the_patches_are_bounded_both_ways() {
        // Writing: a cap on the text, a cap on the footer value.
        let mut log = PatchLog::with_limits(100, 1 << 20);
        log.push(0, "/a", Some("1")).unwrap();
        let long = format!("\"{}\"", "x".repeat(200));
        assert!(matches!(
            log.push(1, "/a", Some(&long)),
            Err(Error::PatchesTooLarge {
                limit_kind: PatchLimit::Text,
                limit: 100,
                ..
            })
        ));
        // The footer cap: checked as compressed blocks come out, and at the end.
        let mut log = PatchLog::with_limits(1 << 20, 64);
        let mut state = 0x2545_f491_u32;
        let mut result = Ok(());
        for row in 0..2000 {
            // Incompressible values.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            result = log.push(row, "/a", Some(&state.to_string()));
            if result.is_err() {
                break;
            }
        }
        let result = result.and_then(|()| log.finish().map(|_| ()));
        assert!(
            matches!(
                &result,
                Err(Error::PatchesTooLarge {
                    limit_kind: PatchLimit::Footer,
                    limit: 64,
                    ..
                })
            ),
            "{result:?}"
        );
        // Reading: a small value that inflates past the cap is refused.
        let mut big = PatchLog::new();
        for row in 0..5000 {
            big.push(
                row,
                "/properties/a-rather-long-key",
                Some("\"the same value\""),
            )
            .unwrap();
        }
        let text = big.finish().unwrap().unwrap();
        assert!(text.len() < 10_000, "{} bytes", text.len());
        assert!(FooterPatches::decode(&text).is_ok());
        let err = FooterPatches::decode_with_limit(&text, 4096).unwrap_err();
        assert!(err.contains("of patches"), "{err}");
    }

    #[test]
    fn rows_read_map_to_rows_of_the_file() {
        // Groups of 3, 2, 4 rows; the second is pruned.
        let m = RowMap::new(&[3, 2, 4], &[0, 2]);
        assert_eq!(m.file_row(0), 0);
        assert_eq!(m.file_row(2), 2);
        assert_eq!(m.file_row(3), 5);
        assert_eq!(m.file_row(6), 8);
    }
}
