//! A pull scanner over the top-level structure of a GeoJSON text.
//!
//! The scanner walks bytes from a [`BufRead`] and never holds more than one
//! feature in memory: it finds where each feature starts and ends (tracking
//! strings, escapes and bracket depth) and hands the feature's bytes to
//! `serde_json`, which validates them strictly. Members of a
//! FeatureCollection other than `"type"` and `"features"` are skipped without
//! being stored.
//!
//! This is a hand-written pull scanner rather than a `serde` `Visitor`
//! because a visitor is push-based (it runs inside `deserialize`), which does
//! not fit an [`Iterator`] without a thread, and because `serde` itself is not
//! a dependency of this crate (only `serde_json`).

use std::io::{self, BufRead};

use serde_json::Value;

/// The byte order mark some editors put in front of UTF-8 text.
pub(crate) const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The record separator of RFC 8142 GeoJSON text sequences, treated as white space.
const RS: u8 = 0x1E;

/// What can go wrong while scanning.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// The underlying reader failed.
    Io(io::Error),
    /// The text is not what was expected.
    Syntax(String),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

type ScanResult<T> = Result<T, ScanError>;

fn syntax<T>(message: impl Into<String>) -> ScanResult<T> {
    Err(ScanError::Syntax(message.into()))
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | RS)
}

fn is_delimiter(b: u8) -> bool {
    is_ws(b) || matches!(b, b',' | b'}' | b']' | b':' | b'"' | b'{' | b'[')
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// A byte scanner with one byte of look-ahead and a line counter.
pub(crate) struct Scanner<R> {
    reader: R,
    line: u64,
    /// Bytes consumed so far.
    offset: u64,
}

impl<R: BufRead> Scanner<R> {
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            line: 1,
            offset: 0,
        }
    }

    /// The 1-based line of the next byte.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.reader.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.reader.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.fill()?.first().copied())
    }

    fn bump(&mut self) -> io::Result<()> {
        if self.peek()? == Some(b'\n') {
            self.line += 1;
        }
        self.consume(1);
        Ok(())
    }

    /// Skips a UTF-8 byte order mark at the current position, if there is one.
    pub(crate) fn skip_bom(&mut self) -> io::Result<()> {
        let buf = self.fill()?;
        if buf.len() >= BOM.len() && buf.starts_with(&BOM) {
            self.consume(BOM.len());
        }
        Ok(())
    }

    /// Skips white space (and RFC 8142 record separators); returns the next byte.
    pub(crate) fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut newlines = 0;
            let mut skipped = 0;
            let mut next = None;
            for &b in buf {
                if !is_ws(b) {
                    next = Some(b);
                    break;
                }
                if b == b'\n' {
                    newlines += 1;
                }
                skipped += 1;
            }
            self.line += newlines;
            self.consume(skipped);
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    /// Skips white space and consumes `expected`.
    fn expect(&mut self, expected: u8, context: &str) -> ScanResult<()> {
        match self.skip_ws()? {
            Some(b) if b == expected => Ok(self.bump()?),
            Some(b) => syntax(format!(
                "line {}: expected '{}' {context}, found {}",
                self.line,
                char::from(expected),
                describe(b)
            )),
            None => syntax(format!(
                "unexpected end of input: expected '{}' {context} (truncated file?)",
                char::from(expected)
            )),
        }
    }

    /// Reads one JSON value (after white space) into `out`, or skips it when
    /// `out` is `None`. Only the value's extent is checked here.
    pub(crate) fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> ScanResult<()> {
        if let Some(o) = out.as_deref_mut() {
            o.clear();
        }
        let Some(first) = self.skip_ws()? else {
            return syntax("unexpected end of input: expected a value (truncated file?)");
        };
        match first {
            b'{' | b'[' | b'"' => self.delimited(out),
            b'}' | b']' | b',' | b':' => syntax(format!(
                "line {}: expected a value, found {}",
                self.line,
                describe(first)
            )),
            _ => self.scalar(out),
        }
    }

    /// An object, array or string: ends when the depth returns to zero outside a string.
    fn delimited(&mut self, mut out: Option<&mut Vec<u8>>) -> ScanResult<()> {
        let start_line = self.line;
        let mut depth: u64 = 0;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return syntax(format!(
                    "unexpected end of input inside the value starting on line {start_line} (truncated file?)"
                ));
            }
            let mut used = 0;
            let mut done = false;
            let mut newlines = 0;
            for &b in buf {
                used += 1;
                if b == b'\n' {
                    newlines += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                if !in_string && depth == 0 {
                    done = true;
                    break;
                }
            }
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(buf.get(..used).unwrap_or_default());
            }
            self.line += newlines;
            self.consume(used);
            if done {
                return Ok(());
            }
        }
    }

    /// A number, `true`, `false` or `null`: ends at a delimiter or the end of input.
    fn scalar(&mut self, mut out: Option<&mut Vec<u8>>) -> ScanResult<()> {
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(());
            }
            let used = buf.iter().take_while(|&&b| !is_delimiter(b)).count();
            let done = used < buf.len();
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(buf.get(..used).unwrap_or_default());
            }
            self.consume(used);
            if done {
                return Ok(());
            }
        }
    }

    /// Reads an object key (after white space) and the `:` after it.
    fn key(&mut self, scratch: &mut Vec<u8>) -> ScanResult<String> {
        match self.skip_ws()? {
            Some(b'"') => {}
            Some(b) => {
                return syntax(format!(
                    "line {}: expected a member name, found {}",
                    self.line,
                    describe(b)
                ));
            }
            None => return syntax("unexpected end of input: expected a member name"),
        }
        let line = self.line;
        self.value(Some(scratch))?;
        let key = serde_json::from_slice::<String>(scratch)
            .or_else(|e| syntax(format!("line {line}: invalid member name: {e}")))?;
        self.expect(b':', "after a member name")?;
        Ok(key)
    }
}

