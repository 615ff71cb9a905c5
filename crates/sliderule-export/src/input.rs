//! Records from text: NDJSON objects or CSV rows, one row per line (for ATL03
//! one photon per line with its extent's fields; consecutive rows with the
//! same `extent_id` form one extent). Times are `time` (Unix-epoch
//! nanoseconds, an integer) or `delta_time` (ATLAS SDP seconds, converted as
//! SlideRule does).

use std::io::BufRead;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::records::{Atl03Extent, Atl03Photon, Atl06Elevation, Atl08Vegetation, CANOPY_METRICS};
use crate::time::delta_time_to_unix_ns;

/// One input row: its index and fields.
pub type Row = (u64, Map<String, Value>);

/// The longest line read (64 MiB): a longer one (input without newlines,
/// `/dev/zero`) is an error naming its line, never an unbounded buffer.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Lines of text, each at most [`MAX_LINE_BYTES`]: `(0-based line index,
/// line)` without the line ending; a UTF-8 byte-order mark before the first
/// line is dropped. An over-long or non-UTF-8 line is an error naming its
/// (1-based) line number, after which the iterator ends.
fn bounded_lines<R: BufRead>(reader: R, max: usize) -> impl Iterator<Item = (u64, Result<String>)> {
    let mut reader = reader;
    let mut index = 0u64;
    let mut done = false;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        buf.clear();
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        let read = std::io::Read::take(&mut reader, limit).read_until(b'\n', &mut buf);
        let i = index;
        index += 1;
        let line_err = |message: String| Error::InvalidRecord {
            row: i,
            field: "(line)".into(),
            message,
        };
        match read {
            Ok(0) => {
                done = true;
                None
            }
            Err(e) => {
                done = true;
                Some((i, Err(Error::Sink(e))))
            }
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                } else if buf.len() > max {
                    done = true;
                    return Some((
                        i,
                        Err(line_err(format!(
                            "line {} is longer than {} MiB (no newline): not NDJSON/CSV records",
                            i + 1,
                            max >> 20
                        ))),
                    ));
                }
                let bytes = if i == 0 {
                    buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf)
                } else {
                    &buf
                };
                match std::str::from_utf8(bytes) {
                    Ok(t) => Some((i, Ok(t.to_owned()))),
                    Err(e) => {
                        done = true;
                        Some((
                            i,
                            Err(line_err(format!("line {} is not UTF-8 text: {e}", i + 1))),
                        ))
                    }
                }
            }
        }
    })
}

/// Rows of NDJSON (one object per non-empty line; lines of at most
/// [`MAX_LINE_BYTES`], a leading byte-order mark ignored).
pub fn ndjson_rows<R: BufRead>(reader: R) -> impl Iterator<Item = Result<Row>> {
    ndjson_rows_bounded(reader, MAX_LINE_BYTES)
}

fn ndjson_rows_bounded<R: BufRead>(reader: R, max: usize) -> impl Iterator<Item = Result<Row>> {
    bounded_lines(reader, max)
        .filter(|(_, l)| l.as_ref().map_or(true, |s| !s.trim().is_empty()))
        .map(|(row, line)| {
            let line = line?;
            match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(m)) => Ok((row, m)),
                Ok(_) => Err(Error::InvalidRecord {
                    row,
                    field: "(line)".into(),
                    message: format!("line {}: not a JSON object", row + 1),
                }),
                Err(e) => Err(Error::InvalidRecord {
                    row,
                    field: "(line)".into(),
                    message: format!("line {}: not JSON: {e}", row + 1),
                }),
            }
        })
}

/// Rows of CSV with a header line (comma-separated, `"` quoting; values
/// that parse as numbers become numbers, `[a, b, …]` becomes a list; lines of
/// at most [`MAX_LINE_BYTES`], a leading byte-order mark ignored).
pub fn csv_rows<R: BufRead>(reader: R) -> impl Iterator<Item = Result<Row>> {
    csv_rows_bounded(reader, MAX_LINE_BYTES)
}