/// How the features are laid out in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `{"type": "FeatureCollection", "features": [...]}`.
    Collection,
    /// A top-level JSON array of Features.
    Array,
    /// Concatenated values (newline-delimited GeoJSON, one value, or RFC 8142).
    Sequence,
}

/// Finds the layout from the start of the input, reading as little as possible.
///
/// The first top-level object is a FeatureCollection when its `"type"` is
/// `"FeatureCollection"` or when a `"features"` array comes before any
/// `"type"`; any other first object starts a sequence.
pub(crate) fn detect<R: BufRead>(sc: &mut Scanner<R>) -> ScanResult<Layout> {
    sc.skip_bom()?;
    match sc.skip_ws()? {
        None => return Ok(Layout::Sequence),
        Some(b'[') => return Ok(Layout::Array),
        Some(b'{') => sc.bump()?,
        Some(b) => {
            return syntax(format!(
                "line {}: expected a GeoJSON object ('{{') or an array of Features ('['), found {}",
                sc.line(),
                describe(b)
            ));
        }
    }
    let mut scratch = Vec::new();
    let mut first = true;
    loop {
        match sc.skip_ws()? {
            Some(b'}') => return Ok(Layout::Sequence),
            Some(b',') if !first => sc.bump()?,
            _ if first => {}
            Some(b) => {
                return syntax(format!(
                    "line {}: expected ',' or '}}' in an object, found {}",
                    sc.line(),
                    describe(b)
                ));
            }
            None => return syntax("unexpected end of input inside the first object"),
        }
        first = false;
        let key = sc.key(&mut scratch)?;
        match key.as_str() {
            "type" => {
                sc.value(Some(&mut scratch))?;
                let is_collection = serde_json::from_slice::<Value>(&scratch)
                    .is_ok_and(|v| v.as_str() == Some("FeatureCollection"));
                return Ok(if is_collection {
                    Layout::Collection
                } else {
                    Layout::Sequence
                });
            }
            "features" if sc.skip_ws()? == Some(b'[') => return Ok(Layout::Collection),
            _ => sc.value(None)?,
        }
    }
}