fn csv_rows_bounded<R: BufRead>(reader: R, max: usize) -> impl Iterator<Item = Result<Row>> {
    let mut lines = bounded_lines(reader, max);
    let header: Result<Vec<String>> = match lines.next() {
        Some((_, Ok(h))) => Ok(split_csv(&h)),
        Some((_, Err(e))) => Err(e),
        None => Ok(Vec::new()),
    };
    let mut failed = false;
    let mut header_err = header.as_ref().err().map(|e| e.to_string());
    let header = header.unwrap_or_default();
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        if let Some(msg) = header_err.take() {
            failed = true;
            return Some(Err(Error::InvalidRecord {
                row: 0,
                field: "(header)".into(),
                message: msg,
            }));
        }
        loop {
            let (i, line) = lines.next()?;
            let row = i.saturating_sub(1);
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let cells = split_csv(&line);
            if cells.len() != header.len() {
                return Some(Err(Error::InvalidRecord {
                    row,
                    field: "(line)".into(),
                    message: format!(
                        "line {}: {} cells, the header has {}",
                        i + 1,
                        cells.len(),
                        header.len()
                    ),
                }));
            }
            let mut m = Map::new();
            for (k, v) in header.iter().zip(cells) {
                m.insert(k.trim().to_owned(), csv_value(&v));
            }
            return Some(Ok((row, m)));
        }
    })
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn csv_value(s: &str) -> Value {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        let items: Vec<Value> = inner
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .map(csv_value)
            .collect();
        return Value::Array(items);
    }
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(u) = t.parse::<u64>() {
        return Value::from(u);
    }
    if let Ok(f) = t.parse::<f64>() {
        return serde_json::Number::from_f64(f).map_or(Value::String(t.into()), Value::Number);
    }
    Value::String(t.to_owned())
}

/// The fields of one input row, read with the row's number in errors.
pub(crate) struct Get<'a> {
    row: u64,
    m: &'a Map<String, Value>,
}

impl Get<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::InvalidRecord {
            row: self.row,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn int<T: TryFrom<i128>>(&self, f: &str) -> Result<T> {
        let v = self.m.get(f).ok_or_else(|| self.err(f, "missing"))?;
        let i: i128 = if let Some(i) = v.as_i64() {
            i128::from(i)
        } else if let Some(u) = v.as_u64() {
            i128::from(u)
        } else if let Some(s) = v.as_str().and_then(|s| {
            s.strip_prefix("0x").map_or_else(
                || s.parse::<i128>().ok(),
                |h| i128::from_str_radix(h, 16).ok(),
            )
        }) {
            s
        } else {
            return Err(self.err(f, "not an integer"));
        };
        T::try_from(i).map_err(|_| self.err(f, format!("{i} is out of range")))
    }

    pub(crate) fn f64(&self, f: &str) -> Result<f64> {
        self.m
            .get(f)
            .ok_or_else(|| self.err(f, "missing"))?
            .as_f64()
            .ok_or_else(|| self.err(f, "not a number"))
    }

    pub(crate) fn f32(&self, f: &str) -> Result<f32> {
        self.f64(f).map(|v| v as f32)
    }

    pub(crate) fn time(&self) -> Result<i64> {
        if self.m.contains_key("time") {
            return self.int::<i64>("time");
        }
        if self.m.contains_key("delta_time") {
            return Ok(delta_time_to_unix_ns(self.f64("delta_time")?));
        }
        Err(self.err(
            "time",
            "missing (give time in Unix ns or delta_time in seconds)",
        ))
    }

    pub(crate) fn metrics(&self, f: &str) -> Result<[f32; CANOPY_METRICS]> {
        let a = self
            .m
            .get(f)
            .and_then(Value::as_array)
            .ok_or_else(|| self.err(f, "missing or not a list"))?;
        if a.len() > CANOPY_METRICS {
            return Err(self.err(f, format!("{} values, at most {CANOPY_METRICS}", a.len())));
        }
        let mut out = [0f32; CANOPY_METRICS];
        for (slot, v) in out.iter_mut().zip(a) {
            *slot = v
                .as_f64()
                .ok_or_else(|| self.err(f, "not a list of numbers"))? as f32;
        }
        Ok(out)
    }
}

/// An ATL06 elevation from one row.
pub fn atl06_from_row((row, m): &Row) -> Result<Atl06Elevation> {
    Atl06Elevation::from_row(&Get { row: *row, m })
}

/// An ATL08 vegetation segment from one row.
pub fn atl08_from_row((row, m): &Row) -> Result<Atl08Vegetation> {
    Atl08Vegetation::from_row(&Get { row: *row, m })
}

fn atl03_parts((row, m): &Row) -> Result<(Atl03Extent, Atl03Photon)> {
    let g = Get { row: *row, m };
    Ok((Atl03Extent::from_row(&g)?, Atl03Photon::from_row(&g)?))
}

/// ATL03 extents from photon rows: consecutive rows with the same
/// `extent_id` form one extent (extent fields from its first row).
pub fn atl03_from_rows<I: Iterator<Item = Result<Row>>>(
    rows: I,
) -> impl Iterator<Item = Result<Atl03Extent>> {
    let mut rows = rows.peekable();
    let mut pending: Option<Atl03Extent> = None;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        loop {
            match rows.next() {
                None => {
                    done = true;
                    return pending.take().map(Ok);
                }
                Some(Err(e)) => {
                    done = true;
                    return Some(Err(e));
                }
                Some(Ok(row)) => {
                    let (extent, photon) = match atl03_parts(&row) {
                        Ok(p) => p,
                        Err(e) => {
                            done = true;
                            return Some(Err(e));
                        }
                    };
                    match &mut pending {
                        Some(p) if p.extent_id == extent.extent_id => p.photons.push(photon),
                        _ => {
                            let mut next = extent;
                            next.photons.push(photon);
                            if let Some(prev) = pending.replace(next) {
                                return Some(Ok(prev));
                            }
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless input without a newline ends with an error naming line 1,
    /// after reading at most the bound.
    #[test]
    fn endless_lines_are_bounded() {
        let endless = std::io::BufReader::new(std::io::repeat(0));
        let rows: Vec<_> = ndjson_rows_bounded(endless, 4096).collect();
        assert_eq!(rows.len(), 1);
        let msg = rows[0]
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(msg.contains("line 1 is longer than"), "{msg}");
        let endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let rows: Vec<_> = csv_rows_bounded(endless, 4096).collect();
        assert_eq!(rows.len(), 1);
        assert!(matches!(rows[0], Err(Error::InvalidRecord { row: 0, .. })));
        // The third line too long: two rows, then the error naming line 3.
        let text = format!("{{\"a\":1}}\n{{\"a\":2}}\n{}\n", "x".repeat(5000));
        let rows: Vec<_> = ndjson_rows_bounded(text.as_bytes(), 4096).collect();
        assert_eq!(rows.len(), 3);
        let msg = rows[2]
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(msg.contains("line 3 is longer"), "{msg}");
    }

    /// A UTF-8 byte-order mark (Excel's CSV) is not part of the first name;
    /// CRLF line endings are not part of the last value; bad UTF-8 names its line.
    #[test]
    fn bom_crlf_and_bad_utf8() -> Result<()> {
        let csv = b"\xef\xbb\xbfextent_id,time\r\n7,12\r\n";
        let rows: Vec<Row> = csv_rows(&csv[..]).collect::<Result<_>>()?;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1.get("extent_id"), Some(&Value::from(7)));
        assert_eq!(rows[0].1.get("time"), Some(&Value::from(12)));
        let nd = b"\xef\xbb\xbf{\"extent_id\": 7}\n";
        let rows: Vec<Row> = ndjson_rows(&nd[..]).collect::<Result<_>>()?;
        assert_eq!(rows[0].1.get("extent_id"), Some(&Value::from(7)));
        let bad = b"{\"a\":1}\n{\"a\":\"\xff\"}\n";
        let rows: Vec<_> = ndjson_rows(&bad[..]).collect();
        let msg = rows[1]
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(msg.contains("line 2 is not UTF-8"), "{msg}");
        Ok(())
    }

    #[test]
    fn csv_cells_and_values() {
        assert_eq!(split_csv(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
        assert_eq!(csv_value("[1, 2.5]"), serde_json::json!([1, 2.5]));
        assert_eq!(csv_value("18446744073709551615"), Value::from(u64::MAX));
    }

    #[test]
    fn atl03_groups_consecutive_rows() -> Result<()> {
        let line = |eid: u64, t: i64| {
            format!(
                r#"{{"region":1,"track":1,"pair":0,"sc_orient":0,"rgt":1,"cycle":2,"segment_id":3,"segment_dist":4.0,"background_rate":5.0,"solar_elevation":6.0,"extent_id":{eid},"time":{t},"latitude":1.0,"longitude":2.0,"x_atc":0,"y_atc":0,"height":1,"relief":0,"landcover":255,"snowcover":255,"atl08_class":4,"atl03_cnf":4,"quality_ph":0,"yapc_score":300}}"#
            )
        };
        let text = [line(8, 1), line(8, 2), line(12, 3)].join("\n");
        let ex: Vec<Atl03Extent> =
            atl03_from_rows(ndjson_rows(text.as_bytes())).collect::<Result<_>>()?;
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].photons.len(), 2);
        assert_eq!(ex[1].photons[0].yapc_score, 300);
        let bad = r#"{"extent_id": -1}"#;
        let e = atl03_from_rows(ndjson_rows(bad.as_bytes())).next();
        assert!(matches!(e, Some(Err(Error::InvalidRecord { row: 0, .. }))));
        Ok(())
    }

    #[test]
    fn delta_time_is_converted() -> Result<()> {
        let m: Map<String, Value> = serde_json::from_str(r#"{"delta_time": 37791646.89400858}"#)?;
        let g = Get { row: 0, m: &m };
        assert_eq!(g.time()?, delta_time_to_unix_ns(37_791_646.894_008_58));
        Ok(())
    }
}