/// Where a [`FeatureStream`] is in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Between members of the FeatureCollection object.
    Members {
        after_member: bool,
    },
    /// Inside the features array.
    Features {
        after_element: bool,
    },
    /// After the top-level value: only white space may follow.
    Trailer,
    /// Values one after the other.
    Sequence,
    Done,
}

/// An error while streaming, with the feature it belongs to (if any).
#[derive(Debug)]
pub(crate) struct StreamError {
    /// The feature number (see [`FeatureStream::next_feature`]).
    pub(crate) feature: Option<u64>,
    /// What went wrong.
    pub(crate) error: ScanError,
}

/// Yields the features of one input, one at a time.
pub(crate) struct FeatureStream<R> {
    sc: Scanner<R>,
    layout: Layout,
    state: State,
    count: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> FeatureStream<R> {
    pub(crate) fn new(reader: R, layout: Layout) -> Self {
        Self {
            sc: Scanner::new(reader),
            layout,
            state: State::Start,
            count: 0,
            buf: Vec::new(),
        }
    }

    /// The size in bytes of the JSON text of the last feature returned.
    pub(crate) fn last_size(&self) -> usize {
        self.buf.len()
    }

    /// The next feature as a JSON value with its number: the 1-based position
    /// in the features array, or, for a sequence, the 1-based line on which
    /// the value starts (so one Feature per line numbers them 1, 2, 3, ...).
    pub(crate) fn next_feature(&mut self) -> Result<Option<(u64, Value)>, StreamError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }

    /// Walks the input up to the first element of the features array and
    /// returns its byte offset (relative to where the reader started);
    /// `None` when the input has no features array (or is a sequence).
    pub(crate) fn first_element_offset(&mut self) -> Result<Option<u64>, StreamError> {
        loop {
            match self.state {
                State::Features {
                    after_element: false,
                } => {
                    return match self.sc.skip_ws() {
                        Ok(_) => Ok(Some(self.sc.offset)),
                        Err(e) => self.fail(None, e.into()),
                    };
                }
                State::Start => {
                    if self.layout == Layout::Sequence {
                        return Ok(None);
                    }
                    if let Err(e) = self.start() {
                        return self.fail(None, e);
                    }
                }
                State::Members { after_member } => {
                    if let Err(e) = self.members(after_member) {
                        return self.fail(None, e);
                    }
                }
                _ => return Ok(None),
            }
        }
    }

    /// A stream positioned just after the `]` that closes the features
    /// array: what follows it (the rest of a FeatureCollection, white space).
    pub(crate) fn after_features(reader: R, layout: Layout) -> Self {
        let mut stream = Self::new(reader, layout);
        stream.state = match layout {
            Layout::Collection => State::Members { after_member: true },
            Layout::Array | Layout::Sequence => State::Trailer,
        };
        stream
    }

    fn fail<T>(&self, feature: Option<u64>, error: ScanError) -> Result<T, StreamError> {
        Err(StreamError { feature, error })
    }

    fn step(&mut self) -> Result<Option<(u64, Value)>, StreamError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => {
                    if let Err(e) = self.start() {
                        return self.fail(None, e);
                    }
                }
                State::Members { after_member } => {
                    if let Err(e) = self.members(after_member) {
                        return self.fail(None, e);
                    }
                }
                State::Features { after_element } => {
                    match self.features(after_element) {
                        Ok(Some(_)) => {
                            let number = self.count;
                            return self.parse(number).map(|v| Some((number, v)));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            // An error inside the array belongs to the feature being read.
                            let feature = Some(self.count.max(1));
                            return self.fail(feature, e);
                        }
                    }
                }
                State::Trailer => match self.sc.skip_ws() {
                    Ok(None) => self.state = State::Done,
                    Ok(Some(b)) => {
                        let message = format!(
                            "line {}: unexpected {} after the end of the top-level value",
                            self.sc.line(),
                            describe(b)
                        );
                        return self.fail(None, ScanError::Syntax(message));
                    }
                    Err(e) => return self.fail(None, e.into()),
                },
                State::Sequence => {
                    let line = match self.sc.skip_ws() {
                        Ok(None) => {
                            self.state = State::Done;
                            return Ok(None);
                        }
                        Ok(Some(_)) => self.sc.line(),
                        Err(e) => return self.fail(None, e.into()),
                    };
                    self.count += 1;
                    if let Err(e) = self.sc.value(Some(&mut self.buf)) {
                        return self.fail(Some(line), e);
                    }
                    return self.parse(line).map(|v| Some((line, v)));
                }
            }
        }
    }

    fn parse(&mut self, number: u64) -> Result<Value, StreamError> {
        match serde_json::from_slice::<Value>(&self.buf) {
            Ok(v) => Ok(v),
            Err(e) => self.fail(
                Some(number),
                ScanError::Syntax(format!("invalid JSON: {e}")),
            ),
        }
    }

    fn start(&mut self) -> ScanResult<()> {
        self.sc.skip_bom()?;
        match self.layout {
            Layout::Sequence => self.state = State::Sequence,
            Layout::Collection => {
                self.sc
                    .expect(b'{', "at the start of a FeatureCollection")?;
                self.state = State::Members {
                    after_member: false,
                };
            }
            Layout::Array => {
                self.sc
                    .expect(b'[', "at the start of an array of Features")?;
                self.state = State::Features {
                    after_element: false,
                };
            }
        }
        Ok(())
    }

    /// Walks members of the FeatureCollection until the features array opens
    /// or the object closes.
    fn members(&mut self, mut after_member: bool) -> ScanResult<()> {
        loop {
            match self.sc.skip_ws()? {
                Some(b'}') => {
                    self.sc.bump()?;
                    self.state = State::Trailer;
                    return Ok(());
                }
                Some(b',') if after_member => self.sc.bump()?,
                _ if !after_member => {}
                Some(b) => {
                    return syntax(format!(
                        "line {}: expected ',' or '}}' in the FeatureCollection, found {}",
                        self.sc.line(),
                        describe(b)
                    ));
                }
                None => {
                    return syntax(
                        "unexpected end of input inside the FeatureCollection (truncated file?)",
                    );
                }
            }
            after_member = true;
            let line = self.sc.line();
            let key = self.sc.key(&mut self.buf)?;
            match key.as_str() {
                "type" => {
                    self.sc.value(Some(&mut self.buf))?;
                    let value = serde_json::from_slice::<Value>(&self.buf)
                        .or_else(|e| syntax(format!("line {line}: invalid \"type\": {e}")))?;
                    if value.as_str() != Some("FeatureCollection") {
                        return syntax(format!(
                            "line {line}: an object with a \"features\" array has \"type\": {value}, expected \"FeatureCollection\""
                        ));
                    }
                }
                "features" => {
                    self.sc.expect(b'[', "to open the \"features\" array")?;
                    self.state = State::Features {
                        after_element: false,
                    };
                    return Ok(());
                }
                _ => self.sc.value(None)?,
            }
        }
    }

    /// Reads the next element of the features array into the buffer
    /// (`Some`), or closes the array (`None`).
    fn features(&mut self, after_element: bool) -> ScanResult<Option<()>> {
        match self.sc.skip_ws()? {
            Some(b']') => {
                self.sc.bump()?;
                self.state = match self.layout {
                    Layout::Collection => State::Members { after_member: true },
                    Layout::Array | Layout::Sequence => State::Trailer,
                };
                return Ok(None);
            }
            Some(b',') if after_element => self.sc.bump()?,
            _ if !after_element => {}
            Some(b) => {
                self.count += 1;
                return syntax(format!(
                    "line {}: expected ',' or ']' after a feature, found {}",
                    self.sc.line(),
                    describe(b)
                ));
            }
            None => {
                self.count += 1;
                return syntax(
                    "unexpected end of input inside the features array (truncated file?)",
                );
            }
        }
        self.count += 1;
        self.state = State::Features {
            after_element: true,
        };
        self.sc.value(Some(&mut self.buf))?;
        Ok(Some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Result<Vec<(u64, Value)>, StreamError> {
        let mut sc = Scanner::new(text.as_bytes());
        let layout = detect(&mut sc).map_err(|error| StreamError {
            feature: None,
            error,
        })?;
        let mut stream = FeatureStream::new(text.as_bytes(), layout);
        let mut out = Vec::new();
        while let Some(f) = stream.next_feature()? {
            out.push(f);
        }
        Ok(out)
    }

    /// Coordinates written with full precision must read back exactly:
    /// the workspace enables `serde_json/float_roundtrip` for this.
    #[test]
    fn floats_are_correctly_rounded() {
        let text = "[-122.41941550000001,1e-7]";
        let v: Value = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(v[0].as_f64(), Some(-122.419_415_500_000_01));
        assert_eq!(v[1].as_f64(), Some(1e-7));
        let mut seed: u64 = 7;
        for i in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = if i % 2 == 0 {
                f64::from_bits(seed >> 2)
            } else {
                (seed >> 11) as f64 / (1_u64 << 53) as f64 * 360.0 - 180.0
            };
            let text = format!("[{}]", Value::from(x));
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(v[0].as_f64(), Some(x), "{text}");
        }
    }

    #[test]
    fn layouts_are_detected() {
        let detect_str = |s: &str| detect(&mut Scanner::new(s.as_bytes())).ok();
        assert_eq!(
            detect_str(r#"{"type":"FeatureCollection","features":[]}"#),
            Some(Layout::Collection)
        );
        assert_eq!(
            detect_str(r#"{"name":"x","features":[],"type":"FeatureCollection"}"#),
            Some(Layout::Collection)
        );
        assert_eq!(
            detect_str("{\"properties\":{\"a\":[1,{}]},\"type\":\"Feature\"}\n{}"),
            Some(Layout::Sequence)
        );
        assert_eq!(detect_str("\u{feff} [ ]"), Some(Layout::Array));
        assert_eq!(detect_str(""), Some(Layout::Sequence));
        assert!(detect_str("42").is_none());
    }

    #[test]
    fn collection_members_around_features_are_skipped() {
        let text = r#"{"crs":{"a":"}]\"["},"bbox":[1,2,3,4],"n":-1.5e3,"features":[{"k":1},
            {"k":2}],"name":"x","type":"FeatureCollection"}"#;
        let got = all(text).map_err(|e| format!("{e:?}"));
        let numbers: Vec<u64> = got.iter().flatten().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![1, 2]);
    }

    #[test]
    fn sequence_numbers_are_lines() {
        let text = "{\"k\":1}\n\n{\"k\":2}\n\u{1e}{\"k\":3}";
        let numbers: Vec<u64> = all(text).iter().flatten().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![1, 3, 4]);
    }

    #[test]
    fn truncation_is_an_error_with_the_feature() {
        let text = r#"{"type":"FeatureCollection","features":[{"k":1},{"k":"#;
        match all(text) {
            Err(StreamError {
                feature: Some(2),
                error: ScanError::Syntax(_),
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(all(r#"{"type":"FeatureCollection","features":[{"k":1},]}"#).is_err());
        assert!(all(r#"{"type":"FeatureCollection","features":[]} x"#).is_err());
        // A "features" array first means a FeatureCollection, so another type is an error.
        assert!(all(r#"{"features":[],"type":"Feature"}"#).is_err());
    }
}
